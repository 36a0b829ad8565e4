//! The source of a copy (`x-ms-copy-source`): a blob this Lapis serves, named by URL, and
//! whether the caller may read it, read from the engine directly, never over HTTP; or, with
//! `--allowRemoteCopySources`, a URL on another host, fetched by `remote_source`. Without the
//! flag a URL on another host is refused (see docs/api-coverage.md, "Copy sources").

use http::{HeaderMap, Method, Uri};
use lapis_store::{Conditions, CopySource};
use lapis_wire::time_format::parse_iso8601;
use lapis_wire::{AzureError, ErrorCode};

use super::conditions::etag_condition;
use crate::access::{self, RequestHead};
use crate::conn::Scheme;
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

/// Where a copy reads its source.
pub enum Source {
    /// A blob of this Lapis, read from the engine.
    Here(CopySource),
    /// An `http://` URL on another host, to be fetched (only with `--allowRemoteCopySources`).
    Remote(Uri),
}

fn cannot_verify(message: &str) -> ApiError {
    ApiError(AzureError::new(ErrorCode::CannotVerifyCopySource).message(message.to_string()))
}

/// Where a source URL points, as far as its scheme, host and port tell.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// This Lapis.
    Here,
    /// Another host, refused: `--allowRemoteCopySources` is off.
    Refused,
    /// Another host over `http://`.
    Remote,
    /// Another host over `https://`, which Lapis cannot fetch.
    Https,
    /// Another host over a scheme that is not HTTP.
    OtherScheme,
}

/// Where `uri` points. Without remote sources, any URL naming this host (whatever its port)
/// is this Lapis, as it always was; with them, only one that names this host and the port the
/// client reached: another port on this host is another server, fetched like any other host.
/// `served` is the scheme the request came over, whose default port a `Host` without one means.
fn place(uri: &Uri, request_host: Option<&str>, remote_allowed: bool, served: Scheme) -> Place {
    let host = uri.host().unwrap_or_default();
    let this_host = is_this_host(host, request_host);
    if !remote_allowed {
        return if this_host {
            Place::Here
        } else {
            Place::Refused
        };
    }
    let scheme_port = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        _ => None,
    };
    let port = uri.port_u16().or(scheme_port);
    // A request without Host (HTTP/1.0) names no port: any port of this host is this Lapis.
    let default_port = if served.is_https() { 443 } else { 80 };
    let own_port = request_host.map(|h| host_port(h).unwrap_or(default_port));
    if this_host && (own_port.is_none() || port == own_port) {
        return Place::Here;
    }
    match scheme_port {
        Some(80) => Place::Remote,
        Some(_) => Place::Https,
        None => Place::OtherScheme,
    }
}

/// The port of a `Host` header value (`name:port`, `[v6]:port`), if it gives one.
fn host_port(host: &str) -> Option<u16> {
    let after_name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(_, rest)| rest)?,
        None => host,
    };
    after_name.rsplit_once(':')?.1.parse().ok()
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

