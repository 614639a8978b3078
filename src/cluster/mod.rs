//! The only module that names `kube` or `k8s_openapi`. It reads and writes the cluster and
//! hands the rest of the crate domain types.

mod entry_cache;
pub mod error;
mod gateways;
mod identity;
pub mod istiod;
mod mirror;
mod policy;
mod routes;
mod service_entries;
mod sidecars;
mod state;
#[cfg(test)]
mod write_requests;

pub use entry_cache::{EntrySnapshot, ServiceEntryCache};
pub use error::{ClusterError, ErrorKind};
pub use identity::{Change, Changed};
use mirror::Mirror;
pub use policy::FIELD_MANAGER;
pub use state::{undo_record_name, KeepForUndo, UndoRecord, REVOKED_SESSIONS};

use crate::domain::overview::{NamespaceInfo, Registered};
use crate::domain::policy::{setting_from_mesh_config, IstiodView};
use crate::domain::SidecarPolicy;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::watcher;
use kube::{Client, Config};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// How to reach the cluster, from the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// A kubeconfig file; otherwise KUBECONFIG, ~/.kube/config, or the pod's ServiceAccount.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig; otherwise its current context.
    pub context: Option<String>,
    /// Where Istio's control plane lives.
    pub istio_namespace: String,
    /// The Istio revision whose mesh ConfigMap (`istio-<revision>`) to use.
    pub revision: Option<String>,
    /// istiod's debug address (`http://HOST:PORT`), to show what istiod really uses.
    pub istiod_debug: Option<String>,
    /// Where mesh-egress keeps its own state (undo records, signed-out sessions); otherwise
    /// the pod's namespace in a cluster, or the kubeconfig context's namespace.
    pub state_namespace: Option<String>,
    /// How long a request waits for the API server's answer (watches excepted); otherwise
    /// [`REQUEST_READ_TIMEOUT`].
    pub read_timeout: Option<std::time::Duration>,
}

/// How long a request waits for the API server to send anything before it gives up: a hung
/// API server makes a page say so instead of hanging it (shorter than the server's own request
/// timeout). Watches wait longer (their own client), since they idle between changes.
pub const REQUEST_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The watch-fed copies of namespaces, Sidecars, and where the mesh-wide policy lives.
struct Mirrors {
    namespaces: Mirror<Namespace>,
    sidecars: Mirror<DynamicObject>,
    /// The mesh ConfigMap (only it).
    mesh_config: Mirror<ConfigMap>,
    /// Service Mesh Manager's control planes in the Istio namespace.
    control_planes: Mirror<DynamicObject>,
    /// Every VirtualService's hosts and gateways (routing through egress gateways).
    virtual_services: Mirror<DynamicObject>,
}

/// An object given as JSON, typed as `resource` for a write (`what` names it in an error).
fn typed_object(
    object: &serde_json::Value,
    resource: &ApiResource,
    what: &str,
) -> Result<DynamicObject, ClusterError> {
    let mut typed: DynamicObject = serde_json::from_value(object.clone())
        .map_err(|e| ClusterError::internal(format!("{what} to write: {e}")))?;
    typed.types = Some(kube::core::TypeMeta {
        api_version: resource.api_version.clone(),
        kind: resource.kind.clone(),
    });
    Ok(typed)
}

/// What the overview keeps of a namespace: its name and labels.
fn keep_namespace_labels(namespace: &mut Namespace) {
    let labels = namespace.metadata.labels.take();
    let name = namespace.metadata.name.take();
    *namespace = Namespace::default();
    namespace.metadata.name = name;
    namespace.metadata.labels = labels;
}

