//! A namespace's Sidecars, read whole and written for a namespace restriction
//! (`domain::restrict`): created, replaced at the version read, or deleted at that version.

use super::{Cluster, ClusterError, FIELD_MANAGER};
use crate::domain::restrict::SidecarWrite;
use kube::api::{Api, DeleteParams, ListParams, PostParams, Preconditions};
use kube::core::DynamicObject;
use serde_json::Value;
use std::time::Duration;

/// How long a write waits for the watch-fed copy to see it, so the next page shows it.
const MIRROR_WAIT: Duration = Duration::from_secs(2);

impl Cluster {
    async fn sidecar_api(&self, namespace: &str) -> Result<Api<DynamicObject>, ClusterError> {
        let resource = self.sidecar_resource().await?;
        Ok(Api::namespaced_with(
            self.client.clone(),
            namespace,
            &resource,
        ))
    }

    /// Every Sidecar of `namespace` as stored (without managed fields), as JSON, by name.
    pub async fn namespace_sidecars(&self, namespace: &str) -> Result<Vec<Value>, ClusterError> {
        let list = self
            .sidecar_api(namespace)
            .await?
            .list(&ListParams::default())
            .await
            .map_err(|e| self.err(e))?;
        let mut objects = list
            .items
            .into_iter()
            .map(|mut object| {
                object.metadata.managed_fields = None;
                serde_json::to_value(&object).map_err(|e| ClusterError::internal(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        objects.sort_by(|a, b| {
            let name = |v: &Value| {
                v.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            name(a).cmp(&name(b))
        });
        Ok(objects)
    }

    /// Writes `write` to `namespace`'s Sidecars. With `dry_run`, istiod's webhook judges it
    /// and nothing is written. A Sidecar changed since it was read is left alone (a conflict).
    pub async fn write_sidecar(
        &self,
        namespace: &str,
        write: &SidecarWrite,
        dry_run: bool,
    ) -> Result<(), ClusterError> {
        let api = self.sidecar_api(namespace).await?;
        let resource = self.sidecar_resource().await?;
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        let typed = |object: &Value| -> Result<DynamicObject, ClusterError> {
            let mut object = super::typed_object(object, &resource, "a Sidecar")?;
            object.metadata.namespace = Some(namespace.to_string());
            Ok(object)
        };
        let name = write.name();
        let changed = || {
            ClusterError::conflict(format!(
                "Sidecar {namespace}/{name} changed since it was read: nothing was written; \
                 preview again"
            ))
        };
        let written = match write {
            SidecarWrite::Create { object } => api.create(&params, &typed(object)?).await,
            SidecarWrite::Replace { object, .. } => {
                api.replace(&name, &params, &typed(object)?).await
            }
            SidecarWrite::Delete { before } => {
                let meta = typed(before)?.metadata;
                let delete = DeleteParams {
                    dry_run,
                    preconditions: Some(Preconditions {
                        uid: meta.uid,
                        resource_version: meta.resource_version,
                    }),
                    ..DeleteParams::default()
                };
                match api.delete(&name, &delete).await {
                    Ok(_) => {
                        if !dry_run {
                            self.await_sidecar(namespace, &name, None).await;
                        }
                        return Ok(());
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match written {
            Ok(object) => {
                if !dry_run {
                    let version = object.metadata.resource_version.as_deref();
                    self.await_sidecar(namespace, &name, version).await;
                }
                Ok(())
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Err(match write {
                SidecarWrite::Create { .. } => ClusterError::conflict(format!(
                    "a Sidecar {namespace}/{name} was created meanwhile: nothing was written; \
                     preview again"
                )),
                _ => changed(),
            }),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Waits (briefly) until the watch-fed copy of Sidecars holds `namespace/name` at
    /// `version` (`None`: holds it no more).
    async fn await_sidecar(&self, namespace: &str, name: &str, version: Option<&str>) {
        let Some(mirrors) = self.mirrors.get() else {
            return;
        };
        let holds = || {
            let sidecars = mirrors.sidecars.objects()?;
            let found = sidecars.iter().find(|s| {
                s.metadata.namespace.as_deref() == Some(namespace)
                    && s.metadata.name.as_deref() == Some(name)
            });
            Some(match version {
                Some(version) => {
                    found.is_some_and(|s| s.metadata.resource_version.as_deref() == Some(version))
                }
                None => found.is_none(),
            })
        };
        let deadline = tokio::time::Instant::now() + MIRROR_WAIT;
        while holds() == Some(false) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
