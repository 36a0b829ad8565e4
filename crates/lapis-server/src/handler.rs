//! The life of a request, written out once:
//! context → path and route → CORS preflight → authentication and authorisation → operation →
//! common headers and CORS → (on failure) the Azure error body.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use http::{HeaderValue, Request, Response};
use lapis_wire::{headers as h, AzureError};
use time::OffsetDateTime;

use crate::conn::Scheme;
use crate::error::{ApiError, ApiResult};
use crate::request::{parse_path, Headers, Query, Target};
use crate::router::{self, Level, Op};
use crate::state::AppState;
use crate::{access, blob, cors};

/// Newest API version Lapis knows; answered when a request names none. Requests naming any other
/// version, older or newer, are served and answered with their own version.
pub const DEFAULT_API_VERSION: &str = "2026-10-06";

/// Everything an operation handler receives.
pub struct Ctx {
    pub state: AppState,
    pub target: Target,
    pub query: Query,
    pub op: Op,
    /// What the credentials allow the operation, and how a SAS shapes it.
    pub granted: access::Granted,
    pub now: OffsetDateTime,
    /// `http://host/account` (`https://` over TLS), for the ServiceEndpoint attribute of
    /// listings.
    pub service_endpoint: String,
    /// Whether the request came over TLS: a Blob Batch's sub-requests inherit it.
    pub scheme: Scheme,
    /// The client's address, for the SAS `sip` check of a batch's sub-requests.
    pub peer: SocketAddr,
}

/// Which service a listener serves; the life of a request is the same, the dispatch and the
/// error body (XML for Blob and Queue, JSON for Table) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Blob,
    Table,
    Queue,
    /// The static website endpoint (`--webPort`): anonymous reads of `$web`, HTML errors.
    Web,
}

