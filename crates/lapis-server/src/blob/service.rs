//! Service-level operations: List Containers, Get/Set Blob Service Properties, Get Account Information.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::PublicAccess;
use lapis_wire::xml::{
    render_list_containers, ContainerEntry, DeletedContainerEntry, LeaseEntry, ServiceProperties,
};
use lapis_wire::{AzureError, ErrorCode};

use super::{blocking, Reply};
use crate::common::read_small_body;
use crate::error::ApiResult;
use crate::handler::Ctx;

/// `maxresults`: 1..=5000; absent means 5000, as in Azure.
pub fn max_results(ctx: &Ctx) -> ApiResult<(u32, Option<u32>)> {
    match ctx.query.get("maxresults") {
        None => Ok((5000, None)),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => {
                let n = n.min(5000) as u32;
                Ok((n, Some(v.parse().unwrap_or(n))))
            }
            _ => Err(AzureError::new(ErrorCode::OutOfRangeQueryParameterValue)
                .detail("QueryParameterName", "maxresults")
                .detail("QueryParameterValue", v)
                .detail("MinimumAllowed", "1")
                .detail("MaximumAllowed", "5000")
                .into()),
        },
    }
}

/// What List Containers may `include`: system containers do not exist in Lapis, so asking
/// for them lists nothing more.
pub const CONTAINER_INCLUDES: &[&str] = &["metadata", "deleted", "system"];

/// `include=a,b` as a list of lowercase words, each one of `allowed` (Azure's 400 otherwise).
pub fn includes(ctx: &Ctx, allowed: &[&str]) -> ApiResult<Vec<String>> {
    let Some(value) = ctx.query.get("include") else {
        return Ok(Vec::new());
    };
    let words: Vec<String> = value
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = words.iter().find(|w| !allowed.contains(&w.as_str())) {
        return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
            .detail("QueryParameterName", "include")
            .detail("QueryParameterValue", value)
            .detail(
                "Reason",
                format!("'{bad}' is not a dataset List operations include."),
            )
            .into());
    }
    Ok(words)
}

pub fn access_name(access: PublicAccess) -> Option<&'static str> {
    match access {
        PublicAccess::None => None,
        PublicAccess::Blob => Some("blob"),
        PublicAccess::Container => Some("container"),
    }
}

pub async fn list_containers(ctx: Ctx) -> ApiResult<Response<Body>> {
    let (max, max_echo) = max_results(&ctx)?;
    let include = includes(&ctx, CONTAINER_INCLUDES)?;
    let include_metadata = include.iter().any(|i| i == "metadata");
    let include_deleted = include.iter().any(|i| i == "deleted");
    let prefix = ctx.query.get("prefix").map(str::to_string);
    let marker = ctx
        .query
        .get("marker")
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let (account, p, m) = (ctx.account(), prefix.clone(), marker.clone());
    let page = blocking(&ctx, move |s| {
        s.list_containers_including(&account, p.as_deref(), m.as_deref(), max, include_deleted)
    })
    .await?;
    let entries: Vec<ContainerEntry> = page
        .items
        .iter()
        .map(|c| ContainerEntry {
            name: &c.name,
            last_modified: c.last_modified,
            etag: &c.etag,
            public_access: access_name(c.public_access),
            metadata: include_metadata.then_some(c.metadata.as_slice()),
            has_immutability_policy: c.has_immutability_policy,
            has_legal_hold: c.has_legal_hold,
            lease: match &c.deleted {
                // A deleted container's lease is gone; Azure lists it as expired.
                Some(_) => LeaseEntry {
                    state: "expired",
                    ..LeaseEntry::default()
                },
                None => super::any_blob::lease_entry(&c.lease),
            },
            deleted: c.deleted.as_ref().map(|d| DeletedContainerEntry {
                version: &d.version,
                deleted_time: d.deletion.deleted,
                remaining_retention_days: d.deletion.remaining_days(ctx.now),
            }),
        })
        .collect();
    let xml = render_list_containers(
        &ctx.service_endpoint,
        prefix.as_deref(),
        ctx.query.get("marker"),
        max_echo,
        &entries,
        page.next_marker.as_deref(),
    );
    Ok(Reply::new(StatusCode::OK).xml(xml).finish())
}

pub async fn get_service_properties(ctx: Ctx, _req: Request<Body>) -> ApiResult<Response<Body>> {
    let props = ctx.state.service_properties(&ctx.target.account).await?;
    Ok(Reply::new(StatusCode::OK).xml(props.render()).finish())
}

pub async fn set_service_properties(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let body = read_small_body(req, 64 * 1024).await?;
    let newer = ServiceProperties::parse(&body)?;
    // Elements absent from the request keep their stored values.
    let mut merged = (*ctx.state.service_properties(&ctx.target.account).await?).clone();
    merged.merge_from(newer);
    let xml = merged.render();
    let retention = super::undelete::delete_retention(&merged);
    let account = ctx.account();
    blocking(&ctx, move |s| {
        s.set_blob_service_properties(&account, &xml, retention)
    })
    .await?;
    ctx.state.forget_service_properties(&ctx.target.account);
    Ok(Reply::new(StatusCode::ACCEPTED).finish())
}

pub async fn get_account_info(_ctx: Ctx) -> ApiResult<Response<Body>> {
    Ok(Reply::new(StatusCode::OK)
        .header("x-ms-sku-name", "Standard_RAGRS")
        .header("x-ms-account-kind", "StorageV2")
        .header("x-ms-is-hns-enabled", "false")
        .finish())
}
