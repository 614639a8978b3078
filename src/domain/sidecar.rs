//! The outbound policy a namespace really gets. A Sidecar without workloadSelector overrides
//! the mesh for its namespace; one in the root namespace is the default for every namespace
//! that has none of its own. A Sidecar whose `outboundTrafficPolicy` has no mode means
//! REGISTRY_ONLY (protobuf's zero value) — a known trap, reported as such.

use super::policy::{OutboundPolicyMode, PolicySetting};
use serde::{Deserialize, Serialize};

/// What mesh-egress needs to know of one Sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidecarPolicy {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Whether it selects workloads (then it does not apply namespace-wide).
    pub has_workload_selector: bool,
    /// Its `outboundTrafficPolicy`; `NotSet` when it has none.
    pub setting: PolicySetting,
    /// Whether mesh-egress changed (or created) it and wrote down what was there before.
    #[serde(default)]
    pub recorded: bool,
    /// The hosts its `egress` listeners import (`namespace/host`); `None` without `egress`
    /// (everything is imported).
    #[serde(default)]
    pub egress_hosts: Option<Vec<String>>,
}

/// Where a namespace's effective policy comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyOrigin {
    /// The mesh-wide setting.
    Mesh,
    /// A Sidecar without workloadSelector in the namespace itself.
    NamespaceSidecar {
        /// The Sidecar's name.
        name: String,
    },
    /// The root namespace's Sidecar without workloadSelector.
    RootSidecar {
        /// The root namespace.
        namespace: String,
        /// The Sidecar's name.
        name: String,
    },
}

/// A namespace's effective outbound policy and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePolicy {
    /// The mode its pods get.
    pub mode: OutboundPolicyMode,
    /// Where it comes from.
    pub origin: PolicyOrigin,
    /// The setting found there (tells an explicit mode from the `{}` trap).
    pub setting: PolicySetting,
}

impl EffectivePolicy {
    /// "mesh", "namespace Sidecar NAME" or "root Sidecar NS/NAME", plus the trap when it applies.
    pub fn reason(&self) -> String {
        let origin = match &self.origin {
            PolicyOrigin::Mesh => "mesh".to_string(),
            PolicyOrigin::NamespaceSidecar { name } => format!("namespace Sidecar {name}"),
            PolicyOrigin::RootSidecar { namespace, name } => {
                format!("root Sidecar {namespace}/{name}")
            }
        };
        match self.setting {
            PolicySetting::ImplicitRegistryOnly if self.origin != PolicyOrigin::Mesh => {
                format!("{origin} (outboundTrafficPolicy without a mode means REGISTRY_ONLY)")
            }
            PolicySetting::NotSet if self.origin == PolicyOrigin::Mesh => {
                "mesh (not set: Istio's default)".to_string()
            }
            _ => origin,
        }
    }
}

/// The namespace-wide Sidecar of `namespace` that sets an outbound policy, if any. Of several,
/// the first by name (Istio warns about several and picks one; this choice is stable).
fn namespace_wide<'a>(sidecars: &'a [SidecarPolicy], namespace: &str) -> Option<&'a SidecarPolicy> {
    let mut candidates: Vec<_> = sidecars
        .iter()
        .filter(|s| s.namespace == namespace && !s.has_workload_selector)
        .collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    candidates.into_iter().next()
}

