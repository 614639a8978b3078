use super::ErrorNotice;
use crate::error::AppError;
use leptos::prelude::*;

/// What every page that loads from the cluster wraps its data in: a loading note while the
/// first answer is on its way (the last answer stays while a new one loads), and the error
/// notice when an answer is an error. Children return `Option<Result<_, AppError>>`.
#[component]
pub fn Loading(
    /// What shows before the first answer.
    #[prop(optional, into)]
    fallback: Option<ViewFn>,
    /// The data.
    children: ChildrenFn,
) -> impl IntoView {
    let fallback =
        fallback.unwrap_or_else(|| ViewFn::from(|| view! { <p class="loading">"Loading…"</p> }));
    view! {
        <Transition fallback=move || fallback.run()>
            <ErrorBoundary fallback=|errors| view! { <Errors errors /> }>{children()}</ErrorBoundary>
        </Transition>
    }
}

/// The errors an `<ErrorBoundary>` caught, each as an [`ErrorNotice`].
#[component]
fn Errors(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| {
                let error = error
                    .downcast_ref::<AppError>()
                    .cloned()
                    .unwrap_or_else(|| AppError::Request {
                        message: error.to_string(),
                    });
                view! { <ErrorNotice error /> }
            })
            .collect_view()
    }
}
