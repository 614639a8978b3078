//! Namespace by namespace, against the real control plane, istiod, the traffic source and
//! Prometheus: restricting one namespace blocks its passthrough calls (as istiod pushes it)
//! and leaves other namespaces alone; lifting it puts its Sidecar back exactly.

mod common;

use common::traffic::*;
use common::TestNamespace;
use kube::api::{Api, PostParams};
use kube::core::DynamicObject;
use mesh_egress::domain::map::EdgeKind;
use mesh_egress::domain::restrict::NamespaceTarget;
use mesh_egress::domain::rollout::{Readiness, RolloutRow};
use mesh_egress::domain::traffic::Window;
use mesh_egress::error::AppError;
use mesh_egress::service::{
    namespace_policy, preview_namespace_policy, rollout, set_namespace_policy, Traffic,
};
use std::time::Duration;

/// The rollout view's row for `namespace`.
fn row_of(view: &mesh_egress::domain::rollout::Rollout, namespace: &str) -> RolloutRow {
    view.rows
        .iter()
        .find(|r| r.namespace == namespace)
        .cloned()
        .unwrap_or_else(|| panic!("{namespace} is not listed"))
}

/// A Sidecar as the test compares it: what a person wrote, not what the server adds.
fn as_written(object: &DynamicObject) -> serde_json::Value {
    serde_json::json!({
        "labels": object.metadata.labels,
        "annotations": object.metadata.annotations,
        "spec": object.data.get("spec"),
    })
}

async fn sidecar(ns: &TestNamespace, name: &str) -> Option<DynamicObject> {
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &sidecar_resource())
        .get_opt(name)
        .await
        .expect("read the Sidecar")
}

