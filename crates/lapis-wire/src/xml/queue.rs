//! The Queue service's bodies: `<QueueMessage>` in Put and Update Message, the message lists
//! that Put, Get and Peek Messages answer, and List Queues.

use time::OffsetDateTime;

use super::listing::{push_echoed, push_end, push_enumeration_start, push_metadata};
use super::tree::{invalid_document, Document};
use super::{push_element, XML_DECLARATION};
use crate::error::AzureError;
use crate::time_format::rfc1123;

/// What Azure answers as the expiration time of a message that never expires (`messagettl=-1`).
pub const NEVER_EXPIRES: &str = "Fri, 31 Dec 9999 23:59:59 GMT";

/// Reads `<QueueMessage><MessageText>text</MessageText></QueueMessage>`; the text is kept exactly
/// (whitespace too). A body without `MessageText` is an invalid document, as in Azure.
pub fn parse_queue_message(body: &[u8]) -> Result<String, AzureError> {
    let Some(doc) = Document::parse(body)? else {
        return Err(invalid_document(0, 0, "Root element is missing."));
    };
    if doc.root.name != "QueueMessage" {
        return Err(doc.invalid_at(0, "The root element must be QueueMessage."));
    }
    match doc.root.child("MessageText") {
        Some(text) => Ok(text.text.clone()),
        None => Err(doc.invalid_at(
            doc.end_tag_name(&doc.root),
            "Element is missing: MessageText.",
        )),
    }
}

/// One message as the message lists show it.
pub struct MessageEntry<'a> {
    pub id: &'a str,
    pub inserted: OffsetDateTime,
    /// `None`: the message never expires.
    pub expires: Option<OffsetDateTime>,
    pub next_visible: OffsetDateTime,
    pub dequeue_count: u64,
    pub pop_receipt: &'a str,
    pub text: &'a str,
}

/// Which fields of a message a list carries: each operation answers its own subset.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MessageView {
    /// Put Message: id, times and pop receipt; no text, no dequeue count.
    Enqueued,
    /// Get Messages: everything.
    Dequeued,
    /// Peek Messages: no pop receipt and no next-visible time.
    Peeked,
}

/// `<QueueMessagesList>` with each message's fields in Azure's order.
pub fn render_messages(view: MessageView, messages: &[MessageEntry]) -> String {
    let mut out = String::with_capacity(128 + messages.len() * 384);
    out.push_str(XML_DECLARATION);
    if messages.is_empty() {
        out.push_str("<QueueMessagesList />");
        return out;
    }
    out.push_str("<QueueMessagesList>");
    for m in messages {
        out.push_str("<QueueMessage>");
        push_element(&mut out, "MessageId", m.id);
        push_element(&mut out, "InsertionTime", &rfc1123(m.inserted));
        let expires = m.expires.map_or_else(|| NEVER_EXPIRES.to_owned(), rfc1123);
        push_element(&mut out, "ExpirationTime", &expires);
        if view != MessageView::Peeked {
            push_element(&mut out, "PopReceipt", m.pop_receipt);
            push_element(&mut out, "TimeNextVisible", &rfc1123(m.next_visible));
        }
        if view != MessageView::Enqueued {
            push_element(&mut out, "DequeueCount", &m.dequeue_count.to_string());
            // An empty message is `<MessageText />`, which every SDK reads as "".
            push_element(&mut out, "MessageText", m.text);
        }
        out.push_str("</QueueMessage>");
    }
    out.push_str("</QueueMessagesList>");
    out
}

/// One queue in List Queues; `metadata` only with `include=metadata`.
pub struct QueueEntry<'a> {
    pub name: &'a str,
    pub metadata: Option<&'a [(String, String)]>,
}

pub fn render_list_queues(
    service_endpoint: &str,
    prefix: Option<&str>,
    marker: Option<&str>,
    max_results: Option<u32>,
    items: &[QueueEntry],
    next_marker: Option<&str>,
) -> String {
    let mut out = String::with_capacity(256 + items.len() * 128);
    push_enumeration_start(&mut out, service_endpoint, None);
    push_echoed(&mut out, prefix, marker, max_results);
    if items.is_empty() {
        out.push_str("<Queues />");
    } else {
        out.push_str("<Queues>");
        for item in items {
            out.push_str("<Queue>");
            push_element(&mut out, "Name", item.name);
            push_metadata(&mut out, item.metadata);
            out.push_str("</Queue>");
        }
        out.push_str("</Queues>");
    }
    push_end(&mut out, next_marker);
    out
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
