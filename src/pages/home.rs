use crate::api::form::FormArgs;
use crate::api::{get_overview, get_policy_preview, SetOutboundPolicy};
use crate::components::shown;
use crate::components::PostForm;
use crate::components::{
    Column, ErrorNotice, FilterBox, Loading, Table, TelemetryHint, TrafficNotice, WindowLinks,
};
use crate::domain::overview::filter_namespaces;
use crate::domain::traffic::{blocked_line, PolicyPreview};
use crate::domain::{NamespaceSummary, OutboundPolicyMode, Overview, PolicyReport, SourceKind};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/`: the mesh-wide outbound traffic policy and every namespace with its external services.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let control_plane = move || query.with(|q| q.get("cp"));
    let set_policy = ServerAction::<FormArgs<SetOutboundPolicy>>::new();
    // NB: `/` is rendered on the server only (not an island): the switch is a form post that
    // loads the page again, and the live parts are fetched again by `LiveUpdates`.
    let overview = Resource::new(control_plane, get_overview);
    // What a switch to REGISTRY_ONLY would block, from the traffic in the window.
    let preview = Resource::new(
        move || query.with(|q| q.get("window").unwrap_or_default()),
        get_policy_preview,
    );
    // The server filters by `?q=`, so the form works without WASM; with it, the filter box
    // narrows the rows in the browser.
    let filter = StoredValue::new(query.get_untracked().get("q").unwrap_or_default());
    view! {
        <h1>"Outbound traffic"</h1>
        <Loading fallback=|| view! { <p class="loading">"Loading from the cluster…"</p> }>
            {move || overview.get().map(|result| shown(result.map(|overview| {
                let preview = preview.get().and_then(Result::ok);
                view! { <OverviewView overview filter=filter.get_value() set_policy preview /> }
            })))}
        </Loading>
    }
}

#[component]
fn OverviewView(
    overview: Overview,
    filter: String,
    set_policy: ServerAction<FormArgs<SetOutboundPolicy>>,
    preview: Option<PolicyPreview>,
) -> impl IntoView {
    let (entries, namespaces_with_entries) = overview.registered_totals();
    let visible: Vec<NamespaceSummary> = filter_namespaces(&overview.namespaces, &filter)
        .into_iter()
        .cloned()
        .collect();
    let none = visible.is_empty();
    view! {
        <div data-live="policy">
        <PolicyCard
            policy=overview.policy.clone()
            cluster=overview.cluster.clone()
            registered_hosts=overview.registered_hosts
            namespaces_with_entries
            access=overview.policy_access.clone()
            istiod=overview.istiod.clone()
            set_policy
            preview
        />
        </div>
        <section class="card">
            <h2>"Namespaces"</h2>
            <div data-live="namespaces">
            <p class="muted" data-testid="totals">
                {format!(
                    "{entries} external services registered in {namespaces_with_entries} namespaces",
                )}
            </p>
            </div>
            <FilterBox id="ns-filter".to_string() label="Filter by name".to_string() testid="ns-filter".to_string()
                placeholder="namespace".to_string() value=filter table="namespaces".to_string() no_match="no-match".to_string() />
            <div data-live="namespace-rows">
            <Table rows=Signal::stored(visible) columns=namespace_columns() row_id=|ns: &NamespaceSummary| format!("ns-row-{}", ns.name)
                testid="namespaces" filter_key=|ns: &NamespaceSummary| ns.name.clone() />
            <p class="muted" data-testid="no-match" hidden=!none>"No namespace matches the filter."</p>
            </div>
        </section>
    }
}

/// The namespaces list: name, ServiceEntry count, injection, effective policy.
fn namespace_columns() -> Vec<Column<NamespaceSummary>> {
    vec![
        Column::new("Namespace", |ns: &NamespaceSummary| {
            let href = format!("/namespaces/{}", ns.name);
            view! { <a href=href>{ns.name.clone()}</a> }.into_any()
        }),
        Column::new("External services", |ns: &NamespaceSummary| {
            ns.service_entries.into_any()
        })
        .class("num"),
        Column::new("Sidecar injection", |ns: &NamespaceSummary| {
            (if ns.injection { "enabled" } else { "—" }).into_any()
        }),
        Column::new("Effective outbound policy", |ns: &NamespaceSummary| {
            let testid = format!("ns-effective-{}", ns.name);
            match ns.effective.clone() {
                Some(effective) => view! {
                    <span data-testid=testid>
                        <span class=mode_class(&effective.mode)>{effective.mode.to_string()}</span>
                        " "
                        <span class="muted small">{effective.reason()}</span>
                    </span>
                }
                .into_any(),
                None => view! {
                    <span class="muted small" data-testid=testid>
                        "unknown: the mesh-wide policy is hidden from you"
                    </span>
                }
                .into_any(),
            }
        }),
    ]
}

fn mode_class(mode: &OutboundPolicyMode) -> &'static str {
    if mode.allows_unregistered_hosts() {
        "badge allowed"
    } else {
        "badge restricted"
    }
}

#[component]
fn PolicyCard(
    policy: PolicyReport,
    cluster: String,
    registered_hosts: usize,
    namespaces_with_entries: usize,
    access: crate::domain::access::Access,
    istiod: Option<crate::domain::policy::IstiodView>,
    set_policy: ServerAction<FormArgs<SetOutboundPolicy>>,
    preview: Option<PolicyPreview>,
) -> impl IntoView {
    let hidden = matches!(policy, PolicyReport::Hidden { .. });
    let setting = policy.setting();
    let mode = setting.effective_mode();
    let restricted = !mode.allows_unregistered_hosts();
    let source = match &policy {
        PolicyReport::Found {
            source,
            alternatives,
            managed_by,
            ..
        } => view! {
            <p class="muted" data-testid="policy-source">
                "Source: " {source.to_string()}
                {(source.kind == SourceKind::ConfigMap).then_some(", key mesh")}
            </p>
            {managed_by.clone().map(|manager| view! {
                <p class="notice warn" data-testid="policy-managed">
                    {format!("This ConfigMap is rendered by {manager}, which reverts direct edits: change the policy there.")}
                </p>
            })}
            {(!alternatives.is_empty()).then(|| view! {
                <p class="muted small" data-testid="policy-alternatives">
                    "Other control planes: "
                    {alternatives.iter().map(|a| view! {
                        <a href=format!("/?cp={}", a.name)>{a.name.clone()}</a>" "
                    }).collect_view()}
                </p>
            })}
        }
        .into_any(),
        PolicyReport::Hidden { reason } => view! {
            <p class="muted" data-testid="policy-source">
                "You may not read the mesh config: " {reason.clone()}
            </p>
        }
        .into_any(),
        PolicyReport::NoSource { looked_for } => view! {
            <div class="muted" data-testid="policy-source">
                <p>"No mesh config was found. Looked for:"</p>
                <ul>{looked_for.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
    };
    let control_plane = match &policy {
        PolicyReport::Found { source, .. } if source.kind == SourceKind::IstioControlPlane => {
            Some(source.name.clone())
        }
        _ => None,
    };
    let can_switch = matches!(
        policy,
        PolicyReport::Found {
            managed_by: None,
            ..
        }
    ) && access.allowed();
    let denied = access.reason().map(str::to_string);
    let (target, button, impact) = if restricted {
        (
            "ALLOW_ANY",
            "Allow any external host (ALLOW_ANY)",
            "Pods will be able to call any external host, registered or not.".to_string(),
        )
    } else {
        (
            "REGISTRY_ONLY",
            "Restrict to registered hosts (REGISTRY_ONLY)",
            format!(
                "Pods will reach only the {registered_hosts} hosts registered as ServiceEntries \
                 in {namespaces_with_entries} namespaces; every other external host is blocked."
            ),
        )
    };
    // The confirmation names what the switch would block, when the traffic is known.
    let confirm = match (&preview, restricted) {
        (Some(p), false) if p.status.notice().is_none() => {
            format!(" I understand: {}", p.preview.summary())
        }
        _ => " I understand".to_string(),
    };
    let preview = (!restricted).then_some(preview).flatten();
    let failure = move || set_policy.value().get().and_then(Result::err);
    view! {
        <section class="card policy">
            <h2>"Mesh-wide outbound traffic policy"</h2>
            <p class="policy-mode">
                <span class=mode_class(&mode) data-testid="policy-mode">
                    {if hidden { "unknown".to_string() } else { setting.describe() }}
                </span>
            </p>
            <p class="muted">
                {if hidden {
                    "The mesh-wide policy is not shown to you."
                } else if restricted {
                    "Pods reach only hosts registered as ServiceEntries."
                } else {
                    "Pods may call any external host."
                }}
            </p>
            {source}
            {istiod.map(|view| {
                use crate::domain::policy::IstiodView;
                match view {
                    IstiodView::Using(used) => {
                        let in_effect = used == mode;
                        view! {
                            <p class=if in_effect { "istiod in-effect" } else { "istiod pending" } data-testid="istiod-view">
                                {if in_effect {
                                    format!("istiod: {used}, in effect")
                                } else {
                                    format!("istiod: {used} — not yet in effect (written: {mode})")
                                }}
                            </p>
                        }.into_any()
                    }
                    IstiodView::Unreachable(why) => view! {
                        <p class="muted small" data-testid="istiod-view">{format!("istiod is not answering ({why}): the mode it uses is unknown")}</p>
                    }.into_any(),
                }
            })}
            {can_switch.then(|| view! {
                <PostForm action=set_policy attr:class="switch" attr:data-testid="policy-switch-form">
                    <input type="hidden" name="mode" value=target />
                    {control_plane.clone().map(|cp| view! {
                        <input type="hidden" name="control_plane" value=cp />
                    })}
                    <p class="impact" data-testid="policy-impact">{impact.clone()}</p>
                    {preview.clone().map(|preview| view! { <BlockPreview preview /> })}
                    <label class="confirm">
                        // No name: the confirmation is checked by the browser, never sent.
                        <input type="checkbox" required data-testid="policy-confirm" />
                        <span data-testid="policy-confirm-label">{confirm.clone()}</span>
                    </label>
                    <button type="submit" data-testid="policy-switch">{button}</button>
                </PostForm>
            })}
            {denied.map(|reason| view! {
                <p class="notice warn" data-testid="policy-switch-disabled">
                    "Switching is disabled: " {reason}
                </p>
            })}
            {move || failure().map(|error| view! { <ErrorNotice error /> })}
            <p class="muted small">"Cluster: " {cluster.clone()}</p>
        </section>
    }
}

/// "What would REGISTRY_ONLY block?": the unregistered destinations called in the window, per
/// calling workload, and the namespaces a switch does not change.
#[component]
fn BlockPreview(preview: PolicyPreview) -> impl IntoView {
    let p = preview.preview;
    let unnamed = p.unnamed() > 0;
    view! {
        <div class="preview" data-testid="policy-preview">
            <TrafficNotice status=preview.status.clone() />
            {preview.status.notice().is_none().then(|| view! {
                <WindowLinks window=p.window base="/?".to_string() />
                <p data-testid="preview-summary"><strong>{p.summary()}</strong></p>
                <ul class="blocked" data-testid="preview-blocked">
                    {p.blocked.iter().map(|call| view! {
                        <li data-testid=format!("blocked-{}-{}", call.namespace, call.workload)>{blocked_line(call)}</li>
                    }).collect_view()}
                </ul>
                {(!p.already_restricted.is_empty()).then(|| view! {
                    <p class="muted small" data-testid="preview-already">
                        "Already restricted, nothing changes: "
                        {p.already_restricted.iter().map(|(ns, why)| format!("{ns} ({why})")).collect::<Vec<_>>().join(", ")}
                    </p>
                })}
                {(!p.unaffected.is_empty()).then(|| view! {
                    <p class="muted small" data-testid="preview-unaffected">
                        "Not affected (their Sidecar keeps ALLOW_ANY): "
                        {p.unaffected.iter().map(|(ns, why)| format!("{ns} ({why})")).collect::<Vec<_>>().join(", ")}
                    </p>
                })}
                {unnamed.then(|| view! { <TelemetryHint /> })}
            })}
        </div>
    }
}
