//! Server functions: thin wrappers, a few lines each — who acts, cluster call, domain view,
//! mapped error. Each has an explicit, stable endpoint under `/api/` (docs/API.md).

use crate::domain::access::{NamespacePermissions, Session};
use crate::domain::service_entry::{Deleted, ServiceEntryDetail, ServiceEntryView};
use crate::domain::{Overview, PolicyState};
use crate::error::AppError;
use leptos::prelude::*;

/// The mesh-wide policy and every namespace (that the user may list ServiceEntries in) with
/// its number of ServiceEntries and its effective policy. `control_plane` picks one of several
/// IstioControlPlanes.
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview(control_plane: Option<String>) -> Result<Overview, AppError> {
    let actor = ssr::actor()?;
    let server = ssr::server()?;
    let mut overview = ssr::respond(server.overview(control_plane.as_deref()).await)?;
    if ssr::shared() {
        let names: Vec<String> = overview.namespaces.iter().map(|n| n.name.clone()).collect();
        let visible = ssr::listable_namespaces(&actor, names).await?;
        overview.namespaces.retain(|n| visible.contains(&n.name));
    }
    overview.policy_access = ssr::policy_access(&actor, &overview.policy).await?;
    Ok(overview)
}

/// The mesh-wide outbound traffic policy and where it lives.
#[server(prefix = "/api", endpoint = "outbound_policy")]
pub async fn outbound_policy(control_plane: Option<String>) -> Result<PolicyState, AppError> {
    let actor = ssr::actor()?;
    let report = ssr::respond(actor.policy_report(control_plane.as_deref()).await)?;
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
    let actor = ssr::actor()?;
    let before = ssr::respond(actor.policy_report(control_plane.as_deref()).await)?;
    let report = ssr::respond(actor.set_policy(&mode, control_plane.as_deref()).await)?;
    let state = PolicyState::from(&report);
    if let Some(source) = &state.source {
        let (api_version, kind) = match source.kind {
            crate::domain::SourceKind::ConfigMap => ("v1", "ConfigMap"),
            crate::domain::SourceKind::IstioControlPlane => {
                ("servicemesh.cisco.com/v1alpha1", "IstioControlPlane")
            }
        };
        let change = crate::cluster::Change {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: source.namespace.clone(),
            name: source.name.clone(),
            reason: "OutboundPolicySwitched",
            what: format!(
                "switched the mesh-wide outbound traffic policy: {} → {}",
                before.setting().describe(),
                report.setting().describe()
            ),
        };
        actor.record_change(&ssr::server()?, change).await;
    }
    crate::metrics::metrics().policy_switch(mode.as_istio());
    Ok(state)
}

/// ServiceEntries of a namespace (`namespace` empty: every namespace the user may list), from
/// the watch cache.
#[server(prefix = "/api", endpoint = "service_entries")]
pub async fn list_service_entries(namespace: String) -> Result<Vec<ServiceEntryView>, AppError> {
    let actor = ssr::actor()?;
    let server = ssr::server()?;
    let mut entries = ssr::respond(server.service_entries(namespace.trim()).await)?;
    if ssr::shared() {
        let mut names: Vec<String> = entries.iter().map(|e| e.namespace.clone()).collect();
        if !namespace.trim().is_empty() {
            names.push(namespace.trim().to_string());
        }
        names.dedup();
        let visible = ssr::listable_namespaces(&actor, names).await?;
        if !namespace.trim().is_empty() && !visible.contains(namespace.trim()) {
            return Err(ssr::fail(AppError::Forbidden {
                message: crate::domain::access::Permission::new(
                    "list",
                    "networking.istio.io",
                    "serviceentries",
                    namespace.trim(),
                )
                .denied_message(),
            }));
        }
        entries.retain(|e| visible.contains(&e.namespace));
    }
    Ok(entries)
}

