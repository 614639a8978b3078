//! Sidecars: the spec read once into a typed [`View`], then judged as istiod's
//! `ValidateSidecar` does: workload selector, ingress listeners (ports, binds, default
//! endpoints, TLS, connection pools), the Sidecar-wide inbound connection pool, egress
//! listeners (ports, unix sockets, capture modes, `namespace/host` entries) and the outbound
//! traffic policy.

mod listeners;
mod policy;
mod pool;
mod tls;

use super::kinds::{CaptureMode, PortProtocol, SidecarMode};
use super::read::{list, spec_object, A_NUMBER, A_STRING};
use super::{Finding, Findings};
use serde_json::Value;
use std::collections::BTreeMap;

/// A listener's port.
struct ListenerPort {
    /// 0 when absent: a unix domain socket listener.
    number: i64,
    name: Option<String>,
    protocol: PortProtocol,
    target: Option<i64>,
}

/// One `spec.ingress` entry; `None` fields were absent.
struct Ingress {
    index: usize,
    port: Option<ListenerPort>,
    bind: String,
    default_endpoint: String,
    tls: Option<tls::IngressTls>,
    pool: Option<pool::Pool>,
}

/// One `spec.egress` entry.
struct Egress {
    index: usize,
    port: Option<ListenerPort>,
    bind: String,
    /// `None`: a word Istio does not know.
    capture: Option<CaptureMode>,
    hosts: Vec<(usize, String)>,
}

/// The mode of an `outboundTrafficPolicy` as written.
enum ModeWord {
    Unset,
    Known(SidecarMode),
    Unknown(String),
}

/// `outboundTrafficPolicy.egressProxy`.
struct EgressProxy {
    host: String,
    subset: Option<String>,
    /// `None`: no port; `Some(None)`: a port without a number.
    port: Option<Option<i64>>,
}

/// `spec.outboundTrafficPolicy`.
struct OutboundPolicy {
    mode: ModeWord,
    egress_proxy: Option<EgressProxy>,
}

/// A Sidecar's spec, read once. List entries that are null or not mappings are reported
/// while reading and left out.
struct View<'a> {
    namespace: &'a str,
    ingress: Vec<Ingress>,
    egress: Vec<Egress>,
    /// Whether the lists held anything at all (null entries included).
    has_ingress: bool,
    has_egress: bool,
    policy: Option<OutboundPolicy>,
    inbound_pool: Option<pool::Pool>,
    /// `Some` when `workloadSelector` is set: its labels, if any.
    selector: Option<Option<BTreeMap<String, String>>>,
}

fn read_port(value: &Value, field: &str, out: &mut Findings) -> ListenerPort {
    let written = A_STRING
        .field(value, "protocol", field, out)
        .unwrap_or_default();
    ListenerPort {
        number: A_NUMBER.field(value, "number", field, out).unwrap_or(0),
        name: A_STRING
            .field(value, "name", field, out)
            .filter(|n| !n.is_empty()),
        protocol: PortProtocol::read(&written, "SC103", &format!("{field}.protocol"), out),
        target: A_NUMBER
            .field(value, "targetPort", field, out)
            .filter(|t| *t != 0),
    }
}

/// The listeners of `spec.KEY`, each read by `listener`; a null entry is reported as istiod
/// reports it (`rule`). Also says whether the list held anything at all.
fn listeners<T>(
    spec: &Value,
    key: &str,
    (rule, null_message): (&str, &str),
    out: &mut Findings,
    mut listener: impl FnMut(usize, &Value, &str, &mut Findings) -> T,
) -> (bool, Vec<T>) {
    let items = list(spec, key, &format!("spec.{key}"), out);
    let mut read = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let field = format!("spec.{key}[{index}]");
        match item {
            Value::Object(_) => read.push(listener(index, item, &field, out)),
            Value::Null => out.push(Finding::error(rule, field, null_message)),
            _ => out.push(Finding::error("SHAPE", field, "must be a mapping")),
        }
    }
    (!items.is_empty(), read)
}

