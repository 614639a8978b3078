//! Helpers for tests against the real test control plane (`make testenv-up`).
#![allow(dead_code)]

pub mod traffic;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, ObjectMeta};
use kube::Client;
use mesh_egress::auth::{AuthMode, Caller};
use mesh_egress::cluster::{Cluster, ConnectOptions};
use mesh_egress::domain::Overview;
use mesh_egress::error::AppError;
use mesh_egress::metrics::Metrics;
use mesh_egress::service::{Actor, Services};
use std::path::PathBuf;
use std::sync::Arc;

/// The service layer acting as the cluster's own identity (local mode).
pub fn local_actor(cluster: &Cluster) -> Actor {
    Services::new(
        Ok(cluster.clone()),
        Arc::new(AuthMode::Local),
        Arc::new(Metrics::default()),
        mesh_egress::service::Traffic::default(),
    )
    .actor(&Caller::Local)
    .expect("a local actor")
}

/// The first page's data, as the server function answers it in local mode.
pub async fn overview(cluster: &Cluster) -> Result<Overview, AppError> {
    mesh_egress::service::overview(&local_actor(cluster), None).await
}

/// The admin kubeconfig of the test control plane. Tests fail, never skip, without one.
pub fn kubeconfig() -> PathBuf {
    let path = std::env::var_os("KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/testenv/kubeconfig")
        });
    assert!(
        path.exists(),
        "no test control plane: {} is missing; run `make testenv-up` (make test does it)",
        path.display()
    );
    path
}

/// A kube client for setting up fixtures.
pub async fn admin_client() -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(kubeconfig()).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("kubeconfig");
    Client::try_from(config).expect("client")
}

/// A fresh, randomly named namespace for one test, labelled for clean-up by label.
/// (Without a controller-manager a deleted namespace never finishes terminating, so the
/// test control plane's teardown is what really removes them.)
pub struct TestNamespace {
    pub name: String,
    pub client: Client,
}

impl TestNamespace {
    /// Creates a mesh ConfigMap (`name`, with `mesh` as its `mesh` key) in this namespace.
    pub async fn create_mesh_config(&self, name: &str, mesh: &str) -> Api<ConfigMap> {
        let api = Api::<ConfigMap>::namespaced(self.client.clone(), &self.name);
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..Default::default()
            },
            data: Some([("mesh".to_string(), mesh.to_string())].into()),
            ..Default::default()
        };
        api.create(&PostParams::default(), &config_map)
            .await
            .expect("create the mesh ConfigMap");
        api
    }

    pub async fn new(prefix: &str) -> Self {
        let client = admin_client().await;
        let name = format!("{prefix}-{:08x}", rand::random::<u32>());
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("mesh-egress-test".to_string(), "true".to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create test namespace");
        Self { name, client }
    }

    /// Connects the dashboard's cluster module with this namespace as the Istio namespace.
    pub async fn cluster(&self) -> Cluster {
        Cluster::connect(&ConnectOptions {
            kubeconfig: Some(kubeconfig()),
            context: None,
            istio_namespace: self.name.clone(),
            // Undo records and signed-out sessions go with the test's namespace.
            state_namespace: Some(self.name.clone()),
            ..Default::default()
        })
        .await
        .expect("connect")
    }

    /// Creates a ServiceEntry from its spec.
    pub async fn create_service_entry(&self, name: &str, spec: serde_json::Value) {
        let mut object = DynamicObject::new(name, &service_entry_resource()).within(&self.name);
        object.data = serde_json::json!({ "spec": spec });
        self.create_service_entry_object(object).await;
    }

    /// Creates a ServiceEntry given whole (labels, annotations and all), in this namespace.
    pub async fn create_service_entry_object(&self, object: DynamicObject) {
        Api::<DynamicObject>::namespaced_with(
            self.client.clone(),
            &self.name,
            &service_entry_resource(),
        )
        .create(&PostParams::default(), &object)
        .await
        .expect("create ServiceEntry");
    }

    /// A ServiceEntry of this namespace as the API server holds it, if it exists.
    pub async fn service_entry(&self, name: &str) -> Option<DynamicObject> {
        Api::<DynamicObject>::namespaced_with(
            self.client.clone(),
            &self.name,
            &service_entry_resource(),
        )
        .get_opt(name)
        .await
        .expect("get ServiceEntry")
    }

    pub async fn delete_service_entry(&self, name: &str) {
        Api::<DynamicObject>::namespaced_with(
            self.client.clone(),
            &self.name,
            &service_entry_resource(),
        )
        .delete(name, &DeleteParams::default())
        .await
        .expect("delete ServiceEntry");
    }
}

