//! Routing through egress gateways as the cluster has it: every VirtualService (the hosts it
//! routes, the gateways it names, mesh-egress's annotations), from a watch-fed copy; and the
//! objects of a route (`domain::route`), written all or nothing and found again by label.

use super::{Cluster, ClusterError, FIELD_MANAGER};
use crate::domain::access::Action;
use crate::domain::route::{
    RouteObject, RoutePlan, VirtualServiceInfo, ROUTES_ANNOTATION, ROUTE_LABEL, VIA_ANNOTATION,
};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::core::{ApiResource, DynamicObject};
use serde_json::Value;
use std::collections::BTreeMap;

/// The kinds a route writes, in the order they are written.
const KINDS: [(&str, &str); 3] = [
    ("Gateway", "gateways"),
    ("DestinationRule", "destinationrules"),
    ("VirtualService", "virtualservices"),
];

/// What the copy of VirtualServices keeps: names, mesh-egress's annotations, hosts, gateways,
/// and whether it has TLS routes (routes by SNI).
pub(super) fn keep_routing(service: &mut DynamicObject) {
    let meta = &mut service.metadata;
    meta.managed_fields = None;
    meta.labels = None;
    meta.annotations = meta.annotations.take().map(|mut a| {
        [ROUTES_ANNOTATION, VIA_ANNOTATION]
            .iter()
            .filter_map(|k| Some((k.to_string(), a.remove(*k)?)))
            .collect::<BTreeMap<_, _>>()
    });
    let spec = service.data.get("spec");
    let mut kept: serde_json::Map<String, Value> = ["hosts", "gateways"]
        .iter()
        .filter_map(|key| Some((key.to_string(), spec?.get(*key)?.clone())))
        .collect();
    // Of the TLS routes, only that there are some.
    if spec.is_some_and(|s| s.get("tls").is_some()) {
        kept.insert("tls".into(), Value::Bool(true));
    }
    service.data = serde_json::json!({ "spec": kept });
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn info(service: &DynamicObject) -> VirtualServiceInfo {
    let annotation = |key: &str| {
        service
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key).cloned())
    };
    let spec = service.data.get("spec");
    VirtualServiceInfo {
        namespace: service.metadata.namespace.clone().unwrap_or_default(),
        name: service.metadata.name.clone().unwrap_or_default(),
        hosts: strings(spec.and_then(|s| s.get("hosts"))),
        gateways: strings(spec.and_then(|s| s.get("gateways"))),
        routes: annotation(ROUTES_ANNOTATION),
        via: annotation(VIA_ANNOTATION),
        tls: spec.and_then(|s| s.get("tls")).is_some(),
    }
}

