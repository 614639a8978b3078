use crate::api::{CreateServiceEntry, CreateServiceEntryForm};
use crate::components::{ErrorNotice, FindingList};
use crate::domain::form::{form_field, ServiceEntryForm};
use crate::domain::validation::{Finding, LOCATIONS, PROTOCOLS, RESOLUTIONS};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// How a form field is edited.
#[derive(Clone, Copy)]
enum Widget {
    /// One line of text.
    Line,
    /// Several lines, with a hint on their format.
    Lines(&'static str),
    /// One of a list.
    Choice(&'static [&'static str]),
}

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
    // One builder for every field: the widget differs, the label, errors and updates do not.
    let field = move |name: &'static str,
                      label: &'static str,
                      widget: Widget,
                      value: fn(&ServiceEntryForm) -> String,
                      set: fn(&mut ServiceEntryForm, String)| {
        let edit = move |ev: leptos::ev::Event| {
            touched.set(true);
            form.update(|f| set(f, event_target_value(&ev)));
        };
        let input_name = format!("form[{name}]");
        let testid = format!("form-{name}");
        let (control, hint) = match widget {
            Widget::Line => (
                view! {
                    <input type="text" name=input_name data-testid=testid
                        prop:value=move || form.with(value) on:input=edit />
                }
                .into_any(),
                None,
            ),
            Widget::Lines(hint) => (
                view! {
                    <textarea name=input_name data-testid=testid rows="3"
                        prop:value=move || form.with(value) on:input=edit></textarea>
                }
                .into_any(),
                Some(hint),
            ),
            Widget::Choice(options) => (
                view! {
                    <select name=input_name data-testid=testid on:change=edit>
                        {options.iter().map(|o| {
                            let o = *o;
                            view! { <option value=o selected=move || form.with(value) == o>{o}</option> }
                        }).collect_view()}
                    </select>
                }
                .into_any(),
                None,
            ),
        };
        view! {
            <label class="field">
                <span>{label} {hint.map(|h| view! { " " <small class="muted">{h}</small> })}</span>
                {control}
                <span data-testid=format!("form-errors-{name}")>{field_errors(name)}</span>
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
                {field("name", "Name", Widget::Line, |f| f.name.clone(), |f, v| f.name = v)}
                {field("namespace", "Namespace", Widget::Line, |f| f.namespace.clone(), |f, v| f.namespace = v)}
                {field("hosts", "Hosts", Widget::Lines("one per line"), |f| f.hosts.clone(), |f, v| f.hosts = v)}
                {field("ports", "Ports", Widget::Lines("one per line: NUMBER NAME PROTOCOL [TARGET_PORT]"), |f| f.ports.clone(), |f, v| f.ports = v)}
                <p class="muted small">"Protocols: " {PROTOCOLS.join(", ")} ". HTTPS, TLS and TCP are opaque to the mesh: it sees only TCP-level traffic."</p>
                {field("resolution", "Resolution", Widget::Choice(RESOLUTIONS), |f| f.resolution.clone(), |f, v| f.resolution = v)}
                {field("location", "Location", Widget::Choice(LOCATIONS), |f| f.location.clone(), |f, v| f.location = v)}
                {field("addresses", "Addresses", Widget::Lines("optional, one per line"), |f| f.addresses.clone(), |f, v| f.addresses = v)}
                {field("endpoints", "Endpoints", Widget::Lines("optional, one per line: ADDRESS [PORT_NAME=PORT] [network=N] [locality=L] [weight=W] [label:KEY=VALUE]"), |f| f.endpoints.clone(), |f, v| f.endpoints = v)}
                {field("export_to", "Export to", Widget::Lines("optional: namespaces, . or *"), |f| f.export_to.clone(), |f, v| f.export_to = v)}
                {field("subject_alt_names", "Subject alt names", Widget::Lines("optional"), |f| f.subject_alt_names.clone(), |f, v| f.subject_alt_names = v)}
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