/// What the effective-policy and visibility rules keep of a Sidecar: its outbound policy,
/// whether it selects workloads, its egress listeners (what it imports) and mesh-egress's
/// record.
fn keep_sidecar_policy(sidecar: &mut DynamicObject) {
    let meta = &mut sidecar.metadata;
    meta.managed_fields = None;
    // Only mesh-egress's own record: whether it can put the Sidecar back.
    meta.annotations = meta.annotations.take().and_then(|mut a| {
        a.remove(crate::domain::restrict::BEFORE_ANNOTATION)
            .map(|record| {
                BTreeMap::from([(
                    crate::domain::restrict::BEFORE_ANNOTATION.to_string(),
                    record,
                )])
            })
    });
    meta.labels = None;
    let spec = sidecar.data.get("spec");
    let kept: serde_json::Map<String, serde_json::Value> =
        ["outboundTrafficPolicy", "workloadSelector", "egress"]
            .iter()
            .filter_map(|key| Some((key.to_string(), spec?.get(*key)?.clone())))
            .collect();
    sidecar.data = serde_json::json!({ "spec": kept });
}

/// A namespace as the overview needs it: its name, and whether injection is on by label.
fn namespace_info(meta: &kube::core::ObjectMeta) -> Option<NamespaceInfo> {
    let name = meta.name.clone()?;
    let labels = meta.labels.as_ref();
    let injection = labels.is_some_and(|l| {
        l.get("istio-injection").map(String::as_str) == Some("enabled")
            || l.contains_key("istio.io/rev")
    });
    Some(NamespaceInfo { name, injection })
}

/// A Sidecar's outbound policy.
fn sidecar_policy(sidecar: &DynamicObject) -> Result<SidecarPolicy, ClusterError> {
    let namespace = sidecar.metadata.namespace.clone().unwrap_or_default();
    let name = sidecar.metadata.name.clone().unwrap_or_default();
    let spec = sidecar.data.get("spec").cloned().unwrap_or_default();
    let setting = setting_from_mesh_config(&spec).map_err(|e| {
        ClusterError::malformed(format!("Sidecar {namespace}/{name}"), e.to_string())
    })?;
    let recorded = sidecar
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(crate::domain::restrict::BEFORE_ANNOTATION));
    // Every listener's hosts: what the Sidecar imports.
    let egress_hosts = spec
        .get("egress")
        .and_then(serde_json::Value::as_array)
        .filter(|listeners| !listeners.is_empty())
        .map(|listeners| {
            listeners
                .iter()
                .filter_map(|l| l.get("hosts")?.as_array())
                .flatten()
                .filter_map(|h| h.as_str().map(str::to_string))
                .collect()
        });
    Ok(SidecarPolicy {
        recorded,
        egress_hosts,
        has_workload_selector: spec.get("workloadSelector").is_some_and(|w| !w.is_null()),
        namespace,
        name,
        setting,
    })
}

/// The API group of ServiceEntries and Sidecars.
const NETWORKING_GROUP: &str = "networking.istio.io";

/// A connection to one cluster. Cheap to clone: the client shares its connection pool.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    /// The server identity's client for watches: the default (long) read timeout.
    watch_client: Client,
    config: Config,
    identity: std::sync::Arc<OnceCell<String>>,
    server: String,
    istio_namespace: String,
    revision: Option<String>,
    istiod_debug: Option<String>,
    networking_version: std::sync::Arc<OnceCell<String>>,
    cache: std::sync::Arc<std::sync::OnceLock<ServiceEntryCache>>,
    mirrors: std::sync::Arc<std::sync::OnceLock<Mirrors>>,
    state_namespace: String,
    identities: identity::IdentityCache,
    /// This identity's recent access review answers.
    accesses: identity::AccessCache,
    /// Whether this is the server's own identity (whose watch-fed copies it reads as its own).
    acts_as_server: bool,
}

