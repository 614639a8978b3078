//! Egress gateways: listed, and created where Service Mesh Manager manages the mesh (an
//! IstioMeshGateway of type egress).

use super::{Actor, Answer};
use crate::cluster::{Change, Changed};
use crate::domain::gateway::EgressGateway;
use crate::domain::mesh_gateway::{mesh_gateway, MeshGatewayForm};
use crate::domain::policy::SourceKind;
use crate::domain::PolicyReport;
use crate::error::AppError;

/// Every egress gateway the actor may list, with the hosts its Gateways carry.
pub async fn egress_gateways(actor: &Actor) -> Answer<Vec<EgressGateway>> {
    actor.mapped(actor.cluster.egress_gateways().await)
}

/// Service Mesh Manager's control planes (`namespace/name`) a gateway can belong to; empty on
/// a plain Istio install, or when the actor may not read where the policy lives (the gateways
/// list beside it says what is wrong with the cluster, if anything).
pub async fn control_planes(actor: &Actor) -> Answer<Vec<String>> {
    let Ok(report) = actor.cluster.policy_report(None).await else {
        return Ok(Vec::new());
    };
    Ok(match report {
        PolicyReport::Found {
            source,
            alternatives,
            ..
        } => std::iter::once(source)
            .chain(alternatives)
            .filter(|s| s.kind == SourceKind::IstioControlPlane)
            .map(|s| format!("{}/{}", s.namespace, s.name))
            .collect(),
        _ => Vec::new(),
    })
}

/// Creates the egress gateway `form` describes as an IstioMeshGateway (judged by a dry run
/// first; with `dry_run`, only that). Recorded in the audit trail.
pub async fn create_mesh_gateway(
    actor: &Actor,
    form: MeshGatewayForm,
    dry_run: bool,
) -> Answer<String> {
    let object =
        mesh_gateway(&form).map_err(|(field, reason)| AppError::Invalid { field, reason })?;
    let (namespace, name) = (form.namespace.trim(), form.name.trim());
    // NB: a reference is checked before the write: the API server would store a gateway that
    // names a control plane that does not exist, and nothing would ever run it.
    let plane = form.control_plane.trim();
    if !control_planes(actor).await?.iter().any(|p| p == plane) {
        return Err(AppError::Invalid {
            field: "control_plane".into(),
            reason: format!(
                "{} is not a control plane of this cluster (an IstioControlPlane of Service \
                 Mesh Manager you may read): pick one the form lists",
                crate::domain::quoted(plane)
            ),
        });
    }
    actor.mapped(actor.cluster.create_mesh_gateway(&object, dry_run).await)?;
    let id = format!("{namespace}/{name}");
    if !dry_run {
        actor
            .audit(Change {
                object: Changed::MeshGateway {
                    namespace: namespace.into(),
                    name: name.into(),
                },
                reason: "EgressGatewayCreated",
                what: format!(
                    "created the egress gateway {id} (IstioMeshGateway, ports {})",
                    form.ports.trim()
                ),
            })
            .await;
    }
    Ok(id)
}
