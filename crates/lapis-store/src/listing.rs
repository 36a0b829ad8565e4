//! List Blobs: index range scans from the marker, collapsing delimited names into prefixes and
//! seeking past each collapsed prefix instead of reading its members.

use rusqlite::{params, Connection};

use crate::blobs::{blob_from_row, BlobRow, BLOB_COLS};
use crate::containers::load_container;
use crate::snapshots::list_snapshots;
use crate::tags::load_tags;
use crate::{BlobProps, ListBlobsItem, ListBlobsPage, ListBlobsQuery, Result, Store};

/// Rows fetched per range query.
const SCAN_BATCH: i64 = 512;

/// Sorts after every name that starts with the string it is appended to (except names
/// continuing with this very character, which the prefix check then skips).
const AFTER_ALL: char = '\u{10FFFF}';

/// One name the scan reached: its base row, if it has one, and its previous versions (read
/// only for `include_versions`, oldest first).
struct Listed {
    name: String,
    base: Option<BlobRow>,
    versions: Vec<BlobRow>,
}

/// Up to `SCAN_BATCH` names from `start` on, in order. Without versions, a name is its base
/// row; with them, each name is read with all its rows, so that a deleted blob whose previous
/// versions remain is listed too.
fn scan_batch(
    conn: &Connection,
    container_id: i64,
    q: &ListBlobsQuery,
    start: &str,
    inclusive: bool,
) -> Result<Vec<Listed>> {
    let cmp = if inclusive { ">=" } else { ">" };
    let mut out = Vec::new();
    if !q.include_versions {
        let mut st = conn.prepare_cached(&format!(
            "SELECT {BLOB_COLS} FROM blobs WHERE container_id = ?1 AND name {cmp} ?2 AND snapshot = '' ORDER BY name LIMIT ?3"
        ))?;
        let mut rows = st.query(params![container_id, start, SCAN_BATCH])?;
        while let Some(r) = rows.next()? {
            let row = blob_from_row(r, q.include_metadata)?;
            out.push(Listed {
                name: row.props.name.clone(),
                base: Some(row),
                versions: Vec::new(),
            });
        }
        return Ok(out);
    }
    // The index on (container_id, name, snapshot) gives the names in order and then each
    // name's rows: base (''), snapshots (times), previous versions ('v' + id) oldest first.
    let names: Vec<String> = {
        let mut st = conn.prepare_cached(&format!(
            "SELECT DISTINCT name FROM blobs WHERE container_id = ?1 AND name {cmp} ?2 ORDER BY name LIMIT ?3"
        ))?;
        let rows = st.query_map(params![container_id, start, SCAN_BATCH], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS} FROM blobs WHERE container_id = ?1 AND name = ?2 ORDER BY snapshot"
    ))?;
    for name in names {
        let mut listed = Listed {
            name,
            base: None,
            versions: Vec::new(),
        };
        let mut rows = st.query(params![container_id, listed.name])?;
        while let Some(r) = rows.next()? {
            let row = blob_from_row(r, q.include_metadata)?;
            if row.props.snapshot.is_some() {
                continue;
            }
            if row.props.version_id.is_some() && !row.props.is_current_version {
                listed.versions.push(row);
            } else {
                listed.base = Some(row);
            }
        }
        out.push(listed);
    }
    Ok(out)
}

/// The row's properties, with its index tags when the listing asks for them.
fn with_tags(conn: &Connection, q: &ListBlobsQuery, row: BlobRow) -> Result<BlobProps> {
    let mut props = row.props;
    if q.include_tags && props.tag_count > 0 {
        props.tags = Some(load_tags(conn, row.id)?);
    }
    Ok(props)
}

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
    'scan: loop {
        let batch = scan_batch(conn, container_id, q, &start, inclusive)?;
        let seen = batch.len() as i64;
        for listed in batch {
            let Listed {
                name,
                base,
                versions,
            } = listed;
            if !name.starts_with(prefix) {
                break 'scan;
            }
            (start, inclusive) = (name.clone(), false);
            let committed = base.as_ref().is_some_and(|b| b.committed);
            let base = base.filter(|b| b.committed || q.include_uncommitted);
            if base.is_none() && versions.is_empty() {
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
            let snapshots = if q.include_snapshots && committed {
                list_snapshots(conn, container_id, &name, q.include_metadata)?
            } else {
                Vec::new()
            };
            // A blob with its snapshots and versions goes on one page (unless they alone
            // overflow it), so that the marker, a name, never falls between them.
            let count = snapshots.len() + versions.len() + usize::from(base.is_some());
            let full = page.items.len() + count > max;
            if page.items.len() == max || (full && !page.items.is_empty()) {
                page.next_marker = Some(name);
                break 'scan;
            }
            page.items
                .extend(snapshots.into_iter().map(ListBlobsItem::Blob));
            for row in versions {
                page.items
                    .push(ListBlobsItem::Blob(with_tags(conn, q, row)?));
            }
            match base {
                Some(row) if row.committed => {
                    page.items
                        .push(ListBlobsItem::Blob(with_tags(conn, q, row)?));
                }
                Some(_) => page.items.push(ListBlobsItem::UncommittedBlob { name }),
                None => {}
            }
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
