//! ServiceEntries against the real test control plane: create (dry run first), rejections at
//! their field with nothing written, delete and undo, and the watch cache.

mod common;

use mesh_egress::cluster::ErrorKind;

use common::{httpbin_spec, service_entry_resource, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::core::DynamicObject;
use mesh_egress::domain::manifest::service_entry_for_create;
use std::time::{Duration, Instant};

fn manifest(namespace: &str, name: &str, spec: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": {"team": "payments"}, "annotations": {"owner": "alice"}
        },
        "spec": spec
    })
}

#[tokio::test]
async fn create_delete_and_undo_restore_the_object_exactly() {
    let ns = TestNamespace::new("se-crud").await;
    let cluster = ns.cluster().await;
    let view = cluster
        .create_service_entry(&ns.name, manifest(&ns.name, "httpbin.org", httpbin_spec()))
        .await
        .expect("accepted");
    assert_eq!(view.hosts, vec!["httpbin.org", "www.httpbin.org"]);
    let before = ns.service_entry("httpbin.org").await.expect("created");
    let listed = cluster.service_entries(&ns.name).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].ports[0].label(), "80/http (HTTP)");

    // Through the service layer, as a user: the undo record is kept in the cluster (in the
    // state namespace) before the delete, and read back from there.
    let actor = common::local_actor(&cluster);
    let deleted = mesh_egress::service::delete_service_entry(&actor, &ns.name, "httpbin.org", None)
        .await
        .expect("delete");
    assert_eq!(deleted.hosts, vec!["httpbin.org", "www.httpbin.org"]);
    assert!(
        ns.service_entry("httpbin.org").await.is_none(),
        "kubectl would say NotFound"
    );
    let record = Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
        .get(&mesh_egress::cluster::undo_record_name(
            &ns.name,
            "httpbin.org",
        ))
        .await
        .expect("the undo record is a ConfigMap in the state namespace");
    let annotations = record.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("mesh-egress.io/deleted-by")
            .map(String::as_str),
        Some("admin"),
        "{annotations:?}"
    );

    // A server restart loses nothing: a new connection (a new process would be the same)
    // finds the record.
    let restarted = common::local_actor(&ns.cluster().await);
    mesh_egress::service::undo_delete(&restarted, &ns.name, "httpbin.org")
        .await
        .expect("undo");
    let after = ns.service_entry("httpbin.org").await.expect("restored");
    assert_eq!(after.data["spec"], before.data["spec"]);
    assert_eq!(after.metadata.labels, before.metadata.labels);
    assert_eq!(after.metadata.annotations, before.metadata.annotations);
    assert_ne!(
        after.metadata.uid, before.metadata.uid,
        "a new object, the same content"
    );
    let error = mesh_egress::service::undo_delete(&restarted, &ns.name, "httpbin.org")
        .await
        .expect_err("nothing left to undo");
    assert!(error.to_string().contains("nothing to undo"), "{error}");
}

#[tokio::test]
async fn apiserver_rejections_come_back_at_their_field_and_nothing_is_written() {
    let ns = TestNamespace::new("se-reject").await;
    let cluster = ns.cluster().await;
    // The CRD's CEL rule refuses endpoints with resolution NONE.
    let spec = serde_json::json!({
        "hosts": ["example.com"], "resolution": "NONE",
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "endpoints": [{"address": "1.2.3.4"}]
    });
    let findings = cluster
        .create_service_entry(&ns.name, manifest(&ns.name, "none-endpoints", spec))
        .await
        .expect_err("refused by the dry run");
    assert_eq!(findings.kind, ErrorKind::Rejected, "{findings:?}");
    let findings = findings.findings;
    assert!(
        findings
            .iter()
            .any(|f| f.field.starts_with("spec") && f.message.contains("NONE")),
        "{findings:?}"
    );
    assert!(
        ns.service_entry("none-endpoints").await.is_none(),
        "nothing was written"
    );
}

