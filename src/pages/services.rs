use crate::api::{get_namespace_traffic, list_service_entries_page};
use crate::components::shown;
use crate::components::{
    provide_page, use_live, use_query_param, use_replace_query, use_traffic_tick, Loading, PageUrl,
    Pager, ServiceEntryTable, TrafficNotice,
};
use crate::domain::url_encode;
use leptos::prelude::*;

/// `/services`: every namespace's external services, a page at a time. Search and paging run
/// on the server and live in the URL (`q`, `page`, `size`): links, reloads and the back button
/// keep them, and the search form is a plain GET without WASM. With WASM, typing searches at
/// once; a change in the cluster reloads only the page on screen.
#[component]
pub fn ServicesPage() -> impl IntoView {
    view! { <ServicesIsland url=PageUrl::current() /> }
}

/// The page's content: an island loaded with the page (its code is a WASM chunk of its own).
#[island(lazy)]
fn ServicesIsland(url: PageUrl) -> impl IntoView {
    provide_page(url);
    let param = use_query_param();
    let live = use_live();
    let entries = Resource::new(
        move || (param("q"), param("page"), param("size"), live.generation()),
        |(q, page, size, _)| list_service_entries_page(String::new(), q, page, size),
    );
    let tick = use_traffic_tick();
    let traffic = Resource::new(
        move || (param("window"), tick.get()),
        |(window, _)| get_namespace_traffic(String::new(), window),
    );
    let calls = move || traffic.get().and_then(Result::ok);
    // Typing searches at once: the query changes in place (and in the address bar).
    let replace_query = use_replace_query();
    let search = move |ev| {
        let q = event_target_value(&ev);
        let mut query = vec![("q".to_string(), q)];
        let size = param("size");
        if !size.is_empty() {
            query.push(("size".to_string(), size));
        }
        replace_query(query);
    };
    view! {
        <h1>"External services, all namespaces"</h1>
        <form method="get" action="/services" class="filter" data-testid="se-search-form">
            <label for="se-search">"Search names and hosts"</label>
            <input id="se-search" type="search" name="q" data-testid="se-search"
                value=param("q") on:input=search />
            <input type="hidden" name="size" value=param("size") />
            <button type="submit" data-testid="se-search-submit">"Search"</button>
        </form>
        <section class="card">
            <Loading>
                {move || entries.get().map(|result| shown(result.map(|page| {
                    let base = format!(
                        "/services?q={}&size={}&",
                        url_encode(&param("q")),
                        url_encode(&param("size"))
                    );
                    let rows = Signal::stored(page.items.clone());
                    let traffic = calls();
                    let notice = traffic.as_ref().map(|t| view! { <TrafficNotice status=t.status.clone() /> });
                    let calls = traffic.and_then(|t| t.status.notice().is_none().then_some(t.calls_per_entry));
                    view! {
                        {notice}
                        <Pager page noun="external services" base />
                        <ServiceEntryTable entries=rows show_namespace=true calls />
                    }
                })))}
            </Loading>
        </section>
    }
}
