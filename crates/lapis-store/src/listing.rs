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
use crate::{BlobProps, Deletion, ListBlobsItem, ListBlobsPage, ListBlobsQuery, Result, Store};

/// Rows fetched per range query, at most. After seeking past a collapsed prefix a scan starts
/// again with `AFTER_SEEK_BATCH` rows and doubles while it goes on: a delimiter listing uses one
/// row of each range it seeks to, and reading 512 there made a 100-prefix page 100 times slower.
const SCAN_BATCH: i64 = 512;
const AFTER_SEEK_BATCH: i64 = 8;

/// Sorts after every name that starts with the string it is appended to (except names
/// continuing with this very character, which the prefix check then skips).
const AFTER_ALL: char = '\u{10FFFF}';

/// One name the scan reached: the row listed as the blob (its live base row, or with
/// include=deleted its latest soft-deleted one, with `deletion` set), and its previous
/// versions (read only for `include_versions`, oldest first; soft-deleted ones only with
/// include=deleted).
struct Listed {
    name: String,
    base: Option<BlobRow>,
    deletion: Option<Deletion>,
    versions: Vec<(BlobRow, Option<Deletion>)>,
}

/// Names from `start` on, in order, at most `limit` index entries' worth, and how many entries
/// that read (a batch that read fewer than `limit` is the last). Without versions a name is its first row: the live
/// base ('' sorts first) or, with include=deleted, a soft-deleted base moved to a snapshot key
/// (then the name's latest is listed). With versions each name is read with all its rows, so
/// that a deleted blob whose previous versions remain is listed too.
fn scan_batch(
    conn: &Connection,
    container_id: i64,
    q: &ListBlobsQuery,
    start: &str,
    inclusive: bool,
    now: i64,
    limit: i64,
) -> Result<(Vec<Listed>, i64)> {
    let cmp = if inclusive { ">=" } else { ">" };
    let mut out: Vec<Listed> = Vec::new();
    if !q.include_versions {
        // A plain listing reads no deletion columns (a listing reads thousands of rows).
        let (cols, rows_of) = if q.include_deleted {
            (
                ", deleted_at, purge_at",
                "(snapshot = '' OR (deleted_base = 1 AND purge_at > ?4))",
            )
        } else {
            ("", "snapshot = '' AND ?4 = ?4")
        };
        let mut st = conn.prepare_cached(&format!(
            "SELECT {BLOB_COLS}{cols} FROM blobs WHERE container_id = ?1 AND name {cmp} ?2 AND {rows_of} ORDER BY name, snapshot LIMIT ?3"
        ))?;
        let mut rows = st.query(params![container_id, start, limit, now])?;
        let mut seen = 0;
        while let Some(r) = rows.next()? {
            seen += 1;
            let row = blob_from_row(r, q.include_metadata)?;
            if out.last().is_some_and(|l| l.name == row.props.name) {
                continue; // the name's other soft-deleted bases: listed as its snapshots
            }
            let deleted = q.include_deleted && deletion_at(r, BLOB_COL_COUNT)?.is_some();
            let name = row.props.name.clone();
            let (base, deletion) = if deleted {
                match latest_deleted_base(conn, container_id, &name, now, q)? {
                    Some((row, d)) => (row, d),
                    None => continue,
                }
            } else {
                (row, None)
            };
            out.push(Listed {
                name,
                base: Some(base),
                deletion,
                versions: Vec::new(),
            });
        }
        return Ok((out, seen));
    }
    // The index on (container_id, name, snapshot) gives the names in order and then each
    // name's rows: base (''), snapshots (times), previous versions ('v' + id) oldest first.
    let names: Vec<String> = {
        let mut st = conn.prepare_cached(&format!(
            "SELECT DISTINCT name FROM blobs WHERE container_id = ?1 AND name {cmp} ?2 ORDER BY name LIMIT ?3"
        ))?;
        let rows = st.query_map(params![container_id, start, limit], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let seen = names.len() as i64;
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS}, deleted_at, purge_at FROM blobs WHERE container_id = ?1 AND name = ?2 ORDER BY snapshot"
    ))?;
    for name in names {
        let mut listed = Listed {
            name,
            base: None,
            deletion: None,
            versions: Vec::new(),
        };
        let mut rows = st.query(params![container_id, listed.name])?;
        while let Some(r) = rows.next()? {
            let row = blob_from_row(r, q.include_metadata)?;
            if row.props.snapshot.is_some() {
                continue; // snapshots, soft-deleted bases among them: list_snapshots
            }
            let deletion = deletion_at(r, BLOB_COL_COUNT)?;
            if let Some(d) = &deletion {
                if !q.include_deleted || time_to_i64(d.purge_at) <= now {
                    continue;
                }
            }
            if row.props.version_id.is_some() && !row.props.is_current_version {
                listed.versions.push((row, deletion));
            } else {
                listed.base = Some(row);
            }
        }
        if listed.base.is_none() && listed.versions.is_empty() && q.include_deleted {
            if let Some((row, d)) = latest_deleted_base(conn, container_id, &listed.name, now, q)? {
                listed.base = Some(row);
                listed.deletion = d;
            }
        }
        out.push(listed);
    }
    Ok((out, seen))
}

