use crate::api::form::FormArgs;
use crate::api::{get_service_entry, CreateServiceEntry, CreateServiceEntryForm};
use crate::components::shown;
use crate::components::PostForm;
use crate::components::{
    focus_first_error, provide_page, query_value, EntryFields, ErrorNotice, Loading, PageUrl,
};
use crate::domain::form::ServiceEntryForm;
use crate::error::AppError;
use leptos::prelude::*;

/// `/new`: register an external service, from a form (checked as you type, by the same rules
/// compiled to WASM) or by pasting YAML. Either way: validation, a server-side dry run, then
/// the write. `?duplicate=NS/NAME` fills the form in from that entry (for another namespace).
#[component]
pub fn CreatePage() -> impl IntoView {
    let url = StoredValue::new(PageUrl::current());
    let duplicate = query_value("duplicate");
    let source = Resource::new(
        move || duplicate.clone(),
        |duplicate| async move {
            let Some((namespace, name)) = duplicate.as_deref().and_then(|d| d.split_once('/'))
            else {
                return Ok(None);
            };
            let detail = get_service_entry(namespace.to_string(), name.to_string()).await?;
            Ok::<_, AppError>(Some(detail.form))
        },
    );
    view! {
        <Loading>
            {move || source.get().map(|result| shown(result.map(|copy| view! { <CreateForms copy url=url.get_value() /> })))}
        </Loading>
    }
}

/// The create form and the YAML box, the form filled in from `copy` (a duplicated entry) when
/// given: everything but the namespace, which the user picks. The page's island (its code is
/// a WASM chunk of its own), given what the server read.
#[island(lazy)]
fn CreateForms(copy: Option<Result<ServiceEntryForm, String>>, url: PageUrl) -> impl IntoView {
    provide_page(url);
    let namespace = query_value("namespace").unwrap_or_default();
    // "Allow this host" on the traffic pages links here with the host, port and protocol seen.
    let prefill = query_value("host").map(|host| {
        let get = |k: &str| query_value(k).unwrap_or_default();
        ServiceEntryForm::for_host(&host, &get("port"), &get("protocol"), &namespace)
    });
    let (copied, not_copied) = match copy {
        Some(Ok(form)) => (
            Some(ServiceEntryForm {
                namespace: namespace.clone(),
                ..form
            }),
            None,
        ),
        Some(Err(why)) => (None, Some(why)),
        None => (None, None),
    };
    let form = RwSignal::new(copied.or(prefill).unwrap_or_else(|| ServiceEntryForm {
        namespace: namespace.clone(),
        resolution: "DNS".into(),
        location: "MESH_EXTERNAL".into(),
        ..Default::default()
    }));
    let touched = RwSignal::new(false);
    let create_form = ServerAction::<FormArgs<CreateServiceEntryForm>>::new();
    let create_yaml = ServerAction::<FormArgs<CreateServiceEntry>>::new();
    // The answer to whichever form was sent last (each action's value stays set after it).
    let latest = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(result) = create_form.value().get() {
            if let Err(AppError::Rejected { findings }) = &result {
                focus_first_error(findings);
            }
            latest.set(Some(result));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = create_yaml.value().get() {
            latest.set(Some(result));
        }
    });
    let created = move || {
        latest.get().map(|result| match result {
            Ok(view) => view! {
                <div class="notice ok" data-testid="created">
                    "Created "
                    <a href=format!("/namespaces/{}/serviceentries/{}", view.namespace, view.name)>
                        {format!("{}/{}", view.namespace, view.name)}
                    </a>
                    "."
                </div>
            }
            .into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })
    };
    view! {
        <h1>"Register an external service"</h1>
        {not_copied.map(|why| view! { <p class="notice warn" data-testid="not-copied">"Not filled in: " {why}</p> })}
        {created}
        <section class="card">
            <h2>"Form"</h2>
            <PostForm action=create_form attr:class="create-form" attr:data-testid="create-form">
                <EntryFields form touched />
                <button type="submit" data-testid="create-submit">"Create"</button>
            </PostForm>
        </section>
        <section class="card">
            <h2>"Paste YAML"</h2>
            <PostForm action=create_yaml attr:data-testid="yaml-form">
                <input type="hidden" name="namespace" value=namespace />
                <textarea name="manifest" rows="14" class="yaml" data-testid="yaml-input"
                    placeholder="apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n..."></textarea>
                <button type="submit" data-testid="yaml-submit">"Create from YAML"</button>
            </PostForm>
        </section>
    }
}
