use crate::api::{CreateServiceEntry, CreateServiceEntryForm};
use crate::components::{EntryFields, ErrorNotice};
use crate::domain::form::ServiceEntryForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/new`: register an external service, from a form (checked as you type, by the same rules
/// compiled to WASM) or by pasting YAML. Either way: validation, a server-side dry run, then
/// the write.
#[component]
pub fn CreatePage() -> impl IntoView {
    let query = use_query_map();
    let namespace = query.get_untracked().get("namespace").unwrap_or_default();
    // "Allow this host" on the traffic pages links here with the host, port and protocol seen.
    let prefill = query.with_untracked(|q| {
        q.get("host").map(|host| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            ServiceEntryForm::for_host(&host, &get("port"), &get("protocol"), &namespace)
        })
    });
    let form = RwSignal::new(prefill.unwrap_or_else(|| ServiceEntryForm {
        namespace: namespace.clone(),
        resolution: "DNS".into(),
        location: "MESH_EXTERNAL".into(),
        ..Default::default()
    }));
    let touched = RwSignal::new(false);
    let create_form = ServerAction::<CreateServiceEntryForm>::new();
    let create_yaml = ServerAction::<CreateServiceEntry>::new();
    // The answer to whichever form was sent last (each action's value stays set after it).
    let latest = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(result) = create_form.value().get() {
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
        {created}
        <section class="card">
            <h2>"Form"</h2>
            <ActionForm action=create_form attr:class="create-form" attr:data-testid="create-form">
                <EntryFields form touched />
                <button type="submit" data-testid="create-submit">"Create"</button>
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Paste YAML"</h2>
            <ActionForm action=create_yaml attr:data-testid="yaml-form">
                <input type="hidden" name="namespace" value=namespace />
                <textarea name="manifest" rows="14" class="yaml" data-testid="yaml-input"
                    placeholder="apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n..."></textarea>
                <button type="submit" data-testid="yaml-submit">"Create from YAML"</button>
            </ActionForm>
        </section>
    }
}
