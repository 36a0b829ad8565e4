//! Block blob operations: Put Blob, Put Block, Put Block List, Get Block List.

use axum::body::Body;
use base64::Engine;
use http::{Request, Response, StatusCode};
use lapis_auth::SasAccess;
use lapis_store::{
    AccessTier, BlobHttpProps, BlockListFilter, BlockSource, Conditions, CustomerKey,
    EtagCondition, INLINE_BLOB_MAX,
};
use lapis_wire::names::validate_blob_name;
use lapis_wire::xml::{parse_block_list, render_block_list, BlockListKind};
use lapis_wire::{AzureError, ErrorCode};

use super::any_blob::http_props_from_blob_headers;
use super::body::{
    check_declared_length, checked_digest, declared_length, read_body, read_small_body, receive,
    Expected, Md5Use, INLINE_WRITE,
};
use super::cpk::{customer_key, with_key_hash, KeyUse};
use super::tags::{if_tags, upload_tags};
use super::{blocking, conditions, queued, Reply};
use crate::error::{ApiError, ApiResult};
use crate::handler::Ctx;
use crate::request::Headers;

/// Azure's limits: a Put Blob body is at most 5000 MiB, a block at most 4000 MiB, a committed
/// list at most 50,000 blocks.
const MAX_PUT_BLOB_BYTES: u64 = 5000 * 1024 * 1024;
const MAX_BLOCK_BYTES: u64 = 4000 * 1024 * 1024;
const MAX_BLOCKS_IN_LIST: usize = 50_000;
const MAX_BLOCK_ID_BYTES: usize = 64;

/// `If-None-Match: *` on a write to an existing blob is Azure's 409 BlobAlreadyExists, not 412.
pub(super) fn map_store_write<T>(r: ApiResult<T>, cond: &Conditions) -> ApiResult<T> {
    r.map_err(|e| {
        if e.0.code == ErrorCode::ConditionNotMet && cond.if_none_match == Some(EtagCondition::Any)
        {
            ApiError(AzureError::new(ErrorCode::BlobAlreadyExists))
        } else {
            e
        }
    })
}

/// A SAS with `c` but not `w` may create the blob but not overwrite it: the write runs as if
/// the client had sent `If-None-Match: *`, and an existing blob is 403
/// AuthorizationPermissionMismatch rather than the client's own condition failing.
pub(super) fn create_only<T>(
    ctx: &Ctx,
    cond: &mut Conditions,
) -> impl FnOnce(ApiResult<T>) -> ApiResult<T> {
    let refuse_existing = ctx.granted.access == SasAccess::CreateOnly && cond.if_match.is_none();
    if ctx.granted.access == SasAccess::CreateOnly {
        cond.if_none_match = Some(EtagCondition::Any);
    }
    move |r| {
        r.map_err(|e| match e.0.code {
            ErrorCode::BlobAlreadyExists | ErrorCode::ConditionNotMet if refuse_existing => {
                ApiError(AzureError::new(ErrorCode::AuthorizationPermissionMismatch))
            }
            _ => e,
        })
    }
}

/// The content type a blob is created with when the request names none.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Put Blob takes the standard headers, with `x-ms-blob-*` overriding them.
pub(super) fn put_blob_http_props(headers: &Headers) -> ApiResult<BlobHttpProps> {
    let pick = |ms: &str, std: &str| headers.owned(ms).or_else(|| headers.owned(std));
    Ok(BlobHttpProps {
        content_type: pick("x-ms-blob-content-type", "content-type")
            .or_else(|| Some(DEFAULT_CONTENT_TYPE.to_string())),
        content_encoding: pick("x-ms-blob-content-encoding", "content-encoding"),
        content_language: pick("x-ms-blob-content-language", "content-language"),
        content_disposition: headers.owned("x-ms-blob-content-disposition"),
        cache_control: pick("x-ms-blob-cache-control", "cache-control"),
        content_md5: None,
    })
}

/// `x-ms-access-tier` on an upload: Hot, Cool, Cold or Archive.
pub(super) fn access_tier(headers: &Headers) -> ApiResult<Option<AccessTier>> {
    let Some(value) = headers.get("x-ms-access-tier") else {
        return Ok(None);
    };
    AccessTier::from_name(value)
        .map(Some)
        .ok_or_else(|| Headers::invalid("x-ms-access-tier", value).into())
}

/// The headers every upload answers with: the encryption, and the hash of a customer key.
pub(super) fn encrypted(reply: Reply, key: Option<&CustomerKey>) -> Reply {
    let hash = key.map(CustomerKey::sha256);
    with_key_hash(reply, hash.as_ref()).header("x-ms-request-server-encrypted", "true")
}

