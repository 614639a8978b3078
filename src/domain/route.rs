//! Routing a ServiceEntry's host through an egress gateway, as Istio's "Egress Gateways" task
//! prescribes: a `Gateway` on the gateway's pods, a `DestinationRule` with a subset for the
//! gateway's Service, and a `VirtualService` per host with two routes (sidecars → gateway,
//! gateway → host): `http` routes for HTTP ports, `tls` routes by SNI with PASSTHROUGH for
//! TLS/HTTPS ports. What mesh-egress writes is labelled and annotated so it is recognised (and
//! removed) later; routing written by hand is recognised and left alone.

use super::gateway::EgressGateway;
use super::service_entry::ServiceEntryView;
use super::visibility::exported_to;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The label every routing object mesh-egress writes carries (its value: the objects' name).
pub const ROUTE_LABEL: &str = "mesh-egress.io/egress-route";
/// The annotation naming the entry (`namespace/name`) the objects route.
pub const ROUTES_ANNOTATION: &str = "mesh-egress.io/routes";
/// The annotation naming the gateway (`namespace/name`) and port: `istio-system/gw:443`.
pub const VIA_ANNOTATION: &str = "mesh-egress.io/via";

/// Why a route is not written, at the field to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRefusal {
    /// `spec.resolution`, `spec.hosts`, `spec.exportTo`, `port` or `gateway`.
    pub field: String,
    /// Why, and what to do instead.
    pub reason: String,
}

fn refuse(field: &str, reason: String) -> RouteRefusal {
    RouteRefusal {
        field: field.into(),
        reason,
    }
}

/// How a port is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteKind {
    /// `http` routes (HTTP, HTTP2, GRPC ports).
    Http,
    /// `tls` routes matched by SNI, passed through the gateway (TLS and HTTPS ports).
    Tls,
}

impl RouteKind {
    fn of(protocol: &str) -> Option<Self> {
        match protocol.to_ascii_uppercase().as_str() {
            "HTTP" | "HTTP2" | "GRPC" => Some(Self::Http),
            "TLS" | "HTTPS" => Some(Self::Tls),
            _ => None,
        }
    }
}

/// One object a route writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteObject {
    /// `Gateway`, `DestinationRule` or `VirtualService`.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The whole object (without apiVersion, which the cluster knows).
    pub object: Value,
}

impl RouteObject {
    /// `VirtualService payments/egress-payments-httpbin`.
    pub fn label(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// What routing an entry through a gateway writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutePlan {
    /// The entry, `namespace/name`.
    pub entry: String,
    /// The gateway, `namespace/name`.
    pub gateway: String,
    /// The entry's port that is routed.
    pub port: i64,
    /// HTTP or TLS.
    pub kind: RouteKind,
    /// In the order they are written (the Gateway first, the VirtualServices last).
    pub objects: Vec<RouteObject>,
}

/// What an entry's page shows of routing: how it leaves now, and what it could be routed
/// through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingView {
    /// How the entry's traffic leaves the mesh now.
    pub routing: EntryRouting,
    /// The egress gateways to pick from (read only when the entry can be routed now).
    pub gateways: Vec<EgressGateway>,
    /// Why the gateways could not be listed (the API server's refusal), if so.
    #[serde(default)]
    pub gateways_hidden: Option<String>,
    /// The entry's ports that can be routed (HTTP and TLS).
    pub ports: Vec<i64>,
    /// The objects mesh-egress wrote for it, as YAML documents (when it routed it).
    #[serde(default)]
    pub yaml: Option<String>,
}

/// The entry's ports that can be routed through a gateway by host.
pub fn routable_ports(entry: &ServiceEntryView) -> Vec<i64> {
    entry
        .ports
        .iter()
        .filter(|p| RouteKind::of(&p.protocol).is_some())
        .map(|p| p.number)
        .collect()
}

/// A route before it is written: the plan, and its objects as YAML (judged by a dry run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutePreview {
    /// What is written.
    pub plan: RoutePlan,
    /// Every object, as YAML documents.
    pub yaml: String,
}

/// The port a form or the CLI names: empty for "the entry's one routable port".
pub fn parse_port(text: &str) -> Result<Option<i64>, RouteRefusal> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(Some(n)),
        _ => Err(refuse(
            "port",
            format!(
                "{} is not a port number (1 to 65535)",
                crate::domain::quoted(text)
            ),
        )),
    }
}

/// The name of every object routing `namespace/name` writes: a DNS label (the VirtualService
/// names the Gateway as `namespace/name`, which Istio requires to be one).
pub fn route_name(namespace: &str, name: &str) -> String {
    let raw = format!("egress-{namespace}-{name}").replace('.', "-");
    let mut cut: String = raw.chars().take(63).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    cut
}

/// The metadata of a routing object: `route` (the objects' common name) is its label.
fn metadata(namespace: &str, name: &str, route: &str, entry: &str, via: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "labels": {"app.kubernetes.io/managed-by": "mesh-egress", ROUTE_LABEL: route},
        "annotations": {ROUTES_ANNOTATION: entry, VIA_ANNOTATION: via},
    })
}

