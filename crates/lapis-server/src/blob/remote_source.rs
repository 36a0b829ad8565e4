//! Copy sources on other hosts (`--allowRemoteCopySources`): one GET of the source URL over
//! plain HTTP, bounded in time (connection to last byte) and in size, held in memory, and its
//! failures answered as Azure answers a copy source's: `CannotVerifyCopySource` with the
//! source's status and, in the error's details, what the source said. docs/api-coverage.md,
//! "Copy sources", has the table.

use std::error::Error as _;
use std::time::Duration;

use base64::Engine;
use bytes::{Bytes, BytesMut};
use http::header::{
    AUTHORIZATION, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE, RANGE,
    USER_AGENT,
};
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lapis_store::{BlobHttpProps, ByteRange, Metadata};
use lapis_wire::{AzureError, ErrorCode};

use crate::error::{ApiError, ApiResult};
use crate::handler::{Ctx, DEFAULT_API_VERSION};
use crate::request::Headers;

/// The source's answer: its headers (content properties, metadata) and its bytes.
pub struct Fetched {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The source conditions, sent as the standard conditional headers of the GET.
const SOURCE_CONDITIONS: [(&str, http::HeaderName); 4] = [
    ("x-ms-source-if-match", IF_MATCH),
    ("x-ms-source-if-none-match", IF_NONE_MATCH),
    ("x-ms-source-if-modified-since", IF_MODIFIED_SINCE),
    ("x-ms-source-if-unmodified-since", IF_UNMODIFIED_SINCE),
];

/// A source that could not be read at all (refused connection, no answer in time, a broken
/// answer): Azure's 500 `CannotVerifyCopySource` for a source it cannot reach.
fn unreachable(message: String) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::CannotVerifyCopySource)
            .status(500)
            .message(message),
    )
}

/// A source larger than the operation takes: Azure's 409 `CannotVerifyCopySource`, worded as
/// Azure words it.
fn too_large(limit: u64) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::CannotVerifyCopySource)
            .status(409)
            .message(format!(
                "The source request body for copy source is too large and exceeds the maximum \
                 permissible limit ({}MB).",
                limit / (1024 * 1024)
            )),
    )
}

/// An HTTP error from the source: `CannotVerifyCopySource` with the source's status, and the
/// source's status, error code and reason in the details, as Azure answers. A status that is
/// not an error (a redirect, which Lapis does not follow) is answered 500.
fn source_refused(status: StatusCode, headers: &HeaderMap) -> ApiError {
    let reason = status.canonical_reason().unwrap_or("Unknown");
    let ours = match status.as_u16() {
        400..=599 => status.as_u16(),
        _ => 500,
    };
    let mut err = AzureError::new(ErrorCode::CannotVerifyCopySource)
        .status(ours)
        .message(format!(
            "The copy source answered {} {reason}.",
            status.as_u16()
        ))
        .detail("CopySourceStatusCode", status.as_u16().to_string());
    if let Some(code) = headers.get("x-ms-error-code").and_then(|v| v.to_str().ok()) {
        err = err.detail("CopySourceErrorCode", code);
    }
    ApiError(err.detail("CopySourceErrorMessage", reason))
}

/// The GET of the source: `x-ms-version`, the range, the source's token and the source
/// conditions of the request.
fn source_request(
    url: &Uri,
    headers: &Headers,
    range: Option<ByteRange>,
) -> ApiResult<Request<Empty<Bytes>>> {
    let mut req = Request::get(url.clone())
        .header(
            "x-ms-version",
            headers.get("x-ms-version").unwrap_or(DEFAULT_API_VERSION),
        )
        .header(USER_AGENT, lapis_wire::headers::SERVER_VALUE);
    if let Some(r) = range {
        let end = r.end.map(|e| e.to_string()).unwrap_or_default();
        req = req.header(RANGE, format!("bytes={}-{end}", r.start));
    }
    if let Some(token) = headers.get("x-ms-copy-source-authorization") {
        req = req.header(AUTHORIZATION, token);
    }
    for (ms, standard) in SOURCE_CONDITIONS {
        if let Some(v) = headers.get(ms) {
            req = req.header(standard, v);
        }
    }
    req.body(Empty::new())
        .map_err(|_| Headers::invalid("x-ms-copy-source", &url.to_string()).into())
}

