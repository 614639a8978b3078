//! The traffic source and Prometheus of the test control plane: scenario files the traffic
//! source plays, its verdicts (from what istiod pushes), and the series Prometheus scrapes.

use super::{kubeconfig, TestNamespace};
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use mesh_egress::auth::{AuthMode, Caller};
use mesh_egress::metrics::Metrics;
use mesh_egress::prometheus::{Prometheus, PrometheusConfig};
use mesh_egress::service::{Actor, Services, Traffic};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(60);

pub fn state_dir() -> PathBuf {
    kubeconfig()
        .parent()
        .expect("the kubeconfig's directory")
        .to_path_buf()
}

pub fn prometheus_url() -> String {
    std::env::var("PROMETHEUS_URL").unwrap_or_else(|_| "http://127.0.0.1:19090".into())
}

pub fn traffic_source_url() -> String {
    std::env::var("TESTENV_TRAFFIC_URL").unwrap_or_else(|_| "http://127.0.0.1:15090".into())
}

/// A scenario file the traffic source plays while it exists.
pub struct Scenario(PathBuf);

impl Scenario {
    pub fn play(name: &str, yaml: &str) -> Self {
        let dir = state_dir().join("traffic");
        std::fs::create_dir_all(&dir).expect("the traffic directory");
        let path = dir.join(format!("{name}.yaml"));
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, yaml).expect("write the scenario");
        std::fs::rename(&tmp, &path).expect("place the scenario");
        Self(path)
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn prometheus(timeout: Duration) -> Prometheus {
    Prometheus::new(PrometheusConfig {
        url: prometheus_url(),
        bearer_token_file: None,
        ca_file: None,
        timeout,
    })
    .expect("a Prometheus client")
}

pub fn actor(cluster: mesh_egress::cluster::Cluster, traffic: Traffic) -> Actor {
    Services::new(
        Ok(cluster),
        Arc::new(AuthMode::Local),
        Arc::new(Metrics::default()),
        traffic,
    )
    .actor(&Caller::Local)
    .expect("a local actor")
}

/// The traffic source's verdict for the scenario line that starts with `line`.
pub async fn verdict(line: &str) -> Option<String> {
    let text = reqwest::get(format!("{}/debug/verdicts", traffic_source_url()))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(line))
        .and_then(|l| l.split_once(" => ").map(|(_, v)| v.to_string()))
}

pub async fn wait_for_verdict(line: &str, expected: &str) {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < WAIT {
        last = verdict(line).await;
        if last.as_deref().is_some_and(|v| v.starts_with(expected)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("{line}: expected {expected:?} within {WAIT:?}, last verdict {last:?}");
}

/// Whether Prometheus has a series of `metric` from `namespace` with these label values.
pub async fn prometheus_has(metric: &str, namespace: &str, labels: &str) -> bool {
    let query = format!(
        r#"sum(increase({metric}{{reporter="source",source_workload_namespace="{namespace}",{labels}}}[1h])) > 0"#
    );
    prometheus(Duration::from_secs(5))
        .query(&query)
        .await
        .is_ok_and(|s| !s.is_empty())
}

pub async fn wait_for_series(metric: &str, namespace: &str, labels: &str) {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if prometheus_has(metric, namespace, labels).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("Prometheus has no {metric}{{{labels}}} from {namespace} after {WAIT:?}");
}

pub fn sidecar_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "Sidecar"),
        "sidecars",
    )
}

/// Creates `sidecar` (named and with its spec; labels and annotations as given) in `ns`, as a
/// person would with kubectl, and answers it as stored.
pub async fn create_sidecar(ns: &TestNamespace, mut sidecar: DynamicObject) -> DynamicObject {
    sidecar.metadata.namespace = Some(ns.name.clone());
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &sidecar_resource())
        .create(&PostParams::default(), &sidecar)
        .await
        .expect("create the Sidecar")
}

pub async fn create_restricting_sidecar(ns: &TestNamespace) {
    let mut sidecar = DynamicObject::new("default", &sidecar_resource());
    sidecar.data = serde_json::json!({
        "spec": {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}
    });
    create_sidecar(ns, sidecar).await;
}

/// Registers an unrelated HTTP host on port 80 in `ns`: like an in-mesh HTTP service on 80, it
/// gives every sidecar an HTTP listener on 80, without which plain HTTP to an unregistered host
/// passes through as TCP, with no host name (as in Istio).
pub async fn http_listener_on_80(ns: &TestNamespace) {
    ns.create_service_entry(
        "http-listener",
        serde_json::json!({
            "hosts": [format!("listener.{}.example", ns.name)],
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            "resolution": "DNS"
        }),
    )
    .await;
}
