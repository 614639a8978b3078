//! Cluster errors: every kube error is classified here, once ([`ClusterError::from_kube`]),
//! and mapped to [`AppError`] here, once. No other module looks inside a `kube::Error`.

use crate::domain::validation::Finding;
use crate::error::AppError;

/// What kind of failure the cluster layer met, by what a person can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No usable kubeconfig or in-cluster configuration.
    Config,
    /// The API server did not answer (connection, TLS, timeout).
    Unreachable,
    /// The API server does not accept the credentials (401): an expired or revoked token.
    Unauthenticated,
    /// The API server knows the caller but RBAC refuses the request (403).
    Forbidden,
    /// The object (or its kind) does not exist (404).
    NotFound,
    /// Another writer changed the object first (409), more often than retries absorbed.
    Conflict,
    /// Nothing was sent: the cluster is not in a state that allows the request.
    Precondition,
    /// The API server (schema, CEL rules, an admission webhook) refused the object.
    Rejected,
    /// An object in the cluster does not have the shape Istio gives it.
    Malformed,
    /// The API server answered with a failure of its own (5xx, throttling).
    ApiServer,
    /// This server's own state failed.
    Internal,
}

/// A failure of the cluster layer: its kind, what it concerns (the API server's address, or
/// the object that is malformed), the words for it, and for a rejection every cause at its
/// field. Mapped to [`AppError`] below, in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The API server's address, or the object concerned; empty when neither applies.
    pub subject: String,
    /// The words for it.
    pub message: String,
    /// A rejection's causes.
    pub findings: Vec<Finding>,
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", AppError::from(self.clone()))
    }
}

impl std::error::Error for ClusterError {}

impl ClusterError {
    fn new(kind: ErrorKind, subject: &str, message: String) -> Self {
        Self {
            kind,
            subject: subject.to_string(),
            message,
            findings: vec![],
        }
    }

    /// No usable cluster configuration.
    pub fn config(message: String) -> Self {
        Self::new(ErrorKind::Config, "", message)
    }

    /// Nothing was sent, for `reason`.
    /// The same failure, its words followed by `what` (which object, what was kept).
    pub fn context(mut self, what: &str) -> Self {
        self.message = match self.message.is_empty() {
            true => what.to_string(),
            false => format!("{}: {what}", self.message),
        };
        self
    }

    pub fn precondition(reason: String) -> Self {
        Self::new(ErrorKind::Precondition, "", reason)
    }

    /// The object changed since it was read, for `reason`.
    pub fn conflict(reason: String) -> Self {
        Self::new(ErrorKind::Conflict, "", reason)
    }

    /// `what` does not exist.
    pub fn not_found(what: String) -> Self {
        Self::new(ErrorKind::NotFound, "", what)
    }

    /// `object` in the cluster cannot be read, for `reason`.
    pub fn malformed(object: String, reason: String) -> Self {
        Self::new(ErrorKind::Malformed, &object, reason)
    }

    /// This server's own state failed.
    pub fn internal(message: String) -> Self {
        Self::new(ErrorKind::Internal, "", message)
    }

    /// Classifies a kube error from the API server at `cluster`. The one place that looks
    /// inside `kube::Error`.
    pub fn from_kube(cluster: &str, error: &kube::Error) -> Self {
        let status = match error {
            kube::Error::Api(status) => status,
            kube::Error::Auth(e) => {
                return Self::new(ErrorKind::Unauthenticated, cluster, root_cause(e))
            }
            other => return Self::new(ErrorKind::Unreachable, cluster, root_cause(other)),
        };
        let message = status.message.clone();
        let kind = match status.code {
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            400 | 422 => ErrorKind::Rejected,
            _ => ErrorKind::ApiServer,
        };
        let message = match kind {
            ErrorKind::Unauthenticated if message.is_empty() => {
                "the token may have expired or been revoked".to_string()
            }
            ErrorKind::Unauthenticated => {
                format!("{message} (the token may have expired or been revoked)")
            }
            ErrorKind::ApiServer if message.contains("failed calling webhook") => format!(
                "istiod's validating webhook did not answer, so the API server at {cluster} \
                 refuses every Istio change until istiod is back (kubectl -n istio-system get \
                 pods -l app=istiod); nothing was written. The API server said: {message}"
            ),
            ErrorKind::ApiServer => format!("{} from {cluster}: {message}", status.code),
            _ => message,
        };
        Self {
            findings: match kind {
                ErrorKind::Rejected => rejection_findings(status),
                _ => vec![],
            },
            ..Self::new(kind, cluster, message)
        }
    }

    /// Whether the failure is the API server's (counted in the metrics), not the caller's.
    pub fn is_apiserver_failure(&self) -> bool {
        matches!(self.kind, ErrorKind::Unreachable | ErrorKind::ApiServer)
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
        let ClusterError {
            kind,
            subject,
            message,
            findings,
        } = error;
        match kind {
            ErrorKind::Config => AppError::NoCluster { detail: message },
            ErrorKind::Unreachable => AppError::Unreachable {
                cluster: subject,
                detail: message,
            },
            ErrorKind::Unauthenticated => AppError::Unauthenticated {
                message: format!(
                    "the API server at {subject} did not accept the credentials: {message}"
                ),
            },
            ErrorKind::Forbidden => AppError::Forbidden { message },
            ErrorKind::NotFound => AppError::NotFound { what: message },
            ErrorKind::Conflict => AppError::Conflict { message },
            ErrorKind::Precondition => AppError::Precondition { reason: message },
            ErrorKind::Rejected => AppError::Rejected { findings },
            ErrorKind::Malformed => AppError::Malformed {
                object: subject,
                reason: message,
            },
            ErrorKind::ApiServer => AppError::Cluster { message },
            ErrorKind::Internal => AppError::Internal { message },
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
        assert_eq!(error.kind, ErrorKind::Unauthenticated, "{error:?}");
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
        assert_eq!(error.kind, ErrorKind::Rejected, "{error:?}");
        let fields: Vec<&str> = error.findings.iter().map(|f| f.field.as_str()).collect();
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
        assert_eq!(error.kind, ErrorKind::Rejected, "{error:?}");
        assert_eq!(error.findings.len(), 1);
        assert_eq!(error.findings[0].field, "spec");
        assert!(error.findings[0].message.contains("bad host"));
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
