//! Blob Batch (`POST /account?comp=batch`, or `?restype=container&comp=batch` on a container):
//! up to 256 Delete Blob or Set Blob Tier sub-requests. Each goes through the same router,
//! authentication (its own Shared Key or SAS, else the batch's SAS) and operation code as a
//! request of its own, and is answered in its own part. A batch that cannot be read is
//! answered, as Azure does, 202 with a single part carrying the error.

use std::net::SocketAddr;

use axum::body::Body;
use futures::stream::{self, StreamExt};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use lapis_auth::SasGrant;
use lapis_wire::{headers as h, AzureError, ErrorCode};
use time::OffsetDateTime;

use super::batch_wire::{self, SubRequest, SubResponse};
use super::Reply;
use crate::access::Enclosing;
use crate::common::read_small_body;
use crate::error::{ApiError, ApiResult};
use crate::handler::{self, Ctx, Routed, DEFAULT_API_VERSION};
use crate::request::Headers;
use crate::router::Op;
use crate::state::AppState;

/// Azure caps a batch request body at 4 MiB.
const MAX_BATCH_BODY: usize = 4 * 1024 * 1024;

/// Sub-requests run at once: enough for group commit to gather a batch's deletes into a few
/// commits, without a blocking thread per sub-request of a full batch.
const IN_FLIGHT: usize = 64;

/// A sub-request read and routed, ready to run.
struct Planned {
    content_id: String,
    parts: Parts,
    body: Body,
    /// The path as signed, when the client named it relative to the account.
    signed_path: Option<String>,
}

/// What every sub-request shares with its batch.
struct Batch {
    state: AppState,
    peer: SocketAddr,
    now: OffsetDateTime,
    version: String,
    sas: Option<SasGrant>,
}

pub async fn submit(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let content_type = headers.owned("content-type");
    let version = headers
        .get(h::X_MS_VERSION)
        .unwrap_or(DEFAULT_API_VERSION)
        .to_string();
    let client_request_id = headers.owned(h::X_MS_CLIENT_REQUEST_ID);
    let body = read_small_body(req, MAX_BATCH_BODY).await?;
    let batch = Batch {
        state: ctx.state.clone(),
        peer: ctx.peer,
        now: ctx.now,
        version,
        sas: ctx.granted.batch_sas.as_deref().cloned(),
    };
    let parts = match plan(&ctx, content_type.as_deref(), &body) {
        // Run side by side, answers kept in order: the engine's writer commits the writes of
        // the sub-requests in flight in one group, with one fsync.
        Ok(planned) => {
            stream::iter(planned.into_iter().map(|p| run(&batch, p)))
                .buffered(IN_FLIGHT)
                .collect()
                .await
        }
        Err(err) => {
            let mut part = failure(None, &err, &batch);
            // Azure answers a batch refused whole with the batch's client request id.
            if let Some(id) = client_request_id {
                part.headers.push(("x-ms-client-request-id".into(), id));
            }
            vec![part]
        }
    };
    let boundary = format!("batchresponse_{}", uuid::Uuid::new_v4());
    let body = batch_wire::render(&boundary, &parts);
    let len = body.len() as u64;
    Ok(Reply::new(StatusCode::ACCEPTED)
        .header(
            "content-type",
            format!("multipart/mixed; boundary={boundary}"),
        )
        .body(Body::from(body), len)
        .finish())
}

/// Reads every sub-request and routes it before any runs: a batch with one unreadable part,
/// an operation a batch cannot carry, a blob outside the batch's container or a mix of
/// operations is refused whole.
fn plan(ctx: &Ctx, content_type: Option<&str>, body: &[u8]) -> Result<Vec<Planned>, AzureError> {
    let subs = batch_wire::parse(content_type, body)?;
    let mut first_op = None;
    let mut planned = Vec::with_capacity(subs.len());
    for sub in subs {
        let (p, op) = route(ctx, sub)?;
        match first_op {
            None => first_op = Some(op),
            Some(first) if first != op => {
                return Err(AzureError::new(
                    ErrorCode::AllBatchSubRequestsShouldBeSameApi,
                ))
            }
            Some(_) => {}
        }
        planned.push(p);
    }
    Ok(planned)
}

