//! Request and response bodies: small XML bodies read whole (bounded), blob bytes streamed into
//! the engine's writer and out of its reader, never held whole in memory.

use axum::body::Body;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use lapis_store::{BlobReader, BodyDigest, CustomerKey, Store, WrittenData};
use lapis_wire::{AzureError, ErrorCode};

pub(crate) use crate::common::{client_gone, read_body, read_small_body};
use crate::error::{ApiError, ApiResult};
use crate::request::Headers;

/// Writes reach the engine in slices of this size: large enough to amortise the hand-off to a
/// blocking thread, small enough to keep memory flat.
const WRITE_SLICE: usize = 1024 * 1024;
/// Reads leave the engine in chunks of this size.
const READ_CHUNK: usize = 1024 * 1024;
/// Blobs up to this size are read in the same blocking call that resolves them, and sent from
/// memory: one hand-off to the blocking pool instead of one per chunk.
pub const INLINE_READ: u64 = 1024 * 1024;
/// Contents up to this size are read on the async worker that found them: one pread of the page
/// cache or one SQLite row (small blobs are stored inline), cheaper than a hand-off.
pub const READ_NOW: u64 = 64 * 1024;
/// Bodies up to this declared size are read whole and stored in one blocking call.
pub const INLINE_WRITE: u64 = 1024 * 1024;

/// The body length the client declared, if it did.
pub fn declared_length(headers: &Headers) -> Option<u64> {
    headers
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// The transactional checksums a client may send with its bytes.
pub struct Expected {
    pub md5: Option<Vec<u8>>,
    pub crc64: Option<u64>,
}

impl Expected {
    /// `Content-MD5` or `x-ms-content-crc64`, not both.
    pub fn from_headers(headers: &Headers) -> ApiResult<Expected> {
        let expected = Expected {
            md5: headers.md5("content-md5")?,
            crc64: headers.crc64("x-ms-content-crc64")?,
        };
        if expected.md5.is_some() && expected.crc64.is_some() {
            return Err(AzureError::new(ErrorCode::BothCrc64AndMd5HeaderPresent).into());
        }
        Ok(expected)
    }

    /// Put Blob: the blob's own `x-ms-blob-content-md5`, when sent, is the MD5 the body is
    /// checked against (and kept), and `Content-MD5` is not looked at, as Azure does.
    pub fn for_put_blob(headers: &Headers) -> ApiResult<Expected> {
        let Some(md5) = headers.md5("x-ms-blob-content-md5")? else {
            return Expected::from_headers(headers);
        };
        let crc64 = headers.crc64("x-ms-content-crc64")?;
        if crc64.is_some() {
            return Err(AzureError::new(ErrorCode::BothCrc64AndMsMd5HeaderPresent).into());
        }
        Ok(Expected {
            md5: Some(md5),
            crc64: None,
        })
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::RequestBodyTooLarge)
            .message(format!("The request body is too large and exceeds the maximum permissible limit of {limit} bytes.")),
    )
}

/// Refuses a body whose declared length is over the operation's limit before reading any of it.
pub fn check_declared_length(headers: &Headers, limit: u64) -> ApiResult<()> {
    match headers
        .get("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(len) if len > limit => Err(too_large(limit)),
        _ => Ok(()),
    }
}

/// What the caller needs of the body's MD5 besides checking a `Content-MD5` the client sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Md5Use {
    /// Stored as the blob's Content-MD5 (Put Blob).
    Keep,
    /// Only checked, when the client sent one (Put Block).
    CheckOnly,
}

