//! The server binary: `mesh-egress [serve]` and the command-line tools.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    use mesh_egress::cli::{outbound_traffic_policy, Cli, Command, IstioCommand, ServeArgs};

    let cli = Cli::parse();
    // The one-line commands keep stderr for their own message.
    let default_level = match cli.command {
        None | Some(Command::Serve(_)) => "info",
        Some(_) => "off",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        mesh_egress::cli::LogFormat::Human => logs.init(),
        mesh_egress::cli::LogFormat::Json => logs.json().init(),
    }
    let result = match cli.command {
        None => serve(&cli, ServeArgs::parse_from(["serve"])).await,
        Some(Command::Serve(ref args)) => serve(&cli, args.clone()).await,
        Some(Command::Validate(args)) => Ok(mesh_egress::cli::validate(&args)),
        Some(Command::Apply(args)) => Ok(mesh_egress::cli::apply(&cli.cluster, &args).await),
        Some(Command::Rollout(args)) => {
            Ok(mesh_egress::cli::rollout(&cli.cluster, &cli.prometheus, &args).await)
        }
        Some(Command::Route(args)) => {
            Ok(mesh_egress::cli::route(&cli.cluster, &cli.prometheus, &args).await)
        }
        Some(Command::OutboundTrafficPolicy(args))
        | Some(Command::Istio {
            command: IstioCommand::OutboundTrafficPolicy(args),
        }) => Ok(outbound_traffic_policy(&cli.cluster, &cli.prometheus, &args).await),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mesh-egress: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn serve(
    cli: &mesh_egress::cli::Cli,
    args: mesh_egress::cli::ServeArgs,
) -> anyhow::Result<std::process::ExitCode> {
    let cluster_args = &cli.cluster;
    use anyhow::Context;
    use std::sync::Arc;

    let leptos_options = leptos_options(args.addr)?;
    let addr = leptos_options.site_addr;
    let auth = args.auth_mode().map_err(anyhow::Error::msg)?;
    mesh_egress::cli::check_bind(addr, args.allow_unauthenticated || auth.is_shared())
        .map_err(anyhow::Error::msg)?;
    tracing::info!(mode = auth.name(), "user identification");
    if !addr.ip().is_loopback() && !auth.is_shared() {
        tracing::warn!(
            %addr,
            "serving without sign-in on a non-loopback address: everyone who reaches it acts \
             with this server's cluster identity"
        );
    }
    let cluster = connect(cluster_args).await;
    let prometheus = cli.prometheus.client().map_err(anyhow::Error::msg)?;
    match &prometheus {
        Some(p) => tracing::info!(prometheus = p.address(), "traffic from Prometheus"),
        None => tracing::info!("no --prometheus (or PROMETHEUS_URL): traffic is not shown"),
    }
    let traffic = mesh_egress::service::Traffic::new(prometheus, mesh_egress::service::FIRST_WAIT);
    let serving = mesh_egress::server::Serving {
        auth: Arc::new(auth),
        traffic,
        hosts: mesh_egress::server::HostPolicy::new(Some(addr.ip()), &args.public_host),
        live_connections: args.max_live_connections,
        undo_for: args.undo_minutes * 60,
    };
    let shared = serving.auth.is_shared();
    let app = match args.probe_addr {
        Some(probe_addr) => {
            let routers = mesh_egress::server::routers(leptos_options, Arc::new(cluster), serving);
            let probe_listener = tokio::net::TcpListener::bind(&probe_addr)
                .await
                .with_context(|| format!("cannot listen on {probe_addr} (--probe-addr)"))?;
            tracing::info!("probes and metrics on http://{probe_addr}");
            tokio::spawn(mesh_egress::listen::serve(
                probe_listener,
                routers.probes,
                mesh_egress::listen::Limits::default(),
                mesh_egress::server::shutdown_signal(),
            ));
            routers.app
        }
        None => {
            if shared {
                tracing::warn!(
                    "shared mode without --probe-addr: /readyz and /metrics are not served"
                );
            }
            mesh_egress::server::router_with(leptos_options, Arc::new(cluster), serving)
        }
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("listening on http://{addr}");
    mesh_egress::listen::serve(
        listener,
        app,
        mesh_egress::listen::Limits::default(),
        mesh_egress::server::shutdown_signal(),
    )
    .await;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Leptos's options (LEPTOS_* variables), listening on `addr` when given; the site's files by
/// content hash when the release build's hash.txt is beside the binary.
#[cfg(feature = "ssr")]
fn leptos_options(
    addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<leptos::prelude::LeptosOptions> {
    use anyhow::Context;
    let mut leptos_options = leptos::prelude::get_configuration(None)
        .context("reading the Leptos configuration (LEPTOS_* variables)")?
        .leptos_options;
    if let Some(addr) = addr {
        leptos_options.site_addr = addr;
    }
    // The release build names the site's files by content hash and says so in hash.txt beside
    // the binary; use them whenever that file is there (LEPTOS_HASH_FILES decides otherwise).
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(&*leptos_options.hash_file)))
            .is_some_and(|path| path.exists());
    }
    Ok(leptos_options)
}

/// The cluster, or why there is none: the server keeps running without one, and the pages say
/// what is wrong.
#[cfg(feature = "ssr")]
async fn connect(
    cluster_args: &mesh_egress::cli::ClusterArgs,
) -> Result<mesh_egress::cluster::Cluster, mesh_egress::error::AppError> {
    match mesh_egress::cluster::Cluster::connect(&cluster_args.connect_options()).await {
        Ok(cluster) => {
            tracing::info!(cluster = cluster.server(), "using cluster");
            Ok(cluster)
        }
        Err(e) => {
            let error = mesh_egress::error::AppError::from(e);
            tracing::warn!(%error, "no cluster; serving anyway");
            Err(error)
        }
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser build has no binary; see lib.rs for the hydrate entry point.
}
