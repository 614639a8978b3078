//! Outgoing calls, as Istio's client sidecars report them (`reporter="source"`): which
//! workload calls which host outside the mesh, and what happens to the call today — sent to a
//! registered ServiceEntry host, passed through (unregistered, allowed under ALLOW_ANY) or
//! blocked (BlackHoleCluster). Pure: the rows come in from Prometheus, the ServiceEntries from
//! the cluster; this module joins them.

mod gateway;
mod preview;
mod report;
mod select;

pub use gateway::{through_gateways, GatewayRoute};
pub use preview::{blocked_line, preview, BlockedCall, Preview, TELEMETRY_FOR_HOST_NAMES};
pub use report::{assemble, Row, RowKind};
pub use select::{bytes_label, count_label, select, SortBy};

use serde::{Deserialize, Serialize};

/// The window the user looks at.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Window {
    /// The last hour.
    #[default]
    Hour,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 3] = [Window::Hour, Window::Day, Window::Week];

    /// The PromQL range (`1h`, `24h`, `7d`); also how it is written in URLs.
    pub fn range(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
            Window::Week => "7d",
        }
    }

    /// Its length in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            Window::Hour => 3_600,
            Window::Day => 86_400,
            Window::Week => 604_800,
        }
    }

    /// "last hour", "last 24 hours", "last 7 days".
    pub fn label(self) -> &'static str {
        match self {
            Window::Hour => "last hour",
            Window::Day => "last 24 hours",
            Window::Week => "last 7 days",
        }
    }

    /// Reads `1h`, `24h` or `7d` (anything else, or nothing: the last hour).
    pub fn parse(text: &str) -> Window {
        Window::ALL
            .into_iter()
            .find(|w| w.range() == text.trim())
            .unwrap_or_default()
    }
}

/// What happens to calls to a destination today.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Verdict {
    /// The host is registered: the calls went to its ServiceEntry's cluster.
    Registered,
    /// Unregistered and allowed (ALLOW_ANY): Istio's PassthroughCluster.
    Passthrough,
    /// Unregistered and refused (REGISTRY_ONLY, mesh-wide or by a Sidecar): BlackHoleCluster.
    Blocked,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Verdict; 3] = [Verdict::Registered, Verdict::Passthrough, Verdict::Blocked];

    /// Reads `registered`, `passthrough` or `blocked` (anything else: none).
    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.label() == text.trim())
    }

    /// The word the pages show.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Registered => "registered",
            Verdict::Passthrough => "passthrough",
            Verdict::Blocked => "blocked",
        }
    }
}

/// HTTP (requests, with response codes) or TCP-level (connections and bytes: TCP, TLS, HTTPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CallProtocol {
    /// Plain HTTP: Istio sees each request and its Host header.
    Http,
    /// TCP, TLS or HTTPS: Istio sees connections and bytes.
    Tcp,
}

impl CallProtocol {
    /// "HTTP" or "TCP".
    pub fn label(self) -> &'static str {
        match self {
            CallProtocol::Http => "HTTP",
            CallProtocol::Tcp => "TCP",
        }
    }
}

/// One calling workload's traffic to a destination in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallerTraffic {
    /// The caller's namespace.
    pub namespace: String,
    /// The caller's workload.
    pub workload: String,
    /// HTTP requests (0 for TCP).
    pub requests: f64,
    /// HTTP requests answered 5xx (a blocked HTTP call answers 502).
    pub errors: f64,
    /// TCP connections opened (0 for HTTP).
    pub connections: f64,
    /// Bytes the caller sent (TCP).
    pub sent_bytes: f64,
    /// Bytes the caller received (TCP).
    pub received_bytes: f64,
}

impl CallerTraffic {
    /// `namespace/workload`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.namespace, self.workload)
    }

    /// Requests plus connections: the number of calls.
    pub fn calls(&self) -> f64 {
        self.requests + self.connections
    }

    fn add(&mut self, other: &CallerTraffic) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.connections += other.connections;
        self.sent_bytes += other.sent_bytes;
        self.received_bytes += other.received_bytes;
    }
}

