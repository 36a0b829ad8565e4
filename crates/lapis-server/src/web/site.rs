//! Which blob of `$web` answers a site path, and reading it through the Blob service's own Get
//! Blob (GET) or Get Blob Properties (HEAD): ranges, conditional headers and the blob's content
//! headers behave exactly as they do there.
//!
//! - A folder (`""`, `docs/`) is its index document: `IndexDocument` under the folder, else the
//!   one `DefaultIndexDocumentPath` (an absolute path, the same for every folder).
//! - A file path (`docs/a.html`) is that blob; when none exists, the path is read as a folder
//!   (`docs` serves `docs/index.html`).
//! - Nothing found: `ErrorDocument404Path` with status 404, or a plain 404 WebContentNotFound.

use std::net::SocketAddr;

use axum::body::Body;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use lapis_wire::xml::StaticWebsite;
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use super::WebOp;
use crate::access::Granted;
use crate::conn::Scheme;
use crate::error::{ApiError, ApiResult};
use crate::handler::Ctx;
use crate::request::{Query, Target};
use crate::router::Op;
use crate::state::AppState;

/// The container a static website is served from.
pub const WEB_CONTAINER: &str = "$web";

/// The blobs that may answer `path`, in the order they are tried.
pub(crate) fn candidates(path: &str, site: &StaticWebsite) -> Vec<String> {
    let index = |folder: &str| -> Option<String> {
        match (&site.index_document, &site.default_index_document_path) {
            (Some(doc), _) if !doc.is_empty() => Some(format!("{folder}{doc}")),
            (_, Some(abs)) if !abs.trim_start_matches('/').is_empty() => {
                Some(abs.trim_start_matches('/').to_string())
            }
            _ => None,
        }
    };
    if path.is_empty() || path.ends_with('/') {
        return index(path).into_iter().collect();
    }
    std::iter::once(path.to_string())
        .chain(index(&format!("{path}/")))
        .collect()
}

/// What the request sends on to the Blob service: its range and conditional headers, never an
/// `x-ms-*` header (the web endpoint has no customer keys, leases or range checksums).
fn forwarded(headers: &HeaderMap) -> HeaderMap {
    const KEPT: [&str; 5] = [
        "range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
    ];
    let mut out = HeaderMap::new();
    for name in KEPT {
        for value in headers.get_all(name) {
            out.append(name, value.clone());
        }
    }
    out
}

/// Whether the Blob service said the blob is not there.
fn missing(err: &ApiError) -> bool {
    matches!(
        err.0.code,
        ErrorCode::BlobNotFound | ErrorCode::ContainerNotFound | ErrorCode::InvalidUri
    )
}

/// Where a request is read from, and by whom.
struct Reader<'a> {
    state: &'a AppState,
    peer: SocketAddr,
    now: OffsetDateTime,
    scheme: Scheme,
    account: &'a str,
    op: WebOp,
}

impl Reader<'_> {
    /// Reads `blob` of `$web` anonymously with the Blob service's Get Blob or Get Blob
    /// Properties; `headers` are the only request headers it sees.
    async fn read(&self, blob: &str, headers: HeaderMap) -> ApiResult<Response<Body>> {
        let (method, op) = match self.op {
            WebOp::Get => (Method::GET, Op::GetBlob),
            WebOp::Head => (Method::HEAD, Op::GetBlobProperties),
        };
        let mut req = Request::new(Body::empty());
        *req.method_mut() = method;
        *req.headers_mut() = headers;
        let ctx = Ctx {
            state: self.state.clone(),
            target: Target {
                account: self.account.to_string(),
                container: Some(WEB_CONTAINER.to_string()),
                blob: Some(blob.to_string()),
            },
            query: Query::default(),
            op,
            granted: Granted::default(),
            now: self.now,
            service_endpoint: String::new(),
            scheme: self.scheme,
            peer: self.peer,
        };
        crate::blob::run(ctx, req).await
    }
}

/// Answers a site path of an account whose static website is enabled.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve(
    state: &AppState,
    peer: SocketAddr,
    req: Request<Body>,
    now: OffsetDateTime,
    op: WebOp,
    account: String,
    path: String,
    site: &StaticWebsite,
) -> ApiResult<Response<Body>> {
    let reader = Reader {
        state,
        peer,
        now,
        scheme: Scheme::of(req.extensions()),
        account: &account,
        op,
    };
    for blob in candidates(&path, site) {
        match reader.read(&blob, forwarded(req.headers())).await {
            Err(e) if missing(&e) => continue,
            answered => return answered,
        }
    }
    not_found(&reader, site).await
}

/// The 404 document with status 404 (whole, whatever range or condition the request had), or
/// a plain 404 when there is none.
async fn not_found(reader: &Reader<'_>, site: &StaticWebsite) -> ApiResult<Response<Body>> {
    let plain = || ApiError::from(AzureError::new(ErrorCode::WebContentNotFound));
    let Some(doc) = site
        .error_document_404_path
        .as_deref()
        .map(|p| p.trim_start_matches('/'))
        .filter(|p| !p.is_empty())
    else {
        return Err(plain());
    };
    match reader.read(doc, HeaderMap::new()).await {
        Ok(mut resp) => {
            *resp.status_mut() = StatusCode::NOT_FOUND;
            Ok(resp)
        }
        Err(e) if missing(&e) => Err(plain()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(index: Option<&str>, default_path: Option<&str>) -> StaticWebsite {
        StaticWebsite {
            enabled: true,
            index_document: index.map(str::to_string),
            error_document_404_path: None,
            default_index_document_path: default_path.map(str::to_string),
        }
    }

    #[test]
    fn folders_are_their_index_document() {
        let s = site(Some("index.html"), None);
        assert_eq!(candidates("", &s), ["index.html"]);
        assert_eq!(candidates("docs/", &s), ["docs/index.html"]);
        assert_eq!(candidates("docs", &s), ["docs", "docs/index.html"]);
        assert_eq!(candidates("a/b.css", &s), ["a/b.css", "a/b.css/index.html"]);
    }

    #[test]
    fn the_default_index_path_is_one_document_for_every_folder() {
        let s = site(None, Some("/app/index.html"));
        assert_eq!(candidates("", &s), ["app/index.html"]);
        assert_eq!(candidates("docs/", &s), ["app/index.html"]);
        assert_eq!(candidates("docs", &s), ["docs", "app/index.html"]);
        // IndexDocument wins when both are set.
        let both = site(Some("index.html"), Some("/app/index.html"));
        assert_eq!(candidates("docs/", &both), ["docs/index.html"]);
    }

    #[test]
    fn without_an_index_document_a_folder_has_none() {
        let s = site(None, None);
        assert!(candidates("", &s).is_empty());
        assert_eq!(candidates("docs", &s), ["docs"]);
    }
}
