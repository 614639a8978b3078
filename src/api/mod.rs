//! Server functions: each identifies the caller, calls one function of `crate::service`, and
//! answers through [`ssr::respond`], which sets the HTTP status of every error in one place
//! (the `acting!` macro writes that once for all of them).
//! Each has an explicit, stable endpoint under `/api/` (docs/API.md).

use crate::domain::access::{NamespacePermissions, Session};
use crate::domain::edit::EditPreview;
use crate::domain::form::ServiceEntryForm;
use crate::domain::gateway::EgressGateway;
use crate::domain::map::ReachabilityMap;
#[cfg(feature = "ssr")]
use crate::domain::mesh_gateway::MeshGatewayForm;
use crate::domain::paging::Page;
use crate::domain::restrict::{NamespacePolicy, NamespacePolicyPreview};
use crate::domain::rollout::Rollout;
use crate::domain::route::{RoutePlan, RoutePreview, RoutingView};
use crate::domain::service_entry::{ServiceEntryDetail, ServiceEntryView};
use crate::domain::traffic::{EntryTraffic, NamespaceTraffic, PolicyPreview, TrafficPage};
#[cfg(feature = "ssr")]
use crate::domain::traffic::{SortBy, Verdict, Window};
use crate::domain::{Overview, PolicyState};
use crate::error::AppError;
use leptos::prelude::*;

pub mod codec;
pub mod form;

/// Defines a server function at `/api/ENDPOINT` that identifies the caller as an `Actor`,
/// calls one function of `crate::service` with it, and answers through [`ssr::respond`]. The
/// arguments are the request's form fields, read by [`form`] (a refusal names its field).
macro_rules! acting {
    ($(#[$doc:meta])* $endpoint:literal $name:ident($($arg:ident: $ty:ty),*) -> $out:ty
        = |$actor:ident| $call:expr) => {
        $(#[$doc])*
        #[server(prefix = "/api", endpoint = $endpoint, custom = crate::api::form::FormArgs,
            input = crate::api::form::Form, output = crate::api::codec::Json)]
        pub async fn $name($($arg: $ty),*) -> Result<$out, AppError> {
            ssr::respond(async { let $actor = ssr::actor().await?; $call.await }.await)
        }
    };
}

acting! {
    /// The mesh-wide policy and every namespace (that the user may list ServiceEntries in)
    /// with its number of ServiceEntries and its effective policy. `control_plane` picks one
    /// of several IstioControlPlanes.
    "overview" get_overview(control_plane: Option<String>) -> Overview
        = |actor| crate::service::overview(&actor, control_plane.as_deref())
}

acting! {
    /// The mesh-wide outbound traffic policy and where it lives.
    "outbound_policy" outbound_policy(control_plane: Option<String>) -> PolicyState
        = |actor| crate::service::outbound_policy(&actor, control_plane.as_deref())
}

acting! {
    /// Switches the mesh-wide policy (`mode` = REGISTRY_ONLY | ALLOW_ANY, or restricted |
    /// allowed) and answers with the state read back from the cluster.
    "set_outbound_policy" set_outbound_policy(mode: String, control_plane: Option<String>)
        -> PolicyState
        = |actor| crate::service::switch_policy(&actor, &mode, control_plane.as_deref())
}

acting! {
    /// ServiceEntries of a namespace (`namespace` empty: every namespace the user may list),
    /// from the watch cache.
    "service_entries" list_service_entries(namespace: String) -> std::sync::Arc<Vec<std::sync::Arc<ServiceEntryView>>>
        = |actor| crate::service::list_service_entries(&actor, &namespace)
}

acting! {
    /// One page (`page` from 1, `size` rows, 50 unless given, at most 500) of the
    /// ServiceEntries of a namespace (empty: every namespace the user may list) whose name or a
    /// host contains `q`, with `matched` and `total` counts.
    "service_entries_page" list_service_entries_page(namespace: String, q: String, page: String, size: String)
        -> Page<ServiceEntryView>
        = |actor| crate::service::service_entries_page(&actor, &namespace, &q, &page, &size)
}

acting! {
    /// One ServiceEntry with every field, its YAML and what validation finds in it.
    "service_entry" get_service_entry(namespace: String, name: String) -> ServiceEntryDetail
        = |actor| crate::service::service_entry(&actor, &namespace, &name)
}

acting! {
    /// Creates a ServiceEntry from a manifest (YAML or JSON, in field `manifest`):
    /// mesh-egress's validation, then a server-side dry run, then the write. `namespace`
    /// applies when the manifest names none.
    "create_service_entry" create_service_entry(manifest: String, namespace: Option<String>)
        -> ServiceEntryView
        = |actor| crate::service::create_from_manifest(&actor, &manifest, namespace.as_deref())
}

