//! Routing an entry through an egress gateway: how it leaves now, a preview of what routing
//! writes (judged by istiod's webhook in a dry run), the write (all or nothing, audited), and
//! "stop routing", which removes exactly what mesh-egress wrote.

use super::entries::cached_entry;
use super::{checked_key, Actor, Answer};
use crate::cluster::{Change, Changed};
use crate::domain::gateway::EgressGateway;
use crate::domain::route::{
    parse_port, plan, routable_ports, route_name, routing, EntryRouting, RouteObject, RoutePlan,
    RoutePreview, RouteRefusal, RoutingView,
};
use crate::domain::yaml::to_yaml;
use crate::error::AppError;

/// The objects mesh-egress wrote to route `namespace/name`.
async fn written(actor: &Actor, namespace: &str, name: &str) -> Answer<Vec<RouteObject>> {
    let id = format!("{namespace}/{name}");
    actor.mapped(
        actor
            .cluster
            .route_objects(&id, &route_name(namespace, name))
            .await,
    )
}

/// Objects as one multi-document YAML text.
fn documents<'a>(objects: impl Iterator<Item = &'a serde_json::Value>) -> String {
    objects.map(to_yaml).collect::<Vec<_>>().join("---\n")
}

/// How `namespace/name` leaves the mesh, and the gateways and ports it could be routed by.
pub async fn entry_routing(actor: &Actor, namespace: &str, name: &str) -> Answer<RoutingView> {
    // Read from the watch cache: the card is on every view of the entry's page.
    let view = cached_entry(actor, namespace, name).await?;
    let services = actor.mapped(actor.cluster.virtual_services().await)?;
    let routing = routing(&view, &services);
    let ports = routable_ports(&view);
    // The gateways to pick from, only when the entry can be routed now; a user who may not
    // list them still sees how the entry leaves the mesh.
    let (gateways, gateways_hidden) = match (&routing, ports.is_empty()) {
        (EntryRouting::Direct, false) => match actor.cluster.egress_gateways().await {
            Ok(gateways) => (gateways, None),
            Err(e) => (Vec::new(), Some(AppError::from(e).to_string())),
        },
        _ => (Vec::new(), None),
    };
    let yaml = match routing {
        EntryRouting::Routed { .. } => {
            let objects = written(actor, namespace, name).await?;
            Some(documents(objects.iter().map(|o| &o.object)))
        }
        _ => None,
    };
    Ok(RoutingView {
        routing,
        ports,
        gateways,
        gateways_hidden,
        yaml,
    })
}

fn chosen<'a>(gateways: &'a [EgressGateway], gateway: &str) -> Answer<&'a EgressGateway> {
    let Some((namespace, name)) = gateway.trim().split_once('/') else {
        return Err(AppError::Invalid {
            field: "gateway".into(),
            reason: format!(
                "{}: name the gateway as namespace/name",
                crate::domain::quoted(gateway)
            ),
        });
    };
    gateways
        .iter()
        .find(|g| g.namespace == namespace && g.name == name)
        .ok_or_else(|| AppError::Invalid {
            field: "gateway".into(),
            reason: format!(
                "{} is not an egress gateway (a Service labelled istio=egressgateway, or an \
                 IstioMeshGateway of type egress)",
                crate::domain::quoted(gateway.trim())
            ),
        })
}

/// The plan for routing `namespace/name` through `gateway` (`namespace/name`) on `port`, or
/// why it would not work.
async fn planned(
    actor: &Actor,
    namespace: &str,
    name: &str,
    gateway: &str,
    port: &str,
) -> Answer<RoutePlan> {
    let port = parse_port(port).map_err(refused)?;
    let view = super::service_entry(actor, namespace, name).await?.view;
    let gateways = actor.mapped(actor.cluster.egress_gateways().await)?;
    let gateway = chosen(&gateways, gateway)?;
    let services = actor.mapped(actor.cluster.virtual_services().await)?;
    plan(&view, gateway, port, &services).map_err(refused)
}

fn refused(refusal: RouteRefusal) -> AppError {
    AppError::Invalid {
        field: refusal.field,
        reason: refusal.reason,
    }
}

/// The plan for routing `namespace/name` through `gateway` (`namespace/name`) on `port`, and
/// the dry run of each object; nothing is written.
pub async fn preview_route(
    actor: &Actor,
    namespace: &str,
    name: &str,
    gateway: &str,
    port: &str,
) -> Answer<RoutePreview> {
    let plan = planned(actor, namespace, name, gateway, port).await?;
    actor.mapped(actor.cluster.write_route(&plan, true).await)?;
    let yaml = documents(plan.objects.iter().map(|o| &o.object));
    Ok(RoutePreview { plan, yaml })
}

/// Routes `namespace/name` through `gateway` on `port`: the preview's checks, then every object
/// written (a failure midway removes what was written). Recorded in the audit trail.
pub async fn route_entry(
    actor: &Actor,
    namespace: &str,
    name: &str,
    gateway: &str,
    port: &str,
) -> Answer<RoutePlan> {
    let plan = planned(actor, namespace, name, gateway, port).await?;
    // Each object is judged by a dry run before the first is written.
    actor.mapped(actor.cluster.write_route(&plan, false).await)?;
    let written: Vec<String> = plan.objects.iter().map(|o| o.label()).collect();
    actor
        .audit(Change {
            object: Changed::ServiceEntry {
                namespace: namespace.into(),
                name: name.into(),
            },
            reason: "ServiceEntryRoutedThroughGateway",
            what: format!(
                "routed port {} via gateway {}: wrote {}",
                plan.port,
                plan.gateway,
                written.join(", ")
            ),
        })
        .await;
    Ok(plan)
}

/// Stops routing `namespace/name` through a gateway: removes the objects mesh-egress wrote for
/// it (nothing written by hand), and says which.
pub async fn stop_routing(actor: &Actor, namespace: &str, name: &str) -> Answer<Vec<String>> {
    checked_key(namespace, Some(name))?;
    let id = format!("{namespace}/{name}");
    let objects = written(actor, namespace, name).await?;
    if objects.is_empty() {
        let services = actor.mapped(actor.cluster.virtual_services().await)?;
        let view = cached_entry(actor, namespace, name).await?;
        let reason = match routing(&view, &services) {
            EntryRouting::ByHand {
                virtual_services, ..
            } => format!(
                "{id} is routed by VirtualService {} written by hand: mesh-egress leaves it alone",
                virtual_services.join(", ")
            ),
            _ => format!("{id} is not routed through a gateway by mesh-egress"),
        };
        return Err(AppError::Invalid {
            field: "entry".into(),
            reason,
        });
    }
    actor.mapped(actor.cluster.delete_route(&objects).await)?;
    let removed: Vec<String> = objects.iter().map(|o| o.label()).collect();
    actor
        .audit(Change {
            object: Changed::ServiceEntry {
                namespace: namespace.into(),
                name: name.into(),
            },
            reason: "ServiceEntryRoutingStopped",
            what: format!(
                "stopped routing via a gateway: removed {}",
                removed.join(", ")
            ),
        })
        .await;
    Ok(removed)
}
