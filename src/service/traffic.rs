//! Outgoing calls from Prometheus: read in the background, kept briefly per window, never
//! waited on for long. Without Prometheus, or when it fails, the answer says so and the pages
//! render the rest.

use super::{Actor, Answer};
use crate::cluster::EntrySnapshot;
use crate::domain::route::gateway_routes;
use crate::domain::traffic::{
    assemble, preview, select, through_gateways, Destination, EntryTraffic, GatewayRoute,
    NamespaceTraffic, PolicyPreview, RateSeries, Row, SortBy, TrafficPage, TrafficReport,
    TrafficStatus, Verdict, Window,
};
use crate::prometheus::{entry_rate, traffic_rows, Prometheus, PrometheusError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// How long an answer is served before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(5);
/// How long a page waits for a window's first answer before it renders "loading".
pub const FIRST_WAIT: Duration = Duration::from_millis(400);

/// What a read answers: its status and rows.
type Answered = (TrafficStatus, Arc<Vec<Row>>);

#[derive(Default)]
struct Slot {
    rows: Option<Arc<Vec<Row>>>,
    read_at: Option<Instant>,
    error: Option<PrometheusError>,
    refreshing: bool,
}

/// The traffic source of a server: a Prometheus (or none), and what it last answered.
#[derive(Clone, Default)]
pub struct Traffic {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    prometheus: Prometheus,
    first_wait: Duration,
    slots: Mutex<HashMap<Window, Slot>>,
    refreshed: Notify,
    joined: Mutex<HashMap<Window, Joined>>,
    /// The routes through egress gateways the last report was asked with.
    routes: Mutex<Vec<GatewayRoute>>,
}

/// A window's rows joined with the ServiceEntries: kept until either moves, since joining
/// means looking up every row's host among thousands of entries.
struct Joined {
    rows: Arc<Vec<Row>>,
    generation: u64,
    routes: Vec<GatewayRoute>,
    destinations: Arc<Vec<Destination>>,
}

impl Traffic {
    /// Traffic from `prometheus`, or none; a window's first read is waited for up to
    /// `first_wait` (pages: [`FIRST_WAIT`]; the command line: as long as a query may take).
    pub fn new(prometheus: Option<Prometheus>, first_wait: Duration) -> Self {
        Self {
            inner: prometheus.map(|prometheus| {
                Arc::new(Inner {
                    prometheus,
                    first_wait,
                    slots: Mutex::new(HashMap::new()),
                    refreshed: Notify::new(),
                    joined: Mutex::new(HashMap::new()),
                    routes: Mutex::new(Vec::new()),
                })
            }),
        }
    }

    /// The rows of a window and their status: from memory when fresh; otherwise a read starts
    /// in the background, and only the first read of a window is waited for, briefly.
    pub async fn rows(&self, window: Window) -> Answered {
        let Some(inner) = &self.inner else {
            return (TrafficStatus::NotConfigured, Arc::default());
        };
        let refreshed = inner.refreshed.notified();
        tokio::pin!(refreshed);
        refreshed.as_mut().enable();
        let (answer, start) = inner.look(window);
        if start {
            let inner = inner.clone();
            tokio::spawn(async move { inner.refresh(window).await });
        }
        if let Some(answer) = answer {
            return answer;
        }
        // Nothing read yet: wait for the first read, briefly, then render "loading".
        let _ = tokio::time::timeout(inner.first_wait, refreshed).await;
        inner.look(window).0.unwrap_or_else(|| {
            let source = inner.prometheus.address().to_string();
            (TrafficStatus::Loading { source }, Arc::default())
        })
    }

    /// Starts reading the default window in the background (at server start), so the first
    /// page has traffic to show.
    pub fn warm(&self) {
        let (Some(inner), Ok(runtime)) = (&self.inner, tokio::runtime::Handle::try_current())
        else {
            return;
        };
        if let (_, true) = inner.look(Window::default()) {
            let inner = inner.clone();
            runtime.spawn(async move { inner.refresh(Window::default()).await });
        }
    }

    /// The report of a window, joined with the ServiceEntries and the routes through egress
    /// gateways (joined again only when the rows, the entries or the routes moved).
    pub async fn report(
        &self,
        window: Window,
        entries: &EntrySnapshot,
        routes: Vec<GatewayRoute>,
    ) -> TrafficReport {
        if let Some(inner) = &self.inner {
            inner.route_through(&routes);
        }
        let (status, rows) = self.rows(window).await;
        let destinations = match &self.inner {
            Some(inner) => inner.joined(window, &rows, entries, routes),
            None => Arc::default(),
        };
        TrafficReport {
            window,
            status,
            destinations: destinations.as_ref().clone(),
        }
    }

    /// Calls per second to `hosts` over the window, or `None` when Prometheus has no answer.
    pub async fn rate(&self, hosts: &[String], window: Window) -> Option<RateSeries> {
        let inner = self.inner.as_ref()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        match entry_rate(&inner.prometheus, hosts, window, now).await {
            Ok(series) => Some(series),
            Err(e) => {
                tracing::debug!(error = %e, "no rate for the chart");
                None
            }
        }
    }
}

impl Inner {
    /// `rows` joined with `entries`, from the last join when neither moved since.
    fn joined(
        &self,
        window: Window,
        rows: &Arc<Vec<Row>>,
        entries: &EntrySnapshot,
        routes: Vec<GatewayRoute>,
    ) -> Arc<Vec<Destination>> {
        let mut joined = self.joined.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(kept) = joined.get(&window) {
            // A snapshot read by a LIST (generation 0) is never taken for another.
            if Arc::ptr_eq(&kept.rows, rows)
                && kept.generation == entries.generation
                && entries.generation != 0
                && kept.routes == routes
            {
                return kept.destinations.clone();
            }
        }
        let calls = through_gateways(rows, &routes);
        let destinations = Arc::new(assemble(&calls, &entries.entries));
        joined.insert(
            window,
            Joined {
                rows: rows.clone(),
                generation: entries.generation,
                routes,
                destinations: destinations.clone(),
            },
        );
        destinations
    }

    /// Remembers the routes through gateways; when they moved, every window is read again (the
    /// calls to the gateways are asked for by their Services).
    fn route_through(&self, routes: &[GatewayRoute]) {
        let mut kept = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if kept.as_slice() == routes {
            return;
        }
        *kept = routes.to_vec();
        drop(kept);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for slot in slots.values_mut() {
            slot.read_at = slot
                .read_at
                .map(|at| at.checked_sub(FRESH_FOR).unwrap_or(at));
        }
    }

    /// The egress gateways' Services the last report was asked with.
    fn gateway_hosts(&self) -> Vec<String> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut hosts: Vec<String> = routes.iter().map(GatewayRoute::service_host).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// What the slot holds (`None`: nothing yet), and whether a read should start.
    fn look(&self, window: Window) -> (Option<Answered>, bool) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.entry(window).or_default();
        let stale = slot.read_at.is_none_or(|at| at.elapsed() >= FRESH_FOR);
        let start = stale && !slot.refreshing;
        if start {
            slot.refreshing = true;
        }
        let source = self.prometheus.address().to_string();
        let answer = match (&slot.error, &slot.rows, slot.read_at) {
            (Some(e), _, Some(_)) => Some((
                TrafficStatus::Unavailable {
                    source,
                    reason: e.to_string(),
                },
                Arc::default(),
            )),
            (None, Some(rows), Some(at)) => Some((
                TrafficStatus::Fresh {
                    source,
                    seconds_ago: at.elapsed().as_secs(),
                },
                rows.clone(),
            )),
            _ => None,
        };
        (answer, start)
    }

    async fn refresh(&self, window: Window) {
        let result = traffic_rows(&self.prometheus, window, &self.gateway_hosts()).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, prometheus = self.prometheus.address(), "traffic not read");
        }
        {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let slot = slots.entry(window).or_default();
            slot.refreshing = false;
            slot.read_at = Some(Instant::now());
            match result {
                Ok(rows) => {
                    slot.rows = Some(Arc::new(rows));
                    slot.error = None;
                }
                Err(e) => slot.error = Some(e),
            }
        }
        self.refreshed.notify_waiters();
    }
}

