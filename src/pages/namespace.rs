use super::restrict::NamespacePolicyCard;
use crate::api::form::FormArgs;
use crate::api::{
    get_namespace_traffic, list_service_entries, namespace_access, DeleteServiceEntry,
    UndoDeleteServiceEntry,
};
use crate::components::shown;
use crate::components::{
    provide_page, use_live, use_query_param, use_route_param, use_traffic_tick, DeleteForm,
    DeletedNotice, DestinationTable, Loading, PageUrl, ServiceEntryTable, TelemetryHint,
    TrafficNotice, WindowLinks,
};
use crate::domain::service_entry::ServiceEntryView;
use leptos::prelude::*;

/// `/namespaces/:namespace`: the namespace's external services, with delete and undo.
#[component]
pub fn NamespacePage() -> impl IntoView {
    view! { <NamespaceIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn NamespaceIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let namespace = use_route_param("namespace");
    let live = use_live();
    let delete = ServerAction::<FormArgs<DeleteServiceEntry>>::new();
    let undo = ServerAction::<FormArgs<UndoDeleteServiceEntry>>::new();
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
    let param = use_query_param();
    let tick = use_traffic_tick();
    let traffic = Resource::new(
        move || (namespace(), param("window"), tick.get()),
        |(namespace, window, _)| get_namespace_traffic(namespace, window),
    );
    let calls = move || {
        traffic
            .get()
            .and_then(Result::ok)
            .and_then(|t| t.status.notice().is_none().then_some(t.calls_per_entry))
    };
    let actions = Callback::new(move |entry: ServiceEntryView| {
        view! { <DeleteForm entry action=delete /> }.into_any()
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
        <NamespacePolicyCard namespace=Signal::derive(namespace) />
        <DeletedNotice delete undo />
        <section class="card">
            <Loading>
                {move || entries.get().map(|result| shown(result.map(|list| {
                    if list.is_empty() {
                        return view! {
                            <p class="muted" data-testid="no-entries">"No external services are registered here."</p>
                        }.into_any();
                    }
                    let may_delete = access
                        .get()
                        .and_then(Result::ok)
                        .is_some_and(|a| a.delete.allowed());
                    let entries = Signal::stored(list.iter().map(|e| ServiceEntryView::clone(e)).collect::<Vec<_>>());
                    let calls = calls();
                    if may_delete {
                        view! { <ServiceEntryTable entries actions calls /> }.into_any()
                    } else {
                        view! { <ServiceEntryTable entries calls /> }.into_any()
                    }
                })))}
            </Loading>
        </section>
        <section class="card" data-testid="namespace-unregistered">
            <h2>"Calls to unregistered hosts"</h2>
            <Loading fallback=|| view! { <p class="loading">"Loading traffic…"</p> }>
                {move || traffic.get().map(|result| shown(result.map(|t| {
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
                })))}
            </Loading>
        </section>
    }
}
