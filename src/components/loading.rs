use super::ErrorNotice;
use crate::error::AppError;
use leptos::either::Either;
use leptos::prelude::*;

/// What every page that loads from the cluster wraps its data in: a loading note while the
/// first answer is on its way (the last answer stays while a new one loads). Children return
/// `Option<_>` of [`shown`]: the data, or the error notice.
///
/// NB: not an `<ErrorBoundary>`: a page server-rendered in its error state (a bad query
/// parameter, an entry that does not exist) did not hydrate with one (tachys 0.2: the client
/// walked the children's markers where the server had written the fallback, and panicked), so
/// the page lost its islands. An error is a view like the data, the same on both sides.
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
    view! { <Transition fallback=move || fallback.run()>{children()}</Transition> }
}

/// A loaded answer as a view: the data, or its error as an [`ErrorNotice`].
pub fn shown<V: IntoView>(result: Result<V, AppError>) -> Either<V, impl IntoView> {
    match result {
        Ok(view) => Either::Left(view),
        Err(error) => Either::Right(view! { <ErrorNotice error /> }),
    }
}
