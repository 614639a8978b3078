//! Cluster errors: every kube error is classified here, once ([`ClusterError::from_kube`]),
//! and mapped to [`AppError`] here, once. No other module looks inside a `kube::Error`.

use crate::domain::validation::Finding;
use crate::error::AppError;

/// What went wrong while talking to the cluster, by what a person can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("no cluster configuration: {0}")]
    Config(String),
    /// The API server did not answer (connection, TLS, timeout).
    #[error("cannot reach the Kubernetes API server at {cluster}: {detail}")]
    Unreachable {
        /// The API server's address.
        cluster: String,
        /// The innermost cause, in words.
        detail: String,
    },
    /// The API server does not accept the credentials (401): an expired or revoked token.
    #[error("the API server at {cluster} did not accept the credentials: {message}")]
    Unauthenticated {
        /// The API server's address.
        cluster: String,
        /// The API server's explanation.
        message: String,
    },
    /// The API server knows the caller but RBAC refuses the request (403).
    #[error("forbidden: {message}")]
    Forbidden {
        /// The API server's explanation (it names the verb and resource).
        message: String,
    },
    /// The object (or its kind) does not exist (404).
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// Another writer changed the object first (409), more often than retries absorbed.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicted.
        message: String,
    },
    /// The request was not sent: the cluster is not in a state that allows it.
    #[error("{reason}")]
    Precondition {
        /// Why, and what to do instead.
        reason: String,
    },
    /// The API server (its schema, CEL rules or an admission webhook) refused the object;
    /// every cause it gave, at its field.
    #[error("refused by the API server: {}", findings.iter().map(Finding::describe).collect::<Vec<_>>().join("; "))]
    Rejected {
        /// Each cause the API server named.
        findings: Vec<Finding>,
    },
    /// An object in the cluster does not have the shape Istio gives it.
    #[error("{object}: {reason}")]
    Malformed {
        /// Which object.
        object: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The API server answered with a failure of its own (5xx, throttling).
    #[error("the Kubernetes API server answered: {message}")]
    ApiServer {
        /// The API server's own message, with its status code.
        message: String,
    },
    /// This server's own state failed (nothing was sent, or the answer could not be read).
    #[error("{message}")]
    Internal {
        /// What failed.
        message: String,
    },
}

impl ClusterError {
    /// Classifies a kube error from the API server at `cluster`. The one place that looks
    /// inside `kube::Error`.
    pub fn from_kube(cluster: &str, error: &kube::Error) -> Self {
        let cluster = cluster.to_string();
        let status = match error {
            kube::Error::Api(status) => status,
            kube::Error::Auth(e) => {
                return Self::Unauthenticated {
                    cluster,
                    message: root_cause(e),
                }
            }
            other => {
                return Self::Unreachable {
                    cluster,
                    detail: root_cause(other),
                }
            }
        };
        let message = status.message.clone();
        match status.code {
            401 => Self::Unauthenticated {
                cluster,
                message: if message.is_empty() {
                    "the token may have expired or been revoked".to_string()
                } else {
                    format!("{message} (the token may have expired or been revoked)")
                },
            },
            403 => Self::Forbidden { message },
            404 => Self::NotFound { what: message },
            409 => Self::Conflict { message },
            400 | 422 => Self::Rejected {
                findings: rejection_findings(status),
            },
            code => Self::ApiServer {
                message: format!("{code} from {cluster}: {message}"),
            },
        }
    }

    /// Whether the failure is the API server's (counted in the metrics), not the caller's.
    pub fn is_apiserver_failure(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::ApiServer { .. })
    }
}

