//! Judging Istio objects the way istiod's validating webhook and the CRD's schema do, plus
//! mesh-egress's own lint rules (warnings with stable codes). Pure: the same code runs in the
//! browser (field errors as the user types) and on the server (before every write).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    /// istiod or the apiserver rejects the object.
    Error,
    /// Accepted, but probably not what was meant.
    Warning,
}

/// One thing wrong with an object, at a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Path of the field, such as `spec.ports[1].name`.
    pub field: String,
    /// Why, in words.
    pub message: String,
    /// A stable code for mesh-egress's own lint rules (`MEG…`); none for istiod's rules.
    pub code: Option<String>,
}

impl Finding {
    fn error(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            field: field.into(),
            message: message.into(),
            code: None,
        }
    }

    fn warning(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            field: field.into(),
            message: message.into(),
            code: None,
        }
    }

    fn lint(code: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            field: field.into(),
            message: message.into(),
            code: Some(code.to_string()),
        }
    }

    /// `field: message`, with the lint code when there is one.
    pub fn describe(&self) -> String {
        match &self.code {
            Some(code) => format!("{}: {} [{code}]", self.field, self.message),
            None => format!("{}: {}", self.field, self.message),
        }
    }
}

/// Whether a list of findings lets the object through (warnings do).
pub fn is_valid(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity != Severity::Error)
}

/// Lint: resolution NONE with a TCP port and no addresses opens 0.0.0.0:port.
pub const LINT_NONE_TCP_WITHOUT_ADDRESSES: &str = "MEG001";
/// Lint: several hosts share a TCP-level port while resolution is not NONE.
pub const LINT_MULTI_HOST_TCP: &str = "MEG002";
/// Lint: DNS resolution of a host that is not fully qualified.
pub const LINT_DNS_SHORT_NAME: &str = "MEG003";

// ---- names -----------------------------------------------------------------------------------

/// A DNS-1123 label as Istio checks it (letters of either case, digits, inner hyphens).
pub fn is_dns1123_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
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
fn is_k8s_label(value: &str) -> bool {
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
            "domain name {domain:?} is longer than 255 characters"
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
            "domain name {domain:?} invalid (top level domain {top:?} cannot be all-numeric)"
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        if i == last && label.is_empty() {
            continue;
        }
        if !is_dns1123_label(label) {
            return Err(format!(
                "domain name {domain:?} invalid (label {label:?} invalid)"
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
            "domain name {domain:?} invalid (label {first:?} invalid)"
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

fn is_partial_wildcard(host: &str) -> bool {
    host.contains('*') && host.len() != 1 && !host.starts_with("*.")
}

fn parse_ip(value: &str) -> Option<IpAddr> {
    value.parse().ok()
}

/// An IP address or a CIDR block.
fn validate_ip_subnet(value: &str) -> Result<(), String> {
    match value.split_once('/') {
        Some((ip, prefix)) => {
            let ip = parse_ip(ip).ok_or_else(|| format!("{value:?} is not a valid CIDR block"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match prefix.parse::<u8>() {
                Ok(bits) if bits <= max && !prefix.starts_with('+') => Ok(()),
                _ => Err(format!("{value:?} is not a valid CIDR block")),
            }
        }
        None => parse_ip(value)
            .map(|_| ())
            .ok_or_else(|| format!("{value:?} is not a valid IP address")),
    }
}

// ---- protocols -------------------------------------------------------------------------------

/// Istio's port protocols, as its `protocol.Parse` knows them (case-insensitive).
pub const PROTOCOLS: &[&str] = &[
    "HTTP",
    "HTTPS",
    "GRPC",
    "GRPC-WEB",
    "HTTP2",
    "HTTP_PROXY",
    "TLS",
    "TCP",
    "UDP",
    "MONGO",
    "REDIS",
    "MYSQL",
];

fn known_protocol(value: &str) -> Option<String> {
    let upper = value.to_ascii_uppercase();
    PROTOCOLS.contains(&upper.as_str()).then_some(upper)
}

/// Protocols the mesh proxies as HTTP.
pub fn is_http(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_uppercase().as_str(),
        "HTTP" | "HTTP2" | "HTTP_PROXY" | "GRPC" | "GRPC-WEB"
    )
}

/// Protocols carried over TLS, routed by SNI.
pub fn is_tls(protocol: &str) -> bool {
    matches!(protocol.to_ascii_uppercase().as_str(), "HTTPS" | "TLS")
}

/// Protocols the mesh sees only at the TCP level (opaque to it: HTTPS and TLS included).
pub fn is_tcp_level(protocol: &str) -> bool {
    matches!(
        protocol.to_ascii_uppercase().as_str(),
        "TCP" | "HTTPS" | "TLS" | "MONGO" | "REDIS" | "MYSQL"
    )
}

// ---- reading JSON ----------------------------------------------------------------------------

/// Reads a list of strings, reporting entries that are not strings. An absent field or null
/// is an empty list, as protobuf reads it.
fn string_list(spec: &Value, key: &str, out: &mut Vec<Finding>) -> Vec<(usize, String)> {
    match spec.get(key) {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Value::String(s) => Some((i, s.clone())),
                _ => {
                    out.push(Finding::error(
                        format!("spec.{key}[{i}]"),
                        "must be a string",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            out.push(Finding::error(format!("spec.{key}"), "must be a list"));
            vec![]
        }
    }
}

fn list<'a>(spec: &'a Value, key: &str, field: &str, out: &mut Vec<Finding>) -> &'a [Value] {
    match spec.get(key) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(_) => {
            out.push(Finding::error(field.to_string(), "must be a list"));
            &[]
        }
    }
}

fn string_field(value: &Value, key: &str, field: &str, out: &mut Vec<Finding>) -> Option<String> {
    match value.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            out.push(Finding::error(format!("{field}.{key}"), "must be a string"));
            None
        }
    }
}

fn number_field(value: &Value, key: &str, field: &str, out: &mut Vec<Finding>) -> Option<i64> {
    match value.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) => Some(v),
            None => {
                out.push(Finding::error(
                    format!("{field}.{key}"),
                    "must be a whole number",
                ));
                None
            }
        },
        Some(_) => {
            out.push(Finding::error(format!("{field}.{key}"), "must be a number"));
            None
        }
    }
}

