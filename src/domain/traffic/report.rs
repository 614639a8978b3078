//! From Prometheus rows to destinations: classify each row (registered, passthrough, blocked;
//! a pod called by its address is not external), name its host, join it with the
//! ServiceEntries, and add up the callers.

use super::{CallProtocol, CallerTraffic, Destination, EntryRef, Verdict};
use crate::domain::service_entry::ServiceEntryView;
use crate::domain::visibility::exported_to;
use std::borrow::Borrow;
use std::collections::BTreeMap;

/// Which metric a row comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RowKind {
    /// `istio_requests_total`.
    #[default]
    Requests,
    /// `istio_tcp_connections_opened_total`.
    Connections,
    /// `istio_tcp_sent_bytes_total`.
    SentBytes,
    /// `istio_tcp_received_bytes_total`.
    ReceivedBytes,
}

/// One row of a PromQL answer: the labels mesh-egress groups by, and the increase in the
/// window. An absent label is an empty string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The metric.
    pub kind: RowKind,
    /// `source_workload_namespace`.
    pub source_namespace: String,
    /// `source_workload`.
    pub source_workload: String,
    /// `destination_service`: the ServiceEntry host, the Host header, or `unknown`.
    pub destination_service: String,
    /// `destination_service_name`: the host, `PassthroughCluster` or `BlackHoleCluster`.
    pub destination_service_name: String,
    /// `destination_workload`: set when the callee is a pod in the mesh.
    pub destination_workload: String,
    /// `response_code` (HTTP).
    pub response_code: String,
    /// `destination_port`, when the Telemetry API adds it.
    pub destination_port: String,
    /// `destination_sni` (or `request_host`), when the Telemetry API adds it.
    pub destination_sni: String,
    /// The egress gateway (`namespace/name`) the call went through (`through_gateways`).
    pub via: String,
    /// The increase in the window.
    pub value: f64,
}

fn reference(entry: &ServiceEntryView) -> EntryRef {
    EntryRef {
        namespace: entry.namespace.clone(),
        name: entry.name.clone(),
    }
}

/// Its TCP-level port numbers (a registered TCP call is on one of them).
fn tcp_ports(entry: &ServiceEntryView) -> impl Iterator<Item = u16> + '_ {
    entry
        .ports
        .iter()
        .filter(|p| p.opaque_to_mesh())
        .filter_map(|p| u16::try_from(p.number).ok())
}

fn known(label: &str) -> Option<&str> {
    (!label.is_empty() && label != "unknown").then_some(label)
}

/// Splits `host:port` (a Host header) into the host and the port.
fn split_host(text: &str) -> (String, Option<u16>) {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host.to_string(), Some(port)),
            Err(_) => (text.to_string(), None),
        },
        _ => (text.to_string(), None),
    }
}

type Key = (Option<String>, Option<u16>, CallProtocol, Verdict);
/// A destination being added up: the entries found, and each caller's traffic.
type Tally = (Vec<EntryRef>, BTreeMap<(String, String), CallerTraffic>);