pub fn service_entry_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "ServiceEntry"),
        "serviceentries",
    )
}

/// The httpbin.org entry of the seed document.
pub fn httpbin_spec() -> serde_json::Value {
    serde_json::json!({
        "hosts": ["httpbin.org", "www.httpbin.org"],
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "resolution": "DNS",
        "location": "MESH_EXTERNAL"
    })
}

/// A kubeconfig for a cluster that is not there (nothing listens on port 1 of loopback).
pub fn unreachable_kubeconfig() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesh-egress-gone-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:1\n\
         users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: gone\n  context: {cluster: gone, user: u}\n\
         current-context: gone\n",
    )
    .expect("write kubeconfig");
    path
}

/// A corpus record's `metadataLabels`.
pub fn corpus_labels(record: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    record
        .get("metadataLabels")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// NB: the corpus conversion read the YAML flow item `001:db8::` (an IPv6 address in istio/api's
/// file) as a one-key mapping; this restores the scalar it came from.
pub fn restore_corpus_scalars(spec: &mut serde_json::Value) {
    if let Some(serde_json::Value::Array(addresses)) = spec.get_mut("addresses") {
        for address in addresses.iter_mut() {
            if let serde_json::Value::Object(map) = address {
                if map.len() == 1 && map.values().all(serde_json::Value::is_null) {
                    let key = map.keys().next().cloned().unwrap_or_default();
                    *address = serde_json::Value::String(format!("{key}:"));
                }
            }
        }
    }
}

/// Leptos options for driving `server::router` in tests (no socket, no site files needed).
pub fn leptos_options() -> leptos::prelude::LeptosOptions {
    leptos::prelude::LeptosOptions::builder()
        .output_name("mesh-egress")
        .site_root("target/site")
        .build()
}

/// An HTTP answer, read whole.
pub struct Answer {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// Sends one request through the router, without a socket.
pub async fn send(router: &axum::Router, request: axum::http::Request<axum::body::Body>) -> Answer {
    use tower::ServiceExt;
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A form POST as a server function receives it, with extra headers.
pub fn post_form(
    path: &str,
    form: &str,
    headers: &[(&str, &str)],
) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("host", "127.0.0.1:3000");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .body(axum::body::Body::from(form.to_string()))
        .expect("request")
}

/// The dashboard's cluster module on the test control plane, with Istio in istio-system (the
/// mesh config istiod reads).
pub async fn istio_system_cluster() -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        istio_namespace: "istio-system".into(),
        ..Default::default()
    })
    .await
    .expect("connect")
}

/// A GET through the router as a browser sends it (Host 127.0.0.1:3000): status and body.
pub async fn get_page(router: &axum::Router, path: &str) -> (axum::http::StatusCode, String) {
    let answer = send(
        router,
        axum::http::Request::get(path)
            .header("host", "127.0.0.1:3000")
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    (answer.status, answer.body)
}

/// Prints a measurement and adds it to `target/recovery.txt`, which `make integration` prints
/// at the end (cargo keeps a passing test's output to itself). Measurements are printed, not
/// asserted: these machines are shared and noisy.
#[allow(dead_code)]
pub fn measured(line: &str) {
    use std::io::Write;
    println!("{line}");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/recovery.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// The bearer token of a user of the test control plane (`admin`, `dev`).
pub fn token(user: &str) -> String {
    let path = kubeconfig().with_file_name("tokens").join(user);
    std::fs::read_to_string(path)
        .expect("token file")
        .trim()
        .to_string()
}

/// Runs one of the test control plane's scripts (`testenv/NAME`), which must succeed.
pub fn testenv(script: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testenv")
        .join(script);
    let status = std::process::Command::new(&path)
        .status()
        .expect("run the testenv script");
    assert!(status.success(), "{script} failed");
}

/// Runs the `mesh-egress` binary as a person would, against the test control plane (and its
/// Prometheus): whether it succeeded, its standard output and its standard error.
pub fn mesh_egress(args: &[&str]) -> (bool, String, String) {
    let kubeconfig = kubeconfig();
    let prometheus =
        std::env::var("PROMETHEUS_URL").unwrap_or_else(|_| "http://127.0.0.1:19090".into());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
        .args(["--kubeconfig", kubeconfig.to_str().expect("utf-8")])
        .args(["--prometheus", &prometheus])
        .args(args)
        .output()
        .expect("run mesh-egress");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}