fn string_map(
    value: Option<&Value>,
    field: &str,
    out: &mut Vec<Finding>,
) -> Option<BTreeMap<String, String>> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(
            map.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    _ => {
                        out.push(Finding::error(
                            format!("{field}[{k:?}]"),
                            "must be a string",
                        ));
                        None
                    }
                })
                .collect(),
        ),
        Some(_) => {
            out.push(Finding::error(field.to_string(), "must be a mapping"));
            None
        }
    }
}

/// Label keys and values as Istio's `labels.Instance.Validate` checks them.
fn validate_labels(labels: &BTreeMap<String, String>, field: &str, out: &mut Vec<Finding>) {
    for (key, value) in labels {
        let name = key.rsplit_once('/').map(|(_, name)| name).unwrap_or(key);
        let prefix_ok = match key.rsplit_once('/') {
            Some((prefix, _)) => validate_fqdn(prefix).is_ok(),
            None => true,
        };
        if key.is_empty() || !prefix_ok || !is_label_name(name) {
            out.push(Finding::error(
                format!("{field}[{key:?}]"),
                format!("invalid label key {key:?}"),
            ));
        }
        if value.contains('*') {
            out.push(Finding::error(
                format!("{field}[{key:?}]"),
                "wildcard is not supported in selector",
            ));
        } else if !value.is_empty() && !is_label_name(value) {
            out.push(Finding::error(
                format!("{field}[{key:?}]"),
                format!("invalid label value {value:?}"),
            ));
        }
    }
}

/// `workloadSelector.labels`: valid labels; none at all selects everything (a warning).
fn validate_workload_selector(selector: &Value, selects: &str, out: &mut Vec<Finding>) {
    match string_map(selector.get("labels"), "spec.workloadSelector.labels", out) {
        Some(labels) if !labels.is_empty() => {
            validate_labels(&labels, "spec.workloadSelector.labels", out)
        }
        _ => out.push(Finding::warning(
            "spec.workloadSelector",
            format!(
                "workloadSelector has no labels: it will be applied to all {selects} in namespace"
            ),
        )),
    }
}

/// A Kubernetes qualified name part: alphanumerics, `-`, `_`, `.`, at most 63.
fn is_label_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

// ---- ServiceEntry ----------------------------------------------------------------------------

/// The resolutions Istio knows.
pub const RESOLUTIONS: &[&str] = &["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"];
/// The locations Istio knows.
pub const LOCATIONS: &[&str] = &["MESH_EXTERNAL", "MESH_INTERNAL"];

struct Port {
    index: usize,
    number: Option<i64>,
    name: Option<String>,
    protocol: String,
}

