use leptos::prelude::*;

/// A filter box over a server-rendered table. Without WASM the form sends `?q=` and the server
/// renders the matching rows; with WASM, typing takes the other rows out of the table at once
/// (rows carry their lowercase name in `data-filter`), without a request, and shows the
/// `no_match` element when none is left.
#[island]
pub fn FilterBox(
    /// The input's id.
    id: String,
    /// The label shown before it.
    label: String,
    /// Its test id.
    testid: String,
    /// A hint inside the empty box.
    placeholder: String,
    /// What the server filtered by (`?q=`).
    value: String,
    /// The test id of the `<table>` filtered.
    table: String,
    /// The test id of the element shown when no row matches.
    no_match: String,
) -> impl IntoView {
    let text = RwSignal::new(value.clone());
    #[cfg(feature = "hydrate")]
    browser::follow(text, table, no_match);
    #[cfg(not(feature = "hydrate"))]
    let _ = (table, no_match);
    view! {
        <form method="get" class="filter" on:submit=|ev| ev.prevent_default()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type="search"
                name="q"
                data-testid=testid
                placeholder=placeholder
                value=value
                on:input=move |ev| text.set(event_target_value(&ev))
            />
        </form>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::components::live::browser::REFRESHED;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;

    /// The table's rows as the server rendered them, matching or not.
    type Rows = Rc<RefCell<Vec<web_sys::Element>>>;

    pub fn follow(text: RwSignal<String>, table: String, no_match: String) {
        let rows: Rows = Rc::default();
        let apply = {
            let (rows, table, no_match) = (rows.clone(), table.clone(), no_match.clone());
            move |capture: bool| {
                if capture {
                    *rows.borrow_mut() = table_rows(&table);
                }
                show(&rows.borrow(), &text.get_untracked(), &table, &no_match);
            }
        };
        apply(true);
        // The live parts were replaced: the rows are new.
        let on_refresh = {
            let apply = apply.clone();
            Closure::<dyn FnMut()>::new(move || apply(true))
        };
        let _ = document()
            .add_event_listener_with_callback(REFRESHED, on_refresh.as_ref().unchecked_ref());
        on_refresh.forget();
        Effect::new(move |_| {
            text.track();
            apply(false);
        });
    }

    fn table_rows(table: &str) -> Vec<web_sys::Element> {
        let Ok(list) =
            document().query_selector_all(&format!("[data-testid=\"{table}\"] tbody tr"))
        else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
            .collect()
    }

    /// Puts the matching rows in the table body, in their order, and the others out of it.
    fn show(rows: &[web_sys::Element], text: &str, table: &str, no_match: &str) {
        let needle = text.trim().to_lowercase();
        let Ok(Some(body)) = document().query_selector(&format!("[data-testid=\"{table}\"] tbody"))
        else {
            return;
        };
        let mut shown = 0;
        for row in rows {
            let key = row.get_attribute("data-filter").unwrap_or_default();
            if needle.is_empty() || key.contains(&needle) {
                shown += 1;
                let _ = body.append_child(row);
            } else if row.parent_node().is_some() {
                row.remove();
            }
        }
        if let Ok(Some(notice)) =
            document().query_selector(&format!("[data-testid=\"{no_match}\"]"))
        {
            let _ = if shown == 0 {
                notice.remove_attribute("hidden")
            } else {
                notice.set_attribute("hidden", "")
            };
        }
    }
}