impl Cluster {
    /// Builds a client from the options. Nothing is sent to the cluster yet.
    pub async fn connect(options: &ConnectOptions) -> Result<Self, ClusterError> {
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = match &options.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                    ClusterError::config(format!("cannot read kubeconfig {}: {e}", path.display()))
                })?;
                Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                    .await
                    .map_err(|e| ClusterError::config(e.to_string()))?
            }
            None if options.context.is_some() => Config::from_kubeconfig(&kube_options)
                .await
                .map_err(|e| ClusterError::config(e.to_string()))?,
            None => Config::infer()
                .await
                .map_err(|e| ClusterError::config(e.to_string()))?,
        };
        let server = config.cluster_url.to_string();
        let server = server.trim_end_matches('/').to_string();
        let state_namespace = options
            .state_namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let watch_client =
            Client::try_from(config.clone()).map_err(|e| ClusterError::config(e.to_string()))?;
        let mut config = config;
        config.read_timeout = Some(options.read_timeout.unwrap_or(REQUEST_READ_TIMEOUT));
        let client =
            Client::try_from(config.clone()).map_err(|e| ClusterError::config(e.to_string()))?;
        Ok(Self {
            client,
            watch_client,
            config,
            identity: Default::default(),
            server,
            istio_namespace: options.istio_namespace.clone(),
            revision: options.revision.clone(),
            istiod_debug: options.istiod_debug.clone(),
            networking_version: Default::default(),
            cache: Default::default(),
            mirrors: Default::default(),
            state_namespace,
            identities: identity::identity_cache(),
            accesses: identity::access_cache(),
            acts_as_server: true,
        })
    }

    /// A cluster behind a client the tests provide (a mocked API server).
    #[cfg(test)]
    pub(crate) fn with_client(client: Client, istio_namespace: &str) -> Self {
        let url = "https://apiserver.test".parse().unwrap_or_default();
        Self {
            watch_client: client.clone(),
            client,
            config: Config::new(url),
            identity: Default::default(),
            server: "https://apiserver.test".into(),
            istio_namespace: istio_namespace.into(),
            revision: None,
            istiod_debug: None,
            networking_version: Default::default(),
            cache: Default::default(),
            mirrors: Default::default(),
            state_namespace: "mesh-egress".into(),
            identities: identity::identity_cache(),
            accesses: identity::access_cache(),
            acts_as_server: true,
        }
    }

    /// The API server's address, as people know the cluster.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The namespace of Istio's control plane.
    pub fn istio_namespace(&self) -> &str {
        &self.istio_namespace
    }

    fn err(&self, source: kube::Error) -> ClusterError {
        ClusterError::from_kube(&self.server, &source)
    }

    /// The networking.istio.io version to use: v1 where served, else v1beta1 (Service Mesh
    /// Manager's Istio 1.17 serves no v1). Asked once, then remembered.
    async fn networking_version(&self) -> Result<String, ClusterError> {
        self.networking_version
            .get_or_try_init(|| async {
                let group = kube::discovery::group(&self.client, NETWORKING_GROUP)
                    .await
                    .map_err(|e| self.err(e))?;
                let served: Vec<String> = group.versions().map(str::to_string).collect();
                ["v1", "v1beta1", "v1alpha3"]
                    .iter()
                    .find(|v| served.iter().any(|s| s == *v))
                    .map(|v| v.to_string())
                    .ok_or_else(|| {
                        ClusterError::precondition(format!(
                            "the cluster serves none of {NETWORKING_GROUP} v1, v1beta1, v1alpha3 \
                             (it serves: {}): install Istio's CRDs",
                            served.join(", ")
                        ))
                    })
            })
            .await
            .cloned()
    }

    /// An Istio networking kind at the version the API server serves.
    async fn networking_resource(
        &self,
        kind: &str,
        plural: &str,
    ) -> Result<ApiResource, ClusterError> {
        let version = self.networking_version().await?;
        Ok(ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(NETWORKING_GROUP, &version, kind),
            plural,
        ))
    }

    pub(crate) async fn service_entry_resource(&self) -> Result<ApiResource, ClusterError> {
        self.networking_resource("ServiceEntry", "serviceentries")
            .await
    }

    async fn sidecar_resource(&self) -> Result<ApiResource, ClusterError> {
        self.networking_resource("Sidecar", "sidecars").await
    }

    /// Starts the watch-fed copies of namespaces, Sidecars, the mesh ConfigMap and the control
    /// planes (for the life of the process);
    /// until they have their first list, readers LIST.
    pub fn start_mirrors(&self) {
        let cluster = self.clone();
        tokio::spawn(async move {
            let namespaces = Mirror::start(
                Api::<Namespace>::all(cluster.watch_client.clone()),
                (),
                keep_namespace_labels,
                "namespaces",
            );
            let sidecars = loop {
                match cluster.sidecar_resource().await {
                    Ok(resource) => {
                        break Mirror::start(
                            Api::<DynamicObject>::all_with(cluster.watch_client.clone(), &resource),
                            resource,
                            keep_sidecar_policy,
                            "sidecars",
                        )
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
                }
            };
            let mesh_config = Mirror::start_with(
                Api::<ConfigMap>::namespaced(
                    cluster.watch_client.clone(),
                    &cluster.istio_namespace,
                ),
                watcher::Config::default()
                    .fields(&format!("metadata.name={}", cluster.mesh_config_map_name())),
                (),
                policy::keep_config_map,
                "mesh config",
            );
            let planes = policy::istio_control_plane_resource();
            let control_planes = Mirror::start(
                Api::<DynamicObject>::namespaced_with(
                    cluster.watch_client.clone(),
                    &cluster.istio_namespace,
                    &planes,
                ),
                planes,
                policy::keep_mesh_config,
                "control planes",
            );
            let virtual_services = loop {
                match cluster
                    .networking_resource("VirtualService", "virtualservices")
                    .await
                {
                    Ok(resource) => {
                        break Mirror::start(
                            Api::<DynamicObject>::all_with(cluster.watch_client.clone(), &resource),
                            resource,
                            routes::keep_routing,
                            "virtual services",
                        )
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
                }
            };
            let _ = cluster.mirrors.set(Mirrors {
                namespaces,
                sidecars,
                mesh_config,
                control_planes,
                virtual_services,
            });
        });
    }

    /// Every Sidecar's outbound policy, as the effective-policy rules need it: from the
    /// watch-fed copy when it is fresh, else with one LIST.
    pub async fn sidecar_policies(&self) -> Result<Vec<SidecarPolicy>, ClusterError> {
        if let Some(sidecars) = self.mirrors.get().and_then(|m| m.sidecars.objects()) {
            let mut policies: Vec<SidecarPolicy> = sidecars
                .iter()
                .map(|s| sidecar_policy(s))
                .collect::<Result<_, _>>()?;
            policies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            return Ok(policies);
        }
        let resource = self.sidecar_resource().await?;
        let sidecars = Api::<DynamicObject>::all_with(self.client.clone(), &resource)
            .list(&ListParams::default())
            .await
            .map_err(|e| self.err(e))?;
        sidecars.items.iter().map(sidecar_policy).collect()
    }

    /// Every namespace, with whether sidecar injection is on by label: from the watch-fed copy
    /// when it is fresh, else with one LIST.
    pub async fn namespaces(&self) -> Result<Vec<NamespaceInfo>, ClusterError> {
        if let Some(namespaces) = self.mirrors.get().and_then(|m| m.namespaces.objects()) {
            let mut infos: Vec<NamespaceInfo> = namespaces
                .iter()
                .filter_map(|n| namespace_info(&n.metadata))
                .collect();
            infos.sort_by(|a, b| a.name.cmp(&b.name));
            return Ok(infos);
        }
        let namespaces = Api::<Namespace>::all(self.client.clone())
            .list_metadata(&ListParams::default())
            .await
            .map_err(|e| self.err(e))?;
        Ok(namespaces
            .items
            .iter()
            .filter_map(|ns| namespace_info(&ns.metadata))
            .collect())
    }

    /// What each namespace registers: its ServiceEntries and their hosts (from the cache).
    pub async fn registered_by_namespace(
        &self,
    ) -> Result<Arc<BTreeMap<String, Registered>>, ClusterError> {
        Ok(self.service_entry_snapshot().await?.registered.clone())
    }

    /// What istiod really uses, when the dashboard knows where to ask.
    pub async fn istiod_view(&self) -> Option<IstiodView> {
        match &self.istiod_debug {
            Some(base) => Some(istiod::istiod_view(base).await),
            None => None,
        }
    }
}
