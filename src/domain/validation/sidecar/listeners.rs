//! Sidecar listeners: ingress (ports, binds, default endpoints, TLS, connection pools) and
//! egress (ports, unix sockets, capture modes, `namespace/host` entries).

use super::super::kinds::CaptureMode;
use super::super::names::{
    is_dns1123_label, is_partial_wildcard, parse_ip, validate_unix_address,
    validate_wildcard_domain,
};
use super::super::{Finding, Findings};
use super::{pool, tls, ListenerPort, View};
use std::collections::{BTreeMap, BTreeSet};

/// A listener port's name (optional, a DNS-1123 label) and, unless it is a unix socket
/// listener, its number; a target port is refused.
fn port(port: &ListenerPort, field: &str, unix: bool, out: &mut Findings) {
    if let Some(name) = port.name.as_ref().filter(|n| !is_dns1123_label(n)) {
        out.push(Finding::error(
            "SC101",
            format!("{field}.name"),
            format!("invalid port name {}", crate::domain::quoted(name)),
        ));
    }
    if !unix && !(1..=65535).contains(&port.number) {
        out.push(Finding::error(
            "SC102",
            format!("{field}.number"),
            "port must be between 1-65535",
        ));
    }
    if port.target.is_some() {
        out.push(Finding::error(
            "SC104",
            format!("{field}.targetPort"),
            "targetPort has no impact on Sidecars",
        ));
    }
}

/// Listeners bound to IP addresses each have their own port number.
fn unique_port(
    numbers: &mut BTreeSet<i64>,
    port: &ListenerPort,
    field: &str,
    rule: &str,
    out: &mut Findings,
) {
    if !numbers.insert(port.number) {
        out.push(Finding::error(
            rule,
            format!("{field}.port.number"),
            "sidecar: ports on IP bound listeners must be unique",
        ));
    }
}

/// A bind address, when given, is an IP address.
fn ip_bind(bind: &str, field: &str, out: &mut Findings) {
    if !bind.is_empty() && parse_ip(bind).is_none() {
        out.push(Finding::error(
            "SC105",
            format!("{field}.bind"),
            format!("{} is not a valid IP address", crate::domain::quoted(bind)),
        ));
    }
}

/// Ingress listeners: a port each, unique numbers, binds, default endpoints, TLS and
/// connection pools.
pub(super) fn ingress(view: &View, out: &mut Findings) {
    let mut numbers = BTreeSet::new();
    for listener in &view.ingress {
        let field = format!("spec.ingress[{}]", listener.index);
        let Some(listener_port) = &listener.port else {
            out.push(Finding::error(
                "SC110",
                format!("{field}.port"),
                "sidecar: port is required for ingress listeners",
            ));
            continue;
        };
        port(listener_port, &format!("{field}.port"), false, out);
        ip_bind(&listener.bind, &field, out);
        unique_port(&mut numbers, listener_port, &field, "SC111", out);
        if !listener.default_endpoint.is_empty() {
            default_endpoint(
                &listener.default_endpoint,
                &format!("{field}.defaultEndpoint"),
                out,
            );
        }
        if let Some(settings) = &listener.tls {
            tls::validate(
                settings,
                listener_port.protocol,
                &format!("{field}.tls"),
                out,
            );
        }
        if let Some(settings) = &listener.pool {
            pool::validate(settings, out);
            if settings.http.is_some() && !listener_port.protocol.is_http() {
                out.push(Finding::warning(
                    "SC112",
                    format!("{field}.connectionPool.http"),
                    format!(
                        "sidecar: HTTP connection pool settings are configured for port {} but \
                         its protocol is not HTTP; only TCP settings will apply",
                        listener_port.number
                    ),
                ));
            }
        }
    }
}

