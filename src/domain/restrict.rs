//! Restricting one namespace: its own namespace-wide Sidecar carries
//! `outboundTrafficPolicy.mode`. mesh-egress writes down on the Sidecar what was there before
//! (an annotation), so lifting the restriction puts the Sidecar back exactly, and a Sidecar it
//! created is deleted again.

use super::edit::{comparable, line_diff, DiffLine};
use super::policy::{setting_from_mesh_config, OutboundPolicyMode, PolicySetting};
use super::sidecar::{EffectivePolicy, PolicyOrigin};
use super::traffic::{BlockedCall, TrafficStatus, Window};
use super::yaml::to_yaml;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The annotation that holds what the Sidecar's `outboundTrafficPolicy` was before mesh-egress
/// changed it (`{}` when it had none, `{"outboundTrafficPolicy": …}` otherwise), or
/// [`CREATED`] when mesh-egress created the Sidecar.
pub const BEFORE_ANNOTATION: &str = "mesh-egress.io/outbound-policy-before";
/// The annotation's value on a Sidecar mesh-egress created.
pub const CREATED: &str = "created";
/// The label on a Sidecar mesh-egress created.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "mesh-egress");
/// The name of a Sidecar mesh-egress creates (Istio's convention for the namespace-wide one),
/// unless a Sidecar with a workload selector already has it.
pub const SIDECAR_NAME: &str = "default";

/// What a namespace is asked to become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamespaceTarget {
    /// REGISTRY_ONLY for the namespace's pods.
    Restricted,
    /// ALLOW_ANY for them (a restriction lifted, or an exception to a restricted mesh).
    Allowed,
}

impl NamespaceTarget {
    /// From the words the pages and the command line use (and Istio's spellings).
    pub fn parse(text: &str) -> Result<Self, String> {
        match super::policy::parse_requested_mode(text)? {
            OutboundPolicyMode::RegistryOnly => Ok(Self::Restricted),
            _ => Ok(Self::Allowed),
        }
    }

    /// The mode Istio applies for it.
    pub fn mode(self) -> OutboundPolicyMode {
        match self {
            Self::Restricted => OutboundPolicyMode::RegistryOnly,
            Self::Allowed => OutboundPolicyMode::AllowAny,
        }
    }

    /// `restricted` or `allowed`: what the form posts and the command line reads.
    pub fn word(self) -> &'static str {
        match self {
            Self::Restricted => "restricted",
            Self::Allowed => "allowed",
        }
    }

    fn of(mode: &OutboundPolicyMode) -> Self {
        if mode.allows_unregistered_hosts() {
            Self::Allowed
        } else {
            Self::Restricted
        }
    }
}

/// What mesh-egress wrote down on a Sidecar before changing it.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// mesh-egress created the Sidecar.
    Created,
    /// The Sidecar's `outboundTrafficPolicy` before (`None`: it had none).
    Before(Option<Value>),
}

impl Record {
    /// The record on a Sidecar object, if mesh-egress left one.
    pub fn read(sidecar: &Value) -> Option<Self> {
        let text = sidecar
            .pointer("/metadata/annotations")?
            .get(BEFORE_ANNOTATION)?
            .as_str()?;
        if text == CREATED {
            return Some(Self::Created);
        }
        let before: Value = serde_json::from_str(text).ok()?;
        Some(Self::Before(before.get("outboundTrafficPolicy").cloned()))
    }

    fn text(&self) -> String {
        match self {
            Self::Created => CREATED.to_string(),
            Self::Before(None) => "{}".to_string(),
            Self::Before(Some(policy)) => json!({ "outboundTrafficPolicy": policy }).to_string(),
        }
    }
}

/// One write to a namespace's Sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SidecarWrite {
    /// Create this Sidecar.
    Create {
        /// The object (name, labels, annotation, spec).
        object: Value,
    },
    /// Replace the Sidecar (the object carries the resourceVersion it was read at).
    Replace {
        /// As it is.
        before: Value,
        /// As it will be.
        object: Value,
    },
    /// Delete the Sidecar mesh-egress created (only the version read).
    Delete {
        /// As it is.
        before: Value,
    },
}

