//! Where the mesh-wide policy lives, what it says, and how it is switched without touching
//! anything else.

use super::{Cluster, ClusterError};
use crate::domain::access::Action;
use crate::domain::policy::{
    set_mode_in_mesh_yaml, setting_from_mesh_config, setting_from_mesh_yaml, MeshConfigError,
};
use crate::domain::{OutboundPolicyMode, PolicyReport, PolicySource, SourceKind};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use std::time::Duration;

/// How often a write that lost a race (409 Conflict) is re-read and retried.
const MAX_WRITE_ATTEMPTS: u32 = 16;
/// The field manager named on every write.
pub const FIELD_MANAGER: &str = "mesh-egress";

/// Service Mesh Manager's API group.
pub(super) const SMM_GROUP: &str = "servicemesh.cisco.com";
/// The plural resource of Service Mesh Manager's control planes.
pub(super) const ISTIO_CONTROL_PLANES: &str = "istiocontrolplanes";

/// Service Mesh Manager's control plane resource.
pub(super) fn istio_control_plane_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(SMM_GROUP, "v1alpha1", "IstioControlPlane"),
        ISTIO_CONTROL_PLANES,
    )
}

/// A 404 on a collection means its CRD is not installed: nothing of that kind exists.
fn absent_if_not_found<T>(result: Result<T, kube::Error>) -> Result<Option<T>, kube::Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(other) => Err(other),
    }
}

/// What the mesh-wide policy is read from: the control planes in the Istio namespace and the
/// mesh ConfigMap.
pub(super) struct PolicyObjects {
    planes: Vec<DynamicObject>,
    config_map: Option<ConfigMap>,
}

/// What the copy keeps of a control plane: its name and mesh config.
pub(super) fn keep_mesh_config(plane: &mut DynamicObject) {
    plane.metadata.managed_fields = None;
    plane.metadata.annotations = None;
    let mesh_config = plane
        .data
        .get("spec")
        .and_then(|spec| spec.get("meshConfig"))
        .cloned();
    plane.data = match mesh_config {
        Some(mesh_config) => serde_json::json!({ "spec": { "meshConfig": mesh_config } }),
        None => serde_json::json!({}),
    };
}

/// What the copy keeps of the mesh ConfigMap: all but its managed fields.
pub(super) fn keep_config_map(config_map: &mut ConfigMap) {
    config_map.metadata.managed_fields = None;
}

/// The object the policy was read from, kept for writing it back.
enum Located {
    ConfigMap(Box<ConfigMap>),
    ControlPlane(Box<DynamicObject>),
}

/// Which installer renders a ConfigMap (and so reverts direct edits), from its owner
/// references and labels.
fn config_map_manager(config_map: &ConfigMap) -> Option<String> {
    if let Some(owner) = config_map
        .metadata
        .owner_references
        .as_ref()
        .and_then(|owners| owners.first())
    {
        return Some(format!("{} {}", owner.kind, owner.name));
    }
    // Helm 3 marks what it installs; `helm upgrade` renders the ConfigMap again.
    let annotations = config_map.metadata.annotations.as_ref();
    if let Some(release) = annotations.and_then(|a| a.get("meta.helm.sh/release-name")) {
        let namespace = annotations
            .and_then(|a| a.get("meta.helm.sh/release-namespace"))
            .map(|n| format!(" in {n}"))
            .unwrap_or_default();
        return Some(format!(
            "the Helm release {release}{namespace} (helm upgrade)"
        ));
    }
    let labels = config_map.metadata.labels.as_ref()?;
    if labels
        .get("app.kubernetes.io/managed-by")
        .map(String::as_str)
        == Some("Helm")
    {
        return Some("Helm (helm upgrade)".to_string());
    }
    if let Some(owner) = labels.get("install.operator.istio.io/owning-resource") {
        return Some(format!("IstioOperator {owner}"));
    }
    if labels.get("operator.istio.io/managed").map(String::as_str) == Some("Reconcile") {
        return Some("the Istio operator".to_string());
    }
    None
}

