//! The mesh-wide policy and the first page.

use super::Actor;
use super::Answer;
use crate::cluster::{Change, Changed};
use crate::domain::access::{Access, Action};
use crate::domain::overview::{assemble, OverviewParts};
use crate::domain::policy::parse_requested_mode;
use crate::domain::{OutboundPolicyMode, Overview, PolicyReport, PolicyState};
use crate::error::AppError;

/// The policy as the actor may read it: refused reads become `Hidden`, so the rest of the
/// page still shows what the actor may see.
pub(super) async fn readable_policy(
    actor: &Actor,
    control_plane: Option<&str>,
) -> Answer<PolicyReport> {
    match actor.mapped(actor.cluster.policy_report(control_plane).await) {
        Err(AppError::Forbidden { message }) if actor.shared => {
            Ok(PolicyReport::Hidden { reason: message })
        }
        other => other,
    }
}

/// Whether the actor may switch the policy where it lives.
async fn switch_access(actor: &Actor, policy: &PolicyReport) -> Answer<Access> {
    match policy {
        PolicyReport::Found { source, .. } => {
            let action = Action::SwitchPolicy {
                source: source.clone(),
            };
            actor.mapped(actor.cluster.can(&action).await)
        }
        PolicyReport::NoSource { .. } => Ok(Access::Denied {
            reason: "there is no mesh config to write the policy to".into(),
        }),
        PolicyReport::Hidden { reason } => Ok(Access::Denied {
            reason: reason.clone(),
        }),
    }
}

/// The first page: the policy as the actor may read it, and the namespaces the actor may
/// list ServiceEntries in, with counts over exactly those.
pub async fn overview(actor: &Actor, control_plane: Option<&str>) -> Answer<Overview> {
    let server = &actor.server;
    let policy = readable_policy(actor, control_plane).await?;
    let namespaces = actor.mapped(server.namespaces().await)?;
    let visible = match actor.shared {
        true => Some(
            actor
                .visible_namespaces(namespaces.iter().map(|n| n.name.clone()))
                .await?,
        ),
        false => None,
    };
    let parts = OverviewParts {
        cluster: server.server().to_string(),
        root_namespace: server.istio_namespace().to_string(),
        policy_access: switch_access(actor, &policy).await?,
        policy,
        namespaces,
        registered: actor.mapped(server.registered_by_namespace().await)?,
        sidecars: actor.mapped(server.sidecar_policies().await)?,
        istiod: server.istiod_view().await,
    };
    Ok(assemble(parts, visible.as_ref()))
}

/// The mesh-wide policy and where it lives, read as the actor.
pub async fn outbound_policy(actor: &Actor, control_plane: Option<&str>) -> Answer<PolicyState> {
    let report = actor.mapped(actor.cluster.policy_report(control_plane).await)?;
    Ok(PolicyState::from(&report))
}

/// Switches the mesh-wide policy (`mode`: REGISTRY_ONLY | ALLOW_ANY, or restricted |
/// allowed), records who did it, and answers with the state read back from the cluster.
pub async fn switch_policy(
    actor: &Actor,
    mode: &str,
    control_plane: Option<&str>,
) -> Answer<PolicyState> {
    let mode = parse_requested_mode(mode).map_err(|reason| AppError::Invalid {
        field: "mode".into(),
        reason,
    })?;
    let after = switch(actor, &mode, control_plane).await?;
    Ok(PolicyState::from(&after))
}

/// Switches the mesh-wide policy to `mode`, whichever door asked (page, API, command line):
/// the write, one audit Event naming the actor, and the metric. Answers the report read back.
pub async fn switch(
    actor: &Actor,
    mode: &OutboundPolicyMode,
    control_plane: Option<&str>,
) -> Answer<PolicyReport> {
    let cluster = &actor.cluster;
    let before = actor.mapped(cluster.policy_report(control_plane).await)?;
    let after = actor.mapped(cluster.set_policy(mode, control_plane).await)?;
    if let Some(source) = &PolicyState::from(&after).source {
        let what = format!(
            "switched the mesh-wide outbound traffic policy: {} → {}",
            before.setting().describe(),
            after.setting().describe()
        );
        actor
            .audit(Change {
                object: Changed::PolicySource(source.clone()),
                reason: "OutboundPolicySwitched",
                what,
            })
            .await;
    }
    actor.metrics.policy_switch(mode.as_istio());
    Ok(after)
}