impl Cluster {
    async fn route_resource(&self, kind: &str) -> Result<ApiResource, ClusterError> {
        let plural = KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, p)| *p)
            .ok_or_else(|| ClusterError::internal(format!("no route object of kind {kind}")))?;
        self.networking_resource(kind, plural).await
    }

    /// Every VirtualService, as routing needs it: from the watch-fed copy when it is fresh and
    /// the acting identity may list them (asked of the API server, answers kept briefly), else
    /// with one LIST as the acting identity.
    pub async fn virtual_services(&self) -> Result<Vec<VirtualServiceInfo>, ClusterError> {
        let mut mirrored = self
            .mirrors
            .get()
            .and_then(|m| m.virtual_services.objects());
        if mirrored.is_some()
            && !self.acts_as_server
            && !self.can(&Action::ListVirtualServices).await?.allowed()
        {
            // Read as the user: the API server's refusal says what is missing.
            mirrored = None;
        }
        let mut infos: Vec<VirtualServiceInfo> = match mirrored {
            Some(objects) => objects.iter().map(|o| info(o)).collect(),
            None => {
                let resource = self.route_resource("VirtualService").await?;
                Api::<DynamicObject>::all_with(self.client.clone(), &resource)
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| self.err(e))?
                    .items
                    .iter()
                    .map(info)
                    .collect()
            }
        };
        infos.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(infos)
    }

    async fn route_api(&self, object: &RouteObject) -> Result<Api<DynamicObject>, ClusterError> {
        let resource = self.route_resource(&object.kind).await?;
        Ok(Api::namespaced_with(
            self.client.clone(),
            &object.namespace,
            &resource,
        ))
    }

    async fn typed(&self, object: &RouteObject) -> Result<DynamicObject, ClusterError> {
        let resource = self.route_resource(&object.kind).await?;
        super::typed_object(&object.object, &resource, &object.label())
    }

    /// Writes every object of `plan`: first each by dry run (istiod's webhook judges it), then
    /// for real, in order. A failure midway deletes what was written, so nothing is left.
    pub async fn write_route(&self, plan: &RoutePlan, dry_run: bool) -> Result<(), ClusterError> {
        let params = |dry_run| PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        for object in &plan.objects {
            let api = self.route_api(object).await?;
            api.create(&params(true), &self.typed(object).await?)
                .await
                .map_err(|e| self.route_error(object, e))?;
        }
        if dry_run {
            return Ok(());
        }
        let mut written: Vec<&RouteObject> = Vec::new();
        for object in &plan.objects {
            let api = self.route_api(object).await?;
            let created = api.create(&params(false), &self.typed(object).await?).await;
            if let Err(e) = created {
                let error = self.route_error(object, e);
                let mut left = Vec::new();
                for done in written.iter().rev() {
                    if self.delete_route_object(done).await.is_err() {
                        left.push(done.label());
                    }
                }
                return Err(match left.is_empty() {
                    true => error.context("nothing was kept"),
                    false => error.context(&format!(
                        "these could not be removed again: {}",
                        left.join(", ")
                    )),
                });
            }
            written.push(object);
        }
        Ok(())
    }

    fn route_error(&self, object: &RouteObject, e: kube::Error) -> ClusterError {
        match e {
            kube::Error::Api(status) if status.code == 409 => ClusterError::conflict(format!(
                "{} exists already (written by hand, or for another entry): nothing was written",
                object.label()
            )),
            e => self.err(e).context(&object.label()),
        }
    }

    async fn delete_route_object(&self, object: &RouteObject) -> Result<(), ClusterError> {
        let api = self.route_api(object).await?;
        match api.delete(&object.name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(self.err(e).context(&object.label())),
        }
    }

    /// The objects mesh-egress wrote to route `entry` (`namespace/name`): found by their label
    /// (`name`, from `route_name`), kept only when their annotation names `entry`.
    pub async fn route_objects(
        &self,
        entry: &str,
        name: &str,
    ) -> Result<Vec<RouteObject>, ClusterError> {
        let mut found = Vec::new();
        for (kind, _) in KINDS {
            let resource = self.route_resource(kind).await?;
            let list = Api::<DynamicObject>::all_with(self.client.clone(), &resource)
                .list(&ListParams::default().labels(&format!("{ROUTE_LABEL}={name}")))
                .await
                .map_err(|e| self.err(e))?;
            for mut object in list.items {
                let ours = object
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(ROUTES_ANNOTATION))
                    .is_some_and(|a| a == entry);
                if !ours {
                    continue;
                }
                object.metadata.managed_fields = None;
                found.push(RouteObject {
                    kind: kind.to_string(),
                    namespace: object.metadata.namespace.clone().unwrap_or_default(),
                    name: object.metadata.name.clone().unwrap_or_default(),
                    object: serde_json::to_value(&object)
                        .map_err(|e| ClusterError::internal(e.to_string()))?,
                });
            }
        }
        Ok(found)
    }

    /// Deletes `objects` (the VirtualServices first, so no sidecar is sent to a subset that is
    /// gone). Ones already gone are fine.
    pub async fn delete_route(&self, objects: &[RouteObject]) -> Result<(), ClusterError> {
        for object in objects.iter().rev() {
            self.delete_route_object(object).await?;
        }
        Ok(())
    }
}