/// Judges a ServiceEntry's `spec` (JSON, as the apiserver stores it) in `namespace`, with the
/// object's labels (some rules depend on them).
pub fn validate_service_entry(
    namespace: &str,
    labels: &BTreeMap<String, String>,
    spec: Option<&Value>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = match spec {
        None | Some(Value::Null) => {
            out.push(Finding::error("spec", "Required value"));
            return out;
        }
        Some(spec @ Value::Object(_)) => spec,
        Some(_) => {
            out.push(Finding::error("spec", "must be a mapping"));
            return out;
        }
    };

    let resolution =
        string_field(spec, "resolution", "spec", &mut out).unwrap_or_else(|| "NONE".into());
    if !RESOLUTIONS.contains(&resolution.as_str()) {
        out.push(Finding::error(
            "spec.resolution",
            format!(
                "unsupported value {resolution:?}: use one of {}",
                RESOLUTIONS.join(", ")
            ),
        ));
    }
    let location = string_field(spec, "location", "spec", &mut out);
    if let Some(location) = &location {
        if !LOCATIONS.contains(&location.as_str()) {
            out.push(Finding::error(
                "spec.location",
                format!("unsupported value {location:?}: use MESH_EXTERNAL or MESH_INTERNAL"),
            ));
        }
    }

    // Hosts.
    let hosts = string_list(spec, "hosts", &mut out);
    if hosts.is_empty() {
        out.push(Finding::error(
            "spec.hosts",
            "at least one host is required",
        ));
    }
    for (i, host) in &hosts {
        let field = format!("spec.hosts[{i}]");
        if host == "*" {
            out.push(Finding::error(field, "hostname cannot be wildcard (*)"));
            continue;
        }
        if let Err(e) = validate_wildcard_domain(host) {
            out.push(Finding::error(field, e));
            continue;
        }
        if is_partial_wildcard(host) {
            out.push(Finding::warning(
                field,
                format!("partial wildcard {host:?} not allowed: only *.domain wildcards match"),
            ));
        }
    }

    // Addresses.
    let addresses = string_list(spec, "addresses", &mut out);
    let mut cidr = false;
    for (i, address) in &addresses {
        cidr |= address.contains('/');
        if let Err(e) = validate_ip_subnet(address) {
            out.push(Finding::error(format!("spec.addresses[{i}]"), e));
        }
    }
    if cidr && resolution != "NONE" && resolution != "STATIC" {
        out.push(Finding::error(
            "spec.addresses",
            "CIDR addresses are allowed only for NONE/STATIC resolution types",
        ));
    }

    // Ports.
    let mut ports = Vec::new();
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for (i, port) in list(spec, "ports", "spec.ports", &mut out)
        .iter()
        .enumerate()
    {
        let field = format!("spec.ports[{i}]");
        if !port.is_object() {
            out.push(Finding::error(field, "must be a mapping"));
            continue;
        }
        let number = number_field(port, "number", &field, &mut out);
        let name = string_field(port, "name", &field, &mut out);
        let protocol = string_field(port, "protocol", &field, &mut out).unwrap_or_default();
        let target = number_field(port, "targetPort", &field, &mut out);
        match &name {
            None => out.push(Finding::error(format!("{field}.name"), "Required value")),
            Some(n) if !names.insert(n.clone()) => out.push(Finding::error(
                format!("{field}.name"),
                format!("port name {n:?} is already defined"),
            )),
            Some(n) if !is_dns1123_label(n) => out.push(Finding::error(
                format!("{field}.name"),
                format!("invalid port name {n:?}: use a DNS-1123 label"),
            )),
            Some(_) => {}
        }
        match number {
            None => out.push(Finding::error(format!("{field}.number"), "Required value")),
            Some(n) if !(1..=65535).contains(&n) => out.push(Finding::error(
                format!("{field}.number"),
                "port must be between 1-65535",
            )),
            Some(n) if !numbers.insert(n) => out.push(Finding::error(
                format!("{field}.number"),
                format!("port number {n} cannot be duplicated"),
            )),
            Some(_) => {}
        }
        if let Some(target) = target {
            if !(1..=65535).contains(&target) {
                out.push(Finding::error(
                    format!("{field}.targetPort"),
                    "port must be between 1-65535",
                ));
            } else if resolution == "NONE" {
                out.push(Finding::warning(
                    format!("{field}.targetPort"),
                    "targetPort has no effect when resolution mode is NONE",
                ));
            }
        }
        if !protocol.is_empty() && known_protocol(&protocol).is_none() {
            out.push(Finding::error(
                format!("{field}.protocol"),
                format!(
                    "unsupported protocol {protocol:?}: use one of {}",
                    PROTOCOLS.join(", ")
                ),
            ));
        }
        ports.push(Port {
            index: i,
            number,
            name,
            protocol,
        });
    }
    let port_names: BTreeSet<String> = ports.iter().filter_map(|p| p.name.clone()).collect();

    // Without addresses, a TCP port (or one with no protocol) of a NONE entry listens on
    // 0.0.0.0:port: it captures traffic to every IP on that port (other resolutions get an
    // auto-allocated address).
    if addresses.is_empty() && resolution == "NONE" {
        for port in &ports {
            if port.protocol.is_empty() || port.protocol.eq_ignore_ascii_case("TCP") {
                out.push(Finding::warning(
                    format!("spec.ports[{}]", port.index),
                    "addresses are required for ports serving TCP (or unset) protocol when \
                     ISTIO_META_DNS_AUTO_ALLOCATE is not set on a proxy",
                ));
                out.push(Finding::lint(
                    LINT_NONE_TCP_WITHOUT_ADDRESSES,
                    format!("spec.ports[{}]", port.index),
                    format!(
                        "resolution NONE with a TCP port and no addresses opens 0.0.0.0:{}: \
                         all traffic to that port, to any IP, is treated as this service",
                        port.number.unwrap_or_default()
                    ),
                ));
            }
        }
    }

    // Workload selector and endpoints.
    let selector = spec.get("workloadSelector").filter(|v| !v.is_null());
    let endpoints = list(spec, "endpoints", "spec.endpoints", &mut out);
    // NB: the CRD's CEL rules test presence (`has(self.endpoints)`): an empty list counts,
    // although istiod (protobuf) reads it as unset. Judge what the apiserver will receive.
    let endpoints_present = spec.get("endpoints").is_some_and(|v| !v.is_null());
    if selector.is_some() && endpoints_present {
        out.push(Finding::error(
            "spec.workloadSelector",
            "only one of WorkloadSelector or Endpoints can be set",
        ));
    }
    if let Some(selector) = selector {
        validate_workload_selector(selector, "services", &mut out);
    }

    match resolution.as_str() {
        "NONE" => {
            if !endpoints.is_empty() {
                out.push(Finding::error(
                    "spec.endpoints",
                    "NONE mode cannot set endpoints (no endpoints for resolution type none)",
                ));
            } else if endpoints_present {
                out.push(Finding::error(
                    "spec.endpoints",
                    "NONE mode cannot set endpoints: the apiserver counts an empty list as set; \
                     remove the field",
                ));
            }
            if selector.is_some() {
                out.push(Finding::warning(
                    "spec.workloadSelector",
                    "workloadSelector should not be set when resolution mode is NONE",
                ));
            }
        }
        "STATIC" => {
            for (i, endpoint) in endpoints.iter().enumerate() {
                validate_endpoint(endpoint, i, &port_names, false, &mut out);
            }
        }
        "DNS" | "DNS_ROUND_ROBIN" => {
            if endpoints.is_empty() {
                for (i, host) in &hosts {
                    if host != "*"
                        && validate_wildcard_domain(host).is_ok()
                        && validate_fqdn(host).is_err()
                    {
                        out.push(Finding::error(
                            format!("spec.hosts[{i}]"),
                            format!(
                                "hosts must be FQDN if no endpoints are provided for resolution mode {resolution}"
                            ),
                        ));
                    }
                }
            }
            if resolution == "DNS_ROUND_ROBIN" && endpoints.len() > 1 {
                out.push(Finding::error(
                    "spec.endpoints",
                    "DNS_ROUND_ROBIN mode cannot have multiple endpoints",
                ));
            }
            for (i, endpoint) in endpoints.iter().enumerate() {
                validate_endpoint(endpoint, i, &port_names, true, &mut out);
            }
            if !addresses.is_empty()
                && hosts.len() > 1
                && ports.iter().any(|p| is_tcp_level(&p.protocol))
            {
                out.push(Finding::warning(
                    "spec.hosts",
                    "service entry can not have more than one host specified simultaneously \
                     with address and tcp port",
                ));
            }
            for (i, host) in &hosts {
                if !host.contains('.') && !host.contains('*') && parse_ip(host).is_none() {
                    out.push(Finding::lint(
                        LINT_DNS_SHORT_NAME,
                        format!("spec.hosts[{i}]"),
                        format!(
                            "{host:?} is not fully qualified: with DNS resolution it is looked up \
                             in each pod's search domains and may resolve differently per namespace"
                        ),
                    ));
                }
            }
        }
        "DYNAMIC_DNS" => {
            for (i, host) in &hosts {
                if !host.starts_with("*.") {
                    out.push(Finding::error(
                        format!("spec.hosts[{i}]"),
                        "DYNAMIC_DNS resolution requires wildcard hosts (*.domain)",
                    ));
                }
            }
            if !addresses.is_empty() {
                out.push(Finding::error(
                    "spec.addresses",
                    "addresses are not allowed with DYNAMIC_DNS resolution",
                ));
            }
            if !endpoints.is_empty() {
                out.push(Finding::error(
                    "spec.endpoints",
                    "endpoints are not allowed with DYNAMIC_DNS resolution",
                ));
            }
            if selector.is_some() {
                out.push(Finding::error(
                    "spec.workloadSelector",
                    "workloadSelector is not allowed with DYNAMIC_DNS resolution",
                ));
            }
            if location.as_deref() == Some("MESH_INTERNAL")
                && labels.contains_key("istio.io/use-waypoint")
            {
                out.push(Finding::error(
                    "metadata.labels[\"istio.io/use-waypoint\"]",
                    "a MESH_INTERNAL DYNAMIC_DNS entry cannot use a waypoint",
                ));
            }
        }
        _ => {}
    }

    // Several hosts on a port the mesh cannot tell apart by host (plain TCP) only work with
    // resolution NONE.
    if resolution != "NONE" && hosts.len() > 1 {
        if ports
            .iter()
            .any(|p| !is_http(&p.protocol) && !is_tls(&p.protocol))
        {
            out.push(Finding::error(
                "spec.ports",
                "multiple hosts provided with non-HTTP, non-TLS ports",
            ));
        } else if let Some(port) = ports.iter().find(|p| is_tcp_level(&p.protocol)) {
            out.push(Finding::lint(
                LINT_MULTI_HOST_TCP,
                format!("spec.ports[{}]", port.index),
                format!(
                    "{} hosts share the {} port {}: the mesh tells them apart only by SNI, so \
                     clients without SNI reach an arbitrary one",
                    hosts.len(),
                    port.protocol.to_ascii_uppercase(),
                    port.number.unwrap_or_default()
                ),
            ));
        }
    }

    validate_export_to(
        namespace,
        &string_list(spec, "exportTo", &mut out),
        true,
        &mut out,
    );
    let _ = string_list(spec, "subjectAltNames", &mut out);
    out
}

