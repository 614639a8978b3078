use crate::domain::paging::Page;
use leptos::prelude::*;

/// Where a paged list is, and links to the pages around it: plain links (`base` plus
/// `page=N`), so they work without WASM, survive a reload and the back button.
#[component]
pub fn Pager<T: 'static>(
    /// The page shown.
    page: Page<T>,
    /// What the rows are, for the summary ("external services").
    noun: &'static str,
    /// The list's URL up to its page number, ending in `&` or `?`.
    base: String,
) -> impl IntoView {
    let (current, pages) = (page.page, page.pages());
    let link = move |n: usize| format!("{base}page={n}");
    view! {
        <nav class="pager" aria-label="pages">
            <span data-testid="pager-status">{page.summary(noun)}</span>
            {(pages > 1).then(|| view! {
                <span class="pager-links">
                    {(current > 1).then(|| view! {
                        <a href=link(current - 1) rel="prev" data-testid="pager-prev">"‹ Previous"</a>
                    })}
                    <span data-testid="pager-position">{format!("page {current} of {pages}")}</span>
                    {(current < pages).then(|| view! {
                        <a href=link(current + 1) rel="next" data-testid="pager-next">"Next ›"</a>
                    })}
                </span>
            })}
        </nav>
    }
}
