//! Egress gateways as the cluster has them: Services labelled `istio=egressgateway`, Service
//! Mesh Manager's `IstioMeshGateway`s of type egress, and the Istio `Gateway`s that select
//! their pods.

use super::policy::SMM_GROUP;
use super::{Cluster, ClusterError};
use crate::domain::gateway::{EgressGateway, GatewayObject, GatewayPort, GatewaySource};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;
use std::collections::BTreeMap;

/// The label of Istio's egress gateways (its `gateway` chart and the egress task).
const EGRESS_LABEL: &str = "istio=egressgateway";

fn mesh_gateway_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(SMM_GROUP, "v1alpha1", "IstioMeshGateway"),
        "istiomeshgateways",
    )
}

fn strings(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// An `IstioMeshGateway` of type egress, as a gateway: its Service is named after it, its pods
/// carry `gateway-name` and `gateway-type` (and the labels its deployment adds).
fn from_mesh_gateway(object: &DynamicObject) -> Option<EgressGateway> {
    let spec = object.data.get("spec")?;
    if spec.get("type").and_then(Value::as_str) != Some("egress") {
        return None;
    }
    let name = object.metadata.name.clone()?;
    let mut pod_labels = strings(spec.pointer("/deployment/metadata/labels"));
    pod_labels.insert("gateway-name".into(), name.clone());
    pod_labels.insert("gateway-type".into(), "egress".into());
    let ports = spec
        .pointer("/service/ports")
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| {
                    Some(GatewayPort {
                        number: p.get("port")?.as_i64()?,
                        name: p
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .into(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(EgressGateway {
        namespace: object.metadata.namespace.clone().unwrap_or_default(),
        name,
        source: GatewaySource::IstioMeshGateway,
        ports,
        pod_labels,
        gateways: Vec::new(),
        hosts: Vec::new(),
    })
}

fn from_service(service: &Service) -> Option<EgressGateway> {
    let spec = service.spec.as_ref()?;
    Some(EgressGateway {
        namespace: service.metadata.namespace.clone().unwrap_or_default(),
        name: service.metadata.name.clone()?,
        source: GatewaySource::IstioLabel,
        ports: spec
            .ports
            .iter()
            .flatten()
            .map(|p| GatewayPort {
                number: i64::from(p.port),
                name: p.name.clone().unwrap_or_default(),
            })
            .collect(),
        pod_labels: spec.selector.clone().unwrap_or_default(),
        gateways: Vec::new(),
        hosts: Vec::new(),
    })
}

fn gateway_object(object: &DynamicObject) -> GatewayObject {
    let spec = object.data.get("spec");
    GatewayObject {
        id: format!(
            "{}/{}",
            object.metadata.namespace.as_deref().unwrap_or_default(),
            object.metadata.name.as_deref().unwrap_or_default()
        ),
        selector: strings(spec.and_then(|s| s.get("selector"))),
        hosts: spec
            .and_then(|s| s.get("servers"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|server| server.get("hosts")?.as_array())
            .flatten()
            .filter_map(|h| h.as_str().map(str::to_string))
            .collect(),
    }
}

impl Cluster {
    /// Every egress gateway the acting identity may list, with the hosts its Gateways carry.
    /// Service Mesh Manager's kind is optional: without its CRD there are none of it.
    pub async fn egress_gateways(&self) -> Result<Vec<EgressGateway>, ClusterError> {
        let services = Api::<Service>::all(self.client.clone())
            .list(&ListParams::default().labels(EGRESS_LABEL))
            .await
            .map_err(|e| self.err(e))?;
        let mut gateways: Vec<EgressGateway> =
            services.items.iter().filter_map(from_service).collect();
        let mesh_gateways =
            Api::<DynamicObject>::all_with(self.client.clone(), &mesh_gateway_resource())
                .list(&ListParams::default())
                .await;
        match mesh_gateways {
            Ok(list) => gateways.extend(list.items.iter().filter_map(from_mesh_gateway)),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(self.err(e)),
        }
        let resource = self.networking_resource("Gateway", "gateways").await?;
        let objects = Api::<DynamicObject>::all_with(self.client.clone(), &resource)
            .list(&ListParams::default())
            .await
            .map_err(|e| self.err(e))?;
        let objects: Vec<GatewayObject> = objects.items.iter().map(gateway_object).collect();
        Ok(crate::domain::gateway::with_carried(gateways, &objects))
    }
}

impl Cluster {
    /// Creates an IstioMeshGateway (`object` from `domain::mesh_gateway`): first by dry run
    /// (the API server judges it against Service Mesh Manager's CRD), then for real unless
    /// `dry_run`. Without the CRD, says that Service Mesh Manager is not installed.
    pub async fn create_mesh_gateway(
        &self,
        object: &Value,
        dry_run: bool,
    ) -> Result<(), ClusterError> {
        let resource = mesh_gateway_resource();
        let typed = super::typed_object(object, &resource, "an IstioMeshGateway")?;
        let namespace = typed.metadata.namespace.clone().unwrap_or_default();
        let name = typed.metadata.name.clone().unwrap_or_default();
        let api = Api::<DynamicObject>::namespaced_with(self.client.clone(), &namespace, &resource);
        // Judged by a dry run first; then written, unless only the dry run was asked for.
        let runs: &[bool] = if dry_run { &[true] } else { &[true, false] };
        for &dry_run in runs {
            let params = PostParams {
                dry_run,
                field_manager: Some(super::FIELD_MANAGER.to_string()),
            };
            match api.create(&params, &typed).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    return Err(ClusterError::conflict(format!(
                        "an IstioMeshGateway {namespace}/{name} exists already: nothing was \
                         written"
                    )))
                }
                // A 404 that is not about the namespace: the kind itself is not served.
                Err(kube::Error::Api(status))
                    if status.code == 404
                        && status
                            .details
                            .as_ref()
                            .is_none_or(|d| d.kind != "namespaces") =>
                {
                    return Err(ClusterError::precondition(
                        "Service Mesh Manager is not installed (no IstioMeshGateway kind): \
                         install an egress gateway with Istio's gateway chart instead"
                            .into(),
                    ))
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(())
    }
}
