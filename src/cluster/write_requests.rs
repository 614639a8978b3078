//! The exact requests behind the writes, against a mocked API server (tower-test): what the
//! real control plane cannot show — the resourceVersion a ConfigMap is replaced with, the
//! merge-patch body for a control plane, `dryRun=All` before a create. Behaviour is tested
//! against the real apiserver in `tests/`.

use super::Cluster;
use crate::domain::{OutboundPolicyMode, PolicySetting};
use axum::http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{json, Value};
use tower_test::mock;

/// One request the mock expects, and its answer.
struct Exchange {
    method: Method,
    path: String,
    status: u16,
    answer: Value,
}

fn exchange(method: Method, path: impl Into<String>, status: u16, answer: Value) -> Exchange {
    Exchange {
        method,
        path: path.into(),
        status,
        answer,
    }
}

/// A request as the API server received it.
#[derive(Debug)]
struct Received {
    method: Method,
    query: String,
    content_type: String,
    body: Value,
}

impl Received {
    fn names_the_field_manager(&self) {
        assert!(
            self.query.contains("fieldManager=mesh-egress"),
            "{}",
            self.query
        );
    }
}

/// A cluster whose API server answers `script` in order; the handle yields what it received.
fn scripted(script: Vec<Exchange>) -> (Cluster, tokio::task::JoinHandle<Vec<Received>>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let server = tokio::spawn(async move {
        let mut handle = std::pin::pin!(handle);
        let mut received = Vec::new();
        for step in script {
            let (request, reply) = handle.next_request().await.expect("a request");
            assert_eq!(
                (request.method(), request.uri().path()),
                (&step.method, step.path.as_str()),
                "request {} in order",
                received.len() + 1
            );
            let query = request.uri().query().unwrap_or_default().to_string();
            let content_type = request
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let method = request.method().clone();
            let bytes = request.into_body().collect_bytes().await.expect("body");
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            received.push(Received {
                method,
                query,
                content_type,
                body,
            });
            let answer = Response::builder()
                .status(step.status)
                .body(Body::from(step.answer.to_string().into_bytes()))
                .expect("response");
            reply.send_response(answer);
        }
        received
    });
    let client = kube::Client::new(service, "default");
    (Cluster::with_client(client, "istio-system"), server)
}

fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
           "message": "the server could not find the requested resource", "code": 404})
}

const PLANES: &str =
    "/apis/servicemesh.cisco.com/v1alpha1/namespaces/istio-system/istiocontrolplanes";
const MESH: &str = "/api/v1/namespaces/istio-system/configmaps/istio";

fn mesh(resource_version: &str, document: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "istio", "namespace": "istio-system", "resourceVersion": resource_version},
           "data": {"mesh": document}})
}

#[tokio::test]
async fn the_mesh_config_map_is_replaced_with_the_resource_version_it_was_read_at() {
    let before = "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n";
    let after = format!("{before}outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n");
    let (cluster, server) = scripted(vec![
        exchange(Method::GET, PLANES, 404, not_found()),
        exchange(Method::GET, MESH, 200, mesh("42", before)),
        exchange(Method::PUT, MESH, 200, mesh("43", &after)),
        exchange(Method::GET, PLANES, 404, not_found()),
        exchange(Method::GET, MESH, 200, mesh("43", &after)),
    ]);
    let report = cluster
        .set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switched");
    assert_eq!(
        report.setting(),
        PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
    );
    let received = server.await.expect("the mock ran");
    let replace = &received[2];
    assert_eq!(replace.body["metadata"]["resourceVersion"], "42");
    let written = replace.body["data"]["mesh"].as_str().expect("mesh");
    assert!(written.contains("mode: REGISTRY_ONLY"), "{written}");
    assert!(
        written.contains("discoveryAddress: istiod.istio-system.svc:15012"),
        "{written}"
    );
    replace.names_the_field_manager();
}

#[tokio::test]
async fn a_control_plane_gets_a_merge_patch_of_the_one_field() {
    let plane = |mode: &str| {
        json!({"apiVersion": "servicemesh.cisco.com/v1alpha1", "kind": "IstioControlPlane",
               "metadata": {"name": "cp-v117x", "namespace": "istio-system", "resourceVersion": "5"},
               "spec": {"version": "1.17.8", "meshConfig": {"outboundTrafficPolicy": {"mode": mode}}}})
    };
    let list = |mode: &str| {
        json!({"apiVersion": "servicemesh.cisco.com/v1alpha1", "kind": "IstioControlPlaneList",
               "metadata": {"resourceVersion": "5"}, "items": [plane(mode)]})
    };
    let (cluster, server) = scripted(vec![
        exchange(Method::GET, PLANES, 200, list("ALLOW_ANY")),
        exchange(
            Method::PATCH,
            "/apis/servicemesh.cisco.com/v1alpha1/namespaces/istio-system/istiocontrolplanes/cp-v117x",
            200,
            plane("REGISTRY_ONLY"),
        ),
        exchange(Method::GET, PLANES, 200, list("REGISTRY_ONLY")),
    ]);
    cluster
        .set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switched");
    let received = server.await.expect("the mock ran");
    let patch = &received[1];
    assert_eq!(patch.method, Method::PATCH);
    assert_eq!(patch.content_type, "application/merge-patch+json");
    assert_eq!(
        patch.body,
        json!({"spec": {"meshConfig": {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}}})
    );
    patch.names_the_field_manager();
}

