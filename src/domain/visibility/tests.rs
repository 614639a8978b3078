use super::*;
use crate::domain::service_entry::{test_tls_port, test_view};
use crate::domain::PolicySetting;

fn entry(
    namespace: &str,
    name: &str,
    hosts: &[&str],
    export_to: &[&str],
    ports: &[i64],
) -> ServiceEntryView {
    ServiceEntryView {
        ports: ports.iter().map(|n| test_tls_port(*n)).collect(),
        ..test_view(namespace, name, hosts, export_to)
    }
}

fn sidecar(namespace: &str, hosts: Option<&[&str]>) -> SidecarPolicy {
    SidecarPolicy {
        namespace: namespace.into(),
        name: "default".into(),
        has_workload_selector: false,
        setting: PolicySetting::NotSet,
        recorded: false,
        egress_hosts: hosts.map(|h| h.iter().map(|s| s.to_string()).collect()),
    }
}

#[test]
fn host_patterns() {
    assert!(host_matches("*", "api.example.com"));
    assert!(host_matches("*.example.com", "api.example.com"));
    assert!(host_matches("*.example.com", "a.b.example.com"));
    assert!(!host_matches("*.example.com", "example.com"));
    assert!(host_matches("API.example.com", "api.EXAMPLE.com"));
    assert!(!host_matches("api.example.com", "api.example.org"));
    assert!(host_matches("*.com", "*.example.com"));
}

#[test]
fn export_to_decides_who_sees_an_entry() {
    let own = entry("payments", "stripe", &["api.stripe.com"], &["."], &[443]);
    let entries = [&own];
    let scope = Scope::new(&entries, &[], "istio-system");
    assert!(scope
        .reach("payments", Some("api.stripe.com"), Some(443))
        .allowed());
    let other = scope.reach("shop", Some("api.stripe.com"), Some(443));
    assert_eq!(
        other,
        Reach::Hidden {
            entry: EntryRef {
                namespace: "payments".into(),
                name: "stripe".into()
            },
            why: Hidden::NotExported
        }
    );
    let warning = scope
        .warning("shop", "api.stripe.com", &other)
        .expect("a warning");
    assert_eq!(warning.code, NOT_EXPORTED);
    assert!(
        warning.message.contains("add \"shop\" to its exportTo"),
        "{}",
        warning.message
    );
    // Another port of the host is not registered.
    assert_eq!(
        scope.reach("payments", Some("api.stripe.com"), Some(80)),
        Reach::Unregistered
    );
    assert_eq!(scope.reach("payments", None, Some(443)), Reach::Unknown);
}

#[test]
fn a_sidecar_imports_what_its_egress_hosts_name() {
    let stripe = entry("payments", "stripe", &["api.stripe.com"], &[], &[443]);
    let entries = [&stripe];
    let sidecars = [sidecar("shop", Some(&["./*", "istio-system/*"]))];
    let scope = Scope::new(&entries, &sidecars, "istio-system");
    let shop = scope.reach("shop", Some("api.stripe.com"), None);
    assert!(
        matches!(&shop, Reach::Hidden { why: Hidden::NotImported { sidecar }, .. } if sidecar == "shop/default")
    );
    let warning = scope
        .warning("shop", "api.stripe.com", &shop)
        .expect("a warning");
    assert_eq!(warning.code, NOT_IMPORTED);
    assert!(
        warning.message.contains("add \"payments/api.stripe.com\""),
        "{}",
        warning.message
    );
    // Namespaces without a Sidecar of their own see it (no root Sidecar here).
    assert!(scope.reach("web", Some("api.stripe.com"), None).allowed());
    // Importing it by name, or every namespace's hosts, fixes it.
    for hosts in [
        &["payments/api.stripe.com"][..],
        &["*/*"][..],
        &["payments/*.stripe.com"][..],
    ] {
        let sidecars = [sidecar("shop", Some(hosts))];
        let scope = Scope::new(&entries, &sidecars, "istio-system");
        assert!(
            scope.reach("shop", Some("api.stripe.com"), None).allowed(),
            "{hosts:?}"
        );
    }
}

#[test]
fn the_root_sidecar_decides_for_namespaces_without_one_and_dot_is_the_workloads_namespace() {
    let stripe = entry("payments", "stripe", &["api.stripe.com"], &[], &[443]);
    let entries = [&stripe];
    let sidecars = [sidecar("istio-system", Some(&["./*"]))];
    let scope = Scope::new(&entries, &sidecars, "istio-system");
    assert!(scope
        .reach("payments", Some("api.stripe.com"), None)
        .allowed());
    assert!(!scope.reach("shop", Some("api.stripe.com"), None).allowed());
}

#[test]
fn a_visible_entry_wins_over_a_hidden_one_and_wildcards_register() {
    let hidden = entry("payments", "stripe", &["api.stripe.com"], &["."], &[443]);
    let wide = entry("shared", "stripe-all", &["*.stripe.com"], &[], &[443]);
    let entries = [&hidden, &wide];
    let scope = Scope::new(&entries, &[], "istio-system");
    assert_eq!(
        scope.reach("shop", Some("api.stripe.com"), Some(443)),
        Reach::Registered {
            entry: EntryRef {
                namespace: "shared".into(),
                name: "stripe-all".into()
            }
        }
    );
    let warnings = scope.wildcards(&["files.stripe.com", "api.stripe.com", "example.com"]);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, WILDCARD);
    assert!(
        warnings[0]
            .message
            .contains("calls to files.stripe.com pass as registered"),
        "{}",
        warnings[0].message
    );
}
