//! What the first page shows: the mesh-wide policy and every namespace with its number of
//! external services.

use super::access::Access;
use super::policy::{IstiodView, PolicyReport};
use super::sidecar::{effective_policy, EffectivePolicy, SidecarPolicy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A namespace as the cluster lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceInfo {
    /// Its name.
    pub name: String,
    /// Whether sidecar injection is on by label.
    pub injection: bool,
}

/// What one namespace registers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registered {
    /// How many ServiceEntries.
    pub service_entries: usize,
    /// Their hosts.
    pub hosts: BTreeSet<String>,
}

/// Everything the first page is made of, as read from the cluster, before it is cut to what
/// the user may see.
#[derive(Debug, Clone)]
pub struct OverviewParts {
    /// The API server's address.
    pub cluster: String,
    /// Istio's root namespace (its namespace-wide Sidecar is every namespace's default).
    pub root_namespace: String,
    /// The policy as the acting user may read it.
    pub policy: PolicyReport,
    /// Every namespace.
    pub namespaces: Vec<NamespaceInfo>,
    /// What each namespace registers (shared with the cache it comes from).
    pub registered: std::sync::Arc<BTreeMap<String, Registered>>,
    /// Every Sidecar's outbound policy.
    pub sidecars: Vec<SidecarPolicy>,
    /// Whether the acting user may switch the policy.
    pub policy_access: Access,
    /// What istiod uses, when known.
    pub istiod: Option<IstiodView>,
}

/// The first page for a user who may see the namespaces `visible` (`None`: all of them).
/// Counts and the impact of a switch are computed over what the user sees, nothing else.
pub fn assemble(parts: OverviewParts, visible: Option<&BTreeSet<String>>) -> Overview {
    let shown = |name: &str| visible.is_none_or(|v| v.contains(name));
    let mesh = match &parts.policy {
        PolicyReport::Hidden { .. } => None,
        report => Some(report.setting()),
    };
    // NB: a hash set: thousands of hosts per request, the order does not matter.
    let mut hosts: HashSet<&str> =
        HashSet::with_capacity(parts.registered.values().map(|r| r.hosts.len()).sum());
    let mut namespaces: Vec<NamespaceSummary> = parts
        .namespaces
        .into_iter()
        .filter(|ns| shown(&ns.name))
        .map(|ns| {
            let registered = parts.registered.get(&ns.name);
            hosts.extend(
                registered
                    .iter()
                    .flat_map(|r| r.hosts.iter().map(String::as_str)),
            );
            NamespaceSummary {
                service_entries: registered.map_or(0, |r| r.service_entries),
                effective: mesh.as_ref().map(|mesh| {
                    effective_policy(&ns.name, &parts.root_namespace, mesh, &parts.sidecars)
                }),
                injection: ns.injection,
                name: ns.name,
            }
        })
        .collect();
    namespaces.sort_by(|a, b| a.name.cmp(&b.name));
    Overview {
        cluster: parts.cluster,
        policy: parts.policy,
        namespaces,
        registered_hosts: hosts.len(),
        policy_access: parts.policy_access,
        istiod: parts.istiod,
    }
}

/// One namespace as the overview lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceSummary {
    /// The namespace's name.
    pub name: String,
    /// How many ServiceEntries it holds.
    pub service_entries: usize,
    /// Whether sidecar injection is enabled by label (`istio-injection=enabled` or an
    /// `istio.io/rev` label).
    pub injection: bool,
    /// The outbound policy its pods really get, and why; unknown when the user may not read
    /// the mesh-wide policy.
    pub effective: Option<EffectivePolicy>,
}

/// The first page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// The cluster the data came from (its API server address).
    pub cluster: String,
    /// The mesh-wide outbound traffic policy.
    pub policy: PolicyReport,
    /// Every namespace, sorted by name.
    pub namespaces: Vec<NamespaceSummary>,
    /// Distinct hosts registered by the ServiceEntries of the listed namespaces: what pods
    /// still reach under REGISTRY_ONLY.
    pub registered_hosts: usize,
    /// Whether the acting user may switch the policy (and why not).
    pub policy_access: super::access::Access,
    /// What istiod is using, when the dashboard knows where to ask.
    pub istiod: Option<super::policy::IstiodView>,
}