acting! {
    /// Creates a ServiceEntry from the create form's fields; the form's own findings refuse it.
    "create_service_entry_form" create_service_entry_form(form: ServiceEntryForm)
        -> ServiceEntryView
        = |actor| crate::service::create_from_form(&actor, &form)
}

acting! {
    /// What an edit of `namespace/name` would change, judged like a create (mesh-egress's
    /// rules, then istiod's webhook by a dry run) and diffed against the entry as it is now.
    /// The edit is the form's fields (`form`), or the whole object as YAML (`manifest`);
    /// `opened_at` is the resourceVersion the user started from.
    "preview_service_entry_edit" preview_service_entry_edit(
        namespace: String,
        name: String,
        opened_at: String,
        form: Option<ServiceEntryForm>,
        manifest: Option<String>
    ) -> EditPreview
        = |actor| crate::service::preview_edit(
            &actor, &namespace, &name, &opened_at, &ssr::edit(form, manifest)?)
}

acting! {
    /// Saves an edit of `namespace/name` made against `resource_version` (the previewed one):
    /// when the entry changed since, nothing is written (409) and the answer says so.
    "save_service_entry_edit" save_service_entry_edit(
        namespace: String,
        name: String,
        resource_version: String,
        form: Option<ServiceEntryForm>,
        manifest: Option<String>
    ) -> ServiceEntryView
        = |actor| async {
            // NB: a save carries the version previewed: an empty one is refused, not dropped.
            if resource_version.trim().is_empty() {
                return Err(AppError::Invalid {
                    field: "resource_version".into(),
                    reason: "is missing: give the version you previewed (the preview's \
                             resource_version)"
                        .into(),
                });
            }
            let edit = ssr::edit(form, manifest)?;
            crate::service::save_edit(&actor, &namespace, &name, &resource_version, &edit).await
        }
}

acting! {
    /// Deletes a ServiceEntry; the answer names the hosts pods no longer reach. With the version
    /// the user saw (`uid` and `resource_version`, optionally `generation`), only that version
    /// is deleted; a partial version is refused (400), never dropped.
    "delete_service_entry" delete_service_entry(
        namespace: String,
        name: String,
        uid: Option<String>,
        resource_version: Option<String>,
        generation: Option<String>
    ) -> ServiceEntryView
        = |actor| async {
            let seen = ssr::seen(uid, resource_version, generation)?;
            crate::service::delete_service_entry(&actor, &namespace, &name, seen).await
        }
}

acting! {
    /// Re-creates a ServiceEntry this server deleted, exactly as it was.
    "undo_delete_service_entry" undo_delete_service_entry(namespace: String, name: String)
        -> ServiceEntryView
        = |actor| crate::service::undo_delete(&actor, &namespace, &name)
}

acting! {
    /// The namespaces in which the acting user may register ServiceEntries, sorted.
    "writable_namespaces" writable_namespaces() -> Vec<String>
        = |actor| crate::service::writable_namespaces(&actor)
}

acting! {
    /// What the acting user may do with ServiceEntries in `namespace`.
    "namespace_access" namespace_access(namespace: String) -> NamespacePermissions
        = |actor| crate::service::namespace_access(&actor, &namespace)
}

acting! {
    /// Every external destination called in the window (`1h`, `24h`, `7d`) — registered,
    /// passthrough or blocked — with its callers; `query` searches hosts and callers,
    /// `verdict` keeps one verdict, `sort` is calls | host | verdict | errors.
    "traffic" get_traffic(window: String, query: String, verdict: String, sort: String)
        -> TrafficPage
        = |actor| crate::service::traffic_page(
            &actor,
            Window::parse(&window),
            &query,
            Verdict::parse(&verdict),
            SortBy::parse(&sort),
        )
}

acting! {
    /// Calls to one ServiceEntry's hosts in the window, per caller, and their rate.
    "entry_traffic" get_entry_traffic(namespace: String, name: String, window: String)
        -> EntryTraffic
        = |actor| crate::service::entry_traffic(&actor, &namespace, &name, Window::parse(&window))
}

acting! {
    /// Calls per ServiceEntry of `namespace` (empty: all), and its calls to unregistered hosts.
    "namespace_traffic" get_namespace_traffic(namespace: String, window: String)
        -> NamespaceTraffic
        = |actor| crate::service::namespace_traffic(&actor, &namespace, Window::parse(&window))
}

acting! {
    /// What switching the mesh to REGISTRY_ONLY would block, from the traffic in the window.
    "policy_preview" get_policy_preview(window: String) -> PolicyPreview
        = |actor| crate::service::policy_preview(&actor, Window::parse(&window))
}

