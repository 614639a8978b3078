//! Routing entries through an egress gateway, against the real API server (istiod's webhook
//! judges every object) and istiod (the traffic source's sidecar of a calling namespace routes
//! by what istiod pushes it).

mod common;

use common::traffic::{wait_for_verdict, Scenario};
use common::TestNamespace;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use mesh_egress::domain::route::{EntryRouting, ROUTE_LABEL};
use mesh_egress::domain::traffic::Window;
use mesh_egress::error::AppError;
use mesh_egress::service::{entry_routing, route_entry, stop_routing, traffic, Traffic};
use serde_json::json;
use std::time::Duration;

fn networking(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", kind),
        plural,
    )
}

/// Every object labelled as a mesh-egress route, in any namespace, as `Kind namespace/name`.
async fn route_objects(ns: &TestNamespace, route: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (kind, plural) in [
        ("Gateway", "gateways"),
        ("DestinationRule", "destinationrules"),
        ("VirtualService", "virtualservices"),
    ] {
        let list = Api::<DynamicObject>::all_with(ns.client.clone(), &networking(kind, plural))
            .list(&ListParams::default().labels(&format!("{ROUTE_LABEL}={route}")))
            .await
            .expect("list");
        for o in list.items {
            found.push(format!(
                "{kind} {}/{}",
                o.metadata.namespace.unwrap_or_default(),
                o.metadata.name.unwrap_or_default()
            ));
        }
    }
    found
}

/// An egress gateway's Service (labelled istio=egressgateway) exposing 80 and 443.
async fn gateway_service(ns: &TestNamespace) {
    let service: Service = serde_json::from_value(json!({
        "metadata": {"name": "egress", "namespace": ns.name, "labels": {"istio": "egressgateway"}},
        "spec": {"selector": {"istio": "egressgateway", "gateway-of": ns.name},
                 "ports": [{"name": "http2", "port": 80}, {"name": "https", "port": 443}]}
    }))
    .expect("a Service");
    Api::<Service>::namespaced(ns.client.clone(), &ns.name)
        .create(&PostParams::default(), &service)
        .await
        .expect("create the gateway's Service");
}

fn entry(host: &str, port: u16, protocol: &str, resolution: &str) -> serde_json::Value {
    json!({"hosts": [host], "location": "MESH_EXTERNAL", "resolution": resolution,
           "ports": [{"number": port, "name": protocol.to_lowercase(), "protocol": protocol}]})
}

fn field(error: AppError) -> String {
    match error {
        AppError::Invalid { field, reason } => format!("{field}: {reason}"),
        other => panic!("expected a refusal at a field, got {other:?}"),
    }
}

