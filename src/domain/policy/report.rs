//! Where the mesh-wide policy lives and what the cluster (and istiod) say it is: the reports
//! the pages and the automation API show.

use super::{OutboundPolicyMode, PolicySetting};
use serde::{Deserialize, Serialize};
use std::fmt;

/// istiod's view beside the setting written in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IstiodView {
    /// istiod answered with the mode it uses.
    Using(OutboundPolicyMode),
    /// istiod's debug endpoint did not answer.
    Unreachable(String),
}

/// The kind of resource the mesh-wide policy lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceKind {
    /// Istio's mesh ConfigMap (`istio` or `istio-<revision>`), key `mesh`.
    ConfigMap,
    /// Service Mesh Manager's IstioControlPlane, `spec.meshConfig`.
    IstioControlPlane,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ConfigMap => "ConfigMap",
            Self::IstioControlPlane => "IstioControlPlane",
        })
    }
}

/// The resource that holds the mesh-wide policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicySource {
    /// What kind of resource it is.
    pub kind: SourceKind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The mesh-wide policy as found in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyReport {
    /// A source was found and read.
    Found {
        /// Where the policy lives.
        source: PolicySource,
        /// What it says.
        setting: PolicySetting,
        /// Other resources that could hold it (several control planes), for the user to pick.
        alternatives: Vec<PolicySource>,
        /// When the ConfigMap is rendered by an installer that reverts direct edits: which.
        managed_by: Option<String>,
    },
    /// Nothing that holds a mesh config was found.
    NoSource {
        /// What was looked for, and where, in words.
        looked_for: Vec<String>,
    },
    /// The acting user may not read where the policy lives.
    Hidden {
        /// The API server's refusal, in words.
        reason: String,
    },
}

/// The policy as the automation API and the pages report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyState {
    /// The mode Istio applies: `ALLOW_ANY`, `REGISTRY_ONLY`, or another value as written.
    pub mode: OutboundPolicyMode,
    /// Whether the mode is written in the mesh config (false: Istio's default applies).
    pub set: bool,
    /// The setting in words.
    pub description: String,
    /// Where it lives, when a source was found.
    pub source: Option<PolicySource>,
    /// Other resources that could hold it.
    pub alternatives: Vec<PolicySource>,
    /// The installer that renders the ConfigMap, if any.
    pub managed_by: Option<String>,
    /// When no source was found: what was looked for.
    pub looked_for: Vec<String>,
}

impl From<&PolicyReport> for PolicyState {
    fn from(report: &PolicyReport) -> Self {
        let setting = report.setting();
        let (source, alternatives, managed_by, looked_for) = match report {
            PolicyReport::Found {
                source,
                alternatives,
                managed_by,
                ..
            } => (
                Some(source.clone()),
                alternatives.clone(),
                managed_by.clone(),
                vec![],
            ),
            PolicyReport::NoSource { looked_for } => (None, vec![], None, looked_for.clone()),
            PolicyReport::Hidden { .. } => (None, vec![], None, vec![]),
        };
        Self {
            mode: setting.effective_mode(),
            set: setting != PolicySetting::NotSet,
            description: setting.describe(),
            source,
            alternatives,
            managed_by,
            looked_for,
        }
    }
}

impl PolicyReport {
    /// The setting, or "not set" when there is no source at all (or it is hidden).
    pub fn setting(&self) -> PolicySetting {
        match self {
            Self::Found { setting, .. } => setting.clone(),
            Self::NoSource { .. } | Self::Hidden { .. } => PolicySetting::NotSet,
        }
    }
}
