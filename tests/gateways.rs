//! Egress gateways as the real API server has them, on Service Mesh Manager's real CRDs.

mod common;

use common::TestNamespace;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use mesh_egress::domain::gateway::GatewaySource;

fn resource(group: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1alpha1", kind), plural)
}

#[tokio::test]
async fn labelled_services_and_smm_egress_gateways_are_listed_with_what_they_carry() {
    let ns = TestNamespace::new("gateways").await;
    let n = &ns.name;
    let service: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "egress-a", "namespace": n, "labels": {"istio": "egressgateway"}},
        "spec": {"selector": {"istio": "egressgateway", "app": "egress-a"},
                 "ports": [{"name": "http2", "port": 80}, {"name": "https", "port": 443}]}
    }))
    .expect("a Service");
    Api::<Service>::namespaced(ns.client.clone(), n)
        .create(&PostParams::default(), &service)
        .await
        .expect("create the labelled Service");
    // Service Mesh Manager's own: an IstioMeshGateway of type egress (and one for ingress).
    let smm = resource(
        "servicemesh.cisco.com",
        "IstioMeshGateway",
        "istiomeshgateways",
    );
    for (name, kind) in [("smm-egress", "egress"), ("smm-ingress", "ingress")] {
        let mut gateway = DynamicObject::new(name, &smm).within(n);
        gateway.data = serde_json::json!({"spec": {
            "type": kind,
            "istioControlPlane": {"name": "cp-v117x", "namespace": "istio-system"},
            "service": {"type": "ClusterIP", "ports": [{"name": "tls", "port": 443, "protocol": "TCP"}]}
        }});
        Api::<DynamicObject>::namespaced_with(ns.client.clone(), n, &smm)
            .create(&PostParams::default(), &gateway)
            .await
            .expect("create the IstioMeshGateway on the real CRD");
    }
    // An Istio Gateway that selects the SMM gateway's pods carries a host.
    let istio_gateway = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "Gateway"),
        "gateways",
    );
    let mut carrying = DynamicObject::new("through-smm", &istio_gateway).within(n);
    carrying.data = serde_json::json!({"spec": {
        "selector": {"gateway-name": "smm-egress", "gateway-type": "egress"},
        "servers": [{"port": {"number": 443, "name": "tls", "protocol": "TLS"},
                     "hosts": ["api.stripe.com"], "tls": {"mode": "PASSTHROUGH"}}]
    }});
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), n, &istio_gateway)
        .create(&PostParams::default(), &carrying)
        .await
        .expect("create the Gateway (istiod's webhook judges it)");

    let actor = common::local_actor(&ns.cluster().await);
    let listed = mesh_egress::service::egress_gateways(&actor)
        .await
        .expect("the gateways");
    let mine: Vec<_> = listed.iter().filter(|g| &g.namespace == n).collect();
    assert_eq!(
        mine.len(),
        2,
        "the labelled Service and the egress IstioMeshGateway: {mine:?}"
    );
    let labelled = mine.iter().find(|g| g.name == "egress-a").expect("listed");
    assert_eq!(labelled.source, GatewaySource::IstioLabel);
    assert_eq!(labelled.ports_label(), "80/http2, 443/https");
    assert!(labelled.hosts.is_empty());
    let smm_egress = mine
        .iter()
        .find(|g| g.name == "smm-egress")
        .expect("listed");
    assert_eq!(smm_egress.source, GatewaySource::IstioMeshGateway);
    assert_eq!(smm_egress.ports_label(), "443/tls");
    assert_eq!(smm_egress.hosts, ["api.stripe.com"]);
    assert_eq!(smm_egress.gateways, [format!("{n}/through-smm")]);
}