#[tokio::test]
async fn http_and_tls_entries_route_through_the_gateway_by_what_istiod_pushes_and_stop_cleanly() {
    let owner = TestNamespace::new("route").await;
    let gateway_ns = TestNamespace::new("route-gw").await;
    let client = TestNamespace::new("route-client").await;
    let (o, g, c) = (&owner.name, &gateway_ns.name, &client.name);
    gateway_service(&gateway_ns).await;
    let web = format!("web.{o}.example.org");
    let secure = format!("secure.{o}.example.org");
    owner
        .create_service_entry("web", entry(&web, 80, "HTTP", "DNS"))
        .await;
    owner
        .create_service_entry("secure", entry(&secure, 443, "TLS", "DNS"))
        .await;
    // The gateway's pods (the Service's selector): calls istiod routes to it are played again
    // from a router proxy with these labels, as the gateway's own calls.
    let _scenario = Scenario::play(
        c,
        &format!(
            "calls:\n\
             - {{from: {c}/app, to: {web}, port: 80, protocol: HTTP, perMinute: 120}}\n\
             - {{from: {c}/app, to: {secure}, port: 443, protocol: TLS, perMinute: 120}}\n\
             gateways:\n\
             - {{service: {g}/egress, labels: {{istio: egressgateway, gateway-of: {g}}}}}\n"
        ),
    );
    let http_line = format!("{c}/app -> {web}:80/HTTP/");
    let tls_line = format!("{c}/app -> {secure}:443/TLS/");
    wait_for_verdict(&http_line, &format!("registered {web} (http")).await;
    wait_for_verdict(&tls_line, &format!("registered {secure} (tcp")).await;

    let actor = common::local_actor(&owner.cluster().await);
    let via = format!("{g}/egress");
    let routed = route_entry(&actor, o, "web", &via, "")
        .await
        .expect("route the HTTP entry");
    assert_eq!(routed.port, 80);
    let route = format!("egress-{o}-web");
    assert_eq!(
        route_objects(&owner, &route).await,
        [
            format!("Gateway {g}/{route}"),
            format!("DestinationRule {g}/{route}"),
            format!("VirtualService {o}/{route}"),
        ]
    );
    // The calling namespace's sidecar now sends the host to the gateway's subset (the
    // DestinationRule is on its lookup path: the cluster exists and names the gateway).
    let to_gateway = format!("registered egress (http, destination_service=egress.{g}.svc");
    wait_for_verdict(&http_line, &to_gateway).await;
    // The gateway (a router proxy of its pods' labels) sends it on to the host, as istiod
    // configured it from the Gateway and the VirtualService's second route.
    wait_for_verdict(
        &format!("{g}/egress -> {web}:80/HTTP/"),
        &format!("registered {web} (http"),
    )
    .await;
    // The traffic join shows it once: from the workload to the host, via the gateway.
    let watching = common::traffic::actor(
        owner.cluster().await,
        Traffic::new(
            Some(common::traffic::prometheus(Duration::from_secs(5))),
            Duration::from_secs(6),
        ),
    );
    let mut seen = None;
    for _ in 0..60 {
        let report = traffic(&watching, Window::Hour).await.expect("traffic");
        seen = report
            .destinations
            .into_iter()
            .find(|d| d.host.as_deref() == Some(web.as_str()) && d.via.is_some());
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let seen = seen.expect("the calls through the gateway, in the traffic report");
    assert_eq!(seen.via.as_deref(), Some(via.as_str()));
    let callers: Vec<String> = seen
        .callers
        .iter()
        .map(|c| format!("{}/{}", c.namespace, c.workload))
        .collect();
    assert_eq!(
        callers,
        [format!("{c}/app")],
        "the gateway's own calls are the same calls"
    );

    // TLS, through the CLI as a person would run it: passthrough by SNI.
    let entry_id = format!("{o}/secure");
    let (ok, out, err) = common::mesh_egress(&["route", "--via", &via, &entry_id, "--port", "443"]);
    assert!(ok, "{out}{err}");
    let secure_route = format!("egress-{o}-secure");
    assert_eq!(
        out.trim(),
        format!(
            "routed {entry_id} port 443 via gateway {via}: wrote Gateway {g}/{secure_route}, \
             DestinationRule {g}/{secure_route}, VirtualService {o}/{secure_route}"
        )
    );
    wait_for_verdict(
        &tls_line,
        &format!("registered egress (tcp, destination_service=egress.{g}.svc"),
    )
    .await;
    let (ok, out, _) = common::mesh_egress(&["route", &entry_id]);
    assert!(ok);
    assert!(
        out.starts_with(&format!("{entry_id} is routed via gateway {via}:443 (")),
        "{out}"
    );

    // Shown as routed; routing it again is refused, and nothing more is written.
    let view = entry_routing(&actor, o, "web").await.expect("routing");
    assert_eq!(
        view.routing.label().as_deref(),
        Some(format!("via gateway {via}:80").as_str())
    );
    let again = route_entry(&actor, o, "web", &via, "80")
        .await
        .expect_err("already routed");
    assert!(field(again).contains("already routed"));
    assert_eq!(route_objects(&owner, &route).await.len(), 3);

    // Stop routing: nothing left behind, and the sidecar goes straight to the host again.
    let removed = stop_routing(&actor, o, "web").await.expect("stop");
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(route_objects(&owner, &route).await.is_empty());
    wait_for_verdict(&http_line, &format!("registered {web} (http")).await;
    let (ok, out, err) = common::mesh_egress(&["route", "--stop", &entry_id]);
    assert!(ok, "{err}");
    assert!(out.starts_with(&format!(
        "stopped routing {entry_id} through a gateway: removed "
    )));
    assert!(route_objects(&owner, &secure_route).await.is_empty());
    wait_for_verdict(&tls_line, &format!("registered {secure} (tcp")).await;
    let view = entry_routing(&actor, o, "secure").await.expect("routing");
    assert_eq!(view.routing, EntryRouting::Direct);
}

#[tokio::test]
async fn refused_routes_write_nothing_and_routing_by_hand_is_left_alone() {
    let owner = TestNamespace::new("route-refused").await;
    let o = &owner.name;
    gateway_service(&owner).await;
    let via = format!("{o}/egress");
    let actor = common::local_actor(&owner.cluster().await);
    owner
        .create_service_entry(
            "loop",
            entry(&format!("loop.{o}.example.org"), 80, "HTTP", "NONE"),
        )
        .await;
    owner
        .create_service_entry(
            "db",
            entry(&format!("db.{o}.example.org"), 5432, "TCP", "DNS"),
        )
        .await;
    owner
        .create_service_entry(
            "alt",
            entry(&format!("alt.{o}.example.org"), 8080, "HTTP", "DNS"),
        )
        .await;
    let refused = |name: &'static str, port: &'static str| {
        let (actor, via) = (&actor, &via);
        async move {
            field(
                route_entry(actor, o, name, via, port)
                    .await
                    .expect_err(name),
            )
        }
    };
    assert!(refused("loop", "")
        .await
        .starts_with("spec.resolution: resolution NONE"));
    assert!(refused("db", "5432")
        .await
        .starts_with("port: port 5432 is TCP"));
    let not_exposed = refused("alt", "").await;
    assert!(
        not_exposed.starts_with(&format!("gateway: {via} does not expose port 8080")),
        "{not_exposed}"
    );
    let (ok, _, err) = common::mesh_egress(&["route", "--via", &via, &format!("{o}/loop")]);
    assert!(!ok);
    assert!(err.contains("spec.resolution"), "{err}");
    for name in ["loop", "db", "alt"] {
        assert!(route_objects(&owner, &format!("egress-{o}-{name}"))
            .await
            .is_empty());
    }

    // A VirtualService written by hand for a host: recognised, shown, and never removed.
    let host = format!("legacy.{o}.example.org");
    owner
        .create_service_entry("legacy", entry(&host, 80, "HTTP", "DNS"))
        .await;
    let resource = networking("VirtualService", "virtualservices");
    let mut by_hand = DynamicObject::new("legacy-through-egress", &resource).within(o);
    by_hand.data = json!({"spec": {
        "hosts": [host], "gateways": ["mesh", "istio-egressgateway"],
        "http": [{"route": [{"destination": {"host": host}}]}]
    }});
    Api::<DynamicObject>::namespaced_with(owner.client.clone(), o, &resource)
        .create(&PostParams::default(), &by_hand)
        .await
        .expect("a VirtualService written by hand");
    let mut routing = EntryRouting::Direct;
    for _ in 0..50 {
        routing = entry_routing(&actor, o, "legacy")
            .await
            .expect("routing")
            .routing;
        if routing != EntryRouting::Direct {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        routing,
        EntryRouting::ByHand {
            virtual_services: vec![format!("{o}/legacy-through-egress")],
            gateways: vec![format!("{o}/istio-egressgateway")],
        }
    );
    let stop = field(
        stop_routing(&actor, o, "legacy")
            .await
            .expect_err("by hand"),
    );
    assert!(stop.contains("written by hand"), "{stop}");
    let elsewhere = field(
        route_entry(&actor, o, "legacy", &via, "")
            .await
            .expect_err("taken"),
    );
    assert!(
        elsewhere.contains(&format!(
            "already routed by VirtualService {o}/legacy-through-egress"
        )),
        "{elsewhere}"
    );
    Api::<DynamicObject>::namespaced_with(owner.client.clone(), o, &resource)
        .get("legacy-through-egress")
        .await
        .expect("the VirtualService written by hand is still there");
}
