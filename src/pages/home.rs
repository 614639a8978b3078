use crate::components::ErrorNotice;
use crate::domain::overview::filter_namespaces;
use crate::domain::{Overview, PolicyReport};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/`: the mesh-wide outbound traffic policy and every namespace with its external services.
#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| crate::api::get_overview());
    let query = use_query_map();
    // The filter starts from `?q=` so the form works before (or without) WASM.
    let filter = RwSignal::new(query.get_untracked().get("q").unwrap_or_default());
    view! {
        <h1>"Outbound traffic"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading from the cluster…"</p> }>
            {move || {
                overview
                    .get()
                    .map(|result| match result {
                        Ok(overview) => view! { <OverviewView overview filter /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn OverviewView(overview: Overview, filter: RwSignal<String>) -> impl IntoView {
    let (entries, namespaces_with_entries) = overview.registered_totals();
    let namespaces = StoredValue::new(overview.namespaces.clone());
    let visible = move || {
        namespaces.with_value(|all| {
            filter_namespaces(all, &filter.get())
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <PolicyCard policy=overview.policy.clone() cluster=overview.cluster.clone() />
        <section class="card">
            <h2>"Namespaces"</h2>
            <p class="muted" data-testid="totals">
                {format!(
                    "{entries} external services registered in {namespaces_with_entries} namespaces",
                )}
            </p>
            <form method="get" class="filter" on:submit=|ev| ev.prevent_default()>
                <label for="ns-filter">"Filter by name"</label>
                <input
                    id="ns-filter"
                    type="search"
                    name="q"
                    data-testid="ns-filter"
                    placeholder="namespace"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </form>
            <table class="table" data-testid="namespaces">
                <thead>
                    <tr>
                        <th>"Namespace"</th>
                        <th class="num">"External services"</th>
                        <th>"Sidecar injection"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=visible key=|ns| ns.name.clone() let:ns>
                        <tr data-testid=format!("ns-row-{}", ns.name)>
                            <td>{ns.name.clone()}</td>
                            <td class="num">{ns.service_entries}</td>
                            <td>{if ns.injection { "enabled" } else { "—" }}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            <Show when=move || visible().is_empty()>
                <p class="muted" data-testid="no-match">"No namespace matches the filter."</p>
            </Show>
        </section>
    }
}

#[component]
fn PolicyCard(policy: PolicyReport, cluster: String) -> impl IntoView {
    let setting = policy.setting();
    let restricted = !setting.effective_mode().allows_unregistered_hosts();
    let source = match &policy {
        PolicyReport::Found { source, .. } => view! {
            <p class="muted" data-testid="policy-source">
                "Source: " {source.to_string()}
            </p>
        }
        .into_any(),
        PolicyReport::NoSource { looked_for } => view! {
            <div class="muted" data-testid="policy-source">
                <p>"No mesh config was found. Looked for:"</p>
                <ul>{looked_for.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
    };
    view! {
        <section class="card policy">
            <h2>"Mesh-wide outbound traffic policy"</h2>
            <p class="policy-mode">
                <span
                    class=if restricted { "badge restricted" } else { "badge allowed" }
                    data-testid="policy-mode"
                >
                    {setting.describe()}
                </span>
            </p>
            <p class="muted">
                {if restricted {
                    "Pods reach only hosts registered as ServiceEntries."
                } else {
                    "Pods may call any external host."
                }}
            </p>
            {source}
            <p class="muted small">"Cluster: " {cluster}</p>
        </section>
    }
}
