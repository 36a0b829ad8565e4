//! `lapis`: serves the Azure Blob, Queue and Table services (path-style URLs) over a durable
//! local store.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use lapis_auth::Accounts;
use lapis_store::Store;

use lapis_server::config::{Command, Config, ImportAzurite};
use lapis_server::{logging, AppState, ServiceKind};

// jemalloc, for Rust and (unprefixed) for SQLite too: glibc malloc's arena locks and chunk
// consolidation were 10-15 % of a request's CPU under 32 connections; see docs/performance.md.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's built-in options (the `MALLOC_CONF` variable still overrides them). One arena:
/// per-thread caches already keep threads apart, and every extra arena costs resident memory
/// (idle RSS 9.1 MiB with one, 9.7 with the default 4 per core).
#[cfg(not(target_env = "msvc"))]
#[export_name = "malloc_conf"]
static MALLOC_CONF: &[u8; 10] = b"narenas:1\0";

fn accounts_from_env() -> Result<Accounts, String> {
    match std::env::var("AZURITE_ACCOUNTS") {
        Ok(v) if !v.trim().is_empty() => {
            Accounts::parse(&v).map_err(|e| format!("AZURITE_ACCOUNTS: {e}"))
        }
        _ => Ok(Accounts::dev()),
    }
}

fn open_store(config: &Config) -> Result<Store, String> {
    if config.in_memory {
        return Store::in_memory().map_err(|e| format!("cannot start the in-memory store: {e}"));
    }
    std::fs::create_dir_all(&config.location).map_err(|e| {
        format!(
            "cannot create data folder {}: {e}",
            config.location.display()
        )
    })?;
    Store::open(&config.location)
        .map_err(|e| format!("cannot open data folder {}: {e}", config.location.display()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

async fn run(config: Config) -> Result<(), String> {
    let accounts = accounts_from_env()?;
    for key in accounts.lenient_keys() {
        tracing::warn!(
            "AZURITE_ACCOUNTS: {key} is not standard base64; read as Azurite reads it (clients that \
             decode keys strictly, such as the Python SDK, cannot sign with it)"
        );
    }
    let store = open_store(&config)?;
    let state = AppState::new(store.clone(), accounts)
        .with_remote_copy_sources(config.allow_remote_copy_sources);
    if config.allow_remote_copy_sources {
        tracing::warn!(
            "--allowRemoteCopySources: copies fetch http:// sources on other hosts when asked; \
             anyone who can write to Lapis can make it send GET requests on its network"
        );
    }

    let blob_addr = SocketAddr::new(config.blob_host, config.blob_port);
    let table_addr = SocketAddr::new(config.table_host, config.table_port);
    let queue_addr = SocketAddr::new(config.queue_host, config.queue_port);
    let blob = bind(blob_addr).await?;
    let table = bind(table_addr).await?;
    let queue = bind(queue_addr).await?;
    // Metrics are auxiliary: a busy admin port (two servers side by side in tests) must not stop
    // the storage services, so it is a warning, not a failure.
    let admin = match bind(SocketAddr::new(config.admin_host, config.admin_port)).await {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!("admin listener disabled: {e}");
            None
        }
    };
    let admin_bound = match &admin {
        Some(l) => l
            .local_addr()
            .map(|a| a.to_string())
            .map_err(|e| e.to_string())?,
        None => "disabled".to_string(),
    };
    let (blob_bound, table_bound, queue_bound) = (
        blob.local_addr().map_err(|e| e.to_string())?,
        table.local_addr().map_err(|e| e.to_string())?,
        queue.local_addr().map_err(|e| e.to_string())?,
    );
    // The first lines of stdout are the bound addresses, Blob, Table, admin, then Queue (added
    // last, so that scripts reading the first lines keep working): tests that ask for port 0
    // read them.
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "http://{blob_bound}");
        let _ = writeln!(out, "http://{table_bound}");
        match admin {
            Some(_) => writeln!(out, "http://{admin_bound}"),
            None => writeln!(out, "admin disabled"),
        }
        .ok();
        let _ = writeln!(out, "http://{queue_bound}");
        let _ = out.flush();
    }
    tracing::info!(blob = %blob_bound, queue = %queue_bound, table = %table_bound, admin = %admin_bound,
        data = %config.location.display(), in_memory = config.in_memory, "Lapis listening");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    let blob_task = tokio::spawn(lapis_server::serve(
        blob,
        state.clone(),
        ServiceKind::Blob,
        stopped(stop_rx.clone()),
    ));
    let table_task = tokio::spawn(lapis_server::serve(
        table,
        state.clone(),
        ServiceKind::Table,
        stopped(stop_rx.clone()),
    ));
    let queue_task = tokio::spawn(lapis_server::serve(
        queue,
        state.clone(),
        ServiceKind::Queue,
        stopped(stop_rx.clone()),
    ));
    let admin_task =
        admin.map(|l| tokio::spawn(lapis_server::serve_admin(l, state, stopped(stop_rx))));
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    let mut served = Ok(());
    for task in [blob_task, table_task, queue_task] {
        let outcome = match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if served.is_ok() {
            served = outcome;
        }
    }
    let closed = tokio::task::spawn_blocking(move || store.close()).await;
    served.map_err(|e| format!("server error: {e}"))?;
    match closed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("closing the store: {e}")),
        Err(e) => Err(format!("closing the store: {e}")),
    }
}

/// `lapis import-azurite`: the summary on stdout, errors on stderr.
fn import_azurite(config: &Config, args: &ImportAzurite) -> ExitCode {
    let options = lapis_import::Options {
        source: args.source.clone(),
        target: args
            .location
            .clone()
            .unwrap_or_else(|| config.location.clone()),
        best_effort: args.best_effort,
        quiet: false,
    };
    match lapis_import::import(&options) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lapis import-azurite: {e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(Command::ImportAzurite(args)) = &config.command {
        return import_azurite(&config, args);
    }
    if let Err(e) = logging::init(&config) {
        eprintln!("lapis: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lapis: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lapis: {e}");
            ExitCode::from(1)
        }
    }
}
