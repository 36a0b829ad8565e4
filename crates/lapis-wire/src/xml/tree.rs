//! A small element tree read with quick-xml, with the byte offsets Azure's error bodies refer to.
//!
//! Request bodies are small (the largest, a 50,000-entry block list, is a few MB), so reading
//! them whole is simpler than streaming and lets each parser look at children in any order.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{AzureError, ErrorCode};

/// Deeper documents are not something Azure accepts either; the limit also keeps `Drop` of the
/// tree from recursing without bound.
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
    /// Byte offset of the `<` of the end tag.
    pub end_tag: usize,
    /// Byte offset just past the end tag.
    pub after_end: usize,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// A parsed body together with its text, to turn offsets into Azure's line/position.
#[derive(Debug)]
pub(crate) struct Document {
    pub source: String,
    pub root: Element,
}

impl Document {
    /// Parses a whole body. An empty (or whitespace-only) body yields `Ok(None)`.
    pub fn parse(body: &[u8]) -> Result<Option<Document>, AzureError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let source = std::str::from_utf8(body)
            .map_err(|e| syntax_error(body, e.valid_up_to(), "Invalid UTF-8."))?;
        if source.trim().is_empty() {
            return Ok(None);
        }
        let root = read_tree(source)?;
        Ok(Some(Document {
            source: source.to_owned(),
            root,
        }))
    }

    /// `InvalidXmlDocument` pointing at `offset`, with Azure's `Reason`.
    pub fn invalid_at(&self, offset: usize, reason: &str) -> AzureError {
        let (line, column) = line_and_column(self.source.as_bytes(), offset);
        invalid_document(line, column, reason)
    }

    /// Offset of the name of the first markup after `offset` (where .NET's reader stands after
    /// finishing an element), skipping whitespace.
    pub fn next_node(&self, offset: usize) -> usize {
        let bytes = self.source.as_bytes();
        let mut i = offset.min(bytes.len());
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'<' {
            i += 1;
            if i < bytes.len() && bytes[i] == b'/' {
                i += 1;
            }
        }
        i
    }

    /// Offset of the name inside `element`'s end tag.
    pub fn end_tag_name(&self, element: &Element) -> usize {
        element.end_tag + 2
    }
}

pub(crate) fn invalid_document(line: usize, column: usize, reason: &str) -> AzureError {
    AzureError::new(ErrorCode::InvalidXmlDocument)
        .detail("LineNumber", line.to_string())
        .detail("LinePosition", column.to_string())
        .detail("Reason", reason)
}

/// `InvalidXmlNodeValue` naming the node and the value Azure could not accept.
pub(crate) fn invalid_node_value(node: &str, value: &str) -> AzureError {
    AzureError::new(ErrorCode::InvalidXmlNodeValue)
        .detail("XmlNodeName", node)
        .detail("XmlNodeValue", value)
}

fn syntax_error(source: &[u8], offset: usize, reason: &str) -> AzureError {
    let (line, column) = line_and_column(source, offset);
    invalid_document(line, column, reason)
}

/// 1-based line and character position of a byte offset, as .NET's XmlReader reports them.
fn line_and_column(source: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = 1 + String::from_utf8_lossy(&source[line_start..offset])
        .chars()
        .count();
    (line, column)
}

fn read_tree(source: &str) -> Result<Element, AzureError> {
    let mut reader = Reader::from_str(source);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.check_comments = true;

    let bytes = source.as_bytes();
    let fail = |offset: u64, reason: &str| syntax_error(bytes, offset as usize, reason);
    // Open elements; the finished root is kept apart so a second root can be refused.
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| fail(reader.error_position(), &e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(fail(before as u64, "There are multiple root elements."));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(fail(before as u64, "The document is nested too deeply."));
                }
                for attribute in start.attributes() {
                    attribute.map_err(|e| fail(before as u64, &e.to_string()))?;
                }
                let name = std::str::from_utf8(start.local_name().into_inner())
                    .map_err(|_| fail(before as u64, "Invalid element name."))?
                    .to_owned();
                stack.push(Element {
                    name,
                    text: String::new(),
                    children: Vec::new(),
                    end_tag: 0,
                    after_end: 0,
                });
            }
            Event::End(_) => {
                let Some(mut element) = stack.pop() else {
                    return Err(fail(before as u64, "Unexpected end tag."));
                };
                element.end_tag = before;
                element.after_end = reader.buffer_position() as usize;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| fail(before as u64, &e.to_string()))?;
                match stack.last_mut() {
                    Some(open) => open.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(fail(before as u64, "Data at the root level is invalid.")),
                }
            }
            Event::CData(data) => {
                let data = data.into_inner();
                let text = std::str::from_utf8(&data)
                    .map_err(|_| fail(before as u64, "Invalid UTF-8."))?;
                match stack.last_mut() {
                    Some(open) => open.text.push_str(text),
                    None => return Err(fail(before as u64, "Data at the root level is invalid.")),
                }
            }
            // Azure refuses DTDs; refusing them here also rules out entity tricks.
            Event::DocType(_) => {
                return Err(fail(
                    before as u64,
                    "DTD is prohibited in this XML document.",
                ))
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Empty(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(fail(
            source.len() as u64,
            "Unexpected end of file has occurred.",
        ));
    }
    root.ok_or_else(|| fail(source.len() as u64, "Root element is missing."))
}

/// Parses `true`/`false` the way .NET's XmlConvert does (also `1`/`0`).
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_with_text() {
        let doc = Document::parse(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<A><B>x &amp; y</B><C/><B><![CDATA[<z>]]></B></A>")
            .unwrap()
            .unwrap();
        assert_eq!(doc.root.name, "A");
        let texts: Vec<&str> = doc
            .root
            .children_named("B")
            .map(|b| b.text.as_str())
            .collect();
        assert_eq!(texts, ["x & y", "<z>"]);
        assert_eq!(doc.root.child("C").map(|c| c.text.as_str()), Some(""));
    }

    #[test]
    fn empty_body_is_none() {
        assert!(Document::parse(b"").unwrap().is_none());
        assert!(Document::parse(b"  \r\n").unwrap().is_none());
        assert!(Document::parse(b"\xEF\xBB\xBF").unwrap().is_none());
    }

    #[test]
    fn malformed_documents_are_invalid_xml() {
        for bad in [
            &b"<A>"[..],
            b"<A></B>",
            b"</A>",
            b"<A></A><B></B>",
            b"text",
            b"<A></A>trailing",
            b"<A>&bogus;</A>",
            b"<A x=></A>",
            b"<!DOCTYPE A [<!ENTITY e \"x\">]><A>&e;</A>",
            b"<A>\xFF</A>",
            b"<?xml version=\"1.0\"?>",
            b"<A><!-- a -- b --></A>",
        ] {
            let err = Document::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("accepted {:?}", String::from_utf8_lossy(bad)));
            assert_eq!(
                err.code,
                ErrorCode::InvalidXmlDocument,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "<a>".repeat(100_000);
        assert_eq!(
            Document::parse(deep.as_bytes()).unwrap_err().code,
            ErrorCode::InvalidXmlDocument
        );
    }

    #[test]
    fn line_and_column_are_one_based_characters() {
        assert_eq!(line_and_column(b"abc", 0), (1, 1));
        assert_eq!(line_and_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é\nüx".as_bytes(), 6), (2, 3));
    }
}
