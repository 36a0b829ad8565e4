//! The Lapis HTTP front end: one request handler over the storage engine, the authentication
//! module and the wire format. `main.rs` is only the command line around `serve`.

mod access;
pub mod account_config;
mod blob;
mod common;
pub mod config;
mod conn;
mod cors;
pub mod data_folder;
mod error;
mod handler;
pub mod logging;
mod metrics;
mod queue;
mod request;
mod router;
mod state;
mod table;
pub mod tls;
mod web;

use std::future::Future;

pub use state::AppState;

pub use handler::ServiceKind;
pub use metrics::serve_admin;
pub use tls::TlsConfig;

/// Serves one service on `listener` until `shutdown` completes, then lets in-flight requests
/// finish. Idle keep-alive connections are closed after [`config::DEFAULT_KEEP_ALIVE`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    kind: ServiceKind,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, kind, ServeOptions::default(), shutdown).await
}

/// How one service is served beyond its listener and state.
#[derive(Clone)]
pub struct ServeOptions {
    /// TLS (`--cert`): the same service on the same port, with https in the URLs it writes.
    pub tls: Option<TlsConfig>,
    /// How long a connection may wait for a request's headers (idle keep-alive time included)
    /// before it is closed: Azurite's `--blobKeepAliveTimeout` and its siblings.
    pub keep_alive: std::time::Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            keep_alive: config::DEFAULT_KEEP_ALIVE,
        }
    }
}

/// [`serve`] with [`ServeOptions`].
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    kind: ServiceKind,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = match kind {
        ServiceKind::Blob => axum::Router::new()
            .fallback(handler::handle_blob)
            .with_state(state),
        ServiceKind::Table => axum::Router::new()
            .fallback(handler::handle_table)
            .with_state(state),
        ServiceKind::Queue => axum::Router::new()
            .fallback(handler::handle_queue)
            .with_state(state),
        ServiceKind::Web => axum::Router::new()
            .fallback(handler::handle_web)
            .with_state(state),
    };
    conn::serve(listener, app, options.tls, options.keep_alive, shutdown).await
}