/// An endpoint (a WorkloadEntry) of a STATIC or DNS entry.
fn validate_endpoint(
    endpoint: &Value,
    index: usize,
    service_ports: &BTreeSet<String>,
    dns: bool,
    out: &mut Vec<Finding>,
) {
    let field = format!("spec.endpoints[{index}]");
    if !endpoint.is_object() {
        out.push(Finding::error(field, "must be a mapping"));
        return;
    }
    let address = string_field(endpoint, "address", &field, out).unwrap_or_default();
    let network = string_field(endpoint, "network", &field, out).unwrap_or_default();
    let ports = port_map(endpoint.get("ports"), &format!("{field}.ports"), out);
    let mut unix = false;
    if address.is_empty() {
        if network.is_empty() {
            out.push(Finding::error(
                format!("{field}.address"),
                "address must be set",
            ));
        } else {
            out.push(Finding::warning(
                format!("{field}.address"),
                "no address: the endpoint is reached through the network's gateway",
            ));
        }
    } else if let Some(path) = address.strip_prefix("unix://") {
        unix = true;
        if dns {
            out.push(Finding::error(
                format!("{field}.address"),
                format!("endpoint address {address:?} is not a valid FQDN or an IP address"),
            ));
        } else if let Err(e) = validate_unix_address(path) {
            out.push(Finding::error(format!("{field}.address"), e));
        }
        if !ports.is_empty() {
            out.push(Finding::error(
                format!("{field}.ports"),
                format!("unix endpoint {address} must not include ports"),
            ));
        }
    } else if parse_ip(&address).is_none() {
        if dns {
            if validate_fqdn(&address).is_err() {
                out.push(Finding::error(
                    format!("{field}.address"),
                    format!("endpoint address {address:?} is not a valid FQDN or an IP address"),
                ));
            }
        } else {
            out.push(Finding::error(
                format!("{field}.address"),
                format!("endpoint address {address:?} is not a valid IP address"),
            ));
        }
    }
    for (name, port) in &ports {
        if !service_ports.contains(name) {
            out.push(Finding::error(
                format!("{field}.ports[{name:?}]"),
                format!("endpoint port {port} is not defined by the service entry"),
            ));
        }
        if !is_dns1123_label(name) {
            out.push(Finding::error(
                format!("{field}.ports[{name:?}]"),
                format!("invalid port name {name:?}"),
            ));
        }
        if !(1..=65535).contains(port) {
            out.push(Finding::error(
                format!("{field}.ports[{name:?}]"),
                "port must be between 1-65535",
            ));
        }
    }
    if let Some(labels) = string_map(endpoint.get("labels"), &format!("{field}.labels"), out) {
        validate_labels(&labels, &format!("{field}.labels"), out);
    }
    if let Some(weight) = number_field(endpoint, "weight", &field, out) {
        if weight < 0 {
            out.push(Finding::error(
                format!("{field}.weight"),
                "weight must be 0 or more",
            ));
        } else if weight > i64::from(u32::MAX) {
            out.push(Finding::error(
                format!("{field}.weight"),
                format!("weight must be at most {}", u32::MAX),
            ));
        }
    }
    if unix && service_ports.len() != 1 {
        out.push(Finding::error(
            format!("{field}.address"),
            "exactly 1 service port required for unix endpoints",
        ));
    }
}

