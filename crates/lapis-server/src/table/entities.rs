//! Entity operations: Insert, Get, Query, Update / Insert Or Replace, Merge / Insert Or Merge,
//! Delete.

use std::sync::Arc;

use axum::body::Body;
use base64::Engine;
use http::{Request, Response, StatusCode};
use lapis_odata::{
    decode_properties, decode_property_refs, encode_properties, entity_etag, merge_properties,
    parse_datetime, parse_entity, parse_filter, parse_select, parse_top, render_entity,
    render_entity_list, EntityBody, EntityView, Metadata, PropertyRefs, ValueRef,
};
use lapis_store::{
    EntityOp, EntityOpKind, EntityQuery, EntityRecord, EntityRow, EntityWrite, IfMatch, MergeFn,
    Store, StoreError,
};
use lapis_wire::{AzureError, ErrorCode};

use super::path::{entity_url, TablePath};
use super::{metadata_level, sas_allows_entity, TableCtx};
use crate::common::read_small_body;
use crate::common::Reply;
use crate::error::{ApiError, ApiResult};

/// Azure's limit on an entity is 1 MiB; the JSON carrying it may be somewhat larger.
pub const MAX_ENTITY_BODY: usize = 4 * 1024 * 1024;

/// Runs a synchronous engine call off the async workers.
pub async fn run<T, F>(ctx: &TableCtx, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> lapis_store::Result<T> + Send + 'static,
{
    crate::common::on_store(&ctx.state.store, f).await
}

/// One entity write, queued on the engine's writer from this task (no blocking thread).
async fn store_write(ctx: &TableCtx, table: &str, op: EntityOp) -> ApiResult<Option<EntityRecord>> {
    crate::common::queued(&ctx.state.store, |s| {
        s.queue_write_entity(&ctx.account, table, op, &merge_fn())
    })
    .await
}

pub fn prefers_no_content<B>(req: &Request<B>) -> bool {
    req.headers()
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("return-no-content"))
}

/// `If-Match` as the engine wants it: `*`, the version an ETag names, or nothing at all
/// (a value that is not one of our ETags, like Dapr's `bad-etag`, matches no version).
pub fn if_match(value: &str) -> IfMatch {
    let v = value.trim();
    if v == "*" {
        return IfMatch::Any;
    }
    let inner = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    let decoded = lapis_wire::percent::decode_lossy(inner, lapis_wire::percent::Plus::Literal);
    match decoded
        .strip_prefix("datetime'")
        .and_then(|s| s.strip_suffix('\''))
        .and_then(parse_datetime)
    {
        Some(t) => IfMatch::Timestamp(t),
        None => IfMatch::Never,
    }
}

/// Merge for the engine: stored properties first, the request's second.
pub fn merge_fn() -> Arc<MergeFn> {
    Arc::new(|old: &[u8], new: &[u8]| {
        let bad = |e: AzureError| {
            StoreError::Internal(format!("stored properties unreadable: {}", e.message))
        };
        let old = decode_properties(old).map_err(bad)?;
        let new = decode_properties(new).map_err(bad)?;
        Ok(encode_properties(&merge_properties(&old, &new)))
    })
}

/// The keys an entity operation addresses: from the URL, checked against the body's if both.
fn keys(ctx: &TableCtx) -> (String, (String, String)) {
    match &ctx.path {
        TablePath::Entities {
            table,
            keys: Some(k),
        } => (table.clone(), k.clone()),
        TablePath::Entities { table, keys: None } => (table.clone(), Default::default()),
        _ => Default::default(),
    }
}

/// A stored entity's JSON and its ETag.
pub fn render_record(
    base_url: &str,
    table: &str,
    rec: &EntityRecord,
    level: Metadata,
    select: Option<&[String]>,
) -> ApiResult<(String, String)> {
    let props = decode_property_refs(&rec.properties)?;
    let body = render_entity(base_url, table, &view(rec, &props), level, select);
    Ok((body, entity_etag(rec.timestamp)))
}

fn view<'a>(rec: &'a EntityRecord, properties: &'a [(&'a str, ValueRef<'a>)]) -> EntityView<'a> {
    EntityView {
        partition_key: &rec.partition_key,
        row_key: &rec.row_key,
        timestamp: rec.timestamp,
        properties,
    }
}

/// A response describing a stored entity: ETag and its JSON.
fn entity_reply(
    ctx: &TableCtx,
    table: &str,
    rec: &EntityRecord,
    status: StatusCode,
    level: Metadata,
    select: Option<&[String]>,
) -> ApiResult<Reply> {
    let (body, etag) = render_record(&ctx.base_url, table, rec, level, select)?;
    Ok(Reply::new(status)
        .header("etag", &etag)
        .json(body, level.content_type()))
}

