use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The URL's query parameters as a reader: `param("q")` is the value of `?q=` (empty when
/// absent), tracked, so resources keyed on it reload when the URL changes.
pub fn use_query_param() -> impl Fn(&str) -> String + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move |key: &str| query.with(|q| q.get(key).unwrap_or_default())
}

/// The entry a page under `/namespaces/:namespace/serviceentries/:name` is about:
/// `(namespace, name)`, tracked.
pub fn use_entry_key() -> impl Fn() -> (String, String) + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    }
}
