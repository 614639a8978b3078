//! `mesh-egress rollout` and `outbound-traffic-policy … --namespace NS`: the rollout view and
//! one namespace's policy, through the same service functions as the pages.

use super::{ClusterArgs, PolicyArgs, PrometheusArgs};
use crate::cluster::Cluster;
use crate::domain::restrict::cli_line;
use crate::domain::traffic::{blocked_line, Window};
use crate::error::AppError;
use crate::service::{Actor, Services, Traffic};
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;

/// Options of `rollout`.
#[derive(Debug, Clone, Args)]
pub struct RolloutArgs {
    /// The traffic window: 1h, 24h or 7d.
    #[arg(long, default_value = "1h")]
    pub window: String,
    /// Draft ServiceEntries (a manifest, `-` for standard input), counted as if they existed:
    /// what registering them would change. Nothing is written.
    #[arg(long)]
    pub drafts: Option<std::path::PathBuf>,
}

/// The server's own identity as the acting user, with the traffic of `prometheus`.
pub(super) async fn local_actor(
    cluster: &ClusterArgs,
    prometheus: &PrometheusArgs,
) -> Result<Actor, ExitCode> {
    let traffic = match prometheus.client() {
        Ok(client) => Traffic::new(
            client,
            std::time::Duration::from_secs(prometheus.prometheus_timeout.max(1) + 1),
        ),
        Err(reason) => {
            eprintln!("mesh-egress: {reason}");
            return Err(ExitCode::from(2));
        }
    };
    let client = Cluster::connect(&cluster.connect_options())
        .await
        .map_err(AppError::from);
    Services::new(
        client,
        Arc::new(crate::auth::AuthMode::Local),
        Arc::new(crate::metrics::Metrics::default()),
        traffic,
    )
    .actor(&crate::auth::Caller::Local)
    .map_err(|error| {
        eprintln!("mesh-egress: {error}");
        ExitCode::FAILURE
    })
}

fn failed(error: AppError) -> ExitCode {
    eprintln!("mesh-egress: {error}");
    ExitCode::FAILURE
}

/// Runs `rollout`: one line per namespace, `<namespace> <restricted|ready|not ready> …`, then
/// the summary on standard error. Exit 1 when the traffic cannot be read.
pub async fn rollout(
    cluster: &ClusterArgs,
    prometheus: &PrometheusArgs,
    args: &RolloutArgs,
) -> ExitCode {
    let actor = match local_actor(cluster, prometheus).await {
        Ok(actor) => actor,
        Err(code) => return code,
    };
    let window = Window::parse(&args.window);
    let drafts = match &args.drafts {
        Some(file) => match super::read_input(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("mesh-egress: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        },
        None => String::new(),
    };
    let rollout = match crate::service::rollout(&actor, window, &drafts).await {
        Ok(rollout) => rollout,
        Err(error) => return failed(error),
    };
    for row in &rollout.rows {
        println!("{}", row.line(window));
    }
    // Scope warnings go beside the view, not in it: one line per namespace stays parseable.
    for row in &rollout.rows {
        for warning in &row.warnings {
            eprintln!("{}: {} {}", row.namespace, warning.code, warning.message);
        }
    }
    for warning in &rollout.wildcards {
        eprintln!(
            "{}: {} {}",
            warning.namespace, warning.code, warning.message
        );
    }
    eprintln!("{}", rollout.summary());
    if rollout.status.notice().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `outbound-traffic-policy [MODE] --namespace NS [--dry-run]`: without a mode, the
/// namespace's effective policy; with `--dry-run`, what the change would write and block;
/// otherwise the change, then the policy read back.
pub async fn namespace_policy(
    cluster: &ClusterArgs,
    prometheus: &PrometheusArgs,
    args: &PolicyArgs,
    namespace: &str,
) -> ExitCode {
    let actor = match local_actor(cluster, prometheus).await {
        Ok(actor) => actor,
        Err(code) => return code,
    };
    let Some(mode) = args.mode.as_deref() else {
        return match crate::service::namespace_policy(&actor, namespace).await {
            Ok(policy) => match &policy.effective {
                Some(effective) => {
                    println!("{}", cli_line(namespace, effective));
                    ExitCode::SUCCESS
                }
                None => failed(AppError::Forbidden {
                    message: "the mesh-wide policy cannot be read".into(),
                }),
            },
            Err(error) => failed(error),
        };
    };
    if args.dry_run {
        let window = Window::parse(&args.window);
        return match crate::service::preview_namespace_policy(&actor, namespace, mode, window).await
        {
            Ok(preview) => {
                println!("{}; dry run: nothing was changed", preview.summary());
                for call in &preview.blocked {
                    println!("{}", blocked_line(call));
                }
                for line in &preview.lines {
                    println!("{}", line.unified());
                }
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        };
    }
    match crate::service::set_namespace_policy(&actor, namespace, mode).await {
        Ok(policy) => match &policy.effective {
            Some(effective) => {
                println!("{}", cli_line(namespace, effective));
                ExitCode::SUCCESS
            }
            None => ExitCode::SUCCESS,
        },
        Err(error) => failed(error),
    }
}
