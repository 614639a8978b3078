//! The ServiceEntry rules, grouped by what they judge. Each looks at the typed view only.

use super::super::export_to::validate_export_to;
use super::super::kinds::{Location, PortProtocol, Protocol, Resolution};
use super::super::names::{
    is_dns1123_label, is_partial_wildcard, parse_ip, validate_fqdn, validate_ip_subnet,
    validate_wildcard_domain, validate_workload_selector,
};
use super::super::{
    errors_where, Finding, Findings, LINT_DNS_SHORT_NAME, LINT_MULTI_HOST_TCP,
    LINT_NONE_TCP_WITHOUT_ADDRESSES,
};
use super::endpoints::validate_endpoint;
use super::View;
use std::collections::BTreeSet;

/// A rule: reads the view, adds findings.
pub(super) type Rule = fn(&View, &mut Findings);

/// Every rule, in the order istiod reports them.
pub(super) const ALL: &[Rule] = &[
    hosts,
    addresses,
    ports,
    tcp_without_addresses,
    selector_or_endpoints,
    resolution_none,
    resolution_static,
    resolution_dns,
    resolution_dynamic_dns,
    multiple_hosts,
    export_to,
];

/// At least one host; each a valid domain, `*` alone refused, partial wildcards warned.
fn hosts(view: &View, out: &mut Findings) {
    if view.hosts.is_empty() {
        out.push(Finding::error(
            "SE101",
            "spec.hosts",
            "at least one host is required",
        ));
    }
    for (i, host) in &view.hosts {
        let field = format!("spec.hosts[{i}]");
        if host == "*" {
            out.push(Finding::error(
                "SE102",
                field,
                "hostname cannot be wildcard (*)",
            ));
        } else if let Err(e) = validate_wildcard_domain(host) {
            out.push(Finding::error("SE103", field, e));
        } else if is_partial_wildcard(host) && !view.resolution_is(Resolution::DynamicDns) {
            out.push(Finding::warning(
                "SE104",
                field,
                format!(
                    "partial wildcard {} not allowed: only *.domain wildcards match",
                    crate::domain::quoted(host)
                ),
            ));
        }
    }
}

/// Addresses are IPs or CIDR blocks; CIDR blocks only with NONE or STATIC resolution.
fn addresses(view: &View, out: &mut Findings) {
    for (i, address) in &view.addresses {
        if let Err(e) = validate_ip_subnet(address) {
            out.push(Finding::error("SE111", format!("spec.addresses[{i}]"), e));
        }
    }
    let cidr = view.addresses.iter().any(|(_, a)| a.contains('/'));
    let by_prefix = matches!(
        view.resolution,
        Some(Resolution::None) | Some(Resolution::Static)
    );
    if cidr && !by_prefix {
        out.push(Finding::error(
            "SE112",
            "spec.addresses",
            "CIDR addresses are allowed only for NONE/STATIC resolution types",
        ));
    }
}

/// Each port: a unique DNS-1123 name, a unique number in range, a target port in range (and
/// of use only when the proxy resolves endpoints).
fn ports(view: &View, out: &mut Findings) {
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for port in &view.ports {
        let field = format!("spec.ports[{}]", port.index);
        match &port.name {
            None => out.push(Finding::error(
                "SE201",
                format!("{field}.name"),
                "Required value",
            )),
            Some(n) if !names.insert(n.clone()) => out.push(Finding::error(
                "SE202",
                format!("{field}.name"),
                format!("port name {} is already defined", crate::domain::quoted(n)),
            )),
            Some(n) if !is_dns1123_label(n) => out.push(Finding::error(
                "SE203",
                format!("{field}.name"),
                format!(
                    "invalid port name {}: use a DNS-1123 label",
                    crate::domain::quoted(n)
                ),
            )),
            Some(_) => {}
        }
        match port.number {
            None => out.push(Finding::error(
                "SE204",
                format!("{field}.number"),
                "Required value",
            )),
            Some(n) if !(1..=65535).contains(&n) => out.push(Finding::error(
                "SE205",
                format!("{field}.number"),
                "port must be between 1-65535",
            )),
            Some(n) if !numbers.insert(n) => out.push(Finding::error(
                "SE207",
                format!("{field}.number"),
                format!("port number {n} cannot be duplicated"),
            )),
            Some(_) => {}
        }
        match port.target {
            Some(target) if !(1..=65535).contains(&target) => out.push(Finding::error(
                "SE208",
                format!("{field}.targetPort"),
                "port must be between 1-65535",
            )),
            Some(_) if view.resolution_is(Resolution::None) => out.push(Finding::warning(
                "SE209",
                format!("{field}.targetPort"),
                "targetPort has no effect when resolution mode is NONE",
            )),
            _ => {}
        }
    }
}

