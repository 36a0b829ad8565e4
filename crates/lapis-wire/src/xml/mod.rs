//! XML request bodies (parsed) and response bodies (rendered), one file per body.
//!
//! Renderers build strings directly, in exactly Azure's element order and spelling, because the
//! order is part of what clients see and a serializer would hide it. Parsers read a small element
//! tree ([`tree`]) and turn malformed or invalid input into Azure's errors, never a panic.

mod block_list;
mod cors;
mod listing;
mod page_list;
mod queue;
mod service_properties;
mod signed_identifiers;
mod tags;
mod tree;
mod user_delegation_key;

pub use block_list::{parse_block_list, render_block_list, BlockListKind};
pub use cors::CorsRule;
pub use listing::{
    render_list_blobs, render_list_containers, BlobEntry, BlobListItem, ContainerEntry, CopyEntry,
    DeletedBlobEntry, DeletedContainerEntry, LeaseEntry,
};
pub use page_list::{render_page_list, PageListEntry};
pub use queue::{
    parse_queue_message, render_list_queues, render_messages, MessageEntry, MessageView,
    QueueEntry, NEVER_EXPIRES,
};
pub use service_properties::{Logging, Metrics, RetentionPolicy, ServiceProperties, StaticWebsite};
pub use signed_identifiers::{
    parse_signed_identifiers, render_signed_identifiers, SignedIdentifierXml,
};
pub use tags::{parse_tags, render_tagged_blobs, render_tags, TaggedBlobEntry};
pub use user_delegation_key::{
    parse_key_info, render_user_delegation_key, KeyInfo, UserDelegationKeyXml,
};

/// The declaration every Azure XML response body starts with.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// Escapes text for XML element content the way Azure's .NET writer does: `&`, `<`, `>` only
/// (quotes stay literal, which the recorded ETags `<Etag>"0x.."</Etag>` show).
///
/// Characters XML 1.0 cannot carry literally (control characters other than tab and newline)
/// become character references so nothing is silently lost.
pub fn escape_text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value: as [`escape_text`], plus `"` and `'`.
pub fn escape_attribute(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Appends `<name>escaped value</name>`, or `<name />` for an empty value as Azure writes it.
pub(crate) fn push_element(out: &mut String, name: &str, value: &str) {
    if value.is_empty() {
        out.push('<');
        out.push_str(name);
        out.push_str(" />");
    } else {
        out.push('<');
        out.push_str(name);
        out.push('>');
        out.push_str(&escape_text(value));
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

/// Appends an element whose value is optional: absent renders as `<name />`.
pub(crate) fn push_optional(out: &mut String, name: &str, value: Option<&str>) {
    push_element(out, name, value.unwrap_or(""));
}

pub(crate) fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_text_escapes_markup_and_control_chars() {
        assert_eq!(escape_text("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d\"e'f");
        assert_eq!(
            escape_attribute("a&b<c>d\"e'f"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f"
        );
        assert_eq!(escape_text("line\nnext\ttab"), "line\nnext\ttab");
        assert_eq!(escape_text("\u{1}\r\u{1F}"), "&#x1;&#xD;&#x1F;");
        assert_eq!(escape_text("ünï😊"), "ünï😊");
    }

    #[test]
    fn push_element_writes_empty_as_self_closing() {
        let mut out = String::new();
        push_element(&mut out, "A", "");
        push_element(&mut out, "B", "x&y");
        push_optional(&mut out, "C", None);
        assert_eq!(out, "<A /><B>x&amp;y</B><C />");
    }
}