/// The row's properties, with its index tags when the listing asks for them.
fn with_tags(conn: &Connection, q: &ListBlobsQuery, row: BlobRow) -> Result<BlobProps> {
    let mut props = row.props;
    if q.include_tags && props.tag_count > 0 {
        props.tags = Some(load_tags(conn, row.id)?);
    }
    Ok(props)
}

/// A listed blob, snapshot or version: soft-deleted when it has a deletion.
fn item(props: BlobProps, deletion: Option<Deletion>) -> ListBlobsItem {
    match deletion {
        Some(d) => ListBlobsItem::Deleted(props, d),
        None => ListBlobsItem::Blob(props),
    }
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
    let now = time_to_i64(OffsetDateTime::now_utc());
    let mut limit = SCAN_BATCH;
    'scan: loop {
        let (batch, seen) = scan_batch(conn, container_id, q, &start, inclusive, now, limit)?;
        for listed in batch {
            let Listed {
                name,
                base,
                deletion,
                versions,
            } = listed;
            if !name.starts_with(prefix) {
                break 'scan;
            }
            (start, inclusive) = (name.clone(), false);
            let committed = base.as_ref().is_some_and(|b| b.committed);
            let mut base = base.filter(|b| b.committed || q.include_uncommitted);
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
                    limit = AFTER_SEEK_BATCH;
                    continue 'scan; // seek past the prefix's members
                }
            }
            // The soft-deleted blob listed as the blob is not also one of its snapshots.
            let listed_key = base.as_mut().and_then(|b| b.props.snapshot.take());
            let snapshots = if q.include_snapshots && committed {
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
            // A blob with its snapshots and versions goes on one page (unless they alone
            // overflow it), so that the marker, a name, never falls between them.
            let count = snapshots.len() + versions.len() + usize::from(base.is_some());
            let full = page.items.len() + count > max;
            if page.items.len() == max || (full && !page.items.is_empty()) {
                page.next_marker = Some(name);
                break 'scan;
            }
            page.items
                .extend(snapshots.into_iter().map(|(p, d)| item(p, d)));
            for (row, d) in versions {
                page.items.push(item(with_tags(conn, q, row)?, d));
            }
            match base {
                Some(row) if row.committed => {
                    page.items.push(item(with_tags(conn, q, row)?, deletion))
                }
                Some(_) => page.items.push(ListBlobsItem::UncommittedBlob { name }),
                None => {}
            }
        }
        if seen < limit {
            break;
        }
        limit = (limit * 2).min(SCAN_BATCH);
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
) -> Result<Option<(BlobRow, Option<Deletion>)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOB_COLS}, deleted_at, purge_at FROM blobs WHERE container_id = ?1 AND name = ?2
         AND deleted_base = 1 AND purge_at > ?3 ORDER BY deleted_at DESC, snapshot DESC LIMIT 1"
    ))?;
    let mut rows = st.query(params![container_id, name, now])?;
    match rows.next()? {
        Some(r) => Ok(Some((
            blob_from_row(r, q.include_metadata)?,
            deletion_at(r, BLOB_COL_COUNT)?,
        ))),
        None => Ok(None),
    }
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
            let index = "USING INDEX sqlite_autoindex_blobs";
            let p = plan(
                &conn,
                &format!(
                    "SELECT * FROM blobs WHERE container_id = ?1 AND name > ?2 AND {rows_of} \
                     ORDER BY name, snapshot LIMIT ?3"
                ),
            );
            assert!(p.contains(index), "{rows_of}: {p}");
            assert!(p.contains("container_id=? AND name>?"), "{rows_of}: {p}");
            assert!(!p.contains("TEMP B-TREE"), "{rows_of}: {p}");
        }
    }
}