/// What routing `entry`'s `port` (or its one routable port) through `gateway` writes, or why
/// it would not work. `services` are the cluster's VirtualServices (a host routed elsewhere is
/// refused).
pub fn plan(
    entry: &ServiceEntryView,
    gateway: &EgressGateway,
    port: Option<i64>,
    services: &[VirtualServiceInfo],
) -> Result<RoutePlan, RouteRefusal> {
    let id = format!("{}/{}", entry.namespace, entry.name);
    let gateway_id = format!("{}/{}", gateway.namespace, gateway.name);
    routable_entry(entry, gateway)?;
    let (number, kind) = chosen_port(entry, &id, port)?;
    exposed_by(gateway, &gateway_id, number)?;
    not_routed_yet(entry, &id, services)?;
    let objects = route_objects(entry, gateway, &id, &gateway_id, number, kind);
    Ok(RoutePlan {
        entry: id,
        gateway: gateway_id,
        port: number,
        kind,
        objects,
    })
}

/// Whether a gateway can route the entry at all: a resolution that leaves the mesh, named hosts,
/// and an entry the gateway's namespace can see.
fn routable_entry(entry: &ServiceEntryView, gateway: &EgressGateway) -> Result<(), RouteRefusal> {
    if entry.resolution.eq_ignore_ascii_case("NONE") {
        return Err(refuse(
            "spec.resolution",
            "resolution NONE sends the gateway's traffic back to the gateway itself (the \
             original destination is the gateway's own address): set resolution DNS"
                .into(),
        ));
    }
    if let Some(wildcard) = entry.hosts.iter().find(|h| h.starts_with('*')) {
        return Err(refuse(
            "spec.hosts",
            format!(
                "{wildcard} is a wildcard: a gateway routes named hosts only (register each \
                 host)"
            ),
        ));
    }
    if !exported_to(entry, &gateway.namespace) {
        return Err(refuse(
            "spec.exportTo",
            format!(
                "the gateway's namespace {} cannot see this entry: add \"{}\" to its exportTo",
                gateway.namespace, gateway.namespace
            ),
        ));
    }
    Ok(())
}

/// The port to route: the one asked for, which must be an HTTP or TLS port of the entry, or
/// else the entry's one such port.
fn chosen_port(
    entry: &ServiceEntryView,
    id: &str,
    port: Option<i64>,
) -> Result<(i64, RouteKind), RouteRefusal> {
    let Some(n) = port else {
        let routable: Vec<_> = entry
            .ports
            .iter()
            .filter_map(|p| RouteKind::of(&p.protocol).map(|k| (p.number, k)))
            .collect();
        return match routable.as_slice() {
            [one] => Ok(*one),
            [] => Err(refuse(
                "port",
                format!("{id} has no HTTP or TLS port to route through a gateway"),
            )),
            many => {
                let numbers: Vec<String> = many.iter().map(|(n, _)| n.to_string()).collect();
                Err(refuse(
                    "port",
                    format!("pick the port to route: {}", numbers.join(" or ")),
                ))
            }
        };
    };
    let Some(p) = entry.ports.iter().find(|p| p.number == n) else {
        let known: Vec<String> = entry.ports.iter().map(|p| p.number.to_string()).collect();
        return Err(refuse(
            "port",
            format!("{id} has no port {n} (its ports: {})", known.join(", ")),
        ));
    };
    RouteKind::of(&p.protocol)
        .map(|kind| (n, kind))
        .ok_or_else(|| {
            refuse(
                "port",
                format!(
                    "port {n} is {}: only HTTP (HTTP, HTTP2, GRPC) and TLS (TLS, HTTPS) ports can \
                 be routed through a gateway by host",
                    if p.protocol.is_empty() {
                        "of no protocol"
                    } else {
                        &p.protocol
                    }
                ),
            )
        })
}

/// Whether the gateway listens on the port.
fn exposed_by(gateway: &EgressGateway, gateway_id: &str, number: i64) -> Result<(), RouteRefusal> {
    if gateway.ports.iter().any(|p| p.number == number) {
        return Ok(());
    }
    Err(refuse(
        "gateway",
        format!(
            "{gateway_id} does not expose port {number} (it exposes {}): add the port to the \
             gateway, or pick another gateway",
            if gateway.ports.is_empty() {
                "none".to_string()
            } else {
                gateway.ports_label()
            }
        ),
    ))
}

