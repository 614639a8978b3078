use leptos::prelude::*;

/// A filter box over a list. Typing filters at once (with WASM); without WASM the form sends
/// `?q=` and the page starts from it.
#[component]
pub fn FilterBox(
    /// The input's id.
    id: &'static str,
    /// The label shown before it.
    label: &'static str,
    /// Its test id.
    testid: &'static str,
    /// A hint inside the empty box.
    #[prop(optional)]
    placeholder: &'static str,
    /// What is typed.
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <form method="get" class="filter" on:submit=|ev| ev.prevent_default()>
            <label for=id>{label}</label>
            <input
                id=id
                type="search"
                name="q"
                data-testid=testid
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </form>
    }
}
