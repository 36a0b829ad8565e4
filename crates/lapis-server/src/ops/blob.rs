//! Operations on any blob: Get Blob, Get Blob Properties/Metadata, Set Blob Properties/Metadata,
//! Delete Blob.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{Access, BlobHttpProps, BlobProps, BlobType, ByteRange};
use lapis_wire::{AzureError, ErrorCode};
use md5::{Digest, Md5};

use super::{blocking, body, conditions, read_now, Reply};
use crate::error::{ApiError, ApiResult};
use crate::handler::Ctx;
use crate::request::Headers;

/// A blob's bytes as Get Blob sends them: already in memory, or pulled from the engine.
enum Content {
    Inline(bytes::Bytes),
    Stream(lapis_store::BlobReader),
}

pub fn blob_type_name(t: BlobType) -> &'static str {
    match t {
        BlobType::BlockBlob => "BlockBlob",
        BlobType::PageBlob => "PageBlob",
        BlobType::AppendBlob => "AppendBlob",
    }
}

/// Headers describing a blob, common to Get Blob and Get Blob Properties.
pub fn describe(reply: Reply, b: &BlobProps) -> Reply {
    let http = &b.http;
    reply
        .etag(&b.etag)
        .date("last-modified", b.last_modified)
        .date("x-ms-creation-time", b.created)
        .metadata(&b.metadata)
        .header(
            "content-type",
            http.content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
        )
        .header_opt("content-encoding", http.content_encoding.as_deref())
        .header_opt("content-language", http.content_language.as_deref())
        .header_opt("content-disposition", http.content_disposition.as_deref())
        .header_opt("cache-control", http.cache_control.as_deref())
        .header("x-ms-blob-type", blob_type_name(b.blob_type))
        .header("x-ms-lease-state", "available")
        .header("x-ms-lease-status", "unlocked")
        .header("x-ms-server-encrypted", "true")
        .header("accept-ranges", "bytes")
}

/// `x-ms-range` wins over `Range`. A malformed `Range` is ignored (the whole blob is served, as
/// HTTP allows); a malformed `x-ms-range` is an error.
fn requested_range(headers: &Headers) -> ApiResult<Option<ByteRange>> {
    if let Some(v) = headers.get("x-ms-range") {
        return parse_range(v)
            .map(Some)
            .ok_or_else(|| Headers::invalid("x-ms-range", v).into());
    }
    Ok(headers.get("range").and_then(parse_range))
}

fn parse_range(v: &str) -> Option<ByteRange> {
    let spec = v.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse::<u64>().ok()?),
    };
    if matches!(end, Some(e) if e < start) {
        return None;
    }
    Some(ByteRange { start, end })
}

pub async fn get_blob(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_read(&headers)?;
    let range = requested_range(&headers)?;
    let want_range_md5 = headers
        .get("x-ms-range-get-content-md5")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if want_range_md5 {
        match range {
            None => return Err(Headers::invalid("x-ms-range-get-content-md5", "true").into()),
            Some(ByteRange { start, end: Some(end) }) if end - start < 4 * 1024 * 1024 => {}
            Some(_) => {
                return Err(AzureError::new(ErrorCode::OutOfRangeInput)
                    .message("The specified range is larger than 4 MiB, the most x-ms-range-get-content-md5 allows.")
                    .into())
            }
        }
    }
    let read = read_now(&ctx, |s| {
        s.read_blob(
            &ctx.target.account,
            ctx.container_name(),
            ctx.blob_name(),
            range,
            &cond,
        )
    });
    let (props, mut reader) = match read {
        Err(e) if e.0.code == ErrorCode::InvalidRange => {
            return Err(with_unsatisfied_range(&ctx, e))
        }
        other => other?,
    };
    // Small contents are read where they were found; up to a MiB in one blocking call; larger
    // ones are streamed as the client reads.
    let content = if reader.remaining() <= body::READ_NOW {
        Content::Inline(body::read_remaining(&mut reader)?)
    } else if reader.remaining() <= body::INLINE_READ {
        Content::Inline(body::read_all(reader).await?)
    } else {
        Content::Stream(reader)
    };
    let len = match &content {
        Content::Inline(bytes) => bytes.len() as u64,
        Content::Stream(reader) => reader.remaining(),
    };
    let mut reply = describe(
        Reply::new(if range.is_some() {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        }),
        &props,
    );
    if let Some(r) = range {
        let end = r.start + len.saturating_sub(1);
        reply = reply.header(
            "content-range",
            format!("bytes {}-{}/{}", r.start, end, props.size),
        );
        // The whole blob's MD5 stays available on ranged reads.
        if let Some(md5) = &props.http.content_md5 {
            reply = reply.base64("x-ms-blob-content-md5", md5);
        }
    } else if let Some(md5) = &props.http.content_md5 {
        reply = reply.base64("content-md5", md5);
    }
    let bytes = match content {
        Content::Inline(bytes) => bytes,
        Content::Stream(reader) if want_range_md5 => body::read_all(reader).await?,
        Content::Stream(reader) => return Ok(reply.body(body::stream(reader), len).finish()),
    };
    if want_range_md5 {
        let digest = Md5::digest(&bytes);
        reply = reply.base64("content-md5", &digest);
    }
    Ok(reply.body(Body::from(bytes), len).finish())
}

