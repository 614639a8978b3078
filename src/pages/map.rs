use crate::api::get_reachability_map;
use crate::components::shown;
use crate::components::{
    provide_page, use_query_param, use_traffic_tick, Loading, PageUrl, WindowLinks,
};
use crate::domain::map::{EdgeKind, MapEdge, MapNode, ReachabilityMap};
use crate::domain::url_encode;
use leptos::prelude::*;

/// Rows of the picture.
const ROW: f64 = 22.0;
const TOP: f64 = 34.0;
const WIDTH: f64 = 960.0;
/// Where the namespace labels end and the host labels start.
const LEFT: f64 = 300.0;
const RIGHT: f64 = 660.0;

/// `/map`: which namespaces reach which external hosts, as a picture rendered on the server
/// (readable without WASM), filtered by namespace or host in the URL.
#[component]
pub fn MapPage() -> impl IntoView {
    view! { <MapIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn MapIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let param = use_query_param();
    let tick = use_traffic_tick();
    let map = Resource::new(
        move || {
            (
                param("window"),
                param("namespace"),
                param("host"),
                tick.get(),
            )
        },
        |(window, namespace, host, _)| get_reachability_map(window, namespace, host),
    );
    view! {
        <h1>"Reachability map"</h1>
        <p class="muted">
            "Namespaces on the left, external hosts on the right: a line where a namespace reaches a "
            "host — registered and visible to it, or called in the window — coloured by what "
            "REGISTRY_ONLY does to it. Click a name to narrow the map to it."
        </p>
        <form method="get" action="/map" class="filters" data-testid="map-filters">
            <input type="hidden" name="window" value=move || param("window") />
            <label>"Namespace " <input type="search" name="namespace" value=param("namespace") data-testid="map-namespace" /></label>
            <label>"Host " <input type="search" name="host" value=param("host") data-testid="map-host" /></label>
            <button type="submit" data-testid="map-show">"Show"</button>
        </form>
        <Loading fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || map.get().map(|result| shown(result.map(|map| {
                let base = format!(
                    "/map?namespace={}&host={}&",
                    url_encode(&param("namespace")),
                    url_encode(&param("host"))
                );
                let window = crate::domain::traffic::Window::parse(&param("window"));
                view! {
                    <WindowLinks window base />
                    <Legend />
                    <p class="muted small" data-testid="map-totals">
                        {format!(
                            "{}, {}, {}{}",
                            counted(map.totals.0, "namespace"),
                            counted(map.totals.1, "host"),
                            counted(map.edges.len(), "line"),
                            if map.namespaces.len() < map.totals.0 || map.hosts.len() < map.totals.1 {
                                " (grouped: filter to see each)"
                            } else {
                                ""
                            }
                        )}
                    </p>
                    <Picture map />
                }
            })))}
        </Loading>
    }
}

fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[component]
fn Legend() -> impl IntoView {
    let items = [
        (EdgeKind::Allowed, "registered, visible to it"),
        (EdgeKind::Called, "called, registered"),
        (
            EdgeKind::WouldBeBlocked,
            "called, passes today, REGISTRY_ONLY would block it",
        ),
        (EdgeKind::Blocked, "called, blocked today"),
    ];
    view! {
        <ul class="legend" data-testid="map-legend">
            {items.into_iter().map(|(kind, words)| view! {
                <li><span class=format!("swatch {}", kind.word())></span>{words}</li>
            }).collect_view()}
        </ul>
    }
}

/// The y of node `i` of `n` on a side of `rows` rows: the shorter side centred.
fn y(i: usize, n: usize, rows: usize) -> f64 {
    TOP + (rows - n) as f64 * ROW / 2.0 + i as f64 * ROW
}

fn link(side: &str, node: &MapNode) -> Option<String> {
    (!node.filter.is_empty()).then(|| format!("/map?{side}={}", url_encode(&node.filter)))
}

#[component]
fn Picture(map: ReachabilityMap) -> impl IntoView {
    let rows = map.namespaces.len().max(map.hosts.len()).max(1);
    let height = TOP + rows as f64 * ROW + ROW;
    let (ns_count, host_count) = (map.namespaces.len(), map.hosts.len());
    let edge = |e: &MapEdge| {
        let (Some(from), Some(to)) = (map.namespaces.get(e.from), map.hosts.get(e.to)) else {
            return ().into_any();
        };
        let pairs: Vec<String> = e
            .pairs
            .iter()
            .map(|(kind, n)| format!("{n} {}", kind.word()))
            .collect();
        let title = format!(
            "{} → {}: {}{}",
            from.label,
            to.label,
            pairs.join(", "),
            if e.calls > 0.0 {
                format!(", {} calls", crate::domain::traffic::count_label(e.calls))
            } else {
                String::new()
            }
        );
        let (y1, y2) = (
            y(e.from, ns_count, rows) - 4.0,
            y(e.to, host_count, rows) - 4.0,
        );
        view! {
            <path
                class=format!("edge {}", e.kind.word())
                d=format!("M{} {y1:.1} C{} {y1:.1} {} {y2:.1} {} {y2:.1}", LEFT + 6.0, (LEFT + RIGHT) / 2.0, (LEFT + RIGHT) / 2.0, RIGHT - 6.0)
                data-testid=format!("edge-{}-{}", from.filter, to.filter)
                data-kind=e.kind.word()
            >
                <title>{title}</title>
            </path>
        }
        .into_any()
    };
    let node = |side: &'static str, i: usize, n: usize, node: &MapNode| {
        let (x, anchor) = if side == "namespace" {
            (LEFT, "end")
        } else {
            (RIGHT, "start")
        };
        let label = view! {
            <text x=x y=y(i, n, rows) text-anchor=anchor data-testid=format!("map-{side}-{}", node.label)>
                {node.label.clone()}
            </text>
        };
        match link(side, node) {
            Some(href) => view! { <a href=href>{label}</a> }.into_any(),
            None => label.into_any(),
        }
    };
    view! {
        <svg
            class="map"
            // NB: a group, not an image: its names are links.
            role="group"
            aria-label="Which namespaces reach which external hosts"
            viewBox=format!("0 0 {WIDTH} {height:.0}")
            width="100%"
            data-testid="map"
        >
            <text x=LEFT y=16 text-anchor="end" class="heading">"Namespaces"</text>
            <text x=RIGHT y=16 class="heading">"External hosts"</text>
            <g class="edges">{map.edges.iter().map(edge).collect_view()}</g>
            <g class="nodes">
                {map.namespaces.iter().enumerate().map(|(i, n)| node("namespace", i, ns_count, n)).collect_view()}
                {map.hosts.iter().enumerate().map(|(i, h)| node("host", i, host_count, h)).collect_view()}
            </g>
        </svg>
    }
}
