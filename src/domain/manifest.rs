//! Reading manifests (multi-document YAML or JSON) and judging each object: what
//! `mesh-egress validate` prints.

use super::validation::{is_valid, validate_service_entry, validate_sidecar, Finding, Severity};
use serde_json::Value;
use std::collections::BTreeMap;

/// The API group of the Istio objects mesh-egress judges, as manifests spell it.
pub const NETWORKING_GROUP: &str = "networking.istio.io";
/// The apiVersion mesh-egress writes into the manifests it makes.
pub const SERVICE_ENTRY_API_VERSION: &str = "networking.istio.io/v1";

/// One object of a manifest and what was found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// `namespace/name`.
    pub id: String,
    /// The object's kind.
    pub kind: String,
    /// The findings; `None` when the kind is not one mesh-egress judges.
    pub findings: Option<Vec<Finding>>,
}

impl Judged {
    /// Whether the object is rejected.
    pub fn is_invalid(&self) -> bool {
        self.findings.as_ref().is_some_and(|f| !is_valid(f))
    }

    /// The line `mesh-egress validate` prints for the object.
    pub fn line(&self) -> String {
        let Some(findings) = &self.findings else {
            return format!(
                "{}: not checked (kind {} is not judged by mesh-egress)",
                self.id, self.kind
            );
        };
        if let Some(error) = findings.iter().find(|f| f.severity == Severity::Error) {
            return format!("{}: invalid: {}: {}", self.id, error.field, error.message);
        }
        let warnings: Vec<String> = findings.iter().map(Finding::describe).collect();
        if warnings.is_empty() {
            format!("{}: valid", self.id)
        } else {
            format!("{}: valid, with warnings: {}", self.id, warnings.join("; "))
        }
    }
}

/// Judges one Kubernetes object (already parsed).
pub fn judge_object(object: &Value) -> Judged {
    let metadata = object.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let namespace = text("namespace").unwrap_or_else(|| "default".to_string());
    let name = text("name").unwrap_or_else(|| "<no name>".to_string());
    let labels: BTreeMap<String, String> = metadata
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("<no kind>")
        .to_string();
    let group = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.split_once('/'))
        .map(|(g, _)| g)
        .unwrap_or("");
    let spec = object.get("spec");
    let findings = match (group, kind.as_str()) {
        (NETWORKING_GROUP, "ServiceEntry") => {
            let mut findings = validate_service_entry(&namespace, &labels, spec);
            if name == "<no name>" {
                findings.insert(0, missing_name());
            }
            Some(findings)
        }
        (NETWORKING_GROUP, "Sidecar") => {
            let mut findings = validate_sidecar(&namespace, spec);
            if name == "<no name>" {
                findings.insert(0, missing_name());
            }
            Some(findings)
        }
        _ => None,
    };
    Judged {
        id: format!("{namespace}/{name}"),
        kind,
        findings,
    }
}

fn missing_name() -> Finding {
    Finding::error("K8S001", "metadata.name", "Required value")
}

/// One refusal, as the findings a create answers.
fn refusal(rule: &str, field: &str, message: String) -> Vec<Finding> {
    vec![Finding::error(rule, field, message)]
}

/// Checks a manifest meant for creating one ServiceEntry: exactly one object, of that kind,
/// valid by mesh-egress's rules. Gives its namespace (the manifest's, else `namespace`; with
/// neither it is refused, never put in `default` silently) and the object, or the findings that
/// refuse it.
pub fn service_entry_for_create(
    manifest: &str,
    namespace: Option<&str>,
) -> Result<(String, Value), Vec<Finding>> {
    let mut object = single_object(manifest)?;
    service_entry_kind(&object)?;
    let namespace = namespace_of(&object, namespace)?;
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::String(namespace.clone()));
    }
    let mut findings = name_findings(&object, &namespace);
    findings.extend(judge_object(&object).findings.unwrap_or_default());
    if is_valid(&findings) {
        Ok((namespace, object))
    } else {
        Err(findings)
    }
}

