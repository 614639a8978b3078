//! The one error type that crosses the wire. Every layer's errors are mapped into it in one
//! place each (`cluster::error` for the cluster), and it carries a message a person can act on:
//! never a raw error dump.

use serde::{Deserialize, Serialize};

/// Errors as the browser, the automation API and the command line see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No cluster is configured (no kubeconfig, no in-cluster ServiceAccount).
    #[error("no Kubernetes cluster is configured: {detail}")]
    NoCluster {
        /// What was tried and what to do.
        detail: String,
    },
    /// The API server did not answer.
    #[error("cannot reach the Kubernetes API server at {cluster}: {detail}")]
    Unreachable {
        /// The API server's address.
        cluster: String,
        /// What failed, in words.
        detail: String,
    },
    /// Nobody is signed in (shared mode), or the session ended.
    #[error("sign in first: {message}")]
    Unauthenticated {
        /// What is missing.
        message: String,
    },
    /// The API server refused the caller's identity or permissions.
    #[error("forbidden: {message}")]
    Forbidden {
        /// The API server's explanation.
        message: String,
    },
    /// Something that should exist does not.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// Input that cannot be accepted, at a named field.
    #[error("{field}: {reason}")]
    Invalid {
        /// Path of the offending field.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// The object was refused (by mesh-egress's validation or the API server's dry run);
    /// each finding names its field.
    #[error("{}", describe_findings(findings))]
    Rejected {
        /// What is wrong, field by field.
        findings: Vec<crate::domain::validation::Finding>,
    },
    /// Another writer changed the object first, more often than retries could absorb.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicted.
        message: String,
    },
    /// The request was not sent: the cluster is not in a state that allows it (the policy is
    /// rendered by an installer, nothing to undo, no mesh config).
    #[error("{reason}")]
    Precondition {
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
    /// This server failed; the log has the cause.
    #[error("internal error: {message}")]
    Internal {
        /// What failed, in short.
        message: String,
    },
    /// The cluster answered with an error this dashboard cannot act on by itself.
    #[error("the Kubernetes API server answered: {message}")]
    Cluster {
        /// The API server's own message.
        message: String,
    },
    /// This server is at a limit it keeps (live connections): try again later.
    #[error("busy: {message}")]
    Busy {
        /// Which limit.
        message: String,
    },
    /// The request itself failed between browser and server.
    #[error("request failed: {message}")]
    Request {
        /// What failed.
        message: String,
    },
}

impl AppError {
    /// The HTTP status for this error: decided here and nowhere else.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Rejected { .. } => 422,
            Self::Unauthenticated { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } | Self::Precondition { .. } => 409,
            Self::Internal { .. } => 500,
            Self::Malformed { .. } => 502,
            Self::NoCluster { .. } | Self::Unreachable { .. } | Self::Busy { .. } => 503,
            Self::Cluster { .. } => 502,
            Self::Request { .. } => 400,
        }
    }

    /// What a person can do about it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::NoCluster { .. } => Some(
                "Point mesh-egress at a cluster with --kubeconfig, --context or KUBECONFIG, \
                 or run it in a pod with a ServiceAccount.",
            ),
            Self::Unreachable { .. } => Some(
                "Check that the cluster is running and that your kubeconfig points at it; \
                 this page recovers by itself once it answers.",
            ),
            Self::Forbidden { .. } => {
                Some("Ask a cluster administrator for the RBAC permission named above.")
            }
            Self::Unauthenticated { .. } => Some(
                "Sign in again with a valid Kubernetes bearer token; in local mode, renew the \
                 kubeconfig's credentials.",
            ),
            Self::Malformed { .. } => {
                Some("Fix the object named above in the cluster; Istio cannot read it either.")
            }
            _ => None,
        }
    }
}

fn describe_findings(findings: &[crate::domain::validation::Finding]) -> String {
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == crate::domain::validation::Severity::Error)
        .map(|f| f.describe())
        .collect();
    format!("refused: {}", errors.join("; "))
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = crate::api::codec::JsonText;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        // NB: on the server these come from reading a request: its fault, a 400 in our words.
        #[cfg(feature = "ssr")]
        if let leptos::server_fn::error::ServerFnErrorErr::Args(_)
        | leptos::server_fn::error::ServerFnErrorErr::Deserialization(_)
        | leptos::server_fn::error::ServerFnErrorErr::MissingArg(_) = &value
        {
            let error = Self::Invalid {
                field: "body".into(),
                reason: "could not be read as the form's fields (at most 1 MiB)".into(),
            };
            let _ = crate::api::ssr::respond::<()>(Err(error.clone()));
            return error;
        }
        Self::Request {
            message: value.to_string(),
        }
    }
}