impl SidecarWrite {
    /// The Sidecar's name.
    pub fn name(&self) -> String {
        let object = match self {
            Self::Create { object } | Self::Replace { object, .. } => object,
            Self::Delete { before } => before,
        };
        object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// "creates Sidecar NS/NAME" and the like.
    pub fn describe(&self, namespace: &str) -> String {
        let name = self.name();
        match self {
            Self::Create { .. } => format!("creates Sidecar {namespace}/{name}"),
            Self::Replace { .. } => format!("changes Sidecar {namespace}/{name}"),
            Self::Delete { .. } => {
                format!("deletes Sidecar {namespace}/{name}, which mesh-egress created")
            }
        }
    }

    /// The Sidecar as YAML before and after, line by line (server fields left out).
    pub fn diff(&self) -> Vec<DiffLine> {
        let yaml = |v: &Value| to_yaml(&comparable(v));
        match self {
            Self::Create { object } => line_diff("", &yaml(object)),
            Self::Replace { before, object } => line_diff(&yaml(before), &yaml(object)),
            Self::Delete { before } => line_diff(&yaml(before), ""),
        }
    }
}

/// The namespace-wide Sidecar among a namespace's Sidecars: the first by name without a
/// workload selector (the one Istio applies; the same choice as the effective policy's).
pub fn own_sidecar(sidecars: &[Value]) -> Option<&Value> {
    let mut wide: Vec<&Value> = sidecars
        .iter()
        .filter(|s| {
            s.pointer("/spec/workloadSelector")
                .is_none_or(Value::is_null)
        })
        .collect();
    wide.sort_by_key(|s| name_of(s));
    wide.into_iter().next()
}

fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Why a namespace cannot be changed here.
pub fn root_namespace_refusal(namespace: &str) -> String {
    format!(
        "{namespace} is Istio's root namespace: its Sidecar is the default of every namespace \
         without one of its own. Use the mesh-wide switch instead"
    )
}

/// What to write so `namespace` becomes `target`, given its namespace-wide Sidecar (`own`),
/// the names of all its Sidecars, and the policy it would have without its own Sidecar
/// (`fallback`: the root Sidecar's or the mesh's). `Ok(None)`: it already is.
///
/// A record left by mesh-egress is restored when restoring gives the target (the Sidecar back
/// as it was, or deleted when mesh-egress created it); otherwise the mode is set, writing down
/// what was there first.
pub fn plan(
    namespace: &str,
    root_namespace: &str,
    target: NamespaceTarget,
    own: Option<&Value>,
    names: &[String],
    fallback: &OutboundPolicyMode,
) -> Result<Option<SidecarWrite>, String> {
    if namespace == root_namespace {
        return Err(root_namespace_refusal(namespace));
    }
    let Some(own) = own else {
        if NamespaceTarget::of(fallback) == target {
            return Ok(None);
        }
        return Ok(Some(SidecarWrite::Create {
            object: new_sidecar(namespace, names, target),
        }));
    };
    let mode_of = |policy: Option<&Value>| {
        let setting = setting_from_mesh_config(&json!({ "outboundTrafficPolicy": policy }))
            .map_err(|e| format!("Sidecar {namespace}/{}: {e}", name_of(own)))?;
        Ok::<_, String>(match setting {
            PolicySetting::NotSet => fallback.clone(),
            setting => setting.effective_mode(),
        })
    };
    let current = mode_of(own.pointer("/spec/outboundTrafficPolicy"))?;
    if let Some(record) = Record::read(own) {
        let restored = match &record {
            Record::Created => fallback.clone(),
            Record::Before(policy) => mode_of(policy.as_ref())?,
        };
        if NamespaceTarget::of(&restored) == target {
            return Ok(Some(restore(own, &record)));
        }
    }
    if NamespaceTarget::of(&current) == target {
        return Ok(None);
    }
    let mut parts = Parts::of(own);
    if Record::read(own).is_none() {
        let before = Record::Before(own.pointer("/spec/outboundTrafficPolicy").cloned());
        parts
            .annotations
            .insert(BEFORE_ANNOTATION.into(), before.text().into());
    }
    let mut policy = take_map(parts.spec.remove("outboundTrafficPolicy"));
    policy.insert("mode".into(), target.mode().as_istio().into());
    parts
        .spec
        .insert("outboundTrafficPolicy".into(), Value::Object(policy));
    Ok(Some(SidecarWrite::Replace {
        before: own.clone(),
        object: parts.into_value(),
    }))
}

/// The Sidecar as it was before mesh-egress: deleted if mesh-egress created it (unless someone
/// has added to it since: then only what mesh-egress wrote is taken out).
fn restore(own: &Value, record: &Record) -> SidecarWrite {
    let mut parts = Parts::of(own);
    match record {
        Record::Created => {
            parts.spec.remove("outboundTrafficPolicy");
            if parts.spec.is_empty() {
                return SidecarWrite::Delete {
                    before: own.clone(),
                };
            }
            if parts.labels.get(MANAGED_BY.0).and_then(Value::as_str) == Some(MANAGED_BY.1) {
                parts.labels.remove(MANAGED_BY.0);
            }
        }
        Record::Before(None) => {
            parts.spec.remove("outboundTrafficPolicy");
        }
        Record::Before(Some(policy)) => {
            parts
                .spec
                .insert("outboundTrafficPolicy".into(), policy.clone());
        }
    }
    parts.annotations.remove(BEFORE_ANNOTATION);
    SidecarWrite::Replace {
        before: own.clone(),
        object: parts.into_value(),
    }
}

fn new_sidecar(namespace: &str, names: &[String], target: NamespaceTarget) -> Value {
    let name = if names.iter().any(|n| n == SIDECAR_NAME) {
        // NB: `default` is taken by a Sidecar with a workload selector.
        "mesh-egress"
    } else {
        SIDECAR_NAME
    };
    json!({
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": { MANAGED_BY.0: MANAGED_BY.1 },
            "annotations": { BEFORE_ANNOTATION: CREATED },
        },
        "spec": { "outboundTrafficPolicy": { "mode": target.mode().as_istio() } },
    })
}