/// One ServiceEntry with every field, its YAML and what validation finds in it.
#[server(prefix = "/api", endpoint = "service_entry")]
pub async fn get_service_entry(
    namespace: String,
    name: String,
) -> Result<ServiceEntryDetail, AppError> {
    let actor = ssr::actor()?;
    ssr::respond(actor.service_entry(&namespace, &name).await)
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
    let actor = ssr::actor()?;
    match ssr::respond(actor.create_service_entry(&namespace, object).await)? {
        Ok(view) => {
            let what = format!("created ServiceEntry for {}", view.hosts.join(", "));
            ssr::audit(
                &actor,
                &view.namespace,
                &view.name,
                "ServiceEntryCreated",
                what,
            )
            .await;
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
    let actor = ssr::actor()?;
    let deleted = ssr::respond(actor.delete_service_entry(&namespace, &name).await)?;
    let what = format!(
        "deleted ServiceEntry: pods no longer reach {} under REGISTRY_ONLY",
        deleted.hosts.join(", ")
    );
    ssr::audit(&actor, &namespace, &name, "ServiceEntryDeleted", what).await;
    Ok(deleted)
}

/// Re-creates a ServiceEntry this server deleted, exactly as it was.
#[server(prefix = "/api", endpoint = "undo_delete_service_entry")]
pub async fn undo_delete_service_entry(
    namespace: String,
    name: String,
) -> Result<ServiceEntryView, AppError> {
    let actor = ssr::actor()?;
    let view = ssr::respond(actor.undo_delete(&namespace, &name).await)?;
    let what = format!(
        "restored deleted ServiceEntry for {}",
        view.hosts.join(", ")
    );
    ssr::audit(&actor, &namespace, &name, "ServiceEntryRestored", what).await;
    Ok(view)
}

/// What the acting user may do with ServiceEntries in `namespace`.
#[server(prefix = "/api", endpoint = "namespace_access")]
pub async fn namespace_access(namespace: String) -> Result<NamespacePermissions, AppError> {
    use crate::domain::access::Permission;
    let actor = ssr::actor()?;
    let check =
        |verb: &str| Permission::new(verb, "networking.istio.io", "serviceentries", &namespace);
    Ok(NamespacePermissions {
        create: ssr::respond(actor.can(&check("create")).await)?,
        delete: ssr::respond(actor.can(&check("delete")).await)?,
    })
}

/// The acting user (for the header), or none when nobody is signed in.
#[server(prefix = "/api", endpoint = "session")]
pub async fn session_info() -> Result<Session, AppError> {
    let mode = ssr::auth_mode().name().to_string();
    let user = match ssr::actor() {
        Ok(actor) => actor.whoami().await.ok(),
        Err(_) => None,
    };
    // NB: an anonymous visitor of a shared dashboard is a normal state, not an error.
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::OK);
    }
    Ok(Session { mode, user })
}

/// Signs in with a Kubernetes bearer token (shared mode): the API server must accept it. The
/// token goes into an encrypted, HttpOnly, SameSite=Strict session cookie, never back to the
/// page.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(token: String) -> Result<String, AppError> {
    let crate::auth::AuthMode::Token {
        sessions,
        secure_cookies,
    } = ssr::auth_mode()
    else {
        return Err(ssr::fail(AppError::Invalid {
            field: "token".into(),
            reason: "this server does not use token sign-in".into(),
        }));
    };
    let token = token.trim();
    if token.is_empty() {
        return Err(ssr::fail(AppError::Invalid {
            field: "token".into(),
            reason: "paste a Kubernetes bearer token".into(),
        }));
    }
    let server = ssr::server()?;
    let user = server
        .with_token(token)
        .map_err(|e| ssr::fail(e.into()))?
        .whoami()
        .await
        .map_err(|_| {
            ssr::fail(AppError::Unauthenticated {
                message: "the Kubernetes API server did not accept this token".into(),
            })
        })?;
    let sealed = sessions
        .seal(token, crate::auth::now() + crate::auth::SESSION_SECONDS)
        .ok_or_else(|| AppError::Invalid {
            field: "token".into(),
            reason: "the session could not be sealed".into(),
        })?;
    ssr::set_cookie(&crate::auth::set_cookie(Some(&sealed), secure_cookies));
    tracing::info!(target: "audit", user = %user, "signed in");
    leptos_axum::redirect("/");
    Ok(user)
}

/// Ends the session.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let secure = matches!(
        ssr::auth_mode(),
        crate::auth::AuthMode::Token {
            secure_cookies: true,
            ..
        }
    );
    ssr::set_cookie(&crate::auth::set_cookie(None, secure));
    leptos_axum::redirect("/login");
    Ok(())
}