impl Cluster {
    /// The name of the mesh ConfigMap for the configured revision.
    pub(super) fn mesh_config_map_name(&self) -> String {
        match &self.revision {
            Some(revision) if !revision.is_empty() && revision != "default" => {
                format!("istio-{revision}")
            }
            _ => "istio".to_string(),
        }
    }

    /// Finds the source of truth and reads it. An IstioControlPlane wins over the ConfigMap:
    /// Service Mesh Manager renders the ConfigMap from it and reverts direct edits. Both are
    /// looked for in the Istio namespace. Of several control planes the first by name is the
    /// default; `choice` (a control plane's name) picks another.
    async fn locate(
        &self,
        choice: Option<&str>,
    ) -> Result<(PolicyReport, Option<Located>), ClusterError> {
        let objects = self.read_policy_objects().await?;
        self.interpret(objects, choice)
    }

    /// The control planes and the mesh ConfigMap, read from the API server now.
    async fn read_policy_objects(&self) -> Result<PolicyObjects, ClusterError> {
        let planes_api = Api::<DynamicObject>::namespaced_with(
            self.client.clone(),
            &self.istio_namespace,
            &istio_control_plane_resource(),
        );
        let planes = absent_if_not_found(planes_api.list(&ListParams::default()).await)
            .map_err(|e| self.err(e))?
            .map(|list| list.items)
            .unwrap_or_default();
        if !planes.is_empty() {
            // A control plane wins: its ConfigMap is not read.
            return Ok(PolicyObjects {
                planes,
                config_map: None,
            });
        }
        let config_maps = Api::<ConfigMap>::namespaced(self.client.clone(), &self.istio_namespace);
        let config_map = config_maps
            .get_opt(&self.mesh_config_map_name())
            .await
            .map_err(|e| self.err(e))?;
        Ok(PolicyObjects { planes, config_map })
    }

    /// The control planes and the mesh ConfigMap from the watch-fed copies, when they are fresh
    /// and the acting identity may read them (asked of the API server, answers kept briefly).
    async fn mirrored_policy_objects(&self) -> Result<Option<PolicyObjects>, ClusterError> {
        let Some(mirrors) = self.mirrors.get() else {
            return Ok(None);
        };
        let (Some(planes), Some(config_maps)) = (
            mirrors.control_planes.objects(),
            mirrors.mesh_config.objects(),
        ) else {
            return Ok(None);
        };
        if !self.acts_as_server {
            let namespace = self.istio_namespace.clone();
            let reads = [
                Action::ListControlPlanes {
                    namespace: namespace.clone(),
                },
                Action::ReadMeshConfig {
                    namespace,
                    name: self.mesh_config_map_name(),
                },
            ];
            for action in &reads {
                if !self.can(action).await?.allowed() {
                    // Read as the user: the API server's refusal says what is missing.
                    return Ok(None);
                }
            }
        }
        Ok(Some(PolicyObjects {
            planes: planes.iter().map(|p| p.as_ref().clone()).collect(),
            config_map: config_maps.first().map(|c| c.as_ref().clone()),
        }))
    }

