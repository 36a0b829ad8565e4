//! Table service URL paths: `/account/Tables`, `/account/Tables('name')`, `/account/$batch`,
//! `/account/name`, `/account/name()` and `/account/name(PartitionKey='p',RowKey='r')`.

use lapis_wire::percent::{self, Plus};
use lapis_wire::{AzureError, ErrorCode};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TablePath {
    Service,
    Tables,
    Table(String),
    Batch,
    Entities {
        table: String,
        keys: Option<(String, String)>,
    },
}

impl TablePath {
    /// The table the path names, if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            TablePath::Table(t) | TablePath::Entities { table: t, .. } => Some(t),
            _ => None,
        }
    }
}

fn invalid_uri() -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::InvalidUri)
            .message("The requested URI does not represent any resource on the server."),
    )
}

fn decode(s: &str) -> ApiResult<String> {
    percent::decode_utf8(s, Plus::Literal)
        .map(|c| c.into_owned())
        .ok_or_else(invalid_uri)
}

/// Reads a quoted OData string literal at the start of `s` (`'it''s'`), returning the value and
/// the rest after the closing quote.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('\'')?;
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if matches!(chars.peek(), Some((_, '\''))) {
                chars.next();
                value.push('\'');
                continue;
            }
            return Some((value, &body[i + 1..]));
        }
        value.push(c);
    }
    None
}

/// `PartitionKey='p',RowKey='r'` (either order) inside the parentheses.
fn entity_keys(inner: &str) -> Option<(String, String)> {
    let (mut pk, mut rk) = (None, None);
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let (value, after) = quoted(after.trim_start())?;
        match name.trim() {
            "PartitionKey" => pk = Some(value),
            "RowKey" => rk = Some(value),
            _ => return None,
        }
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Some((pk?, rk?))
}

/// Splits `/account/...` into the account and the resource.
pub fn parse(raw_path: &str) -> ApiResult<(String, TablePath)> {
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let (account, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if account.is_empty() {
        return Err(invalid_uri());
    }
    let account = decode(account)?;
    let rest = decode(rest.trim_end_matches('/'))?;
    if rest.is_empty() {
        return Ok((account, TablePath::Service));
    }
    if rest == "$batch" {
        return Ok((account, TablePath::Batch));
    }
    let (name, args) = match rest.find('(') {
        Some(open) => {
            let inner = rest[open + 1..].strip_suffix(')').ok_or_else(invalid_uri)?;
            (&rest[..open], Some(inner))
        }
        None => (rest.as_str(), None),
    };
    if name.contains('/') || name.is_empty() {
        return Err(invalid_uri());
    }
    if name == "Tables" {
        return match args {
            None | Some("") => Ok((account, TablePath::Tables)),
            Some(inner) => {
                let (table, tail) = quoted(inner.trim()).ok_or_else(invalid_uri)?;
                if !tail.trim().is_empty() {
                    return Err(invalid_uri());
                }
                Ok((account, TablePath::Table(table)))
            }
        };
    }
    let keys = match args {
        None | Some("") => None,
        Some(inner) => Some(entity_keys(inner).ok_or_else(invalid_uri)?),
    };
    Ok((
        account,
        TablePath::Entities {
            table: name.to_string(),
            keys,
        },
    ))
}

/// The entity's URL, as `Location` and `odata.id` carry it.
pub fn entity_url(base_url: &str, table: &str, pk: &str, rk: &str) -> String {
    let esc = |s: &str| s.replace('\'', "''");
    let raw = format!("{table}(PartitionKey='{}',RowKey='{}')", esc(pk), esc(rk));
    let encoded = percent_encoding::utf8_percent_encode(&raw, KEY_ESCAPES).to_string();
    format!("{base_url}/{encoded}")
}

/// Characters escaped in key values inside URLs: everything but what a path segment may hold.
const KEY_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}');

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> TablePath {
        parse(s).map(|(_, p)| p).expect(s)
    }

    #[test]
    fn path_shapes() {
        assert_eq!(p("/acct"), TablePath::Service);
        assert_eq!(p("/acct/Tables"), TablePath::Tables);
        assert_eq!(p("/acct/Tables()"), TablePath::Tables);
        assert_eq!(
            p("/acct/Tables('mytable')"),
            TablePath::Table("mytable".into())
        );
        assert_eq!(
            p("/acct/Tables(%27mytable%27)"),
            TablePath::Table("mytable".into())
        );
        assert_eq!(p("/acct/$batch"), TablePath::Batch);
        assert_eq!(
            p("/acct/t1"),
            TablePath::Entities {
                table: "t1".into(),
                keys: None
            }
        );
        assert_eq!(
            p("/acct/t1()"),
            TablePath::Entities {
                table: "t1".into(),
                keys: None
            }
        );
        assert_eq!(
            p("/acct/t1(PartitionKey='a''b',RowKey='')"),
            TablePath::Entities {
                table: "t1".into(),
                keys: Some(("a'b".into(), "".into()))
            }
        );
        assert_eq!(
            p("/acct/t1(PartitionKey=%27p%2C1%27,RowKey=%27r)x%27)"),
            TablePath::Entities {
                table: "t1".into(),
                keys: Some(("p,1".into(), "r)x".into()))
            }
        );
        assert!(parse("/acct/t1(PartitionKey='a')").is_err());
        assert!(parse("/acct/t1(PartitionKey='a',RowKey='b'").is_err());
        assert!(parse("/").is_err());
    }

    #[test]
    fn entity_urls_escape_quotes_and_spaces() {
        assert_eq!(
            entity_url("http://h/a", "t", "it's", "a b"),
            "http://h/a/t(PartitionKey='it''s',RowKey='a%20b')"
        );
    }
}