/// Server-side helpers shared by the server functions.
#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::auth::AuthMode;
    use crate::cluster::{Change, Cluster, ClusterError};
    use crate::domain::access::{Access, Permission};
    use crate::domain::{PolicyReport, SourceKind};
    use crate::error::AppError;
    use leptos::prelude::*;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    /// What the server knows about its cluster: a client, or why there is none.
    pub type ClusterState = Arc<Result<Cluster, AppError>>;

    /// The cluster with the server's own identity, or the reason there is none.
    pub fn server() -> Result<Cluster, AppError> {
        let state = use_context::<ClusterState>().ok_or_else(|| AppError::NoCluster {
            detail: "the server was started without a cluster connection".to_string(),
        })?;
        match state.as_ref() {
            Ok(cluster) => Ok(cluster.clone()),
            Err(error) => Err(fail(error.clone())),
        }
    }

    /// How users are identified (local mode when none was provided).
    pub fn auth_mode() -> AuthMode {
        use_context::<Arc<AuthMode>>()
            .map(|mode| mode.as_ref().clone())
            .unwrap_or(AuthMode::Local)
    }

    /// Whether users are told apart.
    pub fn shared() -> bool {
        auth_mode().is_shared()
    }

    /// The cluster acting as the request's user: the server's identity in local mode, the
    /// signed-in user's token, or the user a trusted proxy names (impersonated).
    pub fn actor() -> Result<Cluster, AppError> {
        let server = server()?;
        let headers = use_context::<axum::http::request::Parts>().map(|p| p.headers);
        match auth_mode() {
            AuthMode::Local => Ok(server),
            AuthMode::Token { sessions, .. } => {
                let token = headers
                    .as_ref()
                    .and_then(|h| crate::auth::cookie(h, crate::auth::COOKIE))
                    .and_then(|value| sessions.open(value, crate::auth::now()))
                    .ok_or_else(|| {
                        fail(AppError::Unauthenticated {
                            message: "no valid session (it may have expired)".into(),
                        })
                    })?;
                server.with_token(&token).map_err(|e| fail(e.into()))
            }
            AuthMode::Proxy {
                user_header,
                groups_header,
            } => {
                let header = |name: &str| {
                    headers
                        .as_ref()
                        .and_then(|h| h.get(name))
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let user = header(&user_header)
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        fail(AppError::Unauthenticated {
                            message: format!(
                                "the authenticating proxy sent no {user_header} header"
                            ),
                        })
                    })?;
                let groups = groups_header
                    .as_deref()
                    .and_then(header)
                    .map(|g| {
                        g.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                server
                    .impersonating(&user, groups)
                    .map_err(|e| fail(e.into()))
            }
        }
    }

    /// The namespaces among `names` in which the actor may list ServiceEntries.
    pub async fn listable_namespaces(
        actor: &Cluster,
        names: Vec<String>,
    ) -> Result<BTreeSet<String>, AppError> {
        let checks = names.into_iter().map(|name| async move {
            let permission =
                Permission::new("list", "networking.istio.io", "serviceentries", &name);
            actor
                .can(&permission)
                .await
                .map(|access| (name, access.allowed()))
        });
        let answers = futures::future::join_all(checks).await;
        let mut visible = BTreeSet::new();
        for answer in answers {
            let (name, allowed) = respond(answer)?;
            if allowed {
                visible.insert(name);
            }
        }
        Ok(visible)
    }

    /// Whether the actor may switch the policy where it lives.
    pub async fn policy_access(actor: &Cluster, policy: &PolicyReport) -> Result<Access, AppError> {
        let permission = match policy {
            PolicyReport::Found { source, .. } => match source.kind {
                SourceKind::ConfigMap => {
                    Permission::new("update", "", "configmaps", &source.namespace)
                        .named(&source.name)
                }
                SourceKind::IstioControlPlane => Permission::new(
                    "patch",
                    "servicemesh.cisco.com",
                    "istiocontrolplanes",
                    &source.namespace,
                )
                .named(&source.name),
            },
            PolicyReport::NoSource { .. } => {
                return Ok(Access::Denied {
                    reason: "there is no mesh config to write the policy to".into(),
                })
            }
        };
        respond(actor.can(&permission).await)
    }

    /// Records a ServiceEntry change in the audit trail.
    pub async fn audit(
        actor: &Cluster,
        namespace: &str,
        name: &str,
        reason: &'static str,
        what: String,
    ) {
        let Ok(server) = server() else { return };
        let api_version = actor.service_entry_api_version().await;
        let change = Change {
            api_version,
            kind: "ServiceEntry".into(),
            namespace: namespace.into(),
            name: name.into(),
            reason,
            what,
        };
        actor.record_change(&server, change).await;
    }

    /// Adds a Set-Cookie header to the response.
    pub fn set_cookie(value: &str) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(value),
        ) {
            response.append_header(axum::http::header::SET_COOKIE, value);
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