/// Joins Prometheus rows with the ServiceEntries into destinations, the busiest first.
pub fn assemble<E: Borrow<ServiceEntryView>>(rows: &[Row], entries: &[E]) -> Vec<Destination> {
    let entries: Vec<&ServiceEntryView> = entries.iter().map(Borrow::borrow).collect();
    let entries = entries.as_slice();
    let mut by_key: BTreeMap<Key, Tally> = BTreeMap::new();
    let mut vias: BTreeMap<Key, String> = BTreeMap::new();
    for row in rows {
        if row.value <= 0.0 || known(&row.destination_workload).is_some() {
            continue; // nothing in the window, or a pod in the mesh called by its address
        }
        let protocol = match row.kind {
            RowKind::Requests => CallProtocol::Http,
            _ => CallProtocol::Tcp,
        };
        let named = known(&row.destination_sni).or(known(&row.destination_service));
        let (host, header_port) = match named {
            Some(text) => {
                let (host, port) = split_host(text);
                (Some(host), port)
            }
            None => (None, None),
        };
        let mut port = row.destination_port.parse().ok().or(header_port);
        let (verdict, refs) = match row.destination_service_name.as_str() {
            "PassthroughCluster" => (Verdict::Passthrough, Vec::new()),
            "BlackHoleCluster" => (Verdict::Blocked, Vec::new()),
            _ => {
                let Some(host) = host.as_deref() else {
                    continue;
                };
                let refs = registering(entries, host, &row.source_namespace);
                if refs.is_empty() {
                    continue; // a service inside the mesh, not an external one
                }
                if port.is_none() && protocol == CallProtocol::Tcp {
                    port = only_tcp_port(entries, &refs);
                }
                (Verdict::Registered, refs)
            }
        };
        let key = (host, port, protocol, verdict);
        if let Some(via) = known(&row.via) {
            vias.insert(key.clone(), via.to_string());
        }
        let (found, callers) = by_key
            .entry(key)
            .or_insert_with(|| (Vec::new(), BTreeMap::new()));
        for r in refs {
            if !found.contains(&r) {
                found.push(r);
            }
        }
        let caller = callers
            .entry((row.source_namespace.clone(), row.source_workload.clone()))
            .or_insert_with(|| CallerTraffic {
                namespace: row.source_namespace.clone(),
                workload: row.source_workload.clone(),
                ..CallerTraffic::default()
            });
        caller.add(&row.traffic());
    }
    let mut destinations: Vec<Destination> = by_key
        .into_iter()
        .map(|(key, (mut refs, callers))| {
            let via = vias.remove(&key);
            let (host, port, protocol, verdict) = key;
            refs.sort();
            let mut callers: Vec<CallerTraffic> = callers.into_values().collect();
            callers.sort_by(|a, b| b.calls().total_cmp(&a.calls()));
            let note = note(&host, protocol, &verdict, entries);
            Destination {
                host,
                port,
                protocol,
                verdict,
                entries: refs,
                note,
                via,
                callers,
            }
        })
        .collect();
    destinations.sort_by(|a, b| b.calls().total_cmp(&a.calls()));
    destinations
}

/// The entries registering `host` for a caller in `namespace`: those exported to it, or (when
/// none is) every entry with the host.
fn registering(entries: &[&ServiceEntryView], host: &str, namespace: &str) -> Vec<EntryRef> {
    let with_host: Vec<&ServiceEntryView> = entries
        .iter()
        .copied()
        .filter(|e| e.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
        .collect();
    let exported: Vec<EntryRef> = with_host
        .iter()
        .filter(|e| exported_to(e, namespace))
        .map(|e| reference(e))
        .collect();
    if exported.is_empty() {
        with_host.iter().map(|e| reference(e)).collect()
    } else {
        exported
    }
}

/// The port of a registered TCP call when its entries have exactly one TCP-level port.
fn only_tcp_port(entries: &[&ServiceEntryView], refs: &[EntryRef]) -> Option<u16> {
    let ports: std::collections::BTreeSet<u16> = entries
        .iter()
        .copied()
        .filter(|e| refs.contains(&reference(e)))
        .flat_map(tcp_ports)
        .collect();
    match ports.len() {
        1 => ports.into_iter().next(),
        _ => None,
    }
}

/// istio#38018: a TCP ServiceEntry with resolution NONE and no addresses is reported as
/// PassthroughCluster, so unnamed passthrough TCP may be registered after all: say so.
fn note(
    host: &Option<String>,
    protocol: CallProtocol,
    verdict: &Verdict,
    entries: &[&ServiceEntryView],
) -> Option<String> {
    if host.is_some() || protocol != CallProtocol::Tcp || verdict != &Verdict::Passthrough {
        return None;
    }
    let suspects: Vec<String> = entries
        .iter()
        .filter(|e| {
            e.resolution == "NONE" && e.addresses.is_empty() && tcp_ports(e).next().is_some()
        })
        .map(|e| format!("{}/{}", e.namespace, e.name))
        .collect();
    (!suspects.is_empty()).then(|| {
        format!(
            "may include calls to {}: Istio reports a TCP ServiceEntry with resolution NONE and \
             no addresses as PassthroughCluster (istio#38018)",
            suspects.join(", ")
        )
    })
}

impl Row {
    fn traffic(&self) -> CallerTraffic {
        let mut t = CallerTraffic::default();
        match self.kind {
            RowKind::Requests => {
                t.requests = self.value;
                if self.response_code.starts_with('5') {
                    t.errors = self.value;
                }
            }
            RowKind::Connections => t.connections = self.value,
            RowKind::SentBytes => t.sent_bytes = self.value,
            RowKind::ReceivedBytes => t.received_bytes = self.value,
        }
        t
    }
}
