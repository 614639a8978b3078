//! PromQL over Istio's standard metrics, as the client sidecar reports them
//! (`reporter="source"`; an external host has no sidecar to report). External destinations have
//! `destination_service_namespace="unknown"` (no peer metadata), which keeps calls between
//! pods of the mesh out of the answers; the domain joins the rest with the ServiceEntries.

use super::{Prometheus, PrometheusError, Sample};
use crate::domain::traffic::{RateSeries, Row, RowKind, Window};

/// The labels every query groups by. `destination_port` and `destination_sni` exist only where
/// the Telemetry API adds them (an absent label groups as empty).
const GROUP: &str = "source_workload_namespace, source_workload, destination_service, \
                     destination_service_name, destination_workload, destination_port, \
                     destination_sni";

const SELECTOR: &str = r#"reporter="source",destination_service_namespace="unknown""#;

/// The increase of `metric` over the window per `GROUP` (and `extra`): external calls, and
/// calls to the egress gateways whose Services are `gateways` (a PromQL regex; empty: none),
/// which the domain joins with the gateways' own calls.
fn increase(metric: &str, window: Window, extra: &str, gateways: &str) -> String {
    let range = window.range();
    let external = format!("increase({metric}{{{SELECTOR}}}[{range}])");
    let calls = match gateways.is_empty() {
        true => external,
        false => format!(
            r#"({external} or increase({metric}{{reporter="source",destination_service=~"{gateways}"}}[{range}]))"#
        ),
    };
    format!("sum by ({GROUP}{extra}) ({calls}) > 0")
}

/// Every external call in the window, and the calls to `gateway_hosts` (egress gateways'
/// Services): HTTP requests (by response code), TCP connections and bytes, as rows for
/// `domain::traffic::assemble`. The four queries run at once.
pub async fn traffic_rows(
    prometheus: &Prometheus,
    window: Window,
    gateway_hosts: &[String],
) -> Result<Vec<Row>, PrometheusError> {
    let gateways = hosts_regex(gateway_hosts);
    let requests = increase("istio_requests_total", window, ", response_code", &gateways);
    let opened = increase("istio_tcp_connections_opened_total", window, "", &gateways);
    let sent = increase("istio_tcp_sent_bytes_total", window, "", &gateways);
    let received = increase("istio_tcp_received_bytes_total", window, "", &gateways);
    let (requests, opened, sent, received) = futures::try_join!(
        prometheus.query(&requests),
        prometheus.query(&opened),
        prometheus.query(&sent),
        prometheus.query(&received),
    )?;
    let kinds = [
        (RowKind::Requests, requests),
        (RowKind::Connections, opened),
        (RowKind::SentBytes, sent),
        (RowKind::ReceivedBytes, received),
    ];
    Ok(kinds
        .into_iter()
        .flat_map(|(kind, samples)| samples.into_iter().map(move |s| row(kind, s)))
        .collect())
}

fn row(kind: RowKind, sample: Sample) -> Row {
    let mut labels = sample.labels;
    let mut take = |name: &str| labels.remove(name).unwrap_or_default();
    Row {
        kind,
        source_namespace: take("source_workload_namespace"),
        source_workload: take("source_workload"),
        destination_service: take("destination_service"),
        destination_service_name: take("destination_service_name"),
        destination_workload: take("destination_workload"),
        response_code: take("response_code"),
        destination_port: take("destination_port"),
        destination_sni: take("destination_sni"),
        via: String::new(),
        value: sample.value,
    }
}

/// A PromQL regular expression matching exactly these hosts.
fn hosts_regex(hosts: &[String]) -> String {
    hosts
        .iter()
        .map(|h| {
            h.chars()
                .map(|c| match c {
                    '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$'
                    | '\\' => format!("\\\\{c}"),
                    '"' => "\\\"".to_string(),
                    c => c.to_string(),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Calls per second to `hosts` over the window (HTTP requests plus TCP connections), sixty
/// points, for a small chart.
pub async fn entry_rate(
    prometheus: &Prometheus,
    hosts: &[String],
    window: Window,
    now: f64,
) -> Result<RateSeries, PrometheusError> {
    let step = (window.seconds() / 60).max(15);
    let range = step.max(120);
    let selector = format!(
        r#"{SELECTOR},destination_service=~"{}""#,
        hosts_regex(hosts)
    );
    let promql = format!(
        "(sum(rate(istio_requests_total{{{selector}}}[{range}s])) or vector(0)) + \
         (sum(rate(istio_tcp_connections_opened_total{{{selector}}}[{range}s])) or vector(0))"
    );
    let start = now - window.seconds() as f64;
    let series = prometheus.query_range(&promql, start, now, step).await?;
    let points = series
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|(t, v)| (t - start, v))
        .collect();
    Ok(RateSeries { window, points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_ask_the_client_sidecars_for_external_calls_only() {
        let q = increase("istio_requests_total", Window::Day, ", response_code", "");
        assert!(q.contains(r#"reporter="source""#), "{q}");
        assert!(
            q.contains(r#"destination_service_namespace="unknown""#),
            "{q}"
        );
        assert!(
            q.contains("[24h]") && q.contains("response_code") && q.ends_with("> 0"),
            "{q}"
        );
    }

    #[test]
    fn calls_to_egress_gateways_are_asked_for_beside_the_external_ones() {
        let gateways = hosts_regex(&["egress.istio-system.svc.cluster.local".into()]);
        let q = increase("istio_tcp_sent_bytes_total", Window::Hour, "", &gateways);
        assert!(
            q.contains(r#" or increase(istio_tcp_sent_bytes_total{reporter="source",destination_service=~"egress\\.istio-system"#),
            "{q}"
        );
    }

    #[test]
    fn host_names_are_matched_literally() {
        assert_eq!(
            hosts_regex(&["api.example.com".into(), "*.wild.io".into()]),
            r"api\\.example\\.com|\\*\\.wild\\.io"
        );
    }
}
