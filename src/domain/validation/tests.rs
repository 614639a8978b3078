//! Unit tests: each rule group against the cases that show it.

use super::names::validate_ip_subnet;
use super::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn judge(spec: Value) -> Vec<Finding> {
    validate_service_entry("default", &BTreeMap::new(), Some(&spec))
}

#[test]
fn the_seed_entry_is_valid_without_warnings() {
    let findings = judge(json!({
        "hosts": ["httpbin.org", "www.httpbin.org"],
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "resolution": "DNS", "location": "MESH_EXTERNAL"
    }));
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn errors_name_the_field() {
    let findings = judge(json!({
        "hosts": ["bad..host"],
        "ports": [{"number": 70000, "name": "http", "protocol": "HTTP"}],
        "resolution": "DNS"
    }));
    assert!(!is_valid(&findings));
    let fields: Vec<_> = findings.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"spec.hosts[0]"), "{fields:?}");
    assert!(fields.contains(&"spec.ports[0].number"), "{fields:?}");
}

#[test]
fn lint_rules_have_stable_codes() {
    let codes = |findings: Vec<Finding>| -> Vec<String> {
        findings.into_iter().filter_map(|f| f.code).collect()
    };
    let none_tcp = judge(json!({
        "hosts": ["db.example.com"], "ports": [{"number": 5432, "name": "tcp", "protocol": "TCP"}]
    }));
    assert!(is_valid(&none_tcp));
    assert_eq!(codes(none_tcp), vec![LINT_NONE_TCP_WITHOUT_ADDRESSES]);

    let multi = judge(json!({
        "hosts": ["a.example.com", "b.example.com"],
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "DNS"
    }));
    assert!(is_valid(&multi));
    assert_eq!(codes(multi), vec![LINT_MULTI_HOST_TCP]);

    let short = judge(json!({
        "hosts": ["httpbin"], "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "resolution": "DNS"
    }));
    assert!(is_valid(&short));
    assert_eq!(codes(short), vec![LINT_DNS_SHORT_NAME]);

    let trap = validate_sidecar("shop", Some(&json!({"outboundTrafficPolicy": {}})));
    assert!(is_valid(&trap));
    assert_eq!(codes(trap), vec![LINT_POLICY_WITHOUT_MODE]);
}

#[test]
fn an_empty_endpoint_list_counts_as_set_for_the_apiserver() {
    let findings = judge(json!({
        "hosts": ["a.example.com"], "resolution": "NONE", "addresses": ["10.0.0.1"],
        "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}], "endpoints": []
    }));
    assert!(!is_valid(&findings), "{findings:?}");
    assert_eq!(findings[0].field, "spec.endpoints");
}

#[test]
fn host_names() {
    assert!(validate_wildcard_domain("*.example.com").is_ok());
    assert!(validate_wildcard_domain("bad..host").is_err());
    assert!(validate_wildcard_domain("example.123").is_err());
    assert!(validate_fqdn("*.example.com").is_err());
    assert!(validate_fqdn("example.com.").is_ok());
    assert!(validate_ip_subnet("10.0.0.0/8").is_ok());
    assert!(validate_ip_subnet("10.0.0.0/33").is_err());
    assert!(validate_ip_subnet("2001:db8::/32").is_ok());
}
