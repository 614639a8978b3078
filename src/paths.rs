//! One path for each page and endpoint: a path with a trailing slash, an empty segment or a
//! dot segment (`/services/`, `//services`, `/./services`, `/a/../services`) is redirected to
//! its canonical form (308, so a POST stays a POST), never rendered as an unknown page; and
//! what is not a page or an endpoint (static files, unknown paths) answers only GET and HEAD.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The canonical form of `path`, when it is not already canonical. Percent-encoded dots
/// (`%2e`) count as dots. The result always starts with one `/`, so it never names another host.
pub fn canonical(path: &str) -> Option<String> {
    // NB: every request passes here: a path with nothing to make canonical allocates nothing.
    let suspect = path.is_empty()
        || (path.len() > 1 && path.ends_with('/'))
        || path.contains("//")
        || path.contains("/.")
        || path.contains("%2e")
        || path.contains("%2E");
    if !suspect {
        return None;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment.to_ascii_lowercase().replace("%2e", ".").as_str() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let canonical = format!("/{}", segments.join("/"));
    (canonical != path).then_some(canonical)
}

/// Redirects a request for a non-canonical path to the canonical one, query kept.
pub(crate) async fn canonical_path(request: Request, next: Next) -> Response {
    let Some(path) = canonical(request.uri().path()) else {
        return next.run(request).await;
    };
    let location = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// Whether a request for something that is neither a page nor an endpoint may be answered:
/// static files and the not-found page are read, never written.
pub(crate) fn readable(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// 405 for a write to a static file or an unknown path, saying what is allowed.
pub(crate) fn not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        "405 Method Not Allowed: only GET and HEAD read this path\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_canonical() {
        for (path, want) in [
            ("/services/", Some("/services")),
            ("//services", Some("/services")),
            ("/./services", Some("/services")),
            ("/%2E/services", Some("/services")),
            ("/namespaces/a/../b/", Some("/namespaces/b")),
            ("/../../etc/passwd", Some("/etc/passwd")),
            ("//evil.example/x", Some("/evil.example/x")),
            ("/", None),
            ("/services", None),
            ("/namespaces/shop", None),
            ("/api/service_entries", None),
            ("/pkg/mesh-egress.abc.wasm", None),
            ("/namespaces/a.b", None),
            ("/namespaces/%2E%2E", Some("/")),
            ("", Some("/")),
        ] {
            assert_eq!(canonical(path).as_deref(), want, "{path}");
        }
    }
}
