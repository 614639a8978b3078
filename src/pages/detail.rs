use crate::api::form::FormArgs;
use crate::api::{
    get_entry_traffic, get_service_entry, namespace_access, DeleteServiceEntry,
    UndoDeleteServiceEntry,
};
use crate::components::shown;
use crate::components::{
    provide_page, use_entry_key, use_live, use_query_param, use_traffic_tick, Column, CopyButton,
    DeleteForm, DeletedNotice, FindingList, Loading, PageUrl, RateChart, Table, TrafficNotice,
    WindowLinks,
};
use crate::domain::traffic::{bytes_label, count_label, CallerTraffic, Destination};
use leptos::prelude::*;

/// `/namespaces/:namespace/serviceentries/:name`: every field, conditions, validation, YAML.
#[component]
pub fn ServiceEntryPage() -> impl IntoView {
    view! { <ServiceEntryIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn ServiceEntryIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let key = use_entry_key();
    let live = use_live();
    let delete = ServerAction::<FormArgs<DeleteServiceEntry>>::new();
    let undo = ServerAction::<FormArgs<UndoDeleteServiceEntry>>::new();
    let detail = Resource::new(
        move || {
            (
                key(),
                live.generation(),
                delete.version().get(),
                undo.version().get(),
            )
        },
        |((namespace, name), ..)| get_service_entry(namespace, name),
    );
    let access = Resource::new(move || key().0, namespace_access);
    view! {
        <DeletedNotice delete undo />
        <Loading>
            {move || detail.get().map(|result| shown(result.map(|detail| {
                    let view = detail.view.clone();
                    view! {
                        <h1>{format!("{}/{}", view.namespace, view.name)}</h1>
                        <div class="actions">
                            <a class="button" data-testid="edit-link"
                                href=format!("/namespaces/{}/serviceentries/{}/edit", view.namespace, view.name)>"Edit"</a>
                            " "
                            <a class="button" data-testid="duplicate-link"
                                href=format!("/new?duplicate={}/{}", view.namespace, view.name)>"Duplicate"</a>
                            {
                                let entry = view.clone();
                                move || access.get().and_then(Result::ok).filter(|a| a.delete.allowed()).map(|_| {
                                    view! { <DeleteForm entry=entry.clone() action=delete /> }
                                })
                            }
                        </div>
                        <section class="card">
                            <dl class="fields">
                                <dt>"Hosts"</dt><dd data-testid="detail-hosts">{view.hosts.join(", ")}</dd>
                                <dt>"Ports"</dt><dd data-testid="detail-ports">{view.ports.iter().map(|p| p.label()).collect::<Vec<_>>().join(", ")}</dd>
                                <dt>"Resolution"</dt><dd>{view.resolution.clone()}</dd>
                                <dt>"Location"</dt><dd>{view.location.clone()}</dd>
                                <dt>"Addresses"</dt><dd>{view.addresses.join(", ")}</dd>
                                <dt>"Export to"</dt><dd>{if view.export_to.is_empty() { "all namespaces".to_string() } else { view.export_to.join(", ") }}</dd>
                                <dt>"Endpoints"</dt><dd>{view.endpoints}</dd>
                                <dt>"Conditions"</dt><dd>{if detail.conditions.is_empty() { "none reported".to_string() } else { detail.conditions.join("; ") }}</dd>
                            </dl>
                        </section>
                    }
            })))}
        </Loading>
        // NB: the cards that load more are not inside the entry's loading: resources made
        // inside another's pending view do not hydrate in an island.
        <super::route::EntryRoutingCard namespace=key().0 name=key().1 />
        <EntryCalls namespace=key().0 name=key().1 />
        <Loading fallback=|| ()>
            {move || detail.get().map(|result| shown(result.map(|detail| {
                    let view = detail.view.clone();
                    let download = format!(
                        "data:application/yaml;charset=utf-8,{}",
                        crate::domain::url_encode(&detail.yaml)
                    );
                    view! {
                        <section class="card">
                            <h2>"Validation"</h2>
                            {if detail.findings.is_empty() {
                                view! { <p data-testid="detail-valid">"Valid: istiod accepts it and no lint rule fires."</p> }.into_any()
                            } else {
                                view! { <FindingList findings=detail.findings.clone() /> }.into_any()
                            }}
                        </section>
                        <section class="card">
                            <h2>"YAML"</h2>
                            <p>
                                <CopyButton text=detail.yaml.clone() testid="copy-yaml" />
                                " "
                                <a href=download download=format!("{}.yaml", view.name) data-testid="download-yaml">"Download"</a>
                            </p>
                            <pre class="yaml" data-testid="detail-yaml">{detail.yaml.clone()}</pre>
                        </section>
                    }
            })))}
        </Loading>
    }
}

/// Calls to the entry's hosts in the window, per calling workload, with the rate over time.
#[component]
fn EntryCalls(namespace: String, name: String) -> impl IntoView {
    let param = use_query_param();
    let tick = use_traffic_tick();
    let base = StoredValue::new(format!("/namespaces/{namespace}/serviceentries/{name}?"));
    let traffic = Resource::new(
        move || (param("window"), tick.get()),
        move |(window, _)| get_entry_traffic(namespace.clone(), name.clone(), window),
    );
    view! {
        <section class="card" data-testid="entry-traffic">
            <h2>"Calls"</h2>
            <Loading fallback=|| view! { <p class="loading">"Loading traffic…"</p> }>
                {move || traffic.get().map(|result| shown(result.map(|t| {
                    let fresh = t.status.notice().is_none();
                    view! {
                        <TrafficNotice status=t.status.clone() />
                        <WindowLinks window=t.window base=base.get_value() />
                        {t.rate.clone().map(|series| view! { <RateChart series /> })}
                        {(fresh && t.destinations.is_empty()).then(|| view! {
                            <p class="muted" data-testid="no-calls">{format!("No calls to these hosts in the {}.", t.window.label())}</p>
                        })}
                        {t.destinations.into_iter().map(|d| view! { <HostCallers destination=d /> }).collect_view()}
                    }
                })))}
            </Loading>
        </section>
    }
}

/// One host's callers: requests and error rate (HTTP), connections and bytes (TCP).
#[component]
fn HostCallers(destination: Destination) -> impl IntoView {
    let via = destination
        .via
        .as_ref()
        .map(|via| format!(", via gateway {via}"))
        .unwrap_or_default();
    let title = format!(
        "{}:{} ({}{via}), {} calls",
        destination.host_label(),
        destination.port_label(),
        destination.protocol.label(),
        count_label(destination.calls())
    );
    let columns = vec![
        Column::new("Caller", |c: &CallerTraffic| {
            view! { <a href=format!("/namespaces/{}", c.namespace)>{c.namespace.clone()}</a> "/" {c.workload.clone()} }.into_any()
        }),
        Column::new("Requests", |c: &CallerTraffic| {
            count_label(c.requests).into_any()
        })
        .class("num"),
        Column::new("Error rate", |c: &CallerTraffic| {
            let rate = if c.requests > 0.0 {
                c.errors / c.requests * 100.0
            } else {
                0.0
            };
            format!("{rate:.1}%").into_any()
        })
        .class("num"),
        Column::new("Connections", |c: &CallerTraffic| {
            count_label(c.connections).into_any()
        })
        .class("num"),
        Column::new("Bytes sent / received", |c: &CallerTraffic| {
            format!(
                "{} / {}",
                bytes_label(c.sent_bytes),
                bytes_label(c.received_bytes)
            )
            .into_any()
        })
        .class("num"),
    ];
    view! {
        <h3 class="small">{title}</h3>
        <Table
            rows=Signal::stored(destination.callers)
            columns
            row_id=|c: &CallerTraffic| format!("caller-{}-{}", c.namespace, c.workload)
            testid="entry-callers"
        />
    }
}
