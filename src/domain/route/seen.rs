//! Routing as the cluster has it: every VirtualService as routing needs it, and how an entry's
//! traffic leaves the mesh — through a gateway by what mesh-egress wrote, by VirtualServices
//! written by hand, or directly.

use super::route_name;
use crate::domain::service_entry::ServiceEntryView;
use crate::domain::traffic::GatewayRoute;
use serde::{Deserialize, Serialize};

/// A VirtualService as routing needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServiceInfo {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `spec.hosts`.
    pub hosts: Vec<String>,
    /// `spec.gateways` (empty: the sidecars only).
    pub gateways: Vec<String>,
    /// The entry it routes, when mesh-egress wrote it (`namespace/name`).
    pub routes: Option<String>,
    /// The gateway and port it routes through, when mesh-egress wrote it.
    pub via: Option<String>,
    /// Whether it routes TLS by SNI (`tls` routes) rather than HTTP.
    #[serde(default)]
    pub tls: bool,
}

/// The routes mesh-egress wrote through egress gateways, as the traffic join needs them.
pub fn gateway_routes(services: &[VirtualServiceInfo]) -> Vec<GatewayRoute> {
    let mut routes: Vec<GatewayRoute> = services
        .iter()
        .filter(|vs| vs.routes.is_some())
        .filter_map(|vs| {
            let (gateway, port) = vs.via.as_deref()?.rsplit_once(':')?;
            Some(GatewayRoute {
                gateway: gateway.to_string(),
                port: port.parse().ok()?,
                tls: vs.tls,
                hosts: vs.hosts.clone(),
            })
        })
        .collect();
    routes.sort_by(|a, b| (&a.gateway, a.port, &a.hosts).cmp(&(&b.gateway, b.port, &b.hosts)));
    routes
}

/// How an entry's traffic leaves the mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryRouting {
    /// Straight from the calling sidecar.
    Direct,
    /// Through a gateway, by objects mesh-egress wrote.
    Routed {
        /// The gateway and port, `istio-system/istio-egressgateway:443`.
        via: String,
        /// `Kind namespace/name` of every object written.
        objects: Vec<String>,
    },
    /// By VirtualServices written by hand (shown, never changed).
    ByHand {
        /// `namespace/name` of each.
        virtual_services: Vec<String>,
        /// The gateways they name (`mesh` left out).
        gateways: Vec<String>,
    },
}

impl EntryRouting {
    /// "via gateway istio-system/istio-egressgateway:443", or `None` when direct.
    pub fn label(&self) -> Option<String> {
        match self {
            Self::Direct => None,
            Self::Routed { via, .. } => Some(format!("via gateway {via}")),
            Self::ByHand { gateways, .. } if gateways.is_empty() => {
                Some("routed by a VirtualService written by hand".into())
            }
            Self::ByHand { gateways, .. } => Some(format!(
                "via gateway {} (written by hand)",
                gateways.join(", ")
            )),
        }
    }
}

fn is_mesh(gateway: &str) -> bool {
    gateway == "mesh"
}

/// How `entry`'s hosts are routed, from every VirtualService: those mesh-egress wrote for it,
/// else those written by hand that name one of its hosts.
pub fn routing(entry: &ServiceEntryView, services: &[VirtualServiceInfo]) -> EntryRouting {
    let id = format!("{}/{}", entry.namespace, entry.name);
    let ours: Vec<&VirtualServiceInfo> = services
        .iter()
        .filter(|vs| vs.routes.as_deref() == Some(id.as_str()))
        .collect();
    if let Some(first) = ours.first() {
        let name = route_name(&entry.namespace, &entry.name);
        let gateway_namespace = first
            .via
            .as_deref()
            .and_then(|via| via.split_once('/'))
            .map(|(ns, _)| ns.to_string())
            .unwrap_or_default();
        let mut objects = vec![
            format!("Gateway {gateway_namespace}/{name}"),
            format!("DestinationRule {gateway_namespace}/{name}"),
        ];
        objects.extend(
            ours.iter()
                .map(|vs| format!("VirtualService {}/{}", vs.namespace, vs.name)),
        );
        return EntryRouting::Routed {
            via: first.via.clone().unwrap_or_default(),
            objects,
        };
    }
    let by_hand: Vec<&VirtualServiceInfo> = services
        .iter()
        .filter(|vs| vs.routes.is_none())
        .filter(|vs| vs.hosts.iter().any(|h| entry.hosts.contains(h)))
        .collect();
    if by_hand.is_empty() {
        return EntryRouting::Direct;
    }
    let mut gateways: Vec<String> = by_hand
        .iter()
        .flat_map(|vs| {
            vs.gateways.iter().filter(|g| !is_mesh(g)).map(|g| {
                if g.contains('/') {
                    g.clone()
                } else {
                    format!("{}/{g}", vs.namespace)
                }
            })
        })
        .collect();
    gateways.sort();
    gateways.dedup();
    EntryRouting::ByHand {
        virtual_services: by_hand
            .iter()
            .map(|vs| format!("{}/{}", vs.namespace, vs.name))
            .collect(),
        gateways,
    }
}

/// Marks each of `views` with how it leaves the mesh when through a gateway.
pub fn mark_routed(views: &mut [ServiceEntryView], services: &[VirtualServiceInfo]) {
    if services.is_empty() {
        return;
    }
    for view in views {
        view.via = routing(view, services).label();
    }
}
