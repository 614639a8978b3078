use crate::domain::service_entry::ServiceEntryView;
use leptos::prelude::*;

/// The ServiceEntries table: name, hosts, ports, resolution, location, exportTo, age.
/// `actions` renders per-row controls (delete) when given.
#[component]
pub fn ServiceEntryTable(
    entries: Vec<ServiceEntryView>,
    #[prop(optional)] show_namespace: bool,
    #[prop(optional, into)] actions: Option<Callback<ServiceEntryView, AnyView>>,
) -> impl IntoView {
    let has_actions = actions.is_some();
    view! {
        <table class="table" data-testid="service-entries">
            <thead>
                <tr>
                    {show_namespace.then(|| view! { <th>"Namespace"</th> })}
                    <th>"Name"</th>
                    <th>"Hosts"</th>
                    <th>"Ports"</th>
                    <th>"Resolution"</th>
                    <th>"Location"</th>
                    <th>"Export to"</th>
                    <th>"Age"</th>
                    {has_actions.then(|| view! { <th></th> })}
                </tr>
            </thead>
            <tbody>
                {entries
                    .into_iter()
                    .map(|entry| {
                        let href = format!("/namespaces/{}/serviceentries/{}", entry.namespace, entry.name);
                        let row_id = format!("se-row-{}-{}", entry.namespace, entry.name);
                        let action = actions.map(|a| a.run(entry.clone()));
                        view! {
                            <tr data-testid=row_id>
                                {show_namespace.then(|| view! {
                                    <td><a href=format!("/namespaces/{}", entry.namespace)>{entry.namespace.clone()}</a></td>
                                })}
                                <td><a href=href>{entry.name.clone()}</a></td>
                                <td class="hosts">{entry.hosts.join(", ")}</td>
                                <td>
                                    {entry.ports.iter().map(|p| {
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
                                    }).collect_view()}
                                </td>
                                <td>{entry.resolution.clone()}</td>
                                <td>{entry.location.clone()}</td>
                                <td>{if entry.export_to.is_empty() { "all namespaces".to_string() } else { entry.export_to.join(", ") }}</td>
                                <td class="muted small" title=entry.created.clone().unwrap_or_default()>
                                    {entry.age.clone().unwrap_or_default()}
                                </td>
                                {action.map(|a| view! { <td>{a}</td> })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
