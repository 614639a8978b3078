use crate::domain::edit::DiffLine;
use leptos::prelude::*;

/// A YAML diff, line by line: added and removed lines marked as `diff -u` does.
#[component]
pub fn DiffView(
    /// The lines.
    lines: Vec<DiffLine>,
    /// Its test id.
    testid: &'static str,
) -> impl IntoView {
    view! {
        <pre class="yaml diff" data-testid=testid>
            {lines.iter().map(|line| {
                let class = match line {
                    DiffLine::Same(_) => "same",
                    DiffLine::Removed(_) => "removed",
                    DiffLine::Added(_) => "added",
                };
                view! { <span class=class>{line.unified()} "\n"</span> }
            }).collect_view()}
        </pre>
    }
}
