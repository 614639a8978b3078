//! The endpoints (WorkloadEntries) of a STATIC or DNS ServiceEntry.

use super::super::names::{
    is_dns1123_label, parse_ip, validate_fqdn, validate_labels, validate_unix_address,
};
use super::super::{Finding, Findings};
use super::Endpoint;
use std::collections::BTreeSet;

/// An endpoint: its address (an IP; with `dns`, an FQDN too; a unix socket with exactly one
/// service port), its ports (named by the entry, in range), labels and weight.
pub(super) fn validate_endpoint(
    endpoint: &Endpoint,
    service_ports: &BTreeSet<String>,
    dns: bool,
    out: &mut Findings,
) {
    let field = format!("spec.endpoints[{}]", endpoint.index);
    address(endpoint, &field, service_ports, dns, out);
    for (name, port) in &endpoint.ports {
        let port_field = format!("{field}.ports[{}]", crate::domain::quoted(name));
        if !service_ports.contains(name) {
            out.push(Finding::error(
                "SE401",
                port_field.clone(),
                format!("endpoint port {port} is not defined by the service entry"),
            ));
        }
        if !is_dns1123_label(name) {
            out.push(Finding::error(
                "SE402",
                port_field.clone(),
                format!("invalid port name {}", crate::domain::quoted(name)),
            ));
        }
        if !(1..=65535).contains(port) {
            out.push(Finding::error(
                "SE403",
                port_field,
                "port must be between 1-65535",
            ));
        }
    }
    if let Some(labels) = &endpoint.labels {
        validate_labels(labels, &format!("{field}.labels"), out);
    }
    match endpoint.weight {
        Some(weight) if weight < 0 => out.push(Finding::error(
            "SE404",
            format!("{field}.weight"),
            "weight must be 0 or more",
        )),
        Some(weight) if weight > i64::from(u32::MAX) => out.push(Finding::error(
            "SE405",
            format!("{field}.weight"),
            format!("weight must be at most {}", u32::MAX),
        )),
        _ => {}
    }
}

fn address(
    endpoint: &Endpoint,
    field: &str,
    service_ports: &BTreeSet<String>,
    dns: bool,
    out: &mut Findings,
) {
    let address = &endpoint.address;
    let address_field = format!("{field}.address");
    if address.is_empty() {
        if endpoint.network.is_empty() {
            out.push(Finding::error(
                "SE411",
                address_field,
                "address must be set",
            ));
        } else {
            out.push(Finding::warning(
                "SE412",
                address_field,
                "no address: the endpoint is reached through the network's gateway",
            ));
        }
    } else if let Some(path) = address.strip_prefix("unix://") {
        if dns {
            out.push(Finding::error(
                "SE413",
                address_field.clone(),
                format!(
                    "endpoint address {} is not a valid FQDN or an IP address",
                    crate::domain::quoted(address)
                ),
            ));
        } else if let Err(e) = validate_unix_address(path) {
            out.push(Finding::error("SE414", address_field.clone(), e));
        }
        if !endpoint.ports.is_empty() {
            out.push(Finding::error(
                "SE415",
                format!("{field}.ports"),
                format!("unix endpoint {address} must not include ports"),
            ));
        }
        if service_ports.len() != 1 {
            out.push(Finding::error(
                "SE416",
                address_field,
                "exactly 1 service port required for unix endpoints",
            ));
        }
    } else if parse_ip(address).is_none() {
        if !dns {
            out.push(Finding::error(
                "SE417",
                address_field,
                format!(
                    "endpoint address {} is not a valid IP address",
                    crate::domain::quoted(address)
                ),
            ));
        } else if validate_fqdn(address).is_err() {
            out.push(Finding::error(
                "SE413",
                address_field,
                format!(
                    "endpoint address {} is not a valid FQDN or an IP address",
                    crate::domain::quoted(address)
                ),
            ));
        }
    }
}
