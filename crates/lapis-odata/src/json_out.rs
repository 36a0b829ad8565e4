//! Response bodies in the three OData JSON metadata levels.
//!
//! Layout and annotations follow Azure's recorded responses: minimal metadata carries
//! `odata.metadata` (single entity/table only), `odata.etag`, and `@odata.type` annotations for
//! the types JSON cannot express (Int64, DateTime, Guid, Binary, and Doubles that are whole or
//! not finite, so a client reading `1.0` or `"NaN"` keeps the Double type); full metadata adds
//! `odata.type`, `odata.id`, `odata.editLink` and the `Timestamp` annotation; no metadata has
//! no `odata.*` keys and no annotations.

use base64::Engine;
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::datetime::format_datetime;
use crate::model::{EdmValue, Properties};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Metadata {
    None,
    Minimal,
    Full,
}

impl Metadata {
    /// From an `Accept` header or a `$format` value. Missing, `*/*` and plain `application/json`
    /// mean minimal metadata; Atom/XML is refused with `AtomFormatNotSupported` (415).
    pub fn from_accept(accept: Option<&str>) -> Result<Metadata, AzureError> {
        let Some(accept) = accept else {
            return Ok(Metadata::Minimal);
        };
        let mut atom = false;
        for media in accept.split(',') {
            let media = media.trim().to_ascii_lowercase();
            let mut parts = media.split(';').map(str::trim);
            let mime = parts.next().unwrap_or("");
            match mime {
                "application/json" => {
                    for param in parts {
                        match param.replace(' ', "").as_str() {
                            "odata=nometadata" => return Ok(Metadata::None),
                            "odata=fullmetadata" => return Ok(Metadata::Full),
                            _ => {}
                        }
                    }
                    return Ok(Metadata::Minimal);
                }
                "" | "*/*" | "application/*" => return Ok(Metadata::Minimal),
                "application/atom+xml" | "application/xml" | "text/xml" => atom = true,
                _ => {}
            }
        }
        if atom {
            return Err(AzureError::new(ErrorCode::AtomFormatNotSupported));
        }
        Ok(Metadata::Minimal)
    }

    /// The `Content-Type` Azure sends with a body at this level (spaced as in its responses).
    pub fn content_type(&self) -> &'static str {
        match self {
            Metadata::None => "application/json; odata=nometadata; streaming=true; charset=utf-8",
            Metadata::Minimal => {
                "application/json; odata=minimalmetadata; streaming=true; charset=utf-8"
            }
            Metadata::Full => "application/json; odata=fullmetadata; streaming=true; charset=utf-8",
        }
    }
}

pub struct EntityView<'a> {
    pub partition_key: &'a str,
    pub row_key: &'a str,
    pub timestamp: OffsetDateTime,
    /// As [`entity_etag`] renders it.
    pub etag: &'a str,
    pub properties: &'a Properties,
}

/// `W/"datetime'2022-04-13T19%3A25%3A37.512524Z'"`: the Timestamp with its colons percent-encoded.
pub fn entity_etag(timestamp: OffsetDateTime) -> String {
    format!(
        "W/\"datetime'{}'\"",
        format_datetime(timestamp).replace(':', "%3A")
    )
}

/// A single entity (point query, Insert with `return-content`).
pub fn render_entity(
    base_url: &str,
    table: &str,
    e: &EntityView,
    level: Metadata,
    select: Option<&[String]>,
) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    if level != Metadata::None {
        push_member(
            &mut out,
            "odata.metadata",
            &format!("{base_url}/$metadata#{table}/@Element"),
        );
    }
    push_entity_members(&mut out, base_url, table, e, level, select);
    out.push('}');
    out
}

