//! The Lapis HTTP front end: one request handler over the storage engine, the authentication
//! module and the wire format. `main.rs` is only the command line around `serve`.

mod access;
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

use std::future::Future;

pub use state::AppState;

pub use handler::ServiceKind;
pub use metrics::serve_admin;

/// Serves one service on `listener` until `shutdown` completes, then lets in-flight requests
/// finish. Idle keep-alive connections are closed after [`config::DEFAULT_KEEP_ALIVE`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    kind: ServiceKind,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_keep_alive(listener, state, kind, config::DEFAULT_KEEP_ALIVE, shutdown).await
}

/// [`serve`], with the time a connection may wait for a request's headers (idle keep-alive time
/// included) before it is closed: Azurite's `--blobKeepAliveTimeout` and its siblings.
pub async fn serve_with_keep_alive(
    listener: tokio::net::TcpListener,
    state: AppState,
    kind: ServiceKind,
    keep_alive: std::time::Duration,
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
    };
    conn::serve(listener, app, keep_alive, shutdown).await
}
