//! The rollout view: every namespace by how ready it is for REGISTRY_ONLY — restricted
//! already, ready (nothing it called in the window would be blocked), or not ready (what would
//! be blocked) — so namespaces are restricted one by one and the mesh-wide switch comes last.

use super::manifest::{judge_object, parse_manifest};
use super::overview::NamespaceInfo;
use super::service_entry::{view_from_spec, ServiceEntryView};
use super::sidecar::{effective_policy, EffectivePolicy, SidecarPolicy};
use super::traffic::{
    blocked_line, BlockedCall, Destination, EntryRef, TrafficStatus, Verdict, Window,
};
use super::visibility::{Reach, Scope, ScopeWarning};
use super::PolicySetting;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How ready a namespace is for REGISTRY_ONLY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Readiness {
    /// Its pods get REGISTRY_ONLY already.
    Restricted,
    /// Nothing it called in the window would be blocked.
    Ready,
    /// Some of what it called in the window would be blocked.
    NotReady,
    /// The traffic could not be read.
    Unknown,
}

impl Readiness {
    /// `restricted`, `ready`, `not ready`, `unknown`: the command line's words.
    pub fn word(self) -> &'static str {
        match self {
            Self::Restricted => "restricted",
            Self::Ready => "ready",
            Self::NotReady => "not ready",
            Self::Unknown => "unknown",
        }
    }
}

/// One namespace in the rollout view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutRow {
    /// The namespace.
    pub namespace: String,
    /// Whether its pods get sidecars (by label).
    pub injection: bool,
    /// Its effective policy and why.
    pub effective: EffectivePolicy,
    /// How ready it is.
    pub readiness: Readiness,
    /// Its calls that pass through today and would be blocked once it is restricted.
    pub blocked: Vec<BlockedCall>,
    /// Registered hosts it calls but cannot see, with the fix.
    pub warnings: Vec<ScopeWarning>,
}

impl RolloutRow {
    /// Distinct destinations that would be blocked.
    pub fn destinations(&self) -> Vec<String> {
        self.blocked
            .iter()
            .map(|b| format!("{}:{}", b.host.as_deref().unwrap_or("unknown host"), b.port))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// `<namespace> <restricted|ready|not ready|unknown> …`: the command line's line.
    pub fn line(&self, window: Window) -> String {
        let detail = match self.readiness {
            Readiness::Restricted => format!("({})", self.effective.reason()),
            Readiness::Ready => format!(
                "(no call to an unregistered host in the {})",
                window.label()
            ),
            Readiness::NotReady => {
                let destinations = self.destinations();
                format!(
                    "({} destination{} would be blocked: {})",
                    destinations.len(),
                    if destinations.len() == 1 { "" } else { "s" },
                    destinations.join(", ")
                )
            }
            Readiness::Unknown => "(the traffic could not be read)".to_string(),
        };
        let injection = if self.injection {
            ""
        } else {
            " [no sidecar injection]"
        };
        format!(
            "{} {} {detail}{injection}",
            self.namespace,
            self.readiness.word()
        )
    }
}

/// The rollout view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    /// The traffic window.
    pub window: Window,
    /// Whether the traffic could be read.
    pub status: TrafficStatus,
    /// The mesh-wide setting (`None` when it is hidden from the user).
    pub mesh: Option<PolicySetting>,
    /// Every namespace the user may see: restricted first, then ready, then not ready.
    pub rows: Vec<RolloutRow>,
    /// Every caller's calls to each destination, with their verdict under REGISTRY_ONLY.
    pub calls: Vec<PendingCall>,
    /// Wildcard entries that register called hosts nobody registered by name.
    pub wildcards: Vec<ScopeWarning>,
    /// Draft entries (not saved) the verdicts count as if they existed.
    #[serde(default)]
    pub drafts: Vec<EntryRef>,
}

