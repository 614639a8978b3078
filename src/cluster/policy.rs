//! Where the mesh-wide policy lives, and what it says.

use super::{Cluster, ClusterError};
use crate::domain::policy::{setting_from_mesh_config, setting_from_mesh_yaml};
use crate::domain::{PolicyReport, PolicySource, SourceKind};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};

/// Service Mesh Manager's control plane resource.
fn istio_control_plane_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("servicemesh.cisco.com", "v1alpha1", "IstioControlPlane"),
        "istiocontrolplanes",
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

impl Cluster {
    /// The name of the mesh ConfigMap for the configured revision.
    fn mesh_config_map_name(&self) -> String {
        match &self.revision {
            Some(revision) if !revision.is_empty() && revision != "default" => {
                format!("istio-{revision}")
            }
            _ => "istio".to_string(),
        }
    }

    /// Finds the source of truth for the mesh-wide policy and reads it. An IstioControlPlane
    /// wins over the ConfigMap: Service Mesh Manager renders the ConfigMap from it and
    /// reverts direct edits. Of several control planes, the first by name. Both are looked
    /// for in the Istio namespace (`--istio-namespace`).
    pub async fn policy_report(&self) -> Result<PolicyReport, ClusterError> {
        let icp_api = Api::<DynamicObject>::namespaced_with(
            self.client.clone(),
            &self.istio_namespace,
            &istio_control_plane_resource(),
        );
        let planes = absent_if_not_found(icp_api.list(&ListParams::default()).await)
            .map_err(|e| self.err(e))?;
        if let Some(planes) = planes {
            let mut planes = planes.items;
            planes.sort_by(|a, b| {
                (&a.metadata.namespace, &a.metadata.name)
                    .cmp(&(&b.metadata.namespace, &b.metadata.name))
            });
            if let Some(plane) = planes.first() {
                let namespace = plane.metadata.namespace.clone().unwrap_or_default();
                let name = plane.metadata.name.clone().unwrap_or_default();
                let mesh_config = plane
                    .data
                    .get("spec")
                    .and_then(|spec| spec.get("meshConfig"))
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                let setting = setting_from_mesh_config(&mesh_config).map_err(|e| {
                    ClusterError::Malformed {
                        object: format!("IstioControlPlane {namespace}/{name} spec.meshConfig"),
                        reason: e.to_string(),
                    }
                })?;
                return Ok(PolicyReport::Found {
                    source: PolicySource {
                        kind: SourceKind::IstioControlPlane,
                        namespace,
                        name,
                    },
                    setting,
                });
            }
        }

        let name = self.mesh_config_map_name();
        let config_maps = Api::<ConfigMap>::namespaced(self.client.clone(), &self.istio_namespace);
        let config_map = config_maps.get_opt(&name).await.map_err(|e| self.err(e))?;
        let Some(config_map) = config_map else {
            return Ok(PolicyReport::NoSource {
                looked_for: vec![
                    format!(
                        "IstioControlPlane resources (servicemesh.cisco.com/v1alpha1) in namespace {}",
                        self.istio_namespace
                    ),
                    format!(
                        "the mesh ConfigMap {}/{name}, key \"mesh\"",
                        self.istio_namespace
                    ),
                ],
            });
        };
        let document = config_map
            .data
            .as_ref()
            .and_then(|d| d.get("mesh"))
            .map(String::as_str)
            .unwrap_or("");
        let setting = setting_from_mesh_yaml(document).map_err(|e| ClusterError::Malformed {
            object: format!("ConfigMap {}/{name} key mesh", self.istio_namespace),
            reason: e.to_string(),
        })?;
        Ok(PolicyReport::Found {
            source: PolicySource {
                kind: SourceKind::ConfigMap,
                namespace: self.istio_namespace.clone(),
                name,
            },
            setting,
        })
    }
}
