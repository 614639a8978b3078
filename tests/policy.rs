//! The mesh-wide outbound traffic policy against the real test control plane: every source,
//! switching that changes nothing else, concurrent writers, and the command line.

mod common;

use common::{kubeconfig, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, ObjectMeta};
use mesh_egress::cluster::{Cluster, ConnectOptions};
use mesh_egress::domain::yaml;
use mesh_egress::domain::{OutboundPolicyMode, PolicyReport, PolicySetting, SourceKind};
use mesh_egress::error::AppError;
use std::process::Command;

/// The `mesh` key as Istio's Helm chart (istiod) renders it.
const HELM_MESH: &str = "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  \
tracing: {}\ndefaultProviders:\n  metrics:\n  - prometheus\nenablePrometheusMerge: true\n\
rootNamespace: istio-system\ntrustDomain: cluster.local\n";

fn icp_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("servicemesh.cisco.com", "v1alpha1", "IstioControlPlane"),
        "istiocontrolplanes",
    )
}

async fn create_config_map(ns: &TestNamespace, name: &str, mesh: &str, owned: bool) {
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some([("istio.io/rev".to_string(), "default".to_string())].into()),
            owner_references: owned.then(|| {
                vec![OwnerReference {
                    api_version: "servicemesh.cisco.com/v1alpha1".into(),
                    kind: "IstioControlPlane".into(),
                    name: "cp-v117x".into(),
                    uid: "6f0a2a4e-0000-4000-8000-000000000001".into(),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        },
        data: Some(
            [
                ("mesh".to_string(), mesh.to_string()),
                ("meshNetworks".to_string(), "networks: {}".to_string()),
            ]
            .into(),
        ),
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
        .create(&PostParams::default(), &config_map)
        .await
        .expect("create ConfigMap");
}

async fn get_config_map(ns: &TestNamespace, name: &str) -> ConfigMap {
    Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
        .get(name)
        .await
        .expect("get ConfigMap")
}

fn parsed_mesh(config_map: &ConfigMap) -> serde_json::Value {
    let mesh = config_map
        .data
        .as_ref()
        .and_then(|d| d.get("mesh"))
        .expect("mesh key");
    yaml::document(mesh).expect("mesh is YAML")
}

fn without_policy(mut mesh: serde_json::Value) -> serde_json::Value {
    mesh.as_object_mut()
        .expect("mapping")
        .remove("outboundTrafficPolicy");
    mesh
}

async fn create_control_plane(ns: &TestNamespace, name: &str, mesh_config: serde_json::Value) {
    let mut plane = DynamicObject::new(name, &icp_resource()).within(&ns.name);
    plane.data = serde_json::json!({
        "spec": {"version": "1.17.1", "mode": "ACTIVE", "meshConfig": mesh_config}
    });
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &icp_resource())
        .create(&PostParams::default(), &plane)
        .await
        .expect("create IstioControlPlane");
}

async fn get_control_plane(ns: &TestNamespace, name: &str) -> serde_json::Value {
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &icp_resource())
        .get(name)
        .await
        .expect("get IstioControlPlane")
        .data["spec"]
        .clone()
}

async fn cluster_with_revision(ns: &TestNamespace, revision: &str) -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: Some(kubeconfig()),
        context: None,
        istio_namespace: ns.name.clone(),
        revision: Some(revision.to_string()),
        ..Default::default()
    })
    .await
    .expect("connect")
}

