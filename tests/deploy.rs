//! deploy/: the manifests (and both overlays) apply, the shipped mode is shared, and the
//! ServiceAccount they create can do every operation the server performs with its own
//! identity — and nothing more (real RBAC, a real TokenRequest).

mod common;

use common::{httpbin_spec, kubeconfig, TestNamespace};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use mesh_egress::cluster::{Change, Changed, Cluster, ConnectOptions, KeepForUndo};
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

/// What the API server says the deployed ServiceAccount may do (`kubectl auth can-i`).
fn sa_can(args: &[&str]) -> bool {
    let mut all = vec!["auth", "can-i"];
    all.extend_from_slice(args);
    all.push("--as=system:serviceaccount:mesh-egress:mesh-egress");
    let (ok, out) = kubectl(&all);
    // The answer is the first line; kubectl may add a warning after it.
    let answer = out.lines().next().unwrap_or_default().trim();
    assert!(
        answer == "yes" || answer.starts_with("no"),
        "can-i {args:?}: {out}"
    );
    ok
}

fn deploy_dir(overlay: &str) -> String {
    root()
        .join("deploy")
        .join(overlay)
        .to_str()
        .expect("utf-8")
        .to_string()
}

#[tokio::test]
async fn deploy_is_safe_as_shipped_and_its_service_account_does_what_the_server_does() {
    // NB: a server-side dry run creates nothing, so the namespaced objects need their
    // namespace to exist already.
    let namespace = root().join("deploy/base/namespace.yaml");
    let (ok, out) = kubectl(&[
        "apply",
        "--server-side",
        "-f",
        namespace.to_str().expect("utf-8"),
    ]);
    assert!(ok, "namespace: {out}");
    for overlay in ["", "local", "proxy"] {
        let (ok, out) = kubectl(&["apply", "--dry-run=server", "-k", &deploy_dir(overlay)]);
        assert!(ok, "server-side dry run of deploy/{overlay}: {out}");
    }
    // As shipped: shared mode (token sign-in), nothing served without a user.
    let (ok, rendered) = kubectl(&["kustomize", &deploy_dir("")]);
    assert!(ok, "{rendered}");
    assert!(
        rendered.contains("- --auth\n        - token")
            && !rendered.contains("allow-unauthenticated"),
        "deploy/ runs shared mode: {rendered}"
    );
    assert!(rendered.contains("kind: NetworkPolicy"), "{rendered}");
    let (ok, local) = kubectl(&["kustomize", &deploy_dir("local")]);
    assert!(ok, "{local}");
    assert!(
        local.contains("127.0.0.1:8080") && !local.contains("allow-unauthenticated"),
        "local mode listens on the pod's loopback (port-forward only): {local}"
    );
    let (ok, out) = kubectl(&["apply", "--server-side", "-k", &deploy_dir("")]);
    assert!(ok, "apply deploy/: {out}");

    let ns = TestNamespace::new("deploy").await;
    let sa = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(service_account_kubeconfig()),
        istio_namespace: ns.name.clone(),
        state_namespace: Some("mesh-egress".into()),
        ..Default::default()
    })
    .await
    .expect("connect as the ServiceAccount");

    // What the server does with its own identity in shared mode: the shared reads...
    sa.namespaces().await.expect("namespaces");
    sa.sidecar_policies().await.expect("Sidecars");
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
    // ...the audit trail...
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    sa.record_change(
        &sa,
        Change {
            object: Changed::ServiceEntry {
                namespace: ns.name.clone(),
                name: "httpbin.org".into(),
            },
            reason: "DeployTest",
            what: "checked the audit trail".into(),
        },
    )
    .await;
    let events = Api::<Event>::namespaced(ns.client.clone(), &ns.name)
        .list(&ListParams::default())
        .await
        .expect("events");
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("DeployTest")),
        "the ServiceAccount wrote the audit Event"
    );
    // ...and its own state: the undo record of a user's delete, signed-out sessions.
    let user = ns.cluster().await;
    let keep = KeepForUndo {
        store: &sa,
        deleted_by: "admin",
        until: mesh_egress::auth::now() + 60,
    };
    user.delete_service_entry(&ns.name, "httpbin.org", None, Some(&keep))
        .await
        .expect("a user's delete, with the undo record written by the ServiceAccount");
    let record = sa
        .undo_record(&ns.name, "httpbin.org", mesh_egress::auth::now())
        .await
        .expect("read the undo record")
        .expect("an undo record");
    user.restore_service_entry(&record).await.expect("undo");
    sa.forget_undo(&record.record).await.expect("forget");
    sa.sweep_undo_records(mesh_egress::auth::now())
        .await
        .expect("sweep");
    sa.revoke_session(
        "deploy-test-session",
        mesh_egress::auth::now() + 60,
        mesh_egress::auth::now(),
    )
    .await
    .expect("revoke a session");

    // Nothing more: in shared mode users write with their own identity, never the server's.
    for (args, allowed) in [
        (
            vec!["list", "serviceentries.networking.istio.io", "-A"],
            true,
        ),
        (vec!["create", "configmaps", "-n", "mesh-egress"], true),
        (
            vec!["watch", "serviceentries.networking.istio.io", "-A"],
            true,
        ),
        (vec!["watch", "namespaces"], true),
        (vec!["watch", "sidecars.networking.istio.io", "-A"], true),
        (
            vec!["watch", "virtualservices.networking.istio.io", "-A"],
            true,
        ),
        (
            vec![
                "create",
                "virtualservices.networking.istio.io",
                "-n",
                &ns.name,
            ],
            false,
        ),
        (vec!["watch", "configmaps", "-A"], false),
        (
            vec![
                "create",
                "serviceentries.networking.istio.io",
                "-n",
                &ns.name,
            ],
            false,
        ),
        (
            vec![
                "delete",
                "serviceentries.networking.istio.io",
                "-n",
                &ns.name,
            ],
            false,
        ),
        (
            vec!["get", "serviceentries.networking.istio.io", "-n", &ns.name],
            false,
        ),
        (
            vec!["update", "sidecars.networking.istio.io", "-n", &ns.name],
            false,
        ),
        (
            vec!["update", "configmaps/istio", "-n", "istio-system"],
            false,
        ),
        (vec!["get", "configmaps", "-n", &ns.name], false),
        (vec!["get", "secrets", "-n", "mesh-egress"], false),
        (vec!["impersonate", "users"], false),
    ] {
        assert_eq!(sa_can(&args), allowed, "shared mode: can-i {args:?}");
    }

    // Local mode (port-forward only): the ServiceAccount writes for its one user, and the
    // mesh ConfigMap only by name, in istio-system only (a Role, not a ClusterRole).
    let local_rbac = deploy_dir("local/rbac.yaml");
    let (ok, out) = kubectl(&["apply", "--server-side", "-f", &local_rbac]);
    assert!(ok, "{out}");
    for (args, allowed) in [
        (
            vec![
                "create",
                "serviceentries.networking.istio.io",
                "-n",
                &ns.name,
            ],
            true,
        ),
        (
            vec![
                "delete",
                "serviceentries.networking.istio.io",
                "-n",
                &ns.name,
            ],
            true,
        ),
        (
            vec![
                "update",
                "serviceentries.networking.istio.io",
                "-n",
                &ns.name,
            ],
            true,
        ),
        (
            vec!["update", "sidecars.networking.istio.io", "-n", &ns.name],
            true,
        ),
        (
            vec!["delete", "sidecars.networking.istio.io", "-n", &ns.name],
            true,
        ),
        (vec!["list", "services", "-A"], true),
        (
            vec![
                "create",
                "gateways.networking.istio.io",
                "-n",
                "istio-system",
            ],
            true,
        ),
        (
            vec![
                "delete",
                "virtualservices.networking.istio.io",
                "-n",
                &ns.name,
            ],
            true,
        ),
        (
            vec![
                "update",
                "virtualservices.networking.istio.io",
                "-n",
                &ns.name,
            ],
            false,
        ),
        (
            vec!["update", "configmaps/istio", "-n", "istio-system"],
            true,
        ),
        (vec!["update", "configmaps/istio", "-n", &ns.name], false),
        (
            vec!["update", "configmaps/other", "-n", "istio-system"],
            false,
        ),
        (
            vec![
                "patch",
                "istiocontrolplanes.servicemesh.cisco.com",
                "-n",
                "istio-system",
            ],
            true,
        ),
        (vec!["get", "secrets", "-n", "istio-system"], false),
    ] {
        assert_eq!(sa_can(&args), allowed, "local mode: can-i {args:?}");
    }
    let (ok, out) = kubectl(&["delete", "-f", &local_rbac]);
    assert!(ok, "{out}");
    // Proxy mode: impersonation, and nothing else beyond shared mode.
    let proxy_rbac = deploy_dir("proxy/rbac.yaml");
    let (ok, out) = kubectl(&["apply", "--server-side", "-f", &proxy_rbac]);
    assert!(ok, "{out}");
    assert!(sa_can(&["impersonate", "users"]), "proxy mode impersonates");
    assert!(
        !sa_can(&["impersonate", "serviceaccounts"]),
        "but not ServiceAccounts"
    );
    let (ok, out) = kubectl(&["delete", "-f", &proxy_rbac]);
    assert!(ok, "{out}");
}
