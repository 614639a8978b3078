//! `mesh-egress apply -f FILE`: one ServiceEntry from a manifest, judged like the pages judge it
//! (mesh-egress's rules, then istiod's webhook by a dry run), its diff printed, then written —
//! created when it does not exist, updated (never over a change made meanwhile) when it does.

use super::ClusterArgs;
use crate::auth::{AuthMode, Caller};
use crate::cluster::{Cluster, ErrorKind};
use crate::domain::edit::DiffLine;
use crate::domain::manifest::service_entry_for_create;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::service::{apply_edit, create_from_manifest, Services, Traffic};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Where a manifest without a namespace goes, as with `kubectl apply`.
const DEFAULT_NAMESPACE: &str = "default";

/// Options of `apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// A manifest of one ServiceEntry (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
    /// Judge it and print the diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields another field manager owns (as `kubectl apply --server-side
    /// --force-conflicts`); without it such a change is refused, naming the owner.
    #[arg(long)]
    pub force: bool,
}

/// Prints why the manifest or the write was refused: each finding as `FIELD: REASON`.
fn refused(error: &AppError) -> ExitCode {
    match error {
        AppError::Rejected { findings } => {
            for finding in findings {
                eprintln!("mesh-egress: {}: {}", finding.field, finding.message);
            }
        }
        other => eprintln!("mesh-egress: {other}"),
    }
    ExitCode::FAILURE
}

/// Runs `apply`: 0 when applied (or judged, with `--dry-run`), 1 when refused, 2 when the file
/// cannot be read.
pub async fn apply(cluster: &ClusterArgs, args: &ApplyArgs) -> ExitCode {
    let text = match super::read_input(&args.file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("mesh-egress: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let (namespace, object) = match service_entry_for_create(&text, Some(DEFAULT_NAMESPACE)) {
        Ok(found) => found,
        Err(findings) => return refused(&AppError::Rejected { findings }),
    };
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let client = match Cluster::connect(&cluster.connect_options()).await {
        Ok(client) => client,
        Err(e) => return refused(&AppError::from(e)),
    };
    let actor = match Services::new(
        Ok(client.clone()),
        Arc::new(AuthMode::Local),
        Arc::new(Metrics::default()),
        Traffic::default(),
    )
    .actor(&Caller::Local)
    {
        Ok(actor) => actor,
        Err(e) => return refused(&e),
    };
    let key = format!("{namespace}/{name}");
    match client.service_entry_object(&namespace, &name).await {
        Err(e) if e.kind == ErrorKind::NotFound => {
            if args.dry_run {
                println!("serviceentry {key} would be created (dry run: nothing written)");
                return ExitCode::SUCCESS;
            }
            return match create_from_manifest(&actor, &text, Some(&namespace)).await {
                Ok(_) => {
                    println!("serviceentry {key} created");
                    ExitCode::SUCCESS
                }
                Err(e) => refused(&e),
            };
        }
        Err(e) => return refused(&AppError::from(e)),
        Ok(_) => {}
    }
    // NB: applied as Kubernetes applies (server-side apply): what others own survives.
    let preview = match apply_edit(&actor, &namespace, &name, &text, args.force, true).await {
        Ok(preview) => preview,
        Err(e) => return refused(&e),
    };
    if preview.changes.is_empty() {
        println!("serviceentry {key} unchanged");
        return ExitCode::SUCCESS;
    }
    for line in &preview.lines {
        if !matches!(line, DiffLine::Same(_)) {
            println!("{}", line.unified());
        }
    }
    let fields: Vec<&str> = preview.changes.iter().map(|c| c.path.as_str()).collect();
    println!("changes: {}", fields.join(", "));
    if args.dry_run {
        println!("serviceentry {key} would be configured (dry run: nothing written)");
        return ExitCode::SUCCESS;
    }
    match apply_edit(&actor, &namespace, &name, &text, args.force, false).await {
        Ok(_) => {
            println!("serviceentry {key} configured");
            ExitCode::SUCCESS
        }
        Err(e) => refused(&e),
    }
}
