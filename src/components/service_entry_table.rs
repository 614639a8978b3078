use super::{Column, Table};
use crate::domain::service_entry::ServiceEntryView;
use crate::domain::traffic::count_label;
use leptos::prelude::*;
use std::collections::BTreeMap;

fn text(value: String) -> AnyView {
    value.into_any()
}

/// The ServiceEntries list: name, hosts, ports, resolution, location, exportTo, age; the
/// namespace when `show_namespace`; per-row controls (delete) when `actions` is given.
#[component]
pub fn ServiceEntryTable(
    /// The entries shown, in order.
    #[prop(into)]
    entries: Signal<Vec<ServiceEntryView>>,
    /// Whether a namespace column leads.
    #[prop(optional)]
    show_namespace: bool,
    /// Controls for each row.
    #[prop(optional, into)]
    actions: Option<Callback<ServiceEntryView, AnyView>>,
    /// Calls in the traffic window per `namespace/name` (a Calls column when given).
    #[prop(default = None)]
    calls: Option<BTreeMap<String, f64>>,
) -> impl IntoView {
    let mut columns: Vec<Column<ServiceEntryView>> = Vec::new();
    if show_namespace {
        columns.push(Column::new("Namespace", |e: &ServiceEntryView| {
            let href = format!("/namespaces/{}", e.namespace);
            view! { <a href=href>{e.namespace.clone()}</a> }.into_any()
        }));
    }
    columns.extend([
        Column::new("Name", |e: &ServiceEntryView| {
            let href = format!("/namespaces/{}/serviceentries/{}", e.namespace, e.name);
            let via = e.via.clone().map(|via| {
                view! { " " <span class="badge small" data-testid="entry-via">{via}</span> }
            });
            view! { <a href=href>{e.name.clone()}</a> {via} }.into_any()
        }),
        Column::new("Hosts", |e: &ServiceEntryView| text(e.hosts.join(", "))).class("hosts"),
        Column::new("Ports", |e: &ServiceEntryView| {
            e.ports
                .iter()
                .map(|p| {
                    let opaque = p.opaque_to_mesh();
                    view! {
                        <span class="port">
                            {p.label()}
                            {opaque.then(|| view! {
                                <span class="note" title="The mesh sees only TCP-level traffic on this port: no HTTP routing, retries or metrics by path.">
                                    " · TCP-level only"
                                </span>
                            })}
                        </span>
                    }
                })
                .collect_view()
                .into_any()
        }),
        Column::new("Resolution", |e: &ServiceEntryView| text(e.resolution.clone())),
        Column::new("Location", |e: &ServiceEntryView| text(e.location.clone())),
        Column::new("Export to", |e: &ServiceEntryView| {
            text(if e.export_to.is_empty() {
                "all namespaces".to_string()
            } else {
                e.export_to.join(", ")
            })
        }),
        Column::new("Age", |e: &ServiceEntryView| {
            let created = e.created.clone().unwrap_or_default();
            view! { <span title=created>{e.age.clone().unwrap_or_default()}</span> }.into_any()
        })
        .class("muted small"),
    ]);
    if let Some(calls) = calls {
        columns.push(
            Column::new("Calls", move |e: &ServiceEntryView| {
                let n = calls
                    .get(&format!("{}/{}", e.namespace, e.name))
                    .copied()
                    .unwrap_or(0.0);
                view! { <span data-testid=format!("calls-{}", e.name)>{count_label(n)}</span> }
                    .into_any()
            })
            .class("num"),
        );
    }
    if let Some(actions) = actions {
        columns.push(Column::new("", move |e: &ServiceEntryView| {
            actions.run(e.clone())
        }));
    }
    view! {
        <Table
            rows=entries
            columns
            row_id=|e: &ServiceEntryView| format!("se-row-{}-{}", e.namespace, e.name)
            testid="service-entries"
        />
    }
}