pub async fn put_blob(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let blob = ctx.blob();
    validate_blob_name(&blob)?;
    let (parts, body) = req.into_parts();
    let headers = Headers::of_parts(&parts);
    let mut cond = conditions::parse_write(&headers)?;
    let refuse_existing = create_only(&ctx, &mut cond);
    let metadata = headers.metadata()?;
    let http = put_blob_http_props(&headers)?;
    let tier = access_tier(&headers)?;
    let key = customer_key(&headers, KeyUse::Write)?;
    let tags = upload_tags(&headers)?;
    let expected = Expected::for_put_blob(&headers)?;
    check_declared_length(&headers, MAX_PUT_BLOB_BYTES)?;
    let (account, container, c2, k2) = (ctx.account(), ctx.container(), cond.clone(), key.clone());
    let result = match declared_length(&headers) {
        // Small bodies: read whole, then one blocking call stores and commits them.
        Some(len) if len <= INLINE_WRITE => {
            let bytes = read_body(body, INLINE_WRITE as usize).await?;
            let digest = checked_digest(&bytes, &expected)?;
            let (md5, crc64) = (Some(digest.md5), digest.crc64);
            let props = if bytes.len() <= INLINE_BLOB_MAX {
                queued(&ctx.state.store, |s| {
                    s.queue_put_blob_inline_tagged(
                        &account,
                        &container,
                        &blob,
                        bytes,
                        digest,
                        &http,
                        &metadata,
                        tier,
                        &c2,
                        k2.as_ref(),
                        &tags,
                    )
                })
                .await
            } else {
                blocking(&ctx, move |s| {
                    s.put_blob_inline_tagged(
                        &account,
                        &container,
                        &blob,
                        bytes,
                        &http,
                        &metadata,
                        tier,
                        &c2,
                        k2.as_ref(),
                        &tags,
                    )
                })
                .await
            };
            props.map(|p| (p, md5, crc64))
        }
        _ => {
            let data = receive(
                &ctx.state.store,
                body,
                &expected,
                MAX_PUT_BLOB_BYTES,
                Md5Use::Keep,
                key.as_ref(),
            )
            .await?;
            let (md5, crc64) = (data.md5, data.crc64);
            blocking(&ctx, move |s| {
                s.put_blob_tagged(
                    &account, &container, &blob, data, &http, &metadata, tier, &c2, &tags,
                )
            })
            .await
            .map(|p| (p, md5, crc64))
        }
    };
    let (p, md5, crc64) = refuse_existing(map_store_write(result, &cond))?;
    let mut reply = Reply::new(StatusCode::CREATED)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header_opt("x-ms-version-id", p.version_id.as_ref());
    if let Some(md5) = md5 {
        reply = reply.base64("content-md5", &md5);
    }
    Ok(encrypted(reply, key.as_ref())
        .base64("x-ms-content-crc64", &crc64.to_le_bytes())
        .finish())
}

pub(super) fn block_id(ctx: &Ctx) -> ApiResult<String> {
    let invalid = |v: &str| {
        ApiError(
            AzureError::new(ErrorCode::InvalidQueryParameterValue)
                .detail("QueryParameterName", "blockid")
                .detail("QueryParameterValue", v)
                .detail("Reason", "Not a valid base64 string."),
        )
    };
    let Some(id) = ctx.query.get("blockid") else {
        return Err(AzureError::new(ErrorCode::MissingRequiredQueryParameter)
            .detail("QueryParameterName", "blockid")
            .into());
    };
    match base64::engine::general_purpose::STANDARD.decode(id) {
        Ok(raw) if !raw.is_empty() && raw.len() <= MAX_BLOCK_ID_BYTES => Ok(id.to_string()),
        _ => Err(invalid(id)),
    }
}

pub async fn put_block(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let blob = ctx.blob();
    validate_blob_name(&blob)?;
    let id = block_id(&ctx)?;
    let (parts, body) = req.into_parts();
    let headers = Headers::of_parts(&parts);
    let expected = Expected::from_headers(&headers)?;
    let key = customer_key(&headers, KeyUse::Write)?;
    check_declared_length(&headers, MAX_BLOCK_BYTES)?;
    let data = receive(
        &ctx.state.store,
        body,
        &expected,
        MAX_BLOCK_BYTES,
        Md5Use::CheckOnly,
        key.as_ref(),
    )
    .await?;
    let (md5, crc64) = (data.md5, data.crc64);
    let (account, container) = (ctx.account(), ctx.container());
    let lease_id = headers.owned("x-ms-lease-id");
    blocking(&ctx, move |s| {
        s.put_block_under_lease(&account, &container, &blob, &id, data, lease_id.as_deref())
    })
    .await?;
    // As Azure answers (its recorded Put Block responses): the MD5 when the client sent one,
    // the CRC64 when it sent one or sent neither.
    let mut reply = encrypted(Reply::new(StatusCode::CREATED), key.as_ref());
    if let (Some(md5), Some(_)) = (md5, &expected.md5) {
        reply = reply.base64("content-md5", &md5);
    }
    if expected.crc64.is_some() || expected.md5.is_none() {
        reply = reply.base64("x-ms-content-crc64", &crc64.to_le_bytes());
    }
    Ok(reply.finish())
}

