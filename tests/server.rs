//! The HTTP server without a socket (`router` + `oneshot`): health, readiness, metrics.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::kubeconfig;
use mesh_egress::cluster::{Cluster, ConnectOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn router_for(kubeconfig: std::path::PathBuf) -> axum::Router {
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig),
        istio_namespace: "istio-system".into(),
        ..Default::default()
    })
    .await
    .expect("client");
    mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster)))
}

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String) {
    common::get_page(router, path).await
}

/// A sample's value, for a metric line that starts with `prefix`.
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Every line is a comment or `name{labels} value` with a numeric value.
fn assert_prometheus_text(text: &str) {
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        assert!(value.parse::<f64>().is_ok(), "numeric value in {line:?}");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "closed labels in {line:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_until_the_cache_syncs_and_while_the_cluster_is_unreachable() {
    let unreachable = common::unreachable_kubeconfig();
    let router = router_for(unreachable).await;
    let (status, body) = get(&router, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        get(&router, "/healthz").await.0,
        StatusCode::OK,
        "alive all the same"
    );

    let router = router_for(kubeconfig()).await;
    let started = Instant::now();
    loop {
        let (status, body) = get(&router, "/readyz").await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ready once synced: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_move_with_requests() {
    let router = router_for(kubeconfig()).await;
    let (status, before) = get(&router, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_prometheus_text(&before);
    let series = "mesh_egress_http_requests_total{route=\"/api/outbound_policy\",method=\"POST\",status=\"200\"}";
    let count_before = sample(&before, series);
    for _ in 0..2 {
        let answer =
            common::send(&router, common::post_form("/api/outbound_policy", "", &[])).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let (_, after) = get(&router, "/metrics").await;
    assert_prometheus_text(&after);
    assert_eq!(sample(&after, series), count_before + 2.0, "{after}");
    let buckets = after
        .lines()
        .filter(|l| l.starts_with("mesh_egress_http_request_duration_seconds_bucket{"))
        .filter(|l| l.contains("route=\"/api/outbound_policy\""))
        .count();
    assert_eq!(buckets, 12, "11 bounds and +Inf for the route: {after}");
    assert!(after.contains("# TYPE mesh_egress_cached_service_entries gauge"));
}

async fn post_policy(
    router: &axum::Router,
    mode: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let answer = common::send(
        router,
        common::post_form("/api/set_outbound_policy", &format!("mode={mode}"), headers),
    )
    .await;
    (answer.status, answer.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_writes_are_refused_and_change_nothing() {
    let ns = common::TestNamespace::new("csrf").await;
    let config_maps = ns
        .create_mesh_config("istio", "trustDomain: cluster.local\n")
        .await;
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        istio_namespace: ns.name.clone(),
        ..Default::default()
    })
    .await
    .expect("client");
    let router = mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster)));
    let mesh = || async {
        config_maps
            .get("istio")
            .await
            .expect("get")
            .data
            .expect("data")["mesh"]
            .clone()
    };
    let before = mesh().await;

    for headers in [
        vec![("origin", "https://evil.example")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let (status, body) = post_policy(&router, "REGISTRY_ONLY", &headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        assert!(body.contains("cross-origin request refused"), "{body}");
        assert_eq!(mesh().await, before, "nothing changed for {headers:?}");
    }

    // The dashboard's own pages, and non-browser clients, pass.
    let (status, body) = post_policy(
        &router,
        "REGISTRY_ONLY",
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_policy(&router, "ALLOW_ANY", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(mesh().await.contains("ALLOW_ANY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_nonce_csp_and_the_security_headers() {
    let router = router_for(kubeconfig()).await;
    let answer = common::send(
        &router,
        Request::get("/")
            .header("host", "127.0.0.1:3000")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    let headers = answer.headers;
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("CSP")
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src")
        .to_string();
    assert_eq!(
        headers.get("x-content-type-options").expect("nosniff"),
        "nosniff"
    );
    assert!(headers.get("referrer-policy").is_some());
    let html = answer.body;
    let scripts = html.matches("<script").count();
    let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(scripts > 0);
    assert!(
        with_nonce >= scripts,
        "every inline script carries the nonce: {scripts} scripts, {with_nonce} nonces"
    );
}

/// The admin kubeconfig with a token the API server does not know (revoked or expired).
fn revoked_kubeconfig() -> std::path::PathBuf {
    let admin = std::fs::read_to_string(kubeconfig()).expect("read kubeconfig");
    let token = std::fs::read_to_string(kubeconfig().with_file_name("tokens").join("admin"))
        .expect("admin token");
    let revoked = admin.replace(token.trim(), "revoked-token-0000");
    let path =
        std::env::temp_dir().join(format!("mesh-egress-revoked-{:08x}", rand::random::<u32>()));
    std::fs::write(&path, revoked).expect("write kubeconfig");
    path
}

/// A 401 from the API server is "sign in", never RBAC advice about a missing permission.
#[tokio::test]
async fn a_rejected_token_leads_to_sign_in_not_to_rbac_advice() {
    let router = router_for(revoked_kubeconfig()).await;
    let answer = common::send(&router, common::post_form("/api/overview", "", &[])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    let error: mesh_egress::error::AppError =
        serde_json::from_str(&answer.body).expect("an AppError");
    assert!(
        matches!(error, mesh_egress::error::AppError::Unauthenticated { .. }),
        "{error:?}"
    );
    let hint = error.hint().unwrap_or_default();
    assert!(hint.contains("Sign in"), "{hint}");
    assert!(!hint.contains("RBAC"), "{hint}");
}

/// Every server function sets the status its error calls for, including refusals made
/// before the cluster is asked.
#[tokio::test]
async fn refusals_carry_their_status_on_every_path() {
    let router = router_for(kubeconfig()).await;
    let bad_mode = common::send(
        &router,
        common::post_form("/api/set_outbound_policy", "mode=open", &[]),
    )
    .await;
    assert_eq!(
        bad_mode.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_mode.body
    );
    assert!(bad_mode.body.contains("mode"), "{}", bad_mode.body);
    let bad_manifest = common::send(
        &router,
        common::post_form("/api/create_service_entry", "manifest=kind%3A+Pod", &[]),
    )
    .await;
    assert_eq!(
        bad_manifest.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_manifest.body
    );
}

/// A request as a browser sends it, for `host`.
fn for_host(method: &str, path: &str, host: &str, form: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from(form.to_string()))
        .expect("request")
}

#[tokio::test]
async fn a_rebound_host_name_gets_421_and_changes_nothing() {
    // A page at http://rebind.example:3000 whose name now resolves to 127.0.0.1 is
    // same-origin from its own point of view: the CSRF check passes, the Host check does not.
    let ns = common::TestNamespace::new("rebind").await;
    ns.create_mesh_config("istio", "trustDomain: cluster.local\n")
        .await;
    let cluster = ns.cluster().await;
    let before = cluster.policy_report(None).await.expect("report").setting();
    let router =
        mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster.clone())));
    for host in [
        "rebind.example:3000",
        "rebind.example",
        "127.0.0.1.nip.io:3000",
        "[::2]:3000",
    ] {
        let page = common::send(&router, for_host("GET", "/", host, "")).await;
        assert_eq!(page.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(!page.body.contains("mesh-egress</a>"), "{host}: no page");
        let switch = common::send(
            &router,
            for_host(
                "POST",
                "/api/set_outbound_policy",
                host,
                "mode=REGISTRY_ONLY",
            ),
        )
        .await;
        assert_eq!(switch.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    assert_eq!(
        cluster.policy_report(None).await.expect("report").setting(),
        before,
        "nothing changed"
    );
    // Loopback names and addresses are answered; probes answer any host.
    for host in [
        "127.0.0.1:3000",
        "localhost:3000",
        "[::1]:3000",
        "LOCALHOST",
    ] {
        let page = common::send(&router, for_host("GET", "/", host, "")).await;
        assert_eq!(page.status, StatusCode::OK, "{host}");
    }
    let probe = common::send(&router, for_host("GET", "/healthz", "10.244.0.7:8080", "")).await;
    assert_eq!(probe.status, StatusCode::OK);
}

#[tokio::test]
async fn public_host_names_are_answered_too() {
    let cluster = common::istio_system_cluster().await;
    let serving = mesh_egress::server::Serving {
        auth: Arc::new(mesh_egress::auth::AuthMode::Local),
        traffic: mesh_egress::service::Traffic::default(),
        hosts: mesh_egress::server::HostPolicy::new(
            Some("10.1.2.3".parse().expect("ip")),
            &["mesh-egress.example.com".to_string()],
        ),
        live_connections: mesh_egress::server::MAX_LIVE_CONNECTIONS,
        undo_for: mesh_egress::service::UNDO_SECONDS,
    };
    let router =
        mesh_egress::server::router_with(common::leptos_options(), Arc::new(Ok(cluster)), serving);
    for (host, status) in [
        ("mesh-egress.example.com", StatusCode::OK),
        ("Mesh-Egress.Example.com.:443", StatusCode::OK),
        ("10.1.2.3:8080", StatusCode::OK),
        ("other.example.com", StatusCode::MISDIRECTED_REQUEST),
    ] {
        let answer = common::send(&router, for_host("GET", "/", host, "")).await;
        assert_eq!(answer.status, status, "{host}: {}", answer.body);
    }
}

async fn open_events(router: &axum::Router, cookie: Option<&str>) -> axum::response::Response {
    use tower::ServiceExt;
    let mut request = Request::get("/api/events").header("host", "127.0.0.1:3000");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

#[tokio::test]
async fn live_connections_are_capped_and_a_closed_one_frees_its_place() {
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        ..Default::default()
    })
    .await
    .expect("connect");
    let serving = mesh_egress::server::Serving {
        auth: Arc::new(mesh_egress::auth::AuthMode::Local),
        traffic: mesh_egress::service::Traffic::default(),
        hosts: mesh_egress::server::HostPolicy::default(),
        live_connections: 2,
        undo_for: mesh_egress::service::UNDO_SECONDS,
    };
    let router =
        mesh_egress::server::router_with(common::leptos_options(), Arc::new(Ok(cluster)), serving);
    let first = open_events(&router, None).await;
    let second = open_events(&router, None).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = open_events(&router, None).await;
    assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(third.into_body(), 1 << 16)
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&body).contains("2 pages are already live"));
    drop(first);
    let again = open_events(&router, None).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "a closed page gives its place back"
    );
    drop(second);
}

#[tokio::test]
async fn in_shared_mode_the_live_stream_needs_someone_signed_in() {
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        ..Default::default()
    })
    .await
    .expect("connect");
    let router = mesh_egress::server::router_with_auth(
        common::leptos_options(),
        Arc::new(Ok(cluster)),
        Arc::new(mesh_egress::auth::AuthMode::Token {
            sessions: mesh_egress::auth::SessionKeys::random(),
            secure_cookies: false,
            revoked: Default::default(),
        }),
    );
    let anonymous = open_events(&router, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let forged = open_events(&router, Some("mesh_egress_session=forged")).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_slow_loris_connection_is_closed_and_shutdown_drains_in_bounded_time() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        ..Default::default()
    })
    .await
    .expect("connect");
    let router = mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = mesh_egress::listen::Limits {
        header_read: Duration::from_secs(1),
        drain: Duration::from_secs(1),
    };
    let server = tokio::spawn(mesh_egress::listen::serve(
        listener,
        router,
        limits,
        async {
            let _ = stopped.await;
        },
    ));

    // Headers that never end: the server hangs up instead of holding the connection.
    let mut loris = tokio::net::TcpStream::connect(addr).await.expect("connect");
    loris
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match loris.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue, // a 408 before closing is fine
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the slow connection was still open after 10 s"
    );

    // A whole request is answered.
    let mut client = tokio::net::TcpStream::connect(addr).await.expect("connect");
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    client.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A live page open at shutdown does not hold the server for longer than the drain time.
    let mut live = tokio::net::TcpStream::connect(addr).await.expect("connect");
    live.write_all(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let _ = live.read(&mut buf).await;
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("shut down within the drain time")
        .expect("server task");
}

#[tokio::test]
async fn in_shared_mode_probes_and_metrics_are_only_on_their_own_port() {
    let cluster = common::istio_system_cluster().await;
    let serving = || mesh_egress::server::Serving {
        auth: Arc::new(mesh_egress::auth::AuthMode::Token {
            sessions: mesh_egress::auth::SessionKeys::random(),
            secure_cookies: false,
            revoked: Default::default(),
        }),
        traffic: mesh_egress::service::Traffic::default(),
        hosts: mesh_egress::server::HostPolicy::default(),
        live_connections: mesh_egress::server::MAX_LIVE_CONNECTIONS,
        undo_for: mesh_egress::service::UNDO_SECONDS,
    };
    let app = mesh_egress::server::router_with(
        common::leptos_options(),
        Arc::new(Ok(cluster.clone())),
        serving(),
    );
    for path in ["/metrics", "/readyz"] {
        let (status, body) = get(&app, path).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path} on the main port: {body}"
        );
        assert!(!body.contains("mesh_egress_"), "{path}: no metrics");
    }
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
    let probes =
        mesh_egress::server::routers(common::leptos_options(), Arc::new(Ok(cluster)), serving())
            .probes;
    let (status, body) = get(&probes, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_prometheus_text(&body);
    assert_eq!(get(&probes, "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn metric_labels_stay_bounded_whatever_clients_send() {
    let router = router_for(kubeconfig()).await;
    for i in 0..5 {
        let method = format!("X-INVENTED-{i}");
        let request = Request::builder()
            .method(method.as_str())
            .uri(if i % 2 == 0 {
                "/healthz".to_string()
            } else {
                format!("/no/such/route/{i}")
            })
            .header("host", "127.0.0.1:3000")
            .body(Body::empty())
            .expect("request");
        common::send(&router, request).await;
    }
    let (_, text) = get(&router, "/metrics").await;
    assert!(
        !text.contains("X-INVENTED") && !text.contains("/no/such/route"),
        "{text}"
    );
}

/// An API server that accepts connections and then says nothing (hung, or a black-holing
/// load balancer): a request gives up after the read timeout and says the cluster is
/// unreachable, instead of holding the page for the kernel's TCP timeout.
#[tokio::test]
async fn a_hung_api_server_is_given_up_on_after_the_read_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let dir = std::env::temp_dir().join(format!("mesh-egress-hung-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hung\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: hung\n  context: {{cluster: hung, user: u}}\n\
             current-context: hung\n"
        ),
    )
    .expect("write kubeconfig");
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(path),
        istio_namespace: "istio-system".into(),
        read_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    })
    .await
    .expect("client");
    let started = Instant::now();
    let error = cluster.namespaces().await.expect_err("nothing answers");
    let took = started.elapsed();
    held.abort();
    assert_eq!(
        error.kind,
        mesh_egress::cluster::ErrorKind::Unreachable,
        "{error}"
    );
    assert!(
        took < Duration::from_secs(10),
        "gave up after {took:?}, not at the read timeout"
    );
    let message = mesh_egress::error::AppError::from(error).to_string();
    assert!(
        message.contains(&format!("127.0.0.1:{port}")),
        "says which API server: {message}"
    );
}

