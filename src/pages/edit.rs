use crate::api::form::FormArgs;
use crate::api::{get_service_entry, PreviewServiceEntryEdit, SaveServiceEntryEdit};
use crate::components::shown;
use crate::components::textarea_text;
use crate::components::PostForm;
use crate::components::{
    focus_first_error, use_entry_key, DiffView, EntryFields, ErrorNotice, FindingList, Loading,
};
use crate::domain::edit::EditPreview;
use crate::domain::form::ServiceEntryForm;
use crate::domain::service_entry::ServiceEntryDetail;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `/namespaces/:namespace/serviceentries/:name/edit`: change an entry in place, with the form
/// or as YAML; a diff (judged by istiod, nothing written) before saving.
#[component]
pub fn EditPage() -> impl IntoView {
    let key = use_entry_key();
    // NB: read once, not on every live change: what the user types is not reset under them.
    let detail = Resource::new(key, |(namespace, name)| get_service_entry(namespace, name));
    view! {
        <Loading>
            {move || detail.get().map(|result| shown(result.map(|detail| view! { <EditForms detail /> })))}
        </Loading>
    }
}

/// The edit form and YAML editor of one entry, the preview and the save: the page's island
/// (its code is a WASM chunk of its own), given the entry the server read.
#[island(lazy)]
fn EditForms(detail: ServiceEntryDetail) -> impl IntoView {
    let namespace = detail.view.namespace.clone();
    let name = detail.view.name.clone();
    let opened_at = detail
        .view
        .seen
        .as_ref()
        .map(|s| s.resource_version.clone())
        .unwrap_or_default();
    let page = format!("/namespaces/{namespace}/serviceentries/{name}");
    let form = RwSignal::new(detail.form.clone().unwrap_or_default());
    let touched = RwSignal::new(false);
    let preview = ServerAction::<FormArgs<PreviewServiceEntryEdit>>::new();
    let save = ServerAction::<FormArgs<SaveServiceEntryEdit>>::new();
    // What was last sent for preview: the save sends the same edit.
    let previewed = RwSignal::new(None::<PreviewServiceEntryEdit>);
    Effect::new(move |_| {
        if let Some(FormArgs(input)) = preview.input().get() {
            previewed.set(Some(input));
        }
    });
    Effect::new(move |_| {
        if let Some(Err(AppError::Rejected { findings })) = preview.value().get() {
            focus_first_error(&findings);
        }
    });
    let hidden_key = {
        let (namespace, name, opened_at) = (namespace.clone(), name.clone(), opened_at.clone());
        move || {
            view! {
                <input type="hidden" name="namespace" value=namespace.clone() />
                <input type="hidden" name="name" value=name.clone() />
                <input type="hidden" name="opened_at" value=opened_at.clone() />
                // Without WASM there is no preview: the save carries the version opened.
                <input type="hidden" name="resource_version" value=opened_at.clone() />
            }
        }
    };
    let form_key = hidden_key.clone();
    let form_section = match detail.form.clone() {
        Ok(_) => view! {
            <PostForm action=preview attr:class="create-form" attr:data-testid="edit-form">
                {form_key()}
                <EntryFields form touched fixed_identity=true />
                <button type="submit" data-testid="edit-preview">"Preview changes"</button>
                <NoScriptSave />
            </PostForm>
        }
        .into_any(),
        Err(why) => view! { <p class="muted" data-testid="form-unavailable">{why}</p> }.into_any(),
    };
    let saved_page = page.clone();
    view! {
        <h1>"Edit " <a href=page.clone()>{format!("{namespace}/{name}")}</a></h1>
        {move || save.value().get().map(|result| match result {
            Ok(view) => view! {
                <div class="notice ok" role="status" data-testid="saved">
                    "Saved "
                    <a href=saved_page.clone()>{format!("{}/{}", view.namespace, view.name)}</a>
                    ": hosts " {view.hosts.join(", ")} ", ports "
                    {view.ports.iter().map(|p| p.label()).collect::<Vec<_>>().join(", ")} "."
                </div>
            }.into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })}
        {move || preview.value().get().map(|result| match result {
            Ok(diff) => view! { <PreviewCard diff previewed save /> }.into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })}
        <section class="card">
            <h2>"Form"</h2>
            <p class="muted small">"Labels, annotations and fields the form does not show are kept as they are."</p>
            {form_section}
        </section>
        <section class="card">
            <h2>"YAML"</h2>
            <PostForm action=preview attr:data-testid="edit-yaml-form">
                {hidden_key()}
                <textarea name="manifest" rows="16" class="yaml" data-testid="edit-yaml"
                    aria-label="YAML">{textarea_text(detail.yaml.clone())}</textarea>
                <button type="submit" data-testid="edit-yaml-preview">"Preview changes"</button>
                <NoScriptSave />
            </PostForm>
        </section>
    }
}

