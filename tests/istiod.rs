//! The real istiod as a live oracle: its validating webhook judges every write, and its
//! /debug/mesh shows the mesh config it really uses (testenv runs it; `make test` turns it on).

mod common;

use mesh_egress::cluster::ErrorKind;

use common::{corpus_labels as labels, kubeconfig, restore_corpus_scalars, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use mesh_egress::domain::OutboundPolicyMode;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn istiod_debug() -> String {
    std::env::var("MESH_EGRESS_ISTIOD_DEBUG").unwrap_or_else(|_| "http://127.0.0.1:15080".into())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn istiod_mode() -> Option<OutboundPolicyMode> {
    match mesh_egress::cluster::istiod::istiod_view(&istiod_debug()).await {
        mesh_egress::domain::policy::IstiodView::Using(mode) => Some(mode),
        mesh_egress::domain::policy::IstiodView::Unreachable(why) => {
            panic!("istiod must run in the test control plane: {why}")
        }
    }
}

#[tokio::test]
async fn the_webhook_is_live_kubectl_gets_istiods_refusal() {
    let ns = TestNamespace::new("webhook").await;
    let manifest = format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: bad, namespace: {}}}\n\
         spec:\n  hosts: [bad..host]\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n  resolution: DNS\n",
        ns.name
    );
    let mut child = Command::new(root().join("target/testenv/kubectl"))
        .args(["apply", "-f", "-"])
        .env("KUBECONFIG", kubeconfig())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(manifest.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("kubectl");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("admission webhook \"validation.istio.io\" denied the request"),
        "{stderr}"
    );
    assert!(stderr.contains("bad..host"), "{stderr}");
}

