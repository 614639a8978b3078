//! What a namespace can see of the registered hosts: a ServiceEntry counts for a caller only if
//! its `exportTo` includes the caller's namespace and the caller's Sidecar (its namespace's, or
//! else the root namespace's) imports it in `egress.hosts`. A host registered where the caller
//! cannot see it is blocked under REGISTRY_ONLY all the same (istio#36712, #42698, #26609).

use super::service_entry::ServiceEntryView;
use super::sidecar::SidecarPolicy;
use super::traffic::EntryRef;
use serde::{Deserialize, Serialize};

/// Whether `entry` is exported to `namespace` (an empty `exportTo` is every namespace, Istio's
/// default).
pub fn exported_to(entry: &ServiceEntryView, namespace: &str) -> bool {
    entry.export_to.is_empty()
        || entry
            .export_to
            .iter()
            .any(|e| e == "*" || e == namespace || (e == "." && entry.namespace == namespace))
}

/// Whether a host pattern (`*`, `*.example.com`, `api.example.com`) covers `host` (itself a name
/// or a wildcard), case-insensitively.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    pattern == "*"
        || pattern == host
        || pattern
            .strip_prefix('*')
            .is_some_and(|suffix| suffix.starts_with('.') && host.ends_with(suffix))
}

/// Whether Sidecar `egress.hosts` patterns (`namespace/host`) import a host registered in
/// `entry_namespace`, for a workload in `caller`. `.` is the workload's namespace, `*` any,
/// `~` none.
pub fn imported(patterns: &[String], entry_namespace: &str, host: &str, caller: &str) -> bool {
    patterns.iter().any(|p| {
        let Some((namespace, pattern)) = p.split_once('/') else {
            return false;
        };
        let namespace_ok = namespace == "*"
            || namespace == entry_namespace
            || (namespace == "." && entry_namespace == caller);
        namespace_ok && host_matches(pattern, host)
    })
}

/// The Sidecar that decides what `namespace` imports: its own namespace-wide one, else the
/// root namespace's (`None`: no Sidecar, everything is imported).
pub fn deciding_sidecar<'a>(
    sidecars: &'a [SidecarPolicy],
    namespace: &str,
    root_namespace: &str,
) -> Option<&'a SidecarPolicy> {
    let wide = |ns: &str| {
        sidecars
            .iter()
            .filter(|s| s.namespace == ns && !s.has_workload_selector)
            .min_by(|a, b| a.name.cmp(&b.name))
    };
    wide(namespace).or_else(|| wide(root_namespace))
}

/// Why a registered host is out of a caller's sight, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hidden {
    /// The entry's `exportTo` leaves the caller's namespace out.
    NotExported,
    /// The caller's Sidecar does not import it.
    NotImported {
        /// The Sidecar, `namespace/name`.
        sidecar: String,
    },
}

/// What a caller's namespace can reach of one host under REGISTRY_ONLY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    /// An entry the namespace can see registers it.
    Registered {
        /// The entry.
        entry: EntryRef,
    },
    /// Entries register it, but the namespace cannot see them.
    Hidden {
        /// The first such entry.
        entry: EntryRef,
        /// Why.
        why: Hidden,
    },
    /// No entry registers it.
    Unregistered,
    /// The host is not known (TLS/TCP that Istio's standard metrics do not name).
    Unknown,
}

impl Reach {
    /// Whether a call gets through under REGISTRY_ONLY.
    pub fn allowed(&self) -> bool {
        matches!(self, Self::Registered { .. })
    }

    /// "allowed (NS/NAME)", "blocked: not registered" and the like.
    pub fn label(&self) -> String {
        match self {
            Self::Registered { entry } => format!("allowed ({}/{})", entry.namespace, entry.name),
            Self::Hidden { entry, why } => match why {
                Hidden::NotExported => format!(
                    "blocked: registered by {}/{}, which is not exported here",
                    entry.namespace, entry.name
                ),
                Hidden::NotImported { sidecar } => format!(
                    "blocked: registered by {}/{}, which Sidecar {sidecar} does not import",
                    entry.namespace, entry.name
                ),
            },
            Self::Unregistered => "blocked: not registered".to_string(),
            Self::Unknown => "blocked: the host is not known, so no entry can match it".to_string(),
        }
    }
}

/// One scope warning: a registered host some caller cannot see, or a wildcard entry that lets
/// unregistered hosts through, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeWarning {
    /// A stable lint code (`MEG005`…`MEG007`).
    pub code: String,
    /// The namespace whose callers are concerned (the entry's, for a wildcard).
    pub namespace: String,
    /// What is wrong and how to fix it, in words.
    pub message: String,
}

