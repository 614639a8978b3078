//! The fuzzing findings of #33, each written as the attack, against the whole HTTP application
//! (built as `main` builds it) on the real API server and istiod: requests that do not parse,
//! non-canonical paths, a partial delete precondition, unchecked references, messages in a
//! library's words, odd hosts and methods. Every attack answers 4xx, never 500, and changes
//! nothing in the cluster.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{httpbin_spec, kubeconfig, send, Answer, TestNamespace};
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use mesh_egress::cluster::{Cluster, ConnectOptions};
use std::collections::BTreeMap;
use std::sync::Arc;

async fn router() -> axum::Router {
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        istio_namespace: "istio-system".into(),
        ..Default::default()
    })
    .await
    .expect("client");
    mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster)))
}

/// A POST with this content type (none: no header) and body.
fn post(path: &str, content_type: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::post(path)
        .header("accept", "application/json")
        .header("host", "127.0.0.1:3000");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.body(Body::from(body)).expect("request")
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// What the whole cluster holds that an attack could change: every object of each kind
/// mesh-egress writes (uid and generation: istiod's status writes move only the
/// resourceVersion), and the mesh config; but for the namespaces the other tests of this file
/// make meanwhile.
async fn snapshot() -> BTreeMap<String, String> {
    let mut state = everything().await;
    state.retain(|key, _| !key.contains(" attack-"));
    state
}

/// The kinds mesh-egress writes: entries, namespace Sidecars, the routing objects, gateways.
const WRITTEN_KINDS: &[(&str, &str, &str, &str)] = &[
    (
        "networking.istio.io",
        "v1",
        "ServiceEntry",
        "serviceentries",
    ),
    ("networking.istio.io", "v1", "Sidecar", "sidecars"),
    (
        "networking.istio.io",
        "v1",
        "VirtualService",
        "virtualservices",
    ),
    ("networking.istio.io", "v1", "Gateway", "gateways"),
    (
        "networking.istio.io",
        "v1",
        "DestinationRule",
        "destinationrules",
    ),
    (
        "servicemesh.cisco.com",
        "v1alpha1",
        "IstioMeshGateway",
        "istiomeshgateways",
    ),
];

async fn everything() -> BTreeMap<String, String> {
    let client = common::admin_client().await;
    let mut state = BTreeMap::new();
    for (group, version, kind, plural) in WRITTEN_KINDS {
        let resource =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let objects = Api::<DynamicObject>::all_with(client.clone(), &resource)
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("list {kind}: {e}"));
        for object in objects {
            let meta = &object.metadata;
            let key = format!(
                "{kind} {}/{}",
                meta.namespace.clone().unwrap_or_default(),
                meta.name.clone().unwrap_or_default()
            );
            state.insert(key, format!("{:?} {:?}", meta.uid, meta.generation));
        }
    }
    let mesh = Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(client, "istio-system")
        .get_opt("istio")
        .await
        .expect("read the mesh config");
    state.insert(
        "mesh config".into(),
        format!("{:?}", mesh.and_then(|m| m.data)),
    );
    state
}

/// The `Invalid` error's field, when the answer is one.
fn invalid_field(answer: &Answer) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(&answer.body).ok()?;
    value
        .get("Invalid")?
        .get("field")?
        .as_str()
        .map(str::to_string)
}

/// Words of the libraries underneath that must never reach a person.
const LEAKED: &[&str] = &[
    "invalid type:",
    "expected a string",
    "error deserializing",
    "DuplicateKeyPolicy",
    "Options",
    "configured policy",
    "budget breached",
    "Depth {",
    "\\u{",
    "serde",
];