/// Every external destination the actor may see callers of, in the window.
pub async fn traffic(actor: &Actor, window: Window) -> Answer<TrafficReport> {
    let entries = actor.mapped(actor.server.service_entry_snapshot().await)?;
    // Routing is read as the server (like the entries): the report is cut to what the actor
    // may see below.
    let routes = match actor.server.virtual_services().await {
        Ok(services) => gateway_routes(&services),
        Err(e) => {
            tracing::debug!(error = %e, "routes through egress gateways not read");
            Vec::new()
        }
    };
    let report = actor.traffic.report(window, &entries, routes).await;
    visible(actor, report).await
}

/// The traffic page: destinations matching `query` and `verdict`, sorted by `sort`.
pub async fn traffic_page(
    actor: &Actor,
    window: Window,
    query: &str,
    verdict: Option<Verdict>,
    sort: SortBy,
) -> Answer<TrafficPage> {
    let mut report = traffic(actor, window).await?;
    let total = report.destinations.len();
    report.destinations = select(&report.destinations, query, verdict.as_ref(), sort)
        .into_iter()
        .cloned()
        .collect();
    Ok(TrafficPage { report, total })
}

/// Cuts a report to the callers in namespaces the actor may list ServiceEntries in.
async fn visible(actor: &Actor, report: TrafficReport) -> Answer<TrafficReport> {
    if !actor.shared {
        return Ok(report);
    }
    // NB: collected first: an iterator of closures borrowing the report makes the server
    // function's future not general enough to be sent.
    let namespaces: Vec<String> = report
        .destinations
        .iter()
        .flat_map(|d| d.callers.iter().map(|c| c.namespace.clone()))
        .collect();
    let visible = actor.visible_namespaces(namespaces).await?;
    Ok(report.visible_to(&visible))
}

