//! Namespace by namespace: restricting one namespace (its Sidecar's outbound policy) with a
//! preview, and the rollout view of every namespace's readiness.

use super::policy::readable_policy;
use super::traffic::traffic;
use super::{checked_key, Actor, Answer};
use crate::cluster::{Change, Changed, EntrySnapshot};
use crate::domain::access::{Access, Action};
use crate::domain::map::{reachability_map, MapParts, ReachabilityMap};
use crate::domain::restrict::{
    own_sidecar, plan, root_namespace_refusal, NamespacePolicy, NamespacePolicyPreview,
    NamespaceTarget, SidecarWrite,
};
use crate::domain::rollout::{newly_blocked, pending_calls, Rollout, RolloutParts};
use crate::domain::service_entry::ServiceEntryView;
use crate::domain::sidecar::effective_policy;
use crate::domain::sidecar::SidecarPolicy;
use crate::domain::traffic::Window;
use crate::domain::visibility::Scope;
use crate::domain::PolicyReport;
use crate::error::AppError;
use std::sync::Arc;

fn target(mode: &str) -> Answer<NamespaceTarget> {
    NamespaceTarget::parse(mode).map_err(|reason| AppError::Invalid {
        field: "mode".into(),
        reason,
    })
}

/// A namespace's effective outbound policy, and what its page offers the actor.
pub async fn namespace_policy(actor: &Actor, namespace: &str) -> Answer<NamespacePolicy> {
    checked_key(namespace, None)?;
    let server = &actor.server;
    let root = server.istio_namespace();
    let mesh = match readable_policy(actor, None).await? {
        PolicyReport::Hidden { .. } => None,
        report => Some(report.setting()),
    };
    let sidecars = actor.mapped(server.sidecar_policies().await)?;
    let effective = mesh
        .as_ref()
        .map(|mesh| effective_policy(namespace, root, mesh, &sidecars));
    let recorded = sidecars
        .iter()
        .any(|s| s.namespace == namespace && s.recorded && !s.has_workload_selector);
    let offered = match &effective {
        Some(e) if !e.mode.allows_unregistered_hosts() => NamespaceTarget::Allowed,
        _ => NamespaceTarget::Restricted,
    };
    let access = if namespace == root {
        Access::Denied {
            reason: root_namespace_refusal(namespace),
        }
    } else {
        actor.mapped(
            actor
                .cluster
                .can(&Action::ChangeSidecars {
                    namespace: namespace.to_string(),
                })
                .await,
        )?
    };
    let injection = actor
        .mapped(server.namespaces().await)?
        .iter()
        .any(|n| n.name == namespace && n.injection);
    Ok(NamespacePolicy {
        namespace: namespace.to_string(),
        effective,
        recorded,
        offered,
        access,
        injection,
    })
}

/// What to write to `namespace`'s Sidecars for `target`, read as the actor.
async fn planned(
    actor: &Actor,
    namespace: &str,
    target: NamespaceTarget,
) -> Answer<Option<SidecarWrite>> {
    checked_key(namespace, None)?;
    let root = actor.server.istio_namespace();
    let objects = actor.mapped(actor.cluster.namespace_sidecars(namespace).await)?;
    let names: Vec<String> = objects
        .iter()
        .filter_map(|o| o.pointer("/metadata/name").and_then(|n| n.as_str()))
        .map(str::to_string)
        .collect();
    // What the namespace gets without a Sidecar of its own: the root Sidecar's or the mesh's
    // (read with the server's identity: it decides what is written, and is not shown).
    let mesh = actor
        .mapped(actor.server.policy_report(None).await)?
        .setting();
    let others: Vec<_> = actor
        .mapped(actor.server.sidecar_policies().await)?
        .into_iter()
        .filter(|s| s.namespace != namespace)
        .collect();
    let fallback = effective_policy(namespace, root, &mesh, &others);
    plan(
        namespace,
        root,
        target,
        own_sidecar(&objects),
        &names,
        &fallback.mode,
    )
    .map_err(|reason| AppError::Invalid {
        field: "namespace".into(),
        reason,
    })
}

/// What restricting (`mode` restricted) or opening (`allowed`) `namespace` would write and
/// block: the Sidecar's diff, judged by istiod's webhook in a dry run, and the namespace's
/// calls in the window that pass through today. Writes nothing.
pub async fn preview_namespace_policy(
    actor: &Actor,
    namespace: &str,
    mode: &str,
    window: Window,
) -> Answer<NamespacePolicyPreview> {
    let target = target(mode)?;
    let write = planned(actor, namespace, target).await?;
    if let Some(write) = &write {
        actor.mapped(actor.cluster.write_sidecar(namespace, write, true).await)?;
    }
    let report = traffic(actor, window).await?;
    let blocked = match target {
        NamespaceTarget::Restricted => {
            // The same verdicts as the rollout view: from the entries the namespace can see.
            let server = &actor.server;
            let sidecars = actor.mapped(server.sidecar_policies().await)?;
            let snapshot = actor.mapped(server.service_entry_snapshot().await)?;
            let entries: Vec<&ServiceEntryView> = snapshot.entries.iter().map(|e| &**e).collect();
            let scope = Scope::new(&entries, &sidecars, server.istio_namespace());
            newly_blocked(&pending_calls(&report.destinations, &scope), namespace)
        }
        NamespaceTarget::Allowed => Vec::new(),
    };
    Ok(NamespacePolicyPreview {
        namespace: namespace.to_string(),
        target,
        change: write.as_ref().map(|w| w.describe(namespace)),
        lines: write.as_ref().map(SidecarWrite::diff).unwrap_or_default(),
        blocked,
        status: report.status,
        window,
    })
}

