use crate::api::get_rollout;
use crate::components::shown;
use crate::components::textarea_text;
use crate::components::{
    provide_page, use_query_param, use_traffic_tick, Column, Loading, PageUrl, Table,
    TrafficNotice, WindowLinks,
};
use crate::domain::rollout::{PendingCall, Readiness, RolloutRow};
use crate::domain::traffic::{blocked_line, count_label};
use leptos::prelude::*;

/// `/rollout`: every namespace by readiness for REGISTRY_ONLY — restricted, ready (nothing it
/// called in the window would be blocked), not ready (what would be) — with a link to
/// restrict each on its own page; the mesh-wide switch comes last.
#[component]
pub fn RolloutPage() -> impl IntoView {
    view! { <RolloutIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn RolloutIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let param = use_query_param();
    let tick = use_traffic_tick();
    let rollout = Resource::new(
        move || (param("window"), param("drafts"), tick.get()),
        |(window, drafts, _)| get_rollout(window, drafts),
    );
    view! {
        <h1>"Rolling out REGISTRY_ONLY"</h1>
        <p class="muted">
            "Restrict namespaces one at a time, starting with the ready ones; switch the mesh "
            "when none is left not ready."
        </p>
        // A plain GET: the view, its filter and the drafts are in the URL (links and reloads
        // keep them, and it works without WASM).
        <form method="get" action="/rollout" class="filters" data-testid="rollout-form">
            <input type="hidden" name="window" value=move || param("window") />
            <label>"Calls from namespace " <input type="search" name="namespace" value=param("namespace") data-testid="calls-namespace" /></label>
            <details open=!param("drafts").is_empty()>
                <summary>"With draft entries (not saved)"</summary>
                <label for="drafts">"ServiceEntries as YAML, counted as if they existed"</label>
                <textarea id="drafts" name="drafts" rows="8" data-testid="drafts">{textarea_text(param("drafts"))}</textarea>
            </details>
            <button type="submit" data-testid="rollout-show">"Show"</button>
        </form>
        <Loading fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || rollout.get().map(|result| shown(result.map(|rollout| {
                let summary = rollout.summary();
                let rows = Signal::stored(rollout.rows.clone());
                let only = param("namespace").trim().to_string();
                let calls: Vec<PendingCall> = rollout
                    .calls
                    .iter()
                    .filter(|c| only.is_empty() || c.call.namespace == only)
                    .cloned()
                    .collect();
                view! {
                    <TrafficNotice status=rollout.status.clone() />
                    <WindowLinks window=rollout.window base="/rollout?".to_string() />
                    <p data-testid="rollout-summary"><strong>{summary}</strong></p>
                    {(!rollout.drafts.is_empty()).then(|| view! {
                        <p class="notice" data-testid="drafts-counted">
                            {format!(
                                "Counting {} draft entr{} as if registered (nothing is saved): {}",
                                rollout.drafts.len(),
                                if rollout.drafts.len() == 1 { "y" } else { "ies" },
                                rollout.drafts.iter().map(|d| format!("{}/{}", d.namespace, d.name)).collect::<Vec<_>>().join(", ")
                            )}
                        </p>
                    })}
                    {(!rollout.wildcards.is_empty()).then(|| view! {
                        <ul class="notice warn" data-testid="wildcard-warnings">
                            {rollout.wildcards.iter().map(|w| view! { <li>{w.code.clone()} ": " {w.message.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                    <section class="card">
                        <Table rows columns=columns() row_id=|row: &RolloutRow| format!("rollout-{}", row.namespace) testid="rollout" />
                    </section>
                    <section class="card">
                        <h2>"Every call under REGISTRY_ONLY"</h2>
                        <p class="muted small">
                            "Per calling workload: what happens today, and what REGISTRY_ONLY would do for its namespace, "
                            "from the entries it can see (exportTo, its Sidecar's egress hosts)."
                        </p>
                        <Table rows=Signal::stored(calls) columns=call_columns() row_id=|c: &PendingCall| format!("call-{}-{}-{}-{}-{}", c.call.namespace, c.call.workload, c.call.host.as_deref().unwrap_or("unknown"), c.call.port, c.today.label()) testid="pending-calls" />
                    </section>
                }
            })))}
        </Loading>
    }
}

fn columns() -> Vec<Column<RolloutRow>> {
    vec![
        Column::new("Namespace", |row: &RolloutRow| {
            let href = format!("/namespaces/{}", row.namespace);
            view! { <a href=href>{row.namespace.clone()}</a> }.into_any()
        }),
        Column::new("Readiness", |row: &RolloutRow| {
            let class = match row.readiness {
                Readiness::Restricted => "badge restricted",
                Readiness::Ready => "badge allowed",
                Readiness::NotReady => "badge passthrough",
                Readiness::Unknown => "badge",
            };
            view! {
                <span class=class data-testid=format!("readiness-{}", row.namespace)>
                    {row.readiness.word()}
                </span>
                {(!row.injection).then(|| view! { <span class="muted small">" no sidecar injection"</span> })}
            }
            .into_any()
        }),
        Column::new("Policy today", |row: &RolloutRow| {
            view! {
                <span>{row.effective.mode.to_string()}</span>
                " "
                <span class="muted small">{row.effective.reason()}</span>
            }
            .into_any()
        }),
        Column::new("Would be blocked", |row: &RolloutRow| {
            let blocked = (row.readiness == Readiness::NotReady).then(|| view! {
                <ul class="blocked">
                    {row.blocked.iter().map(|call| view! { <li>{blocked_line(call)}</li> }).collect_view()}
                </ul>
            });
            let warnings = (!row.warnings.is_empty()).then(|| view! {
                <ul class="warnings" data-testid=format!("scope-warnings-{}", row.namespace)>
                    {row.warnings.iter().map(|w| view! { <li><code>{w.code.clone()}</code> " " {w.message.clone()}</li> }).collect_view()}
                </ul>
            });
            view! { {blocked} {warnings} }.into_any()
        }),
        Column::new("", |row: &RolloutRow| match row.readiness {
            Readiness::Restricted => ().into_any(),
            _ => {
                let href = format!("/namespaces/{}?preview=restricted", row.namespace);
                view! {
                    <a href=href data-testid=format!("restrict-{}", row.namespace)>"Restrict…"</a>
                }
                .into_any()
            }
        }),
    ]
}

fn call_columns() -> Vec<Column<PendingCall>> {
    vec![
        Column::new("Caller", |c: &PendingCall| {
            format!("{}/{}", c.call.namespace, c.call.workload).into_any()
        }),
        Column::new("Destination", |c: &PendingCall| {
            format!(
                "{}:{} ({})",
                c.call.host.as_deref().unwrap_or("unknown host"),
                c.call.port,
                c.call.protocol.label()
            )
            .into_any()
        }),
        Column::new("Calls", |c: &PendingCall| {
            count_label(c.call.calls).into_any()
        })
        .class("num"),
        Column::new("Today", |c: &PendingCall| c.today.label().into_any()),
        Column::new("Under REGISTRY_ONLY", |c: &PendingCall| {
            let class = if c.after.allowed() {
                "badge allowed"
            } else {
                "badge restricted"
            };
            view! {
                <span class=class data-testid="pending-verdict">{c.after.label()}</span>
                {c.warning.clone().map(|w| view! {
                    <p class="small warn" data-testid="pending-warning"><code>{w.code}</code> " " {w.message}</p>
                })}
            }
            .into_any()
        }),
    ]
}