/// A registered host out of sight of a namespace that calls it.
pub const NOT_EXPORTED: &str = "MEG005";
/// A registered host a namespace's Sidecar does not import.
pub const NOT_IMPORTED: &str = "MEG006";
/// A wildcard entry that registers hosts nobody registered one by one.
pub const WILDCARD: &str = "MEG007";

/// The registered hosts and the Sidecars that decide what each namespace sees.
pub struct Scope<'a> {
    entries: &'a [&'a ServiceEntryView],
    sidecars: &'a [SidecarPolicy],
    root_namespace: &'a str,
}

impl<'a> Scope<'a> {
    /// A scope over these entries and Sidecars.
    pub fn new(
        entries: &'a [&'a ServiceEntryView],
        sidecars: &'a [SidecarPolicy],
        root_namespace: &'a str,
    ) -> Self {
        Self {
            entries,
            sidecars,
            root_namespace,
        }
    }

    /// What `namespace` reaches of `host` (on `port`, when known) under REGISTRY_ONLY.
    pub fn reach(&self, namespace: &str, host: Option<&str>, port: Option<u16>) -> Reach {
        let Some(host) = host else {
            return Reach::Unknown;
        };
        let sidecar = deciding_sidecar(self.sidecars, namespace, self.root_namespace);
        let mut hidden = None;
        for entry in self.entries.iter().copied() {
            let Some(registered) = entry.hosts.iter().find(|h| host_matches(h, host)) else {
                continue;
            };
            if port.is_some_and(|port| !entry.ports.iter().any(|p| p.number == i64::from(port))) {
                continue;
            }
            let entry_ref = EntryRef {
                namespace: entry.namespace.clone(),
                name: entry.name.clone(),
            };
            let why = if !exported_to(entry, namespace) {
                Some(Hidden::NotExported)
            } else {
                match sidecar.and_then(|s| s.egress_hosts.as_ref().map(|h| (s, h))) {
                    Some((s, hosts))
                        if !imported(hosts, &entry.namespace, registered, namespace) =>
                    {
                        Some(Hidden::NotImported {
                            sidecar: format!("{}/{}", s.namespace, s.name),
                        })
                    }
                    _ => None,
                }
            };
            match why {
                None => return Reach::Registered { entry: entry_ref },
                Some(why) => {
                    hidden.get_or_insert(Reach::Hidden {
                        entry: entry_ref,
                        why,
                    });
                }
            }
        }
        hidden.unwrap_or(Reach::Unregistered)
    }

    /// The warning for a caller in `namespace` that cannot see what registers `host`.
    pub fn warning(&self, namespace: &str, host: &str, reach: &Reach) -> Option<ScopeWarning> {
        let Reach::Hidden { entry, why } = reach else {
            return None;
        };
        let (code, message) = match why {
            Hidden::NotExported => (
                NOT_EXPORTED,
                format!(
                    "{}/{} registers {host}, but its exportTo leaves out {namespace}, which calls \
                     it: add \"{namespace}\" to its exportTo",
                    entry.namespace, entry.name
                ),
            ),
            Hidden::NotImported { sidecar } => (
                NOT_IMPORTED,
                format!(
                    "Sidecar {sidecar} does not import {host} (registered by {}/{}), which \
                     {namespace} calls: add \"{}/{host}\" to its egress hosts",
                    entry.namespace, entry.name, entry.namespace
                ),
            ),
        };
        Some(ScopeWarning {
            code: code.to_string(),
            namespace: namespace.to_string(),
            message,
        })
    }

    /// Wildcard entries and the called `hosts` they register that no entry registers by name.
    pub fn wildcards(&self, hosts: &[&str]) -> Vec<ScopeWarning> {
        let named = |host: &str| {
            self.entries
                .iter()
                .any(|e| e.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
        };
        let mut warnings = Vec::new();
        for entry in self.entries.iter().copied() {
            for pattern in entry.hosts.iter().filter(|h| h.starts_with('*')) {
                let mut covered: Vec<&str> = hosts
                    .iter()
                    .copied()
                    .filter(|h| !h.starts_with('*') && host_matches(pattern, h) && !named(h))
                    .collect();
                covered.sort_unstable();
                covered.dedup();
                if covered.is_empty() {
                    continue;
                }
                warnings.push(ScopeWarning {
                    code: WILDCARD.to_string(),
                    namespace: entry.namespace.clone(),
                    message: format!(
                        "{}/{} registers {pattern}: calls to {} pass as registered although no \
                         entry names them",
                        entry.namespace,
                        entry.name,
                        covered.join(", ")
                    ),
                });
            }
        }
        warnings
    }
}

#[cfg(test)]
mod tests;
