use crate::error::AppError;
use leptos::prelude::*;

/// A plain-words error box: what failed and, when there is one, what to do about it.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let hint = error.hint();
    view! {
        <div class="notice error" role="alert" data-testid="error">
            <p class="notice-title">{error.to_string()}</p>
            {hint.map(|h| view! { <p class="notice-hint">{h}</p> })}
        </div>
    }
}