/// `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT`, `:PORT` or `unix://PATH`.
fn default_endpoint(endpoint: &str, field: &str, out: &mut Findings) {
    if let Some(path) = endpoint.strip_prefix("unix://") {
        if let Err(e) = validate_unix_address(path) {
            out.push(Finding::error("SC120", field, e));
        }
        return;
    }
    let Some((host, port)) = endpoint.rsplit_once(':') else {
        out.push(Finding::error(
            "SC121",
            field,
            format!("address {endpoint}: missing port in address"),
        ));
        return;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !host.is_empty() && !matches!(host, "127.0.0.1" | "0.0.0.0" | "::1" | "::") {
        out.push(Finding::error(
            "SC122",
            field,
            "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath, or unset",
        ));
    }
    match port.parse::<i64>() {
        Ok(port) if (1..=65535).contains(&port) => {}
        Ok(_) => out.push(Finding::error(
            "SC123",
            field,
            "port must be between 1-65535",
        )),
        Err(_) => out.push(Finding::error(
            "SC124",
            field,
            format!("sidecar: defaultEndpoint port ({port}) is not a number"),
        )),
    }
}

/// Egress listeners: only the last may have no port; unique ports and unix
/// sockets; capture modes; and the hosts each listener imports.
pub(super) fn egress(view: &View, out: &mut Findings) {
    let mut numbers = BTreeSet::new();
    let mut sockets = BTreeSet::new();
    for (position, listener) in view.egress.iter().enumerate() {
        let field = format!("spec.egress[{}]", listener.index);
        // NB: istiod also refuses a second listener without a port, but a catch-all only
        // counts once it is the last listener, so the error below always comes first.
        match &listener.port {
            None if position == view.egress.len() - 1 => {}
            None => out.push(Finding::error(
                "SC202",
                format!("{field}.port"),
                "sidecar: the egress listener with empty port should be the last listener in the list",
            )),
            Some(listener_port) if listener_port.number == 0 => {
                port(listener_port, &format!("{field}.port"), true, out);
                unix_listener(listener, &field, &mut sockets, out);
            }
            Some(listener_port) => {
                port(listener_port, &format!("{field}.port"), false, out);
                ip_bind(&listener.bind, &field, out);
                unique_port(&mut numbers, listener_port, &field, "SC203", out);
            }
        }
        hosts(view, &listener.hosts, &field, out);
    }
}

/// A listener with port 0 binds a unique unix domain socket and is not captured by iptables.
fn unix_listener(
    listener: &super::Egress,
    field: &str,
    sockets: &mut BTreeSet<String>,
    out: &mut Findings,
) {
    match listener.bind.strip_prefix("unix://") {
        None => out.push(Finding::error(
            "SC204",
            format!("{field}.bind"),
            "sidecar: ports with 0 value must have a unix domain socket bind address",
        )),
        Some(path) => {
            if let Err(e) = validate_unix_address(path) {
                out.push(Finding::error("SC205", format!("{field}.bind"), e));
            }
        }
    }
    if !matches!(
        listener.capture,
        Some(CaptureMode::Default) | Some(CaptureMode::None)
    ) {
        out.push(Finding::error(
            "SC206",
            format!("{field}.captureMode"),
            "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners",
        ));
    }
    if !sockets.insert(listener.bind.clone()) {
        out.push(Finding::error(
            "SC207",
            format!("{field}.bind"),
            "sidecar: unix domain socket values for listeners must be unique",
        ));
    }
}

/// The hosts an egress listener imports: at least one, each `namespace/dnsName`, duplicates
/// and `*/*` beside others warned.
fn hosts(view: &View, hosts: &[(usize, String)], field: &str, out: &mut Findings) {
    if hosts.is_empty() {
        out.push(Finding::error(
            "SC210",
            format!("{field}.hosts"),
            "sidecar: egress listener must contain at least one host",
        ));
        return;
    }
    let mut per_namespace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (j, host) in hosts {
        let host_field = format!("{field}.hosts[{j}]");
        if let Some((ns, name)) = host.split_once('/').filter(|(ns, _)| !ns.starts_with('~')) {
            let ns = if ns == "." { view.namespace } else { ns };
            let names = per_namespace.entry(ns.to_string()).or_default();
            let duplicated = if name == "*" {
                !names.is_empty()
            } else {
                names.contains(name) || names.contains("*")
            };
            if duplicated {
                out.push(Finding::warning(
                    "SC211",
                    host_field.clone(),
                    format!("duplicated egress host: {host}"),
                ));
            }
            names.insert(name.to_string());
        }
        for error in host_errors(host) {
            out.push(Finding::error("SC212", host_field.clone(), error));
        }
    }
    if per_namespace.get("*").is_some_and(|n| n.contains("*")) && per_namespace.len() != 1 {
        out.push(Finding::warning(
            "SC213",
            format!("{field}.hosts"),
            "`*/*` host select all resources, no other hosts can be added",
        ));
    }
}

/// What is wrong with a `namespace/dnsName` entry: the namespace is `*`, `.`, or a DNS label
/// (optionally `~`-prefixed to exclude it); the name is `*` or a fully qualified domain whose
/// first label may be a wildcard, never a short name, an IP address or a partial wildcard.
fn host_errors(host: &str) -> Vec<String> {
    let Some((ns, name)) = host.split_once('/') else {
        return vec!["host must be of form namespace/dnsName".into()];
    };
    let mut errors = Vec::new();
    if ns.is_empty() || name.is_empty() {
        errors.push("config namespace and dnsName in host entry cannot be empty".into());
    }
    let bare = ns.strip_prefix('~').unwrap_or(ns);
    if !bare.is_empty() && bare != "*" && bare != "." && !is_dns1123_label(bare) {
        errors.push(format!(
            "invalid namespace value {} in sidecar",
            crate::domain::quoted(ns)
        ));
    }
    if name != "*" && !name.contains('.') {
        errors.push("short names (non FQDN) are not allowed".into());
    }
    if let Err(e) = validate_wildcard_domain(name) {
        errors.push(e);
    }
    if is_partial_wildcard(name) {
        errors.push(format!(
            "partial wildcard {} not allowed",
            crate::domain::quoted(name)
        ));
    }
    errors
}