pub async fn insert(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let level = metadata_level(&ctx.query, &req)?;
    let no_content = prefers_no_content(&req);
    let body = read_small_body(req, MAX_ENTITY_BODY).await?;
    let EntityBody {
        partition_key,
        row_key,
        properties,
    } = parse_entity(&body)?;
    let (Some(pk), Some(rk)) = (partition_key, row_key) else {
        return Err(AzureError::new(ErrorCode::PropertiesNeedValue).into());
    };
    let (table, _) = keys(&ctx);
    sas_allows_entity(ctx.grant.as_ref(), &pk, &rk)?;
    let op = EntityOp {
        partition_key: pk.clone(),
        row_key: rk.clone(),
        kind: EntityOpKind::Write {
            write: EntityWrite::Insert,
            properties: encode_properties(&properties),
        },
    };
    let rec = store_write(&ctx, &table, op).await?;
    let rec = rec.ok_or_else(|| ApiError(AzureError::new(ErrorCode::InternalError)))?;
    let location = entity_url(&ctx.base_url, &table, &pk, &rk);
    let reply = if no_content {
        Reply::new(StatusCode::NO_CONTENT)
            .header("etag", entity_etag(rec.timestamp))
            .header("preference-applied", "return-no-content")
    } else {
        entity_reply(&ctx, &table, &rec, StatusCode::CREATED, level, None)?
            .header("preference-applied", "return-content")
    };
    Ok(reply
        .header("location", &location)
        .header("dataserviceid", &location)
        .header("dataserviceversion", "3.0;")
        .finish())
}

/// PUT (replace) or MERGE on an entity; without If-Match it inserts when missing.
pub async fn put(ctx: TableCtx, req: Request<Body>, merge: bool) -> ApiResult<Response<Body>> {
    let condition = req
        .headers()
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .map(if_match);
    let body = read_small_body(req, MAX_ENTITY_BODY).await?;
    let parsed = parse_entity(&body)?;
    let (table, (pk, rk)) = keys(&ctx);
    sas_allows_entity(ctx.grant.as_ref(), &pk, &rk)?;
    let write = match (merge, condition) {
        (false, Some(c)) => EntityWrite::Update { if_match: c },
        (false, None) => EntityWrite::InsertOrReplace,
        (true, Some(c)) => EntityWrite::Merge { if_match: c },
        (true, None) => EntityWrite::InsertOrMerge,
    };
    let op = EntityOp {
        partition_key: pk,
        row_key: rk,
        kind: EntityOpKind::Write {
            write,
            properties: encode_properties(&parsed.properties),
        },
    };
    let rec = store_write(&ctx, &table, op).await?;
    let rec = rec.ok_or_else(|| ApiError(AzureError::new(ErrorCode::InternalError)))?;
    Ok(Reply::new(StatusCode::NO_CONTENT)
        .header("etag", entity_etag(rec.timestamp))
        .header("dataserviceversion", "3.0;")
        .finish())
}