/// A 416 tells the client the blob's size, as `Content-Range: bytes */SIZE`.
fn with_unsatisfied_range(ctx: &Ctx, err: ApiError) -> ApiError {
    let props = read_now(ctx, |s| {
        s.get_blob_properties(
            &ctx.target.account,
            ctx.container_name(),
            ctx.blob_name(),
            &Default::default(),
            Access::Read,
        )
    });
    match props {
        Ok(p) => ApiError(err.0.header("content-range", format!("bytes */{}", p.size))),
        Err(_) => err,
    }
}

/// The blob's properties, for a read under the request's conditions.
fn read_properties(ctx: &Ctx, req: &Request<Body>) -> ApiResult<BlobProps> {
    let cond = conditions::parse_read(&Headers::of(req))?;
    read_now(ctx, |s| {
        s.get_blob_properties(
            &ctx.target.account,
            ctx.container_name(),
            ctx.blob_name(),
            &cond,
            Access::Read,
        )
    })
}

pub async fn get_properties(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let p = read_properties(&ctx, &req)?;
    let mut reply = describe(Reply::new(StatusCode::OK), &p)
        .content_length(p.size)
        .header("x-ms-access-tier", "Hot")
        .header("x-ms-access-tier-inferred", "true");
    if let Some(md5) = &p.http.content_md5 {
        reply = reply.base64("content-md5", md5);
    }
    Ok(reply.finish())
}

pub async fn get_metadata(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let p = read_properties(&ctx, &req)?;
    Ok(Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .metadata(&p.metadata)
        .finish())
}

/// The `x-ms-blob-content-*` headers of Set Blob Properties and Put Block List.
pub fn http_props_from_blob_headers(headers: &Headers) -> ApiResult<BlobHttpProps> {
    Ok(BlobHttpProps {
        content_type: headers.owned("x-ms-blob-content-type"),
        content_encoding: headers.owned("x-ms-blob-content-encoding"),
        content_language: headers.owned("x-ms-blob-content-language"),
        content_disposition: headers.owned("x-ms-blob-content-disposition"),
        cache_control: headers.owned("x-ms-blob-cache-control"),
        content_md5: headers.md5("x-ms-blob-content-md5")?,
    })
}

pub async fn set_properties(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let http = http_props_from_blob_headers(&headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let p = blocking(&ctx, move |s| {
        s.set_blob_http_props(&account, &container, &blob, &http, &cond)
    })
    .await?;
    Ok(Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .finish())
}

pub async fn set_metadata(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let metadata = headers.metadata()?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let p = blocking(&ctx, move |s| {
        s.set_blob_metadata(&account, &container, &blob, &metadata, &cond)
    })
    .await?;
    Ok(Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header("x-ms-request-server-encrypted", "true")
        .finish())
}

pub async fn delete(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    blocking(&ctx, move |s| {
        s.delete_blob(&account, &container, &blob, &cond)
    })
    .await?;
    Ok(Reply::new(StatusCode::ACCEPTED)
        .header("x-ms-delete-type-permanent", "true")
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("bytes=0-99"),
            Some(ByteRange {
                start: 0,
                end: Some(99)
            })
        );
        assert_eq!(
            parse_range("bytes=10-"),
            Some(ByteRange {
                start: 10,
                end: None
            })
        );
        assert_eq!(parse_range("bytes=-10"), None);
        assert_eq!(parse_range("bytes=9-3"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range("bytes=a-b"), None);
    }
}
