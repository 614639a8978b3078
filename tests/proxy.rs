//! Proxy mode end to end: the real server on a socket, clients from different loopback
//! addresses, the real API server impersonating whom the proxy names. Identity headers count
//! only from the trusted proxy (its address, or its shared secret); groups only when their
//! header is configured.

mod common;

use mesh_egress::auth::{AuthMode, ProxyAuth, PROXY_SECRET_HEADER};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

const SECRET: &str = "a-long-shared-secret-0123456789";

/// Serves proxy mode on a loopback port: the proxy is 127.0.0.2, or whoever knows SECRET.
async fn serve(groups: bool) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let cluster = common::istio_system_cluster().await;
    let mode = AuthMode::Proxy(ProxyAuth {
        user_header: "x-forwarded-user".into(),
        groups_header: groups.then(|| "x-forwarded-groups".into()),
        trusted_peers: vec!["127.0.0.2/32".parse().expect("cidr")],
        secret: Some(SECRET.into()),
    });
    let router = mesh_egress::server::router_with_auth(
        common::leptos_options(),
        Arc::new(Ok(cluster)),
        Arc::new(mode),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mesh_egress::listen::serve(
        listener,
        router,
        mesh_egress::listen::Limits::default(),
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop)
}

/// Calls `endpoint` with `form` as `user` (in `groups`), from `from`, optionally with the
/// secret.
async fn call(
    server: SocketAddr,
    from: &str,
    (endpoint, form): (&str, &str),
    (user, groups): (&str, &str),
    secret: Option<&str>,
) -> (u16, String) {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client");
    let mut request = client
        .post(format!("http://{server}/api/{endpoint}"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .header("x-forwarded-user", user)
        .header("x-forwarded-groups", groups);
    if let Some(secret) = secret {
        request = request.header(PROXY_SECRET_HEADER, secret);
    }
    let answer = request.send().await.expect("answer");
    (
        answer.status().as_u16(),
        answer.text().await.unwrap_or_default(),
    )
}

/// dev may list ServiceEntries in team-dev (testenv's RBAC), nothing in istio-system.
const DEV_LIST: (&str, &str) = ("service_entries", "namespace=team-dev");
/// Reading the mesh config in istio-system: system:masters may, dev may not.
const READ_POLICY: (&str, &str) = ("outbound_policy", "");

#[tokio::test]
async fn only_the_trusted_proxy_names_the_user() {
    let (server, _stop) = serve(false).await;
    // The proxy, from its address: the user it names acts, with that user's permissions.
    let (status, body) = call(server, "127.0.0.2", DEV_LIST, ("dev", ""), None).await;
    assert_eq!(status, 200, "{body}");
    // Anyone else who reaches the port, saying the same: nobody.
    let (status, body) = call(server, "127.0.0.1", DEV_LIST, ("dev", ""), None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("only from the trusted authenticating proxy"),
        "{body}"
    );
    let wrong = Some("wrong-secret");
    let (status, _) = call(server, "127.0.0.3", DEV_LIST, ("dev", ""), wrong).await;
    assert_eq!(status, 401);
    // A proxy without a fixed address proves itself with the shared secret.
    let (status, body) = call(server, "127.0.0.3", DEV_LIST, ("dev", ""), Some(SECRET)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn groups_count_only_when_their_header_is_configured() {
    let masters = ("dev", "system:masters");
    let (server, _stop) = serve(false).await;
    let (status, body) = call(server, "127.0.0.2", READ_POLICY, masters, None).await;
    assert_eq!(
        status, 403,
        "groups were believed without --proxy-groups-header: {body}"
    );

    let (with_groups, _stop2) = serve(true).await;
    let (status, body) = call(with_groups, "127.0.0.2", READ_POLICY, masters, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(with_groups, "127.0.0.1", READ_POLICY, masters, None).await;
    assert_eq!(status, 401, "groups from an untrusted peer are nobody's");
}
