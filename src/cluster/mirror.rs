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
        let writer = reflector::store::Writer::new(dyntype);
        let store = writer.as_reader();
        let fresh = Arc::new(AtomicBool::new(false));
        let flag = fresh.clone();
        tokio::spawn(async move {
            let stream = watcher(api, watcher::Config::default())
                .backoff(QuickBackoff::default())
                .modify(project)
                .reflect(writer);
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::InitDone) => flag.store(true, Ordering::Release),
                    Ok(_) => {}
                    Err(e) => {
                        // Stale until the next full list: readers LIST meanwhile.
                        flag.store(false, Ordering::Release);
                        tracing::debug!(error = %e, what, "watch failed; retrying");
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
