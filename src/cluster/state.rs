//! mesh-egress's own state, kept in the cluster so that every replica and every restart sees
//! it: undo records (a deleted ServiceEntry, who deleted it, until when) and revoked sessions.
//! Both are ConfigMaps in the state namespace (the server's own), written with the server's
//! identity and labelled `app.kubernetes.io/managed-by: mesh-egress`; `kubectl get configmaps
//! -l app.kubernetes.io/managed-by=mesh-egress` lists them.

use super::service_entries::QuickBackoff;
use super::{Cluster, ClusterError, ErrorKind, FIELD_MANAGER};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, ObjectMeta};
use kube::runtime::{watcher, WatchStreamExt};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
const RECORD: &str = "mesh-egress.io/record";
const DELETED_BY: &str = "mesh-egress.io/deleted-by";
const EXPIRES_AT: &str = "mesh-egress.io/expires-at";
const DELETED_OBJECT: &str = "mesh-egress.io/object";
const OBJECT_KEY: &str = "object";

/// The ConfigMap of revoked sessions: one key per signed-out session, valued with the second
/// its cookie would have expired (pruned after that).
pub const REVOKED_SESSIONS: &str = "mesh-egress-revoked-sessions";

/// A deleted ServiceEntry, kept so that it can be created again exactly as it was.
#[derive(Clone)]
pub struct UndoRecord {
    /// The record's own name (a ConfigMap in the state namespace).
    pub record: String,
    /// Who deleted it (the API server's name for them).
    pub deleted_by: String,
    /// Until when (seconds since the epoch) it can be undone.
    pub expires_at: u64,
    pub(super) object: DynamicObject,
}

/// Where and for whom a delete keeps its undo record.
pub struct KeepForUndo<'a> {
    /// The server's cluster, which writes the record with its own identity.
    pub store: &'a Cluster,
    /// Who deletes.
    pub deleted_by: &'a str,
    /// Until when (seconds since the epoch) the delete can be undone.
    pub until: u64,
}

/// The name of the undo record for a ServiceEntry: one per namespace and name (a later delete
/// of the same name replaces it), short and valid whatever the names' lengths.
pub fn undo_record_name(namespace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}/{name}").as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("mesh-egress-undo-{hex}")
}

fn labels(record: &str) -> BTreeMap<String, String> {
    [
        (MANAGED_BY.to_string(), "mesh-egress".to_string()),
        (RECORD.to_string(), record.to_string()),
    ]
    .into()
}

impl Cluster {
    /// The namespace that holds mesh-egress's own state.
    pub fn state_namespace(&self) -> &str {
        &self.state_namespace
    }