#[tokio::test]
async fn mesh_egress_refuses_what_istiod_would_before_any_request() {
    // A bare apiserver accepts this host; istiod does not. The domain check refuses it.
    let manifest = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: bad}\n\
                    spec:\n  hosts: [bad..host]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n";
    let findings = service_entry_for_create(manifest, Some("team-dev")).expect_err("refused");
    assert_eq!(findings[0].field, "spec.hosts[0]");
}

#[tokio::test]
async fn the_watch_cache_sees_a_change_made_elsewhere_within_a_second() {
    let ns = TestNamespace::new("se-live").await;
    let cluster = ns.cluster().await;
    let cache = cluster.start_service_entry_cache(Default::default());
    let mut status = cache.subscribe();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !status.borrow().synced {
        assert!(Instant::now() < deadline, "the cache syncs");
        let _ = tokio::time::timeout(Duration::from_millis(200), status.changed()).await;
    }
    let generation = status.borrow().generation;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    let started = Instant::now();
    loop {
        let listed = cluster.service_entries(&ns.name).await.expect("list");
        if listed.len() == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "seen within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        status.borrow().generation > generation,
        "the live status moved"
    );
}

/// The create form's own findings refuse it: a port line that does not read as a port is
/// never silently dropped (the entry would be written without it).
#[tokio::test]
async fn a_form_with_a_bad_port_line_is_refused_and_nothing_is_written() {
    let ns = TestNamespace::new("se-form").await;
    let router = mesh_egress::server::router(
        common::leptos_options(),
        std::sync::Arc::new(Ok(ns.cluster().await)),
    );
    let form = format!(
        "form[name]=half&form[namespace]={}&form[hosts]=api.example.com\
         &form[ports]=443+tls+TLS%0Aeighty+http&form[resolution]=DNS&form[location]=MESH_EXTERNAL",
        ns.name
    );
    let answer = common::send(
        &router,
        common::post_form("/api/create_service_entry_form", &form, &[]),
    )
    .await;
    assert_eq!(answer.status.as_u16(), 422, "{}", answer.body);
    assert!(answer.body.contains("line 2"), "{}", answer.body);
    assert!(
        ns.service_entry("half").await.is_none(),
        "nothing was written"
    );
}

/// Patches a ServiceEntry as kubectl would (another user's edit).
async fn edit_behind_the_users_back(ns: &TestNamespace, name: &str) {
    use kube::api::{Patch, PatchParams};
    Api::<DynamicObject>::namespaced_with(ns.client.clone(), &ns.name, &service_entry_resource())
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"resolution": "NONE"}})),
        )
        .await
        .expect("patch");
}

#[tokio::test]
async fn a_delete_of_a_version_changed_since_it_was_seen_deletes_nothing() {
    let ns = TestNamespace::new("se-seen").await;
    let cluster = ns.cluster().await;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    let actor = common::local_actor(&cluster);
    let seen = |views: std::sync::Arc<
        Vec<std::sync::Arc<mesh_egress::domain::service_entry::ServiceEntryView>>,
    >| {
        views[0]
            .seen
            .clone()
            .expect("a listed entry carries its version")
    };
    let old = seen(
        mesh_egress::service::list_service_entries(&actor, &ns.name)
            .await
            .expect("list"),
    );

    // Someone edits it between the page's list and the click on Delete.
    edit_behind_the_users_back(&ns, "httpbin.org").await;
    let refused = mesh_egress::service::delete_service_entry(
        &actor,
        &ns.name,
        "httpbin.org",
        Some(old.clone()),
    )
    .await
    .expect_err("changed since");
    assert!(
        matches!(&refused, mesh_egress::error::AppError::Conflict { message } if message.contains("changed since you saw it")),
        "{refused:?}"
    );
    let kept = ns
        .service_entry("httpbin.org")
        .await
        .expect("nothing was deleted");
    assert_eq!(kept.data["spec"]["resolution"], "NONE");
    assert!(
        Api::<ConfigMap>::namespaced(ns.client.clone(), &ns.name)
            .get_opt(&mesh_egress::cluster::undo_record_name(
                &ns.name,
                "httpbin.org"
            ))
            .await
            .expect("get")
            .is_none(),
        "no undo record claims a delete that did not happen"
    );

    // Deleted and created again under the same name: another object, also left alone.
    ns.delete_service_entry("httpbin.org").await;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    let current = ns.service_entry("httpbin.org").await.expect("re-created");
    let same_version = mesh_egress::domain::service_entry::Seen {
        uid: old.uid.clone(),
        resource_version: current.metadata.resource_version.clone().expect("rv"),
        generation: current.metadata.generation,
    };
    assert!(mesh_egress::service::delete_service_entry(
        &actor,
        &ns.name,
        "httpbin.org",
        Some(same_version)
    )
    .await
    .is_err());
    assert!(
        ns.service_entry("httpbin.org").await.is_some(),
        "the new object stays"
    );

    // The version the user sees now is deleted.
    // (istiod may have written its status since: that moves the resourceVersion only.)
    let now = mesh_egress::domain::service_entry::Seen {
        uid: current.metadata.uid.clone().expect("uid"),
        resource_version: current.metadata.resource_version.clone().expect("rv"),
        generation: current.metadata.generation,
    };
    mesh_egress::service::delete_service_entry(&actor, &ns.name, "httpbin.org", Some(now))
        .await
        .expect("deleted");
    assert!(ns.service_entry("httpbin.org").await.is_none());
}

