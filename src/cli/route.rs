//! `mesh-egress route`: route an entry through an egress gateway, stop routing it, or show how
//! it leaves the mesh — through the same service functions as the entry's page.

use super::{ClusterArgs, PrometheusArgs};
use crate::domain::route::EntryRouting;
use clap::Args;
use std::process::ExitCode;

/// Options of `route`.
#[derive(Debug, Clone, Args)]
pub struct RouteArgs {
    /// The ServiceEntry, as NAMESPACE/NAME.
    pub entry: String,
    /// The egress gateway to route it through, as NAMESPACE/NAME.
    #[arg(long, conflicts_with = "stop")]
    pub via: Option<String>,
    /// The entry's port to route (default: its one HTTP or TLS port).
    #[arg(long, requires = "via")]
    pub port: Option<u16>,
    /// Remove the routing mesh-egress wrote for the entry (never routing written by hand).
    #[arg(long)]
    pub stop: bool,
    /// With --via: print the objects that would be written (judged by a dry run); write nothing.
    #[arg(long, requires = "via")]
    pub dry_run: bool,
}

/// Runs `route`: exit 1 with the field and the reason when refused, 2 on bad arguments.
pub async fn route(
    cluster: &ClusterArgs,
    prometheus: &PrometheusArgs,
    args: &RouteArgs,
) -> ExitCode {
    let Some((namespace, name)) = args.entry.split_once('/') else {
        eprintln!(
            "mesh-egress: {:?}: name the ServiceEntry as NAMESPACE/NAME",
            args.entry
        );
        return ExitCode::from(2);
    };
    let actor = match super::rollout::local_actor(cluster, prometheus).await {
        Ok(actor) => actor,
        Err(code) => return code,
    };
    let port = args.port.map(|p| p.to_string()).unwrap_or_default();
    let outcome = match (&args.via, args.stop) {
        (Some(gateway), _) if args.dry_run => {
            crate::service::preview_route(&actor, namespace, name, gateway, &port)
                .await
                .map(|preview| {
                    print!("{}", preview.yaml);
                    println!(
                        "would route {} port {} via gateway {}; dry run: nothing was written",
                        preview.plan.entry, preview.plan.port, preview.plan.gateway
                    );
                })
        }
        (Some(gateway), _) => crate::service::route_entry(&actor, namespace, name, gateway, &port)
            .await
            .map(|plan| {
                let written: Vec<String> = plan.objects.iter().map(|o| o.label()).collect();
                println!(
                    "routed {} port {} via gateway {}: wrote {}",
                    plan.entry,
                    plan.port,
                    plan.gateway,
                    written.join(", ")
                );
            }),
        (None, true) => crate::service::stop_routing(&actor, namespace, name)
            .await
            .map(|removed| {
                println!(
                    "stopped routing {namespace}/{name} through a gateway: removed {}",
                    removed.join(", ")
                );
            }),
        (None, false) => crate::service::entry_routing(&actor, namespace, name)
            .await
            .map(|view| {
                let how = match &view.routing {
                    EntryRouting::Direct => "leaves the mesh directly (no egress gateway)".into(),
                    EntryRouting::Routed { objects, .. } => format!(
                        "is routed {} ({})",
                        view.routing.label().unwrap_or_default(),
                        objects.join(", ")
                    ),
                    EntryRouting::ByHand {
                        virtual_services, ..
                    } => format!(
                        "is routed {} (VirtualService {})",
                        view.routing.label().unwrap_or_default(),
                        virtual_services.join(", ")
                    ),
                };
                println!("{namespace}/{name} {how}");
            }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mesh-egress: {error}");
            ExitCode::FAILURE
        }
    }
}