/// One caller's calls to one destination in the window: what happens to them today, and what
/// would under REGISTRY_ONLY for the caller's namespace (from the entries it can see).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCall {
    /// The calls, as the preview lists them.
    pub call: BlockedCall,
    /// What happens to them today.
    pub today: Verdict,
    /// What would under REGISTRY_ONLY.
    pub after: Reach,
    /// Why a registered host is out of the caller's sight, and the fix.
    pub warning: Option<ScopeWarning>,
}

impl PendingCall {
    /// Whether REGISTRY_ONLY would block calls that get through today.
    pub fn newly_blocked(&self) -> bool {
        self.today != Verdict::Blocked && !self.after.allowed()
    }
}

/// Every caller's calls with their verdict under REGISTRY_ONLY. A call istiod routes to an
/// entry today stays registered (istiod's verdict wins over the computed one).
pub fn pending_calls(destinations: &[Destination], scope: &Scope) -> Vec<PendingCall> {
    let mut calls = Vec::new();
    for d in destinations {
        for c in &d.callers {
            let after = match (&d.verdict, d.entries.first()) {
                (Verdict::Registered, Some(entry)) => Reach::Registered {
                    entry: entry.clone(),
                },
                _ => scope.reach(&c.namespace, d.host.as_deref(), d.port),
            };
            let warning = d
                .host
                .as_deref()
                .and_then(|host| scope.warning(&c.namespace, host, &after));
            calls.push(PendingCall {
                call: BlockedCall::of(d, c),
                today: d.verdict.clone(),
                after,
                warning,
            });
        }
    }
    calls.sort_by(|a, b| {
        (&a.call.namespace, &a.call.workload)
            .cmp(&(&b.call.namespace, &b.call.workload))
            .then(b.call.calls.total_cmp(&a.call.calls))
    });
    calls
}

/// The calls from `namespace` that get through today and REGISTRY_ONLY would block (what
/// restricting it would block), the busiest first.
pub fn newly_blocked(calls: &[PendingCall], namespace: &str) -> Vec<BlockedCall> {
    let mut blocked: Vec<BlockedCall> = calls
        .iter()
        .filter(|c| c.call.namespace == namespace && c.newly_blocked())
        .map(|c| c.call.clone())
        .collect();
    blocked.sort_by(|a, b| b.calls.total_cmp(&a.calls));
    blocked
}

/// What the rollout view is made of, as read.
pub struct RolloutParts<'a> {
    /// The traffic window.
    pub window: Window,
    /// Whether the traffic could be read.
    pub status: TrafficStatus,
    /// The namespaces the user may see.
    pub namespaces: &'a [NamespaceInfo],
    /// The destinations called in the window.
    pub destinations: &'a [Destination],
    /// Every ServiceEntry.
    pub entries: &'a [&'a ServiceEntryView],
    /// Draft ServiceEntries, counted as if they existed.
    pub drafts: &'a [ServiceEntryView],
    /// Istio's root namespace.
    pub root_namespace: &'a str,
    /// The mesh-wide setting (`None` when it is hidden from the user).
    pub mesh: Option<&'a PolicySetting>,
    /// Every Sidecar.
    pub sidecars: &'a [SidecarPolicy],
}

impl Rollout {
    /// How many namespaces are in each state: (restricted, ready, not ready).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |r| self.rows.iter().filter(|row| row.readiness == r).count();
        (
            count(Readiness::Restricted),
            count(Readiness::Ready),
            count(Readiness::NotReady),
        )
    }

    /// Where the rollout stands, in one line.
    pub fn summary(&self) -> String {
        if let Some(notice) = self.status.notice() {
            return notice;
        }
        let (restricted, ready, not_ready) = self.counts();
        let next = if not_ready == 0 {
            "every namespace is ready: the mesh-wide switch blocks nothing seen".to_string()
        } else {
            "restrict the ready ones; the mesh-wide switch comes when none is left not ready"
                .to_string()
        };
        format!(
            "{restricted} restricted, {ready} ready, {not_ready} not ready in the {}: {next}",
            self.window.label()
        )
    }
}

