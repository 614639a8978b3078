//! Editing a ServiceEntry in place: the form read back out of a stored spec, the form's
//! fields merged into the object (everything the form does not know left as it was), and the
//! diff shown before saving.

use super::form::ServiceEntryForm;
use super::validation::Finding;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The spec fields the form edits; every other field of the object stays as it is.
pub const FORM_FIELDS: [&str; 8] = [
    "hosts",
    "addresses",
    "ports",
    "endpoints",
    "exportTo",
    "subjectAltNames",
    "resolution",
    "location",
];

fn joined(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| match item {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

/// A port as the form writes it: `NUMBER NAME PROTOCOL [TARGET_PORT]`.
fn port_line(port: &Value) -> String {
    let mut parts = vec![text(port.get("number")), text(port.get("name"))];
    let protocol = text(port.get("protocol"));
    let target = text(port.get("targetPort"));
    if !protocol.is_empty() || !target.is_empty() {
        parts.push(protocol);
    }
    if !target.is_empty() {
        parts.push(target);
    }
    parts.join(" ")
}

/// An endpoint as the form writes it: `ADDRESS [PORT_NAME=PORT ...] [network=N]
/// [locality=L] [weight=W] [label:KEY=VALUE ...]`.
fn endpoint_line(endpoint: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(address) = endpoint.get("address").and_then(Value::as_str) {
        parts.push(address.to_string());
    }
    let pairs = |key: &str, prefix: &str| -> Vec<String> {
        endpoint
            .get(key)
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .map(|(k, v)| format!("{prefix}{k}={}", text(Some(v))))
                    .collect()
            })
            .unwrap_or_default()
    };
    parts.extend(pairs("ports", ""));
    for key in ["network", "locality", "weight"] {
        if endpoint.get(key).is_some() {
            parts.push(format!("{key}={}", text(endpoint.get(key))));
        }
    }
    parts.extend(pairs("labels", "label:"));
    parts.join(" ")
}

/// The form showing a stored ServiceEntry's spec.
pub fn form_from_spec(namespace: &str, name: &str, spec: &Value) -> ServiceEntryForm {
    let lines = |key: &str, line: fn(&Value) -> String| {
        spec.get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().map(line).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    };
    ServiceEntryForm {
        name: name.to_string(),
        namespace: namespace.to_string(),
        hosts: joined(spec.get("hosts")),
        ports: lines("ports", port_line),
        resolution: text(spec.get("resolution")),
        location: text(spec.get("location")),
        addresses: joined(spec.get("addresses")),
        endpoints: lines("endpoints", endpoint_line),
        export_to: joined(spec.get("exportTo")),
        subject_alt_names: joined(spec.get("subjectAltNames")),
    }
}

/// The form fields of a spec, alone.
fn form_part(spec: &Value) -> Map<String, Value> {
    FORM_FIELDS
        .iter()
        .filter_map(|key| Some((key.to_string(), spec.get(*key)?.clone())))
        .collect()
}

/// Why the form cannot show a spec exactly (then it is edited as YAML), or `None`: the form
/// read back from the spec describes the same fields.
pub fn form_cannot_show(spec: &Value) -> Option<String> {
    let form = form_from_spec("", "", spec);
    let again = form.to_object();
    let back = form_part(again.get("spec").unwrap_or(&Value::Null));
    let stored = form_part(spec);
    let lost: Vec<&String> = stored
        .iter()
        .filter(|(key, value)| back.get(*key) != Some(*value))
        .map(|(key, _)| key)
        .collect();
    (!lost.is_empty()).then(|| {
        let keys: Vec<&str> = lost.iter().map(|k| k.as_str()).collect();
        format!(
            "the form cannot show every detail of {}: edit it as YAML",
            keys.join(", ")
        )
    })
}

/// `object` with the form's fields in its spec: each form field replaced (removed when the
/// form leaves it empty), everything else — labels, annotations, `workloadSelector`, fields
/// the form does not know — as it was.
pub fn merge_form(object: &Value, form: &ServiceEntryForm) -> Value {
    let described = form.to_object();
    let new_fields = described
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut merged = object.clone();
    if !merged.get("spec").is_some_and(Value::is_object) {
        merged["spec"] = Value::Object(Map::new());
    }
    if let Some(spec) = merged.get_mut("spec").and_then(Value::as_object_mut) {
        for key in FORM_FIELDS {
            match new_fields.get(key) {
                Some(value) => {
                    spec.insert(key.to_string(), value.clone());
                }
                None => {
                    spec.remove(key);
                }
            }
        }
    }
    merged
}

