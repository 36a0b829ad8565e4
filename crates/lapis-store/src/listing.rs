//! List Blobs: index range scans from the marker, collapsing delimited names into prefixes and
//! seeking past each collapsed prefix instead of reading its members.

use rusqlite::{params, Connection};

use crate::blobs::{blob_from_row, BLOB_COLS};
use crate::containers::load_container;
use crate::snapshots::list_snapshots;
use crate::tags::load_tags;
use crate::{ListBlobsItem, ListBlobsPage, ListBlobsQuery, Result, Store};

/// Rows fetched per range query.
const SCAN_BATCH: i64 = 512;

/// Sorts after every name that starts with the string it is appended to (except names
/// continuing with this very character, which the prefix check then skips).
const AFTER_ALL: char = '\u{10FFFF}';

pub(crate) fn list(
    conn: &Connection,
    container_id: i64,
    q: &ListBlobsQuery,
) -> Result<ListBlobsPage> {
    let prefix = q.prefix.as_deref().unwrap_or("");
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let max = q.max_results.max(1) as usize;
    let mut start = match q.marker.as_deref() {
        Some(m) if m > prefix => m.to_owned(),
        _ => prefix.to_owned(),
    };
    let mut inclusive = true;
    let mut page = ListBlobsPage::default();
    let mut last_prefix: Option<String> = None;
    let mut from_incl = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS} FROM blobs WHERE container_id = ?1 AND name >= ?2 AND snapshot = '' ORDER BY name LIMIT ?3"
    ))?;
    let mut from_excl = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS} FROM blobs WHERE container_id = ?1 AND name > ?2 AND snapshot = '' ORDER BY name LIMIT ?3"
    ))?;
    'scan: loop {
        let st = if inclusive {
            &mut from_incl
        } else {
            &mut from_excl
        };
        let mut rows = st.query(params![container_id, start, SCAN_BATCH])?;
        let mut seen = 0;
        while let Some(r) = rows.next()? {
            seen += 1;
            let row = blob_from_row(r, q.include_metadata)?;
            let name = row.props.name.clone();
            if !name.starts_with(prefix) {
                break 'scan;
            }
            (start, inclusive) = (name.clone(), false);
            if !row.committed && !q.include_uncommitted {
                continue;
            }
            if let Some(d) = delimiter {
                if let Some(pos) = name[prefix.len()..].find(d) {
                    let p = name[..prefix.len() + pos + d.len()].to_owned();
                    if last_prefix.as_deref() == Some(p.as_str()) {
                        continue;
                    }
                    if page.items.len() == max {
                        page.next_marker = Some(p);
                        break 'scan;
                    }
                    page.items.push(ListBlobsItem::Prefix(p.clone()));
                    let mut past = p.clone();
                    past.push(AFTER_ALL);
                    last_prefix = Some(p);
                    (start, inclusive) = (past, true);
                    continue 'scan; // seek past the prefix's members
                }
            }
            let snapshots = if q.include_snapshots && row.committed {
                list_snapshots(conn, container_id, &name, q.include_metadata)?
            } else {
                Vec::new()
            };
            // A blob and its snapshots go on one page (unless they alone overflow it), so
            // that the marker, a name, never falls between them.
            let full = page.items.len() + snapshots.len() + 1 > max;
            if page.items.len() == max || (full && !page.items.is_empty()) {
                page.next_marker = Some(name);
                break 'scan;
            }
            page.items
                .extend(snapshots.into_iter().map(ListBlobsItem::Blob));
            page.items.push(if row.committed {
                let mut props = row.props;
                if q.include_tags && props.tag_count > 0 {
                    props.tags = Some(load_tags(conn, row.id)?);
                }
                ListBlobsItem::Blob(props)
            } else {
                ListBlobsItem::UncommittedBlob { name }
            });
        }
        if seen < SCAN_BATCH {
            break;
        }
    }
    Ok(page)
}

impl Store {
    pub fn list_blobs(
        &self,
        account: &str,
        container: &str,
        query: &ListBlobsQuery,
    ) -> Result<ListBlobsPage> {
        self.core().readers.read(|c| {
            let cont = load_container(c, account, container)?;
            list(c, cont.id, query)
        })
    }
}