#[tokio::test]
async fn config_map_switch_changes_only_the_mode() {
    let ns = TestNamespace::new("policy-cm").await;
    create_config_map(&ns, "istio", HELM_MESH, false).await;
    let cluster = ns.cluster().await;
    let before = get_config_map(&ns, "istio").await;
    assert_eq!(
        cluster.policy_report(None).await.expect("report").setting(),
        PolicySetting::NotSet
    );

    let report = cluster
        .set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switch");
    assert_eq!(
        report.setting(),
        PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
    );
    let after = get_config_map(&ns, "istio").await;
    assert_eq!(
        parsed_mesh(&after)["outboundTrafficPolicy"]["mode"],
        "REGISTRY_ONLY"
    );

    cluster
        .set_policy(&OutboundPolicyMode::AllowAny, None)
        .await
        .expect("switch back");
    let back = get_config_map(&ns, "istio").await;
    assert_eq!(
        parsed_mesh(&back)["outboundTrafficPolicy"]["mode"],
        "ALLOW_ANY"
    );
    assert_eq!(
        without_policy(parsed_mesh(&back)),
        without_policy(parsed_mesh(&before)),
        "every other mesh setting is unchanged"
    );
    let data = back.data.as_ref().expect("data");
    assert_eq!(
        data.get("meshNetworks").map(String::as_str),
        Some("networks: {}")
    );
    assert_eq!(back.metadata.labels, before.metadata.labels);
}

#[tokio::test]
async fn revisioned_config_map_is_the_one_read_and_written() {
    let ns = TestNamespace::new("policy-rev").await;
    create_config_map(&ns, "istio", HELM_MESH, false).await;
    create_config_map(
        &ns,
        "istio-canary",
        &format!("{HELM_MESH}outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"),
        false,
    )
    .await;
    let cluster = cluster_with_revision(&ns, "canary").await;
    let PolicyReport::Found {
        source, setting, ..
    } = cluster.policy_report(None).await.expect("report")
    else {
        panic!("the revisioned ConfigMap is found");
    };
    assert_eq!(source.name, "istio-canary");
    assert_eq!(
        setting,
        PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
    );
    cluster
        .set_policy(&OutboundPolicyMode::AllowAny, None)
        .await
        .expect("switch");
    assert_eq!(
        parsed_mesh(&get_config_map(&ns, "istio-canary").await)["outboundTrafficPolicy"]["mode"],
        "ALLOW_ANY"
    );
    assert!(
        parsed_mesh(&get_config_map(&ns, "istio").await)
            .get("outboundTrafficPolicy")
            .is_none(),
        "the default revision's ConfigMap is untouched"
    );
}

#[tokio::test]
async fn istio_control_plane_wins_and_is_written_instead_of_the_config_map() {
    let ns = TestNamespace::new("policy-icp").await;
    // The ConfigMap an operator renders from the control plane: owned, so never edited.
    create_config_map(&ns, "istio", HELM_MESH, true).await;
    create_control_plane(
        &ns,
        "cp-v117x",
        serde_json::json!({"enableAutoMtls": true, "outboundTrafficPolicy": {"mode": "ALLOW_ANY"}}),
    )
    .await;
    create_control_plane(&ns, "cp-v118x", serde_json::json!({"enableTracing": false})).await;
    let cluster = ns.cluster().await;

    let PolicyReport::Found {
        source,
        setting,
        alternatives,
        ..
    } = cluster.policy_report(None).await.expect("report")
    else {
        panic!("the control plane is found");
    };
    assert_eq!(source.kind, SourceKind::IstioControlPlane);
    assert_eq!(source.name, "cp-v117x", "the first by name is the default");
    assert_eq!(
        setting,
        PolicySetting::Explicit(OutboundPolicyMode::AllowAny)
    );
    assert_eq!(alternatives.len(), 1);
    assert_eq!(alternatives[0].name, "cp-v118x");

    cluster
        .set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switch");
    let spec = get_control_plane(&ns, "cp-v117x").await;
    assert_eq!(
        spec["meshConfig"]["outboundTrafficPolicy"]["mode"],
        "REGISTRY_ONLY"
    );
    assert_eq!(spec["meshConfig"]["enableAutoMtls"], true);
    assert_eq!(spec["version"], "1.17.1");
    assert!(
        parsed_mesh(&get_config_map(&ns, "istio").await)
            .get("outboundTrafficPolicy")
            .is_none(),
        "the rendered ConfigMap is not edited directly"
    );

    // The user picks the other control plane.
    let report = cluster
        .set_policy(&OutboundPolicyMode::RegistryOnly, Some("cp-v118x"))
        .await
        .expect("switch the chosen one");
    assert_eq!(
        report.setting(),
        PolicySetting::Explicit(OutboundPolicyMode::RegistryOnly)
    );
    let spec = get_control_plane(&ns, "cp-v118x").await;
    assert_eq!(spec["meshConfig"]["enableTracing"], false);
    let error = cluster
        .policy_report(Some("nope"))
        .await
        .expect_err("unknown control plane");
    assert!(AppError::from(error)
        .to_string()
        .contains("cp-v117x, cp-v118x"));
}