    fn state_api(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.state_namespace)
    }

    fn state_err(&self, e: kube::Error) -> ClusterError {
        let mut error = self.err(e);
        if error.kind == ErrorKind::NotFound {
            error.message = format!(
                "mesh-egress keeps undo records and signed-out sessions in namespace {}, which \
                 does not exist: create it, or start the server with --state-namespace",
                self.state_namespace
            );
        }
        error
    }

    /// Writes (or replaces) the undo record of `object` before it is deleted.
    pub(super) async fn keep_for_undo(
        &self,
        object: &DynamicObject,
        keep: &KeepForUndo<'_>,
    ) -> Result<String, ClusterError> {
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        let name = object.metadata.name.clone().unwrap_or_default();
        let record = undo_record_name(&namespace, &name);
        let json = serde_json::to_string(object)
            .map_err(|e| ClusterError::internal(format!("the undo record: {e}")))?;
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(record.clone()),
                labels: Some(labels("undo")),
                annotations: Some(
                    [
                        (DELETED_BY.to_string(), keep.deleted_by.to_string()),
                        (EXPIRES_AT.to_string(), keep.until.to_string()),
                        (DELETED_OBJECT.to_string(), format!("{namespace}/{name}")),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            data: Some([(OBJECT_KEY.to_string(), json)].into()),
            ..Default::default()
        };
        self.state_api()
            .patch(
                &record,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&config_map),
            )
            .await
            .map_err(|e| self.state_err(e))?;
        Ok(record)
    }

    /// The undo record of a ServiceEntry, unless there is none or it has expired at `now`.
    pub async fn undo_record(
        &self,
        namespace: &str,
        name: &str,
        now: u64,
    ) -> Result<Option<UndoRecord>, ClusterError> {
        let record = undo_record_name(namespace, name);
        let Some(config_map) = self
            .state_api()
            .get_opt(&record)
            .await
            .map_err(|e| self.state_err(e))?
        else {
            return Ok(None);
        };
        let annotation = |key: &str| {
            config_map
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .cloned()
        };
        let expires_at = annotation(EXPIRES_AT)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(0);
        if expires_at <= now || annotation(DELETED_OBJECT) != Some(format!("{namespace}/{name}")) {
            return Ok(None);
        }
        let object = config_map
            .data
            .as_ref()
            .and_then(|d| d.get(OBJECT_KEY))
            .and_then(|json| serde_json::from_str::<DynamicObject>(json).ok())
            .ok_or_else(|| {
                ClusterError::malformed(
                    format!("ConfigMap {}/{record}", self.state_namespace),
                    "the undo record holds no object".into(),
                )
            })?;
        Ok(Some(UndoRecord {
            record,
            deleted_by: annotation(DELETED_BY).unwrap_or_default(),
            expires_at,
            object,
        }))
    }

    /// Removes an undo record (once used, or when its delete failed). Gone already is fine.
    pub async fn forget_undo(&self, record: &str) -> Result<(), ClusterError> {
        match self
            .state_api()
            .delete(record, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match self.state_err(e) {
                e if e.kind == ErrorKind::NotFound => Ok(()),
                e => Err(e),
            },
        }
    }

    /// Removes the undo records that expired before `now`. Answers how many.
    pub async fn sweep_undo_records(&self, now: u64) -> Result<usize, ClusterError> {
        let selector = format!("{MANAGED_BY}=mesh-egress,{RECORD}=undo");
        let records = self
            .state_api()
            .list_metadata(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| self.state_err(e))?;
        let mut removed = 0;
        for record in records.items {
            let expired = record
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(EXPIRES_AT))
                .and_then(|t| t.parse::<u64>().ok())
                .is_none_or(|t| t <= now);
            if let (true, Some(name)) = (expired, record.metadata.name.as_deref()) {
                self.forget_undo(name).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Records a signed-out session (until `expires_at`, when its cookie would have expired
    /// anyway) for every replica, and prunes the ones past their expiry.
    pub async fn revoke_session(
        &self,
        session: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<(), ClusterError> {
        let api = self.state_api();
        for _ in 0..5 {
            match api
                .get_opt(REVOKED_SESSIONS)
                .await
                .map_err(|e| self.state_err(e))?
            {
                Some(config_map) => {
                    let mut data = serde_json::Map::new();
                    for (key, value) in config_map.data.iter().flatten() {
                        if value.parse::<u64>().is_ok_and(|t| t <= now) {
                            data.insert(key.clone(), serde_json::Value::Null);
                        }
                    }
                    data.insert(session.into(), expires_at.to_string().into());
                    let patch = serde_json::json!({ "data": data });
                    api.patch(
                        REVOKED_SESSIONS,
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                    .map_err(|e| self.state_err(e))?;
                    return Ok(());
                }
                None => {
                    let config_map = ConfigMap {
                        metadata: ObjectMeta {
                            name: Some(REVOKED_SESSIONS.into()),
                            labels: Some(labels("revoked-sessions")),
                            ..Default::default()
                        },
                        data: Some([(session.to_string(), expires_at.to_string())].into()),
                        ..Default::default()
                    };
                    match api.create(&PostParams::default(), &config_map).await {
                        Ok(_) => return Ok(()),
                        Err(e) => match self.state_err(e) {
                            // Another replica created it first: patch that one.
                            e if e.kind == ErrorKind::Conflict => continue,
                            e => return Err(e),
                        },
                    }
                }
            }
        }
        Err(ClusterError::conflict(
            "the list of signed-out sessions kept changing".into(),
        ))
    }

    /// Keeps `on_change` told of the revoked sessions (session → expiry) for the life of the
    /// process: a watch on the one ConfigMap, retried quickly after a failure.
    pub fn watch_revoked_sessions(
        &self,
        on_change: impl Fn(BTreeMap<String, u64>) + Send + Sync + 'static,
    ) {
        let api = Api::<ConfigMap>::namespaced(self.watch_client.clone(), &self.state_namespace);
        let config =
            watcher::Config::default().fields(&format!("metadata.name={REVOKED_SESSIONS}"));
        let namespace = self.state_namespace.clone();
        tokio::spawn(async move {
            let parse = |config_map: &ConfigMap| -> BTreeMap<String, u64> {
                config_map
                    .data
                    .iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.clone(), v.parse().ok()?)))
                    .collect()
            };
            let stream = watcher(api, config).backoff(QuickBackoff::default());
            futures::pin_mut!(stream);
            let mut seen_in_list = false;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Init) => seen_in_list = false,
                    Ok(watcher::Event::InitApply(cm) | watcher::Event::Apply(cm)) => {
                        seen_in_list = true;
                        on_change(parse(&cm));
                    }
                    Ok(watcher::Event::InitDone) if !seen_in_list => on_change(BTreeMap::new()),
                    Ok(watcher::Event::InitDone) => {}
                    Ok(watcher::Event::Delete(_)) => on_change(BTreeMap::new()),
                    Err(e) => tracing::debug!(
                        error = %e,
                        namespace,
                        "watching the signed-out sessions (retrying)"
                    ),
                }
            }
        });
    }
}