/// Every namespace's readiness from the traffic in the window, under the policy each gets
/// today and the entries each can see.
pub fn rollout(parts: RolloutParts) -> Rollout {
    let known = parts.status.notice().is_none();
    let not_set = PolicySetting::NotSet;
    let setting = parts.mesh.unwrap_or(&not_set);
    let entries: Vec<&ServiceEntryView> =
        parts.entries.iter().copied().chain(parts.drafts).collect();
    let scope = Scope::new(&entries, parts.sidecars, parts.root_namespace);
    let calls = pending_calls(parts.destinations, &scope);
    let mut rows: Vec<RolloutRow> = parts
        .namespaces
        .iter()
        .map(|ns| {
            let effective =
                effective_policy(&ns.name, parts.root_namespace, setting, parts.sidecars);
            let blocked = newly_blocked(&calls, &ns.name);
            let mut warnings: Vec<ScopeWarning> = calls
                .iter()
                .filter(|c| c.call.namespace == ns.name)
                .filter_map(|c| c.warning.clone())
                .collect();
            warnings.dedup();
            let readiness = if !effective.mode.allows_unregistered_hosts() {
                Readiness::Restricted
            } else if !known {
                Readiness::Unknown
            } else if blocked.is_empty() {
                Readiness::Ready
            } else {
                Readiness::NotReady
            };
            RolloutRow {
                namespace: ns.name.clone(),
                injection: ns.injection,
                effective,
                readiness,
                blocked,
                warnings,
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.readiness, &a.namespace).cmp(&(b.readiness, &b.namespace)));
    let hosts: Vec<&str> = parts
        .destinations
        .iter()
        .filter_map(|d| d.host.as_deref())
        .collect();
    Rollout {
        window: parts.window,
        wildcards: scope.wildcards(&hosts),
        status: parts.status,
        mesh: parts.mesh.cloned(),
        rows,
        calls,
        drafts: parts
            .drafts
            .iter()
            .map(|d| EntryRef {
                namespace: d.namespace.clone(),
                name: d.name.clone(),
            })
            .collect(),
    }
}

/// Draft ServiceEntries (not saved) from a manifest, each judged as `mesh-egress validate`
/// judges it: the first invalid one, or another kind, refuses them all.
pub fn drafts(manifest: &str) -> Result<Vec<ServiceEntryView>, String> {
    let objects = parse_manifest(manifest).map_err(|e| e.to_string())?;
    objects
        .iter()
        .map(|object| {
            let judged = judge_object(object);
            if judged.kind != "ServiceEntry" {
                return Err(format!(
                    "{}: a draft is a ServiceEntry, not a {}",
                    judged.id, judged.kind
                ));
            }
            if judged.is_invalid() {
                return Err(judged.line());
            }
            let (namespace, name) = judged.id.split_once('/').unwrap_or(("default", ""));
            let spec = object.get("spec").unwrap_or(&serde_json::Value::Null);
            Ok(view_from_spec(namespace, name, None, 0, spec))
        })
        .collect()
}

/// The lines a not-ready namespace's calls print as (the command line's detail).
pub fn blocked_lines(row: &RolloutRow) -> Vec<String> {
    row.blocked.iter().map(blocked_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_judged_like_validate() {
        let ok = drafts(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ex, namespace: etl}\n\
             spec: {hosts: [example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}\n",
        )
        .expect("a draft");
        assert_eq!(
            (ok[0].namespace.as_str(), ok[0].name.as_str()),
            ("etl", "ex")
        );
        assert_eq!(ok[0].hosts, ["example.com"]);
        let bad = drafts(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ex}\nspec: {hosts: []}\n",
        )
        .expect_err("refused");
        assert!(bad.starts_with("default/ex: invalid: spec.hosts"), "{bad}");
        let other =
            drafts("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").expect_err("refused");
        assert!(other.contains("a draft is a ServiceEntry"), "{other}");
    }
}
