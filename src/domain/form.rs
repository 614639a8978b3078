//! The create form's state, kept apart from the resource spec: text fields as a person types
//! them, turned into a ServiceEntry (never with empty lists: Istio reads them as unset, the
//! apiserver does not).

use super::validation::{validate_service_entry, Finding};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The create form, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntryForm {
    /// metadata.name.
    pub name: String,
    /// metadata.namespace.
    pub namespace: String,
    /// Hosts, one per line (or separated by commas).
    pub hosts: String,
    /// Ports, one per line: `NUMBER NAME PROTOCOL [TARGET_PORT]`.
    pub ports: String,
    /// Resolution.
    pub resolution: String,
    /// Location.
    pub location: String,
    /// Addresses, one per line.
    #[serde(default)]
    pub addresses: String,
    /// Endpoints, one per line: `ADDRESS [PORT_NAME=PORT ...] [network=N] [locality=L]
    /// [weight=W] [label:KEY=VALUE ...]`.
    #[serde(default)]
    pub endpoints: String,
    /// exportTo, one per line.
    #[serde(default)]
    pub export_to: String,
    /// subjectAltNames, one per line.
    #[serde(default)]
    pub subject_alt_names: String,
}

impl ServiceEntryForm {
    /// A form that registers `host` as its traffic was seen (from "Allow this host"): named
    /// after the host, one port named after its protocol, resolution DNS, MESH_EXTERNAL, in
    /// `namespace`.
    pub fn for_host(host: &str, port: &str, protocol: &str, namespace: &str) -> Self {
        let host = host.trim().to_lowercase();
        let protocol = match protocol.trim().to_uppercase().as_str() {
            "" => "HTTP".to_string(),
            p => p.to_string(),
        };
        let port = port
            .trim()
            .parse::<u16>()
            .unwrap_or(match protocol.as_str() {
                "HTTP" => 80,
                _ => 443,
            });
        Self {
            name: host.trim_start_matches("*.").to_string(),
            namespace: namespace.trim().to_string(),
            hosts: host,
            ports: format!("{port} {}-{port} {protocol}", protocol.to_lowercase()),
            resolution: "DNS".into(),
            location: "MESH_EXTERNAL".into(),
            ..Self::default()
        }
    }
}

