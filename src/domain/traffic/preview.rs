//! "What would REGISTRY_ONLY block?": the unregistered destinations called in the window, per
//! calling workload, in the namespaces where the switch changes the outcome.

use super::{count_label, CallProtocol, CallerTraffic, Destination, Verdict, Window};
use crate::domain::sidecar::{effective_policy, PolicyOrigin, SidecarPolicy};
use crate::domain::{OutboundPolicyMode, PolicySetting};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The Telemetry resource that puts host names (TLS SNI) and ports on Istio's TCP metrics, so
/// TLS/TCP destinations are no longer "unknown host".
pub const TELEMETRY_FOR_HOST_NAMES: &str = r#"apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: egress-host-names
  namespace: istio-system
spec:
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: ALL_METRICS
        mode: CLIENT
      tagOverrides:
        destination_port:
          value: "string(destination.port)"
        destination_sni:
          value: "has(connection.requested_server_name) ? connection.requested_server_name : 'unknown'"
"#;

/// One caller's calls to a destination that the switch would block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedCall {
    /// The caller's namespace.
    pub namespace: String,
    /// The caller's workload.
    pub workload: String,
    /// The host, when the metrics name it.
    pub host: Option<String>,
    /// The port ("?" when the metrics do not carry it).
    pub port: String,
    /// HTTP or TCP-level.
    pub protocol: CallProtocol,
    /// Calls in the window.
    pub calls: f64,
}

impl BlockedCall {
    /// One caller's calls to a destination.
    pub fn of(destination: &Destination, caller: &CallerTraffic) -> Self {
        Self {
            namespace: caller.namespace.clone(),
            workload: caller.workload.clone(),
            host: destination.host.clone(),
            port: destination.port_label(),
            protocol: destination.protocol,
            calls: caller.calls(),
        }
    }
}

/// What switching the mesh to REGISTRY_ONLY would change, from the traffic in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// The window.
    pub window: Window,
    /// Calls that pass through today and would be blocked, the busiest first.
    pub blocked: Vec<BlockedCall>,
    /// Namespaces with unregistered calls that the switch does not touch, and why (a Sidecar
    /// that sets its own policy).
    pub unaffected: Vec<(String, String)>,
    /// Namespaces already restricted by their own or the root Sidecar, and by which.
    pub already_restricted: Vec<(String, String)>,
}

impl Preview {
    /// Distinct destinations that would be blocked.
    pub fn destinations(&self) -> usize {
        self.blocked
            .iter()
            .map(|b| (&b.host, &b.port, b.protocol))
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Distinct workloads that would lose a destination.
    pub fn workloads(&self) -> usize {
        self.blocked
            .iter()
            .map(|b| (&b.namespace, &b.workload))
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Workloads calling TLS/TCP hosts the metrics do not name.
    pub fn unnamed(&self) -> usize {
        self.blocked.iter().filter(|b| b.host.is_none()).count()
    }

    /// The one summary line (the CLI's first line, the confirmation's count).
    pub fn summary(&self) -> String {
        if self.blocked.is_empty() {
            return format!(
                "REGISTRY_ONLY would block no call seen in the {}",
                self.window.label()
            );
        }
        let calls: f64 = self.blocked.iter().map(|b| b.calls).sum();
        format!(
            "REGISTRY_ONLY would block {} destination{} called by {} workload{} ({} calls in the {})",
            self.destinations(),
            plural(self.destinations()),
            self.workloads(),
            plural(self.workloads()),
            count_label(calls),
            self.window.label()
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `<caller namespace>/<workload> -> <host or "unknown host">:<port> (<protocol>), <calls>`.
pub fn blocked_line(call: &BlockedCall) -> String {
    format!(
        "{}/{} -> {}:{} ({}), {}",
        call.namespace,
        call.workload,
        call.host.as_deref().unwrap_or("unknown host"),
        call.port,
        call.protocol.label(),
        count_label(call.calls)
    )
}

/// What a mesh-wide REGISTRY_ONLY would block: every passthrough call whose namespace would
/// then be restricted (a Sidecar that sets ALLOW_ANY keeps its namespace open).
pub fn preview(
    window: Window,
    destinations: &[Destination],
    root_namespace: &str,
    sidecars: &[SidecarPolicy],
) -> Preview {
    let restricted = PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly);
    let mut blocked = Vec::new();
    let mut unaffected = BTreeMap::new();
    let mut already = BTreeMap::new();
    for d in destinations
        .iter()
        .filter(|d| d.verdict != Verdict::Registered)
    {
        for c in &d.callers {
            let after = effective_policy(&c.namespace, root_namespace, &restricted, sidecars);
            // NB: with the mesh allowing, the same Sidecar decides today what it decides after.
            if after.origin != PolicyOrigin::Mesh {
                let reason = after.reason();
                if after.mode == OutboundPolicyMode::RegistryOnly {
                    already.insert(c.namespace.clone(), reason);
                } else {
                    unaffected.insert(c.namespace.clone(), reason);
                }
                continue;
            }
            if d.verdict == Verdict::Passthrough {
                blocked.push(BlockedCall::of(d, c));
            }
        }
    }
    blocked.sort_by(|a, b| b.calls.total_cmp(&a.calls));
    Preview {
        window,
        blocked,
        unaffected: unaffected.into_iter().collect(),
        already_restricted: already.into_iter().collect(),
    }
}
