//! Which host names the server answers to (DNS rebinding): a request for any other `Host`
//! gets 421 and nothing else.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The host names the server answers to: loopback names, its bind address, and the names given
/// with `--public-host`. Any other `Host` (a DNS name rebound to 127.0.0.1 by a page the
/// operator opened) gets 421 and nothing else.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    names: Vec<String>,
}

impl Default for HostPolicy {
    fn default() -> Self {
        Self::new(None, &[])
    }
}

impl HostPolicy {
    /// Loopback names, `bind` (unless it is 0.0.0.0 or ::), and `public` names.
    pub fn new(bind: Option<std::net::IpAddr>, public: &[String]) -> Self {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|n| n.to_string())
            .collect();
        names.extend(
            bind.filter(|ip| !ip.is_unspecified())
                .map(|ip| ip.to_string()),
        );
        names.extend(
            public
                .iter()
                .map(|n| n.trim().trim_end_matches('.').to_lowercase()),
        );
        Self { names }
    }

    /// Whether a `Host` header (name or address, with or without a port) is answered.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim();
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        let name = name.trim_end_matches('.').to_lowercase();
        self.names.contains(&name)
    }
}

/// Refuses requests for host names the server does not answer to (DNS rebinding). Probes and
/// metrics, which read nothing a user may not, answer any host (kubelet and Prometheus use the
/// pod's address).
pub(crate) async fn misdirected(hosts: Arc<HostPolicy>, request: Request, next: Next) -> Response {
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if hosts.allows(&host) => next.run(request).await,
        host => {
            tracing::warn!(?host, path = %request.uri().path(), "request for another host refused");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "421 Misdirected Request: this server does not answer to that host name \
                 (start it with --public-host NAME to add one)\n",
            )
                .into_response()
        }
    }
}
