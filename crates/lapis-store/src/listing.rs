//! List Blobs: index range scans from the marker, collapsing delimited names into prefixes and
//! seeking past each collapsed prefix instead of reading its members.

use rusqlite::{params, Connection};

use time::OffsetDateTime;

use crate::blobs::{blob_from_row, BlobRow, BLOB_COLS, BLOB_COL_COUNT};
use crate::codec::time_to_i64;
use crate::containers::load_container;
use crate::deleted_blobs::deletion_at;
use crate::snapshots::list_snapshots;
use crate::tags::load_tags;
use crate::{Deletion, ListBlobsItem, ListBlobsPage, ListBlobsQuery, Result, Store};

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
    // With include=deleted the scan also meets soft-deleted base blobs (`deleted_base`, at a
    // snapshot key after the name's '' row): the same index range, a few more rows.
    let now = time_to_i64(OffsetDateTime::now_utc());
    // A plain listing reads no deletion columns (a listing reads thousands of rows).
    let (cols, rows_of) = if q.include_deleted {
        (
            ", deleted_at, purge_at",
            "(snapshot = '' OR (deleted_base = 1 AND purge_at > ?4))",
        )
    } else {
        ("", "snapshot = '' AND ?4 = ?4")
    };
    let mut from_incl = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS}{cols} FROM blobs WHERE container_id = ?1 AND name >= ?2 AND {rows_of} ORDER BY name, snapshot LIMIT ?3"
    ))?;
    let mut from_excl = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS}{cols} FROM blobs WHERE container_id = ?1 AND name > ?2 AND {rows_of} ORDER BY name, snapshot LIMIT ?3"
    ))?;
    let mut last_name: Option<String> = None;
    'scan: loop {
        let st = if inclusive {
            &mut from_incl
        } else {
            &mut from_excl
        };
        let mut rows = st.query(params![container_id, start, SCAN_BATCH, now])?;
        let mut seen = 0;
        while let Some(r) = rows.next()? {
            seen += 1;
            let mut row = blob_from_row(r, q.include_metadata)?;
            let mut deletion = match q.include_deleted {
                true => deletion_at(r, BLOB_COL_COUNT)?,
                false => None,
            };
            let name = row.props.name.clone();
            if !name.starts_with(prefix) {
                break 'scan;
            }
            if last_name.as_deref() == Some(name.as_str()) {
                continue; // the name's other rows: listed with its snapshots
            }
            last_name = Some(name.clone());
            (start, inclusive) = (name.clone(), false);
            if deletion.is_some() {
                // No live blob of the name ('' sorts first): its latest soft-deleted one is
                // listed as the blob.
                (row, deletion) = latest_deleted_base(conn, container_id, &name, now, q)?;
            }
            // The soft-deleted blob listed as the blob is not also one of its snapshots.
            let listed_key = row.props.snapshot.take();
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
                let deleted_after = q.include_deleted.then_some(now);
                let mut all =
                    list_snapshots(conn, container_id, &name, q.include_metadata, deleted_after)?;
                if listed_key.is_some() {
                    all.retain(|(p, _)| p.snapshot != listed_key);
                }
                all
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
                .extend(snapshots.into_iter().map(|(p, d)| match d {
                    Some(d) => ListBlobsItem::Deleted(p, d),
                    None => ListBlobsItem::Blob(p),
                }));
            page.items.push(if row.committed {
                let mut props = row.props;
                if q.include_tags && props.tag_count > 0 {
                    props.tags = Some(load_tags(conn, row.id)?);
                }
                match deletion {
                    Some(d) => ListBlobsItem::Deleted(props, d),
                    None => ListBlobsItem::Blob(props),
                }
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

/// The latest soft-deleted base blob of `name` within retention, with its deletion.
fn latest_deleted_base(
    conn: &Connection,
    container_id: i64,
    name: &str,
    now: i64,
    q: &ListBlobsQuery,
) -> Result<(BlobRow, Option<Deletion>)> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS}, deleted_at, purge_at FROM blobs WHERE container_id = ?1 AND name = ?2
         AND deleted_base = 1 AND purge_at > ?3 ORDER BY deleted_at DESC, snapshot DESC LIMIT 1"
    ))?;
    let mut rows = st.query(params![container_id, name, now])?;
    let r = rows
        .next()?
        .ok_or_else(|| crate::StoreError::Internal(format!("deleted blob {name} vanished")))?;
    Ok((
        blob_from_row(r, q.include_metadata)?,
        deletion_at(r, BLOB_COL_COUNT)?,
    ))
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

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let nulls = std::iter::repeat_n(rusqlite::types::Null, st.parameter_count());
        let rows = st
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("; ")
    }

    /// A listing with include=deleted walks the same index range as a plain one, in index
    /// order (no sort of the range), so a page costs what a plain page costs.
    #[test]
    fn listing_with_deleted_walks_the_name_index_without_sorting() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        for rows_of in [
            "snapshot = '' AND ?4 = ?4",
            "(snapshot = '' OR (deleted_base = 1 AND purge_at > ?4))",
        ] {
            let p = plan(
                &conn,
                &format!(
                    "SELECT * FROM blobs WHERE container_id = ?1 AND name > ?2 AND {rows_of} \
                     ORDER BY name, snapshot LIMIT ?3"
                ),
            );
            assert!(
                p.contains("USING INDEX sqlite_autoindex_blobs"),
                "{rows_of}: {p}"
            );
            assert!(p.contains("container_id=? AND name>?"), "{rows_of}: {p}");
            assert!(!p.contains("TEMP B-TREE"), "{rows_of}: {p}");
        }
    }
}