fn items(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

impl ServiceEntryForm {
    /// Reads the port lines; errors name the line.
    fn port_values(&self) -> (Vec<Value>, Vec<Finding>) {
        let mut ports = Vec::new();
        let mut errors = Vec::new();
        for (line, text) in lines(&self.ports) {
            let parts: Vec<&str> = text.split_whitespace().collect();
            let number = parts.first().and_then(|n| n.parse::<i64>().ok());
            match (number, parts.get(1)) {
                (Some(number), Some(name)) => {
                    let mut port = json!({"number": number, "name": name});
                    if let Some(protocol) = parts.get(2) {
                        port["protocol"] = Value::String(protocol.to_ascii_uppercase());
                    }
                    if let Some(target) = parts.get(3) {
                        match target.parse::<i64>() {
                            Ok(target) => port["targetPort"] = json!(target),
                            Err(_) => errors.push(error(
                                "ports",
                                format!(
                                    "line {line}: targetPort {} is not a number",
                                    crate::domain::quoted(target)
                                ),
                            )),
                        }
                    }
                    ports.push(port);
                }
                _ => errors.push(error(
                    "ports",
                    format!(
                        "line {line}: write NUMBER NAME PROTOCOL, for example \"443 https HTTPS\""
                    ),
                )),
            }
        }
        (ports, errors)
    }

    /// Reads the endpoint lines: `ADDRESS [PORT_NAME=PORT ...] [network=N] [locality=L]
    /// [weight=W] [label:KEY=VALUE ...]`.
    fn endpoint_values(&self) -> (Vec<Value>, Vec<Finding>) {
        let mut endpoints = Vec::new();
        let mut errors = Vec::new();
        for (line, text) in lines(&self.endpoints) {
            let mut parts = text.split_whitespace();
            let address = parts.next().unwrap_or_default();
            let mut endpoint = Map::new();
            if !address.contains('=') {
                endpoint.insert("address".into(), json!(address));
            } else {
                // A line may start with a setting: an endpoint reached through a network.
                parts = text.split_whitespace();
            }
            let mut ports = Map::new();
            let mut labels = Map::new();
            for part in parts {
                let Some((key, value)) = part.split_once('=') else {
                    errors.push(error(
                        "endpoints",
                        format!(
                            "line {line}: {} is not KEY=VALUE",
                            crate::domain::quoted(part)
                        ),
                    ));
                    continue;
                };
                match key {
                    "network" | "locality" => {
                        endpoint.insert(key.into(), json!(value));
                    }
                    "weight" => match value.parse::<i64>() {
                        Ok(weight) => {
                            endpoint.insert("weight".into(), json!(weight));
                        }
                        Err(_) => errors.push(error(
                            "endpoints",
                            format!(
                                "line {line}: weight {} is not a number",
                                crate::domain::quoted(value)
                            ),
                        )),
                    },
                    _ => match key.strip_prefix("label:") {
                        Some(label) => {
                            labels.insert(label.to_string(), json!(value));
                        }
                        None => match value.parse::<i64>() {
                            Ok(port) => {
                                ports.insert(key.to_string(), json!(port));
                            }
                            Err(_) => errors.push(error(
                                "endpoints",
                                format!(
                                    "line {line}: port {key}={} is not a number",
                                    crate::domain::quoted(value)
                                ),
                            )),
                        },
                    },
                }
            }
            if !ports.is_empty() {
                endpoint.insert("ports".into(), Value::Object(ports));
            }
            if !labels.is_empty() {
                endpoint.insert("labels".into(), Value::Object(labels));
            }
            endpoints.push(Value::Object(endpoint));
        }
        (endpoints, errors)
    }

    /// The ServiceEntry object the form describes.
    pub fn to_object(&self) -> Value {
        let mut spec = Map::new();
        let mut put_list = |key: &str, values: Vec<Value>| {
            if !values.is_empty() {
                spec.insert(key.to_string(), Value::Array(values));
            }
        };
        let strings = |text: &str| {
            items(text)
                .into_iter()
                .map(Value::String)
                .collect::<Vec<_>>()
        };
        put_list("hosts", strings(&self.hosts));
        put_list("addresses", strings(&self.addresses));
        put_list("ports", self.port_values().0);
        put_list("endpoints", self.endpoint_values().0);
        put_list("exportTo", strings(&self.export_to));
        put_list("subjectAltNames", strings(&self.subject_alt_names));
        for (key, value) in [
            ("resolution", &self.resolution),
            ("location", &self.location),
        ] {
            if !value.trim().is_empty() {
                spec.insert(key.to_string(), Value::String(value.trim().to_string()));
            }
        }
        json!({
            "apiVersion": super::manifest::SERVICE_ENTRY_API_VERSION,
            "kind": "ServiceEntry",
            "metadata": {"name": self.name.trim(), "namespace": self.namespace.trim()},
            "spec": Value::Object(spec),
        })
    }

    /// Everything wrong with the form now: line-format errors and the validation of the
    /// object it describes. Runs in the browser as the user types, and on the server.
    pub fn findings(&self) -> Vec<Finding> {
        let mut findings = self.port_values().1;
        findings.extend(self.endpoint_values().1);
        if self.name.trim().is_empty() {
            findings.push(error("metadata.name", "Required value".into()));
        }
        if self.namespace.trim().is_empty() {
            findings.push(error("metadata.namespace", "Required value".into()));
        }
        let object = self.to_object();
        findings.extend(validate_service_entry(
            self.namespace.trim(),
            &BTreeMap::new(),
            object.get("spec"),
        ));
        findings
    }
}

/// A form line or field that cannot be read: `FORM001` ports, `FORM002` endpoints,
/// `K8S001` a missing name or namespace.
fn error(field: &str, message: String) -> Finding {
    let rule = match field {
        "ports" => "FORM001",
        "endpoints" => "FORM002",
        _ => "K8S001",
    };
    Finding::error(rule, field, message)
}

/// The form field a finding belongs to (its path's first part under spec).
pub fn form_field(finding_field: &str) -> &str {
    let rest = finding_field.strip_prefix("spec.").unwrap_or(finding_field);
    let end = rest.find(['[', '.']).unwrap_or(rest.len());
    match &rest[..end] {
        "metadata" if finding_field.contains("namespace") => "namespace",
        "metadata" => "name",
        "exportTo" => "export_to",
        "subjectAltNames" => "subject_alt_names",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::Severity;

    fn httpbin() -> ServiceEntryForm {
        ServiceEntryForm {
            name: "httpbin.org".into(),
            namespace: "smm-demo".into(),
            hosts: "httpbin.org\nwww.httpbin.org".into(),
            ports: "80 http HTTP".into(),
            resolution: "DNS".into(),
            location: "MESH_EXTERNAL".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_seed_entry_from_the_form() {
        let form = httpbin();
        assert!(form.findings().is_empty(), "{:?}", form.findings());
        let object = form.to_object();
        assert_eq!(object["spec"]["hosts"][1], "www.httpbin.org");
        assert_eq!(object["spec"]["ports"][0]["protocol"], "HTTP");
        assert!(object["spec"].get("addresses").is_none(), "no empty lists");
        assert!(object["spec"].get("endpoints").is_none(), "no empty lists");
    }

    #[test]
    fn endpoint_lines_carry_every_endpoint_field() {
        let form = ServiceEntryForm {
            hosts: "db.example.com".into(),
            ports: "5432 tcp-pg TCP".into(),
            resolution: "STATIC".into(),
            addresses: "192.0.2.10".into(),
            endpoints: "192.0.2.10 tcp-pg=6432 network=net1 locality=eu/west weight=3 label:tier=db\nnetwork=net2".into(),
            ..httpbin()
        };
        let object = form.to_object();
        let first = &object["spec"]["endpoints"][0];
        assert_eq!(first["address"], "192.0.2.10");
        assert_eq!(first["ports"]["tcp-pg"], 6432);
        assert_eq!(first["network"], "net1");
        assert_eq!(first["locality"], "eu/west");
        assert_eq!(first["weight"], 3);
        assert_eq!(first["labels"]["tier"], "db");
        let second = &object["spec"]["endpoints"][1];
        assert!(second.get("address").is_none());
        assert_eq!(second["network"], "net2");
        assert!(
            form.findings()
                .iter()
                .all(|f| f.severity != Severity::Error),
            "{:?}",
            form.findings()
        );
    }

    #[test]
    fn errors_point_at_form_fields() {
        let form = ServiceEntryForm {
            hosts: "bad..host".into(),
            ports: "eighty http".into(),
            ..httpbin()
        };
        let findings = form.findings();
        let fields: Vec<&str> = findings.iter().map(|f| form_field(&f.field)).collect();
        assert!(fields.contains(&"hosts"), "{fields:?}");
        assert!(fields.contains(&"ports"), "{fields:?}");
        assert_eq!(form_field("metadata.namespace"), "namespace");
        assert_eq!(form_field("spec.exportTo[0]"), "export_to");
    }
}
