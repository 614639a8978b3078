//! Prometheus metrics with `prometheus-client`: requests by route and status, latencies,
//! cache size, API server errors, policy switches. One registry per server, handed to the
//! parts that count (router, service layer, watch) rather than kept in a global.

use crate::domain::LiveStatus;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s answer.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// An answered request, by route pattern (bounded values), method and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// A route pattern.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// A policy mode switched to.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: String,
}

/// The server's metrics and the registry that exposes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    apiserver_errors: Counter,
    policy_switches: Family<ModeLabels, Counter>,
    cached_service_entries: Gauge,
    watch_connected: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(BUCKETS.iter().copied())
        });
        let apiserver_errors = Counter::default();
        let policy_switches = Family::<ModeLabels, Counter>::default();
        let cached_service_entries = Gauge::default();
        let watch_connected = Gauge::default();
        let mut registry = Registry::default();
        registry.register(
            "mesh_egress_http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "mesh_egress_http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        registry.register(
            "mesh_egress_apiserver_errors",
            "Requests to the Kubernetes API server that it failed or did not answer",
            apiserver_errors.clone(),
        );
        registry.register(
            "mesh_egress_policy_switches",
            "Switches of the mesh-wide outbound traffic policy, by new mode",
            policy_switches.clone(),
        );
        registry.register(
            "mesh_egress_cached_service_entries",
            "ServiceEntries in the watch cache",
            cached_service_entries.clone(),
        );
        registry.register(
            "mesh_egress_watch_connected",
            "Whether the ServiceEntry watch is connected (1) or not (0)",
            watch_connected.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            apiserver_errors,
            policy_switches,
            cached_service_entries,
            watch_connected,
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// Counts a failed request to the API server.
    pub fn apiserver_error(&self) {
        self.apiserver_errors.inc();
    }

    /// Counts a switch of the mesh-wide policy.
    pub fn policy_switch(&self, mode: &str) {
        self.policy_switches
            .get_or_create(&ModeLabels {
                mode: mode.to_string(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric, with the cache's state as it is now.
    pub fn render(
        &self,
        cached_service_entries: Option<usize>,
        live: Option<&LiveStatus>,
    ) -> String {
        let cached = i64::try_from(cached_service_entries.unwrap_or(0)).unwrap_or(i64::MAX);
        self.cached_service_entries.set(cached);
        self.watch_connected
            .set(i64::from(live.is_some_and(|l| l.connected)));
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "could not encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.observe_request("/api/{*fn_name}", "POST", 200, 0.02);
        m.observe_request("/api/{*fn_name}", "POST", 200, 0.3);
        m.policy_switch("REGISTRY_ONLY");
        m.apiserver_error();
        let text = m.render(Some(4), None);
        assert!(text.contains(
            "mesh_egress_http_requests_total{route=\"/api/{*fn_name}\",method=\"POST\",status=\"200\"} 2"
        ), "{text}");
        assert!(text.contains(
            "mesh_egress_http_request_duration_seconds_bucket{le=\"0.025\",route=\"/api/{*fn_name}\"} 1"
        ) || text.contains(
            "mesh_egress_http_request_duration_seconds_bucket{route=\"/api/{*fn_name}\",le=\"0.025\"} 1"
        ), "{text}");
        assert!(
            text.contains("mesh_egress_policy_switches_total{mode=\"REGISTRY_ONLY\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("mesh_egress_apiserver_errors_total 1"),
            "{text}"
        );
        assert!(
            text.contains("mesh_egress_cached_service_entries 4"),
            "{text}"
        );
        assert!(text.contains("mesh_egress_watch_connected 0"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
