//! Operations on any blob: Get Blob, Get Blob Properties/Metadata, Set Blob Properties/Metadata,
//! Delete Blob.

use axum::body::Body;
use base64::Engine;
use http::{Request, Response, StatusCode};
use lapis_auth::ResponseHeaderOverrides;
use lapis_store::{
    Access, BlobHttpProps, BlobProps, BlobType, ByteRange, CustomerKey, Lease, SnapshotsOnDelete,
    StoredLeaseState,
};
use lapis_wire::{AzureError, ErrorCode};
use md5::{Digest, Md5};

use super::cpk::{customer_key, with_key_hash, KeyUse};
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

/// Headers describing a blob, common to Get Blob and Get Blob Properties. A service SAS's
/// `rsc*` fields replace the stored content headers in the answer, as Azure does.
/// `by_version`: the request named a version (`versionid=`), which Azure answers without the
/// lease headers, even for the current version.
pub fn describe(
    reply: Reply,
    b: &BlobProps,
    overrides: &ResponseHeaderOverrides,
    by_version: bool,
) -> Reply {
    let http = &b.http;
    let pick = |sas: &Option<String>, stored: &Option<String>| sas.clone().or(stored.clone());
    let reply = reply
        .etag(&b.etag)
        .date("last-modified", b.last_modified)
        .date("x-ms-creation-time", b.created)
        .metadata(&b.metadata)
        .header_opt(
            "content-type",
            pick(&overrides.content_type, &http.content_type),
        )
        .header_opt(
            "content-encoding",
            pick(&overrides.content_encoding, &http.content_encoding),
        )
        .header_opt(
            "content-language",
            pick(&overrides.content_language, &http.content_language),
        )
        .header_opt(
            "content-disposition",
            pick(&overrides.content_disposition, &http.content_disposition),
        )
        .header_opt(
            "cache-control",
            pick(&overrides.cache_control, &http.cache_control),
        )
        .fixed("x-ms-blob-type", blob_type_name(b.blob_type))
        .header_opt(
            "x-ms-blob-sequence-number",
            (b.blob_type == BlobType::PageBlob).then(|| b.sequence_number.to_string()),
        );
    let reply = match &b.copy {
        Some(c) => reply
            .header("x-ms-copy-id", &c.id)
            .header("x-ms-copy-status", &c.status)
            .header("x-ms-copy-source", &c.source)
            .header("x-ms-copy-progress", &c.progress)
            .header_opt(
                "x-ms-copy-completion-time",
                c.completed.map(lapis_wire::time_format::rfc1123),
            )
            .header_opt(
                "x-ms-copy-status-description",
                c.status_description.as_ref(),
            ),
        None => reply,
    };
    // A snapshot or previous version cannot be leased; Azure names no lease for one.
    let previous_version = b.version_id.is_some() && !b.is_current_version;
    let reply = match b.snapshot {
        Some(_) => reply,
        None if previous_version || by_version => reply,
        None => lease_headers(reply, &b.lease),
    };
    let reply = version_headers(reply, b);
    let reply = reply
        .fixed("x-ms-server-encrypted", "true")
        .fixed("accept-ranges", "bytes");
    let reply = append_blob_headers(reply, b);
    let reply = match b.tag_count {
        0 => reply,
        n => reply.header("x-ms-tag-count", n.to_string()),
    };
    with_key_hash(reply, b.cpk_sha256.as_ref())
}

/// `x-ms-version-id` of a blob that is a version, and `x-ms-is-current-version` of the current
/// one (reads; writes that make a version answer its id alone).
pub fn version_headers(reply: Reply, b: &BlobProps) -> Reply {
    let reply = reply.header_opt("x-ms-version-id", b.version_id.as_ref());
    if b.is_current_version {
        reply.fixed("x-ms-is-current-version", "true")
    } else {
        reply
    }
}

/// `x-ms-lease-state`, `-status` and, while held, `-duration`, as of now.
pub fn lease_headers(reply: Reply, lease: &Lease) -> Reply {
    let entry = lease_entry(lease);
    let reply = reply.fixed("x-ms-lease-state", entry.state).fixed(
        "x-ms-lease-status",
        if entry.locked { "locked" } else { "unlocked" },
    );
    match entry.duration {
        Some(d) => reply.fixed("x-ms-lease-duration", d),
        None => reply,
    }
}