/// Watches idle between changes: the request read timeout must not cut them (they have their
/// own client), or the cache would drop and re-list every few seconds.
#[tokio::test]
async fn the_watch_outlives_the_request_read_timeout() {
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        istio_namespace: "istio-system".into(),
        read_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    })
    .await
    .expect("client");
    let cache = cluster.start_service_entry_cache(Default::default());
    let mut status = cache.subscribe();
    tokio::time::timeout(Duration::from_secs(20), async {
        while !status.borrow().synced {
            status.changed().await.expect("status");
        }
    })
    .await
    .expect("synced");
    let quiet = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            status.changed().await.expect("status");
            let now = status.borrow().clone();
            if !now.connected {
                return now;
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "the watch dropped after the read timeout: {quiet:?}"
    );
}

/// Pages and API answers are compressed by `Accept-Encoding` (brotli first), and decode to
/// the same page; the live stream is never compressed (it would be held back in a buffer).
#[tokio::test]
async fn pages_and_answers_are_compressed_by_accept_encoding_and_the_live_stream_is_not() {
    use std::io::Read;
    use tower::ServiceExt;
    let router = router_for(kubeconfig()).await;
    let fetch = |request: Request<Body>| {
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.expect("response");
            let encoding = response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap_or_default().to_string());
            let vary = response.headers().get("vary").cloned();
            let body = axum::body::to_bytes(response.into_body(), 1 << 24)
                .await
                .expect("body");
            (encoding, vary, body)
        }
    };
    let page = |encoding: &str| {
        Request::get("/services")
            .header("host", "127.0.0.1:3000")
            .header("accept-encoding", encoding)
            .body(Body::empty())
            .expect("request")
    };
    let (plain_encoding, _, plain) = fetch(page("identity")).await;
    assert_eq!(plain_encoding, None);
    let (encoding, vary, brotli) = fetch(page("gzip, deflate, br")).await;
    assert_eq!(encoding.as_deref(), Some("br"));
    assert!(vary.is_some_and(|v| v.to_str().unwrap_or_default().contains("accept-encoding")));
    let mut decoded = Vec::new();
    brotli_decompressor::Decompressor::new(&brotli[..], 4096)
        .read_to_end(&mut decoded)
        .expect("valid brotli");
    let text = String::from_utf8_lossy(&decoded);
    assert!(
        text.contains("<html") && text.contains("External services"),
        "{text}"
    );
    assert!(
        brotli.len() * 3 < plain.len(),
        "compressed {} bytes to {}",
        plain.len(),
        brotli.len()
    );
    let answer = Request::post("/api/overview")
        .header("host", "127.0.0.1:3000")
        .header("accept", "application/json")
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .expect("request");
    let (encoding, _, gzip) = fetch(answer).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let mut json = String::new();
    flate2::read::GzDecoder::new(&gzip[..])
        .read_to_string(&mut json)
        .expect("valid gzip");
    assert!(json.contains("\"namespaces\""), "{json}");

    let events = Request::get("/api/events")
        .header("host", "127.0.0.1:3000")
        .header("accept-encoding", "gzip, br")
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(events).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("content-encoding").is_none(),
        "the live stream is sent as it happens"
    );
}
