//! Editing a ServiceEntry in place, against the real API server and istiod: the diff before
//! saving, a change made meanwhile never overwritten, fields the form does not show kept,
//! refusals that write nothing.

mod common;

use common::{service_entry_resource, TestNamespace};
use kube::api::{Api, Patch, PatchParams};
use kube::core::DynamicObject;
use mesh_egress::domain::edit::DiffLine;
use mesh_egress::domain::service_entry::ServiceEntryDetail;
use mesh_egress::error::AppError;
use mesh_egress::service::{preview_edit, save_edit, service_entry, Actor, Edit};
use serde_json::json;

async fn stored(ns: &TestNamespace, name: &str) -> DynamicObject {
    ns.service_entry(name).await.expect("the entry exists")
}

/// A namespace holding the entry `httpbin` (labelled, annotated, with a `workloadSelector`
/// the form does not show), and the entry's page as a local user opens it, with its version.
async fn opened(prefix: &str) -> (TestNamespace, Actor, ServiceEntryDetail, String) {
    let ns = TestNamespace::new(prefix).await;
    let object = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "httpbin", "namespace": ns.name,
                     "labels": {"team": "payments"}, "annotations": {"owner": "alice"}},
        "spec": {"hosts": ["httpbin.org"],
                 "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                 "resolution": "DNS", "location": "MESH_EXTERNAL",
                 "workloadSelector": {"labels": {"app": "legacy"}}}
    });
    ns.create_service_entry_object(serde_json::from_value(object).expect("object"))
        .await;
    // istiod allocates the entry an address (`status.addresses`) right after it is created,
    // which moves its version: the page is opened once that has happened, as a person would.
    for _ in 0..100 {
        if stored(&ns, "httpbin").await.data["status"]["addresses"].is_array() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let actor = common::local_actor(&ns.cluster().await);
    let detail = service_entry(&actor, &ns.name, "httpbin")
        .await
        .expect("detail");
    let version = detail.view.seen.clone().expect("version").resource_version;
    (ns, actor, detail, version)
}

#[tokio::test]
async fn an_edit_shows_its_diff_keeps_what_the_form_does_not_know_and_never_overwrites() {
    // The page: the form filled in from the entry, and the version it was opened at.
    let (ns, actor, detail, opened_at) = opened("se-edit").await;
    let mut form = detail.form.clone().expect("the form shows this entry");
    assert_eq!(form.ports, "80 http HTTP");
    form.ports = "80 http HTTP\n443 https TLS".into();
    let edit = Edit::Form(Box::new(form));

    // The preview: judged by istiod (a dry run), nothing written, the change named.
    let preview = preview_edit(&actor, &ns.name, "httpbin", &opened_at, &edit)
        .await
        .expect("preview");
    assert!(!preview.changed_since_opened);
    let paths: Vec<&str> = preview.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["spec.ports[1]"], "{preview:?}");
    let added: Vec<&String> = preview
        .lines
        .iter()
        .filter_map(|l| match l {
            DiffLine::Added(text) => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        added.iter().any(|l| l.contains("443")),
        "the YAML diff adds the port: {added:?}"
    );
    let ports = |o: &DynamicObject| o.data["spec"]["ports"].as_array().map_or(0, Vec::len);
    assert_eq!(
        ports(&stored(&ns, "httpbin").await),
        1,
        "a preview writes nothing"
    );

    // Someone labels the entry with kubectl between the preview and the click on Save.
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &service_entry_resource())
        .patch(
            "httpbin",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"reviewed": "yes"}}})),
        )
        .await
        .expect("label");
    let refused = save_edit(
        &actor,
        &ns.name,
        "httpbin",
        &preview.resource_version,
        &edit,
    )
    .await;
    match refused {
        Err(AppError::Conflict { message }) => {
            assert!(message.contains("changed since you opened it"), "{message}")
        }
        other => panic!("a stale save must be refused: {other:?}"),
    }
    assert_eq!(ports(&stored(&ns, "httpbin").await), 1, "nothing was saved");

    // Preview again: the diff is against the new version, and says so; then save.
    let again = preview_edit(&actor, &ns.name, "httpbin", &opened_at, &edit)
        .await
        .expect("preview again");
    assert!(again.changed_since_opened);
    assert_ne!(again.resource_version, preview.resource_version);
    let saved = save_edit(&actor, &ns.name, "httpbin", &again.resource_version, &edit)
        .await
        .expect("saved");
    assert_eq!(saved.ports.len(), 2);
    let after = stored(&ns, "httpbin").await;
    assert_eq!(ports(&after), 2);
    assert_eq!(after.data["spec"]["ports"][1]["protocol"], "TLS");
    let labels = after.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("payments"));
    assert_eq!(
        labels.get("reviewed").map(String::as_str),
        Some("yes"),
        "the concurrent label survives"
    );
    let annotations = after.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations.get("owner").map(String::as_str), Some("alice"));
    assert_eq!(
        after.data["spec"]["workloadSelector"]["labels"]["app"], "legacy",
        "a field the form does not show survives"
    );
}