/// A mesh config as people write it by hand: comments, quoting, YAML 1.1 scalars.
const HAND_WRITTEN_MESH: &str = include_str!("fixtures/mesh/hand-written.yaml");

#[tokio::test]
async fn the_switch_keeps_every_byte_of_a_hand_written_mesh_config_but_the_mode() {
    let ns = TestNamespace::new("policy-bytes").await;
    create_config_map(&ns, "istio", HAND_WRITTEN_MESH, false).await;
    let cluster = ns.cluster().await;
    cluster
        .set_policy(&OutboundPolicyMode::RegistryOnly, None)
        .await
        .expect("switch");
    let mesh = |cm: ConfigMap| cm.data.expect("data").remove("mesh").expect("mesh");
    assert_eq!(
        mesh(get_config_map(&ns, "istio").await),
        HAND_WRITTEN_MESH.replace(
            "mode: ALLOW_ANY   # for now",
            "mode: REGISTRY_ONLY   # for now"
        ),
        "only the mode's value changed"
    );
    cluster
        .set_policy(&OutboundPolicyMode::AllowAny, None)
        .await
        .expect("switch back");
    assert_eq!(mesh(get_config_map(&ns, "istio").await), HAND_WRITTEN_MESH);
}

#[tokio::test]
async fn a_helm_installed_config_map_is_not_edited_and_says_why() {
    let ns = TestNamespace::new("policy-helm").await;
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some("istio".into()),
            labels: Some(
                [(
                    "app.kubernetes.io/managed-by".to_string(),
                    "Helm".to_string(),
                )]
                .into(),
            ),
            annotations: Some(
                [
                    (
                        "meta.helm.sh/release-name".to_string(),
                        "istiod".to_string(),
                    ),
                    (
                        "meta.helm.sh/release-namespace".to_string(),
                        ns.name.clone(),
                    ),
                ]
                .into(),
            ),
            ..Default::default()
        },
        data: Some([("mesh".to_string(), HELM_MESH.to_string())].into()),
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
        .create(&PostParams::default(), &config_map)
        .await
        .expect("create ConfigMap");
    let before = get_config_map(&ns, "istio").await;
    let cluster = ns.cluster().await;
    let error = AppError::from(
        cluster
            .set_policy(&OutboundPolicyMode::RegistryOnly, None)
            .await
            .expect_err("Helm renders it"),
    );
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "the Helm release istiod in {} (helm upgrade)",
            ns.name
        )) && text.contains("reverts direct edits"),
        "{text}"
    );
    let after = get_config_map(&ns, "istio").await;
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "nothing was written"
    );
}

