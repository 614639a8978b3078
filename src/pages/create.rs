use crate::api::{CreateServiceEntry, CreateServiceEntryForm};
use crate::components::{ErrorNotice, FindingList};
use crate::domain::form::{form_field, ServiceEntryForm};
use crate::domain::validation::{Finding, LOCATIONS, PROTOCOLS, RESOLUTIONS};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/new`: register an external service, from a form (checked as you type, by the same rules
/// compiled to WASM) or by pasting YAML. Either way: validation, a server-side dry run, then
/// the write.
#[component]
pub fn CreatePage() -> impl IntoView {
    let query = use_query_map();
    let namespace = query.get_untracked().get("namespace").unwrap_or_default();
    let form = RwSignal::new(ServiceEntryForm {
        namespace: namespace.clone(),
        resolution: "DNS".into(),
        location: "MESH_EXTERNAL".into(),
        ..Default::default()
    });
    let touched = RwSignal::new(false);
    let findings = Memo::new(move |_| form.with(ServiceEntryForm::findings));
    let create_form = ServerAction::<CreateServiceEntryForm>::new();
    let create_yaml = ServerAction::<CreateServiceEntry>::new();
    let field_errors = move |field: &'static str| {
        move || {
            if !touched.get() {
                return None;
            }
            let here: Vec<Finding> = findings
                .get()
                .into_iter()
                .filter(|f| form_field(&f.field) == field)
                .collect();
            (!here.is_empty()).then(|| view! { <FindingList findings=here /> })
        }
    };
    let text_input = move |field: &'static str,
                           label: &'static str,
                           value: fn(&ServiceEntryForm) -> String,
                           set: fn(&mut ServiceEntryForm, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type="text"
                    name=format!("form[{field}]")
                    data-testid=format!("form-{field}")
                    prop:value=move || form.with(value)
                    on:input=move |ev| {
                        touched.set(true);
                        form.update(|f| set(f, event_target_value(&ev)));
                    }
                />
                <span data-testid=format!("form-errors-{field}")>{field_errors(field)}</span>
            </label>
        }
        .into_any()
    };
    let text_area = move |field: &'static str,
                          label: &'static str,
                          hint: &'static str,
                          value: fn(&ServiceEntryForm) -> String,
                          set: fn(&mut ServiceEntryForm, String)| {
        view! {
            <label class="field">
                <span>{label} " " <small class="muted">{hint}</small></span>
                <textarea
                    name=format!("form[{field}]")
                    data-testid=format!("form-{field}")
                    rows="3"
                    prop:value=move || form.with(value)
                    on:input=move |ev| {
                        touched.set(true);
                        form.update(|f| set(f, event_target_value(&ev)));
                    }
                ></textarea>
                <span data-testid=format!("form-errors-{field}")>{field_errors(field)}</span>
            </label>
        }
        .into_any()
    };
    let select = move |field: &'static str,
                       label: &'static str,
                       options: &'static [&'static str],
                       value: fn(&ServiceEntryForm) -> String,
                       set: fn(&mut ServiceEntryForm, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <select
                    name=format!("form[{field}]")
                    data-testid=format!("form-{field}")
                    on:change=move |ev| {
                        touched.set(true);
                        form.update(|f| set(f, event_target_value(&ev)));
                    }
                >
                    {options.iter().map(|o| {
                        let o = *o;
                        view! { <option value=o selected=move || form.with(value) == o>{o}</option> }
                    }).collect_view()}
                </select>
                <span data-testid=format!("form-errors-{field}")>{field_errors(field)}</span>
            </label>
        }
        .into_any()
    };
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
                {text_input("name", "Name", |f| f.name.clone(), |f, v| f.name = v)}
                {text_input("namespace", "Namespace", |f| f.namespace.clone(), |f, v| f.namespace = v)}
                {text_area("hosts", "Hosts", "one per line", |f| f.hosts.clone(), |f, v| f.hosts = v)}
                {text_area("ports", "Ports", "one per line: NUMBER NAME PROTOCOL [TARGET_PORT]", |f| f.ports.clone(), |f, v| f.ports = v)}
                <p class="muted small">"Protocols: " {PROTOCOLS.join(", ")} ". HTTPS, TLS and TCP are opaque to the mesh: it sees only TCP-level traffic."</p>
                {select("resolution", "Resolution", RESOLUTIONS, |f| f.resolution.clone(), |f, v| f.resolution = v)}
                {select("location", "Location", LOCATIONS, |f| f.location.clone(), |f, v| f.location = v)}
                {text_area("addresses", "Addresses", "optional, one per line", |f| f.addresses.clone(), |f, v| f.addresses = v)}
                {text_area("endpoints", "Endpoints", "optional, one per line: ADDRESS [PORT_NAME=PORT] [network=N] [locality=L] [weight=W] [label:KEY=VALUE]", |f| f.endpoints.clone(), |f, v| f.endpoints = v)}
                {text_area("export_to", "Export to", "optional: namespaces, . or *", |f| f.export_to.clone(), |f, v| f.export_to = v)}
                {text_area("subject_alt_names", "Subject alt names", "optional", |f| f.subject_alt_names.clone(), |f, v| f.subject_alt_names = v)}
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