/// Streams the request body into the extent store and checks it against the client's checksums.
/// A body (chunked, so of undeclared length) that grows past `limit` is refused. The MD5 is
/// computed only when it is kept or checked.
/// Under a customer-provided `key` the bytes are kept encrypted.
pub async fn receive(
    store: &Store,
    body: Body,
    expected: &Expected,
    limit: u64,
    md5_use: Md5Use,
    key: Option<&CustomerKey>,
) -> ApiResult<WrittenData> {
    let store = store.clone();
    let with_md5 = md5_use == Md5Use::Keep || expected.md5.is_some();
    let key = key.cloned();
    let mut writer = tokio::task::spawn_blocking(move || {
        let writer = store.blob_writer()?;
        let writer = if with_md5 {
            writer
        } else {
            writer.without_md5()
        };
        match &key {
            Some(key) => writer.encrypt_with(key),
            None => Ok(writer),
        }
    })
    .await??;
    let mut stream = body.into_data_stream();
    let mut pending = BytesMut::new();
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| client_gone())?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(too_large(limit));
        }
        pending.extend_from_slice(&chunk);
        if pending.len() >= WRITE_SLICE {
            let slice = pending.split().freeze();
            writer =
                tokio::task::spawn_blocking(move || writer.write(&slice).map(|_| writer)).await??;
        }
    }
    let data = tokio::task::spawn_blocking(move || {
        writer.write(&pending)?;
        writer.finish()
    })
    .await??;
    check_checksums(expected, data.md5.as_ref(), data.crc64)?;
    Ok(data)
}

/// Compares what the client said it sent with what arrived (`md5` is there whenever the client
/// sent one).
fn check_checksums(expected: &Expected, md5: Option<&[u8; 16]>, crc64: u64) -> ApiResult<()> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    if let (Some(want), Some(md5)) = (&expected.md5, md5) {
        if want.as_slice() != md5 {
            return Err(AzureError::new(ErrorCode::Md5Mismatch)
                .detail("UserSpecifiedMd5", b64(want))
                .detail("ServerCalculatedMd5", b64(md5))
                .into());
        }
    }
    if let Some(want) = expected.crc64 {
        if want != crc64 {
            return Err(AzureError::new(ErrorCode::Crc64Mismatch)
                .detail("UserSpecifiedCrc64", b64(&want.to_le_bytes()))
                .detail("ServerCalculatedCrc64", b64(&crc64.to_le_bytes()))
                .into());
        }
    }
    Ok(())
}

/// Reads a whole (bounded) range into memory, for `x-ms-range-get-content-md5`.
pub async fn read_all(mut reader: BlobReader) -> ApiResult<Bytes> {
    Ok(tokio::task::spawn_blocking(move || read_remaining(&mut reader)).await??)
}

/// The MD5 and CRC64 of a body read whole, checked against what the client said it sent.
pub fn checked_digest(bytes: &[u8], expected: &Expected) -> ApiResult<BodyDigest> {
    let digest = BodyDigest::of(bytes);
    check_checksums(expected, Some(&digest.md5), digest.crc64)?;
    Ok(digest)
}

/// Reads what remains of a reader (bounded by the caller) on the current blocking thread.
pub fn read_remaining(reader: &mut BlobReader) -> lapis_store::Result<Bytes> {
    let mut buf = BytesMut::with_capacity(reader.remaining() as usize);
    while reader.remaining() > 0 {
        match reader.read_chunk(READ_CHUNK)? {
            Some(chunk) => buf.extend_from_slice(&chunk),
            None => break,
        }
    }
    Ok(buf.freeze())
}

/// A response body that pulls chunks from the engine as the client reads them.
pub fn stream(reader: BlobReader) -> Body {
    if reader.remaining() == 0 {
        return Body::empty();
    }
    let chunks = futures::stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        if reader.remaining() == 0 {
            // Everything was sent: no hand-off just to learn the reader is empty.
            return None;
        }
        let step = tokio::task::spawn_blocking(move || {
            let chunk = reader.read_chunk(READ_CHUNK);
            (reader, chunk)
        })
        .await;
        match step {
            Ok((reader, Ok(Some(chunk)))) => {
                Some((Ok::<Bytes, std::io::Error>(chunk), Some(reader)))
            }
            Ok((_, Ok(None))) => None,
            Ok((_, Err(e))) => {
                tracing::error!(error = %e, "blob read failed mid-response");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    Body::from_stream(chunks)
}
