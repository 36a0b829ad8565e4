//! What the three services share: their answers (`Reply`), stored access policies on the wire,
//! small request bodies read whole, and the ways async code reaches the engine.

pub mod acl;
mod reply;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::Request;
use lapis_store::{Pending, Store};
use lapis_wire::{AzureError, ErrorCode};

use crate::error::{ApiError, ApiResult};
pub use reply::Reply;

/// Runs a synchronous engine call on the blocking pool: the way async code reaches the engine
/// for anything that writes or may take long (listings, queries, large reads), for both services.
pub async fn on_store<T, F>(store: &Store, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> lapis_store::Result<T> + Send + 'static,
{
    let store = store.clone();
    Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
}

/// Runs a point read on the calling async worker. A point read is one indexed lookup in
/// SQLite's page cache (a few microseconds, never waiting on the writer under WAL); the hand-off
/// to the blocking pool would cost more than the read itself (two thread wake-ups and a
/// contended pool lock: a third of the CPU of a 4 KiB GET, measured with perf). Only for
/// lookups by key: nothing that scans, writes or reads more than `body::READ_NOW` bytes.
pub fn point_read<T>(
    store: &Store,
    f: impl FnOnce(&Store) -> lapis_store::Result<T>,
) -> ApiResult<T> {
    Ok(f(store)?)
}

/// Queues a write on the engine's writer thread from the async worker and awaits its commit,
/// with no blocking thread parked in between. Only for writes that touch no file before the
/// writer takes them: inline blobs and entities (`Store::queue_*`).
pub async fn queued<T>(
    store: &Store,
    f: impl FnOnce(&Store) -> lapis_store::Result<Pending<T>>,
) -> ApiResult<T> {
    let pending = f(store)?;
    Ok(pending.await?)
}

pub(crate) fn client_gone() -> ApiError {
    // The client stopped sending; nothing was stored. Azure reports a broken body this way.
    ApiError(
        AzureError::new(ErrorCode::InvalidInput)
            .message("The request body could not be read completely."),
    )
}

/// Reads a small body (XML documents), refusing more than `limit` bytes.
pub async fn read_small_body(req: Request<Body>, limit: usize) -> ApiResult<Bytes> {
    read_body(req.into_body(), limit).await
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> ApiResult<Bytes> {
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| client_gone())?;
        if buf.len() + chunk.len() > limit {
            return Err(AzureError::new(ErrorCode::RequestBodyTooLarge).into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