fn no_library_words(answer: &Answer) {
    for leaked in LEAKED {
        assert!(
            !answer.body.contains(leaked),
            "{leaked:?} in {}",
            answer.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_do_not_parse_get_400_naming_the_field_from_every_endpoint() {
    let router = router().await;
    let before = snapshot().await;
    let endpoints: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .filter(|path| !matches!(*path, "/api/sign_out"))
        .collect();
    assert!(endpoints.len() >= 28, "{endpoints:?}");
    for path in &endpoints {
        // A field given twice, or as a list: named, 400.
        for (body, field) in [
            ("namespace=a&namespace=b", "namespace"),
            ("name[]=a", "name"),
            ("mode=a&mode=b", "mode"),
        ] {
            let answer = send(&router, post(path, FORM, body.into())).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {}",
                answer.body
            );
            assert_eq!(
                invalid_field(&answer).as_deref(),
                Some(field),
                "{path}: {}",
                answer.body
            );
        }
        // Bodies that are not a form: refused, not read as one.
        for (content_type, body) in [
            (Some("text/plain"), b"namespace=a&name=b".to_vec()),
            (Some("application/json"), br#"{"namespace":"a"}"#.to_vec()),
            (Some("multipart/form-data; boundary=x"), b"--x--".to_vec()),
            (None, b"namespace=a".to_vec()),
        ] {
            let answer = send(&router, post(path, content_type, body)).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{path} {content_type:?}: {}",
                answer.body
            );
            assert_eq!(
                invalid_field(&answer).as_deref(),
                Some("Content-Type"),
                "{path}"
            );
        }
        let utf16: Vec<u8> = "namespace=a"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let answer = send(&router, post(path, FORM, utf16)).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.body
        );
        // No body at all: a server function with fields names the first one missing.
        let answer = send(&router, post(path, None, Vec::new())).await;
        assert_ne!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}: {}",
            answer.body
        );
        if answer.status == StatusCode::BAD_REQUEST {
            let field = invalid_field(&answer).unwrap_or_default();
            assert!(!field.is_empty(), "{path}: {}", answer.body);
        }
        no_library_words(&answer);
    }
    // A mistyped field: named, in plain words.
    let answer = send(
        &router,
        post(
            "/api/delete_service_entry",
            FORM,
            b"namespace=a&name=b&uid=u&resource_version=1&generation=x".to_vec(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(invalid_field(&answer).as_deref(), Some("generation"));
    let answer = send(
        &router,
        post("/api/create_service_entry_form", FORM, b"form=abc".to_vec()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(invalid_field(&answer).as_deref(), Some("form"));
    let answer = send(
        &router,
        post(
            "/api/create_service_entry_form",
            FORM,
            b"form[name]=a".to_vec(),
        ),
    )
    .await;
    assert_eq!(
        invalid_field(&answer).as_deref(),
        Some("form[namespace]"),
        "{}",
        answer.body
    );
    no_library_words(&answer);
    assert_eq!(snapshot().await, before, "nothing changed in the cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_canonical_paths_redirect_and_unknown_ones_are_404_never_500() {
    let router = router().await;
    for (path, canonical) in [
        ("/services/", "/services"),
        ("/traffic/", "/traffic"),
        ("/namespaces/default/", "/namespaces/default"),
        ("/./services", "/services"),
        ("//services?q=x", "/services?q=x"),
        ("/api/overview/", "/api/overview"),
    ] {
        let answer = send(
            &router,
            Request::get(path)
                .header("host", "127.0.0.1:3000")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(
            answer.headers.get("location").and_then(|l| l.to_str().ok()),
            Some(canonical),
            "{path}"
        );
    }
    let (status, body) = common::get_page(&router, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(!body.contains("internal error"), "{body}");
    // The site's files and unknown paths are read, never written.
    for method in ["PUT", "DELETE", "TRACE", "POST"] {
        let answer = send(
            &router,
            Request::builder()
                .method(method)
                .uri("/favicon.ico")
                .header("host", "127.0.0.1:3000")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_userinfo_or_given_twice_is_refused() {
    let router = router().await;
    let before = snapshot().await;
    let mut request = common::post_form("/api/set_outbound_policy", "mode=REGISTRY_ONLY", &[]);
    request.headers_mut().insert(
        "host",
        "127.0.0.1:3500@evil.example".parse().expect("header"),
    );
    assert_eq!(
        send(&router, request).await.status,
        StatusCode::MISDIRECTED_REQUEST
    );
    let mut request = common::post_form("/api/set_outbound_policy", "mode=REGISTRY_ONLY", &[]);
    request
        .headers_mut()
        .append("host", "evil.example".parse().expect("header"));
    assert_eq!(send(&router, request).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_with_part_of_its_precondition_is_refused_and_deletes_nothing() {
    let ns = TestNamespace::new("attack-delete").await;
    ns.create_service_entry("kept", httpbin_spec()).await;
    let router = router().await;
    for (form, field) in [
        // The fuzzer's: an empty uid used to drop every precondition.
        ("uid=&resource_version=1&generation=1", "uid"),
        ("resource_version=1", "uid"),
        ("uid=abc", "resource_version"),
        ("generation=1", "uid"),
        ("uid=abc&resource_version=1&generation=-1", "generation"),
    ] {
        let body = format!("namespace={}&name=kept&{form}", ns.name);
        let answer = send(
            &router,
            common::post_form("/api/delete_service_entry", &body, &[]),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{form}: {}",
            answer.body
        );
        assert_eq!(invalid_field(&answer).as_deref(), Some(field), "{form}");
        assert!(
            ns.service_entry("kept").await.is_some(),
            "{form} deleted it"
        );
    }
    // An edit's save without the version it previewed: refused, nothing written.
    let before = ns
        .service_entry("kept")
        .await
        .map(|e| e.metadata.resource_version);
    let body = format!(
        "namespace={}&name=kept&resource_version=&manifest=kind%3A+ServiceEntry",
        ns.name
    );
    let answer = send(
        &router,
        common::post_form("/api/save_service_entry_edit", &body, &[]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(invalid_field(&answer).as_deref(), Some("resource_version"));
    let after = ns
        .service_entry("kept")
        .await
        .map(|e| e.metadata.resource_version);
    assert_eq!(before, after, "nothing written");
    // A whole precondition that no longer holds: 409, still there.
    let body = format!(
        "namespace={}&name=kept&uid=00000000-0000-0000-0000-000000000000&resource_version=1",
        ns.name
    );
    let answer = send(
        &router,
        common::post_form("/api/delete_service_entry", &body, &[]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert!(ns.service_entry("kept").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_are_checked_before_a_write() {
    let ns = TestNamespace::new("attack-refs").await;
    let router = router().await;
    let before = snapshot().await;
    for plane in [
        "istio-system/nonexistent-cp",
        "../../../../etc/passwd",
        "Istio-System/CP",
        "istio-system/<b>x</b>",
        "",
    ] {
        let body = format!(
            "namespace={}&name=egress&ports=443+https&control_plane={}",
            ns.name,
            plane
                .replace('/', "%2F")
                .replace('<', "%3C")
                .replace('>', "%3E")
        );
        let answer = send(
            &router,
            common::post_form("/api/create_egress_gateway", &body, &[]),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{plane}: {}",
            answer.body
        );
        assert_eq!(
            invalid_field(&answer).as_deref(),
            Some("control_plane"),
            "{plane}"
        );
        // The value comes back as data (JSON, never sniffed as a page), for the page to escape.
        assert_eq!(
            answer
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        assert_eq!(
            answer
                .headers
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff")
        );
    }
    // A manifest without a namespace, and no namespace field: refused, never put in default.
    let manifest = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: attack-no-namespace\nspec:\n  hosts: [nowhere.example.com]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DNS\n";
    for extra in ["", "&namespace="] {
        let body = format!("manifest={}{extra}", urlencode(manifest));
        let answer = send(
            &router,
            common::post_form("/api/create_service_entry", &body, &[]),
        )
        .await;
        assert!(answer.status.is_client_error(), "{}", answer.body);
        assert!(
            answer.body.contains("metadata.namespace"),
            "{}",
            answer.body
        );
    }
    assert_eq!(snapshot().await, before, "nothing written");
    let mine = everything().await;
    assert!(
        !mine.keys().any(|k| k.contains(&ns.name)),
        "nothing in {}: {mine:?}",
        ns.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_in_words_for_people_not_a_library_s() {
    let router = router().await;
    let before = snapshot().await;
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    for manifest in [
        "kind: ServiceEntry\nkind: Pod\n",
        "spec:\n  x: 1e400\n",
        deep.as_str(),
        "a: *nowhere\n",
        "apiVersion: v1\nkind: [\n",
    ] {
        let body = format!("manifest={}&namespace=default", urlencode(manifest));
        let answer = send(
            &router,
            common::post_form("/api/create_service_entry", &body, &[]),
        )
        .await;
        assert!(
            answer.status.is_client_error(),
            "{manifest}: {}",
            answer.body
        );
        no_library_words(&answer);
    }
    let answer = send(
        &router,
        common::post_form(
            "/api/service_entries_page",
            "namespace=fuzz%E2%80%AEabc%E2%80%8F&q=&page=1&size=50",
            &[],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("<U+202E>"), "{}", answer.body);
    no_library_words(&answer);
    assert_eq!(snapshot().await, before);
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let router = router().await;
    let before = snapshot().await;
    let huge = format!("manifest={}&namespace=default", "a".repeat(2 * 1024 * 1024));
    let mut request = post("/api/create_service_entry", FORM, huge.clone().into_bytes());
    request
        .headers_mut()
        .insert("content-length", huge.len().into());
    let answer = send(&router, request).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    // Without a length (chunked), the read stops at the limit: refused all the same.
    let answer = send(
        &router,
        post("/api/create_service_entry", FORM, huge.into_bytes()),
    )
    .await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    assert_eq!(snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_manifest_does_not_create_an_entry() {
    let ns = TestNamespace::new("attack-list").await;
    let router = router().await;
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "listed", "namespace": ns.name}, "spec": httpbin_spec()
    }]});
    let body = format!("manifest={}", urlencode(&list.to_string()));
    let answer = send(
        &router,
        common::post_form("/api/create_service_entry", &body, &[]),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(answer.body.contains("is a List"), "{}", answer.body);
    assert!(ns.service_entry("listed").await.is_none());
}
