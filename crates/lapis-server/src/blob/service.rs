//! Service-level operations: List Containers, Get/Set Blob Service Properties, Get Account
//! Information, Get User Delegation Key.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_auth::UserDelegationKey;
use lapis_store::PublicAccess;
use lapis_wire::time_format::{iso8601_seconds, parse_iso8601};
use lapis_wire::xml::{
    parse_key_info, render_list_containers, render_user_delegation_key, ContainerEntry,
    DeletedContainerEntry, LeaseEntry, ServiceProperties, UserDelegationKeyXml,
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

/// Azure's longest user delegation key: seven days from the request.
const MAX_KEY_LIFETIME: time::Duration = time::Duration::days(7);

/// Get User Delegation Key: a key for the token's object id, valid from `Start` (default: now)
/// to `Expiry` (at most seven days from now). Its value is derived from the account key and its
/// fields ([`UserDelegationKey::value`]), so the SAS it signs verifies without anything stored.
pub async fn get_user_delegation_key(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let Some(bearer) = ctx.granted.bearer.clone() else {
        // Access control answers first; a key for no identity is never made.
        return Err(AzureError::new(ErrorCode::AuthenticationFailed).into());
    };
    let body = read_small_body(req, 64 * 1024).await?;
    let info = parse_key_info(&body)?;
    let time = |name: &str, text: &str| {
        parse_iso8601(text).ok_or_else(|| {
            AzureError::new(ErrorCode::InvalidXmlNodeValue)
                .detail("XmlNodeName", name)
                .detail("XmlNodeValue", text)
        })
    };
    let expiry = time("Expiry", &info.expiry)?;
    let start = match &info.start {
        Some(text) => time("Start", text)?,
        None => ctx.now,
    };
    let out_of_range = |name: &str, text: &str, reason: &str| {
        AzureError::new(ErrorCode::InvalidXmlNodeValue)
            .detail("XmlNodeName", name)
            .detail("XmlNodeValue", text)
            .detail("Reason", reason)
    };
    if expiry <= start {
        return Err(out_of_range(
            "Expiry",
            &info.expiry,
            "The expiry must be after the start.",
        )
        .into());
    }
    if expiry > ctx.now + MAX_KEY_LIFETIME {
        return Err(out_of_range(
            "Expiry",
            &info.expiry,
            "The expiry must be within seven days of the current time.",
        )
        .into());
    }
    let key = UserDelegationKey {
        object_id: bearer.object_id,
        tenant_id: bearer.tenant_id,
        start: iso8601_seconds(start),
        expiry: iso8601_seconds(expiry),
        service: "b".to_string(),
        version: crate::handler::DEFAULT_API_VERSION.to_string(),
    };
    let account_key = ctx
        .state
        .accounts
        .get(&ctx.target.account)
        .and_then(|a| a.keys.first())
        .ok_or_else(|| AzureError::new(ErrorCode::InternalError))?;
    let value = key.value(account_key);
    let xml = render_user_delegation_key(&UserDelegationKeyXml {
        signed_oid: &key.object_id,
        signed_tid: &key.tenant_id,
        signed_start: &key.start,
        signed_expiry: &key.expiry,
        signed_service: &key.service,
        signed_version: &key.version,
        value: &value,
    });
    Ok(Reply::new(StatusCode::OK).xml(xml).finish())
}
