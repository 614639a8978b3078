//! The web server: one `router` function, so tests can drive it without a socket.

use crate::api::ssr::ClusterState;
use crate::app::{shell, App};
use crate::domain::LiveStatus;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::convert::Infallible;
use tokio::sync::watch;

/// The whole HTTP application: pages, server functions, the live event stream and static
/// files.
pub fn router(leptos_options: LeptosOptions, cluster: ClusterState) -> Router {
    let routes = generate_route_list(App);
    let live = match cluster.as_ref() {
        Ok(cluster) => LiveSource::Cache(cluster.start_service_entry_cache().subscribe()),
        Err(error) => LiveSource::NoCluster(error.to_string()),
    };
    let context = move || provide_context(cluster.clone());
    Router::new()
        .route("/api/events", get(move || events(live.clone())))
        .leptos_routes_with_context(&leptos_options, routes, context, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Where the live status comes from.
#[derive(Clone)]
enum LiveSource {
    Cache(watch::Receiver<LiveStatus>),
    NoCluster(String),
}

/// Server-sent events: the live status now, then at every change. Pages reload their data
/// when `generation` moves and say so when `connected` is false.
async fn events(source: LiveSource) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let event = |status: &LiveStatus| {
        Event::default()
            .json_data(status)
            .unwrap_or_else(|_| Event::default().data("{}"))
    };
    let stream = futures::stream::unfold((source, true), move |(source, first)| async move {
        match source {
            LiveSource::Cache(mut receiver) => {
                if !first && receiver.changed().await.is_err() {
                    return None;
                }
                let status = receiver.borrow_and_update().clone();
                Some((Ok(event(&status)), (LiveSource::Cache(receiver), false)))
            }
            LiveSource::NoCluster(error) => {
                if !first {
                    // One message is enough; the browser reconnects and asks again later.
                    std::future::pending::<()>().await;
                }
                let status = LiveStatus {
                    error: Some(error.clone()),
                    ..LiveStatus::default()
                };
                Some((Ok(event(&status)), (LiveSource::NoCluster(error), false)))
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
