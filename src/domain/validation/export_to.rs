//! `exportTo`, as istiod checks it for ServiceEntries.

use super::names::is_k8s_label;
use super::{Finding, Findings};
use std::collections::BTreeSet;

/// `exportTo`: `.`, `*`, `~` (visible nowhere) or namespace names; no duplicates; `*` and
/// `~` stand alone.
pub(super) fn validate_export_to(
    namespace: &str,
    export_to: &[(usize, String)],
    out: &mut Findings,
) {
    let mut seen = BTreeSet::new();
    for (i, entry) in export_to {
        let field = format!("spec.exportTo[{i}]");
        let key = if entry == "." {
            namespace.to_string()
        } else {
            entry.clone()
        };
        if seen.contains(&key) {
            if &key != entry || (!namespace.is_empty() && entry == namespace) {
                out.push(Finding::error(
                    "EXP001",
                    field,
                    format!("duplicate entries in exportTo: . and current namespace {namespace}"),
                ));
            } else {
                out.push(Finding::error(
                    "EXP002",
                    field,
                    format!("duplicate entries in exportTo for entry {entry}"),
                ));
            }
            continue;
        }
        let ok = matches!(entry.as_str(), "." | "*" | "~") || is_k8s_label(entry);
        if ok {
            seen.insert(key);
        } else {
            out.push(Finding::error(
                "EXP003",
                field,
                "only ., *, ~ or a valid namespace name is allowed as exportTo entry",
            ));
        }
    }
    if (seen.contains("*") || seen.contains("~")) && seen.len() > 1 {
        out.push(Finding::error(
            "EXP004",
            "spec.exportTo",
            "cannot have both public (*) or none (~) and other exportTo values",
        ));
    }
}