pub async fn delete(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let Some(condition) = req
        .headers()
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .map(if_match)
    else {
        return Err(AzureError::new(ErrorCode::MissingRequiredHeader)
            .detail("HeaderName", "If-Match")
            .into());
    };
    let (table, (pk, rk)) = keys(&ctx);
    sas_allows_entity(ctx.grant.as_ref(), &pk, &rk)?;
    let op = EntityOp {
        partition_key: pk,
        row_key: rk,
        kind: EntityOpKind::Delete {
            if_match: condition,
        },
    };
    store_write(&ctx, &table, op).await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

fn select(ctx: &TableCtx) -> ApiResult<Option<Vec<String>>> {
    Ok(ctx.query.get("$select").map(parse_select).transpose()?)
}

pub async fn get(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let level = metadata_level(&ctx.query, &req)?;
    let select = select(&ctx)?;
    let (table, (pk, rk)) = keys(&ctx);
    sas_allows_entity(ctx.grant.as_ref(), &pk, &rk)?;
    let filter = ctx.query.get("$filter").map(parse_filter).transpose()?;
    let rec = crate::common::point_read(&ctx.state.store, |s| {
        s.get_entity(&ctx.account, &table, &pk, &rk)
    })?;
    // A filter on a point query narrows it like any query: an entity it rejects is not found.
    if filter.is_some_and(|f| {
        !f.matches_encoded(
            &rec.partition_key,
            &rec.row_key,
            rec.timestamp,
            &rec.properties,
        )
    }) {
        return Err(AzureError::new(ErrorCode::ResourceNotFound).into());
    }
    Ok(entity_reply(&ctx, &table, &rec, StatusCode::OK, level, select.as_deref())?.finish())
}

/// Continuation keys travel in headers, so they are encoded: Azure's tokens are opaque too.
fn encode_key(key: &str) -> String {
    format!(
        "1!{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    )
}

fn decode_key(token: &str) -> Option<String> {
    let b64 = token.strip_prefix("1!")?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .ok()?;
    String::from_utf8(raw).ok()
}

pub async fn query(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let level = metadata_level(&ctx.query, &req)?;
    let select = select(&ctx)?;
    let limit = match ctx.query.get("$top") {
        Some(t) => parse_top(t)? as usize,
        None => 1000,
    };
    let filter = ctx
        .query
        .get("$filter")
        .filter(|f| !f.trim().is_empty())
        .map(parse_filter)
        .transpose()?;
    let start = match (
        ctx.query.get("NextPartitionKey"),
        ctx.query.get("NextRowKey"),
    ) {
        (Some(p), r) => {
            let bad = || {
                ApiError(
                    AzureError::new(ErrorCode::InvalidInput)
                        .message("The continuation token is not valid."),
                )
            };
            let pk = decode_key(p).ok_or_else(bad)?;
            let rk = match r {
                Some(r) => decode_key(r).ok_or_else(bad)?,
                None => String::new(),
            };
            Some((pk, rk))
        }
        _ => None,
    };
    let (table, _) = keys(&ctx);
    let (account, t, grant) = (ctx.account.clone(), table.clone(), ctx.grant.clone());
    let (records, next) = run(&ctx, move |s| {
        let range = filter.as_ref().map(|f| f.key_range()).unwrap_or_default();
        let check = |row: &EntityRow| {
            if grant
                .as_ref()
                .is_some_and(|g| !g.allows_entity(row.partition_key, row.row_key))
            {
                return false;
            }
            filter.as_ref().is_none_or(|f| {
                f.matches_encoded(
                    row.partition_key,
                    row.row_key,
                    row.timestamp,
                    row.properties,
                )
            })
        };
        let q = EntityQuery {
            pk_eq: range.pk_eq.as_deref(),
            pk_lower: range.pk_lower.as_ref().map(|(k, i)| (k.as_str(), *i)),
            pk_upper: range.pk_upper.as_ref().map(|(k, i)| (k.as_str(), *i)),
            rk_lower: range.rk_lower.as_ref().map(|(k, i)| (k.as_str(), *i)),
            rk_upper: range.rk_upper.as_ref().map(|(k, i)| (k.as_str(), *i)),
            start_at: start.as_ref().map(|(p, r)| (p.as_str(), r.as_str())),
            limit,
            filter: &check,
        };
        s.query_entities(&account, &t, &q)
    })
    .await?;
    // Decoding again is cheaper than keeping every row's properties from the filter: nothing
    // is copied out of the records.
    let props: Vec<PropertyRefs> = records
        .iter()
        .map(|r| decode_property_refs(&r.properties))
        .collect::<Result<_, _>>()?;
    let views: Vec<EntityView> = records
        .iter()
        .zip(&props)
        .map(|(r, p)| view(r, p))
        .collect();
    let body = render_entity_list(&ctx.base_url, &table, &views, level, select.as_deref());
    let mut reply = Reply::new(StatusCode::OK);
    if let Some((pk, rk)) = next {
        reply = reply
            .header("x-ms-continuation-nextpartitionkey", encode_key(&pk))
            .header("x-ms-continuation-nextrowkey", encode_key(&rk));
    }
    Ok(reply.json(body, level.content_type()).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(if_match("*"), IfMatch::Any);
        assert_eq!(if_match("bad-etag"), IfMatch::Never);
        let t = time::macros::datetime!(2022-08-11 15:07:27.9577152 UTC);
        assert_eq!(if_match(&entity_etag(t)), IfMatch::Timestamp(t));
        assert_eq!(
            if_match("W/\"datetime'2022-08-11T15:07:27.9577152Z'\""),
            IfMatch::Timestamp(t)
        );
    }

    #[test]
    fn continuation_tokens_round_trip_and_are_never_empty() {
        for key in ["", "p", "a b/ü"] {
            let token = encode_key(key);
            assert!(!token.is_empty());
            assert_eq!(decode_key(&token).as_deref(), Some(key));
        }
        assert_eq!(decode_key("garbage"), None);
    }
}
