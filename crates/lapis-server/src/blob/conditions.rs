//! Conditional headers to the engine's `Conditions`, with Azure's rules for which combinations a
//! read or a write may carry ("Specifying conditional headers for Blob service operations").

use lapis_store::{Conditions, EtagCondition};
use lapis_wire::{AzureError, ErrorCode};

use crate::error::ApiResult;
use crate::request::Headers;

/// The ETags of a header: quoted (`"0x8D…"`), weak (`W/"…"`) or bare (`bad-etag`, as Dapr
/// sends); a list is comma-separated.
fn etags(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|t| {
            let t = t.trim();
            let t = t.strip_prefix("W/").unwrap_or(t);
            t.trim_matches('"').to_string()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// A list is matched if any of its ETags is: one `*` among them matches every version.
pub(super) fn etag_condition(value: &str) -> EtagCondition {
    let tags = etags(value);
    if tags.iter().any(|t| t == "*") {
        EtagCondition::Any
    } else {
        EtagCondition::Tags(tags)
    }
}

/// Every conditional header as sent, for container operations (which refuse the ETag ones).
pub fn parse_container(headers: &Headers) -> ApiResult<Conditions> {
    parse_all(headers)
}

fn parse_all(headers: &Headers) -> ApiResult<Conditions> {
    Ok(Conditions {
        if_match: headers.get("if-match").map(etag_condition),
        if_none_match: headers.get("if-none-match").map(etag_condition),
        if_modified_since: headers.http_date("if-modified-since")?,
        if_unmodified_since: headers.http_date("if-unmodified-since")?,
        lease_id: headers.owned("x-ms-lease-id"),
        if_tags: super::tags::if_tags(headers)?,
    })
}

/// The conditions of a read (Get Blob, Get Blob Properties and Metadata): any combination.
/// `If-None-Match: *` can never hold for a blob that can be read, so Azure refuses it.
pub fn parse_read(headers: &Headers) -> ApiResult<Conditions> {
    let cond = parse_all(headers)?;
    if cond.if_none_match == Some(EtagCondition::Any) {
        return Err(AzureError::new(ErrorCode::UnsatisfiableCondition).into());
    }
    Ok(cond)
}

/// The conditions of a write: one ETag at most, and only `If-Match` with `If-Unmodified-Since`
/// or `If-None-Match` with `If-Modified-Since`; anything else is Azure's 400
/// MultipleConditionHeadersNotSupported.
pub fn parse_write(headers: &Headers) -> ApiResult<Conditions> {
    let cond = parse_all(headers)?;
    let one_tag = |header: &str| headers.get(header).is_none_or(|v| etags(v).len() <= 1);
    let match_side = cond.if_match.is_some() || cond.if_unmodified_since.is_some();
    let none_match_side = cond.if_none_match.is_some() || cond.if_modified_since.is_some();
    if (match_side && none_match_side) || !one_tag("if-match") || !one_tag("if-none-match") {
        return Err(AzureError::new(ErrorCode::MultipleConditionHeadersNotSupported).into());
    }
    Ok(cond)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_forms() {
        assert_eq!(etag_condition("*"), EtagCondition::Any);
        assert_eq!(
            etag_condition("\"0x8DA\""),
            EtagCondition::Tags(vec!["0x8DA".into()])
        );
        assert_eq!(
            etag_condition("W/\"0x1\", \"0x2\""),
            EtagCondition::Tags(vec!["0x1".into(), "0x2".into()])
        );
        assert_eq!(
            etag_condition("bad-etag"),
            EtagCondition::Tags(vec!["bad-etag".into()])
        );
        assert_eq!(etag_condition("*,\"0x8DA\""), EtagCondition::Any);
        assert_eq!(etag_condition("\"0x8DA\", *"), EtagCondition::Any);
    }

    fn with(pairs: &[(&'static str, &'static str)]) -> http::Request<()> {
        let mut req = http::Request::new(());
        for (k, v) in pairs {
            req.headers_mut()
                .insert(*k, http::HeaderValue::from_static(v));
        }
        req
    }

    fn read(pairs: &[(&'static str, &'static str)]) -> Option<ErrorCode> {
        parse_read(&Headers::of(&with(pairs)))
            .err()
            .map(|e| e.0.code)
    }

    fn write(pairs: &[(&'static str, &'static str)]) -> Option<ErrorCode> {
        parse_write(&Headers::of(&with(pairs)))
            .err()
            .map(|e| e.0.code)
    }

    const DATE: &str = "Thu, 01 Jan 2026 00:00:00 GMT";

    #[test]
    fn reads_take_any_combination_but_if_none_match_star() {
        assert_eq!(
            read(&[("if-match", "\"a\""), ("if-none-match", "\"b\"")]),
            None
        );
        assert_eq!(
            read(&[("if-match", "\"a\", \"b\""), ("if-modified-since", DATE)]),
            None
        );
        assert_eq!(
            read(&[("if-none-match", "*")]),
            Some(ErrorCode::UnsatisfiableCondition)
        );
        assert_eq!(
            read(&[("if-none-match", "\"a\", *")]),
            Some(ErrorCode::UnsatisfiableCondition)
        );
    }

    #[test]
    fn writes_take_one_pair_and_one_etag() {
        for ok in [
            &[("if-match", "\"a\"")][..],
            &[("if-match", "*"), ("if-unmodified-since", DATE)],
            &[("if-none-match", "*"), ("if-modified-since", DATE)],
            &[("if-unmodified-since", DATE)],
        ] {
            assert_eq!(write(ok), None, "{ok:?}");
        }
        for bad in [
            &[("if-match", "\"a\""), ("if-none-match", "\"b\"")][..],
            &[("if-match", "\"a\""), ("if-modified-since", DATE)],
            &[("if-none-match", "\"a\""), ("if-unmodified-since", DATE)],
            &[("if-match", "\"a\", \"b\"")],
            &[("if-none-match", "\"a\",\"b\"")],
            &[("if-match", "*,\"a\"")],
        ] {
            assert_eq!(
                write(bad),
                Some(ErrorCode::MultipleConditionHeadersNotSupported),
                "{bad:?}"
            );
        }
    }
}
