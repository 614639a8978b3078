//! Outgoing calls, end to end below the browser: the traffic source (its verdicts from what the
//! real istiod pushes), the real Prometheus that scrapes it, and mesh-egress's PromQL and join.
//! Each test plays its own scenario file, from callers in its own namespaces.

mod common;

use common::traffic::*;
use common::{kubeconfig, TestNamespace};
use kube::api::{Api, DeleteParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use mesh_egress::auth::AuthMode;
use mesh_egress::domain::traffic::{CallProtocol, Destination, TrafficReport, Verdict, Window};
use mesh_egress::prometheus::{Prometheus, PrometheusConfig};
use mesh_egress::service::{Actor, Traffic};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The mesh-wide policy is one for all: the test that switches it runs alone.
static MESH: RwLock<()> = RwLock::const_new(());

#[tokio::test]
async fn the_traffic_source_routes_as_istiod_says_policy_sidecar_and_entries() {
    let _alone = MESH.write().await;
    let ns = TestNamespace::new("verdicts").await;
    http_listener_on_80(&ns).await;
    let n = &ns.name;
    let _scenario = Scenario::play(
        n,
        &format!(
            "calls:\n\
             - {{from: {n}/app, to: verdict-http.{n}.example, port: 80, protocol: HTTP, perMinute: 120}}\n\
             - {{from: {n}/app, to: verdict-tls.{n}.example, port: 443, protocol: TLS, perMinute: 120}}\n"
        ),
    );
    let http = format!("{n}/app -> verdict-http.{n}.example:80/HTTP/");
    let registered = format!("registered verdict-http.{n}.example");
    let tls = format!("{n}/app -> verdict-tls.{n}.example:443/TLS/");
    // The demo's mesh config leaves the policy unset: ALLOW_ANY.
    wait_for_verdict(&http, "PassthroughCluster (http").await;
    wait_for_verdict(&tls, "PassthroughCluster (tcp").await;
    wait_for_series("istio_requests_total", n, &format!(r#"destination_service="verdict-http.{n}.example",destination_service_name="PassthroughCluster""#)).await;

    // A ServiceEntry registers the host: its calls now go to the entry's cluster.
    ns.create_service_entry(
        "verdict-http",
        serde_json::json!({
            "hosts": [format!("verdict-http.{n}.example")],
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            "resolution": "DNS", "location": "MESH_EXTERNAL"
        }),
    )
    .await;
    wait_for_verdict(&http, &registered).await;
    wait_for_series(
        "istio_requests_total",
        n,
        &format!(r#"destination_service_name="verdict-http.{n}.example""#),
    )
    .await;

    // A Sidecar restricts the namespace: the unregistered TLS host is blocked, the registered
    // one is not.
    create_restricting_sidecar(&ns).await;
    wait_for_verdict(&tls, "BlackHoleCluster (tcp").await;
    wait_for_series(
        "istio_tcp_connections_opened_total",
        n,
        r#"destination_service_name="BlackHoleCluster",response_flags="UH""#,
    )
    .await;
    assert!(verdict(&http)
        .await
        .is_some_and(|v| v.starts_with("registered")));
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), n, &sidecar_resource())
        .delete("default", &DeleteParams::default())
        .await
        .expect("delete the Sidecar");
    wait_for_verdict(&tls, "PassthroughCluster (tcp").await;

    // The mesh-wide switch, through mesh-egress itself, blocks it again; switching back opens it.
    let mesh = common::istio_system_cluster().await;
    use mesh_egress::domain::OutboundPolicyMode;
    mesh.set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switch to REGISTRY_ONLY");
    let blocked = async {
        wait_for_verdict(&tls, "BlackHoleCluster (tcp").await;
        wait_for_verdict(&http, &registered).await;
    };
    let outcome = tokio::time::timeout(WAIT * 2, blocked).await;
    mesh.set_policy(&OutboundPolicyMode::AllowAny, None)
        .await
        .expect("switch back to ALLOW_ANY");
    outcome.expect("the switch reached the traffic");
    wait_for_verdict(&tls, "PassthroughCluster (tcp").await;
}

/// Reads the report until `done` holds for it.
async fn report_until(actor: &Actor, done: impl Fn(&TrafficReport) -> bool) -> TrafficReport {
    let start = Instant::now();
    loop {
        let report = mesh_egress::service::traffic(actor, Window::Hour)
            .await
            .expect("the traffic report");
        if done(&report) || start.elapsed() > WAIT {
            return report;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn from<'a>(report: &'a TrafficReport, namespace: &str) -> Vec<&'a Destination> {
    report
        .destinations
        .iter()
        .filter(|d| d.callers.iter().any(|c| c.namespace == namespace))
        .collect()
}

#[tokio::test]
async fn promql_reads_every_kind_of_destination_from_the_real_prometheus() {
    let _shared = MESH.read().await;
    let open = TestNamespace::new("kinds").await;
    let strict = TestNamespace::new("kinds-strict").await;
    // Hosts and the address are the namespace's own: earlier runs' entries stay registered.
    let db_address = format!("198.51.100.{}", 1 + rand::random::<u8>() % 254);
    open.create_service_entry(
        "registered-http",
        serde_json::json!({
            "hosts": [format!("registered-http.{}.example", open.name)],
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            "resolution": "DNS"
        }),
    )
    .await;
    open.create_service_entry(
        "registered-db",
        serde_json::json!({
            "hosts": [format!("db.{}.example", open.name)],
            "addresses": [&db_address],
            "ports": [{"number": 5432, "name": "tcp-db", "protocol": "TCP"}],
            "resolution": "STATIC",
            "endpoints": [{"address": &db_address}]
        }),
    )
    .await;
    create_restricting_sidecar(&strict).await;
    let (o, s) = (&open.name, &strict.name);
    let _scenario = Scenario::play(
        o,
        &format!(
            "calls:\n\
             - {{from: {o}/app, to: registered-http.{o}.example, port: 80, protocol: HTTP, perMinute: 120}}\n\
             - {{from: {o}/app, to: {db_address}, port: 5432, protocol: TCP, perMinute: 60}}\n\
             - {{from: {o}/app, to: passthrough.{o}.example, port: 80, protocol: HTTP, perMinute: 60}}\n\
             - {{from: {o}/app, to: tls.{o}.example, port: 443, protocol: TLS, perMinute: 60}}\n\
             - {{from: {o}/app, to: 10.244.250.9, port: 8080, protocol: HTTP, perMinute: 60, toWorkload: {o}/ledger}}\n\
             - {{from: {s}/app, to: blocked.{s}.example, port: 80, protocol: HTTP, perMinute: 60}}\n"
        ),
    );
    let traffic = Traffic::new(
        Some(prometheus(Duration::from_secs(5))),
        Duration::from_secs(6),
    );
    let actor = actor(open.cluster().await, traffic);
    let report = report_until(&actor, |r| from(r, o).len() >= 4 && !from(r, s).is_empty()).await;
    let mine = from(&report, o);
    let find = |host: Option<&str>| {
        mine.iter()
            .find(|d| d.host.as_deref() == host)
            .unwrap_or_else(|| panic!("no destination {host:?} from {o} in {mine:#?}"))
    };

    let http = find(Some(&format!("registered-http.{o}.example")));
    assert_eq!(
        (http.verdict.clone(), http.protocol),
        (Verdict::Registered, CallProtocol::Http)
    );
    assert_eq!(http.entries[0].name, "registered-http");
    assert!(http.callers[0].requests > 0.0);

    let db = find(Some(&format!("db.{o}.example")));
    assert_eq!(
        (db.verdict.clone(), db.protocol),
        (Verdict::Registered, CallProtocol::Tcp)
    );
    assert!(db.callers[0].connections > 0.0 && db.bytes() > 0.0);

    let passthrough = find(Some(&format!("passthrough.{o}.example")));
    assert_eq!(
        (passthrough.verdict.clone(), passthrough.protocol),
        (Verdict::Passthrough, CallProtocol::Http)
    );

    let unnamed = find(None);
    assert_eq!(
        (unnamed.verdict.clone(), unnamed.protocol),
        (Verdict::Passthrough, CallProtocol::Tcp),
        "TLS without a host name"
    );
    assert_eq!(
        mine.len(),
        4,
        "the pod called by its address is not external: {mine:#?}"
    );

    let blocked = from(&report, s);
    assert_eq!(
        blocked[0].host.as_deref(),
        Some(format!("blocked.{s}.example").as_str())
    );
    assert_eq!(blocked[0].verdict, Verdict::Blocked);
    assert!(
        blocked[0].error_rate() > 0.99,
        "a blocked HTTP call answers 502"
    );

    // The preview blocks the open namespace's passthrough calls and knows the strict one is
    // restricted already.
    let preview = mesh_egress::service::policy_preview(&actor, Window::Hour)
        .await
        .expect("preview");
    let lines: Vec<String> = preview
        .preview
        .blocked
        .iter()
        .map(mesh_egress::domain::traffic::blocked_line)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{o}/app -> passthrough.{o}.example:80 (HTTP), "))),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{o}/app -> unknown host:? (TCP), "))),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with(&format!("{s}/"))),
        "{lines:#?}"
    );
    assert!(preview
        .preview
        .already_restricted
        .iter()
        .any(|(ns, _)| ns == s));
}

