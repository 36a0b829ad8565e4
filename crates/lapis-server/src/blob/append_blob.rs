//! Append blob operations: Put Blob with `x-ms-blob-type: AppendBlob`, Append Block, Seal.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::AppendConditions;
use lapis_wire::headers::{X_MS_BLOB_CONDITION_APPENDPOS, X_MS_BLOB_CONDITION_MAXSIZE};
use lapis_wire::names::validate_blob_name;

use super::block_blob::{create_only, encrypted, map_store_write, put_blob_http_props};
use super::body::{check_declared_length, declared_length, read_body, receive, Expected, Md5Use};
use super::cpk::{customer_key, KeyUse};
use super::tags::upload_tags;
use super::{blocking, conditions, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

/// The largest block one Append Block takes (API version 2022-11-02 and later).
const MAX_APPEND_BLOCK_BYTES: u64 = 100 * 1024 * 1024;

/// A non-negative integer condition header. Azure refuses a negative or malformed value with
/// 400 InvalidHeaderValue (recording TestBlobAppendBlockIfAppendPositionMatchFalseNegOne)
/// rather than evaluating it.
fn size_condition(headers: &Headers, name: &'static str) -> ApiResult<Option<u64>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| Headers::invalid(name, v).into()),
    }
}

fn append_conditions(headers: &Headers) -> ApiResult<AppendConditions> {
    Ok(AppendConditions {
        position: size_condition(headers, X_MS_BLOB_CONDITION_APPENDPOS)?,
        max_size: size_condition(headers, X_MS_BLOB_CONDITION_MAXSIZE)?,
    })
}

/// Put Blob creates an append blob empty: a body is refused, as Azure refuses a declared
/// length other than 0.
fn content_length_zero(declared: Option<u64>) -> ApiResult<()> {
    match declared {
        Some(len) if len > 0 => Err(Headers::invalid("Content-Length", &len.to_string()).into()),
        _ => Ok(()),
    }
}

pub async fn create(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let blob = ctx.blob();
    validate_blob_name(&blob)?;
    let (parts, body) = req.into_parts();
    let headers = Headers::of_parts(&parts);
    content_length_zero(declared_length(&headers))?;
    let mut cond = conditions::parse_write(&headers)?;
    let refuse_existing = create_only(&ctx, &mut cond);
    let metadata = headers.metadata()?;
    let mut http = put_blob_http_props(&headers)?;
    http.content_md5 = headers.md5("x-ms-blob-content-md5")?;
    // Tiers are for block blobs (and premium page blobs): a tier Lapis cannot give is refused.
    if let Some(tier) = headers.get("x-ms-access-tier") {
        return Err(Headers::invalid("x-ms-access-tier", tier).into());
    }
    let key = customer_key(&headers, KeyUse::Write)?;
    let tags = upload_tags(&headers)?;
    // A chunked body declares no length: it must still be empty.
    if !read_body(body, 0).await.is_ok_and(|b| b.is_empty()) {
        return Err(Headers::invalid("Content-Length", "").into());
    }
    let (account, container, c2, k2) = (ctx.account(), ctx.container(), cond.clone(), key.clone());
    let result = blocking(&ctx, move |s| {
        s.create_append_blob(
            &account,
            &container,
            &blob,
            &http,
            &metadata,
            &c2,
            k2.as_ref(),
            &tags,
        )
    })
    .await;
    let p = refuse_existing(map_store_write(result, &cond))?;
    let mut reply = Reply::new(StatusCode::CREATED)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header_opt("x-ms-version-id", p.version_id.as_ref());
    if let Some(md5) = &p.http.content_md5 {
        reply = reply.base64("content-md5", md5);
    }
    Ok(encrypted(reply, key.as_ref()).finish())
}

pub async fn append_block(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let (parts, body) = req.into_parts();
    let headers = Headers::of_parts(&parts);
    // An empty block is malformed: Azure names the Content-Length (TestBlobAppendBlockEmptyBody).
    if declared_length(&headers) == Some(0) {
        return Err(Headers::invalid("Content-Length", "0").into());
    }
    check_declared_length(&headers, MAX_APPEND_BLOCK_BYTES)?;
    let expected = Expected::from_headers(&headers)?;
    append(ctx, &headers, body, expected).await
}

/// Append Block From URL: the block is the source's bytes (`x-ms-source-range` of them).
pub async fn append_block_from_url(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let (body, expected, _) =
        super::copy::source_bytes(&ctx, &headers, MAX_APPEND_BLOCK_BYTES).await?;
    append(ctx, &headers, body, expected).await
}

/// Appends `body` (checked against `expected`) under the request's conditions.
async fn append(
    ctx: Ctx,
    headers: &Headers<'_>,
    body: Body,
    expected: Expected,
) -> ApiResult<Response<Body>> {
    let blob = ctx.blob();
    validate_blob_name(&blob)?;
    let cond = conditions::parse_write(headers)?;
    let append = append_conditions(headers)?;
    let key = customer_key(headers, KeyUse::Write)?;
    let data = receive(
        &ctx.state.store,
        body,
        &expected,
        MAX_APPEND_BLOCK_BYTES,
        Md5Use::CheckOnly,
        key.as_ref(),
    )
    .await?;
    if data.len == 0 {
        return Err(Headers::invalid("Content-Length", "0").into());
    }
    let (md5, crc64) = (data.md5, data.crc64);
    let (account, container, k2) = (ctx.account(), ctx.container(), key.clone());
    let done = blocking(&ctx, move |s| {
        s.append_block(
            &account,
            &container,
            &blob,
            data,
            &cond,
            append,
            k2.as_ref(),
        )
    })
    .await?;
    let p = &done.props;
    let mut reply = Reply::new(StatusCode::CREATED)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header("x-ms-blob-append-offset", done.offset.to_string())
        .header(
            "x-ms-blob-committed-block-count",
            p.committed_block_count.to_string(),
        );
    // As Put Block answers: the MD5 when the client sent one, the CRC64 when it sent one or
    // sent neither (recordings: a plain append answers with its CRC64).
    if let (Some(md5), Some(_)) = (md5, &expected.md5) {
        reply = reply.base64("content-md5", &md5);
    }
    if expected.crc64.is_some() || expected.md5.is_none() {
        reply = reply.base64("x-ms-content-crc64", &crc64.to_le_bytes());
    }
    Ok(encrypted(reply, key.as_ref()).finish())
}

pub async fn seal(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let position = size_condition(&headers, X_MS_BLOB_CONDITION_APPENDPOS)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let p = blocking(&ctx, move |s| {
        s.seal_blob(&account, &container, &blob, &cond, position)
    })
    .await?;
    Ok(Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .fixed("x-ms-blob-sealed", "true")
        .finish())
}
