//! Response bodies in the three OData JSON metadata levels.
//!
//! Layout and annotations follow Azure's recorded responses: minimal metadata carries
//! `odata.metadata` (single entity/table only), `odata.etag`, and `@odata.type` annotations for
//! the types JSON cannot express (Int64, DateTime, Guid, Binary, and Doubles that are whole or
//! not finite, so a client reading `1.0` or `"NaN"` keeps the Double type); full metadata adds
//! `odata.type`, `odata.id`, `odata.editLink` and the `Timestamp` annotation; no metadata has
//! no `odata.*` keys and no annotations.

use std::fmt::Write;

use base64::Engine;
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::datetime::DateTimeText;
use crate::model::ValueRef;

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
    /// Also gives the `odata.etag` (see [`entity_etag`]).
    pub timestamp: OffsetDateTime,
    /// Owned [`Properties`](crate::model::Properties) lend theirs through
    /// [`property_refs`](crate::model::property_refs).
    pub properties: &'a [(&'a str, ValueRef<'a>)],
}

/// `W/"datetime'2022-04-13T19%3A25%3A37.512524Z'"`: the Timestamp with its colons percent-encoded.
pub fn entity_etag(timestamp: OffsetDateTime) -> String {
    let mut out = String::with_capacity(48);
    push_etag(&mut out, &DateTimeText::new(timestamp), "\"");
    out
}

/// The ETag for a Timestamp, with `quote` for each of its double quotes (`\"` inside a JSON
/// string).
fn push_etag(out: &mut String, timestamp: &DateTimeText, quote: &str) {
    out.push_str("W/");
    out.push_str(quote);
    out.push_str("datetime'");
    timestamp.push_to(out, "%3A");
    out.push('\'');
    out.push_str(quote);
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
        push_key(&mut out, "odata.metadata");
        push_json_parts(&mut out, &[base_url, "/$metadata#", table, "/@Element"]);
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
        push_key(&mut out, "odata.metadata");
        push_json_parts(&mut out, &[base_url, "/$metadata#", table]);
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
    push_table_members(&mut out, base_url, table, level, true);
    out.push('}');
    out
}

/// Query Tables; `select` (`$select`) may leave out the one property, TableName.
pub fn render_table_list(
    base_url: &str,
    tables: &[&str],
    level: Metadata,
    select: Option<&[String]>,
) -> String {
    let with_name = select.is_none_or(|names| names.iter().any(|n| n == "TableName"));
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
        push_table_members(&mut out, base_url, table, level, with_name);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn push_table_members(
    out: &mut String,
    base_url: &str,
    table: &str,
    level: Metadata,
    with_name: bool,
) {
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
    if with_name {
        push_member(out, "TableName", table);
    }
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
    let timestamp = DateTimeText::new(e.timestamp);
    if level == Metadata::Full {
        // `table(PartitionKey='pk',RowKey='rk')`, quotes in the keys doubled.
        let push_key_path = |out: &mut String| {
            push_escaped(out, table);
            out.push_str("(PartitionKey='");
            push_escaped_key(out, e.partition_key);
            out.push_str("',RowKey='");
            push_escaped_key(out, e.row_key);
            out.push_str("')");
        };
        push_key(out, "odata.type");
        push_json_parts(out, &[account_of(base_url), ".", table]);
        push_key(out, "odata.id");
        out.push('"');
        push_escaped(out, base_url);
        out.push('/');
        push_key_path(out);
        out.push('"');
        push_etag_member(out, &timestamp);
        push_key(out, "odata.editLink");
        out.push('"');
        push_key_path(out);
        out.push('"');
    } else if level == Metadata::Minimal {
        push_etag_member(out, &timestamp);
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
        push_key(out, "Timestamp");
        push_json_datetime(out, &timestamp);
    }
    match select {
        None => {
            for &(name, value) in e.properties {
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
                    Some(&(_, value)) => push_property(out, name, value, level),
                    None => {
                        push_key(out, name);
                        out.push_str("null");
                    }
                }
            }
        }
    }
}

