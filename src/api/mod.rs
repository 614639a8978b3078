//! Server functions: each identifies the caller, calls one function of `crate::service`, and
//! answers through [`ssr::respond`], which sets the HTTP status of every error in one place.
//! Each has an explicit, stable endpoint under `/api/` (docs/API.md).

use crate::domain::access::{NamespacePermissions, Session};
use crate::domain::form::ServiceEntryForm;
use crate::domain::service_entry::{Deleted, ServiceEntryDetail, ServiceEntryView};
use crate::domain::{Overview, PolicyState};
use crate::error::AppError;
use leptos::prelude::*;

/// The mesh-wide policy and every namespace (that the user may list ServiceEntries in) with
/// its number of ServiceEntries and its effective policy. `control_plane` picks one of several
/// IstioControlPlanes.
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview(control_plane: Option<String>) -> Result<Overview, AppError> {
    use crate::service::overview;
    ssr::respond(async { overview(&ssr::actor().await?, control_plane.as_deref()).await }.await)
}

/// The mesh-wide outbound traffic policy and where it lives.
#[server(prefix = "/api", endpoint = "outbound_policy")]
pub async fn outbound_policy(control_plane: Option<String>) -> Result<PolicyState, AppError> {
    use crate::service::outbound_policy as policy;
    ssr::respond(async { policy(&ssr::actor().await?, control_plane.as_deref()).await }.await)
}

/// Switches the mesh-wide policy (`mode` = REGISTRY_ONLY | ALLOW_ANY, or restricted |
/// allowed) and answers with the state read back from the cluster.
#[server(prefix = "/api", endpoint = "set_outbound_policy")]
pub async fn set_outbound_policy(
    mode: String,
    control_plane: Option<String>,
) -> Result<PolicyState, AppError> {
    use crate::service::switch_policy;
    let control_plane = control_plane.as_deref();
    ssr::respond(async { switch_policy(&ssr::actor().await?, &mode, control_plane).await }.await)
}

/// ServiceEntries of a namespace (`namespace` empty: every namespace the user may list), from
/// the watch cache.
#[server(prefix = "/api", endpoint = "service_entries")]
pub async fn list_service_entries(namespace: String) -> Result<Vec<ServiceEntryView>, AppError> {
    use crate::service::list_service_entries as list;
    ssr::respond(async { list(&ssr::actor().await?, &namespace).await }.await)
}

/// One ServiceEntry with every field, its YAML and what validation finds in it.
#[server(prefix = "/api", endpoint = "service_entry")]
pub async fn get_service_entry(
    namespace: String,
    name: String,
) -> Result<ServiceEntryDetail, AppError> {
    use crate::service::service_entry;
    ssr::respond(async { service_entry(&ssr::actor().await?, &namespace, &name).await }.await)
}

/// Creates a ServiceEntry from a manifest (YAML or JSON, in field `manifest`): mesh-egress's
/// validation, then a server-side dry run, then the write. `namespace` applies when the
/// manifest names none.
#[server(prefix = "/api", endpoint = "create_service_entry")]
pub async fn create_service_entry(
    manifest: String,
    namespace: Option<String>,
) -> Result<ServiceEntryView, AppError> {
    use crate::service::create_from_manifest as create;
    let namespace = namespace.as_deref();
    ssr::respond(async { create(&ssr::actor().await?, &manifest, namespace).await }.await)
}

/// Creates a ServiceEntry from the create form's fields; the form's own findings refuse it.
#[server(prefix = "/api", endpoint = "create_service_entry_form")]
pub async fn create_service_entry_form(
    form: ServiceEntryForm,
) -> Result<ServiceEntryView, AppError> {
    use crate::service::create_from_form;
    ssr::respond(async { create_from_form(&ssr::actor().await?, &form).await }.await)
}

/// Deletes a ServiceEntry; the answer names the hosts pods no longer reach.
#[server(prefix = "/api", endpoint = "delete_service_entry")]
pub async fn delete_service_entry(namespace: String, name: String) -> Result<Deleted, AppError> {
    use crate::service::delete_service_entry as delete;
    ssr::respond(async { delete(&ssr::actor().await?, &namespace, &name).await }.await)
}

/// Re-creates a ServiceEntry this server deleted, exactly as it was.
#[server(prefix = "/api", endpoint = "undo_delete_service_entry")]
pub async fn undo_delete_service_entry(
    namespace: String,
    name: String,
) -> Result<ServiceEntryView, AppError> {
    use crate::service::undo_delete;
    ssr::respond(async { undo_delete(&ssr::actor().await?, &namespace, &name).await }.await)
}

/// What the acting user may do with ServiceEntries in `namespace`.
#[server(prefix = "/api", endpoint = "namespace_access")]
pub async fn namespace_access(namespace: String) -> Result<NamespacePermissions, AppError> {
    use crate::service::namespace_access as access;
    ssr::respond(async { access(&ssr::actor().await?, &namespace).await }.await)
}

/// The acting user (for the header), or none when nobody is signed in.
#[server(prefix = "/api", endpoint = "session")]
pub async fn session_info() -> Result<Session, AppError> {
    let services = ssr::services()?;
    Ok(crate::service::session(&services, &ssr::caller().await).await)
}

/// Signs in with a Kubernetes bearer token (shared mode): the API server must accept it. The
/// token goes into an encrypted, HttpOnly, SameSite=Strict session cookie, never back to the
/// page.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(token: String) -> Result<String, AppError> {
    let signed_in = async { crate::service::sign_in(ssr::services()?.as_ref(), &token).await };
    let signed_in = signed_in.await;
    let (user, sealed) = ssr::respond(signed_in)?;
    ssr::set_session_cookie(Some(&sealed));
    leptos_axum::redirect("/");
    Ok(user)
}

/// Ends the session.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    ssr::set_session_cookie(None);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Server-side helpers shared by the server functions: the boundary between HTTP and the
/// service layer.
#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::auth::{AuthMode, Caller};
    use crate::error::AppError;
    use crate::service::{Actor, Services};
    use leptos::prelude::*;
    use std::sync::Arc;

    /// The shared state, provided once by the router.
    pub fn services() -> Result<Arc<Services>, AppError> {
        use_context::<Arc<Services>>().ok_or_else(|| AppError::Internal {
            message: "the server was started without its services".into(),
        })
    }

    /// Who sent the request (the `Caller` extractor). Outside an HTTP request nobody is.
    pub async fn caller() -> Caller {
        leptos_axum::extract::<Caller>()
            .await
            .unwrap_or_else(|_| Caller::Anonymous {
                why: "not an HTTP request".into(),
            })
    }

    /// The acting user for this request.
    pub async fn actor() -> Result<Actor, AppError> {
        services()?.actor(&caller().await)
    }

    /// The one place where an error's HTTP status is set, for every server function.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let (Err(error), Some(response)) =
            (&result, use_context::<leptos_axum::ResponseOptions>())
        {
            if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
                response.set_status(status);
            }
        }
        result
    }

    /// Sets (or, with `None`, ends) the session cookie on the response.
    pub fn set_session_cookie(sealed: Option<&str>) {
        let secure = services().is_ok_and(|s| {
            matches!(
                s.auth().as_ref(),
                AuthMode::Token {
                    secure_cookies: true,
                    ..
                }
            )
        });
        let cookie = crate::auth::set_cookie(sealed, secure);
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(&cookie),
        ) {
            response.append_header(axum::http::header::SET_COOKIE, value);
        }
    }
}