/// The effective policy of `namespace`.
pub fn effective_policy(
    namespace: &str,
    root_namespace: &str,
    mesh: &PolicySetting,
    sidecars: &[SidecarPolicy],
) -> EffectivePolicy {
    let mesh_policy = || EffectivePolicy {
        mode: mesh.effective_mode(),
        origin: PolicyOrigin::Mesh,
        setting: mesh.clone(),
    };
    let from_sidecar = |sidecar: &SidecarPolicy, origin: PolicyOrigin| match &sidecar.setting {
        // A Sidecar without outboundTrafficPolicy leaves the mesh's in force.
        PolicySetting::NotSet => mesh_policy(),
        setting => EffectivePolicy {
            mode: setting.effective_mode(),
            origin,
            setting: setting.clone(),
        },
    };
    if let Some(own) = namespace_wide(sidecars, namespace) {
        let origin = if namespace == root_namespace {
            PolicyOrigin::RootSidecar {
                namespace: namespace.to_string(),
                name: own.name.clone(),
            }
        } else {
            PolicyOrigin::NamespaceSidecar {
                name: own.name.clone(),
            }
        };
        return from_sidecar(own, origin);
    }
    if let Some(root) = namespace_wide(sidecars, root_namespace) {
        return from_sidecar(
            root,
            PolicyOrigin::RootSidecar {
                namespace: root_namespace.to_string(),
                name: root.name.clone(),
            },
        );
    }
    mesh_policy()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sidecar(ns: &str, name: &str, selector: bool, setting: PolicySetting) -> SidecarPolicy {
        SidecarPolicy {
            namespace: ns.into(),
            name: name.into(),
            has_workload_selector: selector,
            setting,
            recorded: false,
            egress_hosts: None,
        }
    }
    const REG: PolicySetting = PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly);
    const ANY: PolicySetting = PolicySetting::Explicit(OutboundPolicyMode::AllowAny);

    #[test]
    fn without_sidecars_the_mesh_decides() {
        let e = effective_policy("shop", "istio-system", &PolicySetting::NotSet, &[]);
        assert_eq!(e.mode, OutboundPolicyMode::AllowAny);
        assert_eq!(e.reason(), "mesh (not set: Istio's default)");
    }

    #[test]
    fn a_namespace_sidecar_overrides_the_mesh() {
        let sidecars = [sidecar("shop", "default", false, REG)];
        let e = effective_policy("shop", "istio-system", &ANY, &sidecars);
        assert_eq!(e.mode, OutboundPolicyMode::RegistryOnly);
        assert_eq!(e.reason(), "namespace Sidecar default");
        let other = effective_policy("other", "istio-system", &ANY, &sidecars);
        assert_eq!(other.mode, OutboundPolicyMode::AllowAny);
    }

    #[test]
    fn selecting_sidecars_do_not_apply_namespace_wide() {
        let sidecars = [sidecar("shop", "only-db", true, REG)];
        let e = effective_policy("shop", "istio-system", &ANY, &sidecars);
        assert_eq!(e.origin, PolicyOrigin::Mesh);
    }

    #[test]
    fn the_root_sidecar_is_the_default_and_a_namespace_one_wins_over_it() {
        let sidecars = [
            sidecar("istio-system", "default", false, REG),
            sidecar("open", "default", false, ANY),
        ];
        let e = effective_policy("shop", "istio-system", &ANY, &sidecars);
        assert_eq!(e.mode, OutboundPolicyMode::RegistryOnly);
        assert_eq!(e.reason(), "root Sidecar istio-system/default");
        let open = effective_policy("open", "istio-system", &PolicySetting::NotSet, &sidecars);
        assert_eq!(open.mode, OutboundPolicyMode::AllowAny);
    }

    #[test]
    fn an_empty_policy_object_is_the_registry_only_trap() {
        let sidecars = [sidecar(
            "shop",
            "default",
            false,
            PolicySetting::ImplicitRegistryOnly,
        )];
        let e = effective_policy("shop", "istio-system", &ANY, &sidecars);
        assert_eq!(e.mode, OutboundPolicyMode::RegistryOnly);
        assert!(e.reason().contains("without a mode means REGISTRY_ONLY"));
    }

    #[test]
    fn a_sidecar_without_a_policy_leaves_the_mesh_in_force() {
        let sidecars = [sidecar("shop", "default", false, PolicySetting::NotSet)];
        let e = effective_policy("shop", "istio-system", &REG, &sidecars);
        assert_eq!(e.mode, OutboundPolicyMode::RegistryOnly);
        assert_eq!(e.origin, PolicyOrigin::Mesh);
    }
}
