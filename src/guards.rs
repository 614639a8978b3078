//! The guards every answer passes: cross-site writes refused (CSRF), and the security headers
//! (a page's nonce-based Content-Security-Policy, nosniff, no framing, same-origin referrers).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;

/// Whether a request is a cross-origin browser write, judged as Go's
/// `http.CrossOriginProtection` does with Fetch Metadata: `Sec-Fetch-Site` other than
/// `same-origin` or `none`; else an `Origin` whose host is not the request's `Host`. Requests
/// with neither header come from non-browser clients (curl, scripts) and pass.
pub fn is_cross_origin_write(method: &axum::http::Method, headers: &axum::http::HeaderMap) -> bool {
    if matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin") | Ok("none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin_host = origin.to_str().ok().and_then(|o| {
        o.split_once("://")
            .map(|(_, host)| host.trim_end_matches('/'))
    });
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// CSRF protection for every mode, local included: any page open in the operator's browser
/// could otherwise POST to this server. Refused writes change nothing and answer 403.
pub(crate) async fn refuse_cross_origin_writes(request: Request, next: Next) -> Response {
    if is_cross_origin_write(request.method(), request.headers()) {
        tracing::warn!(
            path = %request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-origin write refused"
        );
        let body = crate::error::AppError::Forbidden {
            message:
                "cross-origin request refused: mesh-egress accepts changes only from its own pages \
                      or from non-browser clients"
                    .to_string(),
        };
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_string(&body).unwrap_or_default(),
        )
            .into_response();
    }
    next.run(request).await
}

/// The Content-Security-Policy of a page: Leptos's hydration scripts by nonce, the WASM
/// bundle, nothing from elsewhere, never framed.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
         base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

/// Sets a page's CSP with this request's nonce. Server-function answers keep the CSP that
/// allows nothing (see [`security_headers`]).
pub(crate) fn set_content_security_policy() {
    let is_page = use_context::<axum::http::request::Parts>()
        .is_some_and(|parts| !parts.uri.path().starts_with("/api/"));
    if !is_page {
        return;
    }
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) =
            header::HeaderValue::from_str(&content_security_policy(&nonce.to_string()))
        {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Headers every answer carries; answers that are not pages get a CSP that allows nothing.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(header::HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    response
}
