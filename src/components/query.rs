//! What a page island knows of its URL. Islands are hydrated without the router, so a page
//! hands its island the URL it was asked for ([`PageUrl`]); the island reads its query and
//! path parameters from there, and changes the query in place (history API) when it searches.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A page's query and route parameters, as asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageUrl {
    /// The query's pairs, in order.
    pub query: Vec<(String, String)>,
    /// The route's parameters (`namespace`, `name`).
    pub params: Vec<(String, String)>,
}

impl PageUrl {
    /// The current URL: in the browser the address bar's query (route parameters are known
    /// only to page islands, from the server).
    #[cfg(feature = "hydrate")]
    pub fn current() -> Self {
        Self {
            query: browser::current_query(),
            params: Vec::new(),
        }
    }

    /// The current route's URL, from the router (server side, inside a route).
    #[cfg(not(feature = "hydrate"))]
    pub fn current() -> Self {
        let query = leptos_router::hooks::use_query_map().get_untracked();
        let params = leptos_router::hooks::use_params_map().get_untracked();
        let pairs = |map: &leptos_router::params::ParamsMap| {
            map.into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Self {
            query: pairs(&query),
            params: pairs(&params),
        }
    }

    fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `?key=`'s value, if given.
    pub fn query(&self, key: &str) -> Option<&str> {
        Self::find(&self.query, key)
    }

    /// The route parameter `key`, empty when absent.
    pub fn param(&self, key: &str) -> String {
        Self::find(&self.params, key)
            .unwrap_or_default()
            .to_string()
    }
}

/// The URL of the page around the current island, tracked.
#[derive(Clone, Copy)]
pub struct Page(RwSignal<PageUrl>);

/// Provides the page's URL to an island (call first in the island).
pub fn provide_page(url: PageUrl) {
    let page = RwSignal::new(url);
    provide_context(Page(page));
    #[cfg(feature = "hydrate")]
    browser::follow_history(page);
}

fn page() -> Page {
    use_context::<Page>().unwrap_or_else(|| {
        // Outside a page island.
        let page = Page(RwSignal::new(PageUrl::current()));
        provide_context(page);
        page
    })
}

/// The URL's query parameters as a reader: `param("q")` is the value of `?q=` (empty when
/// absent), tracked, so resources keyed on it reload when the query changes.
pub fn use_query_param() -> impl Fn(&str) -> String + Copy + Send + Sync + 'static {
    let query = use_query();
    move |key: &str| query(key).unwrap_or_default()
}

/// The URL's query parameters as a reader that tells an absent one (`None`) from an empty
/// one, tracked.
pub fn use_query() -> impl Fn(&str) -> Option<String> + Copy + Send + Sync + 'static {
    let page = page();
    move |key: &str| page.0.with(|u| u.query(key).map(str::to_string))
}

/// `?key=`'s value when the page was opened, if given (untracked).
pub fn query_value(key: &str) -> Option<String> {
    page()
        .0
        .with_untracked(|u| u.query(key).map(str::to_string))
}

/// The route parameter `key` (`namespace`, `name`), tracked.
pub fn use_route_param(key: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let page = page();
    move || page.0.with(|u| u.param(key))
}

/// The entry a page under `/namespaces/:namespace/serviceentries/:name` is about:
/// `(namespace, name)`, tracked.
pub fn use_entry_key() -> impl Fn() -> (String, String) + Copy + Send + Sync + 'static {
    let page = page();
    move || page.0.with(|u| (u.param("namespace"), u.param("name")))
}

/// A function that replaces the page's query with its pairs, in the address bar too, without
/// loading the page again: what reads the query reloads. (Taken while the island is built:
/// an event handler has no context to find the page in.)
pub fn use_replace_query() -> impl Fn(Vec<(String, String)>) + Copy + Send + Sync + 'static {
    let page = page();
    move |query: Vec<(String, String)>| {
        #[cfg(feature = "hydrate")]
        browser::replace_url(&query);
        page.0.update(|u| u.query = query);
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::PageUrl;
    use leptos::prelude::*;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;

    /// The back and forward buttons change the query under the island.
    pub fn follow_history(page: RwSignal<PageUrl>) {
        let on_pop = Closure::<dyn FnMut()>::new(move || {
            page.update(|u| u.query = current_query());
        });
        let _ =
            window().add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        on_pop.forget();
    }

    pub fn current_query() -> Vec<(String, String)> {
        let search = window().location().search().unwrap_or_default();
        let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
            return Vec::new();
        };
        let mut pairs = Vec::new();
        for entry in js_sys::try_iter(&params)
            .ok()
            .flatten()
            .into_iter()
            .flatten()
        {
            let Ok(entry) = entry else { continue };
            let pair = js_sys::Array::from(&entry);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                pairs.push((k, v));
            }
        }
        pairs
    }

    pub fn replace_url(query: &[(String, String)]) {
        let Ok(params) = web_sys::UrlSearchParams::new() else {
            return;
        };
        for (k, v) in query {
            params.append(k, v);
        }
        let path = window().location().pathname().unwrap_or_default();
        let search = String::from(params.to_string());
        let url = if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        };
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}
