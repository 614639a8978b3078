//! The web server: one `router` function, so tests can drive it without a socket.

use crate::app::{shell, App};
use crate::auth::AuthMode;
use crate::cluster::Cluster;
use crate::domain::LiveStatus;
use crate::error::AppError;
pub use crate::guards::{content_security_policy, is_cross_origin_write};
use crate::guards::{refuse_cross_origin_writes, security_headers, set_content_security_policy};
use crate::hosts::misdirected;
pub use crate::hosts::HostPolicy;
use crate::metrics::Metrics;
use crate::service::{Services, Traffic};
use axum::extract::{MatchedPath, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// What the server knows about its cluster: a client, or why there is none.
pub type ClusterState = Arc<Result<Cluster, AppError>>;

/// The whole HTTP application in local mode (the server's identity for everyone).
pub fn router(leptos_options: LeptosOptions, cluster: ClusterState) -> Router {
    router_with_auth(leptos_options, cluster, Arc::new(AuthMode::Local))
}

/// The whole HTTP application: pages, server functions, the live event stream, health,
/// metrics and static files, with users identified as `auth` says.
pub fn router_with_auth(
    leptos_options: LeptosOptions,
    cluster: ClusterState,
    auth: Arc<AuthMode>,
) -> Router {
    let serving = Serving {
        auth,
        traffic: Traffic::default(),
        hosts: HostPolicy::default(),
        live_connections: MAX_LIVE_CONNECTIONS,
        undo_for: crate::service::UNDO_SECONDS,
    };
    router_with(leptos_options, cluster, serving)
}

/// How the server serves: who users are, where traffic comes from, which host names it
/// answers to.
pub struct Serving {
    /// How users are identified.
    pub auth: Arc<AuthMode>,
    /// The traffic source (a Prometheus, or none).
    pub traffic: Traffic,
    /// The `Host` names answered.
    pub hosts: HostPolicy,
    /// Live pages (event streams) served at once; more get 503.
    pub live_connections: usize,
    /// How long (seconds) a delete can be undone.
    pub undo_for: u64,
}

/// The largest request body read (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Live pages served at once by default.
pub const MAX_LIVE_CONNECTIONS: usize = 256;

/// The whole HTTP application, served as `serving` says. In local mode the probes
/// (`/readyz`, `/metrics`) are on the same port; in shared mode they are not (serve them on a
/// port of their own with [`routers`]), so only signed-in users reach anything but `/healthz`.
pub fn router_with(
    leptos_options: LeptosOptions,
    cluster: ClusterState,
    serving: Serving,
) -> Router {
    let shared = serving.auth.is_shared();
    let Routers { app, checks, .. } = routers(leptos_options, cluster, serving);
    if shared {
        app
    } else {
        app.merge(checks)
    }
}

/// The application, and the probes (`/healthz`, `/readyz`, `/metrics`) for a port of their own.
pub struct Routers {
    /// Pages, server functions, the live stream, static files (and `/healthz`).
    pub app: Router,
    /// `/healthz`, `/readyz` and `/metrics`, for kubelet and Prometheus.
    pub probes: Router,
    /// `/readyz` and `/metrics` alone (the app has `/healthz`).
    checks: Router,
}

/// The application and its probes, served as `serving` says.
pub fn routers(leptos_options: LeptosOptions, cluster: ClusterState, serving: Serving) -> Routers {
    let Serving {
        auth,
        traffic,
        hosts,
        live_connections,
        undo_for,
    } = serving;
    let metrics = Arc::new(Metrics::default());
    let services = shared_services(cluster, &auth, &metrics, traffic, undo_for);
    let cache = services.server().ok().map(|c| {
        c.start_mirrors();
        c.start_service_entry_cache(metrics.clone())
    });
    let live = match (&cache, services.server()) {
        (Some(cache), _) => LiveSource::Cache(cache.subscribe()),
        (None, Err(error)) => LiveSource::NoCluster(error.to_string()),
        (None, Ok(_)) => LiveSource::NoCluster("the watch did not start".to_string()),
    };
    let checks = checks(live.clone(), cache, metrics.clone());
    // The live stream stays open as long as the page: the only route without a time limit.
    let permits = Arc::new(tokio::sync::Semaphore::new(live_connections));
    let live_stream = Router::new().route(
        "/api/events",
        get(move |caller: crate::auth::Caller| {
            events(live.clone(), permits.clone(), live_connections, caller)
        }),
    );
    let app = app(leptos_options, services, live_stream, metrics, auth, hosts);
    let probes = checks.clone().route("/healthz", get(|| async { "ok" }));
    Routers {
        app,
        probes,
        checks,
    }
}

/// What every request shares: the cluster (with the revoked sessions watched, in token mode),
/// how users are identified, the metrics and the traffic source.
fn shared_services(
    cluster: ClusterState,
    auth: &Arc<AuthMode>,
    metrics: &Arc<Metrics>,
    traffic: Traffic,
    undo_for: u64,
) -> Arc<Services> {
    traffic.warm();
    let services = Arc::new(
        Services::new(
            Arc::unwrap_or_clone(cluster),
            auth.clone(),
            metrics.clone(),
            traffic,
        )
        .with_undo_for(undo_for),
    );
    if let (AuthMode::Token { revoked, .. }, Ok(server)) = (auth.as_ref(), services.server()) {
        let revoked = revoked.clone();
        server.watch_revoked_sessions(move |record| revoked.replace(record));
    }
    services
}

/// `/readyz` and `/metrics`.
fn checks(
    live: LiveSource,
    cache: Option<crate::cluster::ServiceEntryCache>,
    metrics: Arc<Metrics>,
) -> Router {
    let ready_source = live.clone();
    Router::new()
        .route("/readyz", get(move || readyz(ready_source.clone())))
        .route(
            "/metrics",
            get(move || {
                let cached = cache.as_ref().map(|c| c.len());
                let live = match &live {
                    LiveSource::Cache(receiver) => Some(receiver.borrow().clone()),
                    LiveSource::NoCluster(_) => None,
                };
                let text = metrics.render(cached, live.as_ref());
                async move { ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text) }
            }),
        )
}