fn push_property(out: &mut String, name: &str, value: ValueRef, level: Metadata) {
    let annotate = match value {
        ValueRef::String(_) | ValueRef::Int32(_) | ValueRef::Boolean(_) => false,
        ValueRef::Double(d) => !d.is_finite() || d.fract() == 0.0,
        _ => true,
    };
    if annotate && level != Metadata::None {
        push_separator(out);
        out.push('"');
        push_escaped(out, name);
        out.push_str("@odata.type\":");
        push_json_string(out, value.type_name());
    }
    push_key(out, name);
    match value {
        ValueRef::String(s) | ValueRef::Guid(s) => push_json_string(out, s),
        ValueRef::Int32(v) => push_integer(out, i64::from(v)),
        ValueRef::Int64(v) => {
            out.push('"');
            push_integer(out, v);
            out.push('"');
        }
        // serde_json's text: a decimal point on whole numbers ("1.0"), exponents for very large
        // or small ones. JSON has no NaN or infinities; Azure sends them as strings.
        ValueRef::Double(d) => match serde_json::Number::from_f64(d) {
            Some(n) => {
                // Writing into a String cannot fail.
                let _ = write!(out, "{n}");
            }
            None if d.is_nan() => out.push_str("\"NaN\""),
            None if d > 0.0 => out.push_str("\"Infinity\""),
            None => out.push_str("\"-Infinity\""),
        },
        ValueRef::Boolean(b) => out.push_str(if b { "true" } else { "false" }),
        ValueRef::DateTime(t) => push_json_datetime(out, &DateTimeText::new(t)),
        ValueRef::Binary(b) => {
            out.push('"');
            base64::engine::general_purpose::STANDARD.encode_string(b, out);
            out.push('"');
        }
    }
}

/// `v` in decimal, as `to_string` spells it, without the formatting machinery.
fn push_integer(out: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let mut rest = v.unsigned_abs();
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    for &d in &digits[start..] {
        out.push(char::from(d));
    }
}

fn push_etag_member(out: &mut String, timestamp: &DateTimeText) {
    push_key(out, "odata.etag");
    out.push('"');
    push_etag(out, timestamp, "\\\"");
    out.push('"');
}

fn push_json_datetime(out: &mut String, t: &DateTimeText) {
    out.push('"');
    t.push_to(out, ":");
    out.push('"');
}

/// The comma before any member or element but the first.
fn push_separator(out: &mut String) {
    if !matches!(out.as_bytes().last(), Some(b'{' | b'[')) {
        out.push(',');
    }
}

fn push_key(out: &mut String, key: &str) {
    push_separator(out);
    push_json_string(out, key);
    out.push(':');
}

fn push_member(out: &mut String, key: &str, value: &str) {
    push_key(out, key);
    push_json_string(out, value);
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// One JSON string holding the concatenation of `parts`.
fn push_json_parts(out: &mut String, parts: &[&str]) {
    out.push('"');
    for part in parts {
        push_escaped(out, part);
    }
    out.push('"');
}

/// The bytes serde_json escapes in strings: control characters, `"` and `\`.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The inside of a JSON string, escaped exactly as serde_json does: `"` and `\`, and control
/// characters as `\b \t \n \f \r` or `\u00xx`; everything else (`/`, non-ASCII) verbatim.
fn push_escaped(out: &mut String, mut s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    while let Some(i) = first_to_escape(s.as_bytes()) {
        // Only ASCII bytes are escaped, so `i` is on a character boundary.
        out.push_str(&s[..i]);
        match s.as_bytes()[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\x08' => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\x0c' => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            b => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        s = &s[i + 1..];
    }
    out.push_str(s);
}

/// Where the first byte JSON needs escaped is (`"`, `\`, or below 0x20). Eight bytes are
/// tested at once: entity text is mostly plain, and the byte-by-byte search was a tenth of a
/// filtered query's instructions.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Non-zero exactly when some byte of `v` is below `n` (n <= 0x80): the subtraction borrows
    // into the high bit only for such a byte, and `!v` drops bytes that had it set already.
    let any_below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGHS;
    let table = |b: &u8| NEEDS_ESCAPE[usize::from(*b)];
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let flagged = any_below(v, 0x20)
            | any_below(v ^ (ONES * u64::from(b'"')), 1)
            | any_below(v ^ (ONES * u64::from(b'\\')), 1);
        if flagged != 0 {
            if let Some(i) = chunk.iter().position(table) {
                return Some(offset + i);
            }
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(table)
        .map(|i| offset + i)
}

/// [`push_escaped`] with single quotes doubled, as OData key literals spell them.
fn push_escaped_key(out: &mut String, key: &str) {
    for (i, part) in key.split('\'').enumerate() {
        if i > 0 {
            out.push_str("''");
        }
        push_escaped(out, part);
    }
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
