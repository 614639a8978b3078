//! The mesh-wide outbound traffic policy: its modes, how it is read out of a mesh config, and
//! the words the command line and the pages use for it.

mod edit;
mod report;

pub use edit::set_mode_in_mesh_yaml;
pub use report::{IstiodView, PolicyReport, PolicySource, PolicyState, SourceKind};

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value of Istio's `outboundTrafficPolicy.mode`. Serialised with Istio's spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum OutboundPolicyMode {
    /// `ALLOW_ANY`: pods may call any external host (Istio's default).
    AllowAny,
    /// `REGISTRY_ONLY`: pods reach only hosts registered as ServiceEntries.
    RegistryOnly,
    /// `ALLOW_ANY_DYNAMIC_DNS` (Istio 1.30+), shown as it is.
    AllowAnyDynamicDns,
    /// A value this version of mesh-egress does not know, kept verbatim.
    Other(String),
}

impl OutboundPolicyMode {
    /// Reads Istio's spelling of a mode.
    pub fn from_istio(value: &str) -> Self {
        match value {
            "ALLOW_ANY" => Self::AllowAny,
            "REGISTRY_ONLY" => Self::RegistryOnly,
            "ALLOW_ANY_DYNAMIC_DNS" => Self::AllowAnyDynamicDns,
            other => Self::Other(other.to_string()),
        }
    }

    /// Istio's spelling of the mode, as written in the mesh config.
    pub fn as_istio(&self) -> &str {
        match self {
            Self::AllowAny => "ALLOW_ANY",
            Self::RegistryOnly => "REGISTRY_ONLY",
            Self::AllowAnyDynamicDns => "ALLOW_ANY_DYNAMIC_DNS",
            Self::Other(value) => value,
        }
    }

    /// Whether pods may leave the mesh to hosts that no ServiceEntry registers.
    pub fn allows_unregistered_hosts(&self) -> bool {
        !matches!(self, Self::RegistryOnly)
    }
}

impl From<OutboundPolicyMode> for String {
    fn from(mode: OutboundPolicyMode) -> Self {
        mode.as_istio().to_string()
    }
}

impl From<String> for OutboundPolicyMode {
    fn from(value: String) -> Self {
        Self::from_istio(&value)
    }
}

impl fmt::Display for OutboundPolicyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_istio())
    }
}

/// What a mesh config says about the outbound traffic policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicySetting {
    /// No `outboundTrafficPolicy` at all: Istio's default, ALLOW_ANY.
    NotSet,
    /// `outboundTrafficPolicy.mode` names a mode.
    Explicit(OutboundPolicyMode),
    /// `outboundTrafficPolicy` is present without a mode (for example `{}`). Protobuf reads the
    /// missing enum as its zero value, REGISTRY_ONLY: a known trap, shown as such.
    ImplicitRegistryOnly,
}

impl PolicySetting {
    /// The mode Istio applies for this setting.
    pub fn effective_mode(&self) -> OutboundPolicyMode {
        match self {
            Self::NotSet => OutboundPolicyMode::AllowAny,
            Self::Explicit(mode) => mode.clone(),
            Self::ImplicitRegistryOnly => OutboundPolicyMode::RegistryOnly,
        }
    }

    /// The short text a page shows for the setting.
    pub fn describe(&self) -> String {
        match self {
            Self::NotSet => "not set (Istio's default: ALLOW_ANY)".to_string(),
            Self::Explicit(mode) => mode.to_string(),
            Self::ImplicitRegistryOnly => {
                "REGISTRY_ONLY (outboundTrafficPolicy has no mode, which Istio reads as REGISTRY_ONLY)"
                    .to_string()
            }
        }
    }

    /// The exact line the command-line tool prints for this setting.
    pub fn cli_line(&self) -> String {
        match self {
            Self::NotSet => "mesh wide outbound traffic policy is not found".to_string(),
            other => format!(
                "mesh wide outbound traffic policy is set to '{}'",
                other.effective_mode()
            ),
        }
    }
}

/// Why a mesh config could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum MeshConfigError {
    /// The document is neither YAML nor JSON.
    #[error("the mesh config is not valid YAML or JSON: {0}")]
    Unreadable(String),
    /// A field has the wrong shape.
    #[error("{field} must be {expected}")]
    WrongShape {
        /// Dotted path of the field.
        field: String,
        /// What was expected there.
        expected: String,
    },
    /// The policy is written in a form mesh-egress does not edit without changing more.
    #[error("{0}")]
    NotEditable(String),
}

