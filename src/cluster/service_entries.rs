//! ServiceEntries: read (from the cache of `entry_cache.rs`), create, delete, undo (the undo
//! records themselves live in `state.rs`).

use super::{Cluster, ClusterError, ErrorKind, FIELD_MANAGER};
use crate::domain::service_entry::{view_from_spec, Seen, ServiceEntryDetail, ServiceEntryView};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::core::DynamicObject;
use std::time::Duration;

pub(super) fn view_of(object: &DynamicObject) -> ServiceEntryView {
    let mut view = spec_view(object);
    view.seen = match (&object.metadata.uid, &object.metadata.resource_version) {
        (Some(uid), Some(resource_version)) => Some(Seen {
            uid: uid.clone(),
            resource_version: resource_version.clone(),
            generation: object.metadata.generation,
        }),
        _ => None,
    };
    view
}

fn spec_view(object: &DynamicObject) -> ServiceEntryView {
    let created = object
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| (t.0.to_string(), t.0.as_second()));
    view_from_spec(
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default(),
        created,
        k8s_openapi::jiff::Timestamp::now().as_second(),
        object.data.get("spec").unwrap_or(&serde_json::Value::Null),
    )
}

/// Removes what the server sets, so the object can be created again exactly as it was.
fn clean_for_recreate(object: &DynamicObject) -> DynamicObject {
    let mut clean = object.clone();
    let meta = &mut clean.metadata;
    meta.resource_version = None;
    meta.uid = None;
    meta.creation_timestamp = None;
    meta.generation = None;
    meta.managed_fields = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    if let Some(map) = clean.data.as_object_mut() {
        map.remove("status");
    }
    clean
}

/// Retries of the watch: from 250 ms doubling to at most 1 s, with jitter, and from the start
/// again after a success. kube's default goes up to 30 s, so a cache could stay stale for half
/// a minute after the API server is back; here it is fresh within seconds.
pub(super) struct QuickBackoff {
    next: Duration,
}

const QUICK_MIN: Duration = Duration::from_millis(250);
const QUICK_MAX: Duration = Duration::from_secs(1);

impl Default for QuickBackoff {
    fn default() -> Self {
        Self { next: QUICK_MIN }
    }
}

impl Iterator for QuickBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let wait = self.next;
        self.next = (self.next * 2).min(QUICK_MAX);
        let jitter = Duration::from_millis(rand::random::<u64>() % 100);
        Some(wait + jitter)
    }
}

impl kube::runtime::utils::Backoff for QuickBackoff {
    fn reset(&mut self) {
        self.next = QUICK_MIN;
    }
}

impl Cluster {
    /// ServiceEntries of one namespace (all when `namespace` is empty), sorted, with their
    /// ages as of now.
    pub async fn service_entries(
        &self,
        namespace: &str,
    ) -> Result<Vec<ServiceEntryView>, ClusterError> {
        let snapshot = self.service_entry_snapshot().await?;
        let now = k8s_openapi::jiff::Timestamp::now().as_second();
        Ok(snapshot
            .in_namespace(namespace)
            .map(|view| view.aged(now))
            .collect())
    }

    /// The apiVersion ServiceEntries are served at here (for audit Events).
    pub async fn service_entry_api_version(&self) -> String {
        self.service_entry_resource()
            .await
            .map(|r| r.api_version)
            .unwrap_or_else(|_| "networking.istio.io/v1".to_string())
    }

    async fn service_entry_api(&self, namespace: &str) -> Result<Api<DynamicObject>, ClusterError> {
        let resource = self.service_entry_resource().await?;
        Ok(Api::namespaced_with(
            self.client.clone(),
            namespace,
            &resource,
        ))
    }

