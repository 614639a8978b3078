//! The service layer: what each server function does, as plain async functions that take the
//! acting user and can be tested without HTTP. Permission filtering, audit and metrics are
//! called from here; the cluster is reached only through `crate::cluster`.

mod edit;
mod entries;
mod gateways;
mod policy;
mod restrict;
mod route;
mod session;
mod traffic;

pub use edit::{apply_edit, preview_edit, save_edit, Edit};
pub use entries::{
    create_from_form, create_from_manifest, delete_service_entry, list_service_entries,
    namespace_access, service_entries_page, service_entry, undo_delete, writable_namespaces,
};
pub use policy::{outbound_policy, overview, switch, switch_policy};

pub use gateways::{control_planes, create_mesh_gateway, egress_gateways};
pub use restrict::{
    map, namespace_policy, preview_namespace_policy, rollout, set_namespace_policy,
};
pub use route::{entry_routing, preview_route, route_entry, stop_routing};
pub use session::{session, sign_in, sign_out};
pub use traffic::{
    entry_traffic, namespace_traffic, policy_preview, traffic, traffic_page, Traffic, FIRST_WAIT,
};

use crate::auth::{AuthMode, Caller};
use crate::cluster::{Change, Cluster, ClusterError};
use crate::domain::access::Action;
use crate::error::AppError;
use crate::metrics::Metrics;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a service function answers: its result, or the error the page or client sees.
pub type Answer<T> = Result<T, AppError>;

/// What every request shares: the cluster (or why there is none), how users are identified,
/// and the metrics. Built once in main, handed to requests as context.
pub struct Services {
    cluster: Result<Cluster, AppError>,
    auth: Arc<AuthMode>,
    metrics: Arc<Metrics>,
    traffic: Traffic,
    undo_for: u64,
}

/// How long a delete can be undone, unless the server is told otherwise (`--undo-minutes`).
pub const UNDO_SECONDS: u64 = 15 * 60;

/// Who acts, resolved from the caller: the cluster as that user, and the server's own.
pub struct Actor {
    /// The cluster with the acting user's identity.
    pub cluster: Cluster,
    /// The cluster with the server's identity (audit Events, the shared cache).
    pub server: Cluster,
    /// Whether users are told apart (results are cut to what each may see).
    pub shared: bool,
    metrics: Arc<Metrics>,
    traffic: Traffic,
    undo_for: u64,
}

impl Services {
    /// The shared state.
    pub fn new(
        cluster: Result<Cluster, AppError>,
        auth: Arc<AuthMode>,
        metrics: Arc<Metrics>,
        traffic: Traffic,
    ) -> Self {
        Self {
            cluster,
            auth,
            metrics,
            traffic,
            undo_for: UNDO_SECONDS,
        }
    }

    /// The same, with deletes undoable for `seconds` instead of [`UNDO_SECONDS`].
    pub fn with_undo_for(self, seconds: u64) -> Self {
        Self {
            undo_for: seconds,
            ..self
        }
    }

    /// The cluster with the server's identity, or why there is none.
    pub fn server(&self) -> Result<&Cluster, AppError> {
        self.cluster.as_ref().map_err(Clone::clone)
    }

    /// How users are identified.
    pub fn auth(&self) -> &Arc<AuthMode> {
        &self.auth
    }

    /// The process's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The acting user for a caller: the server itself in local mode, the signed-in user's
    /// token, or the user a trusted proxy names (impersonated).
    pub fn actor(&self, caller: &Caller) -> Result<Actor, AppError> {
        let server = self.server()?.clone();
        let cluster = match caller {
            Caller::Local => server.clone(),
            Caller::SignedIn { token, .. } => self.mapped(server.with_token(token))?,
            Caller::Proxied { user, groups } => {
                self.mapped(server.impersonating(user, groups.clone()))?
            }
            Caller::Anonymous { why } => {
                return Err(AppError::Unauthenticated {
                    message: why.clone(),
                })
            }
        };
        Ok(Actor {
            cluster,
            server,
            shared: self.auth.is_shared(),
            metrics: self.metrics.clone(),
            traffic: self.traffic.clone(),
            undo_for: self.undo_for,
        })
    }

