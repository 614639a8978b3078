use crate::api::form::FormArgs;
use crate::api::{session_info, SignIn};
use crate::components::ErrorNotice;
use crate::components::PostForm;
use crate::components::{provide_page, PageUrl};
use crate::domain::access::SessionMode;
use leptos::prelude::*;

/// `/login`: sign in with a Kubernetes bearer token (shared mode). The token is checked by
/// the API server and kept only in an encrypted, HttpOnly session cookie.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! { <LoginIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn LoginIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let sign_in = ServerAction::<FormArgs<SignIn>>::new();
    let session = Resource::new(|| (), |_| session_info());
    view! {
        <h1>"Sign in"</h1>
        <Transition fallback=|| ()>
            {move || session.get().map(|s| match s {
                Ok(s) if s.mode == SessionMode::Local => view! {
                    <p class="notice warn" data-testid="local-mode">
                        "This dashboard runs in local mode: it acts as your kubeconfig's identity"
                        {s.user.map(|u| format!(" ({u})"))}
                        ", so there is nothing to sign in to."
                    </p>
                }.into_any(),
                Ok(s) if s.mode == SessionMode::Proxy => view! {
                    <p class="notice warn">"Sign-in is handled by the proxy in front of this dashboard."</p>
                }.into_any(),
                _ => ().into_any(),
            })}
        </Transition>
        <section class="card">
            <PostForm action=sign_in attr:data-testid="login-form">
                <label class="field">
                    <span>"Kubernetes bearer token"</span>
                    <input type="password" name="token" autocomplete="off" required data-testid="login-token" />
                </label>
                <p class="muted small">
                    "For example "<code>"kubectl create token NAME"</code>
                    ". Everything you do here is done with this identity, and the API server decides what it may do."
                </p>
                <button type="submit" data-testid="login-submit">"Sign in"</button>
            </PostForm>
            {move || sign_in.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
        </section>
    }
}
