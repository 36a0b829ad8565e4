//! The source of a copy (`x-ms-copy-source`): a blob this Lapis serves, named by URL, and
//! whether the caller may read it. Sources are read from the engine directly, never over HTTP;
//! a URL on another host is refused (see docs/api-coverage.md, "Copy sources").

use http::{HeaderMap, Method, Uri};
use lapis_store::{Conditions, CopySource};
use lapis_wire::time_format::parse_iso8601;
use lapis_wire::{AzureError, ErrorCode};

use super::conditions::etag_condition;
use crate::access::{self, RequestHead};
use crate::error::{ApiError, ApiResult};
use crate::handler::Ctx;
use crate::request::{parse_path, Headers, Query};
use crate::router::Op;

/// How the copy authorizes its source.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SourceAuth {
    /// Copy Blob: a source in the caller's own account is readable with the caller's Shared Key.
    SameAccountKey,
    /// The synchronous copies: the source must be public or carry a SAS that grants read.
    UrlOnly,
}

fn cannot_verify(message: &str) -> ApiError {
    ApiError(AzureError::new(ErrorCode::CannotVerifyCopySource).message(message.to_string()))
}

/// Whether `host` (without port) is this server as the client reached it.
fn is_this_host(host: &str, request_host: Option<&str>) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let own = request_host.map(|h| {
        let h = h.rsplit_once(':').map_or(h, |(name, _)| name);
        h.trim_start_matches('[').trim_end_matches(']').to_string()
    });
    matches!(host, "127.0.0.1" | "localhost" | "::1") || own.as_deref() == Some(host)
}

/// The `x-ms-source-if-*` conditions and `x-ms-source-lease-id`.
fn source_conditions(headers: &Headers) -> ApiResult<Conditions> {
    Ok(Conditions {
        if_match: headers.get("x-ms-source-if-match").map(etag_condition),
        if_none_match: headers.get("x-ms-source-if-none-match").map(etag_condition),
        if_modified_since: headers.http_date("x-ms-source-if-modified-since")?,
        if_unmodified_since: headers.http_date("x-ms-source-if-unmodified-since")?,
        lease_id: headers.owned("x-ms-source-lease-id"),
        // `x-ms-source-if-tags` is refused before this (ops/refused.rs).
        if_tags: None,
    })
}

/// Resolves `x-ms-copy-source` to a blob of this Lapis and checks the caller may read it.
pub async fn resolve(ctx: &Ctx, headers: &Headers<'_>, auth: SourceAuth) -> ApiResult<CopySource> {
    let raw = headers.get("x-ms-copy-source").unwrap_or_default().trim();
    let invalid = || ApiError::from(Headers::invalid("x-ms-copy-source", raw));
    let uri: Uri = raw.parse().map_err(|_| invalid())?;
    let (Some(host), Some(_)) = (uri.host(), uri.scheme()) else {
        return Err(invalid());
    };
    if !is_this_host(host, headers.get("host")) {
        return Err(cannot_verify(
            "Lapis copies only from blobs it serves itself; this source is on another host.",
        ));
    }
    let target = parse_path(uri.path()).map_err(|_| invalid())?;
    let (Some(container), Some(blob)) = (target.container.clone(), target.blob.clone()) else {
        return Err(invalid());
    };
    let query = Query::parse(uri.query());
    let snapshot = query.get("snapshot").map(str::to_owned);
    if let Some(s) = &snapshot {
        if parse_iso8601(s).is_none() {
            return Err(invalid());
        }
    }
    if query.get("versionid").is_some() {
        // No versions exist in Lapis: the source names nothing.
        return Err(ApiError(
            AzureError::new(ErrorCode::CannotVerifyCopySource).status(404),
        ));
    }
    let same_account = target.account == ctx.target.account;
    let by_key = auth == SourceAuth::SameAccountKey && same_account && ctx.granted.account_key;
    if !by_key {
        // Read the source as an unsigned GET of its URL would: its SAS, or public access.
        let empty = HeaderMap::new();
        let path_and_query: Uri = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .parse()
            .map_err(|_| invalid())?;
        let head = RequestHead {
            method: &Method::GET,
            uri: &path_and_query,
            headers: &empty,
            enclosing: Default::default(),
        };
        let checked = access::check(
            &ctx.state,
            &head,
            &target,
            &query,
            Op::GetBlob,
            ctx.peer,
            ctx.now,
        )
        .await;
        if checked.is_err() {
            return Err(cannot_verify(
                "The copy source is private and its URL carries no SAS that grants read.",
            ));
        }
    }
    Ok(CopySource {
        account: target.account,
        container,
        blob,
        snapshot,
        cond: source_conditions(headers)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_host_is_a_source() {
        assert!(is_this_host("127.0.0.1", None));
        assert!(is_this_host("localhost", Some("lapis:10000")));
        assert!(is_this_host(
            "lapis.storage.svc",
            Some("lapis.storage.svc:10000")
        ));
        assert!(is_this_host("[::1]", None));
        assert!(!is_this_host("example.com", Some("127.0.0.1:10000")));
        assert!(!is_this_host("fake.blob.core.windows.net", None));
    }
}