/// A unix socket path: absolute and naming a file, or an abstract socket (`@name`).
fn validate_unix_address(path: &str) -> Result<(), String> {
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

fn port_map(value: Option<&Value>, field: &str, out: &mut Vec<Finding>) -> BTreeMap<String, i64> {
    match value {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| match v.as_i64() {
                Some(n) => Some((k.clone(), n)),
                None => {
                    out.push(Finding::error(
                        format!("{field}[{k:?}]"),
                        "must be a port number",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            out.push(Finding::error(field.to_string(), "must be a mapping"));
            BTreeMap::new()
        }
    }
}

/// `exportTo`: `.`, `*`, `~` (ServiceEntries only) or namespace names; no duplicates; `*` and
/// `~` stand alone.
fn validate_export_to(
    namespace: &str,
    export_to: &[(usize, String)],
    service_entry: bool,
    out: &mut Vec<Finding>,
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
                    field,
                    format!("duplicate entries in exportTo: . and current namespace {namespace}"),
                ));
            } else {
                out.push(Finding::error(
                    field,
                    format!("duplicate entries in exportTo for entry {entry}"),
                ));
            }
            continue;
        }
        let ok = match entry.as_str() {
            "." | "*" => true,
            "~" => service_entry,
            other => is_k8s_label(other),
        };
        if ok {
            seen.insert(key);
        } else if entry == "~" {
            out.push(Finding::error(
                field,
                "exportTo ~ (none) is not allowed here",
            ));
        } else {
            out.push(Finding::error(
                field,
                "only ., *, ~ or a valid namespace name is allowed as exportTo entry",
            ));
        }
    }
    if (seen.contains("*") || seen.contains("~")) && seen.len() > 1 {
        out.push(Finding::error(
            "spec.exportTo",
            "cannot have both public (*) or none (~) and other exportTo values",
        ));
    }
}

