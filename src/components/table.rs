use leptos::prelude::*;
use std::sync::Arc;

/// One column of a [`Table`]: its title, a CSS class for its cells, and how a row shows in it.
pub struct Column<T> {
    title: &'static str,
    class: &'static str,
    cell: Arc<dyn Fn(&T) -> AnyView + Send + Sync>,
}

impl<T> Column<T> {
    /// A column titled `title` whose cells `cell` renders.
    pub fn new(title: &'static str, cell: impl Fn(&T) -> AnyView + Send + Sync + 'static) -> Self {
        Self {
            title,
            class: "",
            cell: Arc::new(cell),
        }
    }

    /// The same column with a CSS class on its header and cells (`num`, `hosts`, …).
    pub fn class(self, class: &'static str) -> Self {
        Self { class, ..self }
    }
}

/// Every list of the dashboard: rows keyed for `<For>`, columns as data. `row_id` gives each
/// row's `data-testid`, which is also its key.
#[component]
pub fn Table<T>(
    /// The rows, in order.
    #[prop(into)]
    rows: Signal<Vec<T>>,
    /// The columns, left to right.
    columns: Vec<Column<T>>,
    /// A row's test id and key.
    row_id: fn(&T) -> String,
    /// The table's test id.
    testid: &'static str,
    /// What a [`FilterBox`](crate::components::FilterBox) over the table matches a row by
    /// (lowercase), in the row's `data-filter`.
    #[prop(optional)]
    filter_key: Option<fn(&T) -> String>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let columns = Arc::new(columns);
    let header = columns
        .iter()
        .map(|c| view! { <th class=c.class>{c.title}</th> })
        .collect_view();
    view! {
        <table class="table" data-testid=testid>
            <thead>
                <tr>{header}</tr>
            </thead>
            <tbody>
                <For
                    each=move || rows.get()
                    key=move |row| row_id(row)
                    children=move |row| {
                        let cells = columns
                            .iter()
                            .map(|c| view! { <td class=c.class>{(c.cell)(&row)}</td> })
                            .collect_view();
                        let filter = filter_key.map(|key| key(&row).to_lowercase());
                        view! { <tr data-testid=row_id(&row) data-filter=filter>{cells}</tr> }
                    }
                />
            </tbody>
        </table>
    }
}