    /// One ServiceEntry with every field, its YAML and what validation finds in it.
    pub async fn service_entry(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ServiceEntryDetail, ClusterError> {
        let object = self.stored_service_entry(namespace, name).await?;
        let spec = object.data.get("spec").cloned().unwrap_or_default();
        let conditions = object
            .data
            .get("status")
            .and_then(|s| s.get("conditions"))
            .and_then(|c| c.as_array())
            .map(|conditions| {
                conditions
                    .iter()
                    .map(|c| {
                        let text = |k: &str| {
                            c.get(k)
                                .and_then(|v| v.as_str())
                                .unwrap_or_default()
                                .to_string()
                        };
                        format!("{}={}: {}", text("type"), text("status"), text("message"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let labels = object.metadata.labels.clone().unwrap_or_default();
        let findings =
            crate::domain::validation::validate_service_entry(namespace, &labels, Some(&spec));
        let yaml = crate::domain::yaml::to_yaml(&serde_json::to_value(&object).unwrap_or_default());
        let form = match crate::domain::edit::form_cannot_show(&spec) {
            Some(why) => Err(why),
            None => Ok(crate::domain::edit::form_from_spec(namespace, name, &spec)),
        };
        Ok(ServiceEntryDetail {
            view: view_of(&object),
            form,
            yaml,
            conditions,
            findings,
        })
    }

    /// One ServiceEntry as stored (without managed fields), as JSON: what an edit starts from.
    pub async fn service_entry_object(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<serde_json::Value, ClusterError> {
        let object = self.stored_service_entry(namespace, name).await?;
        serde_json::to_value(&object).map_err(|e| ClusterError::internal(e.to_string()))
    }

    /// One ServiceEntry as stored, without its managed fields.
    async fn stored_service_entry(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<DynamicObject, ClusterError> {
        let mut object = self
            .service_entry_api(namespace)
            .await?
            .get(name)
            .await
            .map_err(|e| self.err(e))?;
        object.metadata.managed_fields = None;
        Ok(object)
    }

    /// Replaces a ServiceEntry with `object`, which carries the resourceVersion the change was
    /// made against: when the entry changed since, nothing is written (a conflict). With
    /// `dry_run`, istiod's webhook judges it and nothing is written.
    pub async fn replace_service_entry(
        &self,
        namespace: &str,
        name: &str,
        object: serde_json::Value,
        dry_run: bool,
    ) -> Result<ServiceEntryView, ClusterError> {
        let object = self.served_object(object).await?;
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        match self
            .service_entry_api(namespace)
            .await?
            .replace(name, &params, &object)
            .await
        {
            Ok(replaced) => Ok(view_of(&replaced)),
            Err(kube::Error::Api(status)) if status.code == 409 => Err(ClusterError::conflict(
                crate::domain::edit::changed_since_opened(namespace, name),
            )),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Applies `object` to a ServiceEntry as `kubectl apply --server-side` does, with
    /// mesh-egress's field manager: fields other managers own and the object does not name
    /// stay as they are (a label set with `kubectl label` survives). A field another manager
    /// owns with another value is a conflict naming that manager and the field, unless `force`
    /// takes it over; fields mesh-egress itself wrote (from the pages) are taken over without
    /// asking. With `dry_run`, istiod's webhook judges the result and nothing is written.
    /// Answers the object as it is (or would be) after the apply, without managed fields.
    pub async fn apply_service_entry(
        &self,
        namespace: &str,
        name: &str,
        object: serde_json::Value,
        force: bool,
        dry_run: bool,
    ) -> Result<serde_json::Value, ClusterError> {
        let mut object = self.served_object(object).await?;
        object.metadata.resource_version = None;
        object.metadata.managed_fields = None;
        let api = self.service_entry_api(namespace).await?;
        let apply = |force: bool| {
            let mut params = PatchParams::apply(FIELD_MANAGER);
            params.force = force;
            params.dry_run = dry_run;
            params
        };
        let mut applied = api.patch(name, &apply(force), &Patch::Apply(&object)).await;
        if let Err(kube::Error::Api(status)) = &applied {
            if status.code == 409 && conflicts_only_with_ourselves(status) {
                applied = api.patch(name, &apply(true), &Patch::Apply(&object)).await;
            }
        }
        match applied {
            Ok(mut applied) => {
                applied.metadata.managed_fields = None;
                serde_json::to_value(&applied).map_err(|e| ClusterError::internal(e.to_string()))
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                Err(ClusterError::conflict(apply_conflicts(&status)))
            }
            Err(e) => Err(self.err(e)),
        }
    }

    /// A ServiceEntry object at the version this cluster serves, whatever the manifest said.
    async fn served_object(
        &self,
        object: serde_json::Value,
    ) -> Result<DynamicObject, ClusterError> {
        let resource = self.service_entry_resource().await?;
        let mut object: DynamicObject = serde_json::from_value(object)
            .map_err(|e| ClusterError::malformed("manifest".into(), e.to_string()))?;
        object.types = Some(kube::core::TypeMeta {
            api_version: resource.api_version,
            kind: resource.kind,
        });
        Ok(object)
    }

    /// Creates a ServiceEntry from a parsed object: a server-side dry run first, whose
    /// rejections come back as field findings; nothing is written unless it passes.
    pub async fn create_service_entry(
        &self,
        namespace: &str,
        object: serde_json::Value,
    ) -> Result<ServiceEntryView, ClusterError> {
        let mut object = self.served_object(object).await?;
        object.metadata.namespace = Some(namespace.to_string());
        let api = self.service_entry_api(namespace).await?;
        let mut params = PostParams {
            dry_run: true,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        api.create(&params, &object)
            .await
            .map_err(|e| self.err(e))?;
        params.dry_run = false;
        let created = api
            .create(&params, &object)
            .await
            .map_err(|e| self.err(e))?;
        Ok(view_of(&created))
    }

    /// Deletes a ServiceEntry, answering what it was. With `keep`, an undo record (everything
    /// needed to re-create it exactly: spec, labels, annotations) is written first, in the
    /// cluster, so any replica can undo it after a restart. With `seen`, only that version is
    /// deleted: an object changed (or re-created) since is left alone, and the apiserver checks
    /// it again at the delete itself (preconditions).
    pub async fn delete_service_entry(
        &self,
        namespace: &str,
        name: &str,
        seen: Option<&Seen>,
        keep: Option<&super::KeepForUndo<'_>>,
    ) -> Result<ServiceEntryView, ClusterError> {
        let api = self.service_entry_api(namespace).await?;
        let changed = || {
            ClusterError::conflict(format!(
                "{namespace}/{name} changed since you saw it (edited, or deleted and created \
                 again): nothing was deleted; reload to see it as it is now"
            ))
        };
        // NB: istiod writes status (allocated addresses) now and then, which moves the
        // resourceVersion but not the spec: the object read here is checked against what the
        // user saw, and the delete carries the version read here. A status write in between
        // is a 409, and the check runs again.
        let mut attempts = 0;
        let mut record = None;
        let result = loop {
            attempts += 1;
            let object = match api.get(name).await {
                Ok(object) => object,
                Err(e) => break Err(self.err(e)),
            };
            let now = view_of(&object).seen;
            let params = match (seen, &now) {
                (Some(seen), Some(now)) if !seen.still(now) => break Err(changed()),
                (Some(_), Some(now)) => DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(now.uid.clone()),
                        resource_version: Some(now.resource_version.clone()),
                    }),
                    ..DeleteParams::default()
                },
                _ => DeleteParams::default(),
            };
            if let Some(keep) = keep {
                match keep
                    .store
                    .keep_for_undo(&clean_for_recreate(&object), keep)
                    .await
                {
                    Ok(name) => record = Some(name),
                    Err(e) => break Err(e),
                }
            }
            match api.delete(name, &params).await.map_err(|e| self.err(e)) {
                Ok(_) => break Ok(object),
                Err(e) if e.kind == ErrorKind::Conflict && attempts < 5 => continue,
                Err(e) if e.kind == ErrorKind::Conflict => break Err(changed()),
                Err(e) => break Err(e),
            }
        };
        match (result, keep, record) {
            (Ok(object), _, _) => Ok(view_of(&object)),
            (Err(e), Some(keep), Some(record)) => {
                // Nothing was deleted: no undo record may claim it was.
                if let Err(forget) = keep.store.forget_undo(&record).await {
                    tracing::warn!(error = %forget, record, "could not remove an unused undo record");
                }
                Err(e)
            }
            (Err(e), _, _) => Err(e),
        }
    }

    /// Creates a deleted ServiceEntry again, exactly as it was, acting as this cluster's
    /// identity (the undo record is the server's; the write is the user's).
    pub async fn restore_service_entry(
        &self,
        record: &super::UndoRecord,
    ) -> Result<ServiceEntryView, ClusterError> {
        let namespace = record.object.metadata.namespace.clone().unwrap_or_default();
        let created = self
            .service_entry_api(&namespace)
            .await?
            .create(
                &PostParams {
                    dry_run: false,
                    field_manager: Some(FIELD_MANAGER.to_string()),
                },
                &record.object,
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(view_of(&created))
    }
}

/// The managers an apply conflicts with, as the API server names them in each cause
/// (`conflict with "kubectl-edit" using networking.istio.io/v1`), with the field.
fn conflicting_managers(status: &kube::core::Status) -> Vec<(String, String)> {
    status
        .details
        .as_ref()
        .map(|details| details.causes.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|cause| {
            let manager = cause
                .message
                .split('"')
                .nth(1)
                .unwrap_or_default()
                .to_string();
            (manager, cause.field.clone())
        })
        .collect()
}

/// Whether every conflict is with fields mesh-egress itself wrote (from the pages).
fn conflicts_only_with_ourselves(status: &kube::core::Status) -> bool {
    let managers = conflicting_managers(status);
    !managers.is_empty() && managers.iter().all(|(manager, _)| manager == FIELD_MANAGER)
}

/// An apply's conflicts in words: who owns which field, and how to take it over.
fn apply_conflicts(status: &kube::core::Status) -> String {
    let owned: Vec<String> = conflicting_managers(status)
        .into_iter()
        .filter(|(manager, _)| manager != FIELD_MANAGER)
        .map(|(manager, field)| format!("{field} is owned by {manager}"))
        .collect();
    match owned.is_empty() {
        true => format!(
            "the apply conflicts with another writer: {}",
            status.message
        ),
        false => format!(
            "the apply would change fields another manager owns: {}; nothing was written \
             (--force takes them over)",
            owned.join(", ")
        ),
    }
}