// ---- Sidecar ---------------------------------------------------------------------------------

/// Lint: an `outboundTrafficPolicy` without a mode means REGISTRY_ONLY.
pub const LINT_POLICY_WITHOUT_MODE: &str = "MEG004";

/// The modes a Sidecar's `outboundTrafficPolicy.mode` may take.
const SIDECAR_MODES: &[&str] = &["REGISTRY_ONLY", "ALLOW_ANY", "ALLOW_ANY_DYNAMIC_DNS"];

/// Judges a Sidecar's `spec` in `namespace` as istiod does.
pub fn validate_sidecar(namespace: &str, spec: Option<&Value>) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = match spec {
        None | Some(Value::Null) => {
            out.push(Finding::error("spec", "Required value"));
            return out;
        }
        Some(spec @ Value::Object(_)) => spec,
        Some(_) => {
            out.push(Finding::error("spec", "must be a mapping"));
            return out;
        }
    };
    let ingress = list(spec, "ingress", "spec.ingress", &mut out);
    let egress = list(spec, "egress", "spec.egress", &mut out);
    let policy = spec.get("outboundTrafficPolicy").filter(|v| !v.is_null());
    let inbound_pool = spec.get("inboundConnectionPool").filter(|v| !v.is_null());
    if ingress.is_empty() && egress.is_empty() && policy.is_none() && inbound_pool.is_none() {
        out.push(Finding::error(
            "spec",
            "sidecar: empty configuration provided",
        ));
        return out;
    }
    if let Some(selector) = spec.get("workloadSelector").filter(|v| !v.is_null()) {
        validate_workload_selector(selector, "workloads", &mut out);
    }

    let mut ingress_ports = BTreeSet::new();
    for (i, listener) in ingress.iter().enumerate() {
        let field = format!("spec.ingress[{i}]");
        let Some(port) = listener.get("port").filter(|p| p.is_object()) else {
            out.push(Finding::error(
                format!("{field}.port"),
                "sidecar: port is required for ingress listeners",
            ));
            continue;
        };
        let (number, protocol) = sidecar_port(port, &format!("{field}.port"), &mut out);
        if !(1..=65535).contains(&number) {
            out.push(Finding::error(
                format!("{field}.port.number"),
                "port must be between 1-65535",
            ));
        } else if !ingress_ports.insert(number) {
            out.push(Finding::error(
                format!("{field}.port.number"),
                "sidecar: ports on IP bound listeners must be unique",
            ));
        }
        if let Some(bind) = string_field(listener, "bind", &field, &mut out) {
            if !bind.is_empty() && parse_ip(&bind).is_none() {
                out.push(Finding::error(
                    format!("{field}.bind"),
                    format!("{bind:?} is not a valid IP address"),
                ));
            }
        }
        if let Some(endpoint) =
            string_field(listener, "defaultEndpoint", &field, &mut out).filter(|e| !e.is_empty())
        {
            validate_default_endpoint(&endpoint, &format!("{field}.defaultEndpoint"), &mut out);
        }
        if let Some(tls) = listener.get("tls").filter(|t| !t.is_null()) {
            validate_ingress_tls(tls, &protocol, &format!("{field}.tls"), &mut out);
        }
        if let Some(pool) = listener.get("connectionPool").filter(|p| !p.is_null()) {
            let has_http = pool.get("http").is_some_and(|h| !h.is_null());
            let has_tcp = pool.get("tcp").is_some_and(|t| !t.is_null());
            if !has_http && !has_tcp {
                out.push(Finding::error(
                    format!("{field}.connectionPool"),
                    "connectionPool must set http or tcp settings",
                ));
            } else if has_http && !protocol.is_empty() && !is_http(&protocol) {
                out.push(Finding::warning(
                    format!("{field}.connectionPool.http"),
                    format!("HTTP connection settings have no effect on a {protocol} port"),
                ));
            }
        }
    }

    let mut egress_ports = BTreeSet::new();
    let mut socket_binds = BTreeSet::new();
    let mut catch_all_found = false;
    for (i, listener) in egress.iter().enumerate() {
        let field = format!("spec.egress[{i}]");
        let hosts = match listener.get("hosts") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(j, h)| match h.as_str() {
                    Some(h) => Some(h.to_string()),
                    None => {
                        out.push(Finding::error(
                            format!("{field}.hosts[{j}]"),
                            "must be a string",
                        ));
                        None
                    }
                })
                .collect::<Vec<_>>(),
            _ => vec![],
        };
        if hosts.is_empty() {
            out.push(Finding::error(
                format!("{field}.hosts"),
                "sidecar: egress listener must contain at least one host",
            ));
        }
        let mut per_namespace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (j, host) in hosts.iter().enumerate() {
            let host_field = format!("{field}.hosts[{j}]");
            if let Some((ns, name)) = host.split_once('/') {
                let ns = if ns == "." { namespace } else { ns };
                let names = per_namespace.entry(ns.to_string()).or_default();
                let duplicated = if name == "*" {
                    !names.is_empty()
                } else {
                    names.contains(name) || names.contains("*")
                };
                if duplicated {
                    out.push(Finding::warning(
                        host_field.clone(),
                        format!("duplicated egress host: {host}"),
                    ));
                }
                names.insert(name.to_string());
            }
            if let Err(e) = validate_sidecar_host(host) {
                out.push(Finding::error(host_field, e));
            }
        }
        if per_namespace.get("*").is_some_and(|n| n.contains("*")) && per_namespace.len() != 1 {
            out.push(Finding::warning(
                format!("{field}.hosts"),
                "`*/*` host select all resources, no other hosts can be added",
            ));
        }
        match listener.get("port").filter(|p| !p.is_null()) {
            None => {
                if catch_all_found {
                    out.push(Finding::error(
                        format!("{field}.port"),
                        "sidecar: egress can have only one listener with empty port",
                    ));
                } else if i == egress.len() - 1 {
                    catch_all_found = true;
                } else {
                    out.push(Finding::error(
                        format!("{field}.port"),
                        "sidecar: the egress listener with empty port should be the last listener in the list",
                    ));
                }
            }
            Some(port) => {
                let port_field = format!("{field}.port");
                let (number, _) = sidecar_port(port, &port_field, &mut out);
                let bind = string_field(listener, "bind", &field, &mut out).unwrap_or_default();
                let capture =
                    string_field(listener, "captureMode", &field, &mut out).unwrap_or_default();
                if number == 0 {
                    match bind.strip_prefix("unix://") {
                        None => out.push(Finding::error(
                            format!("{field}.bind"),
                            "sidecar: ports with 0 value must have a unix domain socket bind address",
                        )),
                        Some(path) => {
                            if let Err(e) = validate_unix_address(path) {
                                out.push(Finding::error(format!("{field}.bind"), e));
                            }
                        }
                    }
                    if !capture.is_empty() && capture != "DEFAULT" && capture != "NONE" {
                        out.push(Finding::error(
                            format!("{field}.captureMode"),
                            "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners",
                        ));
                    }
                    if !socket_binds.insert(bind.clone()) {
                        out.push(Finding::error(
                            format!("{field}.bind"),
                            "sidecar: unix domain socket values for listeners must be unique",
                        ));
                    }
                } else {
                    if !(1..=65535).contains(&number) {
                        out.push(Finding::error(
                            format!("{port_field}.number"),
                            "port must be between 1-65535",
                        ));
                    } else if !egress_ports.insert(number) {
                        out.push(Finding::error(
                            format!("{port_field}.number"),
                            "sidecar: ports on IP bound listeners must be unique",
                        ));
                    }
                    if !bind.is_empty() && parse_ip(&bind).is_none() {
                        out.push(Finding::error(
                            format!("{field}.bind"),
                            format!("{bind:?} is not a valid IP address"),
                        ));
                    }
                }
            }
        }
    }

    if let Some(policy) = policy {
        let mode = string_field(policy, "mode", "spec.outboundTrafficPolicy", &mut out);
        match &mode {
            Some(mode) if !SIDECAR_MODES.contains(&mode.as_str()) => out.push(Finding::error(
                "spec.outboundTrafficPolicy.mode",
                format!("unsupported value {mode:?}: use REGISTRY_ONLY or ALLOW_ANY"),
            )),
            None => out.push(Finding::lint(
                LINT_POLICY_WITHOUT_MODE,
                "spec.outboundTrafficPolicy",
                "outboundTrafficPolicy has no mode, which Istio reads as REGISTRY_ONLY: \
                 pods in scope reach only registered hosts",
            )),
            Some(_) => {}
        }
        if let Some(proxy) = policy.get("egressProxy").filter(|p| !p.is_null()) {
            if mode.as_deref() != Some("ALLOW_ANY") {
                out.push(Finding::error(
                    "spec.outboundTrafficPolicy.egressProxy",
                    "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode",
                ));
            } else {
                let host = string_field(
                    proxy,
                    "host",
                    "spec.outboundTrafficPolicy.egressProxy",
                    &mut out,
                )
                .unwrap_or_default();
                if let Err(e) = validate_fqdn(&host) {
                    out.push(Finding::error(
                        "spec.outboundTrafficPolicy.egressProxy.host",
                        e,
                    ));
                }
                if proxy.get("port").is_none_or(Value::is_null) {
                    out.push(Finding::error(
                        "spec.outboundTrafficPolicy.egressProxy.port",
                        "sidecar: egress_proxy port must be non-nil",
                    ));
                }
            }
        }
    }
    out
}