#[tokio::test]
async fn restricting_one_namespace_blocks_its_calls_only_and_lifting_restores_its_sidecar() {
    let shop = TestNamespace::new("restrict-shop").await;
    let other = TestNamespace::new("restrict-other").await;
    let (s, o) = (&shop.name, &other.name);
    // The shop's own Sidecar, written by hand: it must come back exactly.
    let mut own = DynamicObject::new("default", &sidecar_resource()).within(s);
    own.metadata.labels = Some([("team".to_string(), "shop".to_string())].into());
    own.metadata.annotations = Some([("owner".to_string(), "ops".to_string())].into());
    own.data = serde_json::json!({"spec": {
        "egress": [{"hosts": ["./*", "istio-system/*"]}],
        "outboundTrafficPolicy": {"mode": "ALLOW_ANY"}
    }});
    let own = create_sidecar(&shop, own).await;
    let _scenario = Scenario::play(
        s,
        &format!(
            "calls:\n\
             - {{from: {s}/app, to: rollout.{s}.example, port: 443, protocol: TLS, perMinute: 120}}\n\
             - {{from: {o}/app, to: rollout.{s}.example, port: 443, protocol: TLS, perMinute: 120}}\n"
        ),
    );
    let from_shop = format!("{s}/app -> rollout.{s}.example:443/TLS/");
    let from_other = format!("{o}/app -> rollout.{s}.example:443/TLS/");
    wait_for_verdict(&from_shop, "PassthroughCluster (tcp").await;
    wait_for_verdict(&from_other, "PassthroughCluster (tcp").await;
    wait_for_series(
        "istio_tcp_connections_opened_total",
        s,
        r#"destination_service_name="PassthroughCluster""#,
    )
    .await;
    // Istio's own namespace is the root: the policy and Sidecars as istiod sees them.
    let actor = actor(
        common::istio_system_cluster().await,
        Traffic::new(
            Some(prometheus(Duration::from_secs(5))),
            Duration::from_secs(6),
        ),
    );

    // The preview names the Sidecar change and the shop's passthrough call; nothing is written.
    let preview = preview_namespace_policy(&actor, s, "restricted", Window::Hour)
        .await
        .expect("a preview");
    assert_eq!(preview.target, NamespaceTarget::Restricted);
    assert_eq!(
        preview.change.as_deref(),
        Some(format!("changes Sidecar {s}/default").as_str())
    );
    assert!(
        preview.blocked.iter().all(|b| &b.namespace == s) && !preview.blocked.is_empty(),
        "{:?}",
        preview.blocked
    );
    assert!(
        preview
            .lines
            .iter()
            .any(|l| l.unified() == "+    mode: REGISTRY_ONLY"),
        "{:?}",
        preview.lines
    );
    let unchanged = sidecar(&shop, "default").await.expect("still there");
    assert_eq!(
        unchanged.metadata.resource_version,
        own.metadata.resource_version
    );

    // The rollout view before: both namespaces not ready, for the same host.
    let before = rollout(&actor, Window::Hour, "")
        .await
        .expect("the rollout view");
    for ns in [s, o] {
        let row = row_of(&before, ns);
        assert_eq!(row.readiness, Readiness::NotReady, "{ns}: {row:?}");
    }

    // Restrict the shop: its call is blocked by what istiod pushes; the other's still passes.
    let after = set_namespace_policy(&actor, s, "restricted")
        .await
        .expect("restricted");
    assert!(after.restricted() && after.recorded, "{after:?}");
    wait_for_verdict(&from_shop, "BlackHoleCluster (tcp").await;
    wait_for_series(
        "istio_tcp_connections_opened_total",
        s,
        r#"destination_service_name="BlackHoleCluster""#,
    )
    .await;
    assert!(
        verdict(&from_other)
            .await
            .is_some_and(|v| v.starts_with("PassthroughCluster")),
        "the other namespace is unchanged"
    );
    let view = rollout(&actor, Window::Hour, "")
        .await
        .expect("the rollout view");
    let row = |ns: &str| row_of(&view, ns);
    assert_eq!(row(s).readiness, Readiness::Restricted);
    assert_eq!(row(o).readiness, Readiness::NotReady);
    assert!(row(s)
        .line(Window::Hour)
        .starts_with(&format!("{s} restricted (namespace Sidecar default)")));

    // Lift it: the Sidecar is exactly as written by hand, and the call passes again.
    let lifted = set_namespace_policy(&actor, s, "allowed")
        .await
        .expect("lifted");
    assert!(!lifted.restricted() && !lifted.recorded, "{lifted:?}");
    let back = sidecar(&shop, "default").await.expect("still there");
    assert_eq!(as_written(&back), as_written(&own));
    wait_for_verdict(&from_shop, "PassthroughCluster (tcp").await;

    // A namespace without a Sidecar gets one from mesh-egress, deleted again on lifting.
    let policy = namespace_policy(&actor, o)
        .await
        .expect("the other's policy");
    assert_eq!(policy.offered, NamespaceTarget::Restricted);
    set_namespace_policy(&actor, o, "restricted")
        .await
        .expect("restricted");
    let created = sidecar(&other, "default").await.expect("created");
    assert_eq!(
        created
            .metadata
            .labels
            .unwrap_or_default()
            .get("app.kubernetes.io/managed-by"),
        Some(&"mesh-egress".to_string())
    );
    wait_for_verdict(&from_other, "BlackHoleCluster (tcp").await;
    set_namespace_policy(&actor, o, "allowed")
        .await
        .expect("lifted");
    assert!(sidecar(&other, "default").await.is_none(), "deleted again");
    wait_for_verdict(&from_other, "PassthroughCluster (tcp").await;
}

#[tokio::test]
async fn refused_cases_write_nothing() {
    let ns = TestNamespace::new("restrict-refused").await;
    let actor = common::local_actor(&common::istio_system_cluster().await);
    let root = set_namespace_policy(&actor, "istio-system", "restricted")
        .await
        .expect_err("the root namespace is refused");
    assert!(
        matches!(&root, AppError::Invalid { field, reason } if field == "namespace" && reason.contains("root namespace")),
        "{root:?}"
    );
    let mode = set_namespace_policy(&actor, &ns.name, "closed")
        .await
        .expect_err("an unknown mode is refused");
    assert!(
        matches!(&mode, AppError::Invalid { field, .. } if field == "mode"),
        "{mode:?}"
    );
    let name = set_namespace_policy(&actor, "Not_A_Namespace", "restricted")
        .await
        .expect_err("a bad namespace name is refused");
    assert!(
        matches!(&name, AppError::Invalid { field, .. } if field == "namespace"),
        "{name:?}"
    );
    assert!(
        sidecar(&ns, "default").await.is_none(),
        "nothing was written"
    );
    // Already allowed: nothing to write, and nothing is.
    let unchanged = set_namespace_policy(&actor, &ns.name, "allowed")
        .await
        .expect("nothing to do");
    assert!(!unchanged.restricted());
    assert!(sidecar(&ns, "default").await.is_none());
}

