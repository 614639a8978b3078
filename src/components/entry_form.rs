//! The fields of a ServiceEntry form (create and edit): each with its label, checked as the
//! user types by the same rules compiled to WASM, errors at their field.

use super::textarea_text;
use super::FindingList;
use crate::api::writable_namespaces;
use crate::domain::form::{form_field, ServiceEntryForm};
use crate::domain::validation::{Finding, LOCATIONS, PROTOCOLS, RESOLUTIONS};
use leptos::prelude::*;

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

/// The id of a form field's control (what its label points at, and what gets the focus when
/// it holds the first error).
pub fn field_id(name: &str) -> String {
    format!("field-{name}")
}

/// Moves the focus to the field of the first error among `findings` (in the browser; a
/// finding of no form field, such as one of a manifest, moves nothing).
pub fn focus_first_error(findings: &[Finding]) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let first = findings
            .iter()
            .find(|f| f.severity == crate::domain::validation::Severity::Error);
        let element =
            first.and_then(|f| document().get_element_by_id(&field_id(form_field(&f.field))));
        if let Some(Ok(element)) = element.map(|e| e.dyn_into::<web_sys::HtmlElement>()) {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = findings;
}

/// The id of the list of namespaces the namespace field offers.
const NAMESPACE_CHOICES: &str = "writable-namespaces";

/// The form's fields, named `form[FIELD]` for the server function; `fixed_identity` makes
/// the name and namespace read-only (an edit keeps them).
#[component]
pub fn EntryFields(
    form: RwSignal<ServiceEntryForm>,
    touched: RwSignal<bool>,
    #[prop(optional)] fixed_identity: bool,
) -> impl IntoView {
    let findings = Memo::new(move |_| form.with(ServiceEntryForm::findings));
    // The namespace picker: where the user may register entries (typing a new one still works).
    let writable = Resource::new(|| (), |_| writable_namespaces());
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
        // The label names the control by `for`; the hint and the errors describe it.
        let id = field_id(name);
        let described = format!("hint-{name} errors-{name}");
        let invalid = move || {
            touched.get() && findings.with(|f| f.iter().any(|f| form_field(&f.field) == name))
        };
        let (control, hint) = match widget {
            Widget::Line => (
                view! {
                    <input type="text" name=input_name data-testid=testid id=id
                        aria-describedby=described aria-invalid=move || invalid().to_string()
                        readonly=fixed_identity && matches!(name, "name" | "namespace")
                        list=(name == "namespace" && !fixed_identity).then_some(NAMESPACE_CHOICES)
                        value=form.with_untracked(value)
                        prop:value=move || form.with(value) on:input=edit />
                }
                .into_any(),
                None,
            ),
            Widget::Lines(hint) => (
                view! {
                    <textarea name=input_name data-testid=testid rows="3" id=id
                        aria-describedby=described aria-invalid=move || invalid().to_string()
                        prop:value=move || form.with(value) on:input=edit>
                        // The text as the server renders it (without WASM).
                        {textarea_text(form.with_untracked(value))}
                    </textarea>
                }
                .into_any(),
                Some(hint),
            ),
            Widget::Choice(options) => (
                view! {
                    <select name=input_name data-testid=testid id=id on:change=edit
                        aria-describedby=described>
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
            <div class="field">
                <label for=field_id(name)>{label}</label>
                " "
                <small class="muted" id=format!("hint-{name}")>{hint}</small>
                {control}
                // Announced as they change.
                <span id=format!("errors-{name}") aria-live="polite" data-testid=format!("form-errors-{name}")>
                    {field_errors(name)}
                </span>
            </div>
        }
        .into_any()
    };
    view! {
        <Transition fallback=|| ()>
            {move || writable.get().and_then(Result::ok).map(|namespaces| view! {
                <datalist id=NAMESPACE_CHOICES>
                    {namespaces.into_iter().map(|n| view! { <option value=n></option> }).collect_view()}
                </datalist>
            })}
        </Transition>
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
    }
}
