//! Snapshot Blob.

use axum::body::Body;
use http::{Request, Response, StatusCode};

use super::cpk::{customer_key, KeyUse};
use super::{blocking, conditions, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;

pub async fn snapshot_blob(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let metadata = headers.metadata()?;
    let key = customer_key(&headers, KeyUse::Write)?;
    // Metadata given replaces the blob's on the snapshot; none given copies the blob's.
    let given = !metadata.is_empty();
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let taken = blocking(&ctx, move |s| {
        s.snapshot_blob(
            &account,
            &container,
            &blob,
            given.then_some(metadata),
            &cond,
            key.as_ref(),
        )
    })
    .await?;
    // Azure says the request was encrypted only when it carried metadata to store.
    Ok(Reply::new(StatusCode::CREATED)
        .header("x-ms-snapshot", &taken.snapshot)
        .header_opt("x-ms-version-id", taken.version_id.as_ref())
        .etag(&taken.etag)
        .date("last-modified", taken.last_modified)
        .fixed(
            "x-ms-request-server-encrypted",
            if given { "true" } else { "false" },
        )
        .finish())
}