/// A Sidecar listener's port: the name is optional (a DNS-1123 label when given), the protocol
/// one Istio knows. Gives the number (0 when absent: a unix socket listener) and the protocol.
fn sidecar_port(port: &Value, field: &str, out: &mut Vec<Finding>) -> (i64, String) {
    let number = number_field(port, "number", field, out).unwrap_or(0);
    let protocol = string_field(port, "protocol", field, out).unwrap_or_default();
    if let Some(name) = string_field(port, "name", field, out).filter(|n| !n.is_empty()) {
        if !is_dns1123_label(&name) {
            out.push(Finding::error(
                format!("{field}.name"),
                format!("invalid port name {name:?}"),
            ));
        }
    }
    if !protocol.is_empty() && known_protocol(&protocol).is_none() {
        out.push(Finding::error(
            format!("{field}.protocol"),
            format!("unsupported protocol {protocol:?}"),
        ));
    }
    (number, protocol)
}

/// `namespace/host`, as Sidecar egress hosts are written.
fn validate_sidecar_host(host: &str) -> Result<(), String> {
    let Some((ns, name)) = host.split_once('/') else {
        return Err("host must be of form namespace/dnsName".into());
    };
    if ns.is_empty() || name.is_empty() {
        return Err("config namespace and dnsName in host entry cannot be empty".into());
    }
    if ns != "*" && ns != "." && ns != "~" && !is_dns1123_label(ns) {
        return Err(format!("invalid namespace value {ns:?} in sidecar"));
    }
    if name == "*" {
        return Ok(());
    }
    if is_partial_wildcard(name) {
        return Err(format!("partial wildcard {name:?} not allowed"));
    }
    if validate_wildcard_domain(name).is_ok() || parse_ip(name).is_some() {
        Ok(())
    } else {
        validate_wildcard_domain(name)
    }
}

