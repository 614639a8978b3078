//! Watch-fed copies of the small kinds every overview reads — namespaces and Sidecars — kept
//! as the projection the pages need (names, labels, the outbound policy), so a page reads
//! them from memory instead of LISTing on every request. Until a copy has its first list (or
//! while its watch is down and stale), readers fall back to one LIST.

use super::service_entries::QuickBackoff;
use futures::StreamExt;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Resource;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How long a watch the server may not make (or of a kind not served) waits before it tries
/// again.
const SLOW_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

/// A watch-fed store of one kind, and whether it is fresh.
#[derive(Clone)]
pub struct Mirror<K: Resource + 'static>
where
    K::DynamicType: Clone + Eq + Hash,
{
    store: Store<K>,
    fresh: Arc<AtomicBool>,
}

impl<K> Mirror<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Clone + Eq + Hash + Send + Sync,
{
    /// Starts watching `api` for the life of the process, keeping each object as `project`
    /// leaves it.
    pub fn start(
        api: Api<K>,
        dyntype: K::DynamicType,
        project: fn(&mut K),
        what: &'static str,
    ) -> Self {
        Self::start_with(api, watcher::Config::default(), dyntype, project, what)
    }

    /// The same, watching only what `config` selects. A kind the API server does not serve
    /// (its CRD is not installed: 404) counts as a fresh copy with nothing in it; one the server
    /// may not watch (403) is asked again only every half minute.
    pub fn start_with(
        api: Api<K>,
        config: watcher::Config,
        dyntype: K::DynamicType,
        project: fn(&mut K),
        what: &'static str,
    ) -> Self {
        let writer = reflector::store::Writer::new(dyntype);
        let store = writer.as_reader();
        let fresh = Arc::new(AtomicBool::new(false));
        let flag = fresh.clone();
        tokio::spawn(async move {
            let stream = watcher(api, config)
                .backoff(QuickBackoff::default())
                .modify(project)
                .reflect(writer);
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::InitDone) => flag.store(true, Ordering::Release),
                    Ok(_) => {}
                    Err(e) => {
                        let status = match &e {
                            watcher::Error::InitialListFailed(kube::Error::Api(status))
                            | watcher::Error::WatchStartFailed(kube::Error::Api(status)) => {
                                Some(status.code)
                            }
                            _ => None,
                        };
                        // Stale until the next full list: readers LIST meanwhile.
                        flag.store(status == Some(404), Ordering::Release);
                        tracing::debug!(error = %e, what, "watch failed; retrying");
                        if matches!(status, Some(403 | 404)) {
                            tokio::time::sleep(SLOW_RETRY).await;
                        }
                    }
                }
            }
        });
        Self { store, fresh }
    }

    /// Every object, when the copy is fresh.
    pub fn objects(&self) -> Option<Vec<Arc<K>>> {
        self.fresh
            .load(Ordering::Acquire)
            .then(|| self.store.state())
    }
}
