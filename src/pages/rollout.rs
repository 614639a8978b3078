use crate::api::get_rollout;
use crate::components::{
    use_query_param, Column, Loading, Table, TrafficNotice, TrafficTick, WindowLinks,
};
use crate::domain::rollout::{Readiness, RolloutRow};
use crate::domain::traffic::blocked_line;
use leptos::prelude::*;

/// `/rollout`: every namespace by readiness for REGISTRY_ONLY — restricted, ready (nothing it
/// called in the window would be blocked), not ready (what would be) — with a link to
/// restrict each on its own page; the mesh-wide switch comes last.
#[component]
pub fn RolloutPage() -> impl IntoView {
    let param = use_query_param();
    let tick = expect_context::<TrafficTick>();
    let rollout = Resource::new(
        move || (param("window"), tick.get()),
        |(window, _)| get_rollout(window),
    );
    view! {
        <h1>"Rolling out REGISTRY_ONLY"</h1>
        <p class="muted">
            "Restrict namespaces one at a time, starting with the ready ones; switch the mesh "
            "when none is left not ready."
        </p>
        <Loading fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || rollout.get().map(|result| result.map(|rollout| {
                let summary = rollout.summary();
                let rows = Signal::stored(rollout.rows.clone());
                view! {
                    <TrafficNotice status=rollout.status.clone() />
                    <WindowLinks window=rollout.window base="/rollout?".to_string() />
                    <p data-testid="rollout-summary"><strong>{summary}</strong></p>
                    <section class="card">
                        <Table rows columns=columns() row_id=|row: &RolloutRow| format!("rollout-{}", row.namespace) testid="rollout" />
                    </section>
                }
            }))}
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
            if row.readiness != Readiness::NotReady {
                return "—".into_any();
            }
            view! {
                <ul class="blocked">
                    {row.blocked.iter().map(|call| view! { <li>{blocked_line(call)}</li> }).collect_view()}
                </ul>
            }
            .into_any()
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
