//! Shared Key and Shared Key Lite: the string to sign per service, signing, and verification.

use lapis_wire::time_format::parse_http_date;
use time::OffsetDateTime;

use crate::crypto;
use crate::error::AuthError;
use crate::request::{decode, RequestInfo, Service};

/// Headers of the full Blob/Queue/File string to sign, in order, between the verb and the x-ms-* headers.
const FULL_HEADERS: [&str; 11] = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
];

/// Since this version an empty body's Content-Length is signed as "" rather than "0".
const EMPTY_CONTENT_LENGTH_VERSION: &str = "2015-02-21";

/// How x-ms-* header names are ordered. Azure documents a plain sort; newer SDKs (Python) sort with the
/// server's culture-style collation, which ignores '-' at first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeaderOrder {
    Bytes,
    Collation,
}

/// The Shared Key (or Lite) string to sign, computed from the raw path exactly as sent.
pub fn string_to_sign_shared_key(req: &RequestInfo, service: Service, lite: bool) -> String {
    build(req, service, lite, req.raw_path, HeaderOrder::Bytes)
}

/// The `Authorization` header value ("SharedKey account:signature", or "SharedKeyLite ...") an SDK would send.
pub fn sign_shared_key(
    account: &str,
    key: &[u8],
    req: &RequestInfo,
    service: Service,
    lite: bool,
) -> String {
    let scheme = if lite { "SharedKeyLite" } else { "SharedKey" };
    let signature = crypto::sign(key, &string_to_sign_shared_key(req, service, lite));
    format!("{scheme} {account}:{signature}")
}

/// How far a signed request's date may be from the server's clock, as Azure allows.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(15);

/// A signed request must say when it was made (`x-ms-date`, else `Date`), and be no more than
/// 15 minutes from now: a captured request cannot be replayed later.
pub(crate) fn check_date(req: &RequestInfo, now: OffsetDateTime) -> Result<(), AuthError> {
    let Some(date) = req.header("x-ms-date").or_else(|| req.header("date")) else {
        return Err(AuthError::failed("Request date header not specified"));
    };
    let Some(sent) = parse_http_date(&date) else {
        return Err(AuthError::failed(
            "The Date header in the request is incorrect.",
        ));
    };
    if sent < now - CLOCK_SKEW {
        return Err(AuthError::failed(format!(
            "Request date header too old: '{date}'"
        )));
    }
    if sent > now + CLOCK_SKEW {
        return Err(AuthError::failed(format!(
            "Request date header too new: '{date}'"
        )));
    }
    Ok(())
}

/// Checks `signature` against every string to sign an SDK may have used for this request.
pub(crate) fn verify(
    req: &RequestInfo,
    service: Service,
    lite: bool,
    keys: &[Vec<u8>],
    signature: &str,
) -> Result<(), AuthError> {
    let candidates = candidates(req, service, lite);
    if crypto::signature_matches(signature, keys, &candidates) {
        return Ok(());
    }
    Err(AuthError::failed(format!(
        "The MAC signature found in the HTTP request '{signature}' is not the same as any computed signature. Server used following string to sign: '{}'.",
        candidates.first().map(String::as_str).unwrap_or_default()
    )))
}

/// The raw path first; then the forms other SDKs sign: the decoded path (Dapr's `||` sent as %7C%7C) and
/// the path with upper-case percent escapes; each with both header orders.
fn candidates(req: &RequestInfo, service: Service, lite: bool) -> Vec<String> {
    let mut paths = vec![req.raw_path.to_string()];
    for variant in [
        decode(req.raw_path).into_owned(),
        upper_case_escapes(req.raw_path),
    ] {
        if !paths.contains(&variant) {
            paths.push(variant);
        }
    }
    let mut out: Vec<String> = Vec::new();
    for order in [HeaderOrder::Bytes, HeaderOrder::Collation] {
        for path in &paths {
            let sts = build(req, service, lite, path, order);
            if !out.contains(&sts) {
                out.push(sts);
            }
        }
    }
    out
}

