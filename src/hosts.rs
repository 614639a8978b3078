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
        let port_ok = |port: &str| {
            !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
        };
        // NB: `name:port` and nothing else: `127.0.0.1:3500@evil.example` names no port.
        let name = match host.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((name, "")) => name,
                Some((name, rest)) if rest.strip_prefix(':').is_some_and(port_ok) => name,
                _ => return false,
            },
            None => match host.rsplit_once(':') {
                Some((name, port)) if port_ok(port) => name,
                Some(_) => return false,
                None => host,
            },
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
    if request.headers().get_all(header::HOST).iter().count() > 1 {
        tracing::warn!(path = %request.uri().path(), "request with two Host headers refused");
        return (
            StatusCode::BAD_REQUEST,
            "400 Bad Request: the request names its host more than once (Host)\n",
        )
            .into_response();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_name_and_a_port_are_answered() {
        let hosts = HostPolicy::new(None, &["dash.example".to_string()]);
        for host in [
            "localhost",
            "127.0.0.1:3000",
            "[::1]:3000",
            "[::1]",
            "dash.example",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in [
            "127.0.0.1:3500@evil.example",
            "127.0.0.1:",
            "127.0.0.1:x",
            "[::1]x",
            "[::1]:30a0",
            "evil.example",
            "localhost:3000:3000",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
    }
}