fn read<'a>(namespace: &'a str, spec: &Value, out: &mut Findings) -> View<'a> {
    let null_ingress = ("SC100", "sidecar: ingress may not be null");
    let (has_ingress, ingress) = listeners(
        spec,
        "ingress",
        null_ingress,
        out,
        |index, l, field, out| Ingress {
            index,
            port: l
                .get("port")
                .filter(|p| p.is_object())
                .map(|p| read_port(p, &format!("{field}.port"), out)),
            bind: A_STRING.field(l, "bind", field, out).unwrap_or_default(),
            default_endpoint: A_STRING
                .field(l, "defaultEndpoint", field, out)
                .unwrap_or_default(),
            tls: l
                .get("tls")
                .filter(|t| !t.is_null())
                .map(|t| tls::read(t, &format!("{field}.tls"), out)),
            pool: l
                .get("connectionPool")
                .filter(|p| !p.is_null())
                .map(|p| pool::read(p, &format!("{field}.connectionPool"), out)),
        },
    );
    let null_egress = ("SC200", "egress listener may not be null");
    let (has_egress, egress) =
        listeners(spec, "egress", null_egress, out, |index, l, field, out| {
            let capture = A_STRING
                .field(l, "captureMode", field, out)
                .unwrap_or_default();
            Egress {
                index,
                port: l
                    .get("port")
                    .filter(|p| !p.is_null())
                    .map(|p| read_port(p, &format!("{field}.port"), out)),
                bind: A_STRING.field(l, "bind", field, out).unwrap_or_default(),
                capture: CaptureMode::parse(&capture),
                hosts: read_hosts(l, field, out),
            }
        });
    let policy = spec
        .get("outboundTrafficPolicy")
        .filter(|v| !v.is_null())
        .map(|p| policy::read(p, out));
    let inbound_pool = spec
        .get("inboundConnectionPool")
        .filter(|v| !v.is_null())
        .map(|p| pool::read(p, "spec.inboundConnectionPool", out));
    let selector = spec
        .get("workloadSelector")
        .filter(|v| !v.is_null())
        .map(|selector| A_STRING.map(selector.get("labels"), "spec.workloadSelector.labels", out));
    View {
        namespace,
        ingress,
        egress,
        has_ingress,
        has_egress,
        policy,
        inbound_pool,
        selector,
    }
}

fn read_hosts(listener: &Value, field: &str, out: &mut Findings) -> Vec<(usize, String)> {
    let Some(Value::Array(items)) = listener.get("hosts") else {
        return vec![];
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(j, h)| match h.as_str() {
            Some(h) => Some((j, h.to_string())),
            None => {
                out.push(Finding::error(
                    "SHAPE",
                    format!("{field}.hosts[{j}]"),
                    "must be a string",
                ));
                None
            }
        })
        .collect()
}

/// Judges a Sidecar's `spec` in `namespace` as istiod does.
pub fn validate_sidecar(namespace: &str, spec: Option<&Value>) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = match spec_object(spec, "SC000") {
        Ok(spec) => spec,
        Err(finding) => return vec![finding],
    };
    let view = read(namespace, spec, &mut out);
    if !view.has_ingress && !view.has_egress && view.policy.is_none() && view.inbound_pool.is_none()
    {
        out.push(Finding::error(
            "SC001",
            "spec",
            "sidecar: empty configuration provided",
        ));
        return out;
    }
    if let Some(labels) = &view.selector {
        super::names::validate_workload_selector(labels.as_ref(), "workloads", &mut out);
    }
    listeners::ingress(&view, &mut out);
    if let Some(pool) = &view.inbound_pool {
        pool::validate(pool, &mut out);
    }
    listeners::egress(&view, &mut out);
    if let Some(outbound) = &view.policy {
        policy::validate(outbound, &mut out);
    }
    out
}