/// Every cause of a rejection, at its field; the message alone (at `spec`) when the API
/// server names no field, as admission webhooks do.
fn rejection_findings(status: &kube::core::Status) -> Vec<Finding> {
    let causes = status
        .details
        .as_ref()
        .map(|d| d.causes.as_slice())
        .unwrap_or_default();
    let finding = |field: &str, message: &str| {
        Finding::reported(if field.is_empty() { "spec" } else { field }, message)
    };
    if causes.is_empty() {
        return vec![finding("", &status.message)];
    }
    causes
        .iter()
        .map(|c| finding(&c.field, &c.message))
        .collect()
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
            ClusterError::Unreachable { cluster, detail } => {
                AppError::Unreachable { cluster, detail }
            }
            ClusterError::Unauthenticated { cluster, message } => AppError::Unauthenticated {
                message: format!(
                    "the API server at {cluster} did not accept the credentials: {message}"
                ),
            },
            ClusterError::Forbidden { message } => AppError::Forbidden { message },
            ClusterError::NotFound { what } => AppError::NotFound { what },
            ClusterError::Conflict { message } => AppError::Conflict { message },
            ClusterError::Precondition { reason } => AppError::Precondition { reason },
            ClusterError::Rejected { findings } => AppError::Rejected { findings },
            ClusterError::Malformed { object, reason } => AppError::Malformed { object, reason },
            ClusterError::ApiServer { message } => AppError::Cluster { message },
            ClusterError::Internal { message } => AppError::Internal { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// An API server error answer, as it arrives on the wire.
    fn api(code: u16, message: &str, causes: Vec<Value>) -> kube::Error {
        let status = json!({
            "status": "Failure", "code": code, "message": message, "reason": "",
            "details": {"causes": causes},
        });
        kube::Error::Api(Box::new(serde_json::from_value(status).expect("a Status")))
    }

    fn cause(field: &str, message: &str) -> Value {
        json!({"field": field, "message": message, "reason": "FieldValueInvalid"})
    }

    #[test]
    fn a_401_is_unauthenticated_and_leads_to_sign_in_not_to_rbac_advice() {
        let error = ClusterError::from_kube("https://k", &api(401, "Unauthorized", vec![]));
        assert!(
            matches!(error, ClusterError::Unauthenticated { .. }),
            "{error:?}"
        );
        let app = AppError::from(error);
        assert_eq!(app.status_code(), 401);
        assert!(matches!(app, AppError::Unauthenticated { .. }), "{app:?}");
        let hint = app.hint().unwrap_or_default();
        assert!(hint.contains("Sign in"), "{hint}");
        assert!(!hint.contains("RBAC"), "{hint}");
    }

    #[test]
    fn every_cause_of_a_rejection_is_kept_at_its_field() {
        let error = ClusterError::from_kube(
            "https://k",
            &api(
                422,
                "ServiceEntry.networking.istio.io \"x\" is invalid",
                vec![
                    cause("spec.hosts", "Required value"),
                    cause("spec.ports[0].number", "must be between 1 and 65535"),
                ],
            ),
        );
        let ClusterError::Rejected { findings } = error else {
            panic!("not a rejection: {error:?}");
        };
        let fields: Vec<&str> = findings.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["spec.hosts", "spec.ports[0].number"]);
    }

    #[test]
    fn a_webhook_denial_without_fields_is_shown_at_spec() {
        let error = ClusterError::from_kube(
            "https://k",
            &api(
                400,
                "admission webhook denied the request: bad host",
                vec![],
            ),
        );
        let ClusterError::Rejected { findings } = error else {
            panic!("not a rejection: {error:?}");
        };
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].field, "spec");
        assert!(findings[0].message.contains("bad host"));
    }

    #[test]
    fn each_status_has_its_own_kind() {
        let kind = |code| {
            AppError::from(ClusterError::from_kube(
                "https://k",
                &api(code, "m", vec![]),
            ))
        };
        assert!(matches!(kind(403), AppError::Forbidden { .. }));
        assert!(matches!(kind(404), AppError::NotFound { .. }));
        assert!(matches!(kind(409), AppError::Conflict { .. }));
        assert!(matches!(kind(500), AppError::Cluster { .. }));
        assert_eq!(kind(503).status_code(), 502);
    }
}
