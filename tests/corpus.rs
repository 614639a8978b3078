//! mesh-egress's rules against Istio's own verdicts (tests/fixtures/corpus). No cluster needed.

mod common;

use common::{corpus_labels as labels, restore_corpus_scalars};

use mesh_egress::domain::validation::{
    is_valid, validate_service_entry, validate_sidecar, Finding, Severity,
};
use serde_json::Value;

fn records(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/corpus/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("corpus file");
    serde_json::from_str(&text).expect("corpus JSON")
}

/// What istiod sees: protobuf reads an empty list as unset, so the records (taken from
/// istiod's Go tests, which build protobuf messages) are judged without their empty lists. The
/// apiserver does count them; tests/istiod.rs sends the records as they are.
fn protobuf_view(spec: Option<&Value>) -> Option<Value> {
    fn strip(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| !matches!(v, Value::Array(a) if a.is_empty()))
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    spec.map(strip)
}

/// istiod's own warnings (mesh-egress's lint findings carry a code and are not istiod's).
fn istiod_warnings(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Warning && f.code.is_none())
        .collect()
}

fn check(records: &[Value], judge: impl Fn(&Value) -> Vec<Finding>, compare_warnings: bool) {
    let mut disagreements = Vec::new();
    for record in records {
        let name = record["name"].as_str().unwrap_or("?");
        let findings = judge(record);
        let valid = record["valid"].as_bool().expect("valid flag");
        if is_valid(&findings) != valid {
            disagreements.push(format!(
                "{name}: Istio says valid={valid}, we found {findings:?}"
            ));
            continue;
        }
        if compare_warnings {
            let warning = record["warning"].as_bool().unwrap_or(false);
            if valid && istiod_warnings(&findings).is_empty() == warning {
                disagreements.push(format!(
                    "{name}: Istio says warning={warning}, we found {findings:?}"
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn service_entries_are_judged_as_istiod_judges_them() {
    let records = records("serviceentry-istiod-validation.json");
    assert_eq!(records.len(), 40);
    check(
        &records,
        |r| validate_service_entry("default", &labels(r), protobuf_view(r.get("spec")).as_ref()),
        true,
    );
}

#[test]
fn sidecars_are_judged_as_istiod_judges_them() {
    let records = records("sidecar-istiod-validation.json");
    assert_eq!(records.len(), 47);
    check(
        &records,
        |r| validate_sidecar("test", protobuf_view(r.get("spec")).as_ref()),
        true,
    );
}

#[test]
fn service_entries_are_judged_as_the_crd_judges_them() {
    let records = records("serviceentry-crd-validation.json");
    assert_eq!(records.len(), 17);
    check(
        &records,
        |r| {
            let mut spec = r.get("spec").cloned();
            if let Some(spec) = spec.as_mut() {
                restore_corpus_scalars(spec);
            }
            validate_service_entry("default", &labels(r), spec.as_ref())
        },
        false,
    );
}

/// `mesh-egress validate`, as a user runs it: files and stdin, exit status like istioctl's.
#[test]
fn validate_command_prints_one_line_per_object_and_fails_on_invalid() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!(
        "mesh-egress-validate-{:08x}",
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: httpbin.org, namespace: smm-demo}\n\
         spec:\n  hosts: [httpbin.org, www.httpbin.org]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n",
    )
    .expect("write");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run(&["validate", "-f", good.to_str().expect("utf-8")], "");
    assert_eq!((code, out.as_str()), (0, "smm-demo/httpbin.org: valid\n"));

    let bad = r#"{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"bad","namespace":"ns"},"spec":{"hosts":["bad..host"],"resolution":"DNS"}}"#;
    let (code, out) = run(
        &["validate", "-f", good.to_str().expect("utf-8"), "-f", "-"],
        bad,
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], "smm-demo/httpbin.org: valid");
    assert!(
        lines[1].starts_with("ns/bad: invalid: spec.hosts[0]: "),
        "{}",
        lines[1]
    );
}
