//! istiod killed and started again: the dashboard keeps serving (every page renders and says
//! istiod is not answering; `/readyz` stays 200, since reading and explaining need only the
//! API server), an Istio write is refused with a message naming istiod and nothing is
//! written, and once istiod is back its view and writes work again with no restart of
//! mesh-egress. The recovery time is printed. (Its own test binary: it stops the istiod that
//! every other test uses.)

mod common;

use axum::http::StatusCode;
use common::{httpbin_spec, testenv, TestNamespace};
use mesh_egress::cluster::{Cluster, ConnectOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn istiod_debug() -> String {
    let port = std::env::var("TESTENV_ISTIOD_HTTP_PORT").unwrap_or_else(|_| "15080".into());
    format!("http://127.0.0.1:{port}")
}

fn manifest(namespace: &str, name: &str) -> String {
    serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace}, "spec": httpbin_spec()
    })
    .to_string()
}

/// Restarts istiod however the test ends, so the tests after this one find it running.
struct RestartIstiod(bool);

impl Drop for RestartIstiod {
    fn drop(&mut self) {
        if !self.0 {
            testenv("start-istiod.sh");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn istiod_killed_and_started_again() {
    let ns = TestNamespace::new("istiod-outage").await;
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: Some(common::kubeconfig()),
        istio_namespace: "istio-system".into(),
        istiod_debug: Some(istiod_debug()),
        state_namespace: Some(ns.name.clone()),
        ..Default::default()
    })
    .await
    .expect("connect");
    let actor = common::local_actor(&cluster);
    let router = mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster)));
    let (status, page) = common::get_page(&router, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("istiod is not answering"),
        "istiod is up at first"
    );

    let mut restart = RestartIstiod(false);
    tokio::task::spawn_blocking(|| testenv("stop-istiod.sh"))
        .await
        .expect("stop istiod");

    // Pages still render, and say istiod is not answering.
    for path in ["/", "/services", "/namespaces/smm-demo"] {
        let (status, page) = common::get_page(&router, path).await;
        assert_eq!(status, StatusCode::OK, "{path} renders without istiod");
        if path == "/" {
            assert!(
                page.contains("istiod is not answering"),
                "the overview says istiod is gone"
            );
        }
    }
    let (status, _) = common::get_page(&router, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "reading needs only the API server");

    // A write is refused, saying why and what to check; nothing is written.
    let refused =
        mesh_egress::service::create_from_manifest(&actor, &manifest(&ns.name, "during"), None)
            .await
            .expect_err("istiod's webhook judges every Istio write, and fails closed");
    let message = refused.to_string();
    assert!(
        message.contains("istiod's validating webhook did not answer")
            && message.contains("nothing was written"),
        "{message}"
    );
    assert!(
        actor
            .cluster
            .service_entry(&ns.name, "during")
            .await
            .is_err(),
        "nothing was written"
    );

    // istiod returns (the script returns once istiod says it is ready): mesh-egress sees it
    // and writes again, without a restart.
    tokio::task::spawn_blocking(|| testenv("start-istiod.sh"))
        .await
        .expect("start istiod");
    restart.0 = true;
    let back = Instant::now();
    let mut view = false;
    let mut write = false;
    while back.elapsed() < Duration::from_secs(30) && !(view && write) {
        if !view {
            let (_, page) = common::get_page(&router, "/").await;
            view = !page.contains("istiod is not answering");
        }
        if !write {
            write = mesh_egress::service::create_from_manifest(
                &actor,
                &manifest(&ns.name, "after"),
                None,
            )
            .await
            .is_ok();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = back.elapsed();
    common::measured(&format!(
        "istiod outage: istiod's view and Istio writes back {} ms after istiod was ready",
        took.as_millis()
    ));
    // NB: the 5 s target is a measurement (printed above), not a timed assertion.
    assert!(
        view && write,
        "istiod's view and writes came back by themselves"
    );
}