/// Without WASM the preview cannot be shown: a button that saves the edit directly (against
/// the version the page was opened at, so a change made meanwhile is still not overwritten).
#[component]
fn NoScriptSave() -> impl IntoView {
    let save_url = FormArgs::<SaveServiceEntryEdit>::url();
    view! {
        <noscript>
            " "
            <button type="submit" formaction=save_url data-testid="edit-save-direct">
                "Save without a preview"
            </button>
        </noscript>
    }
}

/// The diff of a previewed edit, and the button that saves exactly that edit.
#[component]
fn PreviewCard(
    diff: EditPreview,
    previewed: RwSignal<Option<PreviewServiceEntryEdit>>,
    save: ServerAction<FormArgs<SaveServiceEntryEdit>>,
) -> impl IntoView {
    let nothing = diff.changes.is_empty();
    let edit = previewed.get_untracked();
    view! {
        <section class="card" data-testid="edit-diff">
            <h2>"What will change"</h2>
            {diff.changed_since_opened.then(|| view! {
                <div class="notice warn" role="status" data-testid="changed-since-opened">
                    "This entry changed since you opened it: the diff below is against its current version."
                </div>
            })}
            {nothing.then(|| view! { <p data-testid="no-changes">"Nothing changes."</p> })}
            <ul class="changes">
                {diff.changes.iter().map(|c| view! {
                    <li data-testid="change">
                        <code>{c.path.clone()}</code> ": "
                        {c.before.clone().unwrap_or_else(|| "(none)".into())} " → "
                        {c.after.clone().unwrap_or_else(|| "(none)".into())}
                    </li>
                }).collect_view()}
            </ul>
            {(!diff.warnings.is_empty()).then(|| view! { <FindingList findings=diff.warnings.clone() /> })}
            <DiffView lines=diff.lines.clone() testid="diff-yaml" />
            <PostForm action=save attr:data-testid="save-form">
                <input type="hidden" name="namespace" value=diff.namespace.clone() />
                <input type="hidden" name="name" value=diff.name.clone() />
                <input type="hidden" name="resource_version" value=diff.resource_version.clone() />
                {edit.map(|edit| hidden_edit(edit.form, edit.manifest))}
                <button type="submit" data-testid="edit-save" disabled=nothing>"Save"</button>
            </PostForm>
        </section>
    }
}

/// The previewed edit again, as hidden fields of the save form (the form's fields as the
/// server function reads them: `form[FIELD]`).
fn hidden_edit(form: Option<ServiceEntryForm>, manifest: Option<String>) -> AnyView {
    match (form, manifest) {
        (Some(form), _) => {
            let fields = match serde_json::to_value(form) {
                Ok(serde_json::Value::Object(fields)) => fields,
                _ => Default::default(),
            };
            fields
                .into_iter()
                .map(|(field, value)| {
                    let value = value.as_str().unwrap_or_default().to_string();
                    view! { <input type="hidden" name=format!("form[{field}]") value=value /> }
                })
                .collect_view()
                .into_any()
        }
        (None, Some(manifest)) => view! {
            <textarea name="manifest" hidden>{textarea_text(manifest)}</textarea>
        }
        .into_any(),
        (None, None) => ().into_any(),
    }
}
