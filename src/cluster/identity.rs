//! Who acts: the server's own identity, a signed-in user's token, or a user impersonated for
//! a trusted authenticating proxy. The API server decides what each may do; this module asks
//! it (SelfSubjectReview, SelfSubjectAccessReview) and records changes as Events.

use super::{Cluster, ClusterError, NETWORKING_GROUP};
use crate::domain::access::{Access, Action};
use crate::domain::{PolicySource, SourceKind};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};
use kube::core::ObjectMeta;
use kube::Client;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// What a change was made to.
#[derive(Debug, Clone)]
pub enum Changed {
    /// A ServiceEntry.
    ServiceEntry {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Service Mesh Manager's IstioMeshGateway (an egress gateway mesh-egress created).
    MeshGateway {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Where the mesh-wide policy lives (a ConfigMap or a control plane).
    PolicySource(PolicySource),
    /// A namespace's Sidecar.
    Sidecar {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

/// A change to record in the audit trail.
#[derive(Debug, Clone)]
pub struct Change {
    /// What was changed.
    pub object: Changed,
    /// A CamelCase reason, such as `ServiceEntryDeleted`.
    pub reason: &'static str,
    /// What happened, before → after, in words (the actor is prepended).
    pub what: String,
}

/// How many signed-in identities keep a client (and their connection pool) ready.
const CACHED_IDENTITIES: usize = 256;

/// Clients per identity (token, or impersonated user and groups), bounded: a user's requests
/// reuse one client instead of building one per request.
pub(super) type IdentityCache = Arc<Mutex<lru::LruCache<IdentityKey, Cluster>>>;

/// What tells one identity's client from another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum IdentityKey {
    Token(String),
    Impersonated(String, Vec<String>),
}

/// How long the API server's answer to an access review is taken as still true: pages that
/// check the same namespaces for the same user ask again only after this.
const ACCESS_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(5);
/// How many answers each identity keeps.
const CACHED_ACCESSES: usize = 4096;

/// One identity's recent access review answers.
pub(super) type AccessCache = Arc<Mutex<lru::LruCache<Action, (std::time::Instant, Access)>>>;

/// An empty access cache.
pub(super) fn access_cache() -> AccessCache {
    let capacity = NonZeroUsize::new(CACHED_ACCESSES).unwrap_or(NonZeroUsize::MIN);
    Arc::new(Mutex::new(lru::LruCache::new(capacity)))
}

/// An empty identity cache.
pub(super) fn identity_cache() -> IdentityCache {
    let capacity = NonZeroUsize::new(CACHED_IDENTITIES).unwrap_or(NonZeroUsize::MIN);
    Arc::new(Mutex::new(lru::LruCache::new(capacity)))
}

/// Acts with `token` and nothing else of the kubeconfig's credentials.
fn bearer(config: &mut kube::Config, token: &str) {
    config.auth_info = kube::config::AuthInfo {
        token: Some(secrecy::SecretString::from(token.to_string())),
        ..Default::default()
    };
}

/// The verb and resource the API server checks for an action, and the words for a denial.
fn resource_attributes(action: &Action) -> (ResourceAttributes, String) {
    let every_namespace = String::new();
    let (verb, group, resource, namespace, name) = match action {
        Action::ListVirtualServices => (
            "list",
            NETWORKING_GROUP,
            "virtualservices",
            &every_namespace,
            None,
        ),
        Action::ListServiceEntries { namespace } => {
            ("list", NETWORKING_GROUP, "serviceentries", namespace, None)
        }
        Action::CreateServiceEntries { namespace } => (
            "create",
            NETWORKING_GROUP,
            "serviceentries",
            namespace,
            None,
        ),
        Action::DeleteServiceEntries { namespace } => (
            "delete",
            NETWORKING_GROUP,
            "serviceentries",
            namespace,
            None,
        ),
        Action::ManageUndoRecords { namespace } => ("delete", "", "configmaps", namespace, None),
        Action::ChangeSidecars { namespace } => {
            ("update", NETWORKING_GROUP, "sidecars", namespace, None)
        }
        Action::ReadMeshConfig { namespace, name } => {
            ("get", "", "configmaps", namespace, Some(name))
        }
        Action::ListControlPlanes { namespace } => (
            "list",
            super::policy::SMM_GROUP,
            super::policy::ISTIO_CONTROL_PLANES,
            namespace,
            None,
        ),
        Action::SwitchPolicy { source } => match source.kind {
            SourceKind::ConfigMap => (
                "update",
                "",
                "configmaps",
                &source.namespace,
                Some(&source.name),
            ),
            SourceKind::IstioControlPlane => (
                "patch",
                super::policy::SMM_GROUP,
                super::policy::ISTIO_CONTROL_PLANES,
                &source.namespace,
                Some(&source.name),
            ),
        },
    };
    let object = match name {
        Some(name) => format!("{resource} {name:?}"),
        None => resource.to_string(),
    };
    let denied = match namespace.is_empty() {
        true => format!("you may not {verb} {object} across namespaces"),
        false => format!("you may not {verb} {object} in namespace {namespace}"),
    };
    let attributes = ResourceAttributes {
        verb: Some(verb.to_string()),
        group: Some(group.to_string()),
        resource: Some(resource.to_string()),
        namespace: Some(namespace.clone()),
        name: name.cloned(),
        ..Default::default()
    };
    (attributes, denied)
}

/// Who reports audit Events: mesh-egress, and the replica (its pod) when known.
fn reporting_instance() -> String {
    std::env::var("POD_NAME").unwrap_or_else(|_| "mesh-egress".to_string())
}

/// The longest note an Event may carry (events.k8s.io validation: 1 kB).
const NOTE_LIMIT: usize = 1024;

impl Cluster {
    fn derived(&self, config: kube::Config) -> Result<Self, ClusterError> {
        let client =
            Client::try_from(config.clone()).map_err(|e| ClusterError::config(e.to_string()))?;
        Ok(Self {
            client,
            config,
            identity: Arc::new(OnceCell::new()),
            accesses: access_cache(),
            acts_as_server: false,
            ..self.clone()
        })
    }

    /// The cached client for `key`, or a new one made by `make` (then cached).
    fn for_identity(
        &self,
        key: IdentityKey,
        make: impl FnOnce(&mut kube::Config),
    ) -> Result<Self, ClusterError> {
        let lock = || {
            self.identities
                .lock()
                .map_err(|_| ClusterError::internal("the client cache is unavailable".into()))
        };
        if let Some(cluster) = lock()?.get(&key) {
            return Ok(cluster.clone());
        }
        let mut config = self.config.clone();
        make(&mut config);
        let cluster = self.derived(config)?;
        lock()?.put(key, cluster.clone());
        Ok(cluster)
    }

    /// The same cluster, acting with a signed-in user's bearer token instead of the server's
    /// identity (the client is cached per token).
    pub fn with_token(&self, token: &str) -> Result<Self, ClusterError> {
        self.for_identity(IdentityKey::Token(token.to_string()), |config| {
            bearer(config, token)
        })
    }

    /// A client for a token that is not known to work yet (sign-in): never cached, so
    /// refused tokens take no place among the signed-in users' clients.
    pub fn trying_token(&self, token: &str) -> Result<Self, ClusterError> {
        let mut config = self.config.clone();
        bearer(&mut config, token);
        self.derived(config)
    }

    /// The same cluster, impersonating `user` (and `groups`) with the server's identity,
    /// which needs RBAC permission to impersonate.
    pub fn impersonating(&self, user: &str, groups: Vec<String>) -> Result<Self, ClusterError> {
        let key = IdentityKey::Impersonated(user.to_string(), groups.clone());
        self.for_identity(key, |config| {
            config.auth_info.impersonate = Some(user.to_string());
            config.auth_info.impersonate_groups = (!groups.is_empty()).then_some(groups);
        })
    }

    /// The acting user's name, as the API server knows it (asked once per identity).
    pub async fn whoami(&self) -> Result<String, ClusterError> {
        self.identity
            .get_or_try_init(|| async {
                let review = Api::<SelfSubjectReview>::all(self.client.clone())
                    .create(&PostParams::default(), &SelfSubjectReview::default())
                    .await
                    .map_err(|e| self.err(e))?;
                Ok(review
                    .status
                    .and_then(|s| s.user_info)
                    .and_then(|u| u.username)
                    .unwrap_or_else(|| "unknown user".to_string()))
            })
            .await
            .cloned()
    }

    /// Asks the API server whether the acting identity may do `action` (an answer is kept for
    /// a few seconds, per identity).
    pub async fn can(&self, action: &Action) -> Result<Access, ClusterError> {
        let cached = |accesses: &AccessCache| {
            let mut accesses = accesses.lock().unwrap_or_else(|p| p.into_inner());
            match accesses.get(action) {
                Some((at, access)) if at.elapsed() < ACCESS_FRESH_FOR => Some(access.clone()),
                _ => None,
            }
        };
        if let Some(access) = cached(&self.accesses) {
            return Ok(access);
        }
        let access = self.review(action).await?;
        self.accesses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .put(action.clone(), (std::time::Instant::now(), access.clone()));
        Ok(access)
    }

    /// Asks the API server, with a SelfSubjectAccessReview.
    async fn review(&self, action: &Action) -> Result<Access, ClusterError> {
        let (attributes, denied) = resource_attributes(action);
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(attributes),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = Api::<SelfSubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| self.err(e))?;
        let allowed = answer.status.as_ref().is_some_and(|s| s.allowed);
        Ok(if allowed {
            Access::Allowed
        } else {
            Access::Denied { reason: denied }
        })
    }

    /// Records a change as a Kubernetes Event on the changed object, published with the
    /// server's identity (one Event per change, see `publish_audit`), naming the acting
    /// user; and as a
    /// structured log line.
    pub async fn record_change(&self, server: &Cluster, change: Change) {
        let actor = self
            .whoami()
            .await
            .unwrap_or_else(|_| "an unidentified user".to_string());
        let (api_version, kind, namespace, name) = match &change.object {
            Changed::ServiceEntry { namespace, name } => (
                self.service_entry_api_version().await,
                "ServiceEntry",
                namespace,
                name,
            ),
            Changed::Sidecar { namespace, name } => (
                // NB: Sidecars share the ServiceEntries' group and version.
                self.service_entry_api_version().await,
                "Sidecar",
                namespace,
                name,
            ),
            Changed::MeshGateway { namespace, name } => (
                format!("{}/v1alpha1", super::policy::SMM_GROUP),
                "IstioMeshGateway",
                namespace,
                name,
            ),
            Changed::PolicySource(source) => match source.kind {
                SourceKind::ConfigMap => (
                    "v1".to_string(),
                    "ConfigMap",
                    &source.namespace,
                    &source.name,
                ),
                SourceKind::IstioControlPlane => (
                    format!("{}/v1alpha1", super::policy::SMM_GROUP),
                    "IstioControlPlane",
                    &source.namespace,
                    &source.name,
                ),
            },
        };
        let message = format!("{actor} {}", change.what);
        tracing::info!(
            target: "audit",
            user = %actor,
            action = change.reason,
            object = %format!("{kind}/{namespace}/{name}"),
            "{message}"
        );
        let regarding = ObjectReference {
            api_version: Some(api_version),
            kind: Some(kind.to_string()),
            namespace: Some(namespace.clone()),
            name: Some(name.clone()),
            ..Default::default()
        };
        if let Err(e) = server
            .publish_audit(change.reason, message, regarding)
            .await
        {
            // The change itself succeeded; a missing audit Event must not undo it.
            tracing::warn!(error = %e, "could not record the audit Event");
        }
    }

    /// Creates one Event for one change. kube's `Recorder` would fold repeats of a reason on
    /// an object into one Event series, keeping only the first note: later changes would lose
    /// who made them, and two replicas counting at once lose counts. An audit trail needs each.
    async fn publish_audit(
        &self,
        reason: &str,
        note: String,
        regarding: ObjectReference,
    ) -> Result<(), ClusterError> {
        let now = k8s_openapi::jiff::Timestamp::now();
        let namespace = regarding.namespace.clone().unwrap_or_default();
        let name = format!(
            "{}.{:x}{:08x}",
            regarding.name.as_deref().unwrap_or("mesh-egress"),
            now.as_nanosecond(),
            rand::random::<u32>()
        );
        let mut note = note;
        if note.len() > NOTE_LIMIT {
            let mut cut = NOTE_LIMIT - 3;
            while !note.is_char_boundary(cut) {
                cut -= 1;
            }
            note.truncate(cut);
            note.push_str("...");
        }
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            action: Some(reason.to_string()),
            reason: Some(reason.to_string()),
            note: Some(note),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding),
            reporting_controller: Some("mesh-egress".into()),
            reporting_instance: Some(reporting_instance()),
            type_: Some("Normal".into()),
            ..Default::default()
        };
        Api::<Event>::namespaced(self.client.clone(), &namespace)
            .create(&PostParams::default(), &event)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_read_as_a_person_would_say_them() {
        let (attributes, denied) = resource_attributes(&Action::DeleteServiceEntries {
            namespace: "payments".into(),
        });
        assert_eq!(
            denied,
            "you may not delete serviceentries in namespace payments"
        );
        assert_eq!(attributes.group.as_deref(), Some("networking.istio.io"));
        let source = crate::domain::PolicySource {
            kind: SourceKind::ConfigMap,
            namespace: "istio-system".into(),
            name: "istio".into(),
        };
        let (attributes, denied) = resource_attributes(&Action::SwitchPolicy { source });
        assert_eq!(
            denied,
            "you may not update configmaps \"istio\" in namespace istio-system"
        );
        assert_eq!(attributes.name.as_deref(), Some("istio"));
    }
}