/// Resolves `x-ms-copy-source` to a blob of this Lapis, checking the caller may read it, or
/// (with `--allowRemoteCopySources`) to a URL on another host, whose reading decides.
pub async fn resolve(ctx: &Ctx, headers: &Headers<'_>, auth: SourceAuth) -> ApiResult<Source> {
    let raw = headers.get("x-ms-copy-source").unwrap_or_default().trim();
    let invalid = || ApiError::from(Headers::invalid("x-ms-copy-source", raw));
    let uri: Uri = raw.parse().map_err(|_| invalid())?;
    let (Some(_), Some(_)) = (uri.host(), uri.scheme()) else {
        return Err(invalid());
    };
    match place(&uri, headers.get("host"), ctx.state.remote_copy, ctx.scheme) {
        Place::Here => {}
        Place::Refused => {
            return Err(cannot_verify(
                "Lapis copies only from blobs it serves itself; this source is on another host \
                 (start Lapis with --allowRemoteCopySources to let it fetch such sources).",
            ))
        }
        Place::Remote => return Ok(Source::Remote(uri)),
        Place::Https => {
            return Err(AzureError::new(ErrorCode::NotImplemented)
                .message(
                    "Lapis fetches copy sources on other hosts over http:// only; \
                     it has no HTTPS client.",
                )
                .into())
        }
        Place::OtherScheme => return Err(invalid()),
    }
    if headers.get("x-ms-copy-source-authorization").is_some() {
        // Forwarded to a source on another host; a blob of this Lapis is read without HTTP,
        // so there is nothing to present the token to (ops/refused.rs lets it through only
        // when remote sources are allowed).
        return Err(super::refused::copy_source_authorization().into());
    }
    let target = parse_path(uri.path()).map_err(|_| invalid())?;
    let (Some(container), Some(blob)) = (target.container.clone(), target.blob.clone()) else {
        return Err(invalid());
    };
    let query = Query::parse(uri.query());
    // A snapshot or a version of the source (copying a previous version over its blob is how
    // Azure restores one).
    let (given_snapshot, given_version) = (query.get("snapshot"), query.get("versionid"));
    for s in given_snapshot.iter().chain(given_version.iter()) {
        if parse_iso8601(s).is_none() {
            return Err(invalid());
        }
    }
    if given_snapshot.is_some() && given_version.is_some() {
        return Err(invalid());
    }
    let snapshot = super::versions::selected(&query);
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
            // The source is read as its URL says: over https it meets a SAS's `spr=https`.
            https: uri
                .scheme_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("https")),
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
    Ok(Source::Here(CopySource {
        account: target.account,
        container,
        blob,
        snapshot,
        cond: source_conditions(headers)?,
    }))
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

    fn place_of(url: &str, host: Option<&str>, remote: bool) -> Place {
        place(&url.parse().unwrap(), host, remote, Scheme::Http)
    }

    #[test]
    fn over_tls_a_host_without_a_port_is_port_443() {
        let over_tls = |url: &str| place(&url.parse().unwrap(), Some("lapis"), true, Scheme::Https);
        assert_eq!(over_tls("https://lapis/a/c/b"), Place::Here);
        assert_eq!(over_tls("http://lapis/a/c/b"), Place::Remote);
    }

    #[test]
    fn without_the_flag_every_port_of_this_host_is_here() {
        let host = Some("127.0.0.1:10000");
        assert_eq!(
            place_of("http://127.0.0.1:10000/a/c/b", host, false),
            Place::Here
        );
        assert_eq!(
            place_of("http://127.0.0.1:9/a/c/b", host, false),
            Place::Here
        );
        assert_eq!(
            place_of("https://localhost/a/c/b", host, false),
            Place::Here
        );
        assert_eq!(
            place_of("http://example.com/c/b", host, false),
            Place::Refused
        );
        assert_eq!(
            place_of("https://example.com/c/b", host, false),
            Place::Refused
        );
    }

    #[test]
    fn with_the_flag_another_port_is_another_server() {
        let host = Some("127.0.0.1:10000");
        assert_eq!(
            place_of("http://127.0.0.1:10000/a/c/b", host, true),
            Place::Here
        );
        assert_eq!(
            place_of("http://localhost:10000/a/c/b", host, true),
            Place::Here
        );
        assert_eq!(
            place_of("http://127.0.0.1:8080/file", host, true),
            Place::Remote
        );
        assert_eq!(place_of("http://127.0.0.1/file", host, true), Place::Remote);
        assert_eq!(
            place_of("http://example.com/c/b", host, true),
            Place::Remote
        );
        assert_eq!(
            place_of("HTTP://example.com:81/c/b", host, true),
            Place::Remote
        );
        assert_eq!(
            place_of("https://example.com/c/b", host, true),
            Place::Https
        );
        assert_eq!(
            place_of("ftp://example.com/c/b", host, true),
            Place::OtherScheme
        );
        // A Host without a port is port 80; no Host at all names no port.
        assert_eq!(
            place_of("http://lapis/a/c/b", Some("lapis"), true),
            Place::Here
        );
        assert_eq!(
            place_of("http://lapis:81/a/c/b", Some("lapis"), true),
            Place::Remote
        );
        assert_eq!(
            place_of("http://127.0.0.1:8080/a/c/b", None, true),
            Place::Here
        );
        assert_eq!(
            place_of("http://[::1]:10000/a/c/b", Some("[::1]:10000"), true),
            Place::Here
        );
        assert_eq!(
            place_of("http://[::1]:10001/a/c/b", Some("[::1]:10000"), true),
            Place::Remote
        );
    }

    #[test]
    fn host_ports() {
        assert_eq!(host_port("127.0.0.1:10000"), Some(10000));
        assert_eq!(host_port("lapis"), None);
        assert_eq!(host_port("[::1]:8080"), Some(8080));
        assert_eq!(host_port("[::1]"), None);
        assert_eq!(host_port("host:notaport"), None);
    }
}