#[tokio::test]
async fn a_managed_config_map_is_not_edited_and_no_source_is_explained() {
    let ns = TestNamespace::new("policy-none").await;
    let cluster = ns.cluster().await;
    let error = AppError::from(
        cluster
            .set_policy(&OutboundPolicyMode::RegistryOnly, None)
            .await
            .expect_err("nothing to write"),
    );
    let text = error.to_string();
    assert!(text.contains("no mesh config"), "{text}");
    assert!(text.contains(&format!("{}/istio", ns.name)), "{text}");

    create_config_map(&ns, "istio", HELM_MESH, true).await;
    let PolicyReport::Found { managed_by, .. } = cluster.policy_report(None).await.expect("report")
    else {
        panic!("found");
    };
    assert_eq!(managed_by.as_deref(), Some("IstioControlPlane cp-v117x"));
    let error = AppError::from(
        cluster
            .set_policy(&OutboundPolicyMode::RegistryOnly, None)
            .await
            .expect_err("managed"),
    );
    assert!(
        error.to_string().contains("reverts direct edits"),
        "{error}"
    );
    assert!(
        parsed_mesh(&get_config_map(&ns, "istio").await)
            .get("outboundTrafficPolicy")
            .is_none(),
        "nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_switches_lose_no_other_writer_s_change() {
    let ns = TestNamespace::new("policy-race").await;
    create_config_map(&ns, "istio", HELM_MESH, false).await;
    let switcher = |first: OutboundPolicyMode, second: OutboundPolicyMode| {
        let cluster_fut = ns.cluster();
        async move {
            let cluster = cluster_fut.await;
            let mut last = None;
            for i in 0..50 {
                let mode = if i % 2 == 0 { &first } else { &second };
                cluster
                    .set_policy(mode, None)
                    .await
                    .map_err(AppError::from)?;
                last = Some(mode.clone());
            }
            Ok::<_, AppError>(last)
        }
    };
    // Other writers add mesh keys the way an operator's script would: read, change, write with
    // the resourceVersion they read, retry on conflict. A switch that overwrote the ConfigMap
    // without its resourceVersion would drop some of these keys (mutating the switch that way
    // makes this test fail).
    const WRITERS: u32 = 6;
    const KEYS: u32 = 20;
    let writer = |w: u32| {
        let api = Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name);
        async move {
            for i in 1..=KEYS {
                loop {
                    let mut cm = api.get("istio").await.expect("get");
                    let data = cm.data.as_mut().expect("data");
                    let mut mesh = yaml::document(&data["mesh"]).expect("yaml");
                    mesh["defaultConfig"]["proxyMetadata"][format!("WRITER_{w}_{i}")] =
                        serde_json::Value::from(i.to_string());
                    data.insert("mesh".into(), yaml::to_yaml(&mesh));
                    match api.replace("istio", &PostParams::default(), &cm).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(s)) if s.code == 409 => continue,
                        Err(e) => panic!("writer {w}: {e}"),
                    }
                }
            }
        }
    };
    let writers = futures::future::join_all((0..WRITERS).map(writer));
    let (a, b, _) = tokio::join!(
        switcher(
            OutboundPolicyMode::AllowAny,
            OutboundPolicyMode::RegistryOnly
        ),
        switcher(
            OutboundPolicyMode::RegistryOnly,
            OutboundPolicyMode::AllowAny
        ),
        writers
    );
    a.unwrap_or_else(|e| panic!("client A failed: {e}"))
        .expect("wrote");
    b.unwrap_or_else(|e| panic!("client B failed: {e}"))
        .expect("wrote");
    let mesh = parsed_mesh(&get_config_map(&ns, "istio").await);
    let metadata = &mesh["defaultConfig"]["proxyMetadata"];
    let lost: Vec<String> = (0..WRITERS)
        .flat_map(|w| (1..=KEYS).map(move |i| format!("WRITER_{w}_{i}")))
        .filter(|key| metadata.get(key).is_none())
        .collect();
    assert!(
        lost.is_empty(),
        "every other writer's change survives the 100 switches; lost: {lost:?}"
    );
    assert_eq!(
        mesh["defaultConfig"]["discoveryAddress"],
        "istiod.istio-system.svc:15012"
    );
    // The policy itself is still whole: one of the two modes, written by the last switch.
    let final_mode = mesh["outboundTrafficPolicy"]["mode"]
        .as_str()
        .expect("mode");
    let reread = ns.cluster().await.policy_report(None).await.expect("read");
    assert_eq!(reread.setting().effective_mode().as_istio(), final_mode);
}

