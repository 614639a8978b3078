//! The command line: `mesh-egress [serve]` and the subcommands later issues add.

mod apply;
mod rollout;
mod route;

pub use apply::{apply, ApplyArgs};
pub use rollout::{rollout, RolloutArgs};
pub use route::{route, RouteArgs};

use crate::cluster::{Cluster, ConnectOptions};
use crate::domain::policy::parse_requested_mode;
use crate::error::AppError;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A web dashboard for how an Istio service mesh reaches services outside it.
#[derive(Debug, Parser)]
#[command(name = "mesh-egress", version, about)]
pub struct Cli {
    /// Where the cluster is.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Where the traffic is.
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
    /// Log format: human (default) or json (one JSON object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How to reach the cluster and find Istio in it.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Path to a kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the pod's
    /// ServiceAccount).
    #[arg(long, global = true, env = "MESH_EGRESS_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace of Istio's control plane.
    #[arg(long, global = true, default_value = "istio-system")]
    pub istio_namespace: String,
    /// The Istio revision whose mesh ConfigMap (istio-<revision>) holds the mesh config.
    #[arg(long, global = true)]
    pub revision: Option<String>,
    /// istiod's debug address (http://HOST:PORT, e.g. through a port-forward to 8080): the
    /// policy page then shows what istiod really uses. Off when absent.
    #[arg(long, global = true, env = "MESH_EGRESS_ISTIOD_DEBUG")]
    pub istiod_debug: Option<String>,
    /// The namespace where mesh-egress keeps its own state (undo records, signed-out
    /// sessions) as ConfigMaps (default: the pod's own namespace, or the kubeconfig context's).
    #[arg(long, global = true, env = "MESH_EGRESS_STATE_NAMESPACE")]
    pub state_namespace: Option<String>,
}

/// The Prometheus that scrapes Istio's sidecars (traffic pages, the REGISTRY_ONLY preview).
#[derive(Debug, Clone, Args)]
pub struct PrometheusArgs {
    /// Prometheus's address (http(s)://HOST:PORT). Without it, pages say traffic is not shown.
    #[arg(long = "prometheus", global = true, env = "PROMETHEUS_URL")]
    pub url: Option<String>,
    /// A file with a bearer token for a Prometheus behind authentication.
    #[arg(long, global = true, env = "PROMETHEUS_BEARER_TOKEN_FILE")]
    pub prometheus_bearer_token_file: Option<PathBuf>,
    /// A PEM file with the CA that signed Prometheus's certificate.
    #[arg(long, global = true, env = "PROMETHEUS_CA_FILE")]
    pub prometheus_ca_file: Option<PathBuf>,
    /// How long one query may take, in seconds.
    #[arg(long, global = true, default_value_t = 5)]
    pub prometheus_timeout: u64,
}

