//! Egress gateways: the Services labelled `istio=egressgateway` (Istio's chart and task) and
//! Service Mesh Manager's `IstioMeshGateway`s of `spec.type: egress` (their Service is named
//! after the resource, their pods labelled `gateway-name`/`gateway-type`), with the hosts the
//! Istio `Gateway`s that select their pods carry.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where an egress gateway comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GatewaySource {
    /// A Service labelled `istio=egressgateway` (Istio's `gateway` Helm chart, the task).
    IstioLabel,
    /// Service Mesh Manager's `IstioMeshGateway` of type egress.
    IstioMeshGateway,
}

impl GatewaySource {
    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::IstioLabel => "Service labelled istio=egressgateway",
            Self::IstioMeshGateway => "IstioMeshGateway (Service Mesh Manager)",
        }
    }
}

/// One port of a gateway's Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayPort {
    /// The port number.
    pub number: i64,
    /// Its name (`http2`, `https`, `tls`…), which tells Istio the protocol.
    pub name: String,
}

/// An egress gateway and what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressGateway {
    /// Its namespace.
    pub namespace: String,
    /// Its name (the Service's).
    pub name: String,
    /// Where it comes from.
    pub source: GatewaySource,
    /// Its Service's ports.
    pub ports: Vec<GatewayPort>,
    /// The labels of its pods (what an Istio `Gateway` selects).
    pub pod_labels: BTreeMap<String, String>,
    /// The Istio `Gateway`s that select its pods (`namespace/name`).
    pub gateways: Vec<String>,
    /// The hosts those Gateways' servers carry.
    pub hosts: Vec<String>,
}

impl EgressGateway {
    /// `80/http2, 443/https`.
    pub fn ports_label(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("{}/{}", p.number, p.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An Istio `Gateway` as the gateways list needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayObject {
    /// `namespace/name`.
    pub id: String,
    /// `spec.selector`.
    pub selector: BTreeMap<String, String>,
    /// Every server's hosts (`namespace/host` or `host`).
    pub hosts: Vec<String>,
}

/// Adds to each gateway the Gateways that select its pods and the hosts they carry (a
/// `namespace/host` entry is shown as its host).
pub fn with_carried(
    mut gateways: Vec<EgressGateway>,
    objects: &[GatewayObject],
) -> Vec<EgressGateway> {
    for gateway in &mut gateways {
        for object in objects {
            let selects = !object.selector.is_empty()
                && object
                    .selector
                    .iter()
                    .all(|(k, v)| gateway.pod_labels.get(k) == Some(v));
            if !selects {
                continue;
            }
            gateway.gateways.push(object.id.clone());
            for host in &object.hosts {
                let host = host.rsplit_once('/').map_or(host.as_str(), |(_, h)| h);
                if !gateway.hosts.iter().any(|h| h == host) {
                    gateway.hosts.push(host.to_string());
                }
            }
        }
        gateway.hosts.sort();
    }
    gateways.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    gateways
}

/// The demo's gateway for tests: `istio-system/istio-egressgateway`, ports 80 and 443, its
/// pods labelled `labels`.
#[cfg(test)]
pub(crate) fn test_gateway(labels: &[(&str, &str)]) -> EgressGateway {
    EgressGateway {
        namespace: "istio-system".into(),
        name: "istio-egressgateway".into(),
        source: GatewaySource::IstioLabel,
        ports: vec![
            GatewayPort {
                number: 80,
                name: "http2".into(),
            },
            GatewayPort {
                number: 443,
                name: "https".into(),
            },
        ],
        pod_labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        gateways: Vec::new(),
        hosts: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(labels: &[(&str, &str)]) -> EgressGateway {
        test_gateway(labels)
    }

    #[test]
    fn a_gateway_carries_the_hosts_of_the_gateways_that_select_it() {
        let objects = [
            GatewayObject {
                id: "istio-system/egress-cnn".into(),
                selector: [("istio".to_string(), "egressgateway".to_string())].into(),
                hosts: vec!["edition.cnn.com".into(), "./api.example.com".into()],
            },
            GatewayObject {
                id: "istio-system/ingress".into(),
                selector: [("istio".to_string(), "ingressgateway".to_string())].into(),
                hosts: vec!["shop.example.com".into()],
            },
        ];
        let listed = with_carried(
            vec![gateway(&[("istio", "egressgateway"), ("app", "x")])],
            &objects,
        );
        assert_eq!(listed[0].gateways, ["istio-system/egress-cnn"]);
        assert_eq!(listed[0].hosts, ["api.example.com", "edition.cnn.com"]);
        assert_eq!(listed[0].ports_label(), "80/http2, 443/https");
        let none = with_carried(vec![gateway(&[("app", "x")])], &objects);
        assert!(none[0].hosts.is_empty());
    }
}
