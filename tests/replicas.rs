//! Two replicas of the real server against one API server, sharing only the session key and
//! the cluster: a session signed in on one works on the other, a sign-out on one ends it on
//! both, a delete made on one is undone on the other after the first is gone, only its user
//! may undo it, and 2 × 50 concurrent policy switches lose nothing and leave one audit record
//! each.

mod common;

use common::{httpbin_spec, kubeconfig, token, TestNamespace};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// One replica: the real binary in token mode, its log in a file.
struct Replica {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Replica {
    fn start(ns: &str, key: &Path, dir: &Path, name: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_mesh-egress"))
            .args(["--kubeconfig", kubeconfig().to_str().expect("utf-8")])
            .args(["--istio-namespace", ns, "--state-namespace", ns])
            .args(["--log-format", "json", "serve", "--auth", "token"])
            .args(["--session-key-file", key.to_str().expect("utf-8")])
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .env(
                "LEPTOS_SITE_ROOT",
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/site"),
            )
            .env("LEPTOS_OUTPUT_NAME", "mesh-egress")
            .env("POD_NAME", name)
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log).expect("log file"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start the server");
        Self { child, port, log }
    }

    async fn ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(answer) = client().get(self.url("/healthz")).send().await {
                if answer.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("replica on {} did not start", self.port);
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// POSTs a form to a server function as a script would (JSON answers).
    async fn post(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Answer {
        let mut request = client()
            .post(self.url(path))
            .header("accept", "application/json")
            .form(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let answer = request.send().await.expect("the replica answers");
        let status = answer.status().as_u16();
        let cookie = answer
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let body = answer.text().await.unwrap_or_default();
        Answer {
            status,
            body,
            cookie,
        }
    }

    async fn sign_in(&self, user: &str) -> String {
        let answer = self
            .post("/api/sign_in", &[("token", &token(user))], None)
            .await;
        assert_eq!(answer.status, 200, "sign-in as {user}: {}", answer.body);
        answer.cookie.expect("a session cookie")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Answer {
    status: u16,
    body: String,
    cookie: Option<String>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

const MESH: &str = "# The mesh, by hand.\ntrustDomain: cluster.local\noutboundTrafficPolicy:\n  mode: ALLOW_ANY   # for now\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_sessions_sign_out_undo_and_switches() {
    let ns = TestNamespace::new("replicas").await;
    let config_maps = ns.create_mesh_config("istio", MESH).await;
    ns.create_service_entry("httpbin.org", httpbin_spec()).await;
    let dir = std::env::temp_dir().join(format!("mesh-egress-replicas-{}", ns.name));
    std::fs::create_dir_all(&dir).expect("dir");
    let key = dir.join("session-key");
    std::fs::write(&key, rand::random::<[u8; 32]>()).expect("key file");
    let mut a = Replica::start(&ns.name, &key, &dir, "replica-a");
    let b = Replica::start(&ns.name, &key, &dir, "replica-b");
    a.ready().await;
    b.ready().await;

    // Signed in on A, known on B.
    let admin = a.sign_in("admin").await;
    let session = b.post("/api/session", &[], Some(&admin)).await;
    assert!(
        session.status == 200 && session.body.contains("\"admin\""),
        "B knows A's session: {}",
        session.body
    );

    // Deleted through A; A goes away; undone through B.
    let target = [("namespace", ns.name.as_str()), ("name", "httpbin.org")];
    let deleted = a
        .post("/api/delete_service_entry", &target, Some(&admin))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(ns
        .cluster()
        .await
        .service_entry(&ns.name, "httpbin.org")
        .await
        .is_err());
    a.stop();
    // Another user may not undo it (the limited user of the test control plane).
    let dev = b.sign_in("dev").await;
    let refused = b
        .post("/api/undo_delete_service_entry", &target, Some(&dev))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("deleted by admin"),
        "{}",
        refused.body
    );
    let undone = b
        .post("/api/undo_delete_service_entry", &target, Some(&admin))
        .await;
    assert_eq!(undone.status, 200, "B undoes A's delete: {}", undone.body);
    ns.cluster()
        .await
        .service_entry(&ns.name, "httpbin.org")
        .await
        .expect("restored");

    // A again (a restart); signed out on B, the same cookie is refused on A.
    let a = Replica::start(&ns.name, &key, &dir, "replica-a2");
    a.ready().await;
    let before = a.post("/api/overview", &[], Some(&admin)).await;
    assert_eq!(before.status, 200, "{}", before.body);
    let out = b.post("/api/sign_out", &[], Some(&admin)).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let start = Instant::now();
    loop {
        let after = a.post("/api/overview", &[], Some(&admin)).await;
        if after.status == 401 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "A still accepts a session signed out on B: {} {}",
            after.status,
            after.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    common::measured(&format!(
        "two replicas: a sign-out on one ended the session on the other in {} ms",
        start.elapsed().as_millis()
    ));

    // 2 × 50 switches at once; each replica's last is REGISTRY_ONLY, so whichever lands last,
    // that is the final state.
    let admin = a.sign_in("admin").await;
    let switches = |replica: &Replica, admin: String| {
        let url = replica.url("/api/set_outbound_policy");
        async move {
            for i in 0..50 {
                let mode = if i % 2 == 0 {
                    "ALLOW_ANY"
                } else {
                    "REGISTRY_ONLY"
                };
                let answer = client()
                    .post(&url)
                    .header("accept", "application/json")
                    .header("cookie", &admin)
                    .form(&[("mode", mode)])
                    .send()
                    .await
                    .expect("answer");
                let status = answer.status().as_u16();
                let body = answer.text().await.unwrap_or_default();
                assert_eq!(status, 200, "switch {i} to {mode}: {body}");
            }
        }
    };
    tokio::join!(switches(&a, admin.clone()), switches(&b, admin.clone()));
    let config_map = config_maps.get("istio").await.expect("mesh ConfigMap");
    let mesh = config_map
        .data
        .as_ref()
        .and_then(|d| d.get("mesh"))
        .expect("mesh");
    assert_eq!(
        mesh,
        &MESH.replace("ALLOW_ANY   # for now", "REGISTRY_ONLY   # for now"),
        "the last write won, and nothing else of the mesh config moved"
    );
    let events = Api::<Event>::namespaced(ns.client.clone(), &ns.name)
        .list(&ListParams::default())
        .await
        .expect("events");
    let switched: Vec<&Event> = events
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("OutboundPolicySwitched"))
        .collect();
    assert_eq!(switched.len(), 100, "one audit Event per switch");
    assert!(
        switched.iter().all(|e| e.count.unwrap_or(1) == 1
            && e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("admin "))),
        "each Event names its user and stands alone"
    );
    let logged: usize = [&a, &b]
        .iter()
        .map(|r| r.log_text().matches("OutboundPolicySwitched").count())
        .sum();
    assert_eq!(logged, 100, "one audit log line per switch");
}