/// A lease as List Blobs and List Containers show it, as of now.
pub fn lease_entry(lease: &Lease) -> lapis_wire::xml::LeaseEntry {
    // Never leased or released: no clock needed.
    if lease.state == StoredLeaseState::Available {
        return lapis_wire::xml::LeaseEntry::default();
    }
    let now = time::OffsetDateTime::now_utc();
    let state = lease.at(now);
    lapis_wire::xml::LeaseEntry {
        locked: state.locked(),
        state: state.name(),
        duration: lease.duration_name(now),
    }
}

/// What only an append blob says of itself: its block count, and whether it is sealed.
fn append_blob_headers(reply: Reply, b: &BlobProps) -> Reply {
    if b.blob_type != BlobType::AppendBlob {
        return reply;
    }
    let reply = reply.header(
        "x-ms-blob-committed-block-count",
        b.committed_block_count.to_string(),
    );
    match b.sealed {
        true => reply.fixed("x-ms-blob-sealed", "true"),
        false => reply,
    }
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

/// Which checksum of the range a Get Blob asks for (`x-ms-range-get-content-md5` or `-crc64`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeChecksum {
    Md5,
    Crc64,
}

/// The range checksum asked for: only with a range of at most 4 MiB, and only one of the two.
fn range_checksum(headers: &Headers, range: Option<ByteRange>) -> ApiResult<Option<RangeChecksum>> {
    let asked = |name: &str| {
        headers
            .get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    let (name, wanted) = match (
        asked("x-ms-range-get-content-md5"),
        asked("x-ms-range-get-content-crc64"),
    ) {
        (false, false) => return Ok(None),
        (true, true) => {
            return Err(Headers::invalid("x-ms-range-get-content-crc64", "true").into());
        }
        (true, false) => ("x-ms-range-get-content-md5", RangeChecksum::Md5),
        (false, true) => ("x-ms-range-get-content-crc64", RangeChecksum::Crc64),
    };
    match range {
        None => Err(Headers::invalid(name, "true").into()),
        Some(ByteRange {
            start,
            end: Some(end),
        }) if end - start < 4 * 1024 * 1024 => Ok(Some(wanted)),
        Some(_) => Err(AzureError::new(ErrorCode::OutOfRangeInput)
            .message(format!(
                "The specified range is larger than 4 MiB, the most {name} allows."
            ))
            .into()),
    }
}

pub async fn get_blob(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_read(&headers)?;
    let key = customer_key(&headers, KeyUse::Read)?;
    let range = requested_range(&headers)?;
    let checksum = range_checksum(&headers, range)?;
    let read = read_now(&ctx, |s| {
        s.read_blob_at(
            &ctx.target.account,
            ctx.container_name(),
            ctx.blob_name(),
            super::versions::selected(&ctx.query).as_deref(),
            range,
            &cond,
            key.as_ref(),
        )
    });
    let (props, mut reader) = match read {
        Err(e) if e.0.code == ErrorCode::InvalidRange => {
            return Err(with_unsatisfied_range(&ctx, e, key.as_ref()))
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
        &ctx.granted.response_headers,
        ctx.query.get("versionid").is_some(),
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
        Content::Stream(reader) if checksum.is_some() => body::read_all(reader).await?,
        Content::Stream(reader) => return Ok(reply.body(body::stream(reader), len).finish()),
    };
    match checksum {
        Some(RangeChecksum::Md5) => reply = reply.base64("content-md5", &Md5::digest(&bytes)),
        Some(RangeChecksum::Crc64) => {
            let crc = lapis_store::BodyDigest::of(&bytes).crc64;
            reply = reply.base64("x-ms-content-crc64", &crc.to_le_bytes());
        }
        None => {}
    }
    Ok(reply.body(Body::from(bytes), len).finish())
}

/// A 416 tells the client the blob's size, as `Content-Range: bytes */SIZE`.
fn with_unsatisfied_range(ctx: &Ctx, err: ApiError, key: Option<&CustomerKey>) -> ApiError {
    let props = read_now(ctx, |s| {
        s.get_blob_properties_at(
            &ctx.target.account,
            ctx.container_name(),
            ctx.blob_name(),
            super::versions::selected(&ctx.query).as_deref(),
            &Default::default(),
            Access::Read,
            key,
        )
    });
    match props {
        Ok(p) => ApiError(err.0.header("content-range", format!("bytes */{}", p.size))),
        Err(_) => err,
    }
}

/// The blob's properties, for a read under the request's conditions (and customer key).
fn read_properties(ctx: &Ctx, req: &Request<Body>) -> ApiResult<BlobProps> {
    let headers = Headers::of(req);
    let cond = conditions::parse_read(&headers)?;
    let key = customer_key(&headers, KeyUse::Read)?;
    read_now(ctx, |s| {
        s.get_blob_properties_at(
            &ctx.target.account,
            ctx.container_name(),
            ctx.blob_name(),
            super::versions::selected(&ctx.query).as_deref(),
            &cond,
            Access::Read,
            key.as_ref(),
        )
    })
}

pub async fn get_properties(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let p = read_properties(&ctx, &req)?;
    let mut reply = describe(
        Reply::new(StatusCode::OK),
        &p,
        &ctx.granted.response_headers,
        ctx.query.get("versionid").is_some(),
    )
    .content_length(p.size);
    // A tier given on upload is reported with the time it was set; otherwise the account's
    // default, inferred. Only block blobs have one (on a standard account).
    reply = match p.access_tier {
        // Page and append blobs on a standard account have no tier.
        _ if p.blob_type != BlobType::BlockBlob => reply,
        Some((tier, changed)) => reply
            .header("x-ms-access-tier", tier.name())
            .date("x-ms-access-tier-change-time", changed),
        None => reply
            .header("x-ms-access-tier", "Hot")
            .header("x-ms-access-tier-inferred", "true"),
    };
    reply = reply
        .header_opt("x-ms-archive-status", p.archive_status.as_ref())
        .header_opt("x-ms-rehydrate-priority", p.rehydrate_priority.as_ref());
    if let Some(md5) = &p.http.content_md5 {
        reply = reply.base64("content-md5", md5);
    }
    Ok(reply.finish())
}

pub async fn get_metadata(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let p = read_properties(&ctx, &req)?;
    let reply = Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .metadata(&p.metadata);
    Ok(with_key_hash(reply, p.cpk_sha256.as_ref()).finish())
}

/// The `x-ms-blob-content-*` headers of Set Blob Properties and Put Block List. A property
/// not given is cleared, as Azure does.
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
    // Not base64 at all is a malformed header; base64 of another length an invalid MD5.
    if let Some(v) = headers.get("x-ms-blob-content-md5") {
        if base64::engine::general_purpose::STANDARD
            .decode(v.trim())
            .is_err()
        {
            return Err(Headers::invalid("x-ms-blob-content-md5", v).into());
        }
    }
    let http = http_props_from_blob_headers(&headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let p = blocking(&ctx, move |s| {
        s.set_blob_http_props(&account, &container, &blob, &http, &cond)
    })
    .await?;
    Ok(Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header_opt(
            "x-ms-blob-sequence-number",
            (p.blob_type == BlobType::PageBlob).then(|| p.sequence_number.to_string()),
        )
        .finish())
}

pub async fn set_metadata(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let key = customer_key(&headers, KeyUse::Write)?;
    let metadata = headers.metadata()?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let p = blocking(&ctx, move |s| {
        s.set_blob_metadata(&account, &container, &blob, &metadata, &cond, key.as_ref())
    })
    .await?;
    let reply = Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header("x-ms-request-server-encrypted", "true")
        .header_opt("x-ms-version-id", p.version_id.as_ref());
    Ok(with_key_hash(reply, p.cpk_sha256.as_ref()).finish())
}

pub async fn delete(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let snapshot = super::versions::selected(&ctx.query);
    let snapshots = match headers.get("x-ms-delete-snapshots") {
        None => SnapshotsOnDelete::Refuse,
        // A snapshot or version has no snapshots: naming them when deleting one is a malformed request.
        Some(v) if snapshot.is_some() => {
            return Err(Headers::invalid("x-ms-delete-snapshots", v).into())
        }
        Some("include") => SnapshotsOnDelete::Include,
        Some("only") => SnapshotsOnDelete::Only,
        Some(other) => return Err(Headers::invalid("x-ms-delete-snapshots", other).into()),
    };
    // With the account's DeleteRetentionPolicy on, the engine keeps what it deletes.
    let props = ctx.state.service_properties(&ctx.target.account).await?;
    let permanent = super::undelete::delete_retention(&props).is_none();
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    blocking(&ctx, move |s| {
        s.delete_blob_at(
            &account,
            &container,
            &blob,
            snapshot.as_deref(),
            snapshots,
            &cond,
        )
    })
    .await?;
    Ok(Reply::new(StatusCode::ACCEPTED)
        .header("x-ms-delete-type-permanent", permanent.to_string())
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
