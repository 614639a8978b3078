//! deploy/: the manifests apply, and the ServiceAccount they create can do every operation the
//! dashboard performs — and nothing more (real RBAC, a real TokenRequest).

mod common;

use common::{httpbin_spec, kubeconfig, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::core::ObjectMeta;
use mesh_egress::cluster::{Cluster, ConnectOptions};
use mesh_egress::domain::OutboundPolicyMode;
use mesh_egress::error::AppError;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kubectl(args: &[&str]) -> (bool, String) {
    let output = Command::new(root().join("target/testenv/kubectl"))
        .args(args)
        .env("KUBECONFIG", kubeconfig())
        .output()
        .expect("run kubectl");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// A kubeconfig that acts as the deployed ServiceAccount, with a token from a TokenRequest.
fn service_account_kubeconfig() -> PathBuf {
    let (ok, token) = kubectl(&["create", "token", "mesh-egress", "-n", "mesh-egress"]);
    assert!(ok, "TokenRequest: {token}");
    let admin = std::fs::read_to_string(kubeconfig()).expect("admin kubeconfig");
    let admin_token = admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("admin token line");
    let path = std::env::temp_dir().join(format!("mesh-egress-sa-{:08x}", rand::random::<u32>()));
    std::fs::write(&path, admin.replace(admin_token, token.trim())).expect("write kubeconfig");
    path
}

#[tokio::test]
async fn the_service_account_can_do_what_the_dashboard_does_and_no_more() {
    // NB: a server-side dry run creates nothing, so the namespaced objects need their
    // namespace to exist already.
    let namespace = root().join("deploy/namespace.yaml");
    let (ok, out) = kubectl(&[
        "apply",
        "--server-side",
        "-f",
        namespace.to_str().expect("utf-8"),
    ]);
    assert!(ok, "namespace: {out}");
    let (ok, out) = kubectl(&[
        "apply",
        "--dry-run=server",
        "-k",
        root().join("deploy").to_str().expect("utf-8"),
    ]);
    assert!(ok, "server-side dry run of deploy/: {out}");
    let (ok, out) = kubectl(&[
        "apply",
        "--server-side",
        "-k",
        root().join("deploy").to_str().expect("utf-8"),
    ]);
    assert!(ok, "apply deploy/: {out}");

    let ns = TestNamespace::new("deploy").await;
    // The ClusterRole names the mesh ConfigMap `istio`; the test's Istio namespace has one.
    Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
        .create(
            &PostParams::default(),
            &ConfigMap {
                metadata: ObjectMeta {
                    name: Some("istio".into()),
                    ..Default::default()
                },
                data: Some(
                    [(
                        "mesh".to_string(),
                        "trustDomain: cluster.local\n".to_string(),
                    )]
                    .into(),
                ),
                ..Default::default()
            },
        )
        .await
        .expect("mesh ConfigMap");

    let sa = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(service_account_kubeconfig()),
        context: None,
        istio_namespace: ns.name.clone(),
        revision: None,
        istiod_debug: None,
    })
    .await
    .expect("connect as the ServiceAccount");

    common::overview(&sa)
        .await
        .expect("overview: namespaces, ServiceEntries, Sidecars, control planes");
    let object = serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "httpbin.org"}, "spec": httpbin_spec()
    });
    sa.create_service_entry(&ns.name, object)
        .await
        .expect("created");
    sa.service_entry(&ns.name, "httpbin.org")
        .await
        .expect("get");
    sa.delete_service_entry(&ns.name, "httpbin.org", None)
        .await
        .expect("delete");
    sa.undo_delete(&ns.name, "httpbin.org").await.expect("undo");
    sa.set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switch the policy in the mesh ConfigMap");
    let cache = sa.start_service_entry_cache(Default::default());
    let mut status = cache.subscribe();
    let synced = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !status.borrow().synced {
            if status.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        synced.is_ok() && status.borrow().synced,
        "the watch runs: {:?}",
        status.borrow()
    );

    // Nothing more: Secrets stay unreadable, ConfigMaps undeletable.
    let sa_kubeconfig = service_account_kubeconfig();
    let as_sa = |args: &[&str]| {
        let output = Command::new(root().join("target/testenv/kubectl"))
            .args(args)
            .env("KUBECONFIG", &sa_kubeconfig)
            .output()
            .expect("kubectl");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, err) = as_sa(&["get", "secrets", "-n", &ns.name]);
    assert!(
        !ok && err.contains("Forbidden"),
        "reading Secrets is Forbidden: {err}"
    );
    let (ok, err) = as_sa(&["delete", "configmap", "istio", "-n", &ns.name]);
    assert!(
        !ok && err.contains("Forbidden"),
        "deleting ConfigMaps is Forbidden: {err}"
    );
    let error = sa
        .policy_report(None)
        .await
        .map(|_| ())
        .map_err(AppError::from);
    assert!(error.is_ok(), "reading the policy works: {error:?}");
}
