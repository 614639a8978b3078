use crate::api::{
    get_namespace_traffic, list_service_entries, namespace_access, DeleteServiceEntry,
    UndoDeleteServiceEntry,
};
use crate::components::{
    DestinationTable, ErrorNotice, Live, Loading, ServiceEntryTable, TelemetryHint, TrafficNotice,
    TrafficTick, WindowLinks,
};
use crate::domain::service_entry::ServiceEntryView;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/namespaces/:namespace`: the namespace's external services, with delete and undo.
#[component]
pub fn NamespacePage() -> impl IntoView {
    let params = use_params_map();
    let namespace = move || params.with(|p| p.get("namespace").unwrap_or_default());
    let live = expect_context::<Live>();
    let delete = ServerAction::<DeleteServiceEntry>::new();
    let undo = ServerAction::<UndoDeleteServiceEntry>::new();
    let entries = Resource::new(
        move || {
            (
                namespace(),
                live.generation(),
                delete.version().get(),
                undo.version().get(),
            )
        },
        |(namespace, ..)| list_service_entries(namespace),
    );
    let access = Resource::new(namespace, namespace_access);
    let query = use_query_map();
    let tick = expect_context::<TrafficTick>();
    let traffic = Resource::new(
        move || {
            (
                namespace(),
                query.with(|q| q.get("window").unwrap_or_default()),
                tick.get(),
            )
        },
        |(namespace, window, _)| get_namespace_traffic(namespace, window),
    );
    let calls = move || {
        traffic
            .get()
            .and_then(Result::ok)
            .and_then(|t| t.status.notice().is_none().then_some(t.calls_per_entry))
    };
    let actions = Callback::new(move |entry: ServiceEntryView| {
        let confirm = format!(
            "Pods will no longer reach {} under REGISTRY_ONLY",
            entry.hosts.join(", ")
        );
        view! {
            <ActionForm action=delete attr:class="inline-delete">
                <input type="hidden" name="namespace" value=entry.namespace.clone() />
                <input type="hidden" name="name" value=entry.name.clone() />
                // The version shown: an entry changed since is not deleted.
                {entry.seen.clone().map(|seen| view! {
                    <input type="hidden" name="uid" value=seen.uid />
                    <input type="hidden" name="resource_version" value=seen.resource_version />
                    {seen.generation.map(|g| view! { <input type="hidden" name="generation" value=g.to_string() /> })}
                })}
                <label class="confirm small" title=confirm.clone()>
                    <input type="checkbox" required data-testid=format!("delete-confirm-{}", entry.name) />
                    {confirm.clone()}
                </label>
                <button type="submit" class="danger" data-testid=format!("delete-{}", entry.name)>
                    "Delete"
                </button>
            </ActionForm>
        }
        .into_any()
    });
    view! {
        <h1>"External services in " {namespace}</h1>
        <Transition fallback=|| ()>
            {move || access.get().and_then(Result::ok).map(|access| view! {
                {access.create.allowed().then(|| view! {
                    <p>
                        <a href=format!("/new?namespace={}", namespace()) data-testid="new-link">
                            "Register an external service"
                        </a>
                    </p>
                })}
                {access.delete.reason().map(|reason| view! {
                    <p class="muted small" data-testid="delete-disabled">
                        "Deleting is disabled: " {reason.to_string()}
                    </p>
                })}
            })}
        </Transition>
        {move || delete.value().get().map(|result| match result {
            Ok(deleted) => view! {
                <div class="notice warn" data-testid="deleted-notice">
                    <p>
                        {format!("Deleted {}/{}. Pods no longer reach {} under REGISTRY_ONLY.",
                            deleted.namespace, deleted.name, deleted.hosts.join(", "))}
                    </p>
                    <ActionForm action=undo>
                        <input type="hidden" name="namespace" value=deleted.namespace.clone() />
                        <input type="hidden" name="name" value=deleted.name.clone() />
                        <button type="submit" data-testid="undo">"Undo"</button>
                    </ActionForm>
                </div>
            }.into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })}
        {move || undo.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
        <section class="card">
            <Loading>
                {move || entries.get().map(|result| result.map(|list| {
                    if list.is_empty() {
                        return view! {
                            <p class="muted" data-testid="no-entries">"No external services are registered here."</p>
                        }.into_any();
                    }
                    let may_delete = access
                        .get()
                        .and_then(Result::ok)
                        .is_some_and(|a| a.delete.allowed());
                    let entries = Signal::stored(std::sync::Arc::unwrap_or_clone(list));
                    let calls = calls();
                    if may_delete {
                        view! { <ServiceEntryTable entries actions calls /> }.into_any()
                    } else {
                        view! { <ServiceEntryTable entries calls /> }.into_any()
                    }
                }))}
            </Loading>
        </section>
        <section class="card" data-testid="namespace-unregistered">
            <h2>"Calls to unregistered hosts"</h2>
            <Loading fallback=|| view! { <p class="loading">"Loading traffic…"</p> }>
                {move || traffic.get().map(|result| result.map(|t| {
                    let fresh = t.status.notice().is_none();
                    let unnamed = t.unregistered.iter().any(|d| d.host.is_none());
                    view! {
                        <TrafficNotice status=t.status.clone() />
                        <WindowLinks window=t.window base=format!("/namespaces/{}?", namespace()) />
                        {if t.unregistered.is_empty() {
                            fresh.then(|| view! {
                                <p class="muted" data-testid="no-unregistered">
                                    {format!("No calls to unregistered hosts in the {}.", t.window.label())}
                                </p>
                            }).into_any()
                        } else {
                            view! { <DestinationTable destinations=t.unregistered testid="unregistered" /> }.into_any()
                        }}
                        {unnamed.then(|| view! { <TelemetryHint /> })}
                    }
                }))}
            </Loading>
        </section>
    }
}
