//! Pages read from memory: once the server's watch-fed copies have their first list, serving
//! the overview, the all-services list and a namespace's page sends no LIST of namespaces,
//! Sidecars or ServiceEntries to the API server — counted by the API server itself
//! (`apiserver_request_total`). (Its own test binary: the counts are the API server's, shared
//! by every client, and test binaries run one after another.)

mod common;

use axum::http::StatusCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The API server's count of LISTs of `resource` so far.
async fn lists(client: &kube::Client, resource: &str) -> f64 {
    let request = axum::http::Request::get("/metrics")
        .body(Vec::new())
        .expect("request");
    let text = client
        .request_text(request)
        .await
        .expect("apiserver metrics");
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
        .filter(|l| l.contains("verb=\"LIST\"") && l.contains(&format!("resource=\"{resource}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn all_lists(client: &kube::Client) -> Vec<f64> {
    let mut counts = Vec::new();
    for resource in ["namespaces", "sidecars", "serviceentries"] {
        counts.push(lists(client, resource).await);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_no_list_once_the_copies_are_fresh() {
    let admin = common::admin_client().await;
    let cluster = common::istio_system_cluster().await;
    let router = mesh_egress::server::router(common::leptos_options(), Arc::new(Ok(cluster)));
    let pages = ["/", "/services", "/namespaces/smm-demo"];
    // The copies are fresh when a round of pages sends no LIST (a few seconds at most).
    let start = Instant::now();
    loop {
        let before = all_lists(&admin).await;
        for path in pages {
            let (status, _) = common::get_page(&router, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
        }
        let after = all_lists(&admin).await;
        if after == before {
            break;
        }
        eprintln!("LISTs (namespaces, sidecars, serviceentries): {before:?} -> {after:?}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the watch-fed copies never took over from LISTs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = all_lists(&admin).await;
    for _ in 0..10 {
        for path in pages {
            let (status, _) = common::get_page(&router, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
        }
    }
    assert_eq!(
        all_lists(&admin).await,
        before,
        "30 pages sent no LIST of namespaces, Sidecars or ServiceEntries"
    );
}
