//! Get Page Ranges: the `PageList` body.

use super::XML_DECLARATION;

/// One listed run of pages, `start` and `end` inclusive as Azure writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageListEntry {
    pub start: u64,
    pub end: u64,
    /// A `ClearRange` of a diff rather than a `PageRange`.
    pub clear: bool,
}

/// Renders the ranges in offset order. `next_marker` is `Some` when the request asked for
/// paging (`marker` or `maxresults`): then `NextMarker` is written, empty at the end.
pub fn render_page_list(ranges: &[PageListEntry], next_marker: Option<Option<&str>>) -> String {
    let mut out = String::with_capacity(64 + ranges.len() * 64);
    out.push_str(XML_DECLARATION);
    if ranges.is_empty() && next_marker.is_none() {
        out.push_str("<PageList />");
        return out;
    }
    out.push_str("<PageList>");
    for r in ranges {
        let tag = if r.clear { "ClearRange" } else { "PageRange" };
        out.push_str(&format!(
            "<{tag}><Start>{}</Start><End>{}</End></{tag}>",
            r.start, r.end
        ));
    }
    match next_marker {
        Some(Some(marker)) => {
            out.push_str("<NextMarker>");
            out.push_str(&super::escape_text(marker));
            out.push_str("</NextMarker>");
        }
        Some(None) => out.push_str("<NextMarker />"),
        None => {}
    }
    out.push_str("</PageList>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_list_is_one_element() {
        assert_eq!(
            render_page_list(&[], None),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList />"
        );
    }

    #[test]
    fn ranges_in_order_with_a_marker() {
        let ranges = [
            PageListEntry {
                start: 0,
                end: 511,
                clear: false,
            },
            PageListEntry {
                start: 1024,
                end: 2047,
                clear: true,
            },
        ];
        assert_eq!(
            render_page_list(&ranges, Some(Some("2048"))),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>\
             <PageRange><Start>0</Start><End>511</End></PageRange>\
             <ClearRange><Start>1024</Start><End>2047</End></ClearRange>\
             <NextMarker>2048</NextMarker></PageList>"
        );
        assert!(render_page_list(&ranges[..1], Some(None)).ends_with("<NextMarker /></PageList>"));
        // Recorded (TestBlobGetPageRangesEmptyRange): a plain listing has no NextMarker.
        assert!(render_page_list(&ranges[..1], None)
            .ends_with("<PageRange><Start>0</Start><End>511</End></PageRange></PageList>"));
    }
}
