use super::*;
use crate::domain::service_entry::{PortView, ServiceEntryView};
use crate::domain::sidecar::SidecarPolicy;
use crate::domain::{OutboundPolicyMode, PolicySetting};

/// No ServiceEntries at all.
const NO_ENTRIES: &[ServiceEntryView] = &[];

fn row(kind: RowKind, from: &str, service: &str, name: &str, value: f64) -> Row {
    let (ns, wl) = from.split_once('/').unwrap_or(("", ""));
    Row {
        kind,
        source_namespace: ns.into(),
        source_workload: wl.into(),
        destination_service: service.into(),
        destination_service_name: name.into(),
        destination_workload: "unknown".into(),
        response_code: if kind == RowKind::Requests {
            "200".into()
        } else {
            String::new()
        },
        value,
        ..Row::default()
    }
}

fn entry(ns: &str, name: &str, hosts: &[&str], export_to: &[&str]) -> ServiceEntryView {
    crate::domain::service_entry::test_view(ns, name, hosts, export_to)
}

fn tcp_port(number: i64) -> PortView {
    crate::domain::service_entry::test_tls_port(number)
}

#[test]
fn each_kind_of_destination_is_told_apart() {
    let rows = vec![
        row(
            RowKind::Requests,
            "smm-demo/notifications-v1",
            "httpbin.org",
            "httpbin.org",
            30.0,
        ),
        row(
            RowKind::Requests,
            "smm-demo/notifications-v1",
            "example.com:8080",
            "PassthroughCluster",
            5.0,
        ),
        row(
            RowKind::Connections,
            "payments/checkout",
            "unknown",
            "PassthroughCluster",
            7.0,
        ),
        row(
            RowKind::Requests,
            "data/etl",
            "blocked.example",
            "BlackHoleCluster",
            3.0,
        ),
        row(
            RowKind::Connections,
            "payments/checkout",
            "api.stripe.com",
            "api.stripe.com",
            9.0,
        ),
    ];
    let mut stripe = entry("payments", "stripe", &["api.stripe.com"], &["."]);
    stripe.ports = vec![tcp_port(443)];
    let entries = vec![entry("smm-demo", "httpbin", &["httpbin.org"], &[]), stripe];
    let d = assemble(&rows, &entries);
    let find = |host: Option<&str>| {
        d.iter()
            .find(|d| d.host.as_deref() == host)
            .expect("destination")
    };
    let httpbin = find(Some("httpbin.org"));
    assert_eq!(httpbin.verdict, Verdict::Registered);
    assert_eq!(
        httpbin.entries,
        vec![EntryRef {
            namespace: "smm-demo".into(),
            name: "httpbin".into()
        }]
    );
    assert_eq!(httpbin.callers[0].name(), "smm-demo/notifications-v1");
    assert_eq!(httpbin.callers[0].requests, 30.0);

    let example = find(Some("example.com"));
    assert_eq!(
        (example.verdict.clone(), example.port),
        (Verdict::Passthrough, Some(8080)),
        "the Host header's port is the port"
    );
    let unnamed = find(None);
    assert_eq!(
        (unnamed.verdict.clone(), unnamed.protocol),
        (Verdict::Passthrough, CallProtocol::Tcp)
    );
    assert_eq!(unnamed.host_label(), "unknown host");
    assert_eq!(find(Some("blocked.example")).verdict, Verdict::Blocked);
    assert_eq!(find(Some("api.stripe.com")).callers[0].connections, 9.0);
    assert_eq!(
        find(Some("api.stripe.com")).port,
        Some(443),
        "the entry's only TCP port"
    );
    assert_eq!(
        d[0].host.as_deref(),
        Some("httpbin.org"),
        "the busiest destination first"
    );
}

#[test]
fn pods_called_by_address_and_services_inside_the_mesh_are_not_external() {
    let mut pod = row(
        RowKind::Connections,
        "payments/checkout",
        "unknown",
        "PassthroughCluster",
        4.0,
    );
    pod.destination_workload = "ledger".into();
    let inside = row(
        RowKind::Requests,
        "payments/checkout",
        "reviews.shop.svc.cluster.local",
        "reviews",
        8.0,
    );
    let quiet = row(
        RowKind::Requests,
        "payments/checkout",
        "example.com",
        "PassthroughCluster",
        0.0,
    );
    assert!(assemble(&[pod, inside, quiet], NO_ENTRIES).is_empty());
}

#[test]
fn errors_and_bytes_add_up_per_caller() {
    let mut failed = row(RowKind::Requests, "a/w", "httpbin.org", "httpbin.org", 2.0);
    failed.response_code = "503".into();
    let rows = vec![
        row(RowKind::Requests, "a/w", "httpbin.org", "httpbin.org", 8.0),
        failed,
        row(RowKind::SentBytes, "b/x", "db.example", "db.example", 100.0),
        row(
            RowKind::ReceivedBytes,
            "b/x",
            "db.example",
            "db.example",
            400.0,
        ),
        row(RowKind::Connections, "b/x", "db.example", "db.example", 2.0),
    ];
    let entries = vec![
        entry("a", "httpbin", &["httpbin.org"], &[]),
        entry("b", "db", &["db.example"], &[]),
    ];
    let d = assemble(&rows, &entries);
    let httpbin = d
        .iter()
        .find(|d| d.host.as_deref() == Some("httpbin.org"))
        .expect("httpbin");
    assert!((httpbin.error_rate() - 0.2).abs() < 1e-9);
    let db = d
        .iter()
        .find(|d| d.host.as_deref() == Some("db.example"))
        .expect("db");
    assert_eq!((db.calls(), db.bytes()), (2.0, 500.0));
}