fn build(
    req: &RequestInfo,
    service: Service,
    lite: bool,
    path: &str,
    order: HeaderOrder,
) -> String {
    let header = |name: &str| req.header(name).unwrap_or_default();
    let mut out = String::new();
    match (service, lite) {
        (Service::Table, false) => {
            for part in [
                req.method.to_string(),
                header("content-md5"),
                header("content-type"),
                table_date(req),
            ] {
                out.push_str(&part);
                out.push('\n');
            }
            out.push_str(&resource_with_comp(req, path));
        }
        (Service::Table, true) => {
            out.push_str(&table_date(req));
            out.push('\n');
            out.push_str(&resource_with_comp(req, path));
        }
        // Blob, Queue and File share both remaining forms ("Blob, Queue, and File services").
        (_, true) => {
            for part in [
                req.method.to_string(),
                header("content-md5"),
                header("content-type"),
                header("date"),
            ] {
                out.push_str(&part);
                out.push('\n');
            }
            out.push_str(&canonicalized_headers(req, order));
            out.push_str(&resource_with_comp(req, path));
        }
        (_, false) => {
            out.push_str(req.method);
            out.push('\n');
            let has_ms_date = req.header("x-ms-date").is_some();
            let version = req.header("x-ms-version").unwrap_or_default();
            for name in FULL_HEADERS {
                let value = match name {
                    "date" if has_ms_date => String::new(),
                    "content-length" => {
                        let value = header(name);
                        if value == "0" && version.as_str() >= EMPTY_CONTENT_LENGTH_VERSION {
                            String::new()
                        } else {
                            value
                        }
                    }
                    _ => header(name),
                };
                out.push_str(&value);
                out.push('\n');
            }
            out.push_str(&canonicalized_headers(req, order));
            out.push_str(&full_resource(req, path));
        }
    }
    out
}

/// Table signs x-ms-date when present, else Date.
fn table_date(req: &RequestInfo) -> String {
    req.header("x-ms-date")
        .or_else(|| req.header("date"))
        .unwrap_or_default()
}

/// `name:value\n` for every x-ms-* header: names lower-cased, repeats joined by ',', values trimmed and unfolded.
fn canonicalized_headers(req: &RequestInfo, order: HeaderOrder) -> String {
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        if !name.starts_with("x-ms-") {
            continue;
        }
        let value = unfold(value);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        }
    }
    match order {
        HeaderOrder::Bytes => headers.sort_by(|a, b| a.0.cmp(&b.0)),
        HeaderOrder::Collation => headers.sort_by(|a, b| {
            collation_key(&a.0)
                .cmp(&collation_key(&b.0))
                .then(a.0.cmp(&b.0))
        }),
    }
    headers
        .iter()
        .map(|(name, values)| format!("{name}:{}\n", values.join(",")))
        .collect()
}

/// Primary collation weight: '-' and '\'' ignored, punctuation before digits before letters.
fn collation_key(name: &str) -> Vec<(u8, char)> {
    name.chars()
        .filter(|c| *c != '-' && *c != '\'')
        .map(|c| match c {
            '0'..='9' => (1, c),
            c if c.is_alphabetic() => (2, c.to_ascii_lowercase()),
            c => (0, c),
        })
        .collect()
}

/// Trims, and replaces folded line breaks (CRLF plus indentation) with one space.
fn unfold(value: &str) -> String {
    let trimmed = value.trim();
    if !trimmed.contains(['\r', '\n']) {
        return trimmed.to_string();
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut in_break = false;
    for c in trimmed.chars() {
        if c == '\r' || c == '\n' || (in_break && (c == ' ' || c == '\t')) {
            if !in_break {
                out.push(' ');
                in_break = true;
            }
            continue;
        }
        in_break = false;
        out.push(c);
    }
    out
}

/// "/account/path" then "\nname:v1,v2" per query parameter: names lower-cased, sorted; values decoded, sorted.
fn full_resource(req: &RequestInfo, path: &str) -> String {
    let mut out = format!("/{}{}", req.account, path);
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in req.query_pairs() {
        let name = name.to_lowercase();
        match params.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => params.push((name, vec![value])),
        }
    }
    params.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut values) in params {
        values.sort();
        out.push_str(&format!("\n{name}:{}", values.join(",")));
    }
    out
}

/// "/account/path", plus "?comp=value" when the query has `comp` (Lite and Table keep only that).
fn resource_with_comp(req: &RequestInfo, path: &str) -> String {
    let mut out = format!("/{}{}", req.account, path);
    if let Some((_, comp)) = req
        .query_pairs()
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("comp"))
    {
        out.push_str("?comp=");
        out.push_str(&comp);
    }
    out
}

fn upper_case_escapes(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            out.push('%');
            out.push(bytes[i + 1].to_ascii_uppercase() as char);
            out.push(bytes[i + 2].to_ascii_uppercase() as char);
            i += 3;
        } else {
            let ch = path[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
#[path = "shared_key_tests.rs"]
mod tests;