#[tokio::test]
async fn refused_edits_write_nothing() {
    let (ns, actor, detail, version) = opened("se-edit-bad").await;
    let before = stored(&ns, "httpbin").await;

    // A port line that does not read: refused at the field by mesh-egress's rules.
    let mut form = detail.form.clone().expect("form");
    form.ports = "eighty http HTTP".into();
    match save_edit(
        &actor,
        &ns.name,
        "httpbin",
        &version,
        &Edit::Form(Box::new(form)),
    )
    .await
    {
        Err(AppError::Rejected { findings }) => {
            assert!(findings.iter().any(|f| f.field == "ports"), "{findings:?}")
        }
        other => panic!("refused: {other:?}"),
    }

    // A manifest of another entry: refused, naming both.
    let other = format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: other\n  \
         namespace: {}\nspec:\n  hosts: [other.example.com]\n  resolution: DNS\n  ports:\n  - \
         {{number: 80, name: http, protocol: HTTP}}\n",
        ns.name
    );
    match preview_edit(
        &actor,
        &ns.name,
        "httpbin",
        &version,
        &Edit::Manifest(other),
    )
    .await
    {
        Err(AppError::Rejected { findings }) => {
            assert!(findings[0].message.contains("other"), "{findings:?}")
        }
        other => panic!("refused: {other:?}"),
    }

    // The name cannot change through the form.
    let mut renamed = detail.form.clone().expect("form");
    renamed.name = "renamed".into();
    assert!(matches!(
        save_edit(
            &actor,
            &ns.name,
            "httpbin",
            &version,
            &Edit::Form(Box::new(renamed))
        )
        .await,
        Err(AppError::Rejected { .. })
    ));

    let after = stored(&ns, "httpbin").await;
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "nothing was written"
    );
}

/// `mesh-egress apply -f FILE [--dry-run]`, as a person runs it.
fn apply(file: &std::path::Path, dry_run: bool) -> (bool, String, String) {
    apply_with(file, if dry_run { &["--dry-run"] } else { &[] })
}

#[tokio::test]
async fn apply_creates_prints_the_diff_and_changes_and_dry_run_writes_nothing() {
    let ns = TestNamespace::new("se-apply").await;
    let dir = std::env::temp_dir().join(format!("mesh-egress-apply-{}", ns.name));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("stripe.yaml");
    let manifest = |ports: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: stripe\n  \
             namespace: {}\nspec:\n  hosts: [api.stripe.com]\n  resolution: DNS\n  ports:\n{ports}",
            ns.name
        )
    };
    let tls = "  - {number: 443, name: tls, protocol: TLS}\n";
    std::fs::write(&file, manifest(tls)).expect("write");
    let (ok, out, err) = apply(&file, false);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("serviceentry {}/stripe created", ns.name)),
        "{out}"
    );

    let http = "  - {number: 80, name: http, protocol: HTTP}\n";
    std::fs::write(&file, manifest(&format!("{tls}{http}"))).expect("write");
    let (ok, out, err) = apply(&file, true);
    assert!(ok, "{out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with('+') && l.contains("80")),
        "the diff: {out}"
    );
    assert!(out.contains("spec.ports[1]"), "{out}");
    assert!(out.contains("dry run: nothing written"), "{out}");
    let ports = |o: &DynamicObject| o.data["spec"]["ports"].as_array().map_or(0, Vec::len);
    assert_eq!(
        ports(&stored(&ns, "stripe").await),
        1,
        "a dry run writes nothing"
    );

    let (ok, out, err) = apply(&file, false);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("serviceentry {}/stripe configured", ns.name)),
        "{out}"
    );
    assert_eq!(ports(&stored(&ns, "stripe").await), 2);
    let (ok, out, _) = apply(&file, false);
    assert!(ok && out.contains("unchanged"), "{out}");

    // Invalid: exit 1 with the field and the reason; nothing written.
    std::fs::write(
        &file,
        manifest("  - {number: 99999, name: http, protocol: HTTP}\n"),
    )
    .expect("write");
    let (ok, out, err) = apply(&file, false);
    assert!(!ok, "{out}");
    assert!(err.contains("spec.ports[0].number"), "{err}");
    assert_eq!(ports(&stored(&ns, "stripe").await), 2);
}

