//! The reachability map: namespaces on one side, external hosts on the other, an edge where a
//! namespace reaches a host — registered and visible to it, or called in the window — styled by
//! verdict. Past a few dozen nodes a side, hosts are grouped by domain and namespaces by the
//! prefix of their name (then the smallest groups folded into one), so it stays legible at
//! hundreds of namespaces and thousands of hosts; a filter drills down.

use super::rollout::PendingCall;
use super::service_entry::ServiceEntryView;
use super::sidecar::SidecarPolicy;
use super::traffic::Verdict;
use super::visibility::{deciding_sidecar, exported_to, imported};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Nodes a side shows before grouping.
pub const NODES_PER_SIDE: usize = 40;

/// How a namespace reaches a host, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EdgeKind {
    /// Called in the window and blocked today.
    Blocked,
    /// Called in the window, passing through today; REGISTRY_ONLY would block it.
    WouldBeBlocked,
    /// Called in the window, to a registered host it can see.
    Called,
    /// Registered and visible to it; not called in the window.
    Allowed,
}

impl EdgeKind {
    /// The word the legend and the CSS class use.
    pub fn word(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::WouldBeBlocked => "would-be-blocked",
            Self::Called => "called",
            Self::Allowed => "allowed",
        }
    }
}

/// One node: a namespace or host, or a group of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapNode {
    /// What it shows (`payments`, `stripe.com`, `team-* (12)`).
    pub label: String,
    /// What a click filters on.
    pub filter: String,
    /// How many namespaces or hosts it stands for.
    pub members: usize,
}

/// One edge between a namespace node and a host node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapEdge {
    /// Index into `namespaces`.
    pub from: usize,
    /// Index into `hosts`.
    pub to: usize,
    /// The worst verdict among the pairs it stands for.
    pub kind: EdgeKind,
    /// How many namespace-host pairs it stands for, per verdict.
    pub pairs: BTreeMap<EdgeKind, usize>,
    /// Calls in the window.
    pub calls: f64,
}

/// The map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachabilityMap {
    /// The namespace side.
    pub namespaces: Vec<MapNode>,
    /// The host side.
    pub hosts: Vec<MapNode>,
    /// The edges.
    pub edges: Vec<MapEdge>,
    /// Namespaces and hosts before grouping (after the filter).
    pub totals: (usize, usize),
}

/// What the map is drawn from.
pub struct MapParts<'a> {
    /// The namespaces the user may see.
    pub namespaces: &'a [String],
    /// Every ServiceEntry.
    pub entries: &'a [&'a ServiceEntryView],
    /// Every Sidecar.
    pub sidecars: &'a [SidecarPolicy],
    /// Istio's root namespace.
    pub root_namespace: &'a str,
    /// Every call in the window with its verdicts.
    pub calls: &'a [PendingCall],
    /// Only namespaces whose name contains this (empty: all).
    pub namespace_filter: &'a str,
    /// Only hosts that contain this (empty: all).
    pub host_filter: &'a str,
}

const UNKNOWN_HOST: &str = "unknown host";

/// The domain a host is grouped under: its last two labels (`api.stripe.com` → `stripe.com`).
fn domain(host: &str) -> String {
    let host = host.trim_start_matches("*.");
    if host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return host.to_string();
    }
    let mut labels = host.rsplit('.');
    match (labels.next(), labels.next()) {
        (Some(top), Some(name)) => format!("{name}.{top}"),
        _ => host.to_string(),
    }
}

/// The prefix a namespace is grouped under: up to its first `-`.
fn prefix(namespace: &str) -> String {
    match namespace.split_once('-') {
        Some((head, _)) => format!("{head}-*"),
        None => namespace.to_string(),
    }
}

/// One side's nodes: each item as itself, or grouped, then the smallest groups folded.
struct Side {
    nodes: Vec<MapNode>,
    index: HashMap<String, usize>,
}

impl Side {
    fn new(items: &[String], group: fn(&str) -> String, what: &str) -> Self {
        let grouped = items.len() > NODES_PER_SIDE;
        let mut groups: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for item in items {
            let key = if grouped { group(item) } else { item.clone() };
            groups.entry(key).or_default().push(item);
        }
        let mut groups: Vec<(String, Vec<&String>)> = groups.into_iter().collect();
        let mut folded = None;
        if groups.len() > NODES_PER_SIDE {
            groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
            let rest: Vec<&String> = groups
                .split_off(NODES_PER_SIDE - 1)
                .into_iter()
                .flat_map(|(_, members)| members)
                .collect();
            groups.sort_by(|a, b| a.0.cmp(&b.0));
            folded = Some(rest);
        }
        let mut nodes = Vec::with_capacity(groups.len() + 1);
        let mut index = HashMap::with_capacity(items.len());
        for (key, members) in groups {
            let (label, filter) = match members.as_slice() {
                [only] => ((*only).clone(), (*only).clone()),
                _ => (
                    format!("{key} ({})", members.len()),
                    key.trim_end_matches('*').to_string(),
                ),
            };
            for member in &members {
                index.insert((*member).clone(), nodes.len());
            }
            nodes.push(MapNode {
                label,
                filter,
                members: members.len(),
            });
        }
        // The smallest groups, in one node: the filter shows them.
        if let Some(rest) = folded {
            for member in &rest {
                index.insert((*member).clone(), nodes.len());
            }
            nodes.push(MapNode {
                label: format!("{} more {what} (filter to see them)", rest.len()),
                filter: String::new(),
                members: rest.len(),
            });
        }
        Self { nodes, index }
    }
}

