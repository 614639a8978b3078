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
    // Gateways select pods in every namespace (those of earlier runs' namespaces too).
    assert!(
        smm_egress.gateways.contains(&format!("{n}/through-smm")),
        "{:?}",
        smm_egress.gateways
    );
}

#[tokio::test]
async fn an_egress_gateway_is_created_as_an_istio_mesh_gateway_where_smm_manages_the_mesh() {
    use mesh_egress::domain::mesh_gateway::MeshGatewayForm;
    use mesh_egress::error::AppError;
    use mesh_egress::service::{control_planes, create_mesh_gateway, egress_gateways};
    let ns = TestNamespace::new("smm-gateway").await;
    let n = &ns.name;
    let actor = common::local_actor(&ns.cluster().await);
    // A plain Istio install (no control plane here): nothing to create it in.
    assert!(control_planes(&actor).await.expect("planes").is_empty());
    let icp = resource(
        "servicemesh.cisco.com",
        "IstioControlPlane",
        "istiocontrolplanes",
    );
    let mut plane = DynamicObject::new("cp-v117x", &icp).within(n);
    plane.data = serde_json::json!({"spec": {"version": "1.17.1", "mode": "ACTIVE"}});
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), n, &icp)
        .create(&PostParams::default(), &plane)
        .await
        .expect("an IstioControlPlane");
    let planes = control_planes(&actor).await.expect("planes");
    assert_eq!(planes, [format!("{n}/cp-v117x")]);

    let form = |name: &str, ports: &str| MeshGatewayForm {
        namespace: n.clone(),
        name: name.into(),
        ports: ports.into(),
        control_plane: planes[0].clone(),
    };
    let smm = resource(
        "servicemesh.cisco.com",
        "IstioMeshGateway",
        "istiomeshgateways",
    );
    let stored = |name: &'static str| {
        let api = Api::<DynamicObject>::namespaced_with(ns.client.clone(), n, &smm);
        async move { api.get_opt(name).await.expect("get") }
    };
    // Refused at its field, and nothing written; a dry run writes nothing either.
    match create_mesh_gateway(&actor, form("egress", "80 HTTP"), false).await {
        Err(AppError::Invalid { field, .. }) => assert_eq!(field, "ports"),
        other => panic!("expected a refusal of ports, got {other:?}"),
    }
    create_mesh_gateway(&actor, form("egress", "443"), true)
        .await
        .expect("a dry run");
    assert!(stored("egress").await.is_none());

    let id = create_mesh_gateway(&actor, form("egress", "80 http2, 443 https"), false)
        .await
        .expect("created on the real CRD");
    assert_eq!(id, format!("{n}/egress"));
    let object = stored("egress").await.expect("written");
    assert_eq!(object.data["spec"]["type"], "egress");
    assert_eq!(object.data["spec"]["istioControlPlane"]["name"], "cp-v117x");
    assert_eq!(
        object.data["spec"]["service"]["ports"][1]["targetPort"],
        8443
    );
    let listed = egress_gateways(&actor).await.expect("listed");
    let mine = listed
        .iter()
        .find(|g| &g.namespace == n && g.name == "egress")
        .expect("the new gateway is listed");
    assert_eq!(mine.source, GatewaySource::IstioMeshGateway);
    assert_eq!(mine.ports_label(), "80/http2, 443/https");
    match create_mesh_gateway(&actor, form("egress", "443"), false).await {
        Err(AppError::Conflict { message }) => assert!(message.contains("exists already")),
        other => panic!("expected a conflict, got {other:?}"),
    }

    // An entry routed through it: the Gateway selects SMM's pod labels.
    ns.create_service_entry(
        "stripe",
        serde_json::json!({"hosts": [format!("api.{n}.example.org")], "resolution": "DNS",
            "location": "MESH_EXTERNAL", "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]}),
    )
    .await;
    let plan = mesh_egress::service::route_entry(&actor, n, "stripe", &id, "")
        .await
        .expect("routed through the SMM gateway");
    let selector = &plan.objects[0].object["spec"]["selector"];
    assert_eq!(selector["gateway-name"], "egress");
    assert_eq!(selector["gateway-type"], "egress");
    assert_eq!(
        plan.objects[1].object["spec"]["host"],
        format!("egress.{n}.svc.cluster.local")
    );
    mesh_egress::service::stop_routing(&actor, n, "stripe")
        .await
        .expect("stopped");
}