/// Why an edit was not saved: the entry changed since the version the user started from.
pub fn changed_since_opened(namespace: &str, name: &str) -> String {
    format!(
        "{namespace}/{name} changed since you opened it: nothing was saved. Preview again to \
         see your change against the current version"
    )
}

/// What the API server sets, left out of what a person compares and edits.
pub fn comparable(object: &Value) -> Value {
    let mut clean = object.clone();
    if let Some(map) = clean.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = clean.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "resourceVersion",
            "uid",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
        ] {
            meta.remove(key);
        }
    }
    clean
}

/// One field that an edit changes: its path, and its value before and after (as JSON; none
/// when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `spec.ports[1].number`.
    pub path: String,
    /// The value now.
    pub before: Option<String>,
    /// The value after the edit.
    pub after: Option<String>,
}

/// Every field that differs between `before` and `after`, depth first (lists by position).
pub fn changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut found = Vec::new();
    walk("", Some(before), Some(after), &mut found);
    found
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, found: &mut Vec<FieldChange>) {
    let child = |key: &str| match path {
        "" => key.to_string(),
        _ => format!("{path}.{key}"),
    };
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                walk(&child(key), a.get(key), b.get(key), found);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(&format!("{path}[{i}]"), a.get(i), b.get(i), found);
            }
        }
        (a, b) if a == b => {}
        (a, b) => found.push(FieldChange {
            path: path.to_string(),
            before: a.map(Value::to_string),
            after: b.map(Value::to_string),
        }),
    }
}

/// A line of a YAML diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    /// In both.
    Same(String),
    /// Only before the edit.
    Removed(String),
    /// Only after it.
    Added(String),
}

impl DiffLine {
    /// The line as `diff -u` prints it.
    pub fn unified(&self) -> String {
        match self {
            Self::Same(line) => format!(" {line}"),
            Self::Removed(line) => format!("-{line}"),
            Self::Added(line) => format!("+{line}"),
        }
    }
}

/// The longest manifest compared line by line; longer ones are shown as removed and added.
/// (Myers' diff takes time with the lines times the differences: a bound, not a memory cap.)
const DIFF_LINES: usize = 20_000;

/// The lines of `before` and `after` (YAML), as a shortest edit (Myers', from the `similar`
/// crate): common lines kept, the rest removed or added, a removal before the addition that
/// replaces it, as `diff -u` shows them.
pub fn line_diff(before: &str, after: &str) -> Vec<DiffLine> {
    if before.lines().count() > DIFF_LINES || after.lines().count() > DIFF_LINES {
        return before
            .lines()
            .map(|l| DiffLine::Removed(l.to_string()))
            .chain(after.lines().map(|l| DiffLine::Added(l.to_string())))
            .collect();
    }
    // NB: lines without their ends, so a last line without a newline is the same line.
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let diff = similar::TextDiff::from_slices(&a, &b);
    diff.iter_all_changes()
        .map(|change| {
            let line = change.value().to_string();
            match change.tag() {
                similar::ChangeTag::Equal => DiffLine::Same(line),
                similar::ChangeTag::Delete => DiffLine::Removed(line),
                similar::ChangeTag::Insert => DiffLine::Added(line),
            }
        })
        .collect()
}