impl PrometheusArgs {
    /// A client, none (not configured), or why the configuration cannot work.
    pub fn client(&self) -> Result<Option<crate::prometheus::Prometheus>, String> {
        let Some(url) = self.url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        crate::prometheus::Prometheus::new(crate::prometheus::PrometheusConfig {
            url: url.trim().to_string(),
            bearer_token_file: self.prometheus_bearer_token_file.clone(),
            ca_file: self.prometheus_ca_file.clone(),
            timeout: std::time::Duration::from_secs(self.prometheus_timeout.max(1)),
        })
        .map(Some)
        .map_err(|e| e.to_string())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable text.
    Human,
    /// One JSON object per line, for log pipelines.
    Json,
}

impl ClusterArgs {
    /// The options the cluster module connects with.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            istio_namespace: self.istio_namespace.clone(),
            revision: self.revision.clone(),
            istiod_debug: self.istiod_debug.clone(),
            state_namespace: self.state_namespace.clone(),
            read_timeout: None,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
    /// Show the mesh-wide outbound traffic policy, or switch it: restricted (REGISTRY_ONLY)
    /// or allowed (ALLOW_ANY).
    OutboundTrafficPolicy(PolicyArgs),
    /// Judge ServiceEntries and Sidecars as istiod would, without a cluster: one line per
    /// object; exit status 1 if any is invalid.
    Validate(ValidateArgs),
    /// Create or change one ServiceEntry from a manifest: judged like the pages judge it, the
    /// diff printed, then written (never over a change made meanwhile); exit status 1 with
    /// the field and the reason when refused.
    Apply(ApplyArgs),
    /// Every namespace by readiness for REGISTRY_ONLY, from the traffic in the window: one
    /// line per namespace, `<namespace> <restricted|ready|not ready> …`.
    Rollout(RolloutArgs),
    /// Route a ServiceEntry through an egress gateway (`--via NS/GATEWAY NS/ENTRY`), stop
    /// (`--stop NS/ENTRY`), or show how it leaves the mesh (`NS/ENTRY`).
    Route(RouteArgs),
    /// The same commands under `istio`, as Service Mesh Manager's CLI spells them.
    Istio {
        /// The Istio command.
        #[command(subcommand)]
        command: IstioCommand,
    },
}

/// `mesh-egress istio …`.
#[derive(Debug, Subcommand)]
pub enum IstioCommand {
    /// Show or switch the mesh-wide outbound traffic policy.
    OutboundTrafficPolicy(PolicyArgs),
}

/// Options of `outbound-traffic-policy`.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// restricted (REGISTRY_ONLY) or allowed (ALLOW_ANY); omit to show the current setting.
    pub mode: Option<String>,
    /// Which IstioControlPlane to use when there are several (default: the first by name).
    #[arg(long)]
    pub control_plane: Option<String>,
    /// One namespace instead of the whole mesh: its Sidecar's outbound policy (allowed puts
    /// back the Sidecar mesh-egress changed, or deletes the one it created); without a mode,
    /// the namespace's effective policy and where it comes from.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Change nothing: print what the switch would block (from Prometheus's traffic), one
    /// summary line, then one line per blocked destination and caller.
    #[arg(long)]
    pub dry_run: bool,
    /// The traffic window of --dry-run: 1h, 24h or 7d.
    #[arg(long, default_value = "1h")]
    pub window: String,
}

/// Options of `validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// A manifest (multi-document YAML or JSON); `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_served_without_sign_in() {
        assert!(check_bind("127.0.0.1:3000".parse().expect("addr"), false).is_ok());
        assert!(check_bind("[::1]:3000".parse().expect("addr"), false).is_ok());
        let refused =
            check_bind("0.0.0.0:8080".parse().expect("addr"), false).expect_err("refused");
        assert!(refused.contains("--allow-unauthenticated"), "{refused}");
        assert!(check_bind("0.0.0.0:8080".parse().expect("addr"), true).is_ok());
    }
}

/// A file's text, or standard input's for `-`.
fn read_input(file: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(file)
    }
}

