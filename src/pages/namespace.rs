use crate::api::{
    list_service_entries, namespace_access, DeleteServiceEntry, UndoDeleteServiceEntry,
};
use crate::components::{ErrorNotice, Live, Loading, ServiceEntryTable};
use crate::domain::service_entry::ServiceEntryView;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

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
    let actions = Callback::new(move |entry: ServiceEntryView| {
        let confirm = format!(
            "Pods will no longer reach {} under REGISTRY_ONLY",
            entry.hosts.join(", ")
        );
        view! {
            <ActionForm action=delete attr:class="inline-delete">
                <input type="hidden" name="namespace" value=entry.namespace.clone() />
                <input type="hidden" name="name" value=entry.name.clone() />
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
                    let entries = Signal::stored(list);
                    if may_delete {
                        view! { <ServiceEntryTable entries actions /> }.into_any()
                    } else {
                        view! { <ServiceEntryTable entries /> }.into_any()
                    }
                }))}
            </Loading>
        </section>
    }
}
