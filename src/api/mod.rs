//! Server functions: thin wrappers, a few lines each — cluster call, domain view, mapped error.
//! Each has an explicit, stable endpoint under `/api/` for automation (docs/API.md).

use crate::domain::service_entry::{Deleted, ServiceEntryDetail, ServiceEntryView};
use crate::domain::{Overview, PolicyState};
use crate::error::AppError;
use leptos::prelude::*;

/// The mesh-wide policy and every namespace with its number of ServiceEntries and its
/// effective policy. `control_plane` picks one of several IstioControlPlanes.
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview(control_plane: Option<String>) -> Result<Overview, AppError> {
    let cluster = ssr::cluster()?;
    ssr::respond(cluster.overview(control_plane.as_deref()).await)
}

/// The mesh-wide outbound traffic policy and where it lives.
#[server(prefix = "/api", endpoint = "outbound_policy")]
pub async fn outbound_policy(control_plane: Option<String>) -> Result<PolicyState, AppError> {
    let cluster = ssr::cluster()?;
    let report = ssr::respond(cluster.policy_report(control_plane.as_deref()).await)?;
    Ok(PolicyState::from(&report))
}

/// Switches the mesh-wide policy (`mode` = REGISTRY_ONLY | ALLOW_ANY, or restricted |
/// allowed) and answers with the state read back from the cluster.
#[server(prefix = "/api", endpoint = "set_outbound_policy")]
pub async fn set_outbound_policy(
    mode: String,
    control_plane: Option<String>,
) -> Result<PolicyState, AppError> {
    let mode = crate::domain::policy::parse_requested_mode(&mode).map_err(|reason| {
        ssr::fail(AppError::Invalid {
            field: "mode".to_string(),
            reason,
        })
    })?;
    let cluster = ssr::cluster()?;
    let report = ssr::respond(cluster.set_policy(&mode, control_plane.as_deref()).await)?;
    tracing::info!(mode = %mode, source = ?PolicyState::from(&report).source, "outbound traffic policy switched");
    crate::metrics::metrics().policy_switch(mode.as_istio());
    Ok(PolicyState::from(&report))
}

/// ServiceEntries of a namespace (`namespace` empty: every namespace), from the watch cache.
#[server(prefix = "/api", endpoint = "service_entries")]
pub async fn list_service_entries(namespace: String) -> Result<Vec<ServiceEntryView>, AppError> {
    let cluster = ssr::cluster()?;
    ssr::respond(cluster.service_entries(namespace.trim()).await)
}

/// One ServiceEntry with every field, its YAML and what validation finds in it.
#[server(prefix = "/api", endpoint = "service_entry")]
pub async fn get_service_entry(
    namespace: String,
    name: String,
) -> Result<ServiceEntryDetail, AppError> {
    let cluster = ssr::cluster()?;
    ssr::respond(cluster.service_entry(&namespace, &name).await)
}

/// Creates a ServiceEntry from a manifest (YAML or JSON, in field `manifest`): mesh-egress's
/// validation, then a server-side dry run, then the write. `namespace` applies when the
/// manifest names none.
#[server(prefix = "/api", endpoint = "create_service_entry")]
pub async fn create_service_entry(
    manifest: String,
    namespace: Option<String>,
) -> Result<ServiceEntryView, AppError> {
    let (namespace, object) =
        crate::domain::manifest::service_entry_for_create(&manifest, namespace.as_deref())
            .map_err(|findings| ssr::fail(AppError::Rejected { findings }))?;
    let cluster = ssr::cluster()?;
    match ssr::respond(cluster.create_service_entry(&namespace, object).await)? {
        Ok(view) => {
            tracing::info!(namespace = %view.namespace, name = %view.name, "ServiceEntry created");
            Ok(view)
        }
        Err(findings) => Err(ssr::fail(AppError::Rejected { findings })),
    }
}

/// Creates a ServiceEntry from the create form's fields.
#[server(prefix = "/api", endpoint = "create_service_entry_form")]
pub async fn create_service_entry_form(
    form: crate::domain::form::ServiceEntryForm,
) -> Result<ServiceEntryView, AppError> {
    let manifest = serde_json::to_string(&form.to_object()).map_err(|e| AppError::Invalid {
        field: "form".into(),
        reason: e.to_string(),
    })?;
    create_service_entry(manifest, Some(form.namespace.clone())).await
}

/// Deletes a ServiceEntry; the answer names the hosts pods no longer reach.
#[server(prefix = "/api", endpoint = "delete_service_entry")]
pub async fn delete_service_entry(namespace: String, name: String) -> Result<Deleted, AppError> {
    let cluster = ssr::cluster()?;
    let deleted = ssr::respond(cluster.delete_service_entry(&namespace, &name).await)?;
    tracing::info!(%namespace, %name, "ServiceEntry deleted");
    Ok(deleted)
}

/// Re-creates a ServiceEntry this server deleted, exactly as it was.
#[server(prefix = "/api", endpoint = "undo_delete_service_entry")]
pub async fn undo_delete_service_entry(
    namespace: String,
    name: String,
) -> Result<ServiceEntryView, AppError> {
    let cluster = ssr::cluster()?;
    let view = ssr::respond(cluster.undo_delete(&namespace, &name).await)?;
    tracing::info!(%namespace, %name, "ServiceEntry restored");
    Ok(view)
}

/// Server-side helpers shared by the server functions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::cluster::{Cluster, ClusterError};
    use crate::error::AppError;
    use leptos::prelude::*;
    use std::sync::Arc;

    /// What the server knows about its cluster: a client, or why there is none.
    pub type ClusterState = Arc<Result<Cluster, AppError>>;

    /// The cluster this server talks to, or the reason it cannot.
    pub fn cluster() -> Result<Cluster, AppError> {
        let state = use_context::<ClusterState>().ok_or_else(|| AppError::NoCluster {
            detail: "the server was started without a cluster connection".to_string(),
        })?;
        match state.as_ref() {
            Ok(cluster) => Ok(cluster.clone()),
            Err(error) => Err(fail(error.clone())),
        }
    }

    /// Maps a cluster result and sets the response status from the error.
    pub fn respond<T>(result: Result<T, ClusterError>) -> Result<T, AppError> {
        result.map_err(|e| {
            tracing::warn!(error = %e, "cluster request failed");
            if matches!(e, ClusterError::Kube { .. }) {
                crate::metrics::metrics().apiserver_error();
            }
            fail(e.into())
        })
    }

    /// Sets the HTTP status the error calls for (when answering an HTTP request).
    pub fn fail(error: AppError) -> AppError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
                response.set_status(status);
            }
        }
        error
    }
}