#[tokio::test]
async fn the_command_line_prints_the_rollout_and_restricts_one_namespace() {
    let ns = TestNamespace::new("restrict-cli").await;
    let n = &ns.name;
    let _scenario = Scenario::play(
        n,
        &format!(
            "calls:\n- {{from: {n}/app, to: cli.{n}.example, port: 443, protocol: TLS, perMinute: 120}}\n"
        ),
    );
    wait_for_series(
        "istio_tcp_connections_opened_total",
        n,
        r#"destination_service_name="PassthroughCluster""#,
    )
    .await;
    // The traffic source's connections carry no host name (standard metrics): "unknown host".
    let mut line = String::new();
    for _ in 0..20 {
        let (_, out, _) = common::mesh_egress(&["rollout"]);
        line = out
            .lines()
            .find(|l| l.starts_with(&format!("{n} ")))
            .unwrap_or_default()
            .to_string();
        if line.contains("not ready") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(
        line,
        format!(
            "{n} not ready (1 destination would be blocked: unknown host:?) [no sidecar injection]"
        )
    );

    let (ok, out, err) = common::mesh_egress(&[
        "outbound-traffic-policy",
        "restricted",
        "--namespace",
        n,
        "--dry-run",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "REGISTRY_ONLY {n}: creates Sidecar {n}/default; it would block 1 destination"
        )) && out.contains("dry run: nothing was changed")
            && out.contains("+    mode: REGISTRY_ONLY"),
        "{out}"
    );
    assert!(
        sidecar(&ns, "default").await.is_none(),
        "a dry run writes nothing"
    );

    let restricted = format!(
        "namespace {n} outbound traffic policy is set to 'REGISTRY_ONLY' (namespace Sidecar default)\n"
    );
    let (ok, out, err) =
        common::mesh_egress(&["outbound-traffic-policy", "restricted", "--namespace", n]);
    assert!(ok, "{err}");
    assert_eq!(out, restricted);
    let (_, shown, _) = common::mesh_egress(&["outbound-traffic-policy", "--namespace", n]);
    assert_eq!(shown, restricted);
    let (_, rollout_out, _) = common::mesh_egress(&["rollout"]);
    assert!(
        rollout_out.contains(&format!("{n} restricted (namespace Sidecar default)")),
        "{rollout_out}"
    );

    let (ok, out, err) =
        common::mesh_egress(&["outbound-traffic-policy", "allowed", "--namespace", n]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "namespace {n} outbound traffic policy is set to 'ALLOW_ANY'"
        )),
        "{out}"
    );
    assert!(
        sidecar(&ns, "default").await.is_none(),
        "the Sidecar it created is gone"
    );

    let (ok, _, err) =
        common::mesh_egress(&["outbound-traffic-policy", "closed", "--namespace", n]);
    assert!(!ok && err.contains("'closed' is not a policy"), "{err}");
}

