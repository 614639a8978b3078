//! How long browsers keep what the server sends. The site's files (`/pkg/…`) carry a content
//! hash in their names in a release build, so they are kept for good (`immutable`): a new
//! build has new names. Without hashed names they are checked again on every use. Other static
//! files (the favicon) are kept an hour; pages and API answers are fetched again on every use
//! (`no-cache`, which still lets the back button show the page it left).

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

/// A year: the longest `max-age` browsers honour, for files that never change under a name.
const FOREVER: &str = "public, max-age=31536000, immutable";

/// The `Cache-Control` for a successful GET of `path`.
pub fn cache_control(path: &str, hashed_names: bool) -> &'static str {
    if path.starts_with("/pkg/") {
        if hashed_names {
            FOREVER
        } else {
            "no-cache"
        }
    } else if path == "/favicon.ico" {
        "public, max-age=3600"
    } else {
        "no-cache"
    }
}

/// Sets `Cache-Control` on successful GETs that do not set it themselves.
pub async fn cache_headers(hashed_names: bool, request: Request, next: Next) -> Response {
    let get = request.method() == Method::GET || request.method() == Method::HEAD;
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    if get && response.status().is_success() && !path.starts_with("/api/events") {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(cache_control(&path, hashed_names)));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_site_files_are_kept_for_good_and_pages_never() {
        assert_eq!(cache_control("/pkg/mesh-egress.abc123.wasm", true), FOREVER);
        assert_eq!(cache_control("/pkg/mesh-egress.wasm", false), "no-cache");
        assert_eq!(cache_control("/services", true), "no-cache");
        assert_eq!(cache_control("/api/overview", true), "no-cache");
        assert_eq!(cache_control("/favicon.ico", true), "public, max-age=3600");
    }
}