#[tokio::test]
async fn writes_istiod_refuses_come_back_as_findings_not_a_generic_failure() {
    let ns = TestNamespace::new("webhook-findings").await;
    let cluster = ns.cluster().await;
    // Past mesh-egress's own check (as an older mesh-egress or another client would be).
    let object = serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "bad"},
        "spec": {"hosts": ["bad..host"], "resolution": "DNS",
                 "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}
    });
    let findings = cluster
        .create_service_entry(&ns.name, object)
        .await
        .expect_err("istiod refuses it in the dry run");
    assert_eq!(findings.kind, ErrorKind::Rejected, "{findings:?}");
    let findings = findings.findings;
    assert!(
        findings.iter().any(|f| f.message.contains("bad..host")),
        "{findings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_switch_reaches_istiod_within_two_seconds() {
    let client = common::admin_client().await;
    let config_maps = Api::<ConfigMap>::namespaced(client, "istio-system");
    if config_maps.get_opt("istio").await.expect("get").is_none() {
        config_maps
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({
                    "metadata": {"name": "istio", "namespace": "istio-system"},
                    "data": {"mesh": "rootNamespace: istio-system\n"}
                }))
                .expect("ConfigMap"),
            )
            .await
            .expect("create");
    }
    let original = config_maps.get("istio").await.expect("get");
    for (word, mode) in [
        ("restricted", OutboundPolicyMode::RegistryOnly),
        ("allowed", OutboundPolicyMode::AllowAny),
        ("restricted", OutboundPolicyMode::RegistryOnly),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
            .args([
                "--kubeconfig",
                kubeconfig().to_str().expect("utf-8"),
                "outbound-traffic-policy",
                word,
            ])
            .output()
            .expect("cli");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let started = Instant::now();
        loop {
            if istiod_mode().await.as_ref() == Some(&mode) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "istiod reports {mode} within 2 s of the switch"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Leave the mesh config as the test found it.
    let mut current = config_maps.get("istio").await.expect("get");
    current.data = original.data.clone();
    config_maps
        .replace("istio", &PostParams::default(), &current)
        .await
        .expect("restore");
}

/// What the live apiserver (CRD schema and CEL) and istiod's webhook say of `object`, as a dry
/// run: whether it is accepted, and the refusal when it is not.
async fn live_verdict(api: &Api<DynamicObject>, object: &DynamicObject) -> (bool, Option<String>) {
    let dry_run = PostParams {
        dry_run: true,
        field_manager: None,
    };
    match api.create(&dry_run, object).await {
        Ok(_) => (true, None),
        Err(kube::Error::Api(status)) if (400..500).contains(&status.code) => {
            (false, Some(status.message.clone()))
        }
        Err(other) => panic!("the dry run itself failed: {other}"),
    }
}

/// Every corpus case goes through the real apiserver (CRD schema and CEL) and istiod's webhook
/// as a server-side dry run; `mesh-egress validate` must reach the same verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_agrees_with_the_live_apiserver_and_istiod_on_the_whole_corpus() {
    let ns = TestNamespace::new("differential").await;
    let resource = |kind: &str, plural: &str| {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("networking.istio.io", "v1", kind),
            plural,
        )
    };
    let mut live_verdicts = Vec::new();
    let mut objects = Vec::new();
    for (file, kind, plural) in [
        (
            "serviceentry-istiod-validation.json",
            "ServiceEntry",
            "serviceentries",
        ),
        (
            "serviceentry-crd-validation.json",
            "ServiceEntry",
            "serviceentries",
        ),
        ("sidecar-istiod-validation.json", "Sidecar", "sidecars"),
    ] {
        let path = root().join("tests/fixtures/corpus").join(file);
        let records: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
        let ar = resource(kind, plural);
        let api = Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &ar);
        for (i, record) in records.iter().enumerate() {
            let mut spec = record.get("spec").cloned().unwrap_or(Value::Null);
            restore_corpus_scalars(&mut spec);
            let labels = labels(record);
            let mut object =
                DynamicObject::new(&format!("corpus-{plural}-{i}"), &ar).within(&ns.name);
            if !labels.is_empty() {
                object.metadata.labels = Some(labels.clone());
            }
            if !spec.is_null() {
                object.data = serde_json::json!({ "spec": spec });
            }
            let (live_valid, live_error) = live_verdict(&api, &object).await;
            live_verdicts.push((
                format!("{file} {:?}", record["name"]),
                live_valid,
                live_error,
            ));
            objects.push(serde_json::to_value(&object).expect("object as JSON"));
        }
    }
    assert_eq!(objects.len(), 104);
    // The real command, as a user runs it: one List manifest, one line per object, in order.
    let manifest = std::env::temp_dir().join(format!(
        "mesh-egress-corpus-{:08x}.json",
        rand::random::<u32>()
    ));
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
    std::fs::write(&manifest, list.to_string()).expect("write manifest");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
        .args(["validate", "-f", manifest.to_str().expect("utf-8")])
        .output()
        .expect("run mesh-egress validate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), live_verdicts.len(), "{stdout}");
    let mut disagreements = Vec::new();
    for ((case, live_valid, live_error), line) in live_verdicts.iter().zip(&lines) {
        let ours_valid = !line.contains(": invalid: ");
        if ours_valid != *live_valid {
            disagreements.push(format!(
                "{case}: live valid={live_valid} ({live_error:?}), mesh-egress validate said {line}"
            ));
        }
    }
    let any_invalid = live_verdicts.iter().any(|(_, valid, _)| !valid);
    assert_eq!(output.status.code(), Some(i32::from(any_invalid)));
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The rules mesh-egress took from istiod's `ValidateServiceEntry` and `ValidateSidecar`
/// beyond the corpus (DYNAMIC_DNS, connection pools, durations, listener ports, egress hosts,
/// ingress TLS, egress proxies): each case is sent to the live apiserver and istiod as a dry
/// run, and mesh-egress must reach the same verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_beyond_the_corpus_agree_with_the_live_istiod() {
    use mesh_egress::domain::validation::{is_valid, validate_service_entry, validate_sidecar};
    use serde_json::json;
    let ns = TestNamespace::new("gap").await;
    let http = json!([{"number": 80, "name": "http", "protocol": "HTTP"}]);
    let tls = |tls: Value| json!({"ingress": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "tls": tls}]});
    let pool = |pool: Value| json!({ "inboundConnectionPool": pool });
    let service_entries = [
        json!({"hosts": ["*foo.example.com"], "resolution": "DYNAMIC_DNS", "ports": http}),
        json!({"hosts": ["*.example.com"], "resolution": "DYNAMIC_DNS", "ports": http}),
        json!({"hosts": ["*.example.com"], "resolution": "DYNAMIC_DNS", "ports": [{"number": 5432, "name": "pg", "protocol": "TCP"}]}),
        json!({"hosts": ["*.example.com"], "resolution": "DYNAMIC_DNS", "ports": [{"number": 80, "name": "http"}]}),
        json!({"hosts": ["a.example.com"], "resolution": "DYNAMIC_DNS", "ports": http}),
        json!({"hosts": ["a.example.com"], "resolution": "STATIC", "ports": http, "endpoints": [{"address": "192.0.2.1", "weight": 7}]}),
    ];
    let sidecars = [
        json!({"ingress": [{"port": {"number": 80, "protocol": "HTTP", "targetPort": 8080}}]}),
        json!({"egress": [{"port": {"number": 80, "protocol": "HTTP", "targetPort": 8080}, "hosts": ["*/*"]}]}),
        json!({"egress": [{"hosts": ["ns/shortname"]}]}),
        json!({"egress": [{"hosts": ["~ns/a.example.com", "*/b.example.com"]}]}),
        json!({"egress": [{"hosts": ["ns/192.0.2.1"]}]}),
        pool(json!({})),
        pool(json!({"tcp": {"maxConnections": -1}})),
        pool(json!({"http": {"maxRetries": -1}})),
        pool(json!({"tcp": {"connectTimeout": "0.5ms"}})),
        pool(json!({"tcp": {"connectTimeout": "1.5s"}})),
        pool(json!({"tcp": {"idleTimeout": "0s"}})),
        pool(json!({"http": {"h2UpgradePolicy": "UPGRADE", "useClientProtocol": true}})),
        pool(json!({"http": {"http2KeepAlive": {"interval": "10s"}}})),
        pool(json!({"http": {"http2KeepAlive": {"interval": "10s", "timeout": "3s"}}})),
        tls(json!({"mode": "SIMPLE"})),
        tls(json!({"mode": "SIMPLE", "serverCertificate": "/c.pem", "privateKey": "/k.pem"})),
        tls(json!({"mode": "MUTUAL", "serverCertificate": "/c.pem", "privateKey": "/k.pem"})),
        tls(
            json!({"mode": "SIMPLE", "serverCertificate": "/c.pem", "privateKey": "/k.pem", "caCrl": "/crl.pem"}),
        ),
        tls(json!({"mode": "PASSTHROUGH", "cipherSuites": ["NOT-A-CIPHER"]})),
        json!({"outboundTrafficPolicy": {"mode": "ALLOW_ANY_DYNAMIC_DNS"}}),
        json!({"outboundTrafficPolicy": {"mode": "ALLOW_ANY", "egressProxy": {"host": "proxy.example.com", "subset": "Bad_Subset", "port": {"number": 80}}}}),
        json!({"outboundTrafficPolicy": {"mode": "ALLOW_ANY", "egressProxy": {"host": "proxy.example.com", "port": {"number": 3128}}}}),
    ];
    let resource = |kind: &str, plural: &str| {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("networking.istio.io", "v1", kind),
            plural,
        )
    };
    // And the case of every rule (tests/fixtures/rules/cases.json, which the unit tests use).
    let rule_cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/rules/cases.json")).expect("read"),
    )
    .expect("json");
    let no_labels = Value::Null;
    let mut disagreements = Vec::new();
    let cases = service_entries
        .iter()
        .map(|spec| ("ServiceEntry", spec, &no_labels))
        .chain(sidecars.iter().map(|spec| ("Sidecar", spec, &no_labels)))
        .chain(rule_cases.iter().map(|case| {
            let kind = if case["kind"] == "Sidecar" {
                "Sidecar"
            } else {
                "ServiceEntry"
            };
            (kind, &case["spec"], &case["labels"])
        }));
    for (i, (kind, spec, labels)) in cases.enumerate() {
        let plural = if kind == "Sidecar" {
            "sidecars"
        } else {
            "serviceentries"
        };
        let ar = resource(kind, plural);
        let labels: std::collections::BTreeMap<String, String> =
            serde_json::from_value(labels.clone()).unwrap_or_default();
        let mut object = DynamicObject::new(&format!("gap-{i}"), &ar).within(&ns.name);
        if !labels.is_empty() {
            object.metadata.labels = Some(labels.clone());
        }
        if !spec.is_null() {
            object.data = json!({ "spec": spec });
        }
        let api = Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &ar);
        let (live_valid, live_error) = live_verdict(&api, &object).await;
        let ours = match kind {
            "ServiceEntry" => validate_service_entry(&ns.name, &labels, Some(spec)),
            _ => validate_sidecar(&ns.name, Some(spec)),
        };
        if is_valid(&ours) != live_valid {
            disagreements.push(format!(
                "{kind} {spec}: live valid={live_valid} ({live_error:?}), mesh-egress found {ours:?}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
