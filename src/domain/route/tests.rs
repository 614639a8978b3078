use super::*;
use crate::domain::gateway::test_gateway;
use crate::domain::service_entry::{test_view, PortView};

fn entry(resolution: &str, ports: &[(i64, &str)], hosts: &[&str]) -> ServiceEntryView {
    let mut view = test_view("payments", "httpbin", hosts, &[]);
    view.resolution = resolution.into();
    view.ports = ports
        .iter()
        .map(|(number, protocol)| PortView {
            number: *number,
            name: protocol.to_ascii_lowercase(),
            protocol: protocol.to_string(),
            target_port: None,
        })
        .collect();
    view
}

fn gateway() -> EgressGateway {
    test_gateway(&[("istio", "egressgateway")])
}

#[test]
fn an_http_port_gets_the_tasks_three_objects_with_http_routes() {
    let e = entry("DNS", &[(80, "HTTP")], &["httpbin.org"]);
    let plan = plan(&e, &gateway(), None, &[]).expect("a plan");
    assert_eq!(plan.port, 80);
    assert_eq!(plan.kind, RouteKind::Http);
    let labels: Vec<String> = plan.objects.iter().map(RouteObject::label).collect();
    assert_eq!(
        labels,
        [
            "Gateway istio-system/egress-payments-httpbin",
            "DestinationRule istio-system/egress-payments-httpbin",
            "VirtualService payments/egress-payments-httpbin",
        ]
    );
    let gw = &plan.objects[0].object;
    assert_eq!(gw["spec"]["selector"]["istio"], "egressgateway");
    assert_eq!(gw["spec"]["servers"][0]["port"]["protocol"], "HTTP");
    assert!(gw["spec"]["servers"][0].get("tls").is_none());
    let dr = &plan.objects[1].object;
    assert_eq!(
        dr["spec"]["host"],
        "istio-egressgateway.istio-system.svc.cluster.local"
    );
    let vs = &plan.objects[2].object;
    assert_eq!(
        vs["spec"]["gateways"],
        json!(["mesh", "istio-system/egress-payments-httpbin"])
    );
    let http = &vs["spec"]["http"];
    assert_eq!(http[0]["match"][0]["gateways"], json!(["mesh"]));
    assert_eq!(
        http[0]["route"][0]["destination"]["subset"],
        "egress-payments-httpbin"
    );
    assert_eq!(http[1]["route"][0]["destination"]["host"], "httpbin.org");
    for object in &plan.objects {
        assert_eq!(
            object.object["metadata"]["annotations"][ROUTES_ANNOTATION],
            "payments/httpbin"
        );
        assert_eq!(
            object.object["metadata"]["labels"][ROUTE_LABEL],
            "egress-payments-httpbin"
        );
    }
}

#[test]
fn a_tls_port_is_passed_through_by_sni() {
    let e = entry("DNS", &[(80, "HTTP"), (443, "HTTPS")], &["httpbin.org"]);
    let plan = plan(&e, &gateway(), Some(443), &[]).expect("a plan");
    assert_eq!(plan.kind, RouteKind::Tls);
    let server = &plan.objects[0].object["spec"]["servers"][0];
    assert_eq!(server["tls"]["mode"], "PASSTHROUGH");
    assert_eq!(server["port"]["protocol"], "TLS");
    let tls = &plan.objects[2].object["spec"]["tls"];
    assert_eq!(tls[0]["match"][0]["sniHosts"], json!(["httpbin.org"]));
    assert_eq!(tls[1]["route"][0]["destination"]["port"]["number"], 443);
    assert!(plan.objects[2].object["spec"].get("http").is_none());
}

#[test]
fn routes_that_would_not_work_are_refused_at_their_field() {
    let gw = gateway();
    let field = |r: Result<RoutePlan, RouteRefusal>| r.expect_err("refused").field;
    let none = entry("NONE", &[(80, "HTTP")], &["httpbin.org"]);
    assert_eq!(field(plan(&none, &gw, None, &[])), "spec.resolution");
    let wild = entry("DNS", &[(80, "HTTP")], &["*.example.com"]);
    assert_eq!(field(plan(&wild, &gw, None, &[])), "spec.hosts");
    let two = entry("DNS", &[(80, "HTTP"), (443, "TLS")], &["httpbin.org"]);
    let refusal = plan(&two, &gw, None, &[]).expect_err("which port");
    assert_eq!(refusal.reason, "pick the port to route: 80 or 443");
    let tcp = entry("DNS", &[(5432, "TCP")], &["db.example.com"]);
    assert_eq!(field(plan(&tcp, &gw, Some(5432), &[])), "port");
    let other = entry("DNS", &[(8080, "HTTP")], &["httpbin.org"]);
    let refusal = plan(&other, &gw, None, &[]).expect_err("not exposed");
    assert_eq!(refusal.field, "gateway");
    assert!(
        refusal.reason.contains("does not expose port 8080"),
        "{refusal:?}"
    );
    let mut hidden = entry("DNS", &[(80, "HTTP")], &["httpbin.org"]);
    hidden.export_to = vec![".".into()];
    assert_eq!(field(plan(&hidden, &gw, None, &[])), "spec.exportTo");
    let by_hand = VirtualServiceInfo {
        namespace: "legacy".into(),
        name: "httpbin".into(),
        hosts: vec!["httpbin.org".into()],
        gateways: Vec::new(),
        routes: None,
        via: None,
        tls: false,
    };
    let e = entry("DNS", &[(80, "HTTP")], &["httpbin.org"]);
    let refusal = plan(&e, &gw, None, std::slice::from_ref(&by_hand)).expect_err("routed");
    assert!(
        refusal.reason.contains("VirtualService legacy/httpbin"),
        "{refusal:?}"
    );
}

#[test]
fn routing_is_recognised_as_ours_or_by_hand() {
    let e = entry("DNS", &[(80, "HTTP")], &["httpbin.org"]);
    assert_eq!(routing(&e, &[]), EntryRouting::Direct);
    let ours = VirtualServiceInfo {
        namespace: "payments".into(),
        name: "egress-payments-httpbin".into(),
        hosts: vec!["httpbin.org".into()],
        gateways: vec!["mesh".into(), "istio-system/egress-payments-httpbin".into()],
        routes: Some("payments/httpbin".into()),
        via: Some("istio-system/istio-egressgateway:80".into()),
        tls: false,
    };
    let routed = routing(&e, std::slice::from_ref(&ours));
    assert_eq!(
        routed.label().as_deref(),
        Some("via gateway istio-system/istio-egressgateway:80")
    );
    let hand = VirtualServiceInfo {
        namespace: "legacy".into(),
        name: "cnn".into(),
        hosts: vec!["httpbin.org".into()],
        gateways: vec!["mesh".into(), "istio-egressgateway".into()],
        routes: None,
        via: None,
        tls: false,
    };
    assert_eq!(
        routing(&e, &[hand]),
        EntryRouting::ByHand {
            virtual_services: vec!["legacy/cnn".into()],
            gateways: vec!["legacy/istio-egressgateway".into()],
        }
    );
}

#[test]
fn names_are_dns_labels() {
    let name = route_name("payments", &"a.b".repeat(40));
    assert!(name.len() <= 63 && !name.contains('.') && !name.ends_with('-'));
}