#[tokio::test]
async fn the_yaml_shown_on_the_page_edits_the_whole_object() {
    let (ns, actor, detail, version) = opened("se-edit-yaml").await;
    // The page's YAML (server fields and all), with one label changed as a person would.
    assert!(detail.yaml.contains("team: payments"), "{}", detail.yaml);
    let edit = Edit::Manifest(detail.yaml.replace("team: payments", "team: checkout"));
    let preview = preview_edit(&actor, &ns.name, "httpbin", &version, &edit)
        .await
        .expect("preview");
    let paths: Vec<&str> = preview.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["metadata.labels.team"], "{preview:?}");
    save_edit(
        &actor,
        &ns.name,
        "httpbin",
        &preview.resource_version,
        &edit,
    )
    .await
    .expect("saved");
    let after = stored(&ns, "httpbin").await;
    let labels = after.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("checkout"));
    assert_eq!(
        after.data["spec"]["workloadSelector"]["labels"]["app"],
        "legacy"
    );
}

/// `mesh-egress apply -f FILE` with extra arguments (`--force`), as a person runs it.
fn apply_with(file: &std::path::Path, extra: &[&str]) -> (bool, String, String) {
    let kubeconfig = common::kubeconfig();
    let mut args = vec![
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "apply",
        "-f",
        file.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
        .args(args)
        .output()
        .expect("run mesh-egress apply");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// A merge patch as another tool sends it, under its own field manager.
async fn patched_by(ns: &TestNamespace, name: &str, manager: &str, patch: serde_json::Value) {
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &service_entry_resource())
        .patch(
            name,
            &PatchParams {
                field_manager: Some(manager.into()),
                ..PatchParams::default()
            },
            &Patch::Merge(&patch),
        )
        .await
        .expect("another tool's patch");
}

#[tokio::test]
async fn apply_keeps_what_other_tools_own_and_names_the_owner_of_a_conflict() {
    let ns = TestNamespace::new("se-apply-ssa").await;
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("{}-ssa.yaml", ns.name));
    let manifest = |port: u16| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: edge\n  \
             namespace: {}\nspec:\n  hosts: [edge.example.com]\n  resolution: DNS\n  \
             location: MESH_EXTERNAL\n  ports:\n  - {{number: {port}, name: tls, protocol: TLS}}\n",
            ns.name
        )
    };
    std::fs::write(&file, manifest(443)).expect("write under target/");
    let (ok, out, err) = apply_with(&file, &[]);
    assert!(ok, "{out}{err}");
    // `kubectl label serviceentry edge team=edge`: a label the file does not mention.
    patched_by(
        &ns,
        "edge",
        "kubectl-label",
        json!({"metadata": {"labels": {"team": "edge"}}}),
    )
    .await;

    std::fs::write(&file, manifest(8443)).expect("write");
    let (ok, out, err) = apply_with(&file, &["--dry-run"]);
    assert!(ok, "{out}{err}");
    assert!(
        !out.contains("team"),
        "the dry run does not drop the label: {out}"
    );
    let (ok, out, err) = apply_with(&file, &[]);
    assert!(ok, "{out}{err}");
    let after = stored(&ns, "edge").await;
    assert_eq!(after.data["spec"]["ports"][0]["number"], 8443);
    assert_eq!(
        after
            .metadata
            .labels
            .unwrap_or_default()
            .get("team")
            .map(String::as_str),
        Some("edge"),
        "the label another tool set survives the apply"
    );

    // Another tool changes a field the file sets: the apply names it and its owner.
    patched_by(
        &ns,
        "edge",
        "kubectl-edit",
        json!({"spec": {"location": "MESH_INTERNAL"}}),
    )
    .await;
    std::fs::write(&file, manifest(9443)).expect("write");
    let (ok, out, err) = apply_with(&file, &[]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("kubectl-edit") && err.contains(".spec.location"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    let kept = stored(&ns, "edge").await;
    assert_eq!(
        kept.data["spec"]["location"], "MESH_INTERNAL",
        "nothing written"
    );
    assert_eq!(kept.data["spec"]["ports"][0]["number"], 8443);
    let (ok, out, err) = apply_with(&file, &["--force"]);
    assert!(ok, "{out}{err}");
    let forced = stored(&ns, "edge").await;
    assert_eq!(forced.data["spec"]["location"], "MESH_EXTERNAL");
    assert_eq!(forced.data["spec"]["ports"][0]["number"], 9443);
    let _ = std::fs::remove_file(&file);
}
