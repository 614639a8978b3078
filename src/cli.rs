//! The command line: `mesh-egress [serve]` and the subcommands later issues add.

use crate::cluster::ConnectOptions;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A web dashboard for how an Istio service mesh reaches services outside it.
#[derive(Debug, Parser)]
#[command(name = "mesh-egress", version, about)]
pub struct Cli {
    /// Where the cluster is.
    #[command(flatten)]
    pub cluster: ClusterArgs,
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
}

impl ClusterArgs {
    /// The options the cluster module connects with.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            istio_namespace: self.istio_namespace.clone(),
            revision: self.revision.clone(),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
}

/// Options of `serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: LEPTOS_SITE_ADDR, else 127.0.0.1:3000).
    #[arg(long)]
    pub addr: Option<SocketAddr>,
}
