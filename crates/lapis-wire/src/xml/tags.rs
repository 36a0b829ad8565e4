//! Blob index tags: the `<Tags>` body of Set and Get Blob Tags, and the Find Blobs by Tags
//! answer.

use super::tree::{invalid_document, Document};
use super::{escape_attribute, push_element, push_optional, XML_DECLARATION};
use crate::error::AzureError;

/// Reads `<Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tags>`, keeping
/// order. Limits are the caller's to check (`tags::validate_tags`).
pub fn parse_tags(body: &[u8]) -> Result<Vec<(String, String)>, AzureError> {
    let Some(doc) = Document::parse(body)? else {
        return Err(invalid_document(0, 0, "Root element is missing."));
    };
    if doc.root.name != "Tags" {
        return Err(doc.invalid_at(0, "The root element must be Tags."));
    }
    let mut tags = Vec::new();
    for set in doc.root.children_named("TagSet") {
        for tag in set.children_named("Tag") {
            let key = tag.child("Key").map(|k| k.text.clone()).unwrap_or_default();
            let value = tag
                .child("Value")
                .map(|v| v.text.clone())
                .unwrap_or_default();
            tags.push((key, value));
        }
    }
    Ok(tags)
}

/// `<Tags><TagSet>...</TagSet></Tags>`, as List Blobs (include=tags) also shows it.
pub(crate) fn tag_set(tags: &[(String, String)]) -> String {
    let mut out = String::new();
    push_tag_set(&mut out, tags);
    out
}

fn push_tag_set(out: &mut String, tags: &[(String, String)]) {
    out.push_str("<Tags><TagSet>");
    for (key, value) in tags {
        out.push_str("<Tag>");
        push_element(out, "Key", key);
        push_element(out, "Value", value);
        out.push_str("</Tag>");
    }
    out.push_str("</TagSet></Tags>");
}

/// Get Blob Tags.
pub fn render_tags(tags: &[(String, String)]) -> String {
    let mut out = String::from(XML_DECLARATION);
    push_tag_set(&mut out, tags);
    out
}

/// One blob found by tags.
#[derive(Debug, Clone)]
pub struct TaggedBlobEntry<'a> {
    pub name: &'a str,
    pub container: &'a str,
    /// The blob's tags the expression names.
    pub tags: &'a [(String, String)],
}

/// Find Blobs by Tags: the expression echoed in `<Where>`, the blobs, the continuation.
pub fn render_tagged_blobs(
    service_endpoint: &str,
    expression: &str,
    blobs: &[TaggedBlobEntry],
    next_marker: Option<&str>,
) -> String {
    let mut out = String::with_capacity(256 + blobs.len() * 200);
    out.push_str(XML_DECLARATION);
    out.push_str("<EnumerationResults ServiceEndpoint=\"");
    out.push_str(&escape_attribute(service_endpoint));
    if !service_endpoint.ends_with('/') {
        out.push('/');
    }
    out.push_str("\">");
    push_element(&mut out, "Where", expression);
    if blobs.is_empty() {
        out.push_str("<Blobs />");
    } else {
        out.push_str("<Blobs>");
        for b in blobs {
            out.push_str("<Blob>");
            push_element(&mut out, "Name", b.name);
            push_element(&mut out, "ContainerName", b.container);
            push_tag_set(&mut out, b.tags);
            out.push_str("</Blob>");
        }
        out.push_str("</Blobs>");
    }
    push_optional(&mut out, "NextMarker", next_marker);
    out.push_str("</EnumerationResults>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn t(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tags_round_trip() {
        let tags = t(&[("a", "1"), ("b c", "")]);
        let xml = render_tags(&tags);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Tags><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b c</Key><Value /></Tag></TagSet></Tags>"
        );
        assert_eq!(parse_tags(xml.as_bytes()).unwrap(), tags);
        assert_eq!(parse_tags(b"<Tags><TagSet /></Tags>").unwrap(), t(&[]));
        assert_eq!(
            parse_tags(b"<Other />").unwrap_err().code,
            ErrorCode::InvalidXmlDocument
        );
        assert_eq!(
            parse_tags(b"<Tags><TagSet>").unwrap_err().code,
            ErrorCode::InvalidXmlDocument
        );
    }

    #[test]
    fn tagged_blobs() {
        let tags = t(&[("k", "v")]);
        let blobs = [TaggedBlobEntry {
            name: "b<1",
            container: "c",
            tags: &tags,
        }];
        assert_eq!(
            render_tagged_blobs("http://h/acct", "\"k\" = 'v'", &blobs, Some("m")),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://h/acct/\"><Where>\"k\" = 'v'</Where><Blobs><Blob><Name>b&lt;1</Name><ContainerName>c</ContainerName><Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tags></Blob></Blobs><NextMarker>m</NextMarker></EnumerationResults>"
        );
        assert_eq!(
            render_tagged_blobs("http://h/", "x", &[], None),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://h/\"><Where>x</Where><Blobs /><NextMarker /></EnumerationResults>"
        );
    }
}
