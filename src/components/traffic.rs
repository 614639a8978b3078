//! How traffic shows: the notice when there is none, the window links, destinations with
//! their callers, and a small rate chart (SVG, rendered on the server).

use super::{Column, CopyButton, Table};
use crate::domain::traffic::{
    bytes_label, count_label, CallProtocol, CallerTraffic, Destination, RateSeries, TrafficStatus,
    Verdict, Window, TELEMETRY_FOR_HOST_NAMES,
};
use leptos::prelude::*;

/// A counter that moves every 15 s in the browser, so traffic sections re-read on their own
/// (the server renders tick 0; without WASM a reload shows newer traffic).
#[derive(Clone, Copy)]
pub struct TrafficTick(RwSignal<u64>);

impl TrafficTick {
    /// The current tick (tracked).
    pub fn get(self) -> u64 {
        self.0.get()
    }
}

/// The traffic tick: on the server 0, in the browser one that every island of the page shares,
/// moving every 15 s.
pub fn use_traffic_tick() -> TrafficTick {
    #[cfg(feature = "hydrate")]
    {
        thread_local! {
            static SHARED: TrafficTick = {
                let tick = RwSignal::new(0u64);
                let _ = set_interval_with_handle(
                    move || tick.update(|t| *t += 1),
                    std::time::Duration::from_secs(15),
                );
                TrafficTick(tick)
            };
        }
        SHARED.with(|tick| *tick)
    }
    #[cfg(not(feature = "hydrate"))]
    TrafficTick(RwSignal::new(0))
}

/// The one line shown when traffic is missing (and where it came from when it is not).
#[component]
pub fn TrafficNotice(status: TrafficStatus) -> impl IntoView {
    match status.notice() {
        Some(notice) => {
            view! { <p class="notice warn small" data-testid="traffic-notice">{notice}</p> }
                .into_any()
        }
        None => {
            let TrafficStatus::Fresh {
                source,
                seconds_ago,
            } = status
            else {
                return ().into_any();
            };
            view! {
                <p class="muted small" data-testid="traffic-source">
                    {format!("Traffic from Prometheus at {source}, read {seconds_ago} s ago.")}
                </p>
            }
            .into_any()
        }
    }
}

/// Links to the same page over each window; the current one marked.
#[component]
pub fn WindowLinks(
    /// The window shown.
    window: Window,
    /// The page's path (and query without `window`), e.g. `/traffic?`.
    base: String,
) -> impl IntoView {
    view! {
        <p class="windows" data-testid="windows">
            "Window: "
            {Window::ALL.into_iter().map(|w| {
                let href = format!("{base}window={}", w.range());
                let class = if w == window { "window current" } else { "window" };
                view! { <a href=href class=class data-testid=format!("window-{}", w.range())>{w.label()}</a> " " }
            }).collect_view()}
        </p>
    }
}

fn verdict_badge(verdict: &Verdict) -> AnyView {
    let class = match verdict {
        Verdict::Registered => "badge allowed",
        Verdict::Passthrough => "badge passthrough",
        Verdict::Blocked => "badge restricted",
    };
    view! { <span class=class>{verdict.label()}</span> }.into_any()
}

