//! ServiceEntries as the pages show them: a view model read out of the stored object.

use super::validation::{Finding, Protocol};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One port of a ServiceEntry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortView {
    /// Port number.
    pub number: i64,
    /// Port name.
    pub name: String,
    /// Protocol as written (empty: sniffed).
    pub protocol: String,
    /// targetPort, when set.
    pub target_port: Option<i64>,
}

impl PortView {
    /// HTTPS, TLS and TCP traffic is opaque to the mesh: it sees only TCP-level traffic.
    pub fn opaque_to_mesh(&self) -> bool {
        Protocol::parse(&self.protocol).is_some_and(Protocol::is_tcp_level)
    }

    /// `80/http (HTTP)`.
    pub fn label(&self) -> String {
        let protocol = if self.protocol.is_empty() {
            "auto"
        } else {
            &self.protocol
        };
        format!("{}/{} ({protocol})", self.number, self.name)
    }
}

/// A ServiceEntry as a table row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntryView {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Hosts.
    pub hosts: Vec<String>,
    /// Ports.
    pub ports: Vec<PortView>,
    /// Resolution (NONE when unset).
    pub resolution: String,
    /// Location (MESH_EXTERNAL when unset).
    pub location: String,
    /// exportTo (empty: every namespace).
    pub export_to: Vec<String>,
    /// Addresses.
    pub addresses: Vec<String>,
    /// Number of endpoints.
    pub endpoints: usize,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// Creation time in seconds since the epoch (for the age).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Age when read, as kubectl shows it (`5d`, `3h`).
    pub age: Option<String>,
    /// The version the view was read at (`uid` and `resourceVersion`): a delete carries it,
    /// so an object changed since is not deleted.
    #[serde(default)]
    pub seen: Option<Seen>,
    /// "via gateway NS/NAME:PORT" when its traffic leaves through an egress gateway (lists
    /// mark the rows they show; `None` also when not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Which version of an object a user saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// `metadata.uid`: the same name re-created is another object.
    pub uid: String,
    /// `metadata.resourceVersion`: any change moves it (istiod's status writes too).
    pub resource_version: String,
    /// `metadata.generation`: moves with the spec only, not with status.
    #[serde(default)]
    pub generation: Option<i64>,
}

impl Seen {
    /// Whether `now` is the object the user saw, with the spec the user saw: the same uid, and
    /// the same resourceVersion or (when only istiod's status moved it) the same generation.
    pub fn still(&self, now: &Seen) -> bool {
        self.uid == now.uid
            && (self.resource_version == now.resource_version
                || (self.generation.is_some() && self.generation == now.generation))
    }
}

impl ServiceEntryView {
    /// Whether `query` (case-insensitive) is in the name or a host.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim();
        q.is_empty()
            || contains_ignoring_case(&self.name, q)
            || self.hosts.iter().any(|h| contains_ignoring_case(h, q))
    }

    /// The same view with its age as of `now_epoch` (seconds since the epoch).
    pub fn aged(&self, now_epoch: i64) -> Self {
        Self {
            age: self.age_at(now_epoch),
            ..self.clone()
        }
    }

    /// Its age as of `now_epoch`, as kubectl shows it (the age it has when its creation time
    /// is unknown).
    pub fn age_at(&self, now_epoch: i64) -> Option<String> {
        self.created_at
            .map(|at| age(at, now_epoch))
            .or(self.age.clone())
    }
}

