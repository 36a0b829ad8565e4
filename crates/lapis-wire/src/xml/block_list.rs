//! Put Block List request body and Get Block List response body.

use super::tree::Document;
use super::{escape_text, XML_DECLARATION};
use crate::error::AzureError;

/// Where Put Block List should look a block id up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockListKind {
    Committed,
    Uncommitted,
    Latest,
}

/// Reads `<BlockList><Latest>id</Latest><Committed>..</Committed>..</BlockList>`, keeping order.
/// Unknown elements are ignored, as Azure's serializer does; the ids are returned verbatim
/// (the caller checks their Base64 and length).
pub fn parse_block_list(body: &[u8]) -> Result<Vec<(BlockListKind, String)>, AzureError> {
    let Some(doc) = Document::parse(body)? else {
        return Err(super::tree::invalid_document(
            0,
            0,
            "Root element is missing.",
        ));
    };
    if doc.root.name != "BlockList" {
        return Err(doc.invalid_at(0, "The root element must be BlockList."));
    }
    let mut blocks = Vec::with_capacity(doc.root.children.len());
    for child in &doc.root.children {
        let kind = match child.name.as_str() {
            "Latest" => BlockListKind::Latest,
            "Committed" => BlockListKind::Committed,
            "Uncommitted" => BlockListKind::Uncommitted,
            _ => continue,
        };
        blocks.push((kind, child.text.clone()));
    }
    Ok(blocks)
}

/// Get Block List body. A list passed as `None` is left out (the `blocklisttype` did not ask
/// for it); an empty list renders as `<CommittedBlocks />` like Azure.
pub fn render_block_list(
    committed: Option<&[(&str, u64)]>,
    uncommitted: Option<&[(&str, u64)]>,
) -> String {
    let mut out = String::with_capacity(128);
    out.push_str(XML_DECLARATION);
    out.push_str("<BlockList>");
    for (element, blocks) in [
        ("CommittedBlocks", committed),
        ("UncommittedBlocks", uncommitted),
    ] {
        let Some(blocks) = blocks else { continue };
        if blocks.is_empty() {
            out.push('<');
            out.push_str(element);
            out.push_str(" />");
            continue;
        }
        out.push('<');
        out.push_str(element);
        out.push('>');
        for (id, size) in blocks {
            out.push_str("<Block><Name>");
            out.push_str(&escape_text(id));
            out.push_str("</Name><Size>");
            out.push_str(&size.to_string());
            out.push_str("</Size></Block>");
        }
        out.push_str("</");
        out.push_str(element);
        out.push('>');
    }
    out.push_str("</BlockList>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn parses_recorded_request_in_order() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BlockList><Latest>AAAAAA==</Latest><Latest>AQAAAA==</Latest><Latest>AgAAAA==</Latest></BlockList>";
        let ids: Vec<(BlockListKind, String)> = parse_block_list(body).unwrap();
        assert_eq!(
            ids,
            [
                (BlockListKind::Latest, "AAAAAA==".to_owned()),
                (BlockListKind::Latest, "AQAAAA==".to_owned()),
                (BlockListKind::Latest, "AgAAAA==".to_owned()),
            ]
        );
    }

    #[test]
    fn parses_mixed_kinds_with_whitespace_and_bom() {
        let body = "\u{FEFF}<?xml version=\"1.0\"?>\r\n<BlockList>\n  <Committed>YQ==</Committed>\n  <Uncommitted>Yg==</Uncommitted>\n  <Latest>Yw==</Latest>\n  <Other>x</Other>\n</BlockList>\n";
        let kinds: Vec<BlockListKind> = parse_block_list(body.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            kinds,
            [
                BlockListKind::Committed,
                BlockListKind::Uncommitted,
                BlockListKind::Latest
            ]
        );
    }

    #[test]
    fn empty_list_is_empty() {
        assert!(parse_block_list(b"<BlockList></BlockList>")
            .unwrap()
            .is_empty());
        assert!(parse_block_list(b"<BlockList/>").unwrap().is_empty());
    }

    #[test]
    fn bad_bodies_are_invalid_xml() {
        for bad in [
            &b""[..],
            b"<BlockList><Latest>a</BlockList>",
            b"<NotABlockList/>",
            b"garbage",
        ] {
            assert_eq!(
                parse_block_list(bad).unwrap_err().code,
                ErrorCode::InvalidXmlDocument
            );
        }
    }

    #[test]
    fn renders_recorded_bodies() {
        // TestBlobPutBlockListModifyBlob.json, blocklisttype=all.
        assert_eq!(
            render_block_list(Some(&[("0001", 8), ("0011", 8)]), Some(&[])),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><CommittedBlocks><Block><Name>0001</Name><Size>8</Size></Block><Block><Name>0011</Name><Size>8</Size></Block></CommittedBlocks><UncommittedBlocks /></BlockList>"
        );
        // TestBlobSetTierOnCommit.json, blocklisttype=committed.
        assert_eq!(
            render_block_list(Some(&[("ICAgICAw", 15)]), None),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><CommittedBlocks><Block><Name>ICAgICAw</Name><Size>15</Size></Block></CommittedBlocks></BlockList>"
        );
        assert_eq!(
            render_block_list(None, Some(&[("YQ==", 3)])),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><UncommittedBlocks><Block><Name>YQ==</Name><Size>3</Size></Block></UncommittedBlocks></BlockList>"
        );
    }
}