/// Query Entities: `{"odata.metadata": ".../$metadata#table", "value": [...]}`.
pub fn render_entity_list(
    base_url: &str,
    table: &str,
    entities: &[EntityView],
    level: Metadata,
    select: Option<&[String]>,
) -> String {
    let mut out = String::with_capacity(64 + entities.len() * 256);
    out.push('{');
    if level != Metadata::None {
        push_member(
            &mut out,
            "odata.metadata",
            &format!("{base_url}/$metadata#{table}"),
        );
    }
    push_key(&mut out, "value");
    out.push('[');
    for (i, e) in entities.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        push_entity_members(&mut out, base_url, table, e, level, select);
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// Create Table and single-table answers.
pub fn render_table(base_url: &str, table: &str, level: Metadata) -> String {
    let mut out = String::from("{");
    if level != Metadata::None {
        push_member(
            &mut out,
            "odata.metadata",
            &format!("{base_url}/$metadata#Tables/@Element"),
        );
    }
    push_table_members(&mut out, base_url, table, level);
    out.push('}');
    out
}

/// Query Tables.
pub fn render_table_list(base_url: &str, tables: &[&str], level: Metadata) -> String {
    let mut out = String::from("{");
    if level != Metadata::None {
        push_member(
            &mut out,
            "odata.metadata",
            &format!("{base_url}/$metadata#Tables"),
        );
    }
    push_key(&mut out, "value");
    out.push('[');
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        push_table_members(&mut out, base_url, table, level);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn push_table_members(out: &mut String, base_url: &str, table: &str, level: Metadata) {
    if level == Metadata::Full {
        push_member(
            out,
            "odata.type",
            &format!("{}.Tables", account_of(base_url)),
        );
        push_member(
            out,
            "odata.id",
            &format!("{base_url}/Tables('{}')", quote_key(table)),
        );
        push_member(
            out,
            "odata.editLink",
            &format!("Tables('{}')", quote_key(table)),
        );
    }
    push_member(out, "TableName", table);
}

fn push_entity_members(
    out: &mut String,
    base_url: &str,
    table: &str,
    e: &EntityView,
    level: Metadata,
    select: Option<&[String]>,
) {
    let select = select.filter(|names| !names.iter().any(|n| n == "*"));
    let wanted = |name: &str| select.is_none_or(|names| names.iter().any(|n| n == name));
    if level == Metadata::Full {
        let key_path = format!(
            "{table}(PartitionKey='{}',RowKey='{}')",
            quote_key(e.partition_key),
            quote_key(e.row_key)
        );
        push_member(
            out,
            "odata.type",
            &format!("{}.{table}", account_of(base_url)),
        );
        push_member(out, "odata.id", &format!("{base_url}/{key_path}"));
        push_member(out, "odata.etag", e.etag);
        push_member(out, "odata.editLink", &key_path);
    } else if level == Metadata::Minimal {
        push_member(out, "odata.etag", e.etag);
    }
    if wanted("PartitionKey") {
        push_member(out, "PartitionKey", e.partition_key);
    }
    if wanted("RowKey") {
        push_member(out, "RowKey", e.row_key);
    }
    if wanted("Timestamp") {
        if level == Metadata::Full {
            push_member(out, "Timestamp@odata.type", "Edm.DateTime");
        }
        push_member(out, "Timestamp", &format_datetime(e.timestamp));
    }
    match select {
        None => {
            for (name, value) in e.properties {
                push_property(out, name, value, level);
            }
        }
        // Azure answers a selected but absent property with null.
        Some(names) => {
            for name in names {
                if matches!(name.as_str(), "PartitionKey" | "RowKey" | "Timestamp") {
                    continue;
                }
                match e.properties.iter().find(|(n, _)| n == name) {
                    Some((_, value)) => push_property(out, name, value, level),
                    None => {
                        push_key(out, name);
                        out.push_str("null");
                    }
                }
            }
        }
    }
}

fn push_property(out: &mut String, name: &str, value: &EdmValue, level: Metadata) {
    let annotate = match value {
        EdmValue::String(_) | EdmValue::Int32(_) | EdmValue::Boolean(_) => false,
        EdmValue::Double(d) => !d.is_finite() || d.fract() == 0.0,
        _ => true,
    };
    if annotate && level != Metadata::None {
        push_member(out, &format!("{name}@odata.type"), value.type_name());
    }
    push_key(out, name);
    match value {
        EdmValue::String(s) | EdmValue::Guid(s) => push_json_string(out, s),
        EdmValue::Int32(v) => out.push_str(&v.to_string()),
        EdmValue::Int64(v) => push_json_string(out, &v.to_string()),
        EdmValue::Double(d) if d.is_nan() => out.push_str("\"NaN\""),
        EdmValue::Double(d) if d.is_infinite() => out.push_str(if *d > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        }),
        // serde_json (ryu) keeps a decimal point on whole numbers ("1.0") and uses exponents for
        // very large or small ones, always valid JSON.
        EdmValue::Double(d) => out.push_str(&serde_json::Value::from(*d).to_string()),
        EdmValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        EdmValue::DateTime(t) => push_json_string(out, &format_datetime(*t)),
        EdmValue::Binary(b) => {
            push_json_string(out, &base64::engine::general_purpose::STANDARD.encode(b))
        }
    }
}

fn push_key(out: &mut String, key: &str) {
    if !out.ends_with('{') && !out.ends_with('[') {
        out.push(',');
    }
    push_json_string(out, key);
    out.push(':');
}

fn push_member(out: &mut String, key: &str, value: &str) {
    push_key(out, key);
    push_json_string(out, value);
}

fn push_json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

/// The account: the path's last segment (path-style URLs), else the host's first label.
fn account_of(base_url: &str) -> &str {
    let without_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    match without_scheme.trim_end_matches('/').split_once('/') {
        Some((_, path)) => path.rsplit('/').next().unwrap_or(""),
        None => without_scheme.split(['.', ':']).next().unwrap_or(""),
    }
}

fn quote_key(key: &str) -> String {
    key.replace('\'', "''")
}

#[cfg(test)]
#[path = "json_out_tests.rs"]
mod tests;