/// Reads the policy out of a mesh config document (the `mesh` key of Istio's ConfigMap).
pub fn setting_from_mesh_yaml(document: &str) -> Result<PolicySetting, MeshConfigError> {
    if document.trim().is_empty() {
        return Ok(PolicySetting::NotSet);
    }
    let value =
        super::yaml::document(document).map_err(|e| MeshConfigError::Unreadable(e.to_string()))?;
    setting_from_mesh_config(&value)
}

/// Reads the policy out of a parsed mesh config (the ConfigMap's YAML, or an
/// IstioControlPlane's `spec.meshConfig`).
pub fn setting_from_mesh_config(
    mesh_config: &serde_json::Value,
) -> Result<PolicySetting, MeshConfigError> {
    let policy = match mesh_config {
        serde_json::Value::Null => return Ok(PolicySetting::NotSet),
        serde_json::Value::Object(map) => map.get("outboundTrafficPolicy"),
        _ => {
            return Err(MeshConfigError::WrongShape {
                field: "meshConfig".into(),
                expected: "a mapping".into(),
            })
        }
    };
    match policy {
        None | Some(serde_json::Value::Null) => Ok(PolicySetting::NotSet),
        Some(serde_json::Value::Object(policy)) => match policy.get("mode") {
            None | Some(serde_json::Value::Null) => Ok(PolicySetting::ImplicitRegistryOnly),
            Some(serde_json::Value::String(mode)) => Ok(PolicySetting::Explicit(
                OutboundPolicyMode::from_istio(mode),
            )),
            Some(_) => Err(MeshConfigError::WrongShape {
                field: "outboundTrafficPolicy.mode".into(),
                expected: "a string such as ALLOW_ANY or REGISTRY_ONLY".into(),
            }),
        },
        Some(_) => Err(MeshConfigError::WrongShape {
            field: "outboundTrafficPolicy".into(),
            expected: "a mapping".into(),
        }),
    }
}

/// What the user asks for when switching: restricted (REGISTRY_ONLY) or allowed (ALLOW_ANY).
/// Accepts the command line's words and Istio's spellings.
pub fn parse_requested_mode(value: &str) -> Result<OutboundPolicyMode, String> {
    match value.trim() {
        "restricted" | "REGISTRY_ONLY" => Ok(OutboundPolicyMode::RegistryOnly),
        "allowed" | "ALLOW_ANY" => Ok(OutboundPolicyMode::AllowAny),
        other => Err(format!(
            "'{other}' is not a policy: use restricted (REGISTRY_ONLY) or allowed (ALLOW_ANY)"
        )),
    }
}

