//! `lapis`: serves the Azure Blob, Queue and Table services (path-style URLs) over a durable
//! local store.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use lapis_auth::Accounts;
use lapis_store::{Store, StoreOptions};

use lapis_server::account_config::AccountConfig;
use lapis_server::config::{Command, Config, ImportAzurite};
use lapis_server::{data_folder, logging, AppState, ServeOptions, ServiceKind, TlsConfig};

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

/// Opens the store. Runs after every listener is bound, so that a start that fails on a busy
/// port writes nothing; the folder is checked first, for errors that say what is wrong.
fn open_store(config: &Config) -> Result<Store, String> {
    if config.in_memory {
        let options = StoreOptions {
            memory_capacity: config.memory_capacity(),
            ..StoreOptions::default()
        };
        return Store::in_memory_with(options)
            .map_err(|e| format!("cannot start the in-memory store: {e}"));
    }
    data_folder::prepare(&config.location)?;
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

/// The admin listener. Asked for explicitly (--adminPort, --adminHost), it must be bound like
/// the service ports; left at its default, a busy port (a second server beside a first) leaves
/// the storage services running without it, which is said on stderr and stdout.
async fn bind_admin(config: &Config) -> Result<Option<tokio::net::TcpListener>, String> {
    match bind(SocketAddr::new(config.admin_host, config.admin_port)).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if config.admin_explicit => Err(format!("admin listener: {e}")),
        Err(e) => {
            tracing::warn!(
                "admin listener disabled: {e}; /metrics, /healthz and /readyz are not served \
                 (the default admin port is optional: --adminPort 0 takes a free port, an \
                 explicit --adminPort must be bound or Lapis does not start)"
            );
            Ok(None)
        }
    }
}

/// The TLS configuration of `--cert`/`--key`/`--pwd`, or `None` for plain http.
fn tls_from_flags(config: &Config) -> Result<Option<TlsConfig>, String> {
    match (&config.cert, &config.key, &config.pwd) {
        (Some(cert), key, pwd) => TlsConfig::load(cert, key.as_deref(), pwd.as_deref()).map(Some),
        (None, Some(_), _) => Err("--key needs --cert (the PEM certificate it belongs to)".into()),
        (None, None, Some(_)) => Err("--pwd needs --cert (the PKCS#12/PFX file it opens)".into()),
        (None, None, None) => Ok(None),
    }
}

async fn run(config: Config) -> Result<(), String> {
    for notice in config.no_effect_notices() {
        tracing::warn!("{notice}");
    }
    // Before anything else: a bad certificate stops Lapis before it touches the data folder.
    let tls = tls_from_flags(&config)?;
    let accounts = accounts_from_env()?;
    for key in accounts.lenient_keys() {
        tracing::warn!(
            "AZURITE_ACCOUNTS: {key} is not standard base64; read as Azurite reads it (clients that \
             decode keys strictly, such as the Python SDK, cannot sign with it)"
        );
    }
    let account_config = match &config.account_config {
        Some(path) => AccountConfig::load(path)?,
        None => AccountConfig::default(),
    };
    for name in account_config.unknown_accounts(&accounts) {
        tracing::warn!(
            "--accountConfig names the account {name}, which is not served (AZURITE_ACCOUNTS); \
             its settings have no effect"
        );
    }
    if config.allow_remote_copy_sources {
        tracing::warn!(
            "--allowRemoteCopySources: copies fetch http:// sources on other hosts when asked; \
             anyone who can write to Lapis can make it send GET requests on its network"
        );
    }

    // Everything that can fail is tried before anything is written: the listeners first, then
    // the data folder; a busy port leaves no folder, reserve or database behind.
    let blob = bind(SocketAddr::new(config.blob_host, config.blob_port)).await?;
    let table = bind(SocketAddr::new(config.table_host, config.table_port)).await?;
    let queue = bind(SocketAddr::new(config.queue_host, config.queue_port)).await?;
    let admin = bind_admin(&config).await?;
    let web = match config.web_port {
        Some(port) => Some(
            bind(SocketAddr::new(config.web_host, port))
                .await
                .map_err(|e| format!("web endpoint: {e}"))?,
        ),
        None => None,
    };
    let store = open_store(&config)?;
    let state = AppState::new(store.clone(), accounts)
        .with_remote_copy_sources(config.allow_remote_copy_sources)
        .with_account_config(account_config);

    let admin_bound = match &admin {
        Some(l) => l
            .local_addr()
            .map(|a| a.to_string())
            .map_err(|e| e.to_string())?,
        None => "disabled".to_string(),
    };
    let web_bound = match &web {
        Some(l) => Some(l.local_addr().map_err(|e| e.to_string())?),
        None => None,
    };
    let (blob_bound, table_bound, queue_bound) = (
        blob.local_addr().map_err(|e| e.to_string())?,
        table.local_addr().map_err(|e| e.to_string())?,
        queue.local_addr().map_err(|e| e.to_string())?,
    );
    // Logged before the addresses are printed: whoever reads them finds this line written.
    let data = if config.in_memory {
        "in memory".to_string()
    } else {
        config.location.display().to_string()
    };
    let web_shown = web_bound.map_or("disabled".to_string(), |a| a.to_string());
    tracing::info!(blob = %blob_bound, queue = %queue_bound, table = %table_bound, admin = %admin_bound,
        web = %web_shown, data = %data, "Lapis listening");
    // The first lines of stdout are the bound addresses, Blob, Table, admin, then Queue (added
    // later, so that scripts reading the first lines keep working), then the static website
    // endpoint (or `web disabled`): tests that ask for port 0 read them. The admin listener is plain http even when the services are https.
    let scheme = if tls.is_some() { "https" } else { "http" };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{scheme}://{blob_bound}");
        let _ = writeln!(out, "{scheme}://{table_bound}");
        match admin {
            Some(_) => writeln!(out, "http://{admin_bound}"),
            None => writeln!(out, "admin disabled"),
        }
        .ok();
        let _ = writeln!(out, "{scheme}://{queue_bound}");
        match web_bound {
            Some(a) => writeln!(out, "{scheme}://{a}"),
            None => writeln!(out, "web disabled"),
        }
        .ok();
        let _ = out.flush();
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.changed().await;
    };
    let serve_options = |kind| ServeOptions {
        tls: tls.clone(),
        keep_alive: config.keep_alive(kind),
    };
    let blob_task = tokio::spawn(lapis_server::serve_with(
        blob,
        state.clone(),
        ServiceKind::Blob,
        serve_options(ServiceKind::Blob),
        stopped(stop_rx.clone()),
    ));
    let table_task = tokio::spawn(lapis_server::serve_with(
        table,
        state.clone(),
        ServiceKind::Table,
        serve_options(ServiceKind::Table),
        stopped(stop_rx.clone()),
    ));
    let queue_task = tokio::spawn(lapis_server::serve_with(
        queue,
        state.clone(),
        ServiceKind::Queue,
        serve_options(ServiceKind::Queue),
        stopped(stop_rx.clone()),
    ));
    let web_task = web.map(|l| {
        tokio::spawn(lapis_server::serve_with(
            l,
            state.clone(),
            ServiceKind::Web,
            serve_options(ServiceKind::Web),
            stopped(stop_rx.clone()),
        ))
    });
    let admin_task =
        admin.map(|l| tokio::spawn(lapis_server::serve_admin(l, state, stopped(stop_rx))));
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    let mut served = Ok(());
    for task in [blob_task, table_task, queue_task]
        .into_iter()
        .chain(web_task)
    {
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
    let config = Config::from_command_line();
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