/// Pages, server functions, the live stream and the site's files, behind the edge's guards
/// (outermost first): the host, the canonical path, cross-site writes, the security and cache
/// headers, compression, the caller's identification, the metrics, the time and body limits.
fn app(
    leptos_options: LeptosOptions,
    services: Arc<Services>,
    live_stream: Router<LeptosOptions>,
    metrics: Arc<Metrics>,
    auth: Arc<AuthMode>,
    hosts: HostPolicy,
) -> Router {
    let hosts = Arc::new(hosts);
    let hashed_names = leptos_options.hash_files;
    let context = move || {
        provide_context(services.clone());
        // A fresh nonce per page: the only inline scripts allowed are Leptos's own.
        leptos::nonce::provide_nonce();
        set_content_security_policy();
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(
            &leptos_options,
            generate_route_list(App),
            context.clone(),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(fallback(context))
        // NB: a manifest is read up to 256 KiB; percent-encoded, its form stays under 1 MiB.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            crate::listen::REQUEST_TIMEOUT,
        ))
        .merge(live_stream)
        .route_layer(axum::middleware::from_fn(move |matched, request, next| {
            track(metrics.clone(), matched, request, next)
        }))
        .layer(Extension(auth))
        // Pages and API answers by Accept-Encoding (brotli, gzip); the live stream and the
        // site's files, pre-compressed at build time, are left as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(move |request, next| {
            crate::caching::cache_headers(hashed_names, request, next)
        }))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn(refuse_cross_origin_writes))
        .layer(axum::middleware::from_fn(crate::paths::canonical_path))
        .layer(axum::middleware::from_fn(move |request, next| {
            misdirected(hosts.clone(), request, next)
        }))
        .with_state(leptos_options)
}

/// What answers a path that is not a page or an endpoint: the site's files, else the not-found
/// page, rendered with the same context as every page; neither answers a write (405).
fn fallback(
    context: impl Fn() + Clone + Send + 'static,
) -> impl Fn(
    axum::http::Uri,
    axum::extract::State<LeptosOptions>,
    Request,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
       + Clone
       + Send
       + 'static {
    let files = leptos_axum::file_and_error_handler_with_context(context, shell);
    move |uri, state, request: Request| {
        if !crate::paths::readable(request.method()) {
            return Box::pin(async { crate::paths::not_allowed() });
        }
        files(uri, state, request)
    }
}

/// Counts every routed request by its route pattern (not its path: bounded label values).
async fn track(
    metrics: Arc<Metrics>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let route = matched
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "other".to_string());
    // NB: labels stay bounded: routes are the router's templates, methods the standard ones.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Ready when the ServiceEntry cache has synced and the API server answers the watch.
async fn readyz(source: LiveSource) -> Response {
    match source {
        LiveSource::Cache(receiver) => {
            let status = receiver.borrow().clone();
            if status.synced && status.connected {
                (StatusCode::OK, "ready").into_response()
            } else if !status.synced && status.error.is_none() {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not ready: the cache has not synced yet",
                )
                    .into_response()
            } else {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "not ready: {}",
                        status
                            .error
                            .unwrap_or_else(|| "the watch is not connected".to_string())
                    ),
                )
                    .into_response()
            }
        }
        LiveSource::NoCluster(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {error}"),
        )
            .into_response(),
    }
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
/// when `generation` moves and say so when `connected` is false. In shared mode only for
/// someone signed in; at most `limit` at once (each holds a permit while it is open).
async fn events(
    source: LiveSource,
    permits: Arc<tokio::sync::Semaphore>,
    limit: usize,
    caller: crate::auth::Caller,
) -> Response {
    if let crate::auth::Caller::Anonymous { why } = caller {
        let error = crate::error::AppError::Unauthenticated { message: why };
        return (StatusCode::UNAUTHORIZED, axum::Json(error)).into_response();
    }
    let Ok(permit) = permits.try_acquire_owned() else {
        tracing::warn!(limit, "live connection refused: the limit is reached");
        let error = crate::error::AppError::Busy {
            message: format!(
                "{limit} pages are already live: this one is not (reload later for live updates)"
            ),
        };
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(error)).into_response();
    };
    live_stream(source, permit).into_response()
}

fn live_stream(
    source: LiveSource,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let event = |status: &LiveStatus| {
        Event::default()
            .json_data(status)
            .unwrap_or_else(|_| Event::default().data("{}"))
    };
    let permit = Arc::new(permit);
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
    // NB: the permit lives as long as the stream, and is released when the page goes away.
    let stream = futures::StreamExt::map(stream, move |event| {
        let _held = &permit;
        event
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
