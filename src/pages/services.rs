use crate::api::list_service_entries;
use crate::components::{FilterBox, Live, Loading, ServiceEntryTable};
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
                    view! { <ServiceEntryTable entries=shown show_namespace=true /> }
                }))}
            </Loading>
        </section>
    }
}