impl Overview {
    /// The total number of ServiceEntries, and in how many namespaces they are.
    pub fn registered_totals(&self) -> (usize, usize) {
        let with_entries = self.namespaces.iter().filter(|n| n.service_entries > 0);
        (
            self.namespaces.iter().map(|n| n.service_entries).sum(),
            with_entries.count(),
        )
    }
}

/// Keeps the namespaces whose name contains `filter` (case-insensitive); all when it is empty.
pub fn filter_namespaces<'a>(
    namespaces: &'a [NamespaceSummary],
    filter: &str,
) -> Vec<&'a NamespaceSummary> {
    let needle = filter.trim().to_lowercase();
    namespaces
        .iter()
        .filter(|n| needle.is_empty() || n.name.to_lowercase().contains(&needle))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(name: &str, service_entries: usize) -> NamespaceSummary {
        NamespaceSummary {
            name: name.into(),
            service_entries,
            injection: false,
            effective: Some(crate::domain::sidecar::effective_policy(
                name,
                "istio-system",
                &crate::domain::PolicySetting::NotSet,
                &[],
            )),
        }
    }

    #[test]
    fn filter_matches_part_of_the_name_in_any_case() {
        let all = vec![ns("smm-demo", 1), ns("payments", 2), ns("istio-system", 0)];
        let names: Vec<_> = filter_namespaces(&all, " SMM ")
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, vec!["smm-demo"]);
        assert_eq!(filter_namespaces(&all, "").len(), 3);
        assert!(filter_namespaces(&all, "nothing").is_empty());
    }

    #[test]
    fn totals_count_entries_and_namespaces_that_have_them() {
        let overview = Overview {
            cluster: "https://127.0.0.1:6443".into(),
            policy: PolicyReport::NoSource { looked_for: vec![] },
            namespaces: vec![ns("a", 2), ns("b", 0), ns("c", 3)],
            registered_hosts: 7,
            policy_access: crate::domain::access::Access::Allowed,
            istiod: None,
        };
        assert_eq!(overview.registered_totals(), (5, 2));
    }

    fn parts(policy: PolicyReport) -> OverviewParts {
        let registered = |hosts: &[&str]| Registered {
            service_entries: hosts.len(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        };
        OverviewParts {
            cluster: "https://127.0.0.1:6443".into(),
            root_namespace: "istio-system".into(),
            policy,
            namespaces: ["mine", "theirs"]
                .iter()
                .map(|n| NamespaceInfo {
                    name: n.to_string(),
                    injection: true,
                })
                .collect(),
            registered: std::sync::Arc::new(BTreeMap::from([
                ("mine".to_string(), registered(&["a.example.com"])),
                (
                    "theirs".to_string(),
                    registered(&["b.example.com", "c.example.com"]),
                ),
            ])),
            sidecars: vec![],
            policy_access: Access::Allowed,
            istiod: None,
        }
    }

    #[test]
    fn the_impact_counts_only_what_the_user_may_see() {
        let visible: BTreeSet<String> = ["mine".to_string()].into();
        let overview = assemble(
            parts(PolicyReport::NoSource { looked_for: vec![] }),
            Some(&visible),
        );
        assert_eq!(overview.namespaces.len(), 1);
        assert_eq!(overview.registered_totals(), (1, 1));
        assert_eq!(
            overview.registered_hosts, 1,
            "hosts of hidden namespaces are not counted"
        );
        let everything = assemble(parts(PolicyReport::NoSource { looked_for: vec![] }), None);
        assert_eq!(everything.registered_hosts, 3);
    }

    #[test]
    fn a_hidden_policy_leaves_every_effective_policy_unknown() {
        let overview = assemble(
            parts(PolicyReport::Hidden {
                reason: "you may not get configmaps".into(),
            }),
            None,
        );
        assert!(overview.namespaces.iter().all(|n| n.effective.is_none()));
    }
}
