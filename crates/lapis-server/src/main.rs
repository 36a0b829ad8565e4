//! `lapis`: serves the Azure Blob service (path-style URLs) over a durable local store.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use lapis_auth::Accounts;
use lapis_store::Store;

use lapis_server::config::Config;
use lapis_server::{logging, AppState};

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

async fn run(config: Config) -> Result<(), String> {
    let accounts = accounts_from_env()?;
    let store = open_store(&config)?;
    let state = AppState::new(store.clone(), accounts);

    let blob_addr = SocketAddr::new(config.blob_host, config.blob_port);
    let listener = tokio::net::TcpListener::bind(blob_addr)
        .await
        .map_err(|e| format!("cannot listen on {blob_addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    // The first line of stdout is the bound address: tests that ask for port 0 read it.
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "http://{bound}");
        let _ = out.flush();
    }
    tracing::info!(address = %bound, data = %config.location.display(), in_memory = config.in_memory, "Blob service listening");

    let served = lapis_server::serve(listener, state, shutdown_signal()).await;
    let closed = tokio::task::spawn_blocking(move || store.close()).await;
    served.map_err(|e| format!("server error: {e}"))?;
    match closed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("closing the store: {e}")),
        Err(e) => Err(format!("closing the store: {e}")),
    }
}

fn main() -> ExitCode {
    let config = Config::parse();
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