/// Calls to one ServiceEntry's hosts, per caller, with the rate over the window.
pub async fn entry_traffic(
    actor: &Actor,
    namespace: &str,
    name: &str,
    window: Window,
) -> Answer<EntryTraffic> {
    // NB: service_entry checks the namespace and name.
    let entry = super::service_entry(actor, namespace, name).await?;
    let report = traffic(actor, window).await?;
    let destinations: Vec<Destination> = report
        .for_entry(namespace, name)
        .into_iter()
        .cloned()
        .collect();
    let rate = match report.status {
        TrafficStatus::Fresh { .. } => actor.traffic.rate(&entry.view.hosts, window).await,
        _ => None,
    };
    Ok(EntryTraffic {
        status: report.status,
        window,
        destinations,
        rate,
    })
}

/// Calls per ServiceEntry (`namespace` empty: every namespace), and the namespace's calls to
/// unregistered hosts.
pub async fn namespace_traffic(
    actor: &Actor,
    namespace: &str,
    window: Window,
) -> Answer<NamespaceTraffic> {
    if !namespace.is_empty() {
        super::checked_key(namespace, None)?;
    }
    let report = traffic(actor, window).await?;
    let mut calls = BTreeMap::new();
    for d in &report.destinations {
        for e in &d.entries {
            if namespace.is_empty() || e.namespace == namespace {
                *calls
                    .entry(format!("{}/{}", e.namespace, e.name))
                    .or_insert(0.0) += d.calls();
            }
        }
    }
    let unregistered = if namespace.is_empty() {
        Vec::new()
    } else {
        report.unregistered_from(namespace)
    };
    Ok(NamespaceTraffic {
        status: report.status,
        window,
        calls_per_entry: calls,
        unregistered,
    })
}

/// What switching the mesh to REGISTRY_ONLY would block, from the traffic in the window.
pub async fn policy_preview(actor: &Actor, window: Window) -> Answer<PolicyPreview> {
    let report = traffic(actor, window).await?;
    let sidecars = actor.mapped(actor.server.sidecar_policies().await)?;
    let root = actor.server.istio_namespace().to_string();
    let preview = preview(window, &report.destinations, &root, &sidecars);
    Ok(PolicyPreview {
        status: report.status,
        preview,
    })
}