acting! {
    /// A namespace's effective outbound policy (and where it comes from), whether mesh-egress
    /// changed its Sidecar, and whether the user may restrict or open it.
    "namespace_policy" get_namespace_policy(namespace: String) -> NamespacePolicy
        = |actor| crate::service::namespace_policy(&actor, &namespace)
}

acting! {
    /// What restricting (`mode` = restricted | REGISTRY_ONLY) or opening (allowed | ALLOW_ANY)
    /// `namespace` would write (the Sidecar's YAML diff, judged by istiod's webhook in a dry run)
    /// and block (its calls in the window that pass through today). Writes nothing.
    "preview_namespace_policy" preview_namespace_policy(namespace: String, mode: String, window: String)
        -> NamespacePolicyPreview
        = |actor| crate::service::preview_namespace_policy(&actor, &namespace, &mode, Window::parse(&window))
}

acting! {
    /// Restricts or opens `namespace` through its Sidecar's outbound policy; opening a namespace
    /// mesh-egress restricted puts its Sidecar back as it was (deleted, when mesh-egress created
    /// it). Answers the namespace's policy read back.
    "set_namespace_policy" set_namespace_policy(namespace: String, mode: String) -> NamespacePolicy
        = |actor| crate::service::set_namespace_policy(&actor, &namespace, &mode)
}

acting! {
    /// Every namespace by readiness for REGISTRY_ONLY in the window: restricted, ready (nothing
    /// it called would be blocked) or not ready (what would be), and every call's verdict under
    /// REGISTRY_ONLY. `drafts` (ServiceEntries as YAML, not saved) count as if they existed.
    "rollout" get_rollout(window: String, drafts: String) -> Rollout
        = |actor| crate::service::rollout(&actor, Window::parse(&window), &drafts)
}

acting! {
    /// The reachability map: namespaces (whose name contains `namespace`) against external
    /// hosts (containing `host`), an edge where a namespace reaches a host — registered and
    /// visible to it, or called in the window — with its verdict; grouped past 40 a side.
    "reachability_map" get_reachability_map(window: String, namespace: String, host: String)
        -> ReachabilityMap
        = |actor| crate::service::map(&actor, Window::parse(&window), &namespace, &host)
}

acting! {
    /// Every egress gateway: Services labelled `istio=egressgateway` and Service Mesh Manager's
    /// IstioMeshGateways of type egress, with their ports and the hosts the Istio Gateways that
    /// select their pods carry.
    "egress_gateways" get_egress_gateways() -> Vec<EgressGateway>
        = |actor| crate::service::egress_gateways(&actor)
}

acting! {
    /// How the entry `namespace/name` leaves the mesh (directly, via a gateway mesh-egress
    /// routed it through, or by a VirtualService written by hand), and the egress gateways and
    /// ports it could be routed by.
    "entry_routing" get_entry_routing(namespace: String, name: String) -> RoutingView
        = |actor| crate::service::entry_routing(&actor, &namespace, &name)
}

acting! {
    /// What routing the entry through `gateway` (`namespace/name`) on `port` (empty: its one
    /// HTTP or TLS port) writes — a Gateway, a DestinationRule and a VirtualService per host —
    /// judged by istiod's webhook in a dry run, or why it would not work. Writes nothing.
    "preview_route" preview_route(namespace: String, name: String, gateway: String, port: String)
        -> RoutePreview
        = |actor| crate::service::preview_route(&actor, &namespace, &name, &gateway, &port)
}

acting! {
    /// Routes the entry through `gateway` on `port`: every object judged by a dry run, then
    /// written; a failure midway removes what was written.
    "route_entry" route_entry(namespace: String, name: String, gateway: String, port: String)
        -> RoutePlan
        = |actor| crate::service::route_entry(&actor, &namespace, &name, &gateway, &port)
}

acting! {
    /// Stops routing the entry through a gateway: removes exactly the objects mesh-egress wrote
    /// for it, and names them. Routing written by hand is refused (left alone).
    "stop_routing" stop_routing(namespace: String, name: String) -> Vec<String>
        = |actor| crate::service::stop_routing(&actor, &namespace, &name)
}

acting! {
    /// Service Mesh Manager's control planes (`namespace/name`) an egress gateway can belong
    /// to; empty on a plain Istio install.
    "control_planes" get_control_planes() -> Vec<String>
        = |actor| crate::service::control_planes(&actor)
}

acting! {
    /// Creates an egress gateway where Service Mesh Manager manages the mesh: an
    /// IstioMeshGateway of type egress named `name` in `namespace` with `ports` (`80 http2, 443
    /// https`), in `control_plane` (`namespace/name`). Judged by a dry run first. Answers its
    /// `namespace/name`.
    "create_egress_gateway" create_egress_gateway(namespace: String, name: String, ports: String, control_plane: String)
        -> String
        = |actor| crate::service::create_mesh_gateway(
            &actor,
            MeshGatewayForm { namespace, name, ports, control_plane },
            false,
        )
}

