use leptos::prelude::*;

/// What became of the last copy.
// NB: only the browser build copies; the server renders the idle state.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// Copies `text` (YAML) to the clipboard (needs WASM; the YAML stays selectable without it). Says
/// "Copied" only when the browser confirms the write.
#[component]
pub fn CopyButton(
    /// What is copied.
    text: String,
    /// The button's test id.
    testid: &'static str,
) -> impl IntoView {
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
        <button type="button" data-testid=testid on:click=on_click>
            {move || match state.get() {
                CopyState::Idle => "Copy YAML",
                CopyState::Copied => "Copied",
                CopyState::Failed => "Copy failed: select the YAML below",
            }}
        </button>
    }
}