/// The one object of a manifest (not a List, not several).
fn single_object(manifest: &str) -> Result<Value, Vec<Finding>> {
    let (mut objects, listed) =
        parse_documents(manifest).map_err(|e| refusal("MAN001", "manifest", e.to_string()))?;
    if listed {
        return Err(refusal(
            "MAN001",
            "manifest",
            "is a List: give the ServiceEntry itself, not a List holding it".into(),
        ));
    }
    if objects.len() != 1 {
        return Err(refusal(
            "MAN001",
            "manifest",
            format!(
                "holds {} objects; give exactly one ServiceEntry",
                objects.len()
            ),
        ));
    }
    Ok(objects.remove(0))
}

/// A ServiceEntry of `networking.istio.io`, at any version.
fn service_entry_kind(object: &Value) -> Result<(), Vec<Finding>> {
    let field = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
    let (kind, api_version) = (field("kind"), field("apiVersion"));
    let networking_version = api_version
        .strip_prefix(NETWORKING_GROUP)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|version| !version.is_empty() && !version.contains('/'));
    if kind != "ServiceEntry" {
        let reason = format!("must be ServiceEntry, not {}", crate::domain::quoted(kind));
        return Err(refusal("MAN002", "kind", reason));
    }
    if !networking_version {
        let reason = format!(
            "must be {NETWORKING_GROUP}/<version> (such as {SERVICE_ENTRY_API_VERSION}), not \
             {}",
            crate::domain::quoted(api_version)
        );
        return Err(refusal("MAN003", "apiVersion", reason));
    }
    Ok(())
}

/// The manifest's namespace, else `namespace` (the request's); neither is a refusal.
fn namespace_of(object: &Value, namespace: Option<&str>) -> Result<String, Vec<Finding>> {
    let given = object
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .map(str::to_string);
    given
        .or_else(|| {
            namespace
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        })
        .ok_or_else(|| {
            refusal(
                "K8S003",
                "metadata.namespace",
                "is missing: name the namespace in the manifest (metadata.namespace) or in the \
                 namespace field"
                    .into(),
            )
        })
}

/// The name and the namespace as Kubernetes names.
fn name_findings(object: &Value, namespace: &str) -> Vec<Finding> {
    let name = object
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut findings = Vec::new();
    if !super::validation::is_dns1123_subdomain(name) {
        findings.extend(refusal(
            "K8S002",
            "metadata.name",
            format!(
                "{} is not a valid name: lowercase letters, digits, '-' and '.'",
                crate::domain::quoted(name)
            ),
        ));
    }
    if !super::validation::is_dns1123_subdomain(namespace) || namespace.contains('.') {
        findings.extend(refusal(
            "K8S003",
            "metadata.namespace",
            format!(
                "{} is not a valid namespace name",
                crate::domain::quoted(namespace)
            ),
        ));
    }
    findings
}

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not YAML or JSON, or over a bound (size, nesting, aliases).
    #[error("{0}")]
    Unreadable(#[from] super::yaml::YamlError),
    /// A document that is not an object.
    #[error("document {0} is not a Kubernetes object (a mapping with kind and metadata)")]
    NotAnObject(usize),
}

/// Splits a manifest (multi-document YAML, or JSON) into objects; `List` kinds are expanded.
/// Reading is bounded (see `domain::yaml`).
pub fn parse_manifest(text: &str) -> Result<Vec<Value>, ManifestError> {
    parse_documents(text).map(|(objects, _)| objects)
}

