use crate::api::get_service_entry;
use crate::components::{FindingList, Live, Loading};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// `/namespaces/:namespace/serviceentries/:name`: every field, conditions, validation, YAML.
#[component]
pub fn ServiceEntryPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    };
    let live = expect_context::<Live>();
    let detail = Resource::new(
        move || (key(), live.generation()),
        |((namespace, name), _)| get_service_entry(namespace, name),
    );
    view! {
        <Loading>
            {move || detail.get().map(|result| result.map(|detail| {
                    let view = detail.view.clone();
                    let download = format!(
                        "data:application/yaml;charset=utf-8,{}",
                        percent_encode(&detail.yaml)
                    );
                    view! {
                        <h1>{format!("{}/{}", view.namespace, view.name)}</h1>
                        <section class="card">
                            <dl class="fields">
                                <dt>"Hosts"</dt><dd data-testid="detail-hosts">{view.hosts.join(", ")}</dd>
                                <dt>"Ports"</dt><dd>{view.ports.iter().map(|p| p.label()).collect::<Vec<_>>().join(", ")}</dd>
                                <dt>"Resolution"</dt><dd>{view.resolution.clone()}</dd>
                                <dt>"Location"</dt><dd>{view.location.clone()}</dd>
                                <dt>"Addresses"</dt><dd>{view.addresses.join(", ")}</dd>
                                <dt>"Export to"</dt><dd>{if view.export_to.is_empty() { "all namespaces".to_string() } else { view.export_to.join(", ") }}</dd>
                                <dt>"Endpoints"</dt><dd>{view.endpoints}</dd>
                                <dt>"Conditions"</dt><dd>{if detail.conditions.is_empty() { "none reported".to_string() } else { detail.conditions.join("; ") }}</dd>
                            </dl>
                        </section>
                        <section class="card">
                            <h2>"Validation"</h2>
                            {if detail.findings.is_empty() {
                                view! { <p data-testid="detail-valid">"Valid: istiod accepts it and no lint rule fires."</p> }.into_any()
                            } else {
                                view! { <FindingList findings=detail.findings.clone() /> }.into_any()
                            }}
                        </section>
                        <section class="card">
                            <h2>"YAML"</h2>
                            <p>
                                <CopyButton text=detail.yaml.clone() />
                                " "
                                <a href=download download=format!("{}.yaml", view.name) data-testid="download-yaml">"Download"</a>
                            </p>
                            <pre class="yaml" data-testid="detail-yaml">{detail.yaml.clone()}</pre>
                        </section>
                    }
            }))}
        </Loading>
    }
}

/// What became of the last copy.
// NB: only the browser build copies; the server renders the idle state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// Copies `text` to the clipboard (needs WASM; the YAML stays selectable without it). Says
/// "Copied" only when the browser confirms the write.
#[component]
fn CopyButton(text: String) -> impl IntoView {
    let state = RwSignal::new(CopyState::Idle);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let promise = window().navigator().clipboard().write_text(&text);
            leptos::task::spawn_local(async move {
                let written = wasm_bindgen_futures::JsFuture::from(promise).await;
                state.set(if written.is_ok() {
                    CopyState::Copied
                } else {
                    CopyState::Failed
                });
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" data-testid="copy-yaml" on:click=on_click>
            {move || match state.get() {
                CopyState::Idle => "Copy YAML",
                CopyState::Copied => "Copied",
                CopyState::Failed => "Copy failed: select the YAML below",
            }}
        </button>
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
