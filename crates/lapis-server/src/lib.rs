//! The Lapis HTTP front end: one request handler over the storage engine, the authentication
//! module and the wire format. `main.rs` is only the command line around `serve`.

mod access;
pub mod config;
mod conn;
mod cors;
mod error;
mod handler;
pub mod logging;
mod metrics;
mod ops;
mod request;
mod router;
mod state;
mod table;
mod workers;

use std::future::Future;

pub use state::AppState;

pub use handler::ServiceKind;
pub use metrics::serve_admin;
pub use workers::{Placement, Workers};

/// Serves one service on `listener` until `shutdown` completes, then lets in-flight requests
/// finish. Connections run on the calling runtime.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    kind: ServiceKind,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve(listener, router(state, kind), shutdown, None).await
}

/// As `serve`, with each connection on one of `placement`'s worker threads (the binary's way).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    kind: ServiceKind,
    shutdown: impl Future<Output = ()> + Send + 'static,
    placement: Placement,
) -> std::io::Result<()> {
    conn::serve(listener, router(state, kind), shutdown, Some(placement)).await
}

fn router(state: AppState, kind: ServiceKind) -> axum::Router {
    match kind {
        ServiceKind::Blob => axum::Router::new()
            .fallback(handler::handle_blob)
            .with_state(state),
        ServiceKind::Table => axum::Router::new()
            .fallback(handler::handle_table)
            .with_state(state),
    }
}