/// An error and its causes, for a message: "client error (Connect): tcp connect error:
/// Connection refused (os error 111)".
fn causes(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Fetches `url` (an `http://` URL on another host): all of it, or `range` of it, at most
/// `limit` bytes, within the server's remote copy timeout.
pub async fn fetch(
    ctx: &Ctx,
    url: &Uri,
    headers: &Headers<'_>,
    range: Option<ByteRange>,
    limit: u64,
) -> ApiResult<Fetched> {
    let req = source_request(url, headers, range)?;
    // Every request Lapis sends on a client's behalf is on record (the query, which may hold
    // a SAS, is left out as in the access log).
    tracing::info!(
        host = url.authority().map_or("", |a| a.as_str()),
        path = url.path(),
        "fetching a copy source on another host"
    );
    let timeout = ctx.state.remote_copy_timeout;
    match tokio::time::timeout(timeout, exchange(req, timeout, range, limit)).await {
        Ok(answer) => answer,
        Err(_) => Err(unreachable(format!(
            "Could not verify the copy source within the specified time: it did not answer in \
             full within {}.",
            seconds(timeout)
        ))),
    }
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

async fn exchange(
    req: Request<Empty<Bytes>>,
    timeout: Duration,
    range: Option<ByteRange>,
    limit: u64,
) -> ApiResult<Fetched> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(timeout));
    // One request per copy: no connection is kept for a next one.
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let resp = client
        .request(req)
        .await
        .map_err(|e| unreachable(format!("Could not reach the copy source: {}.", causes(&e))))?;
    let status = resp.status();
    if status == StatusCode::NOT_MODIFIED || status == StatusCode::PRECONDITION_FAILED {
        return Err(AzureError::new(ErrorCode::SourceConditionNotMet).into());
    }
    if !status.is_success() {
        return Err(source_refused(status, resp.headers()));
    }
    let declared = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A source that ignored the range sends all of itself; the range is cut from that, and
    // what follows the range is not read.
    let whole_despite_range = range.filter(|_| status != StatusCode::PARTIAL_CONTENT);
    if whole_despite_range.is_none() && declared.is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    let (parts, body) = resp.into_parts();
    let body = match whole_despite_range {
        None => read_limited(body, limit, u64::MAX, limit).await?,
        Some(r) => {
            let stop_at = r.end.map_or(u64::MAX, |e| e.saturating_add(1));
            let whole = read_limited(body, r.start.saturating_add(limit), stop_at, limit).await?;
            cut(whole, r, limit, &parts.headers)?
        }
    };
    Ok(Fetched {
        headers: parts.headers,
        body,
    })
}

/// Reads the answer's body up to `stop_at` bytes (the rest is left unread); more than `cap`
/// bytes is a source too large for the operation's `limit`.
async fn read_limited(
    mut body: hyper::body::Incoming,
    cap: u64,
    stop_at: u64,
    limit: u64,
) -> ApiResult<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| unreachable(format!("The copy source's answer broke off: {e}.")))?;
        if let Ok(data) = frame.into_data() {
            let wanted = (stop_at - buf.len() as u64).min(data.len() as u64) as usize;
            if buf.len() as u64 + wanted as u64 > cap {
                return Err(too_large(limit));
            }
            buf.extend_from_slice(&data[..wanted]);
            if buf.len() as u64 >= stop_at {
                break;
            }
        }
    }
    Ok(buf.freeze())
}

/// `range` of a whole answer (a source that does not serve ranges); a range past its end is
/// answered as a source that serves ranges answers it, 416.
fn cut(body: Bytes, range: ByteRange, limit: u64, headers: &HeaderMap) -> ApiResult<Bytes> {
    let len = body.len() as u64;
    if range.start >= len {
        return Err(source_refused(StatusCode::RANGE_NOT_SATISFIABLE, headers));
    }
    let end = range.end.map_or(len, |e| e.saturating_add(1).min(len));
    if end - range.start > limit {
        return Err(too_large(limit));
    }
    Ok(body.slice(range.start as usize..end as usize))
}

impl Fetched {
    /// The content headers the source answered with, as a blob's (a source that names no
    /// type is `application/octet-stream`, as a Put Blob without one).
    pub fn http_props(&self) -> BlobHttpProps {
        let text = |name: http::HeaderName| {
            self.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let md5 = text(http::HeaderName::from_static("content-md5"))
            .and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .ok()
            })
            .filter(|b| b.len() == 16);
        BlobHttpProps {
            content_type: text(http::header::CONTENT_TYPE)
                .or_else(|| Some("application/octet-stream".into())),
            content_encoding: text(http::header::CONTENT_ENCODING),
            content_language: text(http::header::CONTENT_LANGUAGE),
            content_disposition: text(http::header::CONTENT_DISPOSITION),
            cache_control: text(http::header::CACHE_CONTROL),
            content_md5: md5,
        }
    }

    /// The source's `x-ms-meta-*` headers, as the copy's metadata.
    pub fn metadata(&self) -> ApiResult<Metadata> {
        Headers::of_map(&self.headers).metadata().map_err(|_| {
            ApiError(
                AzureError::new(ErrorCode::CannotVerifyCopySource)
                    .status(409)
                    .message("The copy source answered metadata that is not valid Azure metadata."),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_answer_is_cut_to_the_range() {
        let body = Bytes::from_static(b"0123456789");
        let h = HeaderMap::new();
        let r = |start, end| ByteRange { start, end };
        assert_eq!(cut(body.clone(), r(2, Some(4)), 100, &h).unwrap(), "234");
        assert_eq!(cut(body.clone(), r(8, Some(20)), 100, &h).unwrap(), "89");
        assert_eq!(cut(body.clone(), r(5, None), 100, &h).unwrap(), "56789");
        assert_eq!(
            cut(body.clone(), r(10, Some(12)), 100, &h)
                .unwrap_err()
                .0
                .status,
            416
        );
        assert_eq!(cut(body, r(0, Some(9)), 4, &h).unwrap_err().0.status, 409);
    }

    #[test]
    fn a_source_error_keeps_its_status_and_says_what_it_was() {
        let mut h = HeaderMap::new();
        h.insert("x-ms-error-code", "BlobNotFound".parse().unwrap());
        let e = source_refused(StatusCode::NOT_FOUND, &h).0;
        assert_eq!((e.code, e.status), (ErrorCode::CannotVerifyCopySource, 404));
        assert!(e
            .details
            .contains(&("CopySourceErrorCode".into(), "BlobNotFound".into())));
        let redirect = source_refused(StatusCode::FOUND, &HeaderMap::new()).0;
        assert_eq!(redirect.status, 500);
    }
}
