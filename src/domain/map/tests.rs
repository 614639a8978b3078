use super::*;
use crate::domain::rollout::PendingCall;
use crate::domain::service_entry::{test_tls_port, test_view};
use crate::domain::traffic::{BlockedCall, CallProtocol, EntryRef};
use crate::domain::visibility::Reach;
use crate::domain::PolicySetting;

fn entry(namespace: &str, name: &str, hosts: &[&str], export_to: &[&str]) -> ServiceEntryView {
    ServiceEntryView {
        ports: vec![test_tls_port(443)],
        ..test_view(namespace, name, hosts, export_to)
    }
}

fn call(namespace: &str, host: Option<&str>, today: Verdict, after: Reach) -> PendingCall {
    PendingCall {
        call: BlockedCall {
            namespace: namespace.into(),
            workload: "app".into(),
            host: host.map(str::to_string),
            port: "443".into(),
            protocol: CallProtocol::Tcp,
            calls: 10.0,
        },
        today,
        after,
        warning: None,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn edge<'a>(map: &'a ReachabilityMap, namespace: &str, host: &str) -> Option<&'a MapEdge> {
    let from = map.namespaces.iter().position(|n| n.filter == namespace)?;
    let to = map.hosts.iter().position(|h| h.filter == host)?;
    map.edges.iter().find(|e| e.from == from && e.to == to)
}

#[test]
fn edges_follow_visibility_and_calls() {
    let stripe = entry("payments", "stripe", &["api.stripe.com"], &["."]);
    let github = entry("shared", "github", &["api.github.com"], &[]);
    let entries = [&stripe, &github];
    let narrow = SidecarPolicy {
        namespace: "shop".into(),
        name: "default".into(),
        has_workload_selector: false,
        setting: PolicySetting::NotSet,
        recorded: false,
        egress_hosts: Some(vec!["./*".into()]),
    };
    let calls = [
        call(
            "web",
            Some("example.com"),
            Verdict::Passthrough,
            Reach::Unregistered,
        ),
        call(
            "shop",
            Some("evil.example"),
            Verdict::Blocked,
            Reach::Unregistered,
        ),
        call(
            "payments",
            Some("api.stripe.com"),
            Verdict::Registered,
            Reach::Registered {
                entry: EntryRef {
                    namespace: "payments".into(),
                    name: "stripe".into(),
                },
            },
        ),
    ];
    let namespaces = names(&["payments", "shop", "web"]);
    let map = reachability_map(MapParts {
        namespaces: &namespaces,
        entries: &entries,
        sidecars: &[narrow],
        root_namespace: "istio-system",
        calls: &calls,
        namespace_filter: "",
        host_filter: "",
    });
    assert_eq!(
        edge(&map, "payments", "api.stripe.com").map(|e| e.kind),
        Some(EdgeKind::Called)
    );
    assert!(
        edge(&map, "web", "api.stripe.com").is_none(),
        "exported to its namespace only"
    );
    assert_eq!(
        edge(&map, "web", "api.github.com").map(|e| e.kind),
        Some(EdgeKind::Allowed)
    );
    assert!(
        edge(&map, "shop", "api.github.com").is_none(),
        "its Sidecar does not import it"
    );
    assert_eq!(
        edge(&map, "web", "example.com").map(|e| e.kind),
        Some(EdgeKind::WouldBeBlocked)
    );
    assert_eq!(
        edge(&map, "shop", "evil.example").map(|e| e.kind),
        Some(EdgeKind::Blocked)
    );

    let filtered = reachability_map(MapParts {
        namespaces: &namespaces,
        entries: &entries,
        sidecars: &[],
        root_namespace: "istio-system",
        calls: &calls,
        namespace_filter: "web",
        host_filter: "github",
    });
    assert_eq!(filtered.totals, (1, 1));
    assert_eq!(filtered.edges.len(), 1);
}

#[test]
fn thousands_of_hosts_are_grouped_and_counted() {
    let views: Vec<ServiceEntryView> = (0..5_000)
        .map(|i| {
            let host = format!("api{i}.vendor{}.com", i % 300);
            entry(
                &format!("team{}-ns{}", i % 10, i % 250),
                &format!("e{i}"),
                &[host.as_str()],
                &[],
            )
        })
        .collect();
    let entries: Vec<&ServiceEntryView> = views.iter().collect();
    let namespaces: Vec<String> = (0..250).map(|i| format!("team{}-ns{i}", i % 10)).collect();
    let map = reachability_map(MapParts {
        namespaces: &namespaces,
        entries: &entries,
        sidecars: &[],
        root_namespace: "istio-system",
        calls: &[],
        namespace_filter: "",
        host_filter: "",
    });
    assert!(map.namespaces.len() <= NODES_PER_SIDE && map.hosts.len() <= NODES_PER_SIDE);
    assert_eq!(map.namespaces.iter().map(|n| n.members).sum::<usize>(), 250);
    assert_eq!(map.hosts.iter().map(|h| h.members).sum::<usize>(), 5_000);
    assert_eq!(map.totals, (250, 5_000));
    assert!(
        map.hosts
            .iter()
            .any(|h| h.label.ends_with("more hosts (filter to see them)")),
        "{:?}",
        map.hosts.last()
    );
    let pairs: usize = map.edges.iter().flat_map(|e| e.pairs.values()).sum();
    assert_eq!(
        pairs,
        250 * 5_000,
        "every namespace reaches every host exported everywhere"
    );
    assert_eq!(map.namespaces[0].label, "team0-* (25)");
}