/// What istiod itself is using, from its `/debug/mesh` (protobuf JSON: REGISTRY_ONLY is the
/// enum's zero value and shows as `"outboundTrafficPolicy":{}`).
pub fn mode_from_istiod_mesh(debug_mesh_json: &str) -> Result<OutboundPolicyMode, MeshConfigError> {
    let value: serde_json::Value = serde_json::from_str(debug_mesh_json)
        .map_err(|e| MeshConfigError::Unreadable(e.to_string()))?;
    Ok(match setting_from_mesh_config(&value)? {
        // istiod always fills the default in; an absent field would be its default too.
        PolicySetting::NotSet => OutboundPolicyMode::AllowAny,
        other => other.effective_mode(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `mesh` key as Istio's Helm chart (istiod, 1.2x) renders it.
    const HELM_MESH: &str = r#"
defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
  tracing:
    zipkin:
      address: zipkin.istio-system:9411
defaultProviders:
  metrics:
  - prometheus
enablePrometheusMerge: true
rootNamespace: istio-system
trustDomain: cluster.local
"#;

    #[test]
    fn helm_rendered_mesh_config_has_no_policy() {
        let setting = setting_from_mesh_yaml(HELM_MESH).expect("parses");
        assert_eq!(setting, PolicySetting::NotSet);
        assert_eq!(setting.effective_mode(), OutboundPolicyMode::AllowAny);
        assert_eq!(setting.describe(), "not set (Istio's default: ALLOW_ANY)");
        assert_eq!(
            setting.cli_line(),
            "mesh wide outbound traffic policy is not found"
        );
    }

    #[test]
    fn explicit_modes_are_read_and_printed_like_the_cli() {
        let doc = format!("{HELM_MESH}outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n");
        let setting = setting_from_mesh_yaml(&doc).expect("parses");
        assert_eq!(
            setting,
            PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
        );
        assert_eq!(
            setting.cli_line(),
            "mesh wide outbound traffic policy is set to 'REGISTRY_ONLY'"
        );
        let setting =
            setting_from_mesh_yaml("outboundTrafficPolicy:\n  mode: ALLOW_ANY\n").expect("parses");
        assert_eq!(
            setting.cli_line(),
            "mesh wide outbound traffic policy is set to 'ALLOW_ANY'"
        );
    }

    #[test]
    fn an_empty_policy_object_is_registry_only() {
        let setting = setting_from_mesh_yaml("outboundTrafficPolicy: {}\n").expect("parses");
        assert_eq!(setting, PolicySetting::ImplicitRegistryOnly);
        assert!(!setting.effective_mode().allows_unregistered_hosts());
    }

    #[test]
    fn unknown_modes_are_kept_verbatim() {
        let setting =
            setting_from_mesh_yaml("outboundTrafficPolicy:\n  mode: ALLOW_ANY_DYNAMIC_DNS\n")
                .expect("parses");
        assert_eq!(setting.describe(), "ALLOW_ANY_DYNAMIC_DNS");
        let setting = setting_from_mesh_yaml("outboundTrafficPolicy:\n  mode: SOMETHING_NEW\n")
            .expect("parses");
        assert_eq!(setting.describe(), "SOMETHING_NEW");
    }

    #[test]
    fn setting_the_mode_changes_nothing_else() {
        let updated =
            set_mode_in_mesh_yaml(HELM_MESH, &OutboundPolicyMode::RegistryOnly).expect("sets");
        assert_eq!(
            setting_from_mesh_yaml(&updated).expect("parses"),
            PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
        );
        let before = crate::domain::yaml::document(HELM_MESH).expect("yaml");
        let mut after = crate::domain::yaml::document(&updated).expect("yaml");
        after
            .as_object_mut()
            .expect("map")
            .remove("outboundTrafficPolicy");
        assert_eq!(before, after, "every other key keeps its value");

        let back = set_mode_in_mesh_yaml(&updated, &OutboundPolicyMode::AllowAny).expect("sets");
        assert_eq!(
            setting_from_mesh_yaml(&back).expect("parses").cli_line(),
            "mesh wide outbound traffic policy is set to 'ALLOW_ANY'"
        );
        // Other fields of the policy object survive too.
        let with_proxy = "outboundTrafficPolicy:\n  egressProxy:\n    host: egress.example\n";
        let set =
            set_mode_in_mesh_yaml(with_proxy, &OutboundPolicyMode::RegistryOnly).expect("sets");
        assert!(set.contains("egressProxy"), "{set}");
        assert!(set_mode_in_mesh_yaml("", &OutboundPolicyMode::AllowAny)
            .expect("sets")
            .contains("ALLOW_ANY"));
        assert!(set_mode_in_mesh_yaml("- a\n", &OutboundPolicyMode::AllowAny).is_err());
    }

    #[test]
    fn requested_modes_accept_cli_words_and_istio_names() {
        assert_eq!(
            parse_requested_mode("restricted"),
            Ok(OutboundPolicyMode::RegistryOnly)
        );
        assert_eq!(
            parse_requested_mode("ALLOW_ANY"),
            Ok(OutboundPolicyMode::AllowAny)
        );
        let err = parse_requested_mode("open").expect_err("rejects");
        assert!(
            err.contains("'open'") && err.contains("restricted"),
            "{err}"
        );
    }

    #[test]
    fn istiod_reports_registry_only_as_an_empty_policy() {
        assert_eq!(
            mode_from_istiod_mesh(r#"{"outboundTrafficPolicy":{},"rootNamespace":"istio-system"}"#),
            Ok(OutboundPolicyMode::RegistryOnly)
        );
        assert_eq!(
            mode_from_istiod_mesh(r#"{"outboundTrafficPolicy":{"mode":"ALLOW_ANY"}}"#),
            Ok(OutboundPolicyMode::AllowAny)
        );
        assert!(mode_from_istiod_mesh("not json").is_err());
    }

    #[test]
    fn malformed_documents_name_the_field() {
        let err = setting_from_mesh_yaml("outboundTrafficPolicy: [1]\n").expect_err("rejects");
        assert_eq!(err.to_string(), "outboundTrafficPolicy must be a mapping");
        let err =
            setting_from_mesh_yaml("outboundTrafficPolicy:\n  mode: 3\n").expect_err("rejects");
        assert!(err
            .to_string()
            .starts_with("outboundTrafficPolicy.mode must be"));
        assert!(matches!(
            setting_from_mesh_yaml("a: [").expect_err("rejects"),
            MeshConfigError::Unreadable(_)
        ));
    }
}
