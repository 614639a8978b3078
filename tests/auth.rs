//! Who may change the mesh: shared mode with token sign-in against the test control plane's
//! static tokens, RBAC-aware answers, 401 without a session, 403 for cross-site writes and
//! forbidden changes, audit Events naming the user, and no token in the logs.

mod common;

use axum::http::StatusCode;
use common::{httpbin_spec, kubeconfig, token, TestNamespace};
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use kube::api::{Api, ListParams};
use mesh_egress::auth::{AuthMode, SessionKeys};
use mesh_egress::cluster::{Cluster, ConnectOptions};
use std::path::PathBuf;
use std::sync::Arc;

async fn shared_router(ns: &TestNamespace) -> axum::Router {
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        istio_namespace: ns.name.clone(),
        ..Default::default()
    })
    .await
    .expect("client");
    mesh_egress::server::router_with_auth(
        common::leptos_options(),
        Arc::new(Ok(cluster)),
        Arc::new(AuthMode::Token {
            sessions: SessionKeys::random(),
            secure_cookies: false,
            revoked: Default::default(),
        }),
    )
}

async fn post(
    router: &axum::Router,
    path: &str,
    form: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> (StatusCode, String, Option<String>) {
    let mut headers = extra.to_vec();
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    let answer = common::send(router, common::post_form(path, form, &headers)).await;
    let set_cookie = answer
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_string());
    (answer.status, answer.body, set_cookie)
}

async fn sign_in(router: &axum::Router, user: &str) -> String {
    let (status, body, cookie) = post(
        router,
        "/api/sign_in",
        &format!("token={}", token(user)),
        None,
        &[],
    )
    .await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status}: {body}"
    );
    let cookie = cookie.expect("a session cookie");
    assert!(
        !cookie.contains(&token(user)),
        "the token is sealed, not readable"
    );
    assert!(!body.contains(&token(user)), "the token is never sent back");
    cookie
}