/// The objects of a manifest, and whether any came out of a `List`.
fn parse_documents(text: &str) -> Result<(Vec<Value>, bool), ManifestError> {
    let mut listed = false;
    let mut objects = Vec::new();
    for (index, value) in super::yaml::documents(text)?.into_iter().enumerate() {
        match value {
            Value::Null => {}
            Value::Object(_) => {
                let is_list = value
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"));
                match value.get("items").and_then(Value::as_array) {
                    Some(items) if is_list => {
                        listed = true;
                        objects.extend(items.iter().cloned());
                    }
                    _ => objects.push(value),
                }
            }
            _ => return Err(ManifestError::NotAnObject(index + 1)),
        }
    }
    Ok((objects, listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin.org, namespace: smm-demo}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: broken}
spec:
  hosts: [bad..host]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
"#;

    #[test]
    fn one_line_per_object() {
        let lines: Vec<String> = parse_manifest(MANIFEST)
            .expect("parses")
            .iter()
            .map(|o| judge_object(o).line())
            .collect();
        assert_eq!(lines[0], "smm-demo/httpbin.org: valid");
        assert!(
            lines[1].starts_with("default/broken: invalid: spec.hosts[0]: "),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("shop/default: valid, with warnings: spec.outboundTrafficPolicy:"),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with("[MEG004]"), "{}", lines[2]);
        assert!(lines[3].contains("not checked"), "{}", lines[3]);
    }

    #[test]
    fn json_and_lists_are_read_too() {
        let json = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"a"},"spec":{"hosts":["a.example.com"],"resolution":"DNS"}}]}"#;
        let objects = parse_manifest(json).expect("parses");
        assert_eq!(objects.len(), 1);
        assert_eq!(judge_object(&objects[0]).line(), "default/a: valid");
        assert!(matches!(
            parse_manifest("a: [").expect_err("not YAML"),
            ManifestError::Unreadable(_)
        ));
        assert_eq!(
            parse_manifest("a: 1\n---\n- x\n")
                .expect_err("a list")
                .to_string(),
            "document 2 is not a Kubernetes object (a mapping with kind and metadata)"
        );
    }

    fn refused(manifest: &str) -> Vec<String> {
        service_entry_for_create(manifest, Some("shop"))
            .expect_err("refused")
            .iter()
            .map(|f| {
                format!(
                    "{} {}: {}",
                    f.rule.as_deref().unwrap_or(""),
                    f.field,
                    f.message
                )
            })
            .collect()
    }

    #[test]
    fn a_create_takes_only_a_networking_istio_io_service_entry() {
        let entry = "kind: ServiceEntry\nmetadata: {name: a}\nspec: {hosts: [a.example.com], resolution: DNS}\n";
        for api_version in [
            "v1",
            "example.com/v1",
            "networking.istio.io",
            "networking.istio.io/",
            "networking.istio.iox/v1",
        ] {
            let lines = refused(&format!("apiVersion: {api_version}\n{entry}"));
            assert!(
                lines[0].starts_with("MAN003 apiVersion: must be networking.istio.io/<version>"),
                "{lines:?}"
            );
        }
        let (namespace, _) = service_entry_for_create(
            &format!("apiVersion: networking.istio.io/v1beta1\n{entry}"),
            Some("shop"),
        )
        .expect("v1beta1 is an Istio version");
        assert_eq!(namespace, "shop");
    }

    #[test]
    fn oversized_and_alias_bomb_manifests_are_refused_before_judging() {
        let big = format!("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: a, annotations: {{x: \"{}\"}}}}\n", "x".repeat(300_000));
        assert!(
            refused(&big)[0].starts_with("MAN001 manifest: is "),
            "{:?}",
            refused(&big)
        );
        let mut bomb = String::from("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nx0: &x0 [a,a,a,a,a,a,a,a,a,a]\n");
        for i in 1..12 {
            bomb.push_str(&format!(
                "x{i}: &x{i} [{}]\n",
                vec![format!("*x{}", i - 1); 10].join(",")
            ));
        }
        assert!(
            refused(&bomb)[0].starts_with("MAN001 manifest:"),
            "{:?}",
            refused(&bomb)
        );
    }
}
