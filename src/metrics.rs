//! Prometheus metrics, in the text exposition format: requests by route and status, latencies,
//! cache size, API server errors, policy switches. One registry per server, handed to the
//! parts that count (router, service layer, watch) rather than kept in a global.

use crate::domain::LiveStatus;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; 11],
    count: u64,
    sum: f64,
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    apiserver_errors: AtomicU64,
    policy_switches: Mutex<BTreeMap<String, u64>>,
}

// NB: a panic while holding one of these locks must not take metrics down with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        *lock(&self.requests)
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        let mut latency = lock(&self.latency);
        let histogram = latency.entry(route.to_string()).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                histogram.buckets[i] += 1;
            }
        }
    }

    /// Counts a failed request to the API server.
    pub fn apiserver_error(&self) {
        self.apiserver_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a switch of the mesh-wide policy.
    pub fn policy_switch(&self, mode: &str) {
        *lock(&self.policy_switches)
            .entry(mode.to_string())
            .or_default() += 1;
    }

    /// The text exposition of every metric.
    pub fn render(
        &self,
        cached_service_entries: Option<usize>,
        live: Option<&LiveStatus>,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP mesh_egress_http_requests_total HTTP requests answered, by route, method and status.");
        let _ = writeln!(out, "# TYPE mesh_egress_http_requests_total counter");
        for ((route, method, status), count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "mesh_egress_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mesh_egress_http_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(
            out,
            "# TYPE mesh_egress_http_request_duration_seconds histogram"
        );
        for (route, h) in lock(&self.latency).iter() {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "mesh_egress_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "mesh_egress_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "mesh_egress_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "mesh_egress_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(out, "# HELP mesh_egress_apiserver_errors_total Failed requests to the Kubernetes API server.");
        let _ = writeln!(out, "# TYPE mesh_egress_apiserver_errors_total counter");
        let _ = writeln!(
            out,
            "mesh_egress_apiserver_errors_total {}",
            self.apiserver_errors.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP mesh_egress_policy_switches_total Switches of the mesh-wide outbound traffic policy, by new mode.");
        let _ = writeln!(out, "# TYPE mesh_egress_policy_switches_total counter");
        for (mode, count) in lock(&self.policy_switches).iter() {
            let _ = writeln!(
                out,
                "mesh_egress_policy_switches_total{{mode=\"{}\"}} {count}",
                escape(mode)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mesh_egress_cached_service_entries ServiceEntries in the watch cache."
        );
        let _ = writeln!(out, "# TYPE mesh_egress_cached_service_entries gauge");
        let _ = writeln!(
            out,
            "mesh_egress_cached_service_entries {}",
            cached_service_entries.unwrap_or(0)
        );
        let _ = writeln!(out, "# HELP mesh_egress_watch_connected Whether the ServiceEntry watch is connected (1) or not (0).");
        let _ = writeln!(out, "# TYPE mesh_egress_watch_connected gauge");
        let _ = writeln!(
            out,
            "mesh_egress_watch_connected {}",
            u8::from(live.is_some_and(|l| l.connected))
        );
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
        ));
        assert!(text.contains(
            "mesh_egress_http_request_duration_seconds_bucket{route=\"/api/{*fn_name}\",le=\"0.025\"} 1"
        ));
        assert!(text.contains("mesh_egress_policy_switches_total{mode=\"REGISTRY_ONLY\"} 1"));
        assert!(text.contains("mesh_egress_apiserver_errors_total 1"));
        assert!(text.contains("mesh_egress_cached_service_entries 4"));
        assert!(text.contains("mesh_egress_watch_connected 0"));
    }
}