/// A ServiceEntry a registered destination belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// An external destination seen in the window, with who called it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    /// The host called: the ServiceEntry host, or the Host header of plain HTTP; `None` for
    /// TLS/TCP to an unregistered host, which Istio's standard metrics do not name.
    pub host: Option<String>,
    /// The port, when the metrics carry it (the Host header's port, or a `destination_port`
    /// label added with the Telemetry API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// HTTP or TCP-level.
    pub protocol: CallProtocol,
    /// What happens to the calls today.
    pub verdict: Verdict,
    /// The ServiceEntries that register the host (for `Registered`).
    pub entries: Vec<EntryRef>,
    /// A caveat the page shows beside the verdict (Istio reports it in a way that can mislead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The egress gateway (`namespace/name`) the calls leave through, when routed through one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Every caller, the busiest first.
    pub callers: Vec<CallerTraffic>,
}

impl Destination {
    /// The host, or "unknown host" (TLS/TCP without a host name in the metrics).
    pub fn host_label(&self) -> String {
        self.host.clone().unwrap_or_else(|| "unknown host".into())
    }

    /// The port, or the protocol's default for HTTP (80), or "?".
    pub fn port_label(&self) -> String {
        match (self.port, self.protocol) {
            (Some(port), _) => port.to_string(),
            (None, CallProtocol::Http) => "80".into(),
            (None, CallProtocol::Tcp) => "?".into(),
        }
    }

    /// Calls from every caller.
    pub fn calls(&self) -> f64 {
        self.callers.iter().map(CallerTraffic::calls).sum()
    }

    /// The share of HTTP requests answered 5xx (0 for TCP).
    pub fn error_rate(&self) -> f64 {
        let requests: f64 = self.callers.iter().map(|c| c.requests).sum();
        let errors: f64 = self.callers.iter().map(|c| c.errors).sum();
        if requests > 0.0 {
            errors / requests
        } else {
            0.0
        }
    }

    /// Bytes both ways (TCP).
    pub fn bytes(&self) -> f64 {
        self.callers
            .iter()
            .map(|c| c.sent_bytes + c.received_bytes)
            .sum()
    }

    /// Whether `query` (case-insensitive) is in the host, a caller or the verdict.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        q.is_empty()
            || self.host_label().to_lowercase().contains(&q)
            || self.verdict.label() == q
            || self
                .callers
                .iter()
                .any(|c| c.name().to_lowercase().contains(&q))
    }

    /// The create form's address for registering this host, pre-filled from the traffic, in
    /// the namespace of the busiest caller (`None` without a host name).
    pub fn allow_link(&self) -> Option<String> {
        let host = self.host.as_ref()?;
        let namespace = self
            .callers
            .first()
            .map(|c| c.namespace.as_str())
            .unwrap_or("");
        let (port, protocol) = match (self.port, self.protocol) {
            (Some(443), CallProtocol::Tcp) | (None, CallProtocol::Tcp) => (443, "TLS"),
            (Some(port), CallProtocol::Tcp) => (port, "TCP"),
            (port, CallProtocol::Http) => (port.unwrap_or(80), "HTTP"),
        };
        Some(format!(
            "/new?host={}&port={port}&protocol={protocol}&namespace={}",
            crate::domain::url_encode(host),
            crate::domain::url_encode(namespace)
        ))
    }
}

/// Whether traffic could be read, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrafficStatus {
    /// Read from Prometheus `seconds_ago` seconds ago.
    Fresh {
        /// The Prometheus address.
        source: String,
        /// How old the answer is.
        seconds_ago: u64,
    },
    /// The server was started without a Prometheus.
    NotConfigured,
    /// Asked, no answer yet (the page renders without waiting).
    Loading {
        /// The Prometheus address.
        source: String,
    },
    /// Prometheus failed; the words say how.
    Unavailable {
        /// The Prometheus address.
        source: String,
        /// What went wrong, in words.
        reason: String,
    },
}