/// Whether `text` contains `part`, ignoring case (names and hosts: without allocating for
/// ASCII, as they nearly always are).
fn contains_ignoring_case(text: &str, part: &str) -> bool {
    if text.is_ascii() && part.is_ascii() {
        let (text, part) = (text.as_bytes(), part.as_bytes());
        return part.len() <= text.len()
            && text
                .windows(part.len())
                .any(|window| window.eq_ignore_ascii_case(part));
    }
    text.to_lowercase().contains(&part.to_lowercase())
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the view out of a stored object's parts.
pub fn view_from_spec(
    namespace: &str,
    name: &str,
    created: Option<(String, i64)>,
    now_epoch: i64,
    spec: &Value,
) -> ServiceEntryView {
    let age = created.as_ref().map(|(_, epoch)| age(*epoch, now_epoch));
    let created_at = created.as_ref().map(|(_, epoch)| *epoch);
    let created = created.map(|(text, _)| text);
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .map(|p| PortView {
                    number: p.get("number").and_then(Value::as_i64).unwrap_or_default(),
                    name: p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    protocol: p
                        .get("protocol")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    target_port: p.get("targetPort").and_then(Value::as_i64),
                })
                .collect()
        })
        .unwrap_or_default();
    ServiceEntryView {
        namespace: namespace.to_string(),
        name: name.to_string(),
        hosts: strings(spec.get("hosts")),
        ports,
        resolution: spec
            .get("resolution")
            .and_then(Value::as_str)
            .unwrap_or("NONE")
            .to_string(),
        location: spec
            .get("location")
            .and_then(Value::as_str)
            .unwrap_or("MESH_EXTERNAL")
            .to_string(),
        export_to: strings(spec.get("exportTo")),
        addresses: strings(spec.get("addresses")),
        endpoints: spec
            .get("endpoints")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0),
        created,
        created_at,
        age,
        seen: None,
        via: None,
    }
}

/// Everything the detail page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceEntryDetail {
    /// The table view.
    pub view: ServiceEntryView,
    /// The edit form, filled in; `Err`: why the entry is edited as YAML only.
    #[serde(default = "no_form")]
    pub form: Result<super::form::ServiceEntryForm, String>,
    /// The whole object as YAML (without managedFields).
    pub yaml: String,
    /// Status conditions as `type=status: message`.
    pub conditions: Vec<String>,
    /// What mesh-egress's validation finds in it now.
    pub findings: Vec<Finding>,
}

fn no_form() -> Result<super::form::ServiceEntryForm, String> {
    Err("not read".to_string())
}

/// Age as kubectl shows it (`5d`, `3h`), from the creation time and now, both in seconds
/// since the epoch.
pub fn age(created_epoch: i64, now_epoch: i64) -> String {
    let secs = (now_epoch - created_epoch).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A view for tests: DNS resolution, MESH_EXTERNAL, no ports.
#[cfg(test)]
pub(crate) fn test_view(
    namespace: &str,
    name: &str,
    hosts: &[&str],
    export_to: &[&str],
) -> ServiceEntryView {
    ServiceEntryView {
        namespace: namespace.into(),
        name: name.into(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ports: Vec::new(),
        resolution: "DNS".into(),
        location: "MESH_EXTERNAL".into(),
        export_to: export_to.iter().map(|e| e.to_string()).collect(),
        addresses: Vec::new(),
        endpoints: 0,
        created: None,
        created_at: None,
        age: None,
        seen: None,
        via: None,
    }
}

/// A TLS port for tests.
#[cfg(test)]
pub(crate) fn test_tls_port(number: i64) -> PortView {
    PortView {
        number,
        name: format!("tls-{number}"),
        protocol: "TLS".into(),
        target_port: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn view_reads_the_spec_and_marks_opaque_ports() {
        let view = view_from_spec(
            "payments",
            "stripe",
            Some(("2026-11-01T00:00:00Z".into(), 0)),
            3 * 86_400,
            &json!({"hosts": ["api.stripe.com"], "ports": [
                {"number": 443, "name": "tls", "protocol": "TLS"},
                {"number": 80, "name": "http", "protocol": "HTTP"}]}),
        );
        assert_eq!(view.resolution, "NONE");
        assert_eq!(view.age.as_deref(), Some("3d"));
        assert_eq!(view.location, "MESH_EXTERNAL");
        assert!(view.ports[0].opaque_to_mesh());
        assert!(!view.ports[1].opaque_to_mesh());
        assert_eq!(view.ports[0].label(), "443/tls (TLS)");
        assert!(view.matches("STRIPE.com"));
        assert!(!view.matches("github"));
        assert!(view.matches(" api.stripe.com "), "trimmed");
        assert!(!view.matches("api.stripe.com.x"), "longer than the host");
        assert!(
            contains_ignoring_case("Bücher.example", "bÜCHER"),
            "not ASCII"
        );
        assert!(!contains_ignoring_case("bücher.example", "buecher"));
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(age(0, 59), "59s");
        assert_eq!(age(0, 600), "10m");
        assert_eq!(age(0, 3 * 3600), "3h");
        assert_eq!(age(0, 5 * 86_400), "5d");
    }
}