/// Without addresses, a port serving TCP (or no protocol) needs an address the proxy can
/// match: istiod warns when none is allocated automatically (resolution NONE, or the
/// `networking.istio.io/enable-autoallocate-ip: "false"` label). A NONE entry then listens on
/// 0.0.0.0:port and captures traffic to every IP on that port (lint MEG001).
fn tcp_without_addresses(view: &View, out: &mut Findings) {
    if !view.addresses.is_empty() {
        return;
    }
    let none = view.resolution_is(Resolution::None);
    let opted_out = view
        .labels
        .get("networking.istio.io/enable-autoallocate-ip")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    for port in &view.ports {
        let field = format!("spec.ports[{}]", port.index);
        // NB: istiod compares the protocol as written: `tcp` does not count, `TCP` does.
        let written_tcp = port.written_protocol.is_empty() || port.written_protocol == "TCP";
        if (none || opted_out) && written_tcp {
            out.push(Finding::warning(
                "SE210",
                field.clone(),
                "addresses are required for ports serving TCP (or unset) protocol when IP \
                 autoallocation is not enabled",
            ));
        }
        let tcp = matches!(
            port.protocol,
            PortProtocol::Unset | PortProtocol::Known(Protocol::Tcp)
        );
        if none && tcp {
            out.push(Finding::lint(
                LINT_NONE_TCP_WITHOUT_ADDRESSES,
                field,
                format!(
                    "resolution NONE with a TCP port and no addresses opens 0.0.0.0:{}: all \
                     traffic to that port, to any IP, is treated as this service",
                    port.number.unwrap_or_default()
                ),
            ));
        }
    }
}

/// A workload selector or endpoints, not both; the selector's labels valid.
fn selector_or_endpoints(view: &View, out: &mut Findings) {
    if view.selector.is_some() && view.endpoints_present {
        out.push(Finding::error(
            "SE301",
            "spec.workloadSelector",
            "only one of WorkloadSelector or Endpoints can be set",
        ));
    }
    if let Some(labels) = &view.selector {
        validate_workload_selector(labels.as_ref(), "services", out);
    }
}

/// NONE: no endpoints (an empty list counts for the apiserver); a selector is pointless.
fn resolution_none(view: &View, out: &mut Findings) {
    if !view.resolution_is(Resolution::None) {
        return;
    }
    if !view.endpoints.is_empty() {
        out.push(Finding::error(
            "SE311",
            "spec.endpoints",
            "NONE mode cannot set endpoints (no endpoints for resolution type none)",
        ));
    } else if view.endpoints_present {
        out.push(Finding::error(
            "SE312",
            "spec.endpoints",
            "NONE mode cannot set endpoints: the apiserver counts an empty list as set; \
             remove the field",
        ));
    }
    if view.selector.is_some() {
        out.push(Finding::warning(
            "SE313",
            "spec.workloadSelector",
            "workloadSelector should not be set when resolution mode is NONE",
        ));
    }
}

/// STATIC: every endpoint an IP address (or unix socket).
fn resolution_static(view: &View, out: &mut Findings) {
    if view.resolution_is(Resolution::Static) {
        let port_names = port_names(view);
        for endpoint in &view.endpoints {
            validate_endpoint(endpoint, &port_names, false, out);
        }
    }
}

