use crate::api::{get_namespace_traffic, list_service_entries_page};
use crate::components::{
    use_query_param, Live, Loading, Pager, ServiceEntryTable, TrafficNotice, TrafficTick,
};
use crate::domain::url_encode;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

/// `/services`: every namespace's external services, a page at a time. Search and paging run
/// on the server and live in the URL (`q`, `page`, `size`): links, reloads and the back button
/// keep them, and the search form is a plain GET without WASM. With WASM, typing searches at
/// once; a change in the cluster reloads only the page on screen.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let param = use_query_param();
    let live = expect_context::<Live>();
    let entries = Resource::new(
        move || (param("q"), param("page"), param("size"), live.generation()),
        |(q, page, size, _)| list_service_entries_page(String::new(), q, page, size),
    );
    let tick = expect_context::<TrafficTick>();
    let traffic = Resource::new(
        move || (param("window"), tick.get()),
        |(window, _)| get_namespace_traffic(String::new(), window),
    );
    let calls = move || traffic.get().and_then(Result::ok);
    let navigate = use_navigate();
    let search = move |ev| {
        let q = event_target_value(&ev);
        let url = format!(
            "/services?q={}&size={}",
            url_encode(&q),
            url_encode(&param("size"))
        );
        let options = NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        };
        navigate(&url, options);
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
                {move || entries.get().map(|result| result.map(|page| {
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
                }))}
            </Loading>
        </section>
    }
}