pub async fn handle_blob(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response<Body> {
    handle(state, peer, req, ServiceKind::Blob).await
}

pub async fn handle_queue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response<Body> {
    handle(state, peer, req, ServiceKind::Queue).await
}

pub async fn handle_web(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response<Body> {
    handle(state, peer, req, ServiceKind::Web).await
}

pub async fn handle_table(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response<Body> {
    handle(state, peer, req, ServiceKind::Table).await
}

async fn handle(
    state: AppState,
    peer: SocketAddr,
    req: Request<Body>,
    kind: ServiceKind,
) -> Response<Body> {
    let started = Instant::now();
    // `fast-rng`: a thread-local generator, not a getrandom syscall per request.
    let request_id = uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned();
    let now = OffsetDateTime::now_utc();
    let version = req
        .headers()
        .get(h::X_MS_VERSION)
        .cloned()
        .unwrap_or(HeaderValue::from_static(DEFAULT_API_VERSION));
    let client_request_id = req.headers().get(h::X_MS_CLIENT_REQUEST_ID).cloned();
    let origin = req.headers().get(http::header::ORIGIN).cloned();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let bytes_in = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let has_body = req.headers().get(http::header::TRANSFER_ENCODING).is_some()
        || req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");

    let mut op_name = "Unknown";
    let mut account = String::new();
    let outcome = match kind {
        // Boxed: the Blob service's future is several KB, and unboxed it would make every
        // request's future as large, moved by value on each request (Table's too: callgrind
        // counted an 11 KB memcpy per point get).
        ServiceKind::Blob => {
            Box::pin(dispatch(&state, peer, req, now, &mut op_name, &mut account)).await
        }
        ServiceKind::Table => {
            crate::table::dispatch(&state, peer, req, now, &mut op_name, &mut account).await
        }
        ServiceKind::Queue => {
            crate::queue::dispatch(&state, peer, req, now, &mut op_name, &mut account).await
        }
        ServiceKind::Web => {
            Box::pin(crate::web::dispatch(
                &state,
                peer,
                req,
                now,
                &mut op_name,
                &mut account,
            ))
            .await
        }
    };
    let mut resp = match outcome {
        Ok(resp) => resp,
        Err(ApiError(err)) => {
            let mut resp = match kind {
                ServiceKind::Blob | ServiceKind::Queue => {
                    error_response(&err, &request_id, now, &method)
                }
                ServiceKind::Table => crate::table::error_response(&err, &request_id, now, &method),
                ServiceKind::Web => crate::web::error_response(&err, &request_id, now, &method),
            };
            if has_body {
                // The request body may be left unread: the connection cannot carry another request,
                // and saying so lets the client open a new one instead of failing on this one.
                resp.headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
    };

    let hs = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        hs.insert(h::X_MS_REQUEST_ID, v);
    }
    hs.insert(h::X_MS_VERSION, version);
    if let Some(v) = client_request_id {
        hs.insert(h::X_MS_CLIENT_REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&lapis_wire::time_format::rfc1123(now)) {
        hs.insert(http::header::DATE, v);
    }
    hs.insert(
        http::header::SERVER,
        HeaderValue::from_static(concat!("Lapis/", env!("CARGO_PKG_VERSION"))),
    );
    if !account.is_empty() && op_name != "Preflight" {
        let properties_key = match kind {
            ServiceKind::Blob => Some(account.clone()),
            ServiceKind::Queue => Some(crate::queue::service_properties_key(&account)),
            ServiceKind::Table | ServiceKind::Web => None,
        };
        if let Some(key) = properties_key {
            cors::decorate_actual_response(&state, &key, origin.as_ref(), &method, &mut resp).await;
        }
    }
    let bytes_out = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let elapsed = started.elapsed().as_secs_f64();
    state.metrics.observe(
        kind,
        op_name,
        resp.status().as_u16(),
        elapsed,
        bytes_in,
        bytes_out,
    );
    tracing::info!(
        target: "lapis::access",
        request_id = %request_id,
        account = %account,
        service = ?kind,
        operation = op_name,
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        duration_ms = crate::logging::millis(elapsed),
    );
    resp
}

/// Renders an Azure error: XML body and `x-ms-error-code`; HEAD and 304 answers carry no body.
pub fn error_response(
    err: &AzureError,
    request_id: &str,
    now: OffsetDateTime,
    method: &http::Method,
) -> Response<Body> {
    let status =
        http::StatusCode::from_u16(err.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let bodyless = method == http::Method::HEAD || status == http::StatusCode::NOT_MODIFIED;
    let body = if bodyless {
        String::new()
    } else {
        err.to_xml(request_id, now)
    };
    let mut builder = Response::builder()
        .status(status)
        .header(h::X_MS_ERROR_CODE, err.code.as_str());
    for (name, value) in &err.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !bodyless {
        builder = builder.header(http::header::CONTENT_TYPE, "application/xml");
    }
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn dispatch(
    state: &AppState,
    peer: SocketAddr,
    req: Request<Body>,
    now: OffsetDateTime,
    op_name: &mut &'static str,
    account_out: &mut String,
) -> ApiResult<Response<Body>> {
    let (parts, body) = req.into_parts();
    let routed = route_and_authorize(
        state,
        peer,
        &parts,
        now,
        access::Enclosing::default(),
        op_name,
        account_out,
    )
    .await?;
    match routed {
        Routed::Ready(ctx) => blob::run(*ctx, Request::from_parts(parts, body)).await,
        Routed::Answered(resp) => Ok(resp),
    }
}

/// The resource, query and operation a request names (`account_out` learns the account as
/// soon as the path is read, for the access log of a request that fails to route).
pub(crate) fn resolve(
    method: &http::Method,
    uri: &http::Uri,
    headers: &Headers,
    account_out: &mut String,
) -> ApiResult<(Target, Query, Op)> {
    let mut target = parse_path(uri.path())?;
    *account_out = target.account.clone();
    let query = Query::parse(uri.query());
    if target.level() == Level::Container && query.get("restype").is_none() {
        // `/account/name` without restype=container names the blob `name` in the root container.
        target = Target {
            account: target.account,
            container: Some("$root".to_string()),
            blob: target.container,
        };
    }
    let op = router::resolve(
        method,
        target.level(),
        query.get("restype"),
        query.get("comp"),
        &|n| headers.owned(n),
    )?;
    // A permanent delete is authorised as its own operation (SAS `y`, the Owner role).
    let op = match op {
        Op::DeleteBlob if query.get("deletetype").is_some() => Op::PermanentDeleteBlob,
        op => op,
    };
    Ok((target, query, op))
}

/// What routing and authorisation make of a request: an operation ready to run, or an answer
/// given before any operation (a CORS preflight).
pub(crate) enum Routed {
    /// Boxed: a `Ctx` is large, and it is moved on to the operation.
    Ready(Box<Ctx>),
    Answered(Response<Body>),
}

/// Path, route and authorisation: the same for a request and for each sub-request of a Blob
/// Batch, which also passes what it inherits from its batch (`enclosing`).
pub(crate) async fn route_and_authorize(
    state: &AppState,
    peer: SocketAddr,
    req: &http::request::Parts,
    now: OffsetDateTime,
    enclosing: access::Enclosing<'_>,
    op_name: &mut &'static str,
    account_out: &mut String,
) -> ApiResult<Routed> {
    let headers = Headers::of_parts(req);
    let (target, query, op) = resolve(&req.method, &req.uri, &headers, account_out)?;
    *op_name = op.name();

    if op == Op::Preflight {
        return Ok(Routed::Answered(
            cors::preflight(state, &target.account, &req.headers).await?,
        ));
    }

    let scheme = Scheme::of(&req.extensions);
    let head = access::RequestHead {
        method: &req.method,
        uri: &req.uri,
        headers: &req.headers,
        https: scheme.is_https(),
        enclosing,
    };
    let granted = access::check(state, &head, &target, &query, op, peer, now).await?;

    let host = headers.get("host").unwrap_or("127.0.0.1:10000");
    Ok(Routed::Ready(Box::new(Ctx {
        state: state.clone(),
        service_endpoint: format!("{}://{host}/{}", scheme.as_str(), target.account),
        scheme,
        target,
        query,
        op,
        granted,
        now,
        peer,
    })))
}

/// The message for a request that names a version-less error, for tests.
#[cfg(test)]
mod tests {
    use super::*;
    use lapis_wire::ErrorCode;

    #[test]
    fn head_errors_have_no_body_but_keep_the_code() {
        let err = AzureError::new(ErrorCode::BlobNotFound);
        let resp = error_response(&err, "id", OffsetDateTime::now_utc(), &http::Method::HEAD);
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()[h::X_MS_ERROR_CODE], "BlobNotFound");
    }
}
