//! A form that posts to a server function: a plain HTML form post before WASM loads (or
//! without it), the action dispatched in the browser once hydrated.
//!
//! NB: leptos's `ActionForm` takes only server functions read by its own form reader
//! (`PostUrl`); ours read their fields through `api::form` (each refusal names its field), so
//! this is `ActionForm` for them, doing the same in the browser.

use crate::api::form::FormArgs;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `<form action=/api/… method=post>` around `children`, dispatching `action` on submit.
#[component]
pub fn PostForm<T>(
    /// The server function's action.
    action: ServerAction<FormArgs<T>>,
    /// The form's fields and buttons.
    children: Children,
) -> impl IntoView
where
    FormArgs<T>: ServerFn<Error = AppError> + serde::de::DeserializeOwned + Clone + Send + Sync,
    <FormArgs<T> as ServerFn>::Output: Send + Sync,
    T: Send + Sync + 'static,
{
    #[cfg(feature = "hydrate")]
    let submit = move |ev: leptos::ev::SubmitEvent| browser::submit(&ev, action);
    #[cfg(not(feature = "hydrate"))]
    let submit = move |_: leptos::ev::SubmitEvent| {
        let _ = action;
    };
    let url = <FormArgs<T> as ServerFn>::url();
    view! {
        <form action=url method="post" on:submit=submit>
            {children()}
        </form>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use leptos::form::FromFormData;

    /// Reads the submitted form into the server function's fields and dispatches it.
    pub fn submit<T>(ev: &leptos::ev::SubmitEvent, action: ServerAction<FormArgs<T>>)
    where
        FormArgs<T>: ServerFn<Error = AppError> + serde::de::DeserializeOwned + Clone + Send + Sync,
        <FormArgs<T> as ServerFn>::Output: Send + Sync,
        T: Send + Sync + 'static,
    {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        // A server function's redirect (sign-in, sign-out) loads the page it names.
        let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
            let _ = window().location().set_href(location);
        });
        match FormArgs::<T>::from_event(ev) {
            Ok(input) => {
                action.dispatch(input);
            }
            Err(_) => {
                action.value().set(Some(Err(AppError::Request {
                    message: "the form's fields could not be read".into(),
                })));
                action.version().update(|n| *n += 1);
            }
        }
    }
}
