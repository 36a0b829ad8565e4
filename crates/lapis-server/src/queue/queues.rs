//! Service and queue operations: Get/Set Queue Service Properties, List Queues, Create and Delete
//! Queue, Get/Set Queue Metadata, Get/Set Queue ACL.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{QueueCreated, Store};
use lapis_wire::xml::{render_list_queues, QueueEntry, ServiceProperties};
use lapis_wire::{AzureError, ErrorCode};

use super::{service_properties_key, QueueCtx};
use crate::common::read_small_body;
use crate::common::{acl, on_store, Reply};
use crate::error::ApiResult;
use crate::request::Headers;

/// Service properties and ACL bodies are small; Azure refuses larger ones too.
const MAX_SMALL_BODY: usize = 64 * 1024;

pub(super) async fn run<T, F>(ctx: &QueueCtx, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> lapis_store::Result<T> + Send + 'static,
{
    on_store(&ctx.state.store, f).await
}

pub async fn get_service_properties(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let key = service_properties_key(&ctx.account);
    let props = ctx.state.service_properties(&key).await?;
    Ok(Reply::new(StatusCode::OK).xml(props.render()).finish())
}

pub async fn set_service_properties(
    ctx: QueueCtx,
    req: Request<Body>,
) -> ApiResult<Response<Body>> {
    let body = read_small_body(req, MAX_SMALL_BODY).await?;
    let newer = ServiceProperties::parse(&body)?;
    let key = service_properties_key(&ctx.account);
    let mut merged = (*ctx.state.service_properties(&key).await?).clone();
    merged.merge_from(newer);
    // The Blob service's own sections have no meaning for queues.
    merged.delete_retention_policy = None;
    merged.static_website = None;
    merged.default_service_version = None;
    let xml = merged.render();
    let k = key.clone();
    run(&ctx, move |s| s.set_service_properties(&k, &xml)).await?;
    ctx.state.forget_service_properties(&key);
    Ok(Reply::new(StatusCode::ACCEPTED).finish())
}

/// `maxresults`: 1..=5000, 5000 when absent.
fn max_results(ctx: &QueueCtx) -> ApiResult<(u32, Option<u32>)> {
    match ctx.query.get("maxresults") {
        None => Ok((5000, None)),
        Some(_) => {
            let n = super::params::integer(&ctx.query, "maxresults", 1, i64::from(i32::MAX), None)?;
            let shown = u32::try_from(n).unwrap_or(u32::MAX);
            Ok((shown.min(5000), Some(shown)))
        }
    }
}

/// The marker of the page after `name`: Azure's queue markers are `/account/queue`.
fn marker_for(account: &str, name: &str) -> String {
    format!("/{account}/{name}")
}

/// The queue name a marker starts at (Azure's form, or a bare name as Azurite gives).
fn marker_start<'a>(account: &str, marker: &'a str) -> &'a str {
    marker
        .strip_prefix('/')
        .and_then(|m| m.strip_prefix(account))
        .and_then(|m| m.strip_prefix('/'))
        .unwrap_or(marker)
}

pub async fn list(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let (max, max_echo) = max_results(&ctx)?;
    let include_metadata = match ctx.query.get("include") {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("metadata") => true,
        Some(v) => {
            return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
                .detail("QueryParameterName", "include")
                .detail("QueryParameterValue", v)
                .detail("Reason", "")
                .into())
        }
    };
    let prefix = ctx.query.get("prefix").map(str::to_owned);
    let marker = ctx.query.get("marker").filter(|m| !m.is_empty());
    let start = marker.map(|m| marker_start(&ctx.account, m).to_owned());
    let (account, p) = (ctx.account.clone(), prefix.clone());
    let page = run(&ctx, move |s| {
        s.list_queues(&account, p.as_deref(), start.as_deref(), max)
    })
    .await?;
    let entries: Vec<QueueEntry> = page
        .items
        .iter()
        .map(|q| QueueEntry {
            name: &q.name,
            metadata: include_metadata.then_some(q.metadata.as_slice()),
        })
        .collect();
    let next = page
        .next_marker
        .as_deref()
        .map(|n| marker_for(&ctx.account, n));
    let xml = render_list_queues(
        &ctx.service_endpoint,
        prefix.as_deref(),
        ctx.query.get("marker"),
        max_echo,
        &entries,
        next.as_deref(),
    );
    Ok(Reply::new(StatusCode::OK).xml(xml).finish())
}

/// Create Queue: 201; 204 when it exists with the same metadata; 409 `QueueAlreadyExists` when
/// its metadata differs.
pub async fn create(ctx: QueueCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let metadata = Headers::of(&req).metadata()?;
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    let created = run(&ctx, move |s| s.create_queue(&account, &queue, &metadata)).await?;
    let status = match created {
        QueueCreated::Created => StatusCode::CREATED,
        QueueCreated::Existed => StatusCode::NO_CONTENT,
    };
    Ok(Reply::new(status).finish())
}

pub async fn delete(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    run(&ctx, move |s| s.delete_queue(&account, &queue)).await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

pub async fn get_metadata(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    let props = run(&ctx, move |s| s.get_queue(&account, &queue)).await?;
    Ok(Reply::new(StatusCode::OK)
        .metadata(&props.metadata)
        .header(
            "x-ms-approximate-messages-count",
            props.approximate_message_count.to_string(),
        )
        .finish())
}

pub async fn set_metadata(ctx: QueueCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let metadata = Headers::of(&req).metadata()?;
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    run(&ctx, move |s| {
        s.set_queue_metadata(&account, &queue, &metadata)
    })
    .await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

pub async fn get_acl(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    let ids = run(&ctx, move |s| s.get_queue_acl(&account, &queue)).await?;
    Ok(Reply::new(StatusCode::OK).xml(acl::render(ids)).finish())
}

pub async fn set_acl(ctx: QueueCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let body = read_small_body(req, MAX_SMALL_BODY).await?;
    let ids = acl::parse(&body)?;
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    run(&ctx, move |s| s.set_queue_acl(&account, &queue, &ids)).await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_azures_and_azurites_alike() {
        assert_eq!(marker_for("acc", "q2"), "/acc/q2");
        assert_eq!(marker_start("acc", "/acc/q2"), "q2");
        assert_eq!(marker_start("acc", "q2"), "q2");
        assert_eq!(marker_start("acc", "/other/q2"), "/other/q2");
    }
}
