//! Blob index tags on the wire: Azure's limits and the `x-ms-tags` header.
//!
//! A blob has at most 10 tags; a key is 1 to 128 characters, a value 0 to 256, each of letters,
//! digits, space and `+ - . / : = _`.

use crate::error::{AzureError, ErrorCode};
use crate::percent::{decode_utf8, Plus};

pub const MAX_TAGS: usize = 10;
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;

/// Whether `c` may appear in a tag key or value.
pub fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '+' | '-' | '.' | '/' | ':' | '=' | '_')
}

/// Checks a tag set against Azure's limits, with Azure's error for the first it breaks.
pub fn validate_tags(tags: &[(String, String)]) -> Result<(), AzureError> {
    if tags.len() > MAX_TAGS {
        return Err(AzureError::new(ErrorCode::TagsTooLarge));
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        if key.is_empty() {
            return Err(AzureError::new(ErrorCode::EmptyTagName));
        }
        if key.chars().count() > MAX_KEY_CHARS || value.chars().count() > MAX_VALUE_CHARS {
            return Err(AzureError::new(ErrorCode::TagsTooLarge));
        }
        if !key.chars().all(is_tag_char) || !value.chars().all(is_tag_char) {
            return Err(AzureError::new(ErrorCode::InvalidTag));
        }
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(AzureError::new(ErrorCode::DuplicateTagNames));
        }
    }
    Ok(())
}

/// `x-ms-tags`: `key=value&key=value`, each part percent-encoded as in a query string (`+` is
/// a space). The tags are validated; an empty header is no tags.
pub fn parse_tags_header(header: &str) -> Result<Vec<(String, String)>, AzureError> {
    let invalid = || {
        AzureError::new(ErrorCode::InvalidHeaderValue)
            .detail("HeaderName", "x-ms-tags")
            .detail("HeaderValue", header)
    };
    let mut tags = Vec::new();
    for pair in header.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_utf8(key, Plus::Space).ok_or_else(invalid)?;
        let value = decode_utf8(value, Plus::Space).ok_or_else(invalid)?;
        tags.push((key.into_owned(), value.into_owned()));
    }
    validate_tags(&tags)?;
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn code(r: Result<impl std::fmt::Debug, AzureError>) -> ErrorCode {
        r.expect_err("refused").code
    }

    #[test]
    fn limits() {
        assert!(validate_tags(&t(&[("a", ""), ("Key 1+-./:=_", "v 2+-./:=_")])).is_ok());
        let eleven: Vec<(String, String)> =
            (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(code(validate_tags(&eleven)), ErrorCode::TagsTooLarge);
        assert!(validate_tags(&eleven[..10]).is_ok());
        let long_key = "k".repeat(129);
        assert_eq!(
            code(validate_tags(&t(&[(&long_key, "v")]))),
            ErrorCode::TagsTooLarge
        );
        assert!(validate_tags(&t(&[(&long_key[..128], &"v".repeat(256))])).is_ok());
        assert_eq!(
            code(validate_tags(&t(&[("k", &"v".repeat(257))]))),
            ErrorCode::TagsTooLarge
        );
        assert_eq!(
            code(validate_tags(&t(&[("", "v")]))),
            ErrorCode::EmptyTagName
        );
        assert_eq!(
            code(validate_tags(&t(&[("a&b", "v")]))),
            ErrorCode::InvalidTag
        );
        assert_eq!(
            code(validate_tags(&t(&[("a", "é")]))),
            ErrorCode::InvalidTag
        );
        assert_eq!(
            code(validate_tags(&t(&[("a", "1"), ("a", "2")]))),
            ErrorCode::DuplicateTagNames
        );
    }

    #[test]
    fn header() {
        assert_eq!(
            parse_tags_header("tag1=firsttag&tag%202=second+tag&empty=").unwrap(),
            t(&[("tag1", "firsttag"), ("tag 2", "second tag"), ("empty", "")])
        );
        assert_eq!(parse_tags_header("").unwrap(), t(&[]));
        assert_eq!(code(parse_tags_header("a=%26")), ErrorCode::InvalidTag);
        assert_eq!(
            code(parse_tags_header("a=%FF")),
            ErrorCode::InvalidHeaderValue
        );
    }
}
