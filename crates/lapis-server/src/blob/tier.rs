//! Set Blob Tier.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::TierChange;
use lapis_wire::{AzureError, ErrorCode};

use super::block_blob::access_tier;
use super::{blocking, conditions, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

/// Rehydrating from Archive answers 202 (Azure starts a rehydration; Lapis completes it at
/// once), any other change 200.
pub async fn set_blob_tier(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let tier = access_tier(&headers)?.ok_or_else(|| {
        AzureError::new(ErrorCode::MissingRequiredHeader).detail("HeaderName", "x-ms-access-tier")
    })?;
    let priority = match headers.get("x-ms-rehydrate-priority") {
        None => None,
        Some(p) if p.eq_ignore_ascii_case("High") => Some("High".to_string()),
        Some(p) if p.eq_ignore_ascii_case("Standard") => Some("Standard".to_string()),
        Some(p) => return Err(Headers::invalid("x-ms-rehydrate-priority", p).into()),
    };
    let cond = conditions::parse_write(&headers)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let snapshot = super::versions::selected(&ctx.query);
    let change = blocking(&ctx, move |s| {
        s.set_blob_tier(
            &account,
            &container,
            &blob,
            snapshot.as_deref(),
            tier,
            priority,
            &cond,
        )
    })
    .await?;
    let status = match change {
        TierChange::Done => StatusCode::OK,
        TierChange::Rehydrated => StatusCode::ACCEPTED,
    };
    Ok(Reply::new(status).finish())
}
