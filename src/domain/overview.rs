//! What the first page shows: the mesh-wide policy and every namespace with its number of
//! external services.

use super::policy::PolicyReport;
use super::sidecar::EffectivePolicy;
use serde::{Deserialize, Serialize};

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
    /// The outbound policy its pods really get, and why.
    pub effective: EffectivePolicy,
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
    /// Distinct hosts registered by all ServiceEntries: what pods still reach under
    /// REGISTRY_ONLY.
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
            effective: crate::domain::sidecar::effective_policy(
                name,
                "istio-system",
                &crate::domain::PolicySetting::NotSet,
                &[],
            ),
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
}