#[tokio::test]
async fn the_command_line_dry_run_prints_what_would_be_blocked_and_changes_nothing() {
    let _shared = MESH.read().await;
    let ns = TestNamespace::new("dry-run").await;
    http_listener_on_80(&ns).await;
    let n = &ns.name;
    let _scenario = Scenario::play(
        n,
        &format!("calls:\n- {{from: {n}/worker, to: dry.{n}.example, port: 80, protocol: HTTP, perMinute: 120}}\n"),
    );
    let config_map = || async {
        Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(ns.client.clone(), "istio-system")
            .get("istio")
            .await
            .expect("the mesh ConfigMap")
            .metadata
            .resource_version
    };
    let before = config_map().await;
    // NB: port 80, where the mesh has an HTTP listener (HTTP on a port without one passes
    // through as TCP, with no host name).
    let expected = format!("{n}/worker -> dry.{n}.example:80 (HTTP), ");
    let start = Instant::now();
    let (code, stdout, stderr) = loop {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
            .args([
                "--kubeconfig",
                kubeconfig().to_str().expect("utf-8"),
                "--prometheus",
                &prometheus_url(),
            ])
            .args(["outbound-traffic-policy", "restricted", "--dry-run"])
            .env_remove("RUST_LOG")
            .output()
            .expect("run mesh-egress");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if stdout.contains(&expected) || start.elapsed() > WAIT {
            break (output.status.code(), stdout, stderr);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let mut lines = stdout.lines();
    let summary = lines.next().unwrap_or_default();
    assert!(
        summary.starts_with("REGISTRY_ONLY would block ")
            && summary.ends_with("dry run: nothing was changed"),
        "{summary}"
    );
    assert!(lines.any(|l| l.starts_with(&expected)), "{stdout}");
    assert_eq!(config_map().await, before, "a dry run writes nothing");
}

#[tokio::test]
async fn the_telemetry_resource_the_pages_offer_names_tls_hosts() {
    let _shared = MESH.read().await;
    let ns = TestNamespace::new("telemetry").await;
    let n = &ns.name;
    // The pages' Telemetry resource, applied to this namespace only (no selector: every
    // workload of the namespace).
    let mut telemetry: serde_json::Value =
        mesh_egress::domain::yaml::document(mesh_egress::domain::traffic::TELEMETRY_FOR_HOST_NAMES)
            .expect("the Telemetry YAML parses");
    telemetry["metadata"]["namespace"] = serde_json::json!(n);
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("telemetry.istio.io", "v1", "Telemetry"),
        "telemetries",
    );
    let object: DynamicObject = serde_json::from_value(telemetry).expect("an object");
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), n, &resource)
        .create(&PostParams::default(), &object)
        .await
        .expect("create the Telemetry");
    let _scenario = Scenario::play(
        n,
        &format!("calls:\n- {{from: {n}/app, to: sni.{n}.example, port: 443, protocol: TLS, perMinute: 120}}\n"),
    );
    let traffic = Traffic::new(
        Some(prometheus(Duration::from_secs(5))),
        Duration::from_secs(6),
    );
    let actor = actor(ns.cluster().await, traffic);
    let host = format!("sni.{n}.example");
    let report = report_until(&actor, |r| {
        from(r, n)
            .iter()
            .any(|d| d.host.as_deref() == Some(host.as_str()))
    })
    .await;
    let named = from(&report, n);
    let d = named
        .iter()
        .find(|d| d.host.as_deref() == Some(host.as_str()))
        .unwrap_or_else(|| panic!("the TLS host is not named: {named:#?}"));
    assert_eq!(
        (d.verdict.clone(), d.protocol, d.port),
        (Verdict::Passthrough, CallProtocol::Tcp, Some(443))
    );
    assert_eq!(
        d.allow_link().as_deref(),
        Some(format!("/new?host={host}&port=443&protocol=TLS&namespace={n}").as_str())
    );
}

