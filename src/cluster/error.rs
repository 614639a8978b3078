//! Cluster errors, and their mapping to [`AppError`]: the one place where a kube error becomes
//! something a person reads.

use crate::error::AppError;

/// What went wrong while talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("no cluster configuration: {0}")]
    Config(String),
    /// A request to the API server failed.
    #[error("request to {cluster} failed: {source}")]
    Kube {
        /// The API server's address.
        cluster: String,
        /// The kube-rs error.
        #[source]
        source: kube::Error,
    },
    /// The write was not attempted, for the reason given.
    #[error("{reason}")]
    Refused {
        /// Why, and what to do instead.
        reason: String,
    },
    /// An object in the cluster does not have the shape Istio gives it.
    #[error("{object}: {reason}")]
    Malformed {
        /// Which object.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ClusterError {
    /// Wraps a kube error with the cluster it came from.
    pub fn kube(cluster: &str, source: kube::Error) -> Self {
        Self::Kube {
            cluster: cluster.to_string(),
            source,
        }
    }
}

/// Words for a transport failure: the innermost cause, which says what really happened
/// ("Connection refused", "certificate ... expired") without the wrapper chain.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    // NB: io errors print "Connection refused (os error 111)"; the errno helps nobody.
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

impl From<ClusterError> for AppError {
    fn from(error: ClusterError) -> Self {
        match error {
            ClusterError::Config(detail) => AppError::NoCluster { detail },
            ClusterError::Refused { reason } => AppError::Conflict { message: reason },
            ClusterError::Malformed { object, reason } => AppError::Invalid {
                field: object,
                reason,
            },
            ClusterError::Kube { cluster, source } => match source {
                kube::Error::Api(status) => match status.code {
                    401 => AppError::Forbidden {
                        message: format!(
                            "the API server at {cluster} did not accept the credentials: {}",
                            status.message
                        ),
                    },
                    403 => AppError::Forbidden {
                        message: status.message,
                    },
                    404 => AppError::NotFound {
                        what: status.message,
                    },
                    409 => AppError::Conflict {
                        message: status.message,
                    },
                    422 | 400 => AppError::Invalid {
                        field: status
                            .details
                            .as_ref()
                            .and_then(|d| d.causes.first())
                            .map(|c| c.field.clone())
                            .filter(|f| !f.is_empty())
                            .unwrap_or_else(|| "object".to_string()),
                        reason: status.message,
                    },
                    _ => AppError::Cluster {
                        message: status.message,
                    },
                },
                other => AppError::Unreachable {
                    cluster,
                    detail: root_cause(&other),
                },
            },
        }
    }
}