#[tokio::test]
async fn hosts_out_of_a_namespaces_sight_would_be_blocked_there_as_istiod_agrees() {
    let owner = TestNamespace::new("scope-owner").await;
    let caller = TestNamespace::new("scope-caller").await;
    let narrow = TestNamespace::new("scope-narrow").await;
    let (w, c, n) = (&owner.name, &caller.name, &narrow.name);
    let scoped = format!("scoped.{w}.example");
    let open = format!("open.{w}.example");
    let http = |host: &str, export_to: &str| {
        serde_json::json!({
            "hosts": [host], "exportTo": [export_to],
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            "resolution": "DNS", "location": "MESH_EXTERNAL"
        })
    };
    // Registered for its own namespace only; and one for everyone (which also gives every
    // sidecar an HTTP listener on 80, so unregistered HTTP keeps its Host header).
    owner
        .create_service_entry("scoped", http(&scoped, "."))
        .await;
    owner.create_service_entry("open", http(&open, "*")).await;
    // A Sidecar that imports only its own namespace and Istio's.
    http_listener_on_80(&narrow).await;
    let mut own = DynamicObject::new("default", &sidecar_resource()).within(n);
    own.data = serde_json::json!({"spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}]}});
    create_sidecar(&narrow, own).await;
    let _scenario = Scenario::play(
        w,
        &format!(
            "calls:\n\
             - {{from: {w}/app, to: {scoped}, port: 80, protocol: HTTP, perMinute: 120}}\n\
             - {{from: {c}/app, to: {scoped}, port: 80, protocol: HTTP, perMinute: 120}}\n\
             - {{from: {n}/app, to: {open}, port: 80, protocol: HTTP, perMinute: 120}}\n"
        ),
    );
    let line = |from: &str, host: &str| format!("{from}/app -> {host}:80/HTTP/");
    wait_for_verdict(&line(w, &scoped), "registered").await;
    wait_for_verdict(&line(c, &scoped), "PassthroughCluster (http").await;
    wait_for_verdict(&line(n, &open), "PassthroughCluster (http").await;
    for (ns, host) in [(c, &scoped), (n, &open)] {
        wait_for_series(
            "istio_requests_total",
            ns,
            &format!(
                r#"destination_service="{host}",destination_service_name="PassthroughCluster""#
            ),
        )
        .await;
    }
    wait_for_series(
        "istio_requests_total",
        w,
        &format!(r#"destination_service_name="{scoped}""#),
    )
    .await;
    let actor = actor(
        common::istio_system_cluster().await,
        Traffic::new(
            Some(prometheus(Duration::from_secs(5))),
            Duration::from_secs(6),
        ),
    );
    let pending = |view: &mesh_egress::domain::rollout::Rollout, ns: &str| {
        view.calls
            .iter()
            .find(|call| call.call.namespace == ns && call.call.workload == "app")
            .cloned()
            .unwrap_or_else(|| panic!("no call from {ns}: {:?}", view.calls))
    };
    let view = rollout(&actor, Window::Hour, "")
        .await
        .expect("the rollout view");
    let from_owner = pending(&view, w);
    assert!(from_owner.after.allowed(), "{from_owner:?}");
    let from_caller = pending(&view, c);
    assert!(from_caller.newly_blocked(), "{from_caller:?}");
    let warning = from_caller.warning.clone().expect("a scope warning");
    assert_eq!(warning.code, "MEG005");
    assert!(
        warning
            .message
            .contains(&format!("add \"{c}\" to its exportTo")),
        "{}",
        warning.message
    );
    let from_narrow = pending(&view, n);
    assert!(from_narrow.newly_blocked(), "{from_narrow:?}");
    let warning = from_narrow.warning.clone().expect("a scope warning");
    assert_eq!(warning.code, "MEG006");
    assert!(
        warning.message.contains(&format!("add \"{w}/{open}\"")),
        "{}",
        warning.message
    );
    let row = |ns: &str| row_of(&view, ns);
    assert_eq!(row(c).readiness, Readiness::NotReady);
    assert_eq!(row(c).warnings.len(), 1);

    // The map draws the same: the caller's line to the hidden host would be blocked, the
    // owner's is a registered call; filtered to the owner's namespaces and hosts.
    let map = mesh_egress::service::map(&actor, Window::Hour, "scope-", &scoped)
        .await
        .expect("the map");
    let kind = |ns: &str| {
        let from = map.namespaces.iter().position(|n| n.filter == ns)?;
        let to = map.hosts.iter().position(|h| h.filter == scoped)?;
        map.edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map(|e| e.kind)
    };
    assert_eq!(kind(c), Some(EdgeKind::WouldBeBlocked), "{map:?}");
    assert_eq!(kind(w), Some(EdgeKind::Called), "{map:?}");
    assert_eq!(kind(n), None, "narrow does not call it, and cannot see it");

    // What istiod pushes agrees: restricted, the hidden hosts are blocked, the visible one not.
    for ns in [w, c, n] {
        set_namespace_policy(&actor, ns, "restricted")
            .await
            .expect("restricted");
    }
    wait_for_verdict(&line(c, &scoped), "BlackHoleCluster (http").await;
    wait_for_verdict(&line(n, &open), "BlackHoleCluster (http").await;
    wait_for_verdict(&line(w, &scoped), "registered").await;

    // The fix the warning names works: exported to the caller, istiod routes it again.
    let entries = Api::<DynamicObject>::namespaced_with(
        owner.client.clone(),
        w,
        &common::service_entry_resource(),
    );
    let mut entry = entries.get("scoped").await.expect("the entry");
    entry.data["spec"]["exportTo"] = serde_json::json!([".", c]);
    entries
        .replace("scoped", &PostParams::default(), &entry)
        .await
        .expect("export it to the caller");
    wait_for_verdict(&line(c, &scoped), "registered").await;
    let after = rollout(&actor, Window::Hour, "")
        .await
        .expect("the rollout view");
    let fixed = pending(&after, c);
    assert!(
        fixed.after.allowed() && fixed.warning.is_none(),
        "{fixed:?}"
    );
    for ns in [w, c, n] {
        set_namespace_policy(&actor, ns, "allowed")
            .await
            .expect("lifted");
    }
}
