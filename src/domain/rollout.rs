//! The rollout view: every namespace by how ready it is for REGISTRY_ONLY — restricted
//! already, ready (nothing it called in the window would be blocked), or not ready (what would
//! be blocked) — so namespaces are restricted one by one and the mesh-wide switch comes last.

use super::overview::NamespaceInfo;
use super::sidecar::{effective_policy, EffectivePolicy, SidecarPolicy};
use super::traffic::{
    blocked_line, passthrough_from, BlockedCall, Destination, TrafficStatus, Window,
};
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

/// Every namespace's readiness from the traffic in the window (`destinations`), under the
/// policy each gets today.
pub fn rollout(
    window: Window,
    status: TrafficStatus,
    namespaces: &[NamespaceInfo],
    destinations: &[Destination],
    root_namespace: &str,
    mesh: Option<&PolicySetting>,
    sidecars: &[SidecarPolicy],
) -> Rollout {
    let known = status.notice().is_none();
    let not_set = PolicySetting::NotSet;
    let setting = mesh.unwrap_or(&not_set);
    let mut rows: Vec<RolloutRow> = namespaces
        .iter()
        .map(|ns| {
            let effective = effective_policy(&ns.name, root_namespace, setting, sidecars);
            let blocked = passthrough_from(destinations, &ns.name);
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
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.readiness, &a.namespace).cmp(&(b.readiness, &b.namespace)));
    Rollout {
        window,
        status,
        mesh: mesh.cloned(),
        rows,
    }
}

/// The lines a not-ready namespace's calls print as (the command line's detail).
pub fn blocked_lines(row: &RolloutRow) -> Vec<String> {
    row.blocked.iter().map(blocked_line).collect()
}