pub async fn put_block_list(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let blob = ctx.blob();
    validate_blob_name(&blob)?;
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let metadata = headers.metadata()?;
    let mut http = http_props_from_blob_headers(&headers)?;
    if http.content_type.is_none() {
        http.content_type = Some(DEFAULT_CONTENT_TYPE.to_string());
    }
    let tier = access_tier(&headers)?;
    let key = customer_key(&headers, KeyUse::Write)?;
    let tags = upload_tags(&headers)?;
    let expected = Expected::from_headers(&headers)?;
    let body = read_small_body(req, 16 * 1024 * 1024).await?;
    checked_digest(&body, &expected)?;
    let list = parse_block_list(&body)?;
    if list.len() > MAX_BLOCKS_IN_LIST {
        return Err(AzureError::new(ErrorCode::BlockListTooLong).into());
    }
    let blocks: Vec<(BlockSource, String)> = list
        .into_iter()
        .map(|(kind, id)| {
            let source = match kind {
                BlockListKind::Committed => BlockSource::Committed,
                BlockListKind::Uncommitted => BlockSource::Uncommitted,
                BlockListKind::Latest => BlockSource::Latest,
            };
            (source, id)
        })
        .collect();
    let (account, container, c2, k2) = (ctx.account(), ctx.container(), cond.clone(), key.clone());
    let result = blocking(&ctx, move |s| {
        s.put_block_list_tagged(
            &account,
            &container,
            &blob,
            &blocks,
            &http,
            &metadata,
            tier,
            &c2,
            k2.as_ref(),
            &tags,
        )
    })
    .await;
    let p = map_store_write(result, &cond)?;
    let reply = Reply::new(StatusCode::CREATED)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header_opt("x-ms-version-id", p.version_id.as_ref());
    Ok(encrypted(reply, key.as_ref()).finish())
}

pub async fn get_block_list(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    // `x-ms-if-tags` is checked against the committed blob's tags before the list is read.
    if let Some(if_tags) = if_tags(&Headers::of(&req))? {
        let cond = Conditions {
            if_tags: Some(if_tags),
            ..Default::default()
        };
        let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
        blocking(&ctx, move |s| {
            s.get_blob_tags(&account, &container, &blob, None, &cond)
        })
        .await?;
    }
    let filter = match ctx
        .query
        .get("blocklisttype")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("committed") => BlockListFilter::Committed,
        Some("uncommitted") => BlockListFilter::Uncommitted,
        Some("all") => BlockListFilter::All,
        Some(_) => {
            let v = ctx.query.get("blocklisttype").unwrap_or_default();
            return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
                .detail("QueryParameterName", "blocklisttype")
                .detail("QueryParameterValue", v)
                .detail("Reason", "")
                .into());
        }
    };
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let snapshot = ctx.query.get("snapshot").map(str::to_owned);
    let lists = blocking(&ctx, move |s| {
        s.get_block_list_at(&account, &container, &blob, snapshot.as_deref(), filter)
    })
    .await?;
    let committed: Vec<(&str, u64)> = lists
        .committed
        .iter()
        .map(|b| (b.id.as_str(), b.size))
        .collect();
    let uncommitted: Vec<(&str, u64)> = lists
        .uncommitted
        .iter()
        .map(|b| (b.id.as_str(), b.size))
        .collect();
    let (c, u) = match filter {
        BlockListFilter::Committed => (Some(committed.as_slice()), None),
        BlockListFilter::Uncommitted => (None, Some(uncommitted.as_slice())),
        BlockListFilter::All => (Some(committed.as_slice()), Some(uncommitted.as_slice())),
    };
    let mut reply = Reply::new(StatusCode::OK);
    if let Some(b) = &lists.blob {
        reply = reply
            .etag(&b.etag)
            .date("last-modified", b.last_modified)
            .header("x-ms-blob-content-length", b.size.to_string());
    }
    Ok(reply.xml(render_block_list(c, u)).finish())
}
