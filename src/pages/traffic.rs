use crate::api::get_traffic;
use crate::components::shown;
use crate::components::{
    provide_page, use_query_param, use_traffic_tick, DestinationTable, Loading, PageUrl,
    TelemetryHint, TrafficNotice, WindowLinks,
};
use crate::domain::traffic::{SortBy, Verdict, Window};
use crate::domain::url_encode;
use leptos::prelude::*;

/// `/traffic`: every external destination called in the window — registered, passthrough
/// (unregistered, allowed) or blocked — with its callers. Search, filter and sort run on the
/// server; the form is a plain GET, so it works without WASM and links keep the view.
#[component]
pub fn TrafficPage() -> impl IntoView {
    view! { <TrafficIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn TrafficIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let param = use_query_param();
    let tick = use_traffic_tick();
    let traffic = Resource::new(
        move || {
            (
                param("window"),
                param("q"),
                param("verdict"),
                param("sort"),
                tick.get(),
            )
        },
        |(window, q, verdict, sort, _)| get_traffic(window, q, verdict, sort),
    );
    view! {
        <h1>"Outgoing calls"</h1>
        <p class="muted">
            "What the mesh's workloads call outside it, as their sidecars report it: registered "
            "hosts, unregistered hosts that pass through (ALLOW_ANY), and calls Istio blocks."
        </p>
        <Loading fallback=|| view! { <p class="loading">"Loading traffic…"</p> }>
            {move || traffic.get().map(|result| shown(result.map(|page| {
                let window = page.report.window;
                let q = param("q");
                let verdict = Verdict::parse(&param("verdict"));
                let sort = SortBy::parse(&param("sort"));
                let base = format!(
                    "/traffic?q={}&verdict={}&sort={}&",
                    url_encode(&q),
                    verdict.as_ref().map(Verdict::label).unwrap_or(""),
                    sort.key()
                );
                let shown = page.report.destinations.len();
                let unnamed = page.report.destinations.iter().any(|d| d.host.is_none());
                view! {
                    <TrafficNotice status=page.report.status.clone() />
                    <WindowLinks window base />
                    <form method="get" action="/traffic" class="filters" data-testid="traffic-filters">
                        <input type="hidden" name="window" value=window.range() />
                        <label>"Search " <input type="search" name="q" value=q data-testid="traffic-search" placeholder="host or namespace/workload" /></label>
                        <label>"Verdict "
                            <select name="verdict" data-testid="traffic-verdict">
                                <option value="" selected=verdict.is_none()>"any"</option>
                                {Verdict::ALL.into_iter().map(|v| view! {
                                    <option value=v.label() selected=verdict.as_ref() == Some(&v)>{v.label()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Sort by "
                            <select name="sort" data-testid="traffic-sort">
                                {[SortBy::Calls, SortBy::Verdict, SortBy::Host, SortBy::Errors].into_iter().map(|s| view! {
                                    <option value=s.key() selected=s == sort>{s.key()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit" data-testid="traffic-apply">"Apply"</button>
                    </form>
                    <section class="card">
                        <p class="muted" data-testid="traffic-totals">
                            {format!("{shown} of {} destinations in the {}", page.total, window.label())}
                        </p>
                        <DestinationTable destinations=page.report.destinations testid="destinations" />
                        {unnamed.then(|| view! { <TelemetryHint /> })}
                    </section>
                    <p class="muted small">
                        "Also as JSON: POST /api/traffic with window=" {Window::default().range()}
                        " (docs/API.md)."
                    </p>
                }
            })))}
        </Loading>
    }
}
