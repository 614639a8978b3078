//! Service Mesh Manager's clusters serve networking.istio.io v1beta1 and no v1. This test
//! brings up its own control plane with that CRD set (`TESTENV_CRDS=smm`, other ports) and
//! checks that listing, creating and deleting work the same.

mod common;

use mesh_egress::cluster::{Cluster, ConnectOptions};
use std::path::PathBuf;
use std::process::Command;

struct SmmControlPlane {
    state: PathBuf,
}

impl SmmControlPlane {
    fn env(command: &mut Command, state: &PathBuf) {
        command
            .env("TESTENV_CRDS", "smm")
            // istiod serves networking v1; SMM's Istio 1.17 CRD shape has none.
            .env("TESTENV_ISTIOD", "0")
            .env("TESTENV_STATE_DIR", state)
            .env("TESTENV_APISERVER_PORT", "16445")
            .env("TESTENV_ETCD_PORT", "23793")
            .env("TESTENV_ETCD_PEER_PORT", "23803");
    }

    fn up() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let state = root.join("target/testenv-smm");
        let mut command = Command::new(root.join("testenv/up.sh"));
        Self::env(&mut command, &state);
        let output = command.output().expect("run testenv/up.sh");
        assert!(
            output.status.success(),
            "the SMM control plane starts: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Self { state }
    }
}

impl Drop for SmmControlPlane {
    fn drop(&mut self) {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut command = Command::new(root.join("testenv/down.sh"));
        Self::env(&mut command, &self.state);
        let _ = command.output();
    }
}

#[tokio::test]
async fn list_create_and_delete_work_on_v1beta1_only_clusters() {
    let plane = SmmControlPlane::up();
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(plane.state.join("kubeconfig")),
        context: None,
        istio_namespace: "istio-system".into(),
        state_namespace: Some("default".into()),
        ..Default::default()
    })
    .await
    .expect("connect");
    let object = serde_json::json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "httpbin.org", "namespace": "default"},
        "spec": common::httpbin_spec()
    });
    let created = cluster
        .create_service_entry("default", object)
        .await
        .expect("accepted as v1beta1");
    assert_eq!(created.name, "httpbin.org");
    let listed = cluster.service_entries("default").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].hosts, vec!["httpbin.org", "www.httpbin.org"]);
    let detail = cluster
        .service_entry("default", "httpbin.org")
        .await
        .expect("detail");
    assert!(
        detail
            .yaml
            .contains("apiVersion: networking.istio.io/v1beta1"),
        "{}",
        detail.yaml
    );
    let keep = mesh_egress::cluster::KeepForUndo {
        store: &cluster,
        deleted_by: "admin",
        until: mesh_egress::auth::now() + 60,
    };
    cluster
        .delete_service_entry("default", "httpbin.org", None, Some(&keep))
        .await
        .expect("delete");
    assert!(cluster
        .service_entries("default")
        .await
        .expect("list")
        .is_empty());
    // Undo re-creates it as it was, at the version this cluster serves.
    let record = cluster
        .undo_record("default", "httpbin.org", mesh_egress::auth::now())
        .await
        .expect("read the undo record")
        .expect("an undo record");
    let restored = cluster
        .restore_service_entry(&record)
        .await
        .expect("undo on v1beta1");
    assert_eq!(restored.hosts[0], "httpbin.org");
    cluster.forget_undo(&record.record).await.expect("forget");
    cluster
        .delete_service_entry("default", "httpbin.org", None, None)
        .await
        .expect("delete again");
    let overview = common::overview(&cluster).await.expect("overview");
    assert!(overview.namespaces.iter().any(|n| n.name == "default"));
}
