use super::*;
use serde_json::json;

const ANY: OutboundPolicyMode = OutboundPolicyMode::AllowAny;
const REG: OutboundPolicyMode = OutboundPolicyMode::RegistryOnly;

fn applied(write: &SidecarWrite) -> Option<Value> {
    match write {
        SidecarWrite::Create { object } | SidecarWrite::Replace { object, .. } => {
            Some(object.clone())
        }
        SidecarWrite::Delete { .. } => None,
    }
}

fn step(
    own: Option<&Value>,
    target: NamespaceTarget,
    fallback: &OutboundPolicyMode,
) -> Option<Value> {
    let write = plan("shop", "istio-system", target, own, &[], fallback)
        .expect("planned")
        .expect("a write");
    applied(&write)
}

#[test]
fn restricting_a_namespace_without_a_sidecar_creates_one_and_lifting_deletes_it() {
    let created = step(None, NamespaceTarget::Restricted, &ANY).expect("created");
    assert_eq!(created["metadata"]["name"], "default");
    assert_eq!(
        created["spec"]["outboundTrafficPolicy"]["mode"],
        "REGISTRY_ONLY"
    );
    assert_eq!(
        created["metadata"]["annotations"][BEFORE_ANNOTATION],
        CREATED
    );
    let lifted = plan(
        "shop",
        "istio-system",
        NamespaceTarget::Allowed,
        Some(&created),
        &[],
        &ANY,
    )
    .expect("planned")
    .expect("a write");
    assert!(matches!(lifted, SidecarWrite::Delete { .. }), "{lifted:?}");
    assert!(lifted
        .describe("shop")
        .starts_with("deletes Sidecar shop/default"));
}

#[test]
fn a_hand_written_sidecar_is_put_back_exactly() {
    let own = json!({
        "metadata": {"name": "default", "namespace": "shop", "resourceVersion": "7",
                     "labels": {"team": "a"}},
        "spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}],
                 "outboundTrafficPolicy": {"mode": "ALLOW_ANY", "egressProxy": {"host": "proxy", "port": {"number": 3128}}}}
    });
    let restricted = step(Some(&own), NamespaceTarget::Restricted, &ANY).expect("changed");
    assert_eq!(
        restricted["spec"]["outboundTrafficPolicy"]["mode"],
        "REGISTRY_ONLY"
    );
    assert_eq!(
        restricted["spec"]["outboundTrafficPolicy"]["egressProxy"]["host"], "proxy",
        "the rest of the policy stays"
    );
    assert_eq!(restricted["spec"]["egress"], own["spec"]["egress"]);
    assert_eq!(
        restricted["metadata"]["resourceVersion"], "7",
        "the write carries the version read"
    );
    let back = step(Some(&restricted), NamespaceTarget::Allowed, &ANY).expect("restored");
    assert_eq!(
        back, own,
        "labels, annotations (none) and spec exactly as before"
    );
}

#[test]
fn a_sidecar_without_a_policy_gets_one_and_loses_it_again() {
    let own = json!({"metadata": {"name": "narrow", "namespace": "shop", "annotations": {"note": "x"}},
                     "spec": {"egress": [{"hosts": ["./*"]}]}});
    let restricted = step(Some(&own), NamespaceTarget::Restricted, &ANY).expect("changed");
    assert_eq!(
        restricted["metadata"]["annotations"][BEFORE_ANNOTATION],
        "{}"
    );
    assert_eq!(restricted["metadata"]["annotations"]["note"], "x");
    let back = step(Some(&restricted), NamespaceTarget::Allowed, &ANY).expect("restored");
    assert_eq!(back, own);
}

#[test]
fn a_created_sidecar_someone_added_to_keeps_their_part() {
    let mut created = step(None, NamespaceTarget::Restricted, &ANY).expect("created");
    created["spec"]["egress"] = json!([{"hosts": ["./*"]}]);
    let back = step(Some(&created), NamespaceTarget::Allowed, &ANY).expect("kept");
    assert_eq!(back["spec"], json!({"egress": [{"hosts": ["./*"]}]}));
    assert!(back["metadata"].get("annotations").is_none());
    assert!(back["metadata"].get("labels").is_none());
}

#[test]
fn nothing_to_do_and_the_root_namespace() {
    let none = plan(
        "shop",
        "istio-system",
        NamespaceTarget::Allowed,
        None,
        &[],
        &ANY,
    );
    assert_eq!(none, Ok(None));
    let restricted = json!({"metadata": {"name": "default"},
                            "spec": {"outboundTrafficPolicy": {}}});
    // `{}` is REGISTRY_ONLY already (protobuf's zero value).
    let again = plan(
        "shop",
        "istio-system",
        NamespaceTarget::Restricted,
        Some(&restricted),
        &[],
        &ANY,
    );
    assert_eq!(again, Ok(None));
    let root = plan(
        "istio-system",
        "istio-system",
        NamespaceTarget::Restricted,
        None,
        &[],
        &ANY,
    );
    assert!(root.expect_err("refused").contains("root namespace"));
}

#[test]
fn in_a_restricted_mesh_allowing_a_namespace_is_an_exception_undone_by_restricting() {
    let exception = step(None, NamespaceTarget::Allowed, &REG).expect("created");
    assert_eq!(
        exception["spec"]["outboundTrafficPolicy"]["mode"],
        "ALLOW_ANY"
    );
    let undone = plan(
        "shop",
        "istio-system",
        NamespaceTarget::Restricted,
        Some(&exception),
        &[],
        &REG,
    )
    .expect("planned")
    .expect("a write");
    assert!(matches!(undone, SidecarWrite::Delete { .. }));
}

#[test]
fn the_name_default_taken_by_a_selecting_sidecar() {
    let write = plan(
        "shop",
        "istio-system",
        NamespaceTarget::Restricted,
        None,
        &["default".to_string()],
        &ANY,
    )
    .expect("planned")
    .expect("a write");
    assert_eq!(write.name(), "mesh-egress");
}

#[test]
fn the_own_sidecar_is_the_first_without_a_selector() {
    let sidecars = [
        json!({"metadata": {"name": "b"}, "spec": {}}),
        json!({"metadata": {"name": "a"}, "spec": {"workloadSelector": {"labels": {"app": "x"}}}}),
        json!({"metadata": {"name": "c"}, "spec": {}}),
    ];
    assert_eq!(own_sidecar(&sidecars).map(name_of), Some("b"));
}

#[test]
fn the_diff_shows_the_mode_line() {
    let write = plan(
        "shop",
        "istio-system",
        NamespaceTarget::Restricted,
        None,
        &[],
        &ANY,
    )
    .expect("planned")
    .expect("a write");
    let lines = write.diff();
    assert!(
        lines
            .iter()
            .any(|l| l == &DiffLine::Added("    mode: REGISTRY_ONLY".to_string())),
        "{lines:?}"
    );
}