/// Restricts (`mode` restricted) or opens (`allowed`) `namespace`: its Sidecar written (checked
/// first by a dry run), or put back as it was before mesh-egress; recorded in the audit trail.
/// Answers the namespace's policy read back.
pub async fn set_namespace_policy(
    actor: &Actor,
    namespace: &str,
    mode: &str,
) -> Answer<NamespacePolicy> {
    let target = target(mode)?;
    let before = namespace_policy(actor, namespace).await?;
    if let Some(write) = planned(actor, namespace, target).await? {
        let cluster = &actor.cluster;
        actor.mapped(cluster.write_sidecar(namespace, &write, true).await)?;
        actor.mapped(cluster.write_sidecar(namespace, &write, false).await)?;
        let after = namespace_policy(actor, namespace).await?;
        let mode_of = |p: &NamespacePolicy| {
            p.effective
                .as_ref()
                .map(|e| format!("{} ({})", e.mode, e.reason()))
                .unwrap_or_else(|| "unknown".into())
        };
        actor
            .audit(Change {
                object: Changed::Sidecar {
                    namespace: namespace.to_string(),
                    name: write.name(),
                },
                reason: "NamespaceOutboundPolicySwitched",
                what: format!(
                    "set namespace {namespace} to {}: {}; {} → {}",
                    target.mode(),
                    write.describe(namespace),
                    mode_of(&before),
                    mode_of(&after)
                ),
            })
            .await;
        return Ok(after);
    }
    Ok(before)
}

/// Every namespace the actor may see, by readiness for REGISTRY_ONLY in the window, counting
/// the ServiceEntries of `drafts` (a manifest, not saved; empty: none) as if they existed.
pub async fn rollout(actor: &Actor, window: Window, drafts: &str) -> Answer<Rollout> {
    Ok(rollout_read(actor, window, drafts).await?.rollout)
}

/// The rollout view and what it was made from (the map draws from the same reads).
struct RolloutRead {
    rollout: Rollout,
    sidecars: Vec<SidecarPolicy>,
    snapshot: Arc<EntrySnapshot>,
}

async fn rollout_read(actor: &Actor, window: Window, drafts: &str) -> Answer<RolloutRead> {
    let drafts = match drafts.trim() {
        "" => Vec::new(),
        manifest => {
            crate::domain::rollout::drafts(manifest).map_err(|reason| AppError::Invalid {
                field: "drafts".into(),
                reason,
            })?
        }
    };
    let server = &actor.server;
    let report = traffic(actor, window).await?;
    let mesh = match readable_policy(actor, None).await? {
        PolicyReport::Hidden { .. } => None,
        report => Some(report.setting()),
    };
    let mut namespaces = actor.mapped(server.namespaces().await)?;
    if actor.shared {
        let visible = actor
            .visible_namespaces(namespaces.iter().map(|n| n.name.clone()))
            .await?;
        namespaces.retain(|n| visible.contains(&n.name));
    }
    let sidecars = actor.mapped(server.sidecar_policies().await)?;
    let snapshot = actor.mapped(server.service_entry_snapshot().await)?;
    let entries: Vec<&ServiceEntryView> = snapshot.entries.iter().map(|e| &**e).collect();
    let rollout = crate::domain::rollout::rollout(RolloutParts {
        window,
        status: report.status,
        namespaces: &namespaces,
        destinations: &report.destinations,
        entries: &entries,
        drafts: &drafts,
        root_namespace: server.istio_namespace(),
        mesh: mesh.as_ref(),
        sidecars: &sidecars,
    });
    drop(entries);
    Ok(RolloutRead {
        rollout,
        sidecars,
        snapshot,
    })
}

/// The reachability map for the actor: every namespace it may see against every registered or
/// called host (those matching the filters), grouped past a few dozen a side.
pub async fn map(
    actor: &Actor,
    window: Window,
    namespace_filter: &str,
    host_filter: &str,
) -> Answer<ReachabilityMap> {
    let RolloutRead {
        rollout: view,
        sidecars,
        snapshot,
    } = rollout_read(actor, window, "").await?;
    let server = &actor.server;
    let entries: Vec<&ServiceEntryView> = snapshot.entries.iter().map(|e| &**e).collect();
    let mut namespaces: Vec<String> = view.rows.iter().map(|r| r.namespace.clone()).collect();
    namespaces.sort();
    Ok(reachability_map(MapParts {
        namespaces: &namespaces,
        entries: &entries,
        sidecars: &sidecars,
        root_namespace: server.istio_namespace(),
        calls: &view.calls,
        namespace_filter: namespace_filter.trim(),
        host_filter: &host_filter.trim().to_ascii_lowercase(),
    }))
}