/// Runs the real binary.
fn cli(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run mesh-egress");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_command_line_prints_the_three_exact_lines() {
    let ns = TestNamespace::new("policy-cli").await;
    let kubeconfig = kubeconfig();
    let kubeconfig = kubeconfig.to_str().expect("utf-8 path");
    let base = ["--kubeconfig", kubeconfig, "--istio-namespace", &ns.name];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        cli(&args)
    };

    let (code, out, _) = run(&["outbound-traffic-policy"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "mesh wide outbound traffic policy is not found\n")
    );

    create_config_map(&ns, "istio", HELM_MESH, false).await;
    let (code, out, _) = run(&["outbound-traffic-policy"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "mesh wide outbound traffic policy is not found\n")
    );

    let (code, out, err) = run(&["outbound-traffic-policy", "restricted"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "mesh wide outbound traffic policy is set to 'REGISTRY_ONLY'\n",
            ""
        )
    );
    let (code, out, _) = run(&["istio", "outbound-traffic-policy"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "mesh wide outbound traffic policy is set to 'REGISTRY_ONLY'\n"
        )
    );
    let (code, out, _) = run(&["istio", "outbound-traffic-policy", "allowed"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "mesh wide outbound traffic policy is set to 'ALLOW_ANY'\n"
        )
    );
    assert_eq!(
        parsed_mesh(&get_config_map(&ns, "istio").await)["outboundTrafficPolicy"]["mode"],
        "ALLOW_ANY",
        "kubectl's view agrees"
    );

    let (code, out, err) = run(&["outbound-traffic-policy", "open"]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("'open' is not a policy"), "{err}");

    // The namespace-limited user may not read istio's namespace.
    let dev = kubeconfig.replace("kubeconfig", "kubeconfig-dev");
    let (code, out, err) = cli(&[
        "--kubeconfig",
        &dev,
        "--istio-namespace",
        &ns.name,
        "outbound-traffic-policy",
        "restricted",
    ]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mesh-egress: forbidden:"), "{err}");
}

#[test]
fn the_command_line_explains_a_missing_cluster_in_one_line() {
    let path = common::unreachable_kubeconfig();
    let (code, out, err) = cli(&[
        "--kubeconfig",
        path.to_str().expect("utf-8"),
        "outbound-traffic-policy",
    ]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "mesh-egress: cannot reach the Kubernetes API server at https://127.0.0.1:1"
        ),
        "{err}"
    );
}

/// The audit Events of `ns` with this reason: (message, count).
async fn audit_events(ns: &TestNamespace, reason: &str) -> Vec<String> {
    use k8s_openapi::api::core::v1::Event;
    Api::<Event>::namespaced(ns.client.clone(), &ns.name)
        .list(&kube::api::ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .map(|e| e.message.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn the_command_line_is_audited_like_the_web_one_event_per_change_naming_the_actor() {
    let ns = TestNamespace::new("policy-cli-audit").await;
    create_config_map(&ns, "istio", HELM_MESH, false).await;
    let kubeconfig = kubeconfig();
    let kubeconfig = kubeconfig.to_str().expect("utf-8 path");
    let (code, out, err) = cli(&[
        "--kubeconfig",
        kubeconfig,
        "--istio-namespace",
        &ns.name,
        "outbound-traffic-policy",
        "restricted",
    ]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "mesh wide outbound traffic policy is set to 'REGISTRY_ONLY'\n",
            ""
        )
    );
    let switched = audit_events(&ns, "OutboundPolicySwitched").await;
    assert_eq!(switched.len(), 1, "{switched:?}");
    assert!(switched[0].starts_with("admin "), "{switched:?}");

    // apply -f: a create, then an edit; one Event each, naming the actor.
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("{}-apply.yaml", ns.name));
    let manifest = |port: u16| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: cli-apply\n  namespace: {}\nspec:\n  hosts: [cli-apply.example.com]\n  ports: [{{number: {port}, name: tls, protocol: TLS}}]\n  resolution: DNS\n  location: MESH_EXTERNAL\n",
            ns.name
        )
    };
    for (port, reason) in [(443, "ServiceEntryCreated"), (8443, "ServiceEntryEdited")] {
        std::fs::write(&file, manifest(port)).expect("write the manifest under target/");
        let (code, out, err) = cli(&[
            "--kubeconfig",
            kubeconfig,
            "apply",
            "-f",
            file.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(code, 0, "{out}{err}");
        let events = audit_events(&ns, reason).await;
        assert_eq!(events.len(), 1, "{reason}: {events:?}");
        assert!(events[0].starts_with("admin "), "{events:?}");
    }
    let _ = std::fs::remove_file(&file);
}