/// A stand-in Prometheus that answers every request with `answer` after `delay` (or never).
async fn fake_prometheus(answer: Option<&'static str>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                match answer {
                    Some(text) => {
                        let _ = socket.write_all(text.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(120)).await,
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn pages_render_with_a_notice_when_prometheus_is_down_slow_or_failing() {
    let _shared = MESH.read().await;
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        format!("http://{addr}")
    };
    let slow = fake_prometheus(None).await;
    let failing = fake_prometheus(Some(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n\
         {\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"too many queries\"}",
    ))
    .await;
    let cases = [
        (refused, "cannot reach it"),
        (slow, "loading"),
        (failing, "too many queries"),
    ];
    let cluster = common::istio_system_cluster().await;
    for (url, words) in cases {
        let prometheus = Prometheus::new(PrometheusConfig {
            url: url.clone(),
            bearer_token_file: None,
            ca_file: None,
            timeout: Duration::from_secs(10),
        })
        .expect("client");
        let serving = mesh_egress::server::Serving {
            auth: Arc::new(AuthMode::Local),
            traffic: Traffic::new(Some(prometheus), mesh_egress::service::FIRST_WAIT),
            hosts: mesh_egress::server::HostPolicy::default(),
            live_connections: mesh_egress::server::MAX_LIVE_CONNECTIONS,
            undo_for: mesh_egress::service::UNDO_SECONDS,
        };
        let router = mesh_egress::server::router_with(
            common::leptos_options(),
            Arc::new(Ok(cluster.clone())),
            serving,
        );
        for path in ["/", "/traffic", "/namespaces/smm-demo", "/services"] {
            let start = Instant::now();
            let answer = common::send(
                &router,
                axum::http::Request::get(path)
                    .header("host", "127.0.0.1:3000")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await;
            let took = start.elapsed();
            assert_eq!(answer.status, 200, "{url} {path}: {}", answer.body);
            assert!(
                answer.body.contains("data-testid=\"traffic-notice\""),
                "{url} {path}: no notice"
            );
            assert!(
                answer.body.contains(words),
                "{url} {path}: the notice does not say {words:?}"
            );
            // Not a speed target: the page must not wait for Prometheus's 10 s timeout.
            assert!(
                took < Duration::from_secs(5),
                "{url} {path} waited {took:?} for Prometheus"
            );
        }
    }
}
