//! ServiceEntries: the spec read once into a typed [`View`], then judged rule group by rule
//! group, in the order istiod reports them.

mod endpoints;
mod rules;

use super::kinds::{Location, PortProtocol, Resolution, RESOLUTIONS};
use super::read::{list, mapping, spec_object, string_list, A_NUMBER, A_PORT, A_STRING};
use super::{Finding, Findings};
use serde_json::Value;
use std::collections::BTreeMap;

/// One entry of `spec.ports`.
struct Port {
    index: usize,
    number: Option<i64>,
    name: Option<String>,
    protocol: PortProtocol,
    /// NB: istiod's warning about TCP ports without addresses compares the protocol as
    /// written (`TCP`, not `tcp`), so the view keeps the word too.
    written_protocol: String,
    target: Option<i64>,
}

/// One entry of `spec.endpoints` (a WorkloadEntry).
struct Endpoint {
    index: usize,
    address: String,
    network: String,
    ports: BTreeMap<String, i64>,
    labels: Option<BTreeMap<String, String>>,
    weight: Option<i64>,
}

/// A ServiceEntry's spec, read once.
struct View<'a> {
    namespace: &'a str,
    labels: &'a BTreeMap<String, String>,
    /// `None`: a word Istio does not know (already reported).
    resolution: Option<Resolution>,
    location: Option<Location>,
    hosts: Vec<(usize, String)>,
    addresses: Vec<(usize, String)>,
    ports: Vec<Port>,
    endpoints: Vec<Endpoint>,
    /// Whether `endpoints` is in the spec at all: the CRD's CEL rules test presence, so an
    /// empty list counts, although istiod (protobuf) reads it as unset.
    endpoints_present: bool,
    /// `Some` when `workloadSelector` is set: its labels, if any.
    selector: Option<Option<BTreeMap<String, String>>>,
    export_to: Vec<(usize, String)>,
}

impl View<'_> {
    fn resolution_is(&self, resolution: Resolution) -> bool {
        self.resolution == Some(resolution)
    }
}

/// Reads the spec; wrong shapes and unknown words become findings here, once.
fn read<'a>(
    namespace: &'a str,
    labels: &'a BTreeMap<String, String>,
    spec: &Value,
    out: &mut Findings,
) -> View<'a> {
    let resolution = match A_STRING.field(spec, "resolution", "spec", out) {
        None => Some(Resolution::None),
        Some(word) => Resolution::parse(&word).or_else(|| {
            let message = format!(
                "unsupported value {}: use one of {}",
                crate::domain::quoted(&word),
                RESOLUTIONS.join(", ")
            );
            out.push(Finding::error("SE001", "spec.resolution", message));
            None
        }),
    };
    let location = A_STRING
        .field(spec, "location", "spec", out)
        .and_then(|word| {
            Location::parse(&word).or_else(|| {
                let message = format!(
                    "unsupported value {}: use MESH_EXTERNAL or MESH_INTERNAL",
                    crate::domain::quoted(&word)
                );
                out.push(Finding::error("SE002", "spec.location", message));
                None
            })
        });
    let hosts = string_list(spec, "hosts", out);
    let addresses = string_list(spec, "addresses", out);
    let ports = list(spec, "ports", "spec.ports", out)
        .iter()
        .enumerate()
        .filter_map(|(index, port)| read_port(index, port, out))
        .collect();
    let endpoints = list(spec, "endpoints", "spec.endpoints", out)
        .iter()
        .enumerate()
        .filter_map(|(index, endpoint)| read_endpoint(index, endpoint, out))
        .collect();
    let selector = spec
        .get("workloadSelector")
        .filter(|v| !v.is_null())
        .map(|selector| A_STRING.map(selector.get("labels"), "spec.workloadSelector.labels", out));
    let export_to = string_list(spec, "exportTo", out);
    let _ = string_list(spec, "subjectAltNames", out);
    View {
        namespace,
        labels,
        resolution,
        location,
        hosts,
        addresses,
        ports,
        endpoints,
        endpoints_present: spec.get("endpoints").is_some_and(|v| !v.is_null()),
        selector,
        export_to,
    }
}

fn read_port(index: usize, port: &Value, out: &mut Findings) -> Option<Port> {
    let field = format!("spec.ports[{index}]");
    let port = mapping(port, &field, out)?;
    let number = A_NUMBER.field(port, "number", &field, out);
    let name = A_STRING.field(port, "name", &field, out);
    let written = A_STRING
        .field(port, "protocol", &field, out)
        .unwrap_or_default();
    let protocol = PortProtocol::read(&written, "SE206", &format!("{field}.protocol"), out);
    let target = A_NUMBER.field(port, "targetPort", &field, out);
    Some(Port {
        index,
        number,
        name,
        protocol,
        written_protocol: written,
        target,
    })
}

fn read_endpoint(index: usize, endpoint: &Value, out: &mut Findings) -> Option<Endpoint> {
    let field = format!("spec.endpoints[{index}]");
    let endpoint = mapping(endpoint, &field, out)?;
    Some(Endpoint {
        index,
        address: A_STRING
            .field(endpoint, "address", &field, out)
            .unwrap_or_default(),
        network: A_STRING
            .field(endpoint, "network", &field, out)
            .unwrap_or_default(),
        ports: A_PORT
            .map(endpoint.get("ports"), &format!("{field}.ports"), out)
            .unwrap_or_default(),
        labels: A_STRING.map(endpoint.get("labels"), &format!("{field}.labels"), out),
        weight: A_NUMBER.field(endpoint, "weight", &field, out),
    })
}

/// Judges a ServiceEntry's `spec` (JSON, as the apiserver stores it) in `namespace`, with the
/// object's labels (some rules depend on them).
pub fn validate_service_entry(
    namespace: &str,
    labels: &BTreeMap<String, String>,
    spec: Option<&Value>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let spec = match spec_object(spec, "SE000") {
        Ok(spec) => spec,
        Err(finding) => return vec![finding],
    };
    let view = read(namespace, labels, spec, &mut out);
    for rule in rules::ALL {
        rule(&view, &mut out);
    }
    out
}