/// Draws the map.
pub fn reachability_map(parts: MapParts) -> ReachabilityMap {
    let namespaces: Vec<String> = parts
        .namespaces
        .iter()
        .filter(|n| parts.namespace_filter.is_empty() || n.contains(parts.namespace_filter))
        .cloned()
        .collect();
    let hosts = shown_hosts(&parts);
    let sides = Sides {
        namespaces: Side::new(&namespaces, prefix, "namespaces"),
        hosts: Side::new(&hosts, domain, "hosts"),
    };
    let mut edges = Edges::default();
    allowed_edges(&parts, &namespaces, &sides, &mut edges);
    called_edges(&parts, &sides, &mut edges);
    let mut edges: Vec<MapEdge> = edges.0.into_values().collect();
    edges.sort_by_key(|e| (e.from, e.to));
    ReachabilityMap {
        namespaces: sides.namespaces.nodes,
        hosts: sides.hosts.nodes,
        edges,
        totals: (namespaces.len(), hosts.len()),
    }
}

/// The hosts on the map: every registered host and every host called, that the filter keeps,
/// sorted, once each.
fn shown_hosts(parts: &MapParts) -> Vec<String> {
    let host_ok = |h: &str| parts.host_filter.is_empty() || h.contains(parts.host_filter);
    let mut hosts: Vec<String> = parts
        .entries
        .iter()
        .flat_map(|e| e.hosts.iter().map(|h| h.to_ascii_lowercase()))
        .chain(parts.calls.iter().map(called_host))
        .filter(|h| host_ok(h))
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

/// The host a call went to, or the unknown host's node.
fn called_host(call: &PendingCall) -> String {
    call.call
        .host
        .clone()
        .unwrap_or_else(|| UNKNOWN_HOST.to_string())
}

/// Both sides of the map.
struct Sides {
    namespaces: Side,
    hosts: Side,
}

/// The edges so far, by (namespace node, host node).
#[derive(Default)]
struct Edges(HashMap<(usize, usize), MapEdge>);

impl Edges {
    /// Adds `pairs` namespace–host pairs of `kind` (and `calls`) to the edge between two nodes;
    /// an edge takes the strongest kind among its pairs.
    fn add(&mut self, from: usize, to: usize, kind: EdgeKind, pairs: usize, calls: f64) {
        let edge = self.0.entry((from, to)).or_insert_with(|| MapEdge {
            from,
            to,
            kind,
            pairs: BTreeMap::new(),
            calls: 0.0,
        });
        edge.kind = edge.kind.min(kind);
        *edge.pairs.entry(kind).or_default() += pairs;
        edge.calls += calls;
    }
}

/// The edges of what each namespace may reach: every registered host it can see. Namespaces
/// whose Sidecar imports everything see every entry exported to them, counted per group of
/// nodes; the others are asked one by one.
fn allowed_edges(parts: &MapParts, namespaces: &[String], sides: &Sides, edges: &mut Edges) {
    let importing: HashMap<&str, Option<&Vec<String>>> = namespaces
        .iter()
        .map(|n| {
            let hosts = deciding_sidecar(parts.sidecars, n, parts.root_namespace)
                .and_then(|s| s.egress_hosts.as_ref());
            (n.as_str(), hosts)
        })
        .collect();
    let mut open_per_node = vec![0usize; sides.namespaces.nodes.len()];
    let mut narrow: Vec<(&str, usize, &Vec<String>)> = Vec::new();
    for n in namespaces {
        let Some(&node) = sides.namespaces.index.get(n) else {
            continue;
        };
        match importing.get(n.as_str()).copied().flatten() {
            None => open_per_node[node] += 1,
            Some(patterns) => narrow.push((n, node, patterns)),
        }
    }
    let mut everywhere_per_node = vec![0usize; sides.hosts.nodes.len()];
    for entry in parts.entries {
        let everywhere = entry.export_to.is_empty() || entry.export_to.iter().any(|e| e == "*");
        for host in &entry.hosts {
            let host = host.to_ascii_lowercase();
            let Some(&to) = sides.hosts.index.get(&host) else {
                continue;
            };
            if everywhere {
                // Counted per host node: added once per pair of nodes below.
                everywhere_per_node[to] += 1;
                for (n, from, patterns) in &narrow {
                    if imported(patterns, &entry.namespace, &host, n) {
                        edges.add(*from, to, EdgeKind::Allowed, 1, 0.0);
                    }
                }
                continue;
            }
            for n in namespaces {
                if !exported_to(entry, n) {
                    continue;
                }
                let seen = match importing.get(n.as_str()).copied().flatten() {
                    None => true,
                    Some(patterns) => imported(patterns, &entry.namespace, &host, n),
                };
                if let (true, Some(&from)) = (seen, sides.namespaces.index.get(n)) {
                    edges.add(from, to, EdgeKind::Allowed, 1, 0.0);
                }
            }
        }
    }
    for (to, hosts) in everywhere_per_node.iter().enumerate() {
        for (from, namespaces) in open_per_node.iter().enumerate() {
            if *hosts > 0 && *namespaces > 0 {
                edges.add(from, to, EdgeKind::Allowed, hosts * namespaces, 0.0);
            }
        }
    }
}

/// The edges of the calls in the window, each with its verdict today and under REGISTRY_ONLY.
fn called_edges(parts: &MapParts, sides: &Sides, edges: &mut Edges) {
    for call in parts.calls {
        let host = called_host(call);
        let (Some(&from), Some(&to)) = (
            sides.namespaces.index.get(&call.call.namespace),
            sides.hosts.index.get(&host),
        ) else {
            continue;
        };
        let kind = match (&call.today, call.after.allowed()) {
            (Verdict::Blocked, _) => EdgeKind::Blocked,
            (_, false) => EdgeKind::WouldBeBlocked,
            (_, true) => EdgeKind::Called,
        };
        edges.add(from, to, kind, 1, call.call.calls);
    }
}

#[cfg(test)]
mod tests;
