//! The first page's data, read from the real test control plane.

mod common;

use common::{httpbin_spec, TestNamespace};
use mesh_egress::domain::{OutboundPolicyMode, PolicyReport, PolicySetting, SourceKind};

#[tokio::test]
async fn overview_counts_the_service_entries_of_a_namespace() {
    let ns = TestNamespace::new("overview").await;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    ns.create_service_entry(
        "stripe",
        serde_json::json!({
            "hosts": ["api.stripe.com"],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": "DNS"
        }),
    )
    .await;

    let overview = common::overview(&ns.cluster().await)
        .await
        .expect("overview");
    let row = overview
        .namespaces
        .iter()
        .find(|n| n.name == ns.name)
        .expect("the test namespace is listed");
    assert_eq!(row.service_entries, 2);

    ns.delete_service_entry("stripe").await;
    let overview = common::overview(&ns.cluster().await)
        .await
        .expect("overview");
    let row = overview
        .namespaces
        .iter()
        .find(|n| n.name == ns.name)
        .expect("listed");
    assert_eq!(
        row.service_entries, 1,
        "a deleted entry is no longer counted"
    );
}

#[tokio::test]
async fn policy_is_read_from_the_mesh_config_map() {
    let ns = TestNamespace::new("policy").await;
    let cluster = ns.cluster().await;

    let report = cluster.policy_report(None).await.expect("report");
    match &report {
        PolicyReport::NoSource { looked_for } => {
            assert!(looked_for
                .iter()
                .any(|l| l.contains(&format!("{}/istio", ns.name))));
        }
        other => panic!("expected no source, got {other:?}"),
    }
    assert_eq!(report.setting(), PolicySetting::NotSet);

    ns.create_mesh_config(
        "istio",
        "rootNamespace: istio-system\noutboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n",
    )
    .await;
    let report = cluster.policy_report(None).await.expect("report");
    let PolicyReport::Found {
        source, setting, ..
    } = report
    else {
        panic!("expected the ConfigMap to be found");
    };
    assert_eq!(source.kind, SourceKind::ConfigMap);
    assert_eq!(source.name, "istio");
    assert_eq!(source.namespace, ns.name);
    assert_eq!(
        setting,
        PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
    );
}

#[tokio::test]
async fn an_unreachable_cluster_is_named_in_plain_words() {
    let kubeconfig = common::unreachable_kubeconfig();
    let cluster = mesh_egress::cluster::Cluster::connect(&mesh_egress::cluster::ConnectOptions {
        kubeconfig: Some(kubeconfig),
        istio_namespace: "istio-system".into(),
        ..Default::default()
    })
    .await
    .expect("a client is built without contacting the cluster");
    let error = common::overview(&cluster)
        .await
        .expect_err("nothing listens on port 1");
    let text = error.to_string();
    assert!(
        text.starts_with("cannot reach the Kubernetes API server at https://127.0.0.1:1"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert_eq!(error.status_code(), 503);
    assert!(error.hint().is_some());
}

#[test]
fn rbac_is_really_on_the_limited_token_cannot_read_istio_system() {
    let token_file = common::kubeconfig().with_file_name("tokens").join("dev");
    let token = std::fs::read_to_string(token_file).expect("dev token");
    let output = std::process::Command::new(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/testenv/kubectl"),
    )
    .args([
        "--token",
        token.trim(),
        "get",
        "configmaps",
        "-n",
        "istio-system",
    ])
    .env("KUBECONFIG", common::kubeconfig())
    .output()
    .expect("kubectl");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Forbidden"), "{stderr}");
    assert!(
        stderr.contains("User \"dev\" cannot list resource \"configmaps\""),
        "{stderr}"
    );
}