/// DNS and DNS_ROUND_ROBIN: FQDN hosts when no endpoints say where to look; one endpoint at
/// most for round robin; endpoints are IPs or FQDNs.
fn resolution_dns(view: &View, out: &mut Findings) {
    let Some(resolution) = view.resolution.filter(|r| r.resolves_by_dns()) else {
        return;
    };
    if view.endpoints.is_empty() {
        for (i, host) in &view.hosts {
            if host != "*" && validate_wildcard_domain(host).is_ok() && validate_fqdn(host).is_err()
            {
                out.push(Finding::error(
                    "SE321",
                    format!("spec.hosts[{i}]"),
                    format!(
                        "hosts must be FQDN if no endpoints are provided for resolution mode {}",
                        resolution.as_istio()
                    ),
                ));
            }
        }
    }
    if resolution == Resolution::DnsRoundRobin && view.endpoints.len() > 1 {
        out.push(Finding::error(
            "SE322",
            "spec.endpoints",
            "DNS_ROUND_ROBIN mode cannot have multiple endpoints",
        ));
    }
    let port_names = port_names(view);
    for endpoint in &view.endpoints {
        validate_endpoint(endpoint, &port_names, true, out);
    }
    if !view.addresses.is_empty()
        && view.hosts.len() > 1
        && view.ports.iter().any(|p| p.protocol.is_tcp_level())
    {
        out.push(Finding::warning(
            "SE323",
            "spec.hosts",
            "service entry can not have more than one host specified simultaneously with \
             address and tcp port",
        ));
    }
    for (i, host) in &view.hosts {
        if !host.contains('.') && !host.contains('*') && parse_ip(host).is_none() {
            out.push(Finding::lint(
                LINT_DNS_SHORT_NAME,
                format!("spec.hosts[{i}]"),
                format!(
                    "{} is not fully qualified: with DNS resolution it is looked up in \
                     each pod's search domains and may resolve differently per namespace",
                    crate::domain::quoted(host)
                ),
            ));
        }
    }
}

/// DYNAMIC_DNS: wildcard hosts only; no addresses or endpoints; ports istiod can route by
/// host; a MESH_INTERNAL entry cannot use a waypoint.
fn resolution_dynamic_dns(view: &View, out: &mut Findings) {
    if !view.resolution_is(Resolution::DynamicDns) {
        return;
    }
    for (i, host) in &view.hosts {
        if !host.starts_with('*') {
            out.push(Finding::error(
                "SE331",
                format!("spec.hosts[{i}]"),
                "host must be wildcarded for resolution mode DYNAMIC_DNS",
            ));
        }
    }
    let refused = [
        (!view.addresses.is_empty(), "addresses", "addresses"),
        (!view.endpoints.is_empty(), "endpoints", "endpoints"),
    ]
    .map(|(set, key, what)| {
        (
            set,
            key,
            format!("{what} are not allowed with DYNAMIC_DNS resolution"),
        )
    });
    errors_where(out, "SE332", "spec", refused);
    for port in &view.ports {
        let proxied = matches!(
            port.protocol.known(),
            Some(Protocol::Http | Protocol::Tls | Protocol::Grpc | Protocol::Http2)
        );
        if !proxied {
            out.push(Finding::error(
                "SE336",
                format!("spec.ports[{}].protocol", port.index),
                "only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type \
                 DYNAMIC_DNS",
            ));
        }
    }
    let waypoint = view
        .labels
        .get("istio.io/use-waypoint")
        .is_some_and(|v| !v.is_empty() && !v.eq_ignore_ascii_case("none"));
    if view.location == Some(Location::MeshInternal) && waypoint {
        out.push(Finding::error(
            "SE335",
            "metadata.labels[\"istio.io/use-waypoint\"]",
            "a MESH_INTERNAL DYNAMIC_DNS entry cannot use a waypoint",
        ));
    }
}

/// Several hosts on a port the mesh cannot tell apart by host (plain TCP) only work with
/// resolution NONE; on TLS-level ports they are told apart by SNI alone (a lint).
fn multiple_hosts(view: &View, out: &mut Findings) {
    if view.resolution_is(Resolution::None) || view.hosts.len() <= 1 {
        return;
    }
    let by_host = |p: &&super::Port| p.protocol.is_http() || p.protocol.is_tls();
    if !view.ports.iter().all(|p| by_host(&p)) {
        out.push(Finding::error(
            "SE341",
            "spec.ports",
            "multiple hosts provided with non-HTTP, non-TLS ports",
        ));
    } else if let Some(port) = view.ports.iter().find(|p| p.protocol.is_tcp_level()) {
        let protocol = port
            .protocol
            .known()
            .map(|p| p.as_istio())
            .unwrap_or_default();
        out.push(Finding::lint(
            LINT_MULTI_HOST_TCP,
            format!("spec.ports[{}]", port.index),
            format!(
                "{} hosts share the {protocol} port {}: the mesh tells them apart only by SNI, \
                 so clients without SNI reach an arbitrary one",
                view.hosts.len(),
                port.number.unwrap_or_default()
            ),
        ));
    }
}

/// `exportTo`, with `~` allowed (ServiceEntries may hide themselves).
fn export_to(view: &View, out: &mut Findings) {
    validate_export_to(view.namespace, &view.export_to, out);
}

fn port_names(view: &View) -> BTreeSet<String> {
    view.ports.iter().filter_map(|p| p.name.clone()).collect()
}
