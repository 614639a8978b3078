//! A namespace's outbound policy on its page: restrict it alone (or open it again), with a
//! preview of the Sidecar written and the calls it would block, a confirmation, and Undo.

use crate::api::form::FormArgs;
use crate::api::{get_namespace_policy, preview_namespace_policy, SetNamespacePolicy};
use crate::components::shown;
use crate::components::PostForm;
use crate::components::{use_query, DiffView, ErrorNotice, Loading, TrafficNotice};
use crate::domain::restrict::{NamespacePolicy, NamespacePolicyPreview, NamespaceTarget};
use crate::domain::traffic::blocked_line;
use leptos::prelude::*;

/// The namespace's effective policy and the control to change it. `?preview=restricted` (or
/// `allowed`) shows what the change would do, so it works without WASM too.
#[component]
pub fn NamespacePolicyCard(namespace: Signal<String>) -> impl IntoView {
    let set = ServerAction::<FormArgs<SetNamespacePolicy>>::new();
    let policy = Resource::new(
        move || (namespace.get(), set.version().get()),
        |(namespace, _)| get_namespace_policy(namespace),
    );
    let query = use_query();
    let asked = move || query("preview");
    let window = move || query("window").unwrap_or_default();
    let preview = Resource::new(
        move || (namespace.get(), asked(), window(), set.version().get()),
        |(namespace, asked, window, _)| async move {
            match asked {
                Some(mode) => Some(preview_namespace_policy(namespace, mode, window).await),
                None => None,
            }
        },
    );
    view! {
        <section class="card" data-testid="namespace-policy">
            <h2>"Outbound policy of this namespace"</h2>
            <Loading>
                {move || policy.get().map(|result| shown(result.map(|policy| {
                    // A preview of what the page offers now (not of a change already made).
                    let shown = preview
                        .get()
                        .flatten()
                        .filter(|p| p.as_ref().map_or(true, |p| p.target == policy.offered));
                    view! { <PolicyState policy set preview=shown /> }
                })))}
            </Loading>
            <SwitchedNotice set />
        </section>
    }
}

#[component]
fn PolicyState(
    policy: NamespacePolicy,
    set: ServerAction<FormArgs<SetNamespacePolicy>>,
    preview: Option<Result<NamespacePolicyPreview, crate::error::AppError>>,
) -> impl IntoView {
    let restricted = policy.restricted();
    let (badge, what) = match &policy.effective {
        Some(e) => (
            if restricted {
                "badge restricted"
            } else {
                "badge allowed"
            },
            format!("{} — {}", e.mode, e.reason()),
        ),
        None => (
            "badge",
            "unknown: the mesh-wide policy is hidden from you".to_string(),
        ),
    };
    let offered = policy.offered;
    let link = match offered {
        NamespaceTarget::Restricted => "Restrict this namespace (REGISTRY_ONLY)…",
        NamespaceTarget::Allowed if policy.recorded => {
            "Lift the restriction (put its Sidecar back as it was)…"
        }
        NamespaceTarget::Allowed => "Allow any external host here (ALLOW_ANY)…",
    };
    let href = format!(
        "/namespaces/{}?preview={}",
        policy.namespace,
        offered.word()
    );
    view! {
        <p>
            <span class=badge data-testid="namespace-mode">{what}</span>
        </p>
        {(!policy.injection).then(|| view! {
            <p class="muted small" data-testid="namespace-no-injection">
                "Sidecar injection is not enabled by label here: the policy applies only to pods that have a sidecar."
            </p>
        })}
        {policy.recorded.then(|| view! {
            <p class="muted small" data-testid="namespace-recorded">
                "mesh-egress changed this namespace's Sidecar; lifting the restriction puts it back as it was."
            </p>
        })}
        {match policy.access.reason() {
            None => view! {
                <p><a href=href data-testid="namespace-preview-link">{link}</a></p>
                {preview.map(|preview| match preview {
                    Ok(preview) => view! { <PreviewAndConfirm preview set /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            }.into_any(),
            Some(reason) => view! {
                <p class="notice warn small" data-testid="namespace-switch-disabled">
                    "Changing it is disabled: " {reason.to_string()}
                </p>
            }.into_any(),
        }}
    }
}

/// The preview (what is written, what it would block) and the confirmed form.
#[component]
fn PreviewAndConfirm(
    preview: NamespacePolicyPreview,
    set: ServerAction<FormArgs<SetNamespacePolicy>>,
) -> impl IntoView {
    let pending = set.pending();
    let button = match preview.target {
        NamespaceTarget::Restricted => format!("Restrict {}", preview.namespace),
        NamespaceTarget::Allowed => format!("Allow any host in {}", preview.namespace),
    };
    let summary = preview.summary();
    view! {
        <div class="preview" data-testid="namespace-preview">
            <p data-testid="namespace-preview-summary"><strong>{summary.clone()}</strong></p>
            {(preview.target == NamespaceTarget::Restricted).then(|| view! {
                <TrafficNotice status=preview.status.clone() />
            })}
            {(!preview.blocked.is_empty()).then(|| view! {
                <ul class="blocked" data-testid="namespace-preview-blocked">
                    {preview.blocked.iter().map(|call| view! { <li>{blocked_line(call)}</li> }).collect_view()}
                </ul>
            })}
            {(!preview.lines.is_empty()).then(|| view! {
                <DiffView lines=preview.lines.clone() testid="namespace-preview-diff" />
            })}
            {preview.change.is_some().then(|| view! {
                <PostForm action=set attr:class="switch" attr:data-testid="namespace-switch-form">
                    <input type="hidden" name="namespace" value=preview.namespace.clone() />
                    <input type="hidden" name="mode" value=preview.target.word() />
                    <label class="confirm">
                        // No name: the confirmation is checked by the browser, never sent.
                        <input type="checkbox" required data-testid="namespace-confirm" />
                        {format!(" I understand: {summary}")}
                    </label>
                    <button type="submit" data-testid="namespace-switch" disabled=move || pending.get()>
                        {button.clone()}
                    </button>
                </PostForm>
            })}
        </div>
    }
}

/// What the last change did, with Undo (the opposite change, which puts the Sidecar back).
#[component]
fn SwitchedNotice(set: ServerAction<FormArgs<SetNamespacePolicy>>) -> impl IntoView {
    move || {
        set.value().get().map(|result| match result {
            Ok(policy) => {
                let now = policy
                    .effective
                    .as_ref()
                    .map(|e| format!("{} ({})", e.mode, e.reason()))
                    .unwrap_or_else(|| "changed".into());
                view! {
                    <div class="notice" role="status" data-testid="namespace-switched">
                        <p>{format!("{} is now {now}.", policy.namespace)}</p>
                        <PostForm action=set>
                            <input type="hidden" name="namespace" value=policy.namespace.clone() />
                            <input type="hidden" name="mode" value=policy.offered.word() />
                            <button type="submit" data-testid="namespace-undo">"Undo"</button>
                        </PostForm>
                    </div>
                }
                .into_any()
            }
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })
    }
}
