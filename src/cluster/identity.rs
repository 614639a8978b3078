//! Who acts: the server's own identity, a signed-in user's token, or a user impersonated for
//! a trusted authenticating proxy. The API server decides what each may do; this module asks
//! it (SelfSubjectReview, SelfSubjectAccessReview) and records changes as Events.

use super::{Cluster, ClusterError};
use crate::domain::access::{Access, Permission};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{Api, PostParams};
use kube::core::ObjectMeta;
use kube::Client;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// A change to record in the audit trail.
#[derive(Debug, Clone)]
pub struct Change {
    /// The changed object's apiVersion.
    pub api_version: String,
    /// Its kind.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// A CamelCase reason, such as `ServiceEntryDeleted`.
    pub reason: &'static str,
    /// What happened, before → after, in words (the actor is prepended).
    pub what: String,
}

impl Cluster {
    fn derived(&self, config: kube::Config) -> Result<Self, ClusterError> {
        let client =
            Client::try_from(config.clone()).map_err(|e| ClusterError::Config(e.to_string()))?;
        Ok(Self {
            client,
            config,
            identity: Arc::new(OnceCell::new()),
            ..self.clone()
        })
    }

    /// The same cluster, acting with a user's bearer token instead of the server's identity.
    pub fn with_token(&self, token: &str) -> Result<Self, ClusterError> {
        let mut config = self.config.clone();
        config.auth_info = kube::config::AuthInfo {
            token: Some(secrecy::SecretString::from(token.to_string())),
            ..Default::default()
        };
        self.derived(config)
    }

    /// The same cluster, impersonating `user` (and `groups`) with the server's identity,
    /// which needs RBAC permission to impersonate.
    pub fn impersonating(&self, user: &str, groups: Vec<String>) -> Result<Self, ClusterError> {
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(user.to_string());
        config.auth_info.impersonate_groups = (!groups.is_empty()).then_some(groups);
        self.derived(config)
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

    /// Asks the API server whether the acting identity may do `permission`.
    pub async fn can(&self, permission: &Permission) -> Result<Access, ClusterError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(permission.verb.clone()),
                    group: Some(permission.group.clone()),
                    resource: Some(permission.resource.clone()),
                    namespace: permission.namespace.clone(),
                    name: permission.name.clone(),
                    ..Default::default()
                }),
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
            Access::Denied {
                reason: permission.denied_message(),
            }
        })
    }

    /// Records a change as a Kubernetes Event on the changed object, written with the
    /// server's identity (`server`), naming the acting user; and as a structured log line.
    pub async fn record_change(&self, server: &Cluster, change: Change) {
        let actor = self
            .whoami()
            .await
            .unwrap_or_else(|_| "an unidentified user".to_string());
        let message = format!("{actor} {}", change.what);
        tracing::info!(
            target: "audit",
            user = %actor,
            action = change.reason,
            object = %format!("{}/{}/{}", change.kind, change.namespace, change.name),
            "{message}"
        );
        let now = chrono_now();
        let event = Event {
            metadata: ObjectMeta {
                generate_name: Some("mesh-egress-".to_string()),
                namespace: Some(change.namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(change.api_version.clone()),
                kind: Some(change.kind.clone()),
                namespace: Some(change.namespace.clone()),
                name: Some(change.name.clone()),
                ..Default::default()
            },
            reason: Some(change.reason.to_string()),
            message: Some(message),
            type_: Some("Normal".to_string()),
            source: Some(EventSource {
                component: Some("mesh-egress".to_string()),
                ..Default::default()
            }),
            reporting_component: Some("mesh-egress".to_string()),
            reporting_instance: Some(actor),
            action: Some(change.reason.to_string()),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            count: Some(1),
            ..Default::default()
        };
        if let Err(e) = Api::<Event>::namespaced(server.client.clone(), &change.namespace)
            .create(&PostParams::default(), &event)
            .await
        {
            // The change itself succeeded; a missing audit Event must not undo it.
            tracing::warn!(error = %e, "could not record the audit Event");
        }
    }
}

fn chrono_now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}
