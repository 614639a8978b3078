use crate::error::AppError;
use leptos::prelude::*;

/// A plain-words error box: what failed and, when there is one, what to do about it.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let hint = error.hint();
    let findings = match &error {
        AppError::Rejected { findings } => Some(findings.clone()),
        _ => None,
    };
    let sign_in = matches!(error, AppError::Unauthenticated { .. });
    let title = if findings.is_some() {
        "Refused: nothing was written.".to_string()
    } else {
        error.to_string()
    };
    view! {
        <div class="notice error" role="alert" data-testid="error">
            <p class="notice-title">{title}</p>
            {findings.map(|findings| view! { <FindingList findings /> })}
            {hint.map(|h| view! { <p class="notice-hint">{h}</p> })}
            {sign_in.then(|| view! { <p><a href="/login" data-testid="sign-in-link">"Sign in"</a></p> })}
        </div>
    }
}

/// Validation findings, each at its field (errors first).
#[component]
pub fn FindingList(findings: Vec<crate::domain::validation::Finding>) -> impl IntoView {
    use crate::domain::validation::Severity;
    let mut findings = findings;
    findings.sort_by_key(|f| f.severity != Severity::Error);
    view! {
        <ul class="findings" data-testid="findings">
            {findings
                .into_iter()
                .map(|f| {
                    let class = if f.severity == Severity::Error { "finding error" } else { "finding warning" };
                    view! {
                        <li class=class data-field=f.field.clone()>
                            <code>{f.field.clone()}</code>
                            ": "
                            {f.message.clone()}
                            {f.code.clone().map(|c| view! { " " <span class="code">{c}</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
