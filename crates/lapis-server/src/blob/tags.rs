//! Blob index tags: Set Blob Tags, Get Blob Tags, Find Blobs by Tags, and `x-ms-tags` on
//! uploads.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{is_tag_marker, Conditions};
use lapis_wire::tags::{parse_tags_header, validate_tags};
use lapis_wire::xml::{parse_tags, render_tagged_blobs, render_tags, TaggedBlobEntry};
use lapis_wire::{AzureError, ErrorCode};

use super::body::{checked_digest, read_small_body, Expected};
use super::conditions::etag_condition;
use super::service::max_results;
use super::tag_filter::{parse_condition, parse_query};
use super::{blocking, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

/// A tags document is small: 10 tags of at most 384 characters, in XML.
const MAX_TAGS_BODY: usize = 64 * 1024;

/// `x-ms-tags` of an upload (Put Blob, Put Block List, an append blob's creation): no header,
/// no tags.
pub fn upload_tags(headers: &Headers) -> ApiResult<Vec<(String, String)>> {
    match headers.get("x-ms-tags") {
        None => Ok(Vec::new()),
        Some(v) => Ok(parse_tags_header(v)?),
    }
}

/// `x-ms-if-tags`, for the conditions of any blob operation.
pub fn if_tags(headers: &Headers) -> ApiResult<Option<lapis_store::TagCondition>> {
    let Some(v) = headers.get("x-ms-if-tags") else {
        return Ok(None);
    };
    parse_condition(v).map(Some).map_err(|reason| {
        Headers::invalid("x-ms-if-tags", v)
            .detail("Reason", reason)
            .into()
    })
}

/// The conditions of the tag operations: the blob's own ETag and dates come as
/// `x-ms-blob-if-*` (any failing one is 412), with the lease and `x-ms-if-tags`.
fn tag_operation_conditions(headers: &Headers) -> ApiResult<Conditions> {
    Ok(Conditions {
        if_match: headers.get("x-ms-blob-if-match").map(etag_condition),
        if_none_match: headers.get("x-ms-blob-if-none-match").map(etag_condition),
        if_modified_since: headers.http_date("x-ms-blob-if-modified-since")?,
        if_unmodified_since: headers.http_date("x-ms-blob-if-unmodified-since")?,
        lease_id: headers.owned("x-ms-lease-id"),
        if_tags: if_tags(headers)?,
    })
}

/// Tags belong to a blob, a snapshot or a version.
fn snapshot(ctx: &Ctx) -> Option<String> {
    super::versions::selected(&ctx.query)
}

pub async fn get_blob_tags(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let cond = tag_operation_conditions(&Headers::of(&req))?;
    let (account, container, blob, snapshot) =
        (ctx.account(), ctx.container(), ctx.blob(), snapshot(&ctx));
    let tags = blocking(&ctx, move |s| {
        s.get_blob_tags(&account, &container, &blob, snapshot.as_deref(), &cond)
    })
    .await?;
    Ok(Reply::new(StatusCode::OK).xml(render_tags(&tags)).finish())
}

pub async fn set_blob_tags(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = tag_operation_conditions(&headers)?;
    let expected = Expected::from_headers(&headers)?;
    let body = read_small_body(req, MAX_TAGS_BODY).await?;
    checked_digest(&body, &expected)?;
    let tags = parse_tags(&body)?;
    validate_tags(&tags)?;
    let (account, container, blob, snapshot) =
        (ctx.account(), ctx.container(), ctx.blob(), snapshot(&ctx));
    blocking(&ctx, move |s| {
        s.set_blob_tags(
            &account,
            &container,
            &blob,
            snapshot.as_deref(),
            &tags,
            &cond,
        )
    })
    .await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

fn invalid_query(name: &str, value: &str, reason: &str) -> AzureError {
    AzureError::new(ErrorCode::InvalidQueryParameterValue)
        .detail("QueryParameterName", name)
        .detail("QueryParameterValue", value)
        .detail("Reason", reason)
}

/// Find Blobs by Tags, across the account or (at a container's URL) within one container.
pub async fn find_blobs_by_tags(ctx: Ctx) -> ApiResult<Response<Body>> {
    let expression = ctx.query.get("where").unwrap_or_default().to_string();
    let mut query =
        parse_query(&expression).map_err(|reason| invalid_query("where", &expression, &reason))?;
    if let Some(include) = ctx.query.get("include").filter(|v| !v.is_empty()) {
        // `versions` is the only dataset, and Lapis keeps no versions.
        return Err(AzureError::new(ErrorCode::NotImplemented)
            .message(format!(
                "Lapis does not implement include={include} for Find Blobs by Tags."
            ))
            .into());
    }
    let marker = ctx
        .query
        .get("marker")
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if let Some(m) = marker.as_deref().filter(|m| !is_tag_marker(m)) {
        return Err(invalid_query("marker", m, "Not a marker this service gave.").into());
    }
    let (max, _) = max_results(&ctx)?;
    let account = ctx.account();
    if let Some(container) = ctx.target.container.clone() {
        if query.container.as_ref().is_some_and(|c| *c != container) {
            return Err(invalid_query(
                "where",
                &expression,
                "@container names another container than the request's.",
            )
            .into());
        }
        let (a, c) = (account.clone(), container.clone());
        blocking(&ctx, move |s| s.get_container(&a, &c)).await?;
        query.container = Some(container);
    }
    let page = blocking(&ctx, move |s| {
        s.find_blobs_by_tags(&account, &query, marker.as_deref(), max)
    })
    .await?;
    let items: Vec<TaggedBlobEntry> = page
        .items
        .iter()
        .map(|b| TaggedBlobEntry {
            name: &b.name,
            container: &b.container,
            tags: &b.tags,
        })
        .collect();
    let xml = render_tagged_blobs(
        &ctx.service_endpoint,
        &expression,
        &items,
        page.next_marker.as_deref(),
    );
    Ok(Reply::new(StatusCode::OK).xml(xml).finish())
}