fn take_map(value: Option<Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// A Sidecar object taken apart where mesh-egress changes it; empty label and annotation
/// mappings are left out when it is put together again (as the API server stores them).
struct Parts {
    top: Map<String, Value>,
    meta: Map<String, Value>,
    labels: Map<String, Value>,
    annotations: Map<String, Value>,
    spec: Map<String, Value>,
}

impl Parts {
    fn of(object: &Value) -> Self {
        let mut top = take_map(Some(object.clone()));
        let mut meta = take_map(top.remove("metadata"));
        Self {
            labels: take_map(meta.remove("labels")),
            annotations: take_map(meta.remove("annotations")),
            spec: take_map(top.remove("spec")),
            meta,
            top,
        }
    }

    fn into_value(self) -> Value {
        let Self {
            mut top,
            mut meta,
            labels,
            annotations,
            spec,
        } = self;
        if !labels.is_empty() {
            meta.insert("labels".into(), Value::Object(labels));
        }
        if !annotations.is_empty() {
            meta.insert("annotations".into(), Value::Object(annotations));
        }
        top.insert("metadata".into(), Value::Object(meta));
        top.insert("spec".into(), Value::Object(spec));
        Value::Object(top)
    }
}

/// A namespace's outbound policy as its page shows it, and what the page offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespacePolicy {
    /// The namespace.
    pub namespace: String,
    /// Its effective policy (`None` when the mesh-wide policy is hidden from the user).
    pub effective: Option<EffectivePolicy>,
    /// Whether mesh-egress changed its Sidecar (and can put it back).
    pub recorded: bool,
    /// What the page offers: the opposite of its effective mode.
    pub offered: NamespaceTarget,
    /// Whether the user may change the namespace's Sidecars.
    pub access: super::access::Access,
    /// Whether its pods get sidecars (by label); a restriction does nothing otherwise.
    pub injection: bool,
}

impl NamespacePolicy {
    /// Whether the namespace is restricted now.
    pub fn restricted(&self) -> bool {
        self.effective
            .as_ref()
            .is_some_and(|e| !e.mode.allows_unregistered_hosts())
    }

    /// Whether its own Sidecar decides (rather than the mesh or the root Sidecar).
    pub fn own_sidecar_decides(&self) -> bool {
        self.effective
            .as_ref()
            .is_some_and(|e| matches!(e.origin, PolicyOrigin::NamespaceSidecar { .. }))
    }
}

/// What restricting (or opening) a namespace would do, judged before it is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespacePolicyPreview {
    /// The namespace.
    pub namespace: String,
    /// What it would become.
    pub target: NamespaceTarget,
    /// The write ("creates Sidecar …"), or none when it already is so.
    pub change: Option<String>,
    /// The Sidecar as YAML, before and after.
    pub lines: Vec<DiffLine>,
    /// The namespace's calls that pass through today and would be blocked (restricting only).
    pub blocked: Vec<BlockedCall>,
    /// Whether the traffic could be read.
    pub status: TrafficStatus,
    /// The traffic window.
    pub window: Window,
}

impl NamespacePolicyPreview {
    /// One line: what it does and what it would block.
    pub fn summary(&self) -> String {
        let Some(change) = &self.change else {
            return format!(
                "{} is already {}: nothing to change",
                self.namespace,
                self.target.mode()
            );
        };
        let blocks = match (self.target, self.status.notice()) {
            (NamespaceTarget::Allowed, _) => String::new(),
            (NamespaceTarget::Restricted, Some(_)) => {
                "; the traffic is unknown, so what it would block is not shown".to_string()
            }
            (NamespaceTarget::Restricted, None) if self.blocked.is_empty() => {
                format!(
                    "; it would block no call seen in the {}",
                    self.window.label()
                )
            }
            (NamespaceTarget::Restricted, None) => {
                let destinations = self
                    .blocked
                    .iter()
                    .map(|b| (&b.host, &b.port))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                format!(
                    "; it would block {destinations} destination{} called in the {}",
                    if destinations == 1 { "" } else { "s" },
                    self.window.label()
                )
            }
        };
        format!(
            "{} {}: {}{blocks}",
            self.target.mode(),
            self.namespace,
            change
        )
    }
}

/// The line the command line prints for a namespace's effective policy.
pub fn cli_line(namespace: &str, effective: &EffectivePolicy) -> String {
    format!(
        "namespace {namespace} outbound traffic policy is set to '{}' ({})",
        effective.mode,
        effective.reason()
    )
}

#[cfg(test)]
mod tests;
