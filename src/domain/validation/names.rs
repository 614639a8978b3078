//! Names and addresses as Istio checks them: DNS labels and domains (wildcards too), IP
//! addresses and CIDR blocks, unix socket paths, Kubernetes label keys and values, workload
//! selectors.

use super::{Finding, Findings};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// 1 to 63 characters, alphanumeric at both ends, `inner` allowed between.
fn is_short_name(value: &str, inner: &[u8]) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            bytes.len() <= 63
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || inner.contains(b))
        }
        _ => false,
    }
}

/// A DNS-1123 label as Istio checks it (letters of either case, digits, inner hyphens).
pub fn is_dns1123_label(value: &str) -> bool {
    is_short_name(value, b"-")
}

/// A lowercase RFC 1123 subdomain, as Kubernetes requires of object names.
pub fn is_dns1123_subdomain(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| {
            is_dns1123_label(label)
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// A lowercase RFC 1123 label, as Kubernetes requires of namespace names.
pub fn is_k8s_label(value: &str) -> bool {
    is_dns1123_label(value)
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The first label of a host may carry a wildcard: `*`, `*foo`, `*-foo` or a plain label.
fn is_wildcard_label(value: &str) -> bool {
    if value == "*" {
        return true;
    }
    let rest = value
        .strip_prefix("*-")
        .or_else(|| value.strip_prefix('*'))
        .unwrap_or(value);
    value.len() <= 63 && is_dns1123_label(rest)
}

fn dns_preconditions(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("domain name must not be empty".into());
    }
    if domain.len() > 255 {
        return Err(format!(
            "domain name {} is longer than 255 characters",
            crate::domain::quoted(domain)
        ));
    }
    Ok(())
}

/// Every label a DNS-1123 label; a trailing dot is allowed; the top-level label not numeric.
fn validate_dns_labels(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let last = labels.len() - 1;
    let top = if labels[last].is_empty() && last > 0 {
        labels[last - 1]
    } else {
        labels[last]
    };
    if !top.is_empty() && top.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "domain name {} invalid (top level domain {} cannot be all-numeric)",
            crate::domain::quoted(domain),
            crate::domain::quoted(top)
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        if i == last && label.is_empty() {
            continue;
        }
        if !is_dns1123_label(label) {
            return Err(format!(
                "domain name {} invalid (label {} invalid)",
                crate::domain::quoted(domain),
                crate::domain::quoted(label)
            ));
        }
    }
    Ok(())
}

/// A host name whose first label may be a wildcard.
pub fn validate_wildcard_domain(domain: &str) -> Result<(), String> {
    dns_preconditions(domain)?;
    let (first, rest) = match domain.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (domain, None),
    };
    if !is_wildcard_label(first) {
        return Err(format!(
            "domain name {} invalid (label {} invalid)",
            crate::domain::quoted(domain),
            crate::domain::quoted(first)
        ));
    }
    match rest {
        Some(rest) => validate_dns_labels(rest),
        None => Ok(()),
    }
}

/// A fully qualified name: no wildcard.
pub fn validate_fqdn(domain: &str) -> Result<(), String> {
    dns_preconditions(domain)?;
    validate_dns_labels(domain)
}

pub(super) fn is_partial_wildcard(host: &str) -> bool {
    host.contains('*') && host.len() != 1 && !host.starts_with("*.")
}

pub(super) fn parse_ip(value: &str) -> Option<IpAddr> {
    value.parse().ok()
}

/// An IP address or a CIDR block.
pub(super) fn validate_ip_subnet(value: &str) -> Result<(), String> {
    match value.split_once('/') {
        Some((ip, prefix)) => {
            let ip = parse_ip(ip).ok_or_else(|| {
                format!("{} is not a valid CIDR block", crate::domain::quoted(value))
            })?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match prefix.parse::<u8>() {
                Ok(bits) if bits <= max && !prefix.starts_with('+') => Ok(()),
                _ => Err(format!(
                    "{} is not a valid CIDR block",
                    crate::domain::quoted(value)
                )),
            }
        }
        None => parse_ip(value)
            .map(|_| ())
            .ok_or_else(|| format!("{} is not a valid IP address", crate::domain::quoted(value))),
    }
}

/// Label keys and values as Istio's `labels.Instance.Validate` checks them (endpoint labels).
pub(super) fn validate_labels(labels: &BTreeMap<String, String>, field: &str, out: &mut Findings) {
    for (key, value) in labels {
        let name = key.rsplit_once('/').map(|(_, name)| name).unwrap_or(key);
        let prefix_ok = match key.rsplit_once('/') {
            Some((prefix, _)) => validate_fqdn(prefix).is_ok(),
            None => true,
        };
        if key.is_empty() || !prefix_ok || !is_label_name(name) {
            out.push(Finding::error(
                "LBL001",
                format!("{field}[{}]", crate::domain::quoted(key)),
                format!("invalid label key {}", crate::domain::quoted(key)),
            ));
        }
        if !value.is_empty() && !is_label_name(value) {
            out.push(Finding::error(
                "LBL002",
                format!("{field}[{}]", crate::domain::quoted(key)),
                format!("invalid label value {}", crate::domain::quoted(value)),
            ));
        }
    }
}

/// `workloadSelector.labels` (as read into the view), as istiod's
/// `ValidateAlphaWorkloadSelector` checks them: no empty key, no wildcard; none at all selects
/// everything (a warning). The labels' syntax is not checked there.
pub(super) fn validate_workload_selector(
    labels: Option<&BTreeMap<String, String>>,
    selects: &str,
    out: &mut Findings,
) {
    const FIELD: &str = "spec.workloadSelector.labels";
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        out.push(Finding::warning(
            "SEL001",
            "spec.workloadSelector",
            format!(
                "workloadSelector has no labels: it will be applied to all {selects} in namespace"
            ),
        ));
        return;
    };
    for (key, value) in labels {
        if key.is_empty() {
            out.push(Finding::error(
                "SEL002",
                format!("{FIELD}[{}]", crate::domain::quoted(key)),
                format!("empty key is not supported in selector: \"={value}\""),
            ));
        }
        if key.contains('*') || value.contains('*') {
            out.push(Finding::error(
                "SEL003",
                format!("{FIELD}[{}]", crate::domain::quoted(key)),
                format!("wildcard is not supported in selector: \"{key}={value}\""),
            ));
        }
    }
}

/// A Kubernetes qualified name part: alphanumerics, `-`, `_`, `.`, at most 63.
fn is_label_name(value: &str) -> bool {
    is_short_name(value, b"-_.")
}

/// A unix socket path: absolute and naming a file, or an abstract socket (`@name`).
pub(super) fn validate_unix_address(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("unix address must not be empty".into());
    }
    if path.starts_with('@') {
        return Ok(());
    }
    if !path.starts_with('/') || path.ends_with('/') {
        return Err(format!("{path} is not an absolute path to a file"));
    }
    Ok(())
}