    /// Maps a cluster result, counting the API server's own failures.
    pub fn mapped<T>(&self, result: Result<T, ClusterError>) -> Result<T, AppError> {
        count_failures(&self.metrics, result)
    }
}

/// Access reviews one request may have in flight at once.
const ACCESS_REVIEWS_IN_FLIGHT: usize = 8;

/// Checks a namespace (and a name) from a request before it reaches an API URL: a namespace is
/// a DNS-1123 label, a name a DNS-1123 subdomain. Nothing is sent for anything else.
pub fn checked_key(namespace: &str, name: Option<&str>) -> Result<(), AppError> {
    use crate::domain::validation::{is_dns1123_subdomain, is_k8s_label};
    if !is_k8s_label(namespace) {
        return Err(AppError::Invalid {
            field: "namespace".into(),
            reason: format!(
                "{} is not a namespace name: at most 63 lowercase letters, digits \
                 and '-', starting and ending with a letter or digit",
                crate::domain::quoted(namespace)
            ),
        });
    }
    match name {
        Some(name) if !is_dns1123_subdomain(name) => Err(AppError::Invalid {
            field: "name".into(),
            reason: format!(
                "{} is not an object name: at most 253 lowercase letters, digits, '-' \
                 and '.'",
                crate::domain::quoted(name)
            ),
        }),
        _ => Ok(()),
    }
}

fn count_failures<T>(metrics: &Metrics, result: Result<T, ClusterError>) -> Result<T, AppError> {
    result.map_err(|e| {
        tracing::warn!(error = %e, "cluster request failed");
        if e.is_apiserver_failure() {
            metrics.apiserver_error();
        }
        AppError::from(e)
    })
}

impl Actor {
    /// Maps a cluster result, counting the API server's own failures.
    pub fn mapped<T>(&self, result: Result<T, ClusterError>) -> Result<T, AppError> {
        count_failures(&self.metrics, result)
    }

    /// The namespaces among `names` in which the actor may list ServiceEntries (all of them
    /// in local mode, without asking).
    pub async fn visible_namespaces(
        &self,
        names: impl IntoIterator<Item = String>,
    ) -> Result<BTreeSet<String>, AppError> {
        self.namespaces_where(names, |namespace| Action::ListServiceEntries { namespace })
            .await
    }

    /// The namespaces among `names` in which the actor may do `action` (all of them in local
    /// mode, without asking).
    pub async fn namespaces_where(
        &self,
        names: impl IntoIterator<Item = String>,
        action: fn(String) -> Action,
    ) -> Result<BTreeSet<String>, AppError> {
        let names: BTreeSet<String> = names.into_iter().collect();
        if !self.shared {
            return Ok(names);
        }
        let checks = names.into_iter().map(|namespace| async move {
            self.cluster
                .can(&action(namespace.clone()))
                .await
                .map(|access| access.allowed().then_some(namespace))
        });
        // At most a few reviews in flight per request: a cluster with hundreds of namespaces
        // is asked in turn, not all at once.
        let answers: Vec<_> = futures::StreamExt::collect(futures::StreamExt::buffer_unordered(
            futures::stream::iter(checks),
            ACCESS_REVIEWS_IN_FLIGHT,
        ))
        .await;
        let mut allowed = BTreeSet::new();
        for answer in answers {
            allowed.extend(self.mapped(answer)?);
        }
        Ok(allowed)
    }

    /// Records a change in the audit trail, naming the acting user. A change that succeeded is
    /// never undone by a failing audit Event.
    pub async fn audit(&self, change: Change) {
        self.cluster.record_change(&self.server, change).await;
    }
}