    /// Where the policy lives and what it says, from the objects read.
    fn interpret(
        &self,
        objects: PolicyObjects,
        choice: Option<&str>,
    ) -> Result<(PolicyReport, Option<Located>), ClusterError> {
        let PolicyObjects { planes, config_map } = objects;
        let mut planes: Vec<DynamicObject> = planes;
        planes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        if !planes.is_empty() {
            let source_of = |plane: &DynamicObject| PolicySource {
                kind: SourceKind::IstioControlPlane,
                namespace: self.istio_namespace.clone(),
                name: plane.metadata.name.clone().unwrap_or_default(),
            };
            let chosen = match choice.filter(|c| !c.is_empty()) {
                Some(name) => planes
                    .iter()
                    .position(|p| p.metadata.name.as_deref() == Some(name))
                    .ok_or_else(|| {
                        ClusterError::not_found(format!(
                            "there is no IstioControlPlane {}/{name}; there are: {}",
                            self.istio_namespace,
                            planes
                                .iter()
                                .filter_map(|p| p.metadata.name.clone())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?,
                None => 0,
            };
            let plane = planes.swap_remove(chosen);
            let source = source_of(&plane);
            let mesh_config = plane
                .data
                .get("spec")
                .and_then(|spec| spec.get("meshConfig"))
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            let setting = setting_from_mesh_config(&mesh_config).map_err(|e| {
                ClusterError::malformed(format!("{source} spec.meshConfig"), e.to_string())
            })?;
            let mut alternatives: Vec<PolicySource> = planes.iter().map(source_of).collect();
            alternatives.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok((
                PolicyReport::Found {
                    source,
                    setting,
                    alternatives,
                    managed_by: None,
                },
                Some(Located::ControlPlane(Box::new(plane))),
            ));
        }

        let name = self.mesh_config_map_name();
        let Some(config_map) = config_map else {
            return Ok((
                PolicyReport::NoSource {
                    looked_for: vec![
                        format!(
                            "IstioControlPlane resources (servicemesh.cisco.com/v1alpha1) in namespace {}",
                            self.istio_namespace
                        ),
                        format!(
                            "the mesh ConfigMap {}/{name}, key \"mesh\"{}",
                            self.istio_namespace,
                            if self.revision.is_some() {
                                ""
                            } else {
                                " (use --revision for a revisioned istio-<revision>)"
                            }
                        ),
                    ],
                },
                None,
            ));
        };
        let source = PolicySource {
            kind: SourceKind::ConfigMap,
            namespace: self.istio_namespace.clone(),
            name,
        };
        let document = config_map
            .data
            .as_ref()
            .and_then(|d| d.get("mesh"))
            .map(String::as_str)
            .unwrap_or("");
        let setting = setting_from_mesh_yaml(document)
            .map_err(|e| ClusterError::malformed(format!("{source} key mesh"), e.to_string()))?;
        Ok((
            PolicyReport::Found {
                source,
                setting,
                alternatives: vec![],
                managed_by: config_map_manager(&config_map),
            },
            Some(Located::ConfigMap(Box::new(config_map))),
        ))
    }

    /// The mesh-wide policy as the cluster holds it now: from the watch-fed copies when they
    /// are fresh, else read now.
    pub async fn policy_report(&self, choice: Option<&str>) -> Result<PolicyReport, ClusterError> {
        if let Some(objects) = self.mirrored_policy_objects().await? {
            return Ok(self.interpret(objects, choice)?.0);
        }
        Ok(self.locate(choice).await?.0)
    }

    /// The mesh-wide policy read from the API server now (after a write: what it holds).
    async fn policy_report_now(&self, choice: Option<&str>) -> Result<PolicyReport, ClusterError> {
        Ok(self.locate(choice).await?.0)
    }

    /// Switches the mesh-wide policy and returns it as read back from the cluster. Only
    /// `outboundTrafficPolicy.mode` changes. A control plane gets a JSON merge patch of that
    /// one field; the ConfigMap's `mesh` document is rewritten with the resourceVersion it was
    /// read at, and re-read and retried when another writer came first.
    pub async fn set_policy(
        &self,
        mode: &OutboundPolicyMode,
        choice: Option<&str>,
    ) -> Result<PolicyReport, ClusterError> {
        let mut written = None;
        for attempt in 1..=MAX_WRITE_ATTEMPTS {
            let (report, located) = self.locate(choice).await?;
            let (
                PolicyReport::Found {
                    source, managed_by, ..
                },
                Some(located),
            ) = (&report, located)
            else {
                let looked_for = match &report {
                    PolicyReport::NoSource { looked_for } => looked_for.join("; "),
                    PolicyReport::Found { .. } | PolicyReport::Hidden { .. } => String::new(),
                };
                return Err(ClusterError::precondition(format!(
                    "there is no mesh config to write the policy to (looked for: {looked_for})"
                )));
            };
            match located {
                Located::ControlPlane(plane) => {
                    let api = Api::<DynamicObject>::namespaced_with(
                        self.client.clone(),
                        &source.namespace,
                        &istio_control_plane_resource(),
                    );
                    let patch = serde_json::json!({
                        "spec": {"meshConfig": {"outboundTrafficPolicy": {"mode": mode.as_istio()}}}
                    });
                    let name = plane.metadata.name.clone().unwrap_or_default();
                    let patched = api
                        .patch(
                            &name,
                            &PatchParams {
                                field_manager: Some(FIELD_MANAGER.to_string()),
                                ..Default::default()
                            },
                            &Patch::Merge(&patch),
                        )
                        .await
                        .map_err(|e| self.err(e))?;
                    written = patched.metadata.resource_version;
                    break;
                }
                Located::ConfigMap(mut config_map) => {
                    if let Some(manager) = managed_by {
                        return Err(ClusterError::precondition(format!(
                            "{source} is rendered by {manager}, which reverts direct edits: \
                                 set meshConfig.outboundTrafficPolicy.mode there instead"
                        )));
                    }
                    let data = config_map.data.get_or_insert_with(Default::default);
                    let document = data.get("mesh").map(String::as_str).unwrap_or("");
                    let updated = set_mode_in_mesh_yaml(document, mode).map_err(|e| match e {
                        // Nothing was sent: the text is one mesh-egress does not edit alone.
                        MeshConfigError::NotEditable(reason) => {
                            ClusterError::precondition(format!("{source} key mesh: {reason}"))
                        }
                        e => ClusterError::malformed(format!("{source} key mesh"), e.to_string()),
                    })?;
                    data.insert("mesh".to_string(), updated);
                    let api = Api::<ConfigMap>::namespaced(self.client.clone(), &source.namespace);
                    // The object carries the resourceVersion it was read at: a concurrent
                    // writer makes this a 409, never a lost update.
                    let result = api
                        .replace(
                            &source.name,
                            &PostParams {
                                field_manager: Some(FIELD_MANAGER.to_string()),
                                ..Default::default()
                            },
                            &config_map,
                        )
                        .await;
                    match result {
                        Ok(replaced) => {
                            written = replaced.metadata.resource_version;
                            break;
                        }
                        Err(kube::Error::Api(status))
                            if status.code == 409 && attempt < MAX_WRITE_ATTEMPTS =>
                        {
                            tracing::debug!(attempt, "mesh ConfigMap changed underneath; retrying");
                            tokio::time::sleep(retry_pause(attempt)).await;
                        }
                        Err(e) => return Err(self.err(e)),
                    }
                }
            }
        }
        if let Some(version) = written {
            self.await_mirrored(&version).await;
        }
        self.policy_report_now(choice).await
    }

    /// Waits (briefly) until the watch-fed copies hold the version just written, so the page
    /// loaded after a switch shows it.
    async fn await_mirrored(&self, version: &str) {
        let Some(mirrors) = self.mirrors.get() else {
            return;
        };
        // `None`: the copies are not in use (not fresh), nothing to wait for.
        let holds = || {
            let config_maps = mirrors.mesh_config.objects()?;
            let planes = mirrors.control_planes.objects()?;
            Some(
                config_maps
                    .iter()
                    .map(|c| &c.metadata)
                    .chain(planes.iter().map(|p| &p.metadata))
                    .any(|meta| meta.resource_version.as_deref() == Some(version)),
            )
        };
        let deadline = tokio::time::Instant::now() + MIRROR_WAIT;
        while holds() == Some(false) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// How long a switch waits for the watch-fed copies to see it.
const MIRROR_WAIT: Duration = Duration::from_secs(2);

/// The pause before retry `attempt`: exponential (10 ms doubling, at most 320 ms) with random
/// jitter, so writers racing for the same ConfigMap fall out of step.
fn retry_pause(attempt: u32) -> Duration {
    let base = 10u64 << attempt.saturating_sub(1).min(5);
    let jitter = rand::random_range(0..=base);
    Duration::from_millis(base / 2 + jitter)
}
