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

/// Ends a signed-in session on every replica: the session's id is recorded in the cluster
/// until its cookie would have expired, and refused from then on. (The browser's cookie is
/// cleared by the caller whatever this answers.)
pub async fn sign_out(services: &Services, caller: &Caller) -> Answer<()> {
    let (
        AuthMode::Token { revoked, .. },
        Caller::SignedIn {
            session,
            expires_at,
            ..
        },
    ) = (services.auth().as_ref(), caller)
    else {
        return Ok(());
    };
    revoked.insert(session, *expires_at);
    let user = match services.actor(caller) {
        Ok(actor) => actor.cluster.whoami().await.ok(),
        Err(_) => None,
    };
    let server = services.server()?;
    services
        .mapped(server.revoke_session(session, *expires_at, now()).await)
        .map_err(|e| AppError::Cluster {
            message: format!(
                "you are signed out in this browser, but the session could not be ended on the \
                 other replicas: {e}"
            ),
        })?;
    tracing::info!(
        target: "audit",
        user = user.as_deref().unwrap_or("an unidentified user"),
        "signed out"
    );
    Ok(())
}
