use crate::api::{get_namespace_traffic, list_service_entries};
use crate::components::{FilterBox, Live, Loading, ServiceEntryTable, TrafficNotice, TrafficTick};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/services`: every namespace's external services, searchable by name and host.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let query = use_query_map();
    let search = RwSignal::new(query.get_untracked().get("q").unwrap_or_default());
    let live = expect_context::<Live>();
    let entries = Resource::new(
        move || live.generation(),
        |_| list_service_entries(String::new()),
    );
    let tick = expect_context::<TrafficTick>();
    let window = move || query.with(|q| q.get("window").unwrap_or_default());
    let traffic = Resource::new(
        move || (window(), tick.get()),
        |(window, _)| get_namespace_traffic(String::new(), window),
    );
    let calls = move || traffic.get().and_then(Result::ok);
    view! {
        <h1>"External services, all namespaces"</h1>
        <FilterBox id="se-search" label="Search names and hosts" testid="se-search" value=search />
        <section class="card">
            <Loading>
                {move || entries.get().map(|result| result.map(|list| {
                    let list = StoredValue::new(list);
                    let shown = Signal::derive(move || {
                        let q = search.get();
                        list.with_value(|l| l.iter().filter(|e| e.matches(&q)).cloned().collect::<Vec<_>>())
                    });
                    let traffic = calls();
                    let notice = traffic.as_ref().map(|t| view! { <TrafficNotice status=t.status.clone() /> });
                    let calls = traffic.and_then(|t| t.status.notice().is_none().then_some(t.calls_per_entry));
                    view! {
                        {notice}
                        <ServiceEntryTable entries=shown show_namespace=true calls />
                    }
                }))}
            </Loading>
        </section>
    }
}