#[tokio::test]
async fn a_create_is_a_dry_run_first_and_the_write_after() {
    let entries = "/apis/networking.istio.io/v1/namespaces/shop/serviceentries";
    let created = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                         "metadata": {"name": "httpbin.org", "namespace": "shop"},
                         "spec": {"hosts": ["httpbin.org"], "resolution": "DNS"}});
    let groups = json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
        "name": "networking.istio.io",
        "versions": [{"groupVersion": "networking.istio.io/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "networking.istio.io/v1", "version": "v1"}}]});
    let resources = json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": "networking.istio.io/v1", "resources": [{
            "name": "serviceentries", "singularName": "serviceentry", "namespaced": true,
            "kind": "ServiceEntry", "verbs": ["create", "delete", "get", "list", "watch"]}]});
    let (cluster, server) = scripted(vec![
        exchange(Method::GET, "/apis", 200, groups),
        exchange(Method::GET, "/apis/networking.istio.io/v1", 200, resources),
        exchange(Method::POST, entries, 201, created.clone()),
        exchange(Method::POST, entries, 201, created.clone()),
    ]);
    let view = cluster
        .create_service_entry("shop", created)
        .await
        .expect("created");
    assert_eq!(view.hosts, ["httpbin.org"]);
    let received = server.await.expect("the mock ran");
    let (dry_run, write) = (&received[2], &received[3]);
    assert!(dry_run.query.contains("dryRun=All"), "{}", dry_run.query);
    assert!(!write.query.contains("dryRun"), "{}", write.query);
    assert_eq!(
        dry_run.body, write.body,
        "the write is what the dry run judged"
    );
    assert_eq!(write.body["metadata"]["namespace"], "shop");
}

#[tokio::test]
async fn a_route_failing_midway_removes_what_it_wrote() {
    use crate::domain::service_entry::{test_tls_port, test_view};
    let mut entry = test_view("shop", "stripe", &["api.stripe.com"], &[]);
    entry.ports = vec![test_tls_port(443)];
    let gateway = crate::domain::gateway::test_gateway(&[("istio", "egressgateway")]);
    let plan = crate::domain::route::plan(&entry, &gateway, None, &[]).expect("a plan");
    let groups = json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
        "name": "networking.istio.io",
        "versions": [{"groupVersion": "networking.istio.io/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "networking.istio.io/v1", "version": "v1"}}]});
    let resources = json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": "networking.istio.io/v1", "resources": []});
    const GATEWAYS: &str = "/apis/networking.istio.io/v1/namespaces/istio-system/gateways";
    const RULES: &str = "/apis/networking.istio.io/v1/namespaces/istio-system/destinationrules";
    const SERVICES: &str = "/apis/networking.istio.io/v1/namespaces/shop/virtualservices";
    let ok = |o: &crate::domain::route::RouteObject| o.object.clone();
    let refused = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "reason": "InternalError", "message": "etcdserver: request timed out", "code": 500});
    let (g, d, v) = (
        ok(&plan.objects[0]),
        ok(&plan.objects[1]),
        ok(&plan.objects[2]),
    );
    let (cluster, server) = scripted(vec![
        exchange(Method::GET, "/apis", 200, groups),
        exchange(Method::GET, "/apis/networking.istio.io/v1", 200, resources),
        // Every object judged first…
        exchange(Method::POST, GATEWAYS, 201, g.clone()),
        exchange(Method::POST, RULES, 201, d.clone()),
        exchange(Method::POST, SERVICES, 201, v.clone()),
        // …then written, and the third write fails:
        exchange(Method::POST, GATEWAYS, 201, g.clone()),
        exchange(Method::POST, RULES, 201, d.clone()),
        exchange(Method::POST, SERVICES, 500, refused),
        // what was written is removed again, the last first.
        exchange(
            Method::DELETE,
            format!("{RULES}/{}", plan.objects[1].name),
            200,
            d,
        ),
        exchange(
            Method::DELETE,
            format!("{GATEWAYS}/{}", plan.objects[0].name),
            200,
            g,
        ),
    ]);
    let error = cluster.write_route(&plan, false).await.expect_err("failed");
    assert!(error.message.ends_with("nothing was kept"), "{error:?}");
    let received = server.await.expect("the mock ran");
    assert!(received[2..5]
        .iter()
        .all(|r| r.query.contains("dryRun=All")));
    assert!(received[5..8].iter().all(|r| !r.query.contains("dryRun")));
    assert_eq!(received[8].method, Method::DELETE);
    assert_eq!(received[9].method, Method::DELETE);
}