#[tokio::test]
async fn namespaces_and_names_that_are_not_kubernetes_names_never_reach_the_api() {
    let ns = TestNamespace::new("se-names").await;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    let actor = common::local_actor(&ns.cluster().await);
    for (namespace, name, field) in [
        ("../kube-system", "x", "namespace"),
        (ns.name.as_str(), "httpbin.org/status", "name"),
        (ns.name.as_str(), "../../namespaces/kube-system", "name"),
        ("Upper", "x", "namespace"),
        (ns.name.as_str(), "", "name"),
    ] {
        let refused = mesh_egress::service::delete_service_entry(&actor, namespace, name, None)
            .await
            .expect_err("refused");
        assert!(
            matches!(&refused, mesh_egress::error::AppError::Invalid { field: f, .. } if f == field),
            "{namespace}/{name}: {refused:?}"
        );
        assert!(mesh_egress::service::service_entry(&actor, namespace, name)
            .await
            .is_err());
    }
    assert!(
        ns.service_entry("httpbin.org").await.is_some(),
        "nothing was deleted"
    );
}

#[tokio::test]
async fn the_all_services_list_comes_a_page_at_a_time_searched_on_the_server() {
    let ns = TestNamespace::new("se-paging").await;
    for i in 0..60 {
        let spec = serde_json::json!({
            "hosts": [format!("svc-{i:02}.{}.example", ns.name)],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": "DNS"
        });
        ns.create_service_entry(&format!("svc-{i:02}"), spec).await;
    }
    let actor = common::local_actor(&ns.cluster().await);
    let page = |q: String, page: &'static str, size: &'static str| {
        let actor = &actor;
        let ns = ns.name.clone();
        async move { mesh_egress::service::service_entries_page(actor, &ns, &q, page, size).await }
    };
    let second = page(String::new(), "2", "25").await.expect("page 2");
    assert_eq!((second.page, second.matched, second.total), (2, 60, 60));
    let names: Vec<&str> = second.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"svc-25"));
    assert_eq!(names.last(), Some(&"svc-49"));
    assert_eq!(
        second.summary("external services"),
        "26–50 of 60 external services"
    );
    // The search runs over every page, and the page past the end is the last one.
    let found = page("svc-0".into(), "9", "").await.expect("search");
    assert_eq!((found.page, found.matched, found.items.len()), (1, 10, 10));
    // Bad paging input names its field; nothing else is answered.
    for (p, s, field) in [
        ("0", "", "page"),
        ("1", "100000", "size"),
        ("two", "", "page"),
    ] {
        match page(String::new(), p, s).await {
            Err(mesh_egress::error::AppError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("page={p} size={s}: {other:?}"),
        }
    }
}
