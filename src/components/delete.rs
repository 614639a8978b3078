//! Deleting a ServiceEntry: the form (confirmation, and the version shown so an entry changed
//! since is not deleted), and the notice that follows it, with Undo.

use super::ErrorNotice;
use super::PostForm;
use crate::api::form::FormArgs;
use crate::api::{DeleteServiceEntry, UndoDeleteServiceEntry};
use crate::domain::service_entry::ServiceEntryView;
use leptos::prelude::*;

/// Delete `entry`, after a checked confirmation naming what pods will no longer reach.
#[component]
pub fn DeleteForm(
    entry: ServiceEntryView,
    action: ServerAction<FormArgs<DeleteServiceEntry>>,
) -> impl IntoView {
    let confirm = format!(
        "Pods will no longer reach {} under REGISTRY_ONLY",
        entry.hosts.join(", ")
    );
    view! {
        <PostForm action attr:class="inline-delete">
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
        </PostForm>
    }
}

/// What the last delete did (with Undo), or why it failed; and why an undo failed.
#[component]
pub fn DeletedNotice(
    delete: ServerAction<FormArgs<DeleteServiceEntry>>,
    undo: ServerAction<FormArgs<UndoDeleteServiceEntry>>,
) -> impl IntoView {
    view! {
        {move || delete.value().get().map(|result| match result {
            Ok(deleted) => view! {
                <div class="notice warn" role="status" data-testid="deleted-notice">
                    <p>
                        {format!("Deleted {}/{}. Pods no longer reach {} under REGISTRY_ONLY.",
                            deleted.namespace, deleted.name, deleted.hosts.join(", "))}
                    </p>
                    <PostForm action=undo>
                        <input type="hidden" name="namespace" value=deleted.namespace.clone() />
                        <input type="hidden" name="name" value=deleted.name.clone() />
                        <button type="submit" data-testid="undo">"Undo"</button>
                    </PostForm>
                </div>
            }.into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })}
        {move || undo.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
    }
}
