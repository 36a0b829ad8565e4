//! Container operations: Create, Get Properties/Metadata, Set Metadata, Get/Set ACL, Delete.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{Conditions, ContainerProps, PublicAccess};
use lapis_wire::names::validate_container_name;
use lapis_wire::{AzureError, ErrorCode};

use super::any_blob::lease_headers;
use super::service::access_name;
use super::{blocking, conditions, read_now, Reply};
use crate::common::acl;
use crate::common::read_small_body;
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

fn public_access(headers: &Headers) -> ApiResult<PublicAccess> {
    match headers.get("x-ms-blob-public-access") {
        None | Some("") => Ok(PublicAccess::None),
        Some("blob") => Ok(PublicAccess::Blob),
        Some("container") => Ok(PublicAccess::Container),
        Some(other) => Err(Headers::invalid("x-ms-blob-public-access", other).into()),
    }
}

/// Containers take only the date conditions (Set Container Metadata only If-Modified-Since);
/// ETag conditions are refused, as Azure refuses them, instead of being silently ignored.
fn date_conditions_only(cond: &Conditions, allow_unmodified_since: bool) -> ApiResult<()> {
    if cond.if_match.is_some()
        || cond.if_none_match.is_some()
        || (!allow_unmodified_since && cond.if_unmodified_since.is_some())
    {
        return Err(AzureError::new(ErrorCode::ConditionHeadersNotSupported).into());
    }
    Ok(())
}

/// Headers every container answer carries.
fn with_container_headers(reply: Reply, c: &ContainerProps) -> Reply {
    reply.etag(&c.etag).date("last-modified", c.last_modified)
}

pub async fn create(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let name = ctx.container();
    validate_container_name(&name)?;
    let headers = Headers::of(&req);
    let metadata = headers.metadata()?;
    let access = public_access(&headers)?;
    let account = ctx.account();
    let c = blocking(&ctx, move |s| {
        s.create_container(&account, &name, &metadata, access)
    })
    .await?;
    Ok(with_container_headers(Reply::new(StatusCode::CREATED), &c).finish())
}

pub async fn get_properties(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let c = read_now(&ctx, |s| {
        s.get_container(&ctx.target.account, ctx.container_name())
    })?;
    c.check_lease_id(Headers::of(&req).get("x-ms-lease-id"))?;
    let reply = with_container_headers(Reply::new(StatusCode::OK), &c).metadata(&c.metadata);
    let reply = lease_headers(reply, &c.lease)
        .header_opt("x-ms-blob-public-access", access_name(c.public_access))
        .header(
            "x-ms-has-immutability-policy",
            c.has_immutability_policy.to_string(),
        )
        .header("x-ms-has-legal-hold", c.has_legal_hold.to_string())
        .header("x-ms-default-encryption-scope", "$account-encryption-key")
        .header("x-ms-deny-encryption-scope-override", "false");
    Ok(reply.finish())
}

pub async fn set_metadata(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let metadata = headers.metadata()?;
    let cond = conditions::parse_container(&headers)?;
    date_conditions_only(&cond, false)?;
    let (account, name) = (ctx.account(), ctx.container());
    let c = blocking(&ctx, move |s| {
        s.set_container_metadata(&account, &name, &metadata, &cond)
    })
    .await?;
    Ok(with_container_headers(Reply::new(StatusCode::OK), &c).finish())
}

pub async fn get_acl(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let (c, ids) = read_now(&ctx, |s| {
        s.get_container_acl(&ctx.target.account, ctx.container_name())
    })?;
    c.check_lease_id(Headers::of(&req).get("x-ms-lease-id"))?;
    let reply = with_container_headers(Reply::new(StatusCode::OK), &c)
        .header_opt("x-ms-blob-public-access", access_name(c.public_access))
        .xml(acl::render(ids));
    Ok(reply.finish())
}

pub async fn set_acl(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let access = public_access(&headers)?;
    let cond = conditions::parse_container(&headers)?;
    date_conditions_only(&cond, true)?;
    let body = read_small_body(req, 64 * 1024).await?;
    let ids = acl::parse(&body)?;
    let (account, name) = (ctx.account(), ctx.container());
    let c = blocking(&ctx, move |s| {
        s.set_container_acl(&account, &name, access, &ids, &cond)
    })
    .await?;
    Ok(with_container_headers(Reply::new(StatusCode::OK), &c).finish())
}

pub async fn delete(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_container(&headers)?;
    date_conditions_only(&cond, true)?;
    let (account, name) = (ctx.account(), ctx.container());
    // Container soft delete is switched in the account configuration, as Azure switches it
    // in its management plane.
    let retain = ctx
        .state
        .account_config
        .settings(&account)
        .container_soft_delete_days;
    blocking(&ctx, move |s| match retain {
        Some(days) => s.delete_container_retained(&account, &name, &cond, days),
        None => s.delete_container(&account, &name, &cond),
    })
    .await?;
    Ok(Reply::new(StatusCode::ACCEPTED).finish())
}