impl TrafficStatus {
    /// The one line a page shows when there is no traffic to show (`None` when fresh).
    pub fn notice(&self) -> Option<String> {
        match self {
            TrafficStatus::Fresh { .. } => None,
            TrafficStatus::NotConfigured => Some(
                "Traffic is not shown: no Prometheus is configured. Pass --prometheus URL (or set \
                 PROMETHEUS_URL) to the Prometheus that scrapes Istio's sidecars."
                    .into(),
            ),
            TrafficStatus::Loading { source } => Some(format!(
                "Traffic is loading from Prometheus at {source}; reload in a moment."
            )),
            TrafficStatus::Unavailable { source, reason } => Some(format!(
                "Traffic is not shown: asking Prometheus at {source} failed ({reason})."
            )),
        }
    }
}

/// Every external destination seen in a window, for the pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficReport {
    /// The window.
    pub window: Window,
    /// Whether the data is there.
    pub status: TrafficStatus,
    /// Every destination, the busiest first.
    pub destinations: Vec<Destination>,
}

impl TrafficReport {
    /// A report without data, saying why.
    pub fn empty(window: Window, status: TrafficStatus) -> Self {
        Self {
            window,
            status,
            destinations: Vec::new(),
        }
    }

    /// Keeps only the callers in `visible` namespaces (and destinations left with a caller).
    pub fn visible_to(mut self, visible: &std::collections::BTreeSet<String>) -> Self {
        for d in &mut self.destinations {
            d.callers.retain(|c| visible.contains(&c.namespace));
        }
        self.destinations.retain(|d| !d.callers.is_empty());
        self
    }

    /// Calls to the hosts of one ServiceEntry, per caller.
    pub fn for_entry(&self, namespace: &str, name: &str) -> Vec<&Destination> {
        self.destinations
            .iter()
            .filter(|d| {
                d.entries
                    .iter()
                    .any(|e| e.namespace == namespace && e.name == name)
            })
            .collect()
    }

    /// Calls (all callers) to the hosts of one ServiceEntry.
    pub fn calls_to_entry(&self, namespace: &str, name: &str) -> f64 {
        self.for_entry(namespace, name)
            .iter()
            .map(|d| d.calls())
            .sum()
    }

    /// Unregistered destinations (passthrough or blocked) called from `namespace`.
    pub fn unregistered_from(&self, namespace: &str) -> Vec<Destination> {
        self.destinations
            .iter()
            .filter(|d| d.verdict != Verdict::Registered)
            .filter_map(|d| {
                let callers: Vec<_> = d
                    .callers
                    .iter()
                    .filter(|c| c.namespace == namespace)
                    .cloned()
                    .collect();
                (!callers.is_empty()).then(|| Destination {
                    callers,
                    ..d.clone()
                })
            })
            .collect()
    }
}

/// One time series of a rate, for a small chart: (seconds since the window's start, per
/// second).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateSeries {
    /// The window.
    pub window: Window,
    /// The points, oldest first.
    pub points: Vec<(f64, f64)>,
}

/// The traffic page: the destinations that match the page's search and filter, sorted, and
/// how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficPage {
    /// The report, cut to the destinations shown.
    pub report: TrafficReport,
    /// Destinations in the window before the search and filter.
    pub total: usize,
}

/// Calls to one ServiceEntry's hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryTraffic {
    /// Whether the data is there.
    pub status: TrafficStatus,
    /// The window.
    pub window: Window,
    /// Each host of the entry that was called, with its callers.
    pub destinations: Vec<Destination>,
    /// Calls per second over the window (`None` when Prometheus gave none).
    pub rate: Option<RateSeries>,
}

/// Calls per ServiceEntry of a namespace (or of all), and its calls to unregistered hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceTraffic {
    /// Whether the data is there.
    pub status: TrafficStatus,
    /// The window.
    pub window: Window,
    /// Calls in the window per entry, by `namespace/name`.
    pub calls_per_entry: std::collections::BTreeMap<String, f64>,
    /// The namespace's calls to unregistered hosts (passthrough or blocked).
    pub unregistered: Vec<Destination>,
}

/// What a switch to REGISTRY_ONLY would block, and whether traffic could be read at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyPreview {
    /// Whether the data is there.
    pub status: TrafficStatus,
    /// What would be blocked.
    pub preview: Preview,
}

#[cfg(test)]
mod tests;