/// Runs `validate`: one line per object; 1 if any object is invalid, 2 if a file is unreadable.
pub fn validate(args: &ValidateArgs) -> ExitCode {
    use crate::domain::manifest::{judge_object, parse_manifest};
    let mut invalid = false;
    for file in &args.files {
        let text = match read_input(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("mesh-egress: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        let objects = match parse_manifest(&text) {
            Ok(objects) => objects,
            Err(e) => {
                eprintln!("mesh-egress: {}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        for object in &objects {
            let judged = judge_object(object);
            invalid |= judged.is_invalid();
            println!("{}", judged.line());
        }
    }
    if invalid {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `outbound-traffic-policy`: prints exactly one line and returns the exit status
/// (with `--dry-run`: the preview, see [`dry_run`]).
pub async fn outbound_traffic_policy(
    cluster: &ClusterArgs,
    prometheus: &PrometheusArgs,
    args: &PolicyArgs,
) -> ExitCode {
    let mode = match args.mode.as_deref().map(parse_requested_mode).transpose() {
        Ok(mode) => mode,
        Err(reason) => {
            eprintln!("mesh-egress: {reason}");
            return ExitCode::from(2);
        }
    };
    if let Some(namespace) = args.namespace.as_deref() {
        return rollout::namespace_policy(cluster, prometheus, args, namespace).await;
    }
    if args.dry_run {
        return dry_run(cluster, prometheus, args, mode).await;
    }
    let choice = args.control_plane.as_deref();
    let result = match &mode {
        // NB: a switch goes through the service layer, as from the web: audited and counted.
        Some(mode) => {
            let actor = match rollout::local_actor(cluster, prometheus).await {
                Ok(actor) => actor,
                Err(code) => return code,
            };
            crate::service::switch(&actor, mode, choice).await
        }
        None => match Cluster::connect(&cluster.connect_options()).await {
            Ok(client) => client.policy_report(choice).await.map_err(AppError::from),
            Err(error) => Err(AppError::from(error)),
        },
    };
    match result {
        Ok(report) => {
            println!("{}", report.setting().cli_line());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mesh-egress: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Options of `serve`.
#[derive(Debug, Clone, Parser)]
pub struct ServeArgs {
    /// Address to listen on (default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000).
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Serve on a non-loopback address although nobody signs in: everyone who reaches the
    /// port acts with this server's cluster identity. Logged as a warning.
    #[arg(long)]
    pub allow_unauthenticated: bool,
    /// How users are identified: local (the kubeconfig's identity, loopback only), token
    /// (users sign in with a Kubernetes bearer token) or proxy (a trusted authenticating
    /// proxy names the user in a header; the server impersonates them).
    #[arg(long, value_enum, default_value_t = AuthArg::Local)]
    pub auth: AuthArg,
    /// Mark the session cookie Secure (served over TLS, directly or behind a proxy).
    #[arg(long)]
    pub secure_cookies: bool,
    /// 32 random bytes that seal session cookies, shared by replicas (default: a fresh key
    /// per start, so sessions end with a restart).
    #[arg(long)]
    pub session_key_file: Option<PathBuf>,
    /// With --auth proxy: the header naming the user.
    #[arg(long, default_value = "X-Forwarded-User")]
    pub proxy_user_header: String,
    /// Serve /healthz, /readyz and /metrics on this address instead (kubelet and Prometheus):
    /// the main port then serves only /healthz and the application. In shared mode /readyz and
    /// /metrics are served nowhere else.
    #[arg(long)]
    pub probe_addr: Option<SocketAddr>,
    /// A host name the server also answers to (besides loopback names and the bind address),
    /// such as its Ingress name; repeatable. Requests for any other `Host` get 421.
    #[arg(long)]
    pub public_host: Vec<String>,
    /// How many pages may be live (server-sent events) at once; more get 503 and no live
    /// updates.
    #[arg(long, default_value_t = crate::server::MAX_LIVE_CONNECTIONS)]
    pub max_live_connections: usize,
    /// How many minutes a delete can be undone (from any replica: the deleted object is kept
    /// in a ConfigMap in the state namespace until then).
    #[arg(long, default_value_t = crate::service::UNDO_SECONDS / 60)]
    pub undo_minutes: u64,
    /// With --auth proxy: the header with the user's groups, comma-separated (such as
    /// X-Forwarded-Groups). Groups are ignored unless this is given.
    #[arg(long)]
    pub proxy_groups_header: Option<String>,
    /// With --auth proxy: an address or block (CIDR) of the authenticating proxy; repeatable.
    /// Identity headers from any other peer are ignored (401).
    #[arg(long)]
    pub trusted_proxy: Vec<String>,
    /// With --auth proxy: a file with a secret the proxy sends in X-Mesh-Egress-Proxy-Secret
    /// (for proxies without a fixed address).
    #[arg(long)]
    pub proxy_secret_file: Option<PathBuf>,
}

/// The `--auth` choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthArg {
    /// The server's identity for everyone; loopback only.
    #[default]
    Local,
    /// Sign in with a bearer token.
    Token,
    /// Impersonate the user a trusted proxy names.
    Proxy,
}

impl ServeArgs {
    /// The auth mode these options ask for.
    pub fn auth_mode(&self) -> Result<crate::auth::AuthMode, String> {
        use crate::auth::{AuthMode, SessionKeys};
        Ok(match self.auth {
            AuthArg::Local => AuthMode::Local,
            AuthArg::Token => {
                let sessions =
                    match &self.session_key_file {
                        Some(path) => {
                            let bytes = std::fs::read(path)
                                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                            let key: [u8; 32] =
                                bytes.get(..32).and_then(|b| b.try_into().ok()).ok_or_else(
                                    || format!("{} must hold at least 32 bytes", path.display()),
                                )?;
                            SessionKeys::from_key(&key)
                        }
                        None => SessionKeys::random(),
                    };
                AuthMode::Token {
                    sessions,
                    secure_cookies: self.secure_cookies,
                    revoked: Default::default(),
                }
            }
            AuthArg::Proxy => {
                let trusted_peers = self
                    .trusted_proxy
                    .iter()
                    .map(|c| c.parse().map_err(|e| format!("--trusted-proxy: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                let secret = match &self.proxy_secret_file {
                    Some(path) => {
                        let text = std::fs::read_to_string(path)
                            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                        let secret = text.trim().to_string();
                        if secret.len() < 16 {
                            return Err(format!(
                                "--proxy-secret-file: {} holds {} characters; use at least 16",
                                path.display(),
                                secret.len()
                            ));
                        }
                        Some(secret)
                    }
                    None => None,
                };
                if trusted_peers.is_empty() && secret.is_none() {
                    return Err(
                        "--auth proxy believes identity headers only from the proxy: \
                                give --trusted-proxy CIDR (its addresses) or \
                                --proxy-secret-file FILE"
                            .into(),
                    );
                }
                AuthMode::Proxy(crate::auth::ProxyAuth {
                    user_header: self.proxy_user_header.to_ascii_lowercase(),
                    groups_header: self
                        .proxy_groups_header
                        .as_ref()
                        .map(|h| h.to_ascii_lowercase()),
                    trusted_peers,
                    secret,
                })
            }
        })
    }
}

/// Local mode binds loopback only: anyone who reaches another address would act with this
/// server's identity. Other addresses need `--allow-unauthenticated`.
pub fn check_bind(addr: SocketAddr, allow_unauthenticated: bool) -> Result<(), String> {
    // Shared modes identify every user, so any address is fine there; callers pass `true`.
    if addr.ip().is_loopback() || allow_unauthenticated {
        Ok(())
    } else {
        Err(format!(
            "refusing to listen on {addr} without sign-in: everyone who reaches it would act \
             with this server's cluster identity. Listen on 127.0.0.1, or pass \
             --allow-unauthenticated if something in front of it restricts access"
        ))
    }
}

/// `outbound-traffic-policy MODE --dry-run`: one summary line, then one line per caller and
/// destination the switch would block; writes nothing. Exit 1 when the traffic cannot be read.
async fn dry_run(
    cluster: &ClusterArgs,
    prometheus: &PrometheusArgs,
    args: &PolicyArgs,
    mode: Option<crate::domain::OutboundPolicyMode>,
) -> ExitCode {
    use crate::domain::traffic::{blocked_line, TrafficStatus, Window};
    use crate::domain::OutboundPolicyMode;
    match mode {
        Some(OutboundPolicyMode::RegistryOnly) => {}
        Some(_) => {
            println!("ALLOW_ANY blocks no call; dry run: nothing was changed");
            return ExitCode::SUCCESS;
        }
        None => {
            eprintln!("mesh-egress: --dry-run needs the mode to preview: restricted or allowed");
            return ExitCode::from(2);
        }
    }
    let actor = match rollout::local_actor(cluster, prometheus).await {
        Ok(actor) => actor,
        Err(code) => return code,
    };
    let answer = crate::service::policy_preview(&actor, Window::parse(&args.window)).await;
    match answer {
        Ok(answer) => {
            if let Some(notice) = answer.status.notice() {
                eprintln!("mesh-egress: {notice}");
                return ExitCode::FAILURE;
            }
            debug_assert!(matches!(answer.status, TrafficStatus::Fresh { .. }));
            println!("{}; dry run: nothing was changed", answer.preview.summary());
            for call in &answer.preview.blocked {
                println!("{}", blocked_line(call));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mesh-egress: {error}");
            ExitCode::FAILURE
        }
    }
}