fn route(ctx: &Ctx, sub: SubRequest) -> Result<(Planned, Op), AzureError> {
    let invalid = || AzureError::new(ErrorCode::InvalidInput);
    let account = ctx.account();
    let (routed, signed_path) = routed_url(&account, &sub.url).ok_or_else(invalid)?;
    let method = Method::from_bytes(sub.method.as_bytes()).map_err(|_| invalid())?;
    let uri: Uri = routed.parse().map_err(|_| invalid())?;
    // A sub-request came over the batch's connection.
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .extension(ctx.scheme);
    for (name, value) in &sub.headers {
        // Every batch is 2018-11-09 or later and its sub-requests take the batch's version,
        // under which an empty body's Content-Length is signed as "", not "0"; the
        // sub-request names no version of its own to tell the signature check so.
        if name.eq_ignore_ascii_case("content-length") && value.trim() == "0" {
            continue;
        }
        let name = HeaderName::try_from(name.as_str()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        builder = builder.header(name, value);
    }
    let (parts, body) = builder
        .body(Body::from(sub.body))
        .map_err(|_| invalid())?
        .into_parts();
    let mut ignored = String::new();
    let (target, _, op) = handler::resolve(
        &parts.method,
        &parts.uri,
        &Headers::of_parts(&parts),
        &mut ignored,
    )
    .map_err(|_| invalid())?;
    if !matches!(op, Op::DeleteBlob | Op::SetBlobTier) {
        return Err(invalid());
    }
    // A container's batch may only touch blobs in that container.
    if let Some(scope) = &ctx.target.container {
        if target.container.as_ref() != Some(scope) {
            return Err(invalid());
        }
    }
    let planned = Planned {
        content_id: sub.content_id,
        parts,
        body,
        signed_path,
    };
    Ok((planned, op))
}

/// The sub-request's URL as a path-style one to route (`/account/container/blob?query`), and
/// the path the client signed when it named the blob relative to the account, as for Azure's
/// own hosts (`/container/blob`). An SDK talking to an emulator sends the path-style form; a
/// first segment equal to the account's name is read that way.
fn routed_url(account: &str, url: &str) -> Option<(String, Option<String>)> {
    // An absolute URL counts by its path and query only.
    let url = match url.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => url,
    };
    if !url.starts_with('/') {
        return None;
    }
    let path = url.split('?').next().unwrap_or(url);
    let first = path[1..].split('/').next().unwrap_or_default();
    if first == account {
        Some((url.to_string(), None))
    } else {
        Some((format!("/{account}{url}"), Some(path.to_string())))
    }
}

/// Runs one sub-request as a request of its own and turns its answer into a part.
async fn run(batch: &Batch, p: Planned) -> SubResponse {
    let enclosing = Enclosing {
        sas: batch.sas.as_ref(),
        signed_path: p.signed_path.as_deref(),
    };
    let (mut op_name, mut account) = ("", String::new());
    let client_request_id = p
        .parts
        .headers
        .get(h::X_MS_CLIENT_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let routed = handler::route_and_authorize(
        &batch.state,
        batch.peer,
        &p.parts,
        batch.now,
        enclosing,
        &mut op_name,
        &mut account,
    )
    .await;
    let outcome = match routed {
        Ok(Routed::Ready(ctx)) => {
            super::run_sub_request(*ctx, Request::from_parts(p.parts, p.body)).await
        }
        Ok(Routed::Answered(resp)) => Ok(resp),
        Err(e) => Err(e),
    };
    let mut part = match outcome {
        Ok(resp) => success(Some(p.content_id), resp, batch).await,
        Err(ApiError(err)) => failure(Some(p.content_id), &err, batch),
    };
    if let Some(id) = client_request_id {
        part.headers.push(("x-ms-client-request-id".into(), id));
    }
    tracing::debug!(target: "lapis::batch", operation = op_name, status = part.status);
    part
}

async fn success(content_id: Option<String>, resp: Response<Body>, batch: &Batch) -> SubResponse {
    let (head, body) = resp.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            let err = AzureError::new(ErrorCode::InternalError);
            return failure(content_id, &err, batch);
        }
    };
    let mut headers: Vec<(String, String)> = head
        .headers
        .iter()
        .filter(|(name, _)| *name != http::header::CONTENT_LENGTH || !body.is_empty())
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    headers.extend(common_headers(batch));
    SubResponse {
        content_id,
        status: head.status.as_u16(),
        reason: head.status.canonical_reason().unwrap_or("OK").to_string(),
        headers,
        body,
    }
}

/// A failed sub-request, or the single part of a batch refused whole: the Azure error with
/// its message as the reason phrase, its code and its XML body.
fn failure(content_id: Option<String>, err: &AzureError, batch: &Batch) -> SubResponse {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = err.to_xml(&request_id, batch.now).into_bytes();
    let mut headers = vec![("x-ms-error-code".to_string(), err.code.as_str().to_string())];
    headers.extend(err.headers.iter().cloned());
    headers.push(("x-ms-request-id".into(), request_id));
    headers.push(("x-ms-version".into(), batch.version.clone()));
    headers.push(("Content-Length".into(), body.len().to_string()));
    headers.push(("Content-Type".into(), "application/xml".into()));
    SubResponse {
        content_id,
        status: err.status,
        reason: batch_wire::reason_phrase(&err.message),
        headers,
        body,
    }
}

fn common_headers(batch: &Batch) -> [(String, String); 2] {
    [
        ("x-ms-request-id".into(), uuid::Uuid::new_v4().to_string()),
        ("x-ms-version".into(), batch.version.clone()),
    ]
}

#[cfg(test)]
mod tests {
    use super::routed_url;

    #[test]
    fn sub_request_urls_route_path_style() {
        let acct = "devstoreaccount1";
        assert_eq!(
            routed_url(acct, "/devstoreaccount1/c/b?snapshot=x"),
            Some(("/devstoreaccount1/c/b?snapshot=x".into(), None))
        );
        assert_eq!(
            routed_url(acct, "/c/dir/b%20c?sv=1"),
            Some((
                "/devstoreaccount1/c/dir/b%20c?sv=1".into(),
                Some("/c/dir/b%20c".into())
            ))
        );
        assert_eq!(
            routed_url(acct, "http://h:1/devstoreaccount1/c/b"),
            Some(("/devstoreaccount1/c/b".into(), None))
        );
        assert_eq!(routed_url(acct, "c/b"), None);
        assert_eq!(routed_url(acct, "http://h"), None);
    }
}
