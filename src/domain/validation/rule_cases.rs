//! A test per rule: one spec that each rule code must find, and a check that every code the
//! rules use has its case here.

use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One case per rule, one line each: `rule`, `kind` (ServiceEntry or Sidecar), `spec`, and
/// `labels` for the rules that read them. The same file drives the live istiod test.
const CASES: &str = include_str!("../../../tests/fixtures/rules/cases.json");

struct Case {
    rule: String,
    kind: String,
    spec: Value,
    labels: BTreeMap<String, String>,
}

fn cases() -> Vec<Case> {
    let cases: Vec<Value> = serde_json::from_str(CASES).expect("the cases are JSON");
    cases
        .into_iter()
        .map(|case| Case {
            rule: case["rule"].as_str().unwrap_or_default().to_string(),
            kind: case["kind"].as_str().unwrap_or_default().to_string(),
            labels: serde_json::from_value(case["labels"].clone()).unwrap_or_default(),
            spec: case["spec"].clone(),
        })
        .collect()
}

fn judge(case: &Case) -> Vec<Finding> {
    match case.kind.as_str() {
        "ServiceEntry" => validate_service_entry("shop", &case.labels, Some(&case.spec)),
        "Sidecar" => validate_sidecar("shop", Some(&case.spec)),
        other => panic!("{}: unknown kind {other}", case.rule),
    }
}

#[test]
fn every_rule_finds_its_case() {
    let mut missed = Vec::new();
    for case in cases() {
        let findings = judge(&case);
        if !findings
            .iter()
            .any(|f| f.rule.as_deref() == Some(case.rule.as_str()))
        {
            missed.push(format!(
                "{} did not fire on {}: {findings:?}",
                case.rule, case.spec
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn lint_codes_are_both_rule_and_code_and_istiod_rules_have_no_lint_code() {
    for case in cases() {
        let rule = &case.rule;
        for finding in judge(&case) {
            let is_lint = finding
                .rule
                .as_deref()
                .is_some_and(|r| r.starts_with("MEG"));
            assert_eq!(finding.code.is_some(), is_lint, "{rule}: {finding:?}");
            assert!(finding.rule.is_some(), "{rule}: {finding:?}");
        }
    }
}

/// The codes written in the rules' source, so a new rule cannot go without a case.
#[test]
fn every_code_in_the_rules_has_a_case() {
    let sources = [
        include_str!("export_to.rs"),
        include_str!("names.rs"),
        include_str!("read.rs"),
        include_str!("service_entry/mod.rs"),
        include_str!("service_entry/rules.rs"),
        include_str!("service_entry/endpoints.rs"),
        include_str!("sidecar/mod.rs"),
        include_str!("sidecar/listeners.rs"),
        include_str!("sidecar/pool.rs"),
        include_str!("sidecar/tls.rs"),
        include_str!("sidecar/policy.rs"),
        include_str!("mod.rs"),
    ];
    let mut used = BTreeSet::new();
    for source in sources {
        for piece in source.split('"').skip(1).step_by(2) {
            let letters = piece.trim_end_matches(|c: char| c.is_ascii_digit());
            let digits = &piece[letters.len()..];
            let prefixed = ["SE", "SC", "LBL", "SEL", "EXP", "MEG"].contains(&letters);
            if (prefixed && digits.len() == 3) || piece == "SHAPE" {
                used.insert(piece.to_string());
            }
        }
    }
    let covered: BTreeSet<String> = cases().into_iter().map(|c| c.rule).collect();
    let missing: Vec<_> = used.difference(&covered).collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
    assert!(
        used.len() > 100,
        "the scan found the rules ({} codes)",
        used.len()
    );
}