/// Whether the entry, or one of its hosts, is routed already (by mesh-egress or by hand).
fn not_routed_yet(
    entry: &ServiceEntryView,
    id: &str,
    services: &[VirtualServiceInfo],
) -> Result<(), RouteRefusal> {
    for vs in services {
        if vs.routes.as_deref() == Some(id) {
            return Err(refuse(
                "gateway",
                format!(
                    "{id} is already routed via gateway {}: stop routing it first",
                    vs.via.as_deref().unwrap_or("?")
                ),
            ));
        }
        if let Some(host) = vs.hosts.iter().find(|h| entry.hosts.contains(h)) {
            return Err(refuse(
                "spec.hosts",
                format!(
                    "{host} is already routed by VirtualService {}/{}: change or remove that \
                     one first",
                    vs.namespace, vs.name
                ),
            ));
        }
    }
    Ok(())
}

/// The objects of Istio's egress gateway task: a Gateway and a DestinationRule in the
/// gateway's namespace, and a VirtualService per host in the entry's.
fn route_objects(
    entry: &ServiceEntryView,
    gateway: &EgressGateway,
    id: &str,
    gateway_id: &str,
    number: i64,
    kind: RouteKind,
) -> Vec<RouteObject> {
    let name = route_name(&entry.namespace, &entry.name);
    let via = format!("{gateway_id}:{number}");
    let gateway_host = format!("{}.{}.svc.cluster.local", gateway.name, gateway.namespace);
    let (port_name, protocol) = match kind {
        RouteKind::Http => (format!("http-{number}"), "HTTP"),
        RouteKind::Tls => (format!("tls-{number}"), "TLS"),
    };
    let mut server = json!({
        "port": {"number": number, "name": port_name, "protocol": protocol},
        "hosts": entry.hosts,
    });
    if kind == RouteKind::Tls {
        server["tls"] = json!({"mode": "PASSTHROUGH"});
    }
    let mut objects = vec![
        RouteObject {
            kind: "Gateway".into(),
            namespace: gateway.namespace.clone(),
            name: name.clone(),
            object: json!({
                "kind": "Gateway",
                "metadata": metadata(&gateway.namespace, &name, &name, id, &via),
                "spec": {"selector": gateway.pod_labels, "servers": [server]},
            }),
        },
        RouteObject {
            kind: "DestinationRule".into(),
            namespace: gateway.namespace.clone(),
            name: name.clone(),
            object: json!({
                "kind": "DestinationRule",
                "metadata": metadata(&gateway.namespace, &name, &name, id, &via),
                "spec": {"host": gateway_host, "subsets": [{"name": name}]},
            }),
        },
    ];
    let route = Route {
        name: &name,
        id,
        via: &via,
        gateway_host: &gateway_host,
        gateway_ref: format!("{}/{name}", gateway.namespace),
        number,
        kind,
    };
    for (i, host) in entry.hosts.iter().enumerate() {
        let vs_name = match entry.hosts.len() {
            1 => name.clone(),
            _ => {
                let suffix = format!("-{}", i + 1);
                let base: String = name.chars().take(63 - suffix.len()).collect();
                format!("{}{suffix}", base.trim_end_matches('-'))
            }
        };
        objects.push(route.virtual_service(&entry.namespace, &vs_name, host));
    }
    objects
}

/// What every VirtualService of one route shares.
struct Route<'a> {
    name: &'a str,
    id: &'a str,
    via: &'a str,
    gateway_host: &'a str,
    gateway_ref: String,
    number: i64,
    kind: RouteKind,
}

impl Route<'_> {
    /// The VirtualService for `host`: from the sidecars to the gateway, and from the gateway
    /// to the host.
    fn virtual_service(&self, namespace: &str, vs_name: &str, host: &str) -> RouteObject {
        let (number, gateway_ref) = (self.number, &self.gateway_ref);
        let to_gateway = json!([{"destination": {"host": self.gateway_host, "subset": self.name, "port": {"number": number}}, "weight": 100}]);
        let to_host =
            json!([{"destination": {"host": host, "port": {"number": number}}, "weight": 100}]);
        let routes = match self.kind {
            RouteKind::Http => json!({"http": [
                {"match": [{"gateways": ["mesh"], "port": number}], "route": to_gateway},
                {"match": [{"gateways": [gateway_ref], "port": number}], "route": to_host},
            ]}),
            RouteKind::Tls => json!({"tls": [
                {"match": [{"gateways": ["mesh"], "port": number, "sniHosts": [host]}], "route": to_gateway},
                {"match": [{"gateways": [gateway_ref], "port": number, "sniHosts": [host]}], "route": to_host},
            ]}),
        };
        let mut spec = json!({"hosts": [host], "gateways": ["mesh", gateway_ref]});
        if let (Some(spec), Some(routes)) = (spec.as_object_mut(), routes.as_object()) {
            spec.extend(routes.clone());
        }
        RouteObject {
            kind: "VirtualService".into(),
            namespace: namespace.to_string(),
            name: vs_name.to_string(),
            object: json!({
                "kind": "VirtualService",
                "metadata": metadata(namespace, vs_name, self.name, self.id, self.via),
                "spec": spec,
            }),
        }
    }
}

mod seen;
pub use seen::{gateway_routes, mark_routed, routing, EntryRouting, VirtualServiceInfo};

#[cfg(test)]
mod tests;