/// The acting user (for the header), or none when nobody is signed in.
#[server(prefix = "/api", endpoint = "session", custom = crate::api::form::FormArgs,
    input = crate::api::form::Form, output = crate::api::codec::Json)]
pub async fn session_info() -> Result<Session, AppError> {
    let services = ssr::services()?;
    Ok(crate::service::session(&services, &ssr::caller().await).await)
}

/// Signs in with a Kubernetes bearer token (shared mode): the API server must accept it. The
/// token goes into an encrypted, HttpOnly, SameSite=Strict session cookie, never back to the
/// page.
#[server(prefix = "/api", endpoint = "sign_in", custom = crate::api::form::FormArgs,
    input = crate::api::form::Form, output = crate::api::codec::Json)]
pub async fn sign_in(token: String) -> Result<String, AppError> {
    let signed_in = async { crate::service::sign_in(ssr::services()?.as_ref(), &token).await };
    let signed_in = signed_in.await;
    let (user, sealed) = ssr::respond(signed_in)?;
    ssr::set_session_cookie(Some(&sealed));
    leptos_axum::redirect("/");
    Ok(user)
}

/// Ends the session, on every replica (the session is recorded as signed out in the cluster).
#[server(prefix = "/api", endpoint = "sign_out", custom = crate::api::form::FormArgs,
    input = crate::api::form::Form, output = crate::api::codec::Json)]
pub async fn sign_out() -> Result<(), AppError> {
    ssr::set_session_cookie(None);
    let ended = async {
        let services = ssr::services()?;
        crate::service::sign_out(&services, &ssr::caller().await).await
    };
    ssr::respond(ended.await)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Server-side helpers shared by the server functions: the boundary between HTTP and the
/// service layer.
#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::auth::{AuthMode, Caller};
    use crate::domain::service_entry::Seen;
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

    /// The version a user saw, from a write's fields: none of them (a write by name alone, as
    /// `kubectl delete`), or `uid` and `resource_version` both, with `generation` optional.
    /// Every field given is applied; a partial set is refused, naming what is missing.
    pub fn seen(
        uid: Option<String>,
        resource_version: Option<String>,
        generation: Option<String>,
    ) -> Result<Option<Seen>, AppError> {
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let (uid, resource_version, generation) =
            (given(uid), given(resource_version), given(generation));
        let generation = generation
            .map(|g| {
                g.parse::<i64>()
                    .ok()
                    .filter(|g| *g >= 0)
                    .ok_or_else(|| AppError::Invalid {
                        field: "generation".into(),
                        reason: format!(
                            "{} is not a generation: a whole number from 0",
                            crate::domain::quoted(&g)
                        ),
                    })
            })
            .transpose()?;
        let missing = |field: &str| AppError::Invalid {
            field: field.into(),
            reason: "is missing: the version you saw is uid and resource_version together \
                     (generation optional); give both, or none of them to act by name alone"
                .into(),
        };
        match (uid, resource_version) {
            (Some(uid), Some(resource_version)) => Ok(Some(Seen {
                uid,
                resource_version,
                generation,
            })),
            (None, None) if generation.is_none() => Ok(None),
            (Some(_), None) => Err(missing("resource_version")),
            (None, _) => Err(missing("uid")),
        }
    }

    /// An edit from its request fields: the form's, or a manifest (exactly one of them).
    pub fn edit(
        form: Option<crate::domain::form::ServiceEntryForm>,
        manifest: Option<String>,
    ) -> Result<crate::service::Edit, AppError> {
        match (form, manifest.filter(|m| !m.trim().is_empty())) {
            (Some(form), None) => Ok(crate::service::Edit::Form(Box::new(form))),
            (None, Some(manifest)) => Ok(crate::service::Edit::Manifest(manifest)),
            (form, _) => Err(AppError::Invalid {
                field: "manifest".into(),
                reason: match form {
                    Some(_) => "give the form's fields or a manifest, not both".into(),
                    None => "give the form's fields (form[...]) or a manifest".into(),
                },
            }),
        }
    }

    /// Whether the request is a plain HTML form post (a page without WASM): its answer is a
    /// redirect back to the page, an error carried in the URL for the page to show.
    fn from_plain_form() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        })
    }

    /// The one place where an error's HTTP status is set, for every server function (not for
    /// a plain form post: that stays a redirect back to its page, which shows the error).
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if from_plain_form() {
            return result;
        }
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
