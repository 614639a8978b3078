//! Who is signed in, and signing in.

use super::Answer;
use super::Services;
use crate::auth::{now, AuthMode, Caller, SESSION_SECONDS};
use crate::domain::access::Session;
use crate::error::AppError;

/// The acting user (for the header), or none when nobody is signed in: an anonymous visitor
/// of a shared dashboard is a normal state, not an error.
pub async fn session(services: &Services, caller: &Caller) -> Session {
    let user = match services.actor(caller) {
        Ok(actor) => actor.cluster.whoami().await.ok(),
        Err(_) => None,
    };
    Session {
        mode: services.auth().mode(),
        user,
    }
}

/// Checks a bearer token with the API server and seals it into a session cookie value.
/// Answers the user's name and the sealed value.
pub async fn sign_in(services: &Services, token: &str) -> Answer<(String, String)> {
    let invalid = |reason: &str| AppError::Invalid {
        field: "token".into(),
        reason: reason.into(),
    };
    let AuthMode::Token { sessions, .. } = services.auth().as_ref() else {
        return Err(invalid("this server does not use token sign-in"));
    };
    let token = token.trim();
    if token.is_empty() {
        return Err(invalid("paste a Kubernetes bearer token"));
    }
    let cluster = services.mapped(services.server()?.trying_token(token))?;
    let user = cluster
        .whoami()
        .await
        .map_err(|_| AppError::Unauthenticated {
            message: "the Kubernetes API server did not accept this token".into(),
        })?;
    let sealed = sessions
        .seal(token, now() + SESSION_SECONDS)
        .ok_or_else(|| AppError::Internal {
            message: "the session could not be sealed".into(),
        })?;
    tracing::info!(target: "audit", user = %user, "signed in");
    Ok((user, sealed))
}