/// What an edit would change, judged before it is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditPreview {
    /// The entry's namespace.
    pub namespace: String,
    /// The entry's name.
    pub name: String,
    /// The version the diff is against (the entry as it is now): saving carries it.
    pub resource_version: String,
    /// Whether the entry changed since the version the user started from: the diff is then
    /// against the newer one.
    pub changed_since_opened: bool,
    /// Field by field.
    pub changes: Vec<FieldChange>,
    /// As YAML, line by line.
    pub lines: Vec<DiffLine>,
    /// Warnings of mesh-egress's rules that do not refuse the edit.
    pub warnings: Vec<Finding>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> Value {
        json!({
            "apiVersion": crate::domain::manifest::SERVICE_ENTRY_API_VERSION,
            "kind": "ServiceEntry",
            "metadata": {"name": "httpbin", "namespace": "shop",
                         "labels": {"team": "payments"}, "annotations": {"note": "keep"},
                         "resourceVersion": "41", "uid": "u-1"},
            "spec": {
                "hosts": ["httpbin.org"],
                "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                "resolution": "DNS",
                "location": "MESH_EXTERNAL",
                "workloadSelector": {"labels": {"app": "legacy"}},
                "endpoints": [{"address": "10.0.0.1", "ports": {"http": 8080}, "weight": 2,
                               "labels": {"zone": "a"}}],
                "exportTo": ["."]
            },
            "status": {"addresses": [{"value": "240.240.0.1"}]}
        })
    }

    #[test]
    fn the_form_reads_back_what_it_writes() {
        let object = stored();
        let spec = &object["spec"];
        let form = form_from_spec("shop", "httpbin", spec);
        assert_eq!(form.ports, "80 http HTTP");
        assert_eq!(form.endpoints, "10.0.0.1 http=8080 weight=2 label:zone=a");
        assert_eq!(form.export_to, ".");
        assert_eq!(form_cannot_show(spec), None);
        let written = form.to_object();
        for key in FORM_FIELDS {
            assert_eq!(written["spec"].get(key), spec.get(key), "{key}");
        }
    }

    #[test]
    fn a_detail_the_form_cannot_show_sends_the_user_to_yaml() {
        let spec = json!({"hosts": ["a.example.com"],
                          "endpoints": [{"address": "1.2.3.4", "serviceAccount": "sa"}]});
        let why = form_cannot_show(&spec).expect("not shown exactly");
        assert!(why.contains("endpoints") && why.contains("YAML"), "{why}");
    }

    #[test]
    fn an_edit_keeps_what_the_form_does_not_know() {
        let object = stored();
        let mut form = form_from_spec("shop", "httpbin", &object["spec"]);
        form.ports = "80 http HTTP\n443 tls TLS".into();
        form.export_to = String::new();
        let merged = merge_form(&object, &form);
        assert_eq!(
            merged["metadata"], object["metadata"],
            "labels, annotations, version"
        );
        assert_eq!(
            merged["spec"]["workloadSelector"],
            object["spec"]["workloadSelector"]
        );
        assert_eq!(merged["spec"]["ports"][1]["protocol"], "TLS");
        assert!(merged["spec"].get("exportTo").is_none(), "emptied: removed");
        assert_eq!(merged["status"], object["status"]);
    }

    #[test]
    fn changes_name_each_field_that_moves() {
        let before = comparable(&stored());
        let mut form = form_from_spec("shop", "httpbin", &before["spec"]);
        form.ports = "80 http HTTP\n443 tls TLS".into();
        form.resolution = "NONE".into();
        let after = comparable(&merge_form(&stored(), &form));
        let found = changes(&before, &after);
        let paths: Vec<&str> = found.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["spec.ports[1]", "spec.resolution"]);
        assert_eq!(found[1].before.as_deref(), Some("\"DNS\""));
        assert_eq!(found[1].after.as_deref(), Some("\"NONE\""));
        assert_eq!(found[0].before, None);
        assert!(changes(&before, &before).is_empty());
        assert!(before["metadata"].get("resourceVersion").is_none());
        assert!(before.get("status").is_none());
    }

    #[test]
    fn the_yaml_diff_keeps_common_lines() {
        let lines = line_diff("a\nb\nc\nd", "a\nc\nd\ne");
        let unified: Vec<String> = lines.iter().map(DiffLine::unified).collect();
        assert_eq!(unified, [" a", "-b", " c", " d", "+e"]);
        assert!(line_diff("same", "same")
            .iter()
            .all(|l| matches!(l, DiffLine::Same(_))));
        // A changed line: removed, then added; no line lost at the end without a newline.
        let unified: Vec<String> = line_diff("a\nold\nz", "a\nnew\nz\n")
            .iter()
            .map(DiffLine::unified)
            .collect();
        assert_eq!(unified, [" a", "-old", "+new", " z"]);
        let long = "x\n".repeat(DIFF_LINES + 1);
        assert_eq!(line_diff(&long, "").len(), DIFF_LINES + 1);
    }
}
