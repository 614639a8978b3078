use super::PostForm;
use crate::api::form::FormArgs;
use crate::api::{session_info, SignOut};
use crate::domain::access::SessionMode;
use leptos::prelude::*;

/// Who the dashboard acts as, in the header; sign-out in token mode.
#[component]
pub fn SessionBadge() -> impl IntoView {
    let sign_out = ServerAction::<FormArgs<SignOut>>::new();
    // Asked again on every navigation: signing in or out happens on other pages, and the
    // client-side router does not reload the header.
    let location = leptos_router::hooks::use_location();
    let session = Resource::new(
        move || (sign_out.version().get(), location.pathname.get()),
        |_| session_info(),
    );
    view! {
        <span class="session" data-testid="session">
            <Transition fallback=|| ()>
                {move || session.get().and_then(Result::ok).map(|s| match (s.mode, s.user) {
                    (SessionMode::Token, Some(user)) => view! {
                        "Signed in as " <strong data-testid="session-user">{user}</strong>
                        <PostForm action=sign_out attr:class="inline">
                            <button type="submit" class="link" data-testid="sign-out">"Sign out"</button>
                        </PostForm>
                    }.into_any(),
                    (SessionMode::Token, None) => view! { <a href="/login" data-testid="sign-in">"Sign in"</a> }.into_any(),
                    (mode, Some(user)) => view! {
                        "Acting as " <strong data-testid="session-user">{user}</strong>
                        {format!(" ({} mode)", mode.name())}
                    }.into_any(),
                    (_, None) => ().into_any(),
                })}
            </Transition>
        </span>
    }
}
