//! Lease Blob and Lease Container: the `x-ms-lease-*` headers to a `LeaseAction`, and the answer.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{LeaseAction, LeaseOutcome};
use lapis_wire::{AzureError, ErrorCode};

use super::{blocking, conditions, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

fn required<'a>(headers: &Headers<'a>, name: &str) -> ApiResult<&'a str> {
    headers.get(name).ok_or_else(|| {
        AzureError::new(ErrorCode::MissingRequiredHeader)
            .detail("HeaderName", name)
            .into()
    })
}

/// A lease id must be a GUID (Azure refuses anything else with 400).
fn lease_id(headers: &Headers, name: &str) -> ApiResult<String> {
    let value = required(headers, name)?;
    guid(name, value)
}

fn guid(name: &str, value: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(value.trim())
        .map(|_| value.trim().to_string())
        .map_err(|_| Headers::invalid(name, value).into())
}

/// Seconds in `lo..=hi` (or `-1` where `infinite`), else 400 InvalidHeaderValue.
fn seconds(name: &str, value: &str, lo: i64, hi: i64, infinite: bool) -> ApiResult<i64> {
    match value.trim().parse::<i64>() {
        Ok(-1) if infinite => Ok(-1),
        Ok(s) if (lo..=hi).contains(&s) => Ok(s),
        _ => Err(Headers::invalid(name, value).into()),
    }
}

/// The action the request asks for, with what it needs, validated as Azure validates it.
fn action(headers: &Headers) -> ApiResult<LeaseAction> {
    let name = required(headers, "x-ms-lease-action")?;
    Ok(match name.to_ascii_lowercase().as_str() {
        "acquire" => {
            let duration = required(headers, "x-ms-lease-duration")?;
            LeaseAction::Acquire {
                duration: seconds("x-ms-lease-duration", duration, 15, 60, true)?,
                proposed: match headers.get("x-ms-proposed-lease-id") {
                    Some(p) => guid("x-ms-proposed-lease-id", p)?,
                    None => uuid::Uuid::new_v4().to_string(),
                },
            }
        }
        "renew" => LeaseAction::Renew {
            id: lease_id(headers, "x-ms-lease-id")?,
        },
        "change" => LeaseAction::Change {
            id: lease_id(headers, "x-ms-lease-id")?,
            proposed: lease_id(headers, "x-ms-proposed-lease-id")?,
        },
        "release" => LeaseAction::Release {
            id: lease_id(headers, "x-ms-lease-id")?,
        },
        "break" => LeaseAction::Break {
            period: headers
                .get("x-ms-lease-break-period")
                .map(|v| seconds("x-ms-lease-break-period", v, 0, 60, false))
                .transpose()?,
        },
        _ => return Err(Headers::invalid("x-ms-lease-action", name).into()),
    })
}

fn answer(action: &LeaseAction, out: LeaseOutcome) -> Response<Body> {
    let status = match action {
        LeaseAction::Acquire { .. } => StatusCode::CREATED,
        LeaseAction::Break { .. } => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    let mut reply = Reply::new(status)
        .etag(&out.etag)
        .date("last-modified", out.last_modified);
    if !matches!(action, LeaseAction::Release { .. }) {
        reply = reply.header_opt("x-ms-lease-id", out.id);
    }
    reply
        .header_opt("x-ms-lease-time", out.break_seconds.map(|s| s.to_string()))
        .finish()
}

pub async fn lease_blob(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let action = action(&headers)?;
    // The lease id names the lease acted on, not a condition of the request.
    let cond = conditions::parse_write(&headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let todo = action.clone();
    let out = blocking(&ctx, move |s| {
        s.lease_blob(&account, &container, &blob, todo, &cond)
    })
    .await?;
    Ok(answer(&action, out))
}

pub async fn lease_container(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let action = action(&headers)?;
    let cond = conditions::parse_container(&headers)?;
    // Containers take only the date conditions.
    if cond.if_match.is_some() || cond.if_none_match.is_some() {
        return Err(AzureError::new(ErrorCode::ConditionHeadersNotSupported).into());
    }
    let (account, container) = (ctx.account(), ctx.container());
    let todo = action.clone();
    let out = blocking(&ctx, move |s| {
        s.lease_container(&account, &container, todo, &cond)
    })
    .await?;
    Ok(answer(&action, out))
}
