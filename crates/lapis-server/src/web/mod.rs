//! The static website endpoint (`--webPort`): Azure's `<account>.z13.web.core.windows.net`,
//! path-style. `GET` and `HEAD` of `/<account>/<path>` read the account's `$web` container
//! anonymously, when its Blob service properties enable the static website; the blob itself is
//! read by the Blob service's own Get Blob and Get Blob Properties (ranges, conditions, headers).
//!
//! The life of a request: method → operation, path → account and site path, the account's
//! `StaticWebsite` properties → which blob answers ([`site`]) → the Blob service's operation.

mod site;

use std::net::SocketAddr;

use axum::body::Body;
use http::{Method, Request, Response};
use lapis_wire::percent::{self, Plus};
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::error::ApiResult;
use crate::state::AppState;

/// What a request to the web endpoint asks for: only reads exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebOp {
    Get,
    Head,
}

impl WebOp {
    /// The operation's name in the access log and the metrics.
    pub(crate) fn name(self) -> &'static str {
        match self {
            WebOp::Get => "GetWebContent",
            WebOp::Head => "HeadWebContent",
        }
    }
}

/// `GET` and `HEAD` only; anything else is 405 UnsupportedHttpVerb with an `Allow` header.
pub(crate) fn route(method: &Method) -> ApiResult<WebOp> {
    match *method {
        Method::GET => Ok(WebOp::Get),
        Method::HEAD => Ok(WebOp::Head),
        _ => Err(AzureError::new(ErrorCode::UnsupportedHttpVerb)
            .header("allow", "GET, HEAD")
            .into()),
    }
}

/// `/<account>/<path>` as the account and the decoded site path (`""` for the site's root;
/// a trailing `/` kept, as it names a folder). `\` reads as `/`, as in blob names.
pub(crate) fn split_path(raw: &str) -> ApiResult<(String, String)> {
    let trimmed = raw.strip_prefix('/').unwrap_or(raw);
    let (account, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let decode = |s: &str| {
        percent::decode_utf8(s, Plus::Literal)
            .map(|c| c.into_owned())
            .ok_or_else(|| AzureError::new(ErrorCode::InvalidUri))
    };
    let account = decode(account)?;
    if account.is_empty() {
        return Err(AzureError::new(ErrorCode::InvalidUri)
            .message("The requested URI does not represent any resource on the server.")
            .into());
    }
    Ok((account, decode(rest)?.replace('\\', "/")))
}

/// Serves one request of the web endpoint; `op_name` and `account_out` learn the operation and
/// the account for the access log and the metrics as soon as they are known.
pub(crate) async fn dispatch(
    state: &AppState,
    peer: SocketAddr,
    req: Request<Body>,
    now: OffsetDateTime,
    op_name: &mut &'static str,
    account_out: &mut String,
) -> ApiResult<Response<Body>> {
    let op = route(req.method())?;
    *op_name = op.name();
    let (account, path) = split_path(req.uri().path())?;
    *account_out = account.clone();
    // An account Lapis does not serve has no website, as one that never enabled it.
    if state.accounts.get(&account).is_none() {
        return Err(AzureError::new(ErrorCode::WebsiteDisabled).into());
    }
    let props = state.service_properties(&account).await?;
    let site = match &props.static_website {
        Some(site) if site.enabled => site.clone(),
        _ => return Err(AzureError::new(ErrorCode::WebsiteDisabled).into()),
    };
    site::serve(state, peer, req, now, op, account, path, &site).await
}

/// An error as the web endpoint renders it: a small HTML page (a browser is the client), with
/// the code in `x-ms-error-code` too; HEAD and 304 answers carry no body.
pub(crate) fn error_response(
    err: &AzureError,
    request_id: &str,
    now: OffsetDateTime,
    method: &Method,
) -> Response<Body> {
    let status =
        http::StatusCode::from_u16(err.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let bodyless = method == Method::HEAD || status == http::StatusCode::NOT_MODIFIED;
    let mut builder = Response::builder()
        .status(status)
        .header(lapis_wire::headers::X_MS_ERROR_CODE, err.code.as_str());
    for (name, value) in &err.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = if bodyless {
        String::new()
    } else {
        builder = builder.header(http::header::CONTENT_TYPE, "text/html");
        error_page(err, request_id, now)
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Azure's web endpoint error page, byte for byte as captured from `*.web.core.windows.net`:
/// the code as the title, a sentence as the heading, then status, code, request id and time.
fn error_page(err: &AzureError, request_id: &str, now: OffsetDateTime) -> String {
    let heading = match err.code {
        // The web endpoint's own wording, not the Blob service's XML message.
        ErrorCode::UnsupportedHttpVerb => "The resource doesn't support specified Http Verb.",
        ErrorCode::WebsiteDisabled | ErrorCode::WebContentNotFound => {
            "The requested content does not exist."
        }
        _ => err.message.as_str(),
    };
    format!(
        "<!DOCTYPE html><html><head><title>{code}</title></head><body><h1>{heading}</h1><p><ul>\
         <li>HttpStatusCode: {status}</li><li>ErrorCode: {code}</li><li>RequestId : {request_id}</li>\
         <li>TimeStamp : {time}</li></ul></p></body></html>",
        code = err.code.as_str(),
        heading = lapis_wire::xml::escape_text(heading),
        status = err.status,
        time = lapis_wire::time_format::iso8601_7(now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_are_routed() {
        assert_eq!(route(&Method::GET).unwrap(), WebOp::Get);
        assert_eq!(route(&Method::HEAD).unwrap(), WebOp::Head);
        for m in [Method::PUT, Method::POST, Method::DELETE, Method::OPTIONS] {
            let err = route(&m).unwrap_err().0;
            assert_eq!(
                (err.status, err.code),
                (405, ErrorCode::UnsupportedHttpVerb)
            );
        }
    }

    #[test]
    fn error_pages_are_azures() {
        let now = OffsetDateTime::from_unix_timestamp(1_601_201_768).unwrap();
        let err = AzureError::new(ErrorCode::WebContentNotFound);
        assert_eq!(
            error_page(&err, "3fe6c986-701e-0032-7eb7-9498bc000000", now),
            "<!DOCTYPE html><html><head><title>WebContentNotFound</title></head><body>\
             <h1>The requested content does not exist.</h1><p><ul><li>HttpStatusCode: 404</li>\
             <li>ErrorCode: WebContentNotFound</li><li>RequestId : 3fe6c986-701e-0032-7eb7-9498bc000000</li>\
             <li>TimeStamp : 2020-09-27T10:16:08.0000000Z</li></ul></p></body></html>"
        );
        let verb = error_page(&AzureError::new(ErrorCode::UnsupportedHttpVerb), "id", now);
        assert!(verb.contains("<h1>The resource doesn't support specified Http Verb.</h1>"));
        assert!(verb.contains("<li>HttpStatusCode: 405</li>"));
    }

    #[test]
    fn paths_split_into_account_and_site_path() {
        let split = |p| split_path(p).unwrap();
        assert_eq!(split("/acct"), ("acct".into(), "".into()));
        assert_eq!(split("/acct/"), ("acct".into(), "".into()));
        assert_eq!(
            split("/acct/a%20b/c.html"),
            ("acct".into(), "a b/c.html".into())
        );
        assert_eq!(split("/acct/docs/"), ("acct".into(), "docs/".into()));
        assert_eq!(split("/acct/a\\b"), ("acct".into(), "a/b".into()));
        assert!(split_path("/").is_err());
        assert!(split_path("/acct/%ff").is_err());
    }
}
