//! Soft delete's two restoring operations: Undelete Blob and Restore Container. Whether a
//! delete is soft is the engine's business (the account's DeleteRetentionPolicy, stored with
//! the service properties) and the account configuration's (`containerSoftDeleteDays`).

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_wire::xml::ServiceProperties;
use lapis_wire::{AzureError, ErrorCode};

use super::{blocking, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

/// The blob DeleteRetentionPolicy of `props` when it is on.
pub fn delete_retention(props: &ServiceProperties) -> Option<lapis_store::DeleteRetention> {
    let policy = props.delete_retention_policy.as_ref()?;
    match (policy.enabled, policy.days) {
        (true, Some(days)) => Some(lapis_store::DeleteRetention {
            days,
            allow_permanent_delete: policy.allow_permanent_delete.unwrap_or(false),
        }),
        _ => None,
    }
}

/// Undelete Blob: the soft-deleted blob and its soft-deleted snapshots are live again; on a
/// live blob, its soft-deleted snapshots. Nothing of the name within retention: 404.
pub async fn undelete_blob(ctx: Ctx, _req: Request<Body>) -> ApiResult<Response<Body>> {
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    blocking(&ctx, move |s| s.undelete_blob(&account, &container, &blob)).await?;
    Ok(Reply::new(StatusCode::OK).finish())
}

/// Delete Blob with `deletetype=permanent` (2020-02-10 and later): a soft-deleted snapshot or
/// version goes at once. `permanent` is the only value; a snapshot or version must be named
/// (without one Azure answers 409, as for an account whose policy does not allow it).
pub async fn delete_permanently(ctx: Ctx, _req: Request<Body>) -> ApiResult<Response<Body>> {
    let value = ctx.query.get("deletetype").unwrap_or_default();
    if value != "permanent" {
        return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
            .detail("QueryParameterName", "deletetype")
            .detail("QueryParameterValue", value)
            .detail("Reason", "The only value is permanent.")
            .into());
    }
    let Some(snapshot) = super::versions::selected(&ctx.query) else {
        return Err(AzureError::new(ErrorCode::BlobOperationNotSupported).into());
    };
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    blocking(&ctx, move |s| {
        s.delete_permanently(&account, &container, &blob, &snapshot)
    })
    .await?;
    Ok(Reply::new(StatusCode::ACCEPTED)
        .header("x-ms-delete-type-permanent", "true")
        .finish())
}

/// A header Restore Container needs: absent or empty is Azure's MissingRequiredHeader.
fn required<'a>(headers: &'a Headers, name: &str) -> ApiResult<&'a str> {
    match headers.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(AzureError::new(ErrorCode::MissingRequiredHeader)
            .detail("HeaderName", name)
            .into()),
    }
}

/// Restore Container: the soft-deleted container named by `x-ms-deleted-container-name` and
/// `x-ms-deleted-container-version` is live again, with its blobs, under its own name (the
/// URL's, which Azure requires to be the same).
pub async fn restore_container(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let name = required(&headers, "x-ms-deleted-container-name")?.to_owned();
    let version = required(&headers, "x-ms-deleted-container-version")?.to_owned();
    if name != ctx.container_name() {
        return Err(AzureError::new(ErrorCode::InvalidHeaderValue)
            .detail("HeaderName", "x-ms-deleted-container-name")
            .detail("HeaderValue", name)
            .message("The restored container must keep its name.")
            .into());
    }
    let account = ctx.account();
    blocking(&ctx, move |s| {
        s.restore_container(&account, &name, &version)
    })
    .await?;
    Ok(Reply::new(StatusCode::CREATED).finish())
}