#[test]
fn a_registered_host_joins_the_entry_exported_to_the_caller() {
    let rows = vec![row(
        RowKind::Requests,
        "team-b/api",
        "shared.example",
        "shared.example",
        1.0,
    )];
    let entries = vec![
        entry("team-a", "private", &["shared.example"], &["."]),
        entry("team-b", "own", &["shared.example"], &["."]),
    ];
    let d = assemble(&rows, &entries);
    assert_eq!(
        d[0].entries,
        vec![EntryRef {
            namespace: "team-b".into(),
            name: "own".into()
        }]
    );
}

#[test]
fn unnamed_passthrough_tcp_warns_about_resolution_none_entries() {
    let mut none = entry("legacy", "raw-tcp", &["db.internal"], &[]);
    none.resolution = "NONE".into();
    none.ports = vec![tcp_port(5432)];
    let rows = vec![row(
        RowKind::Connections,
        "a/w",
        "unknown",
        "PassthroughCluster",
        1.0,
    )];
    let d = assemble(&rows, &[none]);
    assert!(d[0]
        .note
        .as_deref()
        .is_some_and(|n| n.contains("legacy/raw-tcp") && n.contains("istio#38018")));
}

#[test]
fn the_preview_blocks_passthrough_calls_where_the_mesh_decides() {
    let rows = vec![
        row(
            RowKind::Requests,
            "open/web",
            "example.com",
            "PassthroughCluster",
            10.0,
        ),
        row(
            RowKind::Connections,
            "open/web",
            "unknown",
            "PassthroughCluster",
            4.0,
        ),
        row(
            RowKind::Requests,
            "kept/web",
            "example.com",
            "PassthroughCluster",
            6.0,
        ),
        row(
            RowKind::Requests,
            "strict/web",
            "example.com",
            "BlackHoleCluster",
            2.0,
        ),
    ];
    let sidecar = |ns: &str, mode| SidecarPolicy {
        namespace: ns.into(),
        name: "default".into(),
        has_workload_selector: false,
        setting: PolicySetting::Explicit(mode),
        recorded: false,
        egress_hosts: None,
    };
    let sidecars = vec![
        sidecar("kept", OutboundPolicyMode::AllowAny),
        sidecar("strict", OutboundPolicyMode::RegistryOnly),
    ];
    let d = assemble(&rows, NO_ENTRIES);
    let p = preview(Window::Hour, &d, "istio-system", &sidecars);
    let lines: Vec<String> = p.blocked.iter().map(blocked_line).collect();
    assert_eq!(
        lines,
        vec![
            "open/web -> example.com:80 (HTTP), 10",
            "open/web -> unknown host:? (TCP), 4"
        ]
    );
    assert_eq!((p.destinations(), p.workloads(), p.unnamed()), (2, 1, 1));
    assert_eq!(
        p.unaffected,
        vec![("kept".to_string(), "namespace Sidecar default".to_string())]
    );
    assert_eq!(
        p.already_restricted,
        vec![(
            "strict".to_string(),
            "namespace Sidecar default".to_string()
        )]
    );
    assert!(p
        .summary()
        .starts_with("REGISTRY_ONLY would block 2 destinations called by 1 workload"));
}

#[test]
fn allow_links_prefill_host_port_protocol_and_namespace() {
    let rows = vec![row(
        RowKind::Requests,
        "smm-demo/n",
        "example.com:8080",
        "PassthroughCluster",
        1.0,
    )];
    let d = assemble(&rows, NO_ENTRIES);
    assert_eq!(
        d[0].allow_link().as_deref(),
        Some("/new?host=example.com&port=8080&protocol=HTTP&namespace=smm-demo")
    );
    let tcp = assemble(
        &[row(
            RowKind::Connections,
            "a/w",
            "unknown",
            "BlackHoleCluster",
            1.0,
        )],
        NO_ENTRIES,
    );
    assert_eq!(
        tcp[0].allow_link(),
        None,
        "no host name, nothing to register"
    );
}

#[test]
fn windows_and_sorting_read_from_urls() {
    assert_eq!(Window::parse("24h"), Window::Day);
    assert_eq!(Window::parse("nonsense"), Window::Hour);
    assert_eq!(SortBy::parse("verdict"), SortBy::Verdict);
    let rows = vec![
        row(
            RowKind::Requests,
            "a/w",
            "ok.example",
            "PassthroughCluster",
            9.0,
        ),
        row(
            RowKind::Requests,
            "a/w",
            "no.example",
            "BlackHoleCluster",
            1.0,
        ),
    ];
    let d = assemble(&rows, NO_ENTRIES);
    let hosts = |s: Vec<&Destination>| s.iter().map(|d| d.host_label()).collect::<Vec<_>>();
    assert_eq!(
        hosts(select(&d, "", None, SortBy::Verdict)),
        vec!["no.example", "ok.example"]
    );
    assert_eq!(
        hosts(select(&d, "", None, SortBy::Calls)),
        vec!["ok.example", "no.example"]
    );
    assert_eq!(
        hosts(select(&d, "blocked", None, SortBy::Calls)),
        vec!["no.example"]
    );
    assert_eq!(
        hosts(select(&d, "", Some(&Verdict::Passthrough), SortBy::Calls)),
        vec!["ok.example"]
    );
    assert_eq!(count_label(12_345.0), "12k");
    assert_eq!(bytes_label(2048.0), "2.0 KiB");
}
