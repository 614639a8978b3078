//! The ServiceEntry cache every page reads: a watch keeps one view per ServiceEntry (the
//! projection the pages need, not the object), and readers get a sorted snapshot, built once
//! per change rather than once per request, with what each namespace registers.

use super::service_entries::{view_of, QuickBackoff};
use super::{Cluster, ClusterError};
use crate::domain::overview::Registered;
use crate::domain::service_entry::ServiceEntryView;
use crate::domain::LiveStatus;
use futures::StreamExt;
use kube::api::{Api, ListParams};
use kube::core::{ApiResource, DynamicObject};
use kube::runtime::{watcher, WatchStreamExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// How long a request waits for the watch's first list before it LISTs by itself.
const FIRST_LIST_WAIT: Duration = Duration::from_secs(5);

/// ServiceEntries per page of the watch's full list (kube's default: 500). NB: a page is held
/// as whole objects, managedFields included, until its views are made; 500 of them were the
/// largest allocation of the server's start.
const LIST_PAGE: u32 = 100;

/// A namespace and a name.
type Key = (String, String);

/// Every view of a snapshot with its age, in the snapshot's order.
pub type Aged = Arc<Vec<Arc<ServiceEntryView>>>;

/// Every ServiceEntry at one moment, sorted by namespace and name (ages not filled in:
/// `ServiceEntryView::aged` does that for what is shown), and what each namespace registers.
#[derive(Debug, Default)]
pub struct EntrySnapshot {
    /// Grows with every change the watch saw; 0 for a snapshot read by a LIST.
    pub generation: u64,
    /// The views, sorted.
    pub entries: Vec<Arc<ServiceEntryView>>,
    /// Per namespace: how many ServiceEntries, and their hosts.
    pub registered: Arc<BTreeMap<String, Registered>>,
    /// Every view with its age, as of the second it was made for.
    aged: Mutex<Option<(i64, Aged)>>,
}

impl EntrySnapshot {
    fn of(generation: u64, mut entries: Vec<Arc<ServiceEntryView>>) -> Self {
        entries.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let mut registered: BTreeMap<String, Registered> = BTreeMap::new();
        for entry in &entries {
            let here = registered.entry(entry.namespace.clone()).or_default();
            here.service_entries += 1;
            here.hosts.extend(entry.hosts.iter().cloned());
        }
        Self {
            generation,
            entries,
            registered: Arc::new(registered),
            aged: Mutex::default(),
        }
    }

    /// Every view with its age as of `now` (seconds since the epoch): made once per second
    /// at most, and shared by the requests of that second (ages move by the second at most).
    /// A view whose age reads the same as the second before is kept, not copied again: only
    /// the first call copies every view.
    pub fn aged(&self, now: i64) -> Aged {
        let mut aged = self.aged.lock().unwrap_or_else(|p| p.into_inner());
        let before = match aged.take() {
            Some((at, views)) if at == now => {
                *aged = Some((at, views.clone()));
                return views;
            }
            kept => kept.map(|(_, views)| views),
        };
        let views: Aged = Arc::new(
            self.entries
                .iter()
                .enumerate()
                .map(|(i, entry)| {
                    let age = entry.age_at(now);
                    match before.as_ref().and_then(|b| b.get(i)) {
                        Some(kept) if kept.age == age => kept.clone(),
                        _ => Arc::new(ServiceEntryView {
                            age,
                            ..ServiceEntryView::clone(entry)
                        }),
                    }
                })
                .collect(),
        );
        *aged = Some((now, views.clone()));
        views
    }

    /// The entries of one namespace (all when `namespace` is empty).
    pub fn in_namespace<'a>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Arc<ServiceEntryView>> + 'a {
        // Sorted by namespace: one namespace is a contiguous run.
        let start = match namespace {
            "" => 0,
            ns => self.entries.partition_point(|e| e.namespace.as_str() < ns),
        };
        self.entries[start..]
            .iter()
            .take_while(move |e| namespace.is_empty() || e.namespace == namespace)
    }
}

struct Views {
    by_key: HashMap<Key, Arc<ServiceEntryView>>,
    /// Moves with every change to `by_key`.
    generation: u64,
}

/// The watch-fed cache: the views, the snapshot of the current generation, and the live
/// status pushed to pages.
#[derive(Clone)]
pub struct ServiceEntryCache {
    views: Arc<RwLock<Views>>,
    snapshot: Arc<Mutex<Arc<EntrySnapshot>>>,
    status: watch::Receiver<LiveStatus>,
}

fn key_of(object: &DynamicObject) -> Key {
    (
        object.metadata.namespace.clone().unwrap_or_default(),
        object.metadata.name.clone().unwrap_or_default(),
    )
}

impl ServiceEntryCache {
    /// The live status (for server push).
    pub fn subscribe(&self) -> watch::Receiver<LiveStatus> {
        self.status.clone()
    }

    /// How many ServiceEntries the cache holds.
    pub fn len(&self) -> usize {
        self.views.read().map(|v| v.by_key.len()).unwrap_or(0)
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The snapshot of the current generation, once the first list has arrived: the one
    /// already built when nothing changed since.
    fn snapshot(&self) -> Option<Arc<EntrySnapshot>> {
        if !self.status.borrow().synced {
            return None;
        }
        let mut kept = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        let views = self.views.read().unwrap_or_else(|p| p.into_inner());
        if kept.generation != views.generation {
            let entries = views.by_key.values().cloned().collect();
            *kept = Arc::new(EntrySnapshot::of(views.generation, entries));
        }
        Some(kept.clone())
    }

    fn replace_all(&self, by_key: HashMap<Key, Arc<ServiceEntryView>>) {
        let mut views = self.views.write().unwrap_or_else(|p| p.into_inner());
        views.by_key = by_key;
        views.generation += 1;
    }

    fn apply(&self, object: &DynamicObject) {
        let mut views = self.views.write().unwrap_or_else(|p| p.into_inner());
        views
            .by_key
            .insert(key_of(object), Arc::new(view_of(object)));
        views.generation += 1;
    }

    fn delete(&self, object: &DynamicObject) {
        let mut views = self.views.write().unwrap_or_else(|p| p.into_inner());
        views.by_key.remove(&key_of(object));
        views.generation += 1;
    }
}

impl Cluster {
    /// Starts the watch that feeds the cache, and keeps it running (with backoff) for the
    /// life of the process. Pages get the live status through [`ServiceEntryCache::subscribe`].
    pub fn start_service_entry_cache(
        &self,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> ServiceEntryCache {
        let (sender, receiver) = watch::channel(LiveStatus::default());
        let cache = ServiceEntryCache {
            views: Arc::new(RwLock::new(Views {
                by_key: HashMap::new(),
                generation: 1,
            })),
            snapshot: Arc::default(),
            status: receiver,
        };
        let _ = self.cache.set(cache.clone());
        let cluster = self.clone();
        let writer = cache.clone();
        tokio::spawn(async move {
            let resource: ApiResource = loop {
                match cluster.service_entry_resource().await {
                    Ok(resource) => break resource,
                    Err(e) => {
                        sender.send_modify(|s| {
                            s.connected = false;
                            s.error = Some(e.to_string());
                        });
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            };
            let api = Api::<DynamicObject>::all_with(cluster.watch_client.clone(), &resource);
            let config = watcher::Config::default().page_size(LIST_PAGE);
            let stream = watcher(api, config).backoff(QuickBackoff::default());
            futures::pin_mut!(stream);
            // A full list (at start, and after the watch lost its place) is gathered aside and
            // replaces the views at once when complete.
            let mut listing: Option<HashMap<Key, Arc<ServiceEntryView>>> = None;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(event) => {
                        let moved = match &event {
                            watcher::Event::Init => {
                                listing = Some(HashMap::new());
                                false
                            }
                            watcher::Event::InitApply(object) => {
                                if let Some(listing) = &mut listing {
                                    listing.insert(key_of(object), Arc::new(view_of(object)));
                                }
                                false
                            }
                            watcher::Event::InitDone => {
                                writer.replace_all(listing.take().unwrap_or_default());
                                true
                            }
                            watcher::Event::Apply(object) => {
                                writer.apply(object);
                                true
                            }
                            watcher::Event::Delete(object) => {
                                writer.delete(object);
                                true
                            }
                        };
                        sender.send_if_modified(|s| {
                            let changed = moved || !s.connected;
                            s.connected = true;
                            s.error = None;
                            if matches!(event, watcher::Event::InitDone) {
                                s.synced = true;
                            }
                            if moved {
                                s.generation += 1;
                            }
                            changed
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ServiceEntry watch failed; retrying");
                        metrics.apiserver_error();
                        let message = match &e {
                            watcher::Error::InitialListFailed(source)
                            | watcher::Error::WatchStartFailed(source)
                            | watcher::Error::WatchFailed(source) => {
                                ClusterError::from_kube(&cluster.server, source).to_string()
                            }
                            other => other.to_string(),
                        };
                        sender.send_if_modified(|s| {
                            let changed =
                                s.connected || s.error.as_deref() != Some(message.as_str());
                            s.connected = false;
                            s.error = Some(message.clone());
                            changed
                        });
                    }
                }
            }
        });
        cache
    }

    /// Every ServiceEntry, from the cache when it runs (no request to the API server), else
    /// with one LIST.
    pub async fn service_entry_snapshot(&self) -> Result<Arc<EntrySnapshot>, ClusterError> {
        if let Some(cache) = self.cache.get() {
            // A page opened right at start waits briefly for the first list (or the watch's
            // first failure), then falls back to one LIST.
            let mut status = cache.status.clone();
            let settled = tokio::time::timeout(
                FIRST_LIST_WAIT,
                status.wait_for(|s| s.synced || (!s.connected && s.error.is_some())),
            )
            .await
            .is_ok_and(|answer| answer.is_ok());
            if settled {
                if let Some(snapshot) = cache.snapshot() {
                    return Ok(snapshot);
                }
            }
        }
        let resource = self.service_entry_resource().await?;
        let list = Api::<DynamicObject>::all_with(self.client.clone(), &resource)
            .list(&ListParams::default())
            .await
            .map_err(|e| self.err(e))?;
        let entries = list.items.iter().map(|o| Arc::new(view_of(o))).collect();
        Ok(Arc::new(EntrySnapshot::of(0, entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::service_entry::view_from_spec;
    use serde_json::json;

    fn view(namespace: &str, name: &str, host: &str, created_at: i64) -> Arc<ServiceEntryView> {
        let created = Some(("2026-11-27T00:00:00Z".to_string(), created_at));
        let spec = json!({"hosts": [host]});
        Arc::new(view_from_spec(namespace, name, created, created_at, &spec))
    }

    fn snapshot() -> EntrySnapshot {
        EntrySnapshot::of(
            7,
            vec![
                view("b", "two", "two.example.com", 1000),
                view("a", "one", "one.example.com", 1000),
                view("c", "four", "shared.example.com", 1000),
                view("b", "three", "shared.example.com", 1000),
                view("c", "five", "shared.example.com", 1000),
            ],
        )
    }

    #[test]
    fn a_namespace_is_its_run_of_the_sorted_entries() {
        let snapshot = snapshot();
        let names = |ns: &str| -> Vec<String> {
            snapshot
                .in_namespace(ns)
                .map(|e| format!("{}/{}", e.namespace, e.name))
                .collect()
        };
        assert_eq!(names("b"), ["b/three", "b/two"]);
        assert_eq!(names("c"), ["c/five", "c/four"]);
        assert_eq!(names("a"), ["a/one"]);
        assert!(names("bb").is_empty() && names("0").is_empty() && names("z").is_empty());
        assert_eq!(names("").len(), 5, "no namespace: all of them");
        assert_eq!(names("")[0], "a/one");
    }

    #[test]
    fn registered_counts_entries_and_distinct_hosts_per_namespace() {
        let snapshot = snapshot();
        let c = &snapshot.registered["c"];
        assert_eq!(c.service_entries, 2);
        assert_eq!(c.hosts.len(), 1, "{:?}", c.hosts);
        assert_eq!(snapshot.registered["b"].hosts.len(), 2);
        assert!(!snapshot.registered.contains_key("d"));
    }

    #[test]
    fn ages_are_made_once_per_second() {
        let snapshot = snapshot();
        let first = snapshot.aged(1090);
        assert_eq!(first[0].age.as_deref(), Some("90s"));
        assert!(
            Arc::ptr_eq(&first, &snapshot.aged(1090)),
            "same second: shared"
        );
        let later = snapshot.aged(1000 + 3 * 3600);
        assert_eq!(later[0].age.as_deref(), Some("3h"));
        assert_eq!(later.len(), 5);
        // A second later the ages read the same: the views are kept, not copied.
        let next = snapshot.aged(1001 + 3 * 3600);
        assert_eq!(next[0].age.as_deref(), Some("3h"));
        assert!(Arc::ptr_eq(&later[0], &next[0]), "same age: the same view");
    }
}
