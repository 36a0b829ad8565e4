//! Copy Blob, Copy Blob From URL, Put Blob From URL, Put Block From URL and Abort Copy Blob.
//! Every copy completes in the request that starts it (`x-ms-copy-status: success`): within
//! Lapis the engine shares the source's stored bytes instead of moving them; a source on another
//! host (`--allowRemoteCopySources`) is fetched whole and written as a Put Blob's body.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{ByteRange, CopyInto};
use lapis_wire::{AzureError, ErrorCode};

use super::block_blob::access_tier;
use super::body::{self, Expected, Md5Use};
use super::copy_source::{self, Source, SourceAuth};
use super::{blocking, conditions, remote_source, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

/// Copy Blob From URL takes sources of at most 256 MiB; so does every fetch of a source on
/// another host, which is held in memory (Copy Blob's too, though Azure's asynchronous Copy
/// Blob takes larger ones).
const MAX_SYNC_COPY: u64 = 256 * 1024 * 1024;
/// Put Block From URL stages at most 4000 MiB, as Put Block.
const MAX_BLOCK: u64 = 4000 * 1024 * 1024;

/// Metadata given replaces the source's; none given keeps it.
fn metadata(headers: &Headers) -> ApiResult<Option<Vec<(String, String)>>> {
    let m = headers.metadata()?;
    Ok((!m.is_empty()).then_some(m))
}

fn copied(status: StatusCode, done: &lapis_store::CopyDone) -> Reply {
    Reply::new(status)
        .etag(&done.etag)
        .date("last-modified", done.last_modified)
        .header("x-ms-copy-id", &done.copy_id)
        .fixed("x-ms-copy-status", "success")
        .header_opt("x-ms-version-id", done.version_id.as_ref())
}

/// A destination under a customer-provided key would need the copy re-encrypted; not offered.
fn refuse_destination_key(headers: &Headers) -> ApiResult<()> {
    if headers.get("x-ms-encryption-key").is_some() {
        return Err(AzureError::new(ErrorCode::NotImplemented)
            .message("Lapis does not implement copies into blobs under customer-provided keys yet.")
            .into());
    }
    Ok(())
}

/// Copies the source into the request's blob. `source_md5` (`x-ms-source-content-md5`) is
/// checked against the bytes of a source on another host; for one on this Lapis the caller
/// checks it against the stored MD5 (`check_source_md5`).
async fn copy(
    ctx: &Ctx,
    headers: &Headers<'_>,
    auth: SourceAuth,
    into: CopyInto,
    source_md5: Option<Vec<u8>>,
) -> ApiResult<lapis_store::CopyDone> {
    refuse_destination_key(headers)?;
    let source = copy_source::resolve(ctx, headers, auth).await?;
    let cond = conditions::parse_write(headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let source = match source {
        Source::Here(source) => source,
        Source::Remote(url) => {
            return copy_remote(ctx, headers, &url, into, cond, source_md5).await;
        }
    };
    blocking(ctx, move |s| {
        s.copy_blob(&source, &account, &container, &blob, into, &cond)
    })
    .await
}

/// A copy of a source on another host: fetched (at most 256 MiB), then written as Put Blob
/// writes a body, with the source's content headers and metadata unless `into` replaces them.
async fn copy_remote(
    ctx: &Ctx,
    headers: &Headers<'_>,
    url: &http::Uri,
    into: CopyInto,
    cond: lapis_store::Conditions,
    source_md5: Option<Vec<u8>>,
) -> ApiResult<lapis_store::CopyDone> {
    let fetched = remote_source::fetch(ctx, url, headers, None, MAX_SYNC_COPY).await?;
    let (http, metadata) = (fetched.http_props(), fetched.metadata()?);
    let expected = Expected {
        md5: source_md5,
        crc64: None,
    };
    let data = body::receive(
        &ctx.state.store,
        Body::from(fetched.body),
        &expected,
        MAX_SYNC_COPY,
        Md5Use::Keep,
        None,
    )
    .await?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    blocking(ctx, move |s| {
        s.copy_fetched(
            data, http, metadata, &account, &container, &blob, into, &cond,
        )
    })
    .await
}

/// Copy Blob: 202 with the copy's id, complete.
pub async fn copy_blob(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let into = CopyInto {
        source_url: headers.owned("x-ms-copy-source").unwrap_or_default(),
        metadata: metadata(&headers)?,
        tier: access_tier(&headers)?,
        seal: match headers.get("x-ms-seal-blob") {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
            Some(v) => return Err(Headers::invalid("x-ms-seal-blob", v).into()),
        },
        tags: super::tags::upload_tags(&headers)?,
        ..Default::default()
    };
    let done = copy(&ctx, &headers, SourceAuth::SameAccountKey, into, None).await?;
    Ok(copied(StatusCode::ACCEPTED, &done).finish())
}

/// Copy Blob From URL (`x-ms-requires-sync: true`): a source of at most 256 MiB, readable by
/// its URL alone.
pub async fn copy_from_url(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let into = CopyInto {
        source_url: headers.owned("x-ms-copy-source").unwrap_or_default(),
        metadata: metadata(&headers)?,
        tier: access_tier(&headers)?,
        max_size: Some(MAX_SYNC_COPY),
        tags: super::tags::upload_tags(&headers)?,
        ..Default::default()
    };
    check_source_md5(&ctx, &headers).await?;
    let source_md5 = headers.md5("x-ms-source-content-md5")?;
    let done = copy(&ctx, &headers, SourceAuth::UrlOnly, into, source_md5).await?;
    let mut reply = copied(StatusCode::ACCEPTED, &done);
    if let Some(md5) = &done.content_md5 {
        reply = reply.base64("content-md5", md5);
    }
    Ok(reply.finish())
}

/// `x-ms-source-content-md5`: the stored MD5 of a source on this Lapis must be the one given
/// (a source on another host is checked on its bytes, in `copy`).
async fn check_source_md5(ctx: &Ctx, headers: &Headers<'_>) -> ApiResult<()> {
    let Some(given) = headers.md5("x-ms-source-content-md5")? else {
        return Ok(());
    };
    let Source::Here(source) = copy_source::resolve(ctx, headers, SourceAuth::UrlOnly).await?
    else {
        return Ok(());
    };
    let props = blocking(ctx, move |s| {
        s.get_blob_properties_at(
            &source.account,
            &source.container,
            &source.blob,
            source.snapshot.as_deref(),
            &Default::default(),
            lapis_store::Access::Read,
            None,
        )
    })
    .await?;
    if props.http.content_md5.as_deref() != Some(given.as_slice()) {
        return Err(AzureError::new(ErrorCode::Md5Mismatch).into());
    }
    Ok(())
}

/// Put Blob From URL: a block blob with the source's content; its content headers are the
/// source's unless `x-ms-copy-source-blob-properties: false`, then the request's.
pub async fn put_blob_from_url(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    match headers.get("x-ms-blob-type") {
        Some("BlockBlob") => {}
        Some(other) => return Err(Headers::invalid("x-ms-blob-type", other).into()),
        None => {}
    }
    if headers
        .get("content-length")
        .is_some_and(|l| l.trim() != "0")
    {
        return Err(Headers::invalid(
            "Content-Length",
            headers.get("content-length").unwrap_or_default(),
        )
        .into());
    }
    let keep_source_props = headers
        .get("x-ms-copy-source-blob-properties")
        .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let http = match keep_source_props {
        true => None,
        false => Some(super::any_blob::http_props_from_blob_headers(&headers)?),
    };
    let into = CopyInto {
        source_url: headers.owned("x-ms-copy-source").unwrap_or_default(),
        // Put Blob From URL sets the metadata given, none if none.
        metadata: Some(headers.metadata()?),
        http,
        tier: access_tier(&headers)?,
        as_block_blob: true,
        max_size: Some(MAX_SYNC_COPY),
        seal: None,
        tags: super::tags::upload_tags(&headers)?,
    };
    check_source_md5(&ctx, &headers).await?;
    let source_md5 = headers.md5("x-ms-source-content-md5")?;
    let done = copy(&ctx, &headers, SourceAuth::UrlOnly, into, source_md5).await?;
    let mut reply = Reply::new(StatusCode::CREATED)
        .etag(&done.etag)
        .date("last-modified", done.last_modified)
        .fixed("x-ms-request-server-encrypted", "true")
        .header_opt("x-ms-version-id", done.version_id.as_ref());
    if let Some(md5) = &done.content_md5 {
        reply = reply.base64("content-md5", md5);
    }
    Ok(reply.finish())
}

/// `x-ms-source-range: bytes=start-end`, both ends given.
fn source_range(headers: &Headers) -> ApiResult<Option<ByteRange>> {
    let Some(v) = headers.get("x-ms-source-range") else {
        return Ok(None);
    };
    let parsed = v
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
        .filter(|(a, b)| a <= b);
    match parsed {
        Some((start, end)) => Ok(Some(ByteRange {
            start,
            end: Some(end),
        })),
        None => Err(Headers::invalid("x-ms-source-range", v).into()),
    }
}

/// The bytes a "From URL" write takes from its source (`x-ms-source-range` of it, or all of it),
/// as a body for the same path as the write's own body, with the source checksums the client
/// gave (`x-ms-source-content-md5` / `-crc64`) to be checked on the way. At most `limit` bytes.
pub(super) async fn source_bytes(
    ctx: &Ctx,
    headers: &Headers<'_>,
    limit: u64,
) -> ApiResult<(Body, Expected, u64)> {
    let range = source_range(headers)?;
    let source = copy_source::resolve(ctx, headers, SourceAuth::UrlOnly).await?;
    let expected = Expected {
        md5: headers.md5("x-ms-source-content-md5")?,
        crc64: headers.crc64("x-ms-source-content-crc64")?,
    };
    let source = match source {
        Source::Here(source) => source,
        Source::Remote(url) => {
            let limit = limit.min(MAX_SYNC_COPY);
            let fetched = remote_source::fetch(ctx, &url, headers, range, limit).await?;
            let len = fetched.body.len() as u64;
            return Ok((Body::from(fetched.body), expected, len));
        }
    };
    let read = blocking(ctx, move |s| {
        s.read_blob_at(
            &source.account,
            &source.container,
            &source.blob,
            source.snapshot.as_deref(),
            range,
            &source.cond,
            None,
        )
    })
    .await
    .map_err(|e| match e.0.code {
        ErrorCode::BlobNotFound | ErrorCode::ContainerNotFound => {
            AzureError::new(ErrorCode::CannotVerifyCopySource)
                .status(404)
                .into()
        }
        _ => e,
    })?;
    let (_, reader) = read;
    let len = reader.remaining();
    if len > limit {
        return Err(AzureError::new(ErrorCode::RequestBodyTooLarge).into());
    }
    let bytes = body::read_all(reader).await?;
    Ok((Body::from(bytes), expected, len))
}

/// Put Block From URL: stages a block holding the source's bytes (or a range of them). The
/// bytes are written again as a new block, as Put Block writes its body.
pub async fn put_block_from_url(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let block_id = super::block_blob::block_id(&ctx)?;
    refuse_destination_key(&headers)?;
    let (bytes, expected, _) = source_bytes(&ctx, &headers, MAX_BLOCK).await?;
    let data = body::receive(
        &ctx.state.store,
        bytes,
        &expected,
        MAX_BLOCK,
        Md5Use::Keep,
        None,
    )
    .await?;
    let md5 = data.md5;
    let crc64 = data.crc64;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let lease_id = headers.owned("x-ms-lease-id");
    blocking(&ctx, move |s| {
        s.put_block_under_lease(
            &account,
            &container,
            &blob,
            &block_id,
            data,
            lease_id.as_deref(),
        )
    })
    .await?;
    let mut reply = Reply::new(StatusCode::CREATED).fixed("x-ms-request-server-encrypted", "true");
    if let Some(md5) = md5 {
        reply = reply.base64("content-md5", &md5);
    }
    Ok(reply
        .base64("x-ms-content-crc64", &crc64.to_le_bytes())
        .finish())
}

/// Abort Copy Blob: `x-ms-copy-action: abort` and a `copyid`; no copy is ever pending.
pub async fn abort_copy(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    match headers.get("x-ms-copy-action") {
        Some(v) if v.eq_ignore_ascii_case("abort") => {}
        Some(v) => return Err(Headers::invalid("x-ms-copy-action", v).into()),
        None => {
            return Err(AzureError::new(ErrorCode::MissingRequiredHeader)
                .detail("HeaderName", "x-ms-copy-action")
                .into())
        }
    }
    let copy_id = match ctx.query.get("copyid") {
        Some(id) if uuid::Uuid::parse_str(id).is_ok() => id.to_string(),
        Some(id) => {
            return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
                .detail("QueryParameterName", "copyid")
                .detail("QueryParameterValue", id)
                .detail("Reason", "")
                .into())
        }
        None => {
            return Err(AzureError::new(ErrorCode::MissingRequiredQueryParameter)
                .detail("QueryParameterName", "copyid")
                .into())
        }
    };
    let cond = conditions::parse_write(&headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    blocking(&ctx, move |s| {
        s.abort_copy(&account, &container, &blob, &copy_id, &cond)
    })
    .await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}
