//! Server functions: thin wrappers, a few lines each — cluster call, domain view, mapped error.
//! Each has an explicit, stable endpoint under `/api/` for automation.

use crate::domain::Overview;
use crate::error::AppError;
use leptos::prelude::*;

/// The mesh-wide policy and every namespace with its number of ServiceEntries.
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let cluster = ssr::cluster()?;
    ssr::respond(cluster.overview().await)
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
