//! Calls routed through an egress gateway leave two traces in Istio's metrics: the caller's
//! sidecar reports a call to the gateway's Service, and the gateway reports its own call to the
//! host. Both are the same call: it is shown once, as a call from the workload to the host,
//! "via gateway X".

use super::{Row, RowKind};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Hosts a gateway carries on one kind of route, as mesh-egress wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayRoute {
    /// The gateway's Service (and Deployment), `namespace/name`.
    pub gateway: String,
    /// The port routed.
    pub port: i64,
    /// TLS passthrough (TCP-level metrics) rather than HTTP routes.
    pub tls: bool,
    /// The hosts routed.
    pub hosts: Vec<String>,
}

impl GatewayRoute {
    /// The gateway Service's name in the cluster's DNS, as Istio's metrics name it.
    pub fn service_host(&self) -> String {
        let (namespace, name) = self.gateway.split_once('/').unwrap_or_default();
        format!("{name}.{namespace}.svc.cluster.local")
    }

    fn is_source(&self, row: &Row) -> bool {
        self.gateway.split_once('/')
            == Some((row.source_namespace.as_str(), row.source_workload.as_str()))
    }
}

/// The rows as calls from workloads to hosts: a sidecar's call to a gateway becomes a call to
/// the host the gateway carries (when its metrics name the host, or the gateway carries one
/// host on that kind of route), marked `via`; the gateway's own call to such a host is then
/// left out (it is the same call). A gateway's calls not tied to a caller stay, marked `via`.
pub fn through_gateways<'a>(rows: &'a [Row], routes: &[GatewayRoute]) -> Cow<'a, [Row]> {
    if routes.is_empty() {
        return Cow::Borrowed(rows);
    }
    let mut out: Vec<Row> = Vec::with_capacity(rows.len());
    // (gateway, host) pairs some sidecar's call was attributed to.
    let mut attributed: Vec<(String, String)> = Vec::new();
    for row in rows {
        let tls = row.kind != RowKind::Requests;
        let to_gateway = routes
            .iter()
            .find(|r| r.service_host() == row.destination_service);
        let Some(route) = to_gateway else {
            out.push(row.clone());
            continue;
        };
        let named = (!row.destination_sni.is_empty() && row.destination_sni != "unknown")
            .then(|| row.destination_sni.clone());
        let mut hosts: Vec<&String> = routes
            .iter()
            .filter(|r| r.gateway == route.gateway && r.tls == tls)
            .flat_map(|r| r.hosts.iter())
            .collect();
        hosts.sort();
        hosts.dedup();
        let host = match (named, hosts.as_slice()) {
            (Some(host), _) => host,
            (None, [one]) => (*one).clone(),
            // Several hosts through one gateway, and metrics that do not say which.
            _ => continue,
        };
        attributed.push((route.gateway.clone(), host.clone()));
        let mut call = row.clone();
        call.destination_service = host.clone();
        call.destination_service_name = host;
        call.destination_workload = String::new();
        call.via = route.gateway.clone();
        out.push(call);
    }
    out.retain_mut(|row| {
        let Some(route) = routes.iter().find(|r| r.is_source(row)) else {
            return true;
        };
        if !row.via.is_empty() {
            return true; // a workload's call, attributed above
        }
        let pair = (route.gateway.clone(), row.destination_service.clone());
        if attributed.contains(&pair) {
            return false; // the same call as the workload's
        }
        row.via = route.gateway.clone();
        true
    });
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: RowKind, from: &str, service: &str, value: f64) -> Row {
        let (namespace, workload) = from.split_once('/').unwrap_or_default();
        Row {
            kind,
            source_namespace: namespace.into(),
            source_workload: workload.into(),
            destination_service: service.into(),
            destination_service_name: service.split('.').next().unwrap_or_default().into(),
            destination_workload: "istio-egressgateway".into(),
            value,
            ..Row::default()
        }
    }

    fn route(hosts: &[&str], tls: bool) -> GatewayRoute {
        GatewayRoute {
            gateway: "istio-system/istio-egressgateway".into(),
            port: if tls { 443 } else { 80 },
            tls,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    const GW: &str = "istio-egressgateway.istio-system.svc.cluster.local";

    #[test]
    fn a_call_through_the_gateway_is_shown_once_from_the_workload_to_the_host() {
        let mut gateway_leg = row(
            RowKind::Requests,
            "istio-system/istio-egressgateway",
            "httpbin.org",
            30.0,
        );
        gateway_leg.destination_workload = String::new();
        gateway_leg.destination_service_name = "httpbin.org".into();
        let rows = [row(RowKind::Requests, "shop/app", GW, 30.0), gateway_leg];
        let out = through_gateways(&rows, &[route(&["httpbin.org"], false)]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].source_workload, "app");
        assert_eq!(out[0].destination_service, "httpbin.org");
        assert!(out[0].destination_workload.is_empty());
        assert_eq!(out[0].via, "istio-system/istio-egressgateway");
    }

    #[test]
    fn without_a_way_to_tell_the_hosts_apart_the_gateways_own_calls_stay() {
        let mut gateway_leg = row(
            RowKind::Connections,
            "istio-system/istio-egressgateway",
            "api.stripe.com",
            5.0,
        );
        gateway_leg.destination_workload = String::new();
        let rows = [row(RowKind::Connections, "shop/app", GW, 5.0), gateway_leg];
        let routes = [route(&["api.stripe.com", "api.github.com"], true)];
        let out = through_gateways(&rows, &routes);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].source_workload, "istio-egressgateway");
        assert_eq!(out[0].via, "istio-system/istio-egressgateway");
        // With the SNI in the metrics (the Telemetry API), the workload's call is named.
        let mut named = rows.clone();
        named[0].destination_sni = "api.stripe.com".into();
        let out = through_gateways(&named, &routes);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].source_workload, "app");
        assert_eq!(out[0].destination_service, "api.stripe.com");
    }
}
