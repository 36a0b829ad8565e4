//! Conditional headers to the engine's `Conditions`.

use lapis_store::{Conditions, EtagCondition};

use crate::error::ApiResult;
use crate::request::Headers;

/// ETags arrive quoted (`"0x8D…"`), weak (`W/"…"`) or bare (`bad-etag`, as Dapr sends); a list is
/// comma-separated. The engine compares unquoted values.
fn etag_condition(value: &str) -> EtagCondition {
    if value.trim() == "*" {
        return EtagCondition::Any;
    }
    let tags = value
        .split(',')
        .map(|t| {
            let t = t.trim();
            let t = t.strip_prefix("W/").unwrap_or(t);
            t.trim_matches('"').to_string()
        })
        .filter(|t| !t.is_empty())
        .collect();
    EtagCondition::Tags(tags)
}

pub fn parse(headers: &Headers) -> ApiResult<Conditions> {
    Ok(Conditions {
        if_match: headers.get("if-match").map(etag_condition),
        if_none_match: headers.get("if-none-match").map(etag_condition),
        if_modified_since: headers.http_date("if-modified-since")?,
        if_unmodified_since: headers.http_date("if-unmodified-since")?,
    })
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
    }
}