fn callers_cell(callers: &[CallerTraffic]) -> AnyView {
    view! {
        <ul class="callers">
            {callers.iter().map(|c| view! {
                <li>
                    <a href=format!("/namespaces/{}", c.namespace)>{c.namespace.clone()}</a>
                    "/" {c.workload.clone()}
                    <span class="muted small">{format!(" {}", count_label(c.calls()))}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

fn row_id(d: &Destination) -> String {
    let host: String = d
        .host_label()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "dest-{}-{host}-{}-{}",
        d.verdict.label(),
        d.port_label().replace('?', "any"),
        d.protocol.label()
    )
}

/// Destinations with their verdict, callers, calls, errors and bytes, and "Allow this host"
/// on the unregistered ones that have a host name.
#[component]
pub fn DestinationTable(
    /// The rows, in order.
    destinations: Vec<Destination>,
    /// The table's test id.
    testid: &'static str,
) -> impl IntoView {
    let columns = vec![
        Column::new("Destination", |d: &Destination| {
            view! {
                <span class="host">{format!("{}:{}", d.host_label(), d.port_label())}</span>
                {d.entries.iter().map(|e| view! {
                    <br />
                    <a class="small" href=format!("/namespaces/{}/serviceentries/{}", e.namespace, e.name)>
                        {format!("{}/{}", e.namespace, e.name)}
                    </a>
                }).collect_view()}
                {d.via.clone().map(|via| view! {
                    " " <span class="badge small" data-testid="destination-via">{format!("via gateway {via}")}</span>
                })}
                {d.note.clone().map(|n| view! { <br /><span class="note small">{n}</span> })}
            }
            .into_any()
        }),
        Column::new("Verdict", |d: &Destination| verdict_badge(&d.verdict)),
        Column::new("Protocol", |d: &Destination| d.protocol.label().into_any()),
        Column::new("Callers", |d: &Destination| callers_cell(&d.callers)),
        Column::new("Calls", |d: &Destination| count_label(d.calls()).into_any()).class("num"),
        Column::new("Errors", |d: &Destination| match d.protocol {
            CallProtocol::Http => format!("{:.1}%", d.error_rate() * 100.0).into_any(),
            CallProtocol::Tcp => "—".into_any(),
        })
        .class("num"),
        Column::new("Bytes", |d: &Destination| match d.protocol {
            CallProtocol::Tcp => bytes_label(d.bytes()).into_any(),
            CallProtocol::Http => "—".into_any(),
        })
        .class("num"),
        Column::new("", |d: &Destination| {
            match (d.verdict != Verdict::Registered).then(|| d.allow_link()).flatten() {
                Some(href) => view! {
                    <a class="button" href=href data-testid=format!("allow-{}", d.host_label())>"Allow this host"</a>
                }
                .into_any(),
                None => ().into_any(),
            }
        }),
    ];
    view! { <Table rows=Signal::stored(destinations) columns row_id testid /> }
}

/// Why some TLS/TCP destinations have no host name, and the Telemetry resource that adds it.
#[component]
pub fn TelemetryHint() -> impl IntoView {
    view! {
        <details class="telemetry" data-testid="telemetry-hint">
            <summary>
                "TLS and TCP calls to unregistered hosts carry no host name in Istio's standard metrics. "
                "This Telemetry resource adds the TLS server name and the port:"
            </summary>
            <p><CopyButton text=TELEMETRY_FOR_HOST_NAMES.to_string() testid="copy-telemetry" /></p>
            <pre class="yaml" data-testid="telemetry-yaml">{TELEMETRY_FOR_HOST_NAMES}</pre>
        </details>
    }
}

/// Calls per second over the window, as a line over an area.
#[component]
pub fn RateChart(series: RateSeries) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 100.0;
    let span = series.window.seconds() as f64;
    let max = series.points.iter().map(|p| p.1).fold(0.0, f64::max);
    let scale = if max > 0.0 { (H - 8.0) / max } else { 0.0 };
    let xy: Vec<String> = series
        .points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", t / span * W, H - v * scale))
        .collect();
    let line = xy.join(" ");
    let area = match (series.points.first(), series.points.last()) {
        (Some(first), Some(last)) => format!(
            "{:.1},{H} {line} {:.1},{H}",
            first.0 / span * W,
            last.0 / span * W
        ),
        _ => String::new(),
    };
    let label = format!(
        "Calls per second over the {}: at most {:.2}/s",
        series.window.label(),
        max
    );
    view! {
        <figure class="chart" data-testid="rate-chart">
            <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label=label.clone()>
                <polygon points=area class="area" />
                <polyline points=line class="line" />
            </svg>
            <figcaption class="muted small">{label}</figcaption>
        </figure>
    }
}