async fn mesh_config_map(ns: &TestNamespace) -> Api<ConfigMap> {
    let api = Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name);
    if api.get_opt("istio").await.expect("get").is_none() {
        ns.create_mesh_config("istio", "trustDomain: cluster.local\n")
            .await;
    }
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_writes_get_401_and_cross_site_writes_403() {
    let ns = TestNamespace::new("auth-anon").await;
    let config_maps = mesh_config_map(&ns).await;
    let router = shared_router(&ns).await;
    let (status, body, _) = post(
        &router,
        "/api/set_outbound_policy",
        "mode=REGISTRY_ONLY",
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let admin = sign_in(&router, "admin").await;
    let (status, _, _) = post(
        &router,
        "/api/set_outbound_policy",
        "mode=REGISTRY_ONLY",
        Some(&admin),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mesh = config_maps
        .get("istio")
        .await
        .expect("get")
        .data
        .expect("data")["mesh"]
        .clone();
    assert!(!mesh.contains("REGISTRY_ONLY"), "nothing changed: {mesh}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_limited_user_sees_and_changes_only_what_rbac_allows() {
    let ns = TestNamespace::new("auth-dev").await;
    let config_maps = mesh_config_map(&ns).await;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    let router = shared_router(&ns).await;
    let dev = sign_in(&router, "dev").await;

    let (status, body, _) = post(&router, "/api/overview", "", Some(&dev), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let overview: serde_json::Value = serde_json::from_str(&body).expect("json");
    let names: Vec<&str> = overview["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    assert_eq!(names, vec!["team-dev"], "only what dev may list");
    // dev may not read where the policy lives: it is hidden (not read with the server's
    // identity), as /api/outbound_policy refuses it too.
    let hidden = overview["policy"]["Hidden"]["reason"]
        .as_str()
        .expect("the policy is hidden from dev");
    assert!(hidden.contains("forbidden"), "{hidden}");
    let reason = overview["policy_access"]["Denied"]["reason"]
        .as_str()
        .expect("denied");
    assert_eq!(reason, hidden);
    let (status, body, _) = post(&router, "/api/outbound_policy", "", Some(&dev), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body, _) = post(
        &router,
        "/api/set_outbound_policy",
        "mode=REGISTRY_ONLY",
        Some(&dev),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("forbidden") || body.contains("Forbidden"),
        "{body}"
    );
    assert!(body.contains("dev"), "names the user: {body}");
    let mesh = config_maps
        .get("istio")
        .await
        .expect("get")
        .data
        .expect("data")["mesh"]
        .clone();
    assert!(!mesh.contains("REGISTRY_ONLY"), "nothing changed");

    let form = format!("namespace={}&name=httpbin.org", ns.name);
    let (status, body, _) =
        post(&router, "/api/delete_service_entry", &form, Some(&dev), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = post(
        &router,
        "/api/service_entries",
        &format!("namespace={}", ns.name),
        Some(&dev),
        &[],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "cannot list another namespace"
    );

    let (status, body, _) = post(
        &router,
        "/api/namespace_access",
        "namespace=team-dev",
        Some(&dev),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"delete\":\"Allowed\""), "{body}");
    let (_, body, _) = post(
        &router,
        "/api/namespace_access",
        &format!("namespace={}", ns.name),
        Some(&dev),
        &[],
    )
    .await;
    assert!(
        body.contains(&format!(
            "you may not delete serviceentries in namespace {}",
            ns.name
        )),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_changes_anything_and_every_change_leaves_an_event_naming_the_user() {
    let ns = TestNamespace::new("auth-admin").await;
    let _ = mesh_config_map(&ns).await;
    let router = shared_router(&ns).await;
    let admin = sign_in(&router, "admin").await;
    let (status, body, _) = post(
        &router,
        "/api/set_outbound_policy",
        "mode=REGISTRY_ONLY",
        Some(&admin),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let manifest = serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "httpbin.org", "namespace": ns.name}, "spec": httpbin_spec()
    });
    let form = format!(
        "manifest={}",
        mesh_egress::domain::url_encode(&serde_json::to_string(&manifest).expect("json"))
    );
    let (status, body, _) = post(
        &router,
        "/api/create_service_entry",
        &form,
        Some(&admin),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let target = format!("namespace={}&name=httpbin.org", ns.name);
    let (status, body, _) = post(
        &router,
        "/api/delete_service_entry",
        &target,
        Some(&admin),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = post(
        &router,
        "/api/undo_delete_service_entry",
        &target,
        Some(&admin),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let events = Api::<Event>::namespaced(ns.client.clone(), &ns.name)
        .list(&ListParams::default())
        .await
        .expect("events");
    let reasons: Vec<(String, String)> = events
        .items
        .iter()
        .map(|e| {
            (
                e.reason.clone().unwrap_or_default(),
                e.message.clone().unwrap_or_default(),
            )
        })
        .collect();
    for reason in [
        "OutboundPolicySwitched",
        "ServiceEntryCreated",
        "ServiceEntryDeleted",
        "ServiceEntryRestored",
    ] {
        let (_, message) = reasons
            .iter()
            .find(|(r, _)| r == reason)
            .unwrap_or_else(|| panic!("an Event for {reason}: {reasons:?}"));
        assert!(message.starts_with("admin "), "{reason}: {message}");
    }
    let (_, switched) = reasons
        .iter()
        .find(|(r, _)| r == "OutboundPolicySwitched")
        .expect("switch");
    assert!(
        switched.contains("not set (Istio's default: ALLOW_ANY) → REGISTRY_ONLY"),
        "{switched}"
    );
}

/// The real server, in token mode, with its log captured: no token ever appears in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_log() {
    let dir = std::env::temp_dir().join(format!("mesh-egress-log-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("server.log");
    let port = 3300 + (rand::random::<u16>() % 500);
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
        .args([
            "--kubeconfig",
            kubeconfig().to_str().expect("utf-8"),
            "serve",
            "--auth",
            "token",
            "--addr",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .env(
            "LEPTOS_SITE_ROOT",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/site"),
        )
        .env("LEPTOS_OUTPUT_NAME", "mesh-egress")
        .env("RUST_LOG", "info,mesh_egress=debug")
        .stderr(std::fs::File::create(&log).expect("log file"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the server");
    let client = |path: &str, body: String, cookie: Option<&str>| {
        let mut args = vec![
            "-s".to_string(),
            "-o".into(),
            "/dev/null".into(),
            "-D".into(),
            "-".into(),
            "-X".into(),
            "POST".into(),
            "-H".into(),
            "accept: application/json".into(),
            "--data".into(),
            body,
        ];
        if let Some(cookie) = cookie {
            args.extend(["-H".to_string(), format!("cookie: {cookie}")]);
        }
        args.push(format!("http://127.0.0.1:{port}{path}"));
        let out = std::process::Command::new("curl")
            .args(&args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for user in ["admin", "dev"] {
        let headers = client("/api/sign_in", format!("token={}", token(user)), None);
        let cookie = headers
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string();
        client("/api/overview", String::new(), Some(&cookie));
        client(
            "/api/set_outbound_policy",
            "mode=nonsense".into(),
            Some(&cookie),
        );
    }
    client(
        "/api/sign_in",
        "token=not-a-real-token-0123456789".into(),
        None,
    );
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("signed in"), "the log has content: {text}");
    for secret in [
        token("admin"),
        token("dev"),
        "not-a-real-token-0123456789".to_string(),
    ] {
        assert!(!text.contains(&secret), "a token leaked into the log");
    }
}