fn validate_default_endpoint(endpoint: &str, field: &str, out: &mut Vec<Finding>) {
    if let Some(path) = endpoint.strip_prefix("unix://") {
        if let Err(e) = validate_unix_address(path) {
            out.push(Finding::error(field, e));
        }
        return;
    }
    let (host, port) = match endpoint.rsplit_once(':') {
        Some((host, port)) => (host.trim_start_matches('[').trim_end_matches(']'), port),
        None => {
            out.push(Finding::error(
                field,
                format!("address {endpoint}: missing port in address"),
            ));
            return;
        }
    };
    if !host.is_empty() && !matches!(host, "127.0.0.1" | "0.0.0.0" | "::1" | "::") {
        out.push(Finding::error(
            field,
            "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath, or unset",
        ));
    }
    match port.parse::<i64>() {
        Ok(port) if (1..=65535).contains(&port) => {}
        Ok(_) => out.push(Finding::error(field, "port must be between 1-65535")),
        Err(_) => out.push(Finding::error(
            field,
            format!("sidecar: defaultEndpoint port ({port}) is not a number"),
        )),
    }
}

fn validate_ingress_tls(tls: &Value, protocol: &str, field: &str, out: &mut Vec<Finding>) {
    let unsupported = [
        (
            "subjectAltNames",
            "subjectAltNames is not supported in ingress tls",
        ),
        ("httpsRedirect", "httpsRedirect is not supported"),
        (
            "credentialName",
            "credentialName is not currently supported",
        ),
        (
            "credentialNames",
            "credentialNames is not currently supported",
        ),
        (
            "tlsCertificates",
            "tlsCertificates is not currently supported",
        ),
    ];
    for (key, message) in unsupported {
        let set = match tls.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if set {
            out.push(Finding::error(
                format!("{field}.{key}"),
                format!("sidecar: {message}"),
            ));
        }
    }
    let mode = tls
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("PASSTHROUGH");
    if matches!(
        mode,
        "ISTIO_MUTUAL" | "AUTO_PASSTHROUGH" | "ISTIO_AUTO_PASSTHROUGH"
    ) {
        out.push(Finding::error(
            format!("{field}.mode"),
            format!("configuration is invalid: cannot set mode to {mode} in sidecar ingress tls"),
        ));
    }
    if !is_tls(protocol) {
        out.push(Finding::error(
            field.to_string(),
            "server cannot have TLS settings for non HTTPS/TLS ports",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
