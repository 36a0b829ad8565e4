//! Blob index tags: a blob's tags (`blob_tags`, its count in `blobs.tag_count`), the tag
//! conditions of `x-ms-if-tags`, and Find Blobs by Tags.
//!
//! Find Blobs by Tags walks the `(key, value, blob_id)` index of one key of the expression, in
//! the range its comparisons allow, and checks the rest of the expression on each blob found: a
//! query matching ten blobs among a million reads about ten index entries, never the million.

use rusqlite::{params, Connection, OptionalExtension};

use crate::blobs::{find_blob_at, BlobRow};
use crate::conditions::{check, check_lease, LeaseHolder};
use crate::containers::load_container;
use crate::{Access, Conditions, Refusal, Result, Store, StoreError};

/// A blob's tags, `(key, value)`, in key order when read back.
pub type BlobTags = Vec<(String, String)>;

/// A comparison of a tag's value, as strings (byte order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOp {
    Eq,
    /// `<>`: conditions only.
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl TagOp {
    fn holds(self, have: &str, want: &str) -> bool {
        match self {
            TagOp::Eq => have == want,
            TagOp::Ne => have != want,
            TagOp::Gt => have > want,
            TagOp::Ge => have >= want,
            TagOp::Lt => have < want,
            TagOp::Le => have <= want,
        }
    }
}

/// `"key" op 'value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTerm {
    pub key: String,
    pub op: TagOp,
    pub value: String,
}

impl TagTerm {
    /// A blob without the key satisfies no comparison of it.
    pub fn holds(&self, tags: &[(String, String)]) -> bool {
        tags.iter()
            .find(|(k, _)| *k == self.key)
            .is_some_and(|(_, v)| self.op.holds(v, &self.value))
    }
}

/// An `x-ms-if-tags` condition: comparisons joined by AND and OR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagCondition {
    Term(TagTerm),
    And(Box<TagCondition>, Box<TagCondition>),
    Or(Box<TagCondition>, Box<TagCondition>),
}

impl TagCondition {
    pub fn holds(&self, tags: &[(String, String)]) -> bool {
        match self {
            TagCondition::Term(t) => t.holds(tags),
            TagCondition::And(a, b) => a.holds(tags) && b.holds(tags),
            TagCondition::Or(a, b) => a.holds(tags) || b.holds(tags),
        }
    }
}

/// A Find Blobs by Tags expression: comparisons all joined by AND, and at most one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagQuery {
    /// `@container = 'name'`.
    pub container: Option<String>,
    pub terms: Vec<TagTerm>,
}

/// One blob Find Blobs by Tags answers with, and its tags the expression names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedBlob {
    pub container: String,
    pub name: String,
    pub tags: BlobTags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaggedBlobsPage {
    pub items: Vec<TaggedBlob>,
    pub next_marker: Option<String>,
    /// How many index entries the page read: the measure of "an index, not a scan".
    pub examined: usize,
}

/// Index entries examined per page before answering with what was found and a marker, so
/// that an expression whose other terms reject most candidates still answers promptly.
const MAX_CANDIDATES_PER_PAGE: usize = 5000;
const SCAN_BATCH: i64 = 256;

pub(crate) fn load_tags(conn: &Connection, blob_id: i64) -> Result<BlobTags> {
    let mut st =
        conn.prepare_cached("SELECT key, value FROM blob_tags WHERE blob_id = ?1 ORDER BY key")?;
    let rows = st.query_map([blob_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Replaces the blob's tags and its tag count.
pub(crate) fn write_tags(conn: &Connection, blob_id: i64, tags: &[(String, String)]) -> Result<()> {
    conn.prepare_cached("DELETE FROM blob_tags WHERE blob_id = ?1")?
        .execute([blob_id])?;
    let mut st =
        conn.prepare_cached("INSERT INTO blob_tags (blob_id, key, value) VALUES (?1, ?2, ?3)")?;
    for (k, v) in tags {
        st.execute(params![blob_id, k, v])?;
    }
    conn.prepare_cached("UPDATE blobs SET tag_count = ?2 WHERE id = ?1")?
        .execute(params![blob_id, tags.len() as i64])?;
    Ok(())
}

/// `x-ms-if-tags` against the blob's tags (`None`: no blob, which no condition holds for).
pub(crate) fn check_tags(conn: &Connection, blob_id: Option<i64>, cond: &Conditions) -> Result<()> {
    let Some(condition) = &cond.if_tags else {
        return Ok(());
    };
    let holds = match blob_id {
        Some(id) => condition.holds(&load_tags(conn, id)?),
        None => false,
    };
    match holds {
        true => Ok(()),
        false => Err(StoreError::Refused(Refusal::TagConditionNotMet)),
    }
}

/// The base blob or the named snapshot, committed.
fn find_version(
    conn: &Connection,
    container_id: i64,
    name: &str,
    snapshot: Option<&str>,
) -> Result<BlobRow> {
    find_blob_at(conn, container_id, name, snapshot.unwrap_or(""))?
        .filter(|b| b.committed)
        .ok_or(StoreError::BlobNotFound)
}

/// The tag operations' `x-ms-blob-if-*` conditions always answer 412, and a lease is checked
/// as for a read or a write.
fn check_tag_operation(
    conn: &Connection,
    row: &BlobRow,
    cond: &Conditions,
    access: Access,
) -> Result<()> {
    let p = &row.props;
    check(cond, Some((&p.etag, p.last_modified)), Access::Write)?;
    check_lease(
        &p.lease,
        cond.lease_id.as_deref(),
        access,
        LeaseHolder::Blob,
    )?;
    check_tags(conn, Some(row.id), cond)
}

/// The key whose index range a query walks: one compared for equality if any, else the first.
fn driving_key(q: &TagQuery) -> Option<&str> {
    q.terms
        .iter()
        .find(|t| t.op == TagOp::Eq)
        .or(q.terms.first())
        .map(|t| t.key.as_str())
}

/// The range of values `key`'s terms allow: (lowest, inclusive), (highest, inclusive).
type Bound = Option<(String, bool)>;

fn value_range(q: &TagQuery, key: &str) -> (Bound, Bound) {
    let (mut low, mut high): (Bound, Bound) = (None, None);
    let tighter_low = |cur: &Bound, v: &str, incl: bool| match cur {
        Some((c, ci)) => v > c.as_str() || (v == c && !incl && *ci),
        None => true,
    };
    let tighter_high = |cur: &Bound, v: &str, incl: bool| match cur {
        Some((c, ci)) => v < c.as_str() || (v == c && !incl && *ci),
        None => true,
    };
    for t in q.terms.iter().filter(|t| t.key == key) {
        let v = t.value.as_str();
        let (lo, hi) = match t.op {
            TagOp::Eq => (Some(true), Some(true)),
            TagOp::Gt => (Some(false), None),
            TagOp::Ge => (Some(true), None),
            TagOp::Lt => (None, Some(false)),
            TagOp::Le => (None, Some(true)),
            TagOp::Ne => (None, None),
        };
        if let Some(incl) = lo {
            if tighter_low(&low, v, incl) {
                low = Some((v.to_owned(), incl));
            }
        }
        if let Some(incl) = hi {
            if tighter_high(&high, v, incl) {
                high = Some((v.to_owned(), incl));
            }
        }
    }
    (low, high)
}

/// The marker: where the walk of the driving key's index stopped (value, blob id).
fn encode_marker(value: &str, blob_id: i64) -> String {
    format!("{blob_id}!{value}")
}

/// Whether `marker` has the form `find_blobs_by_tags` gives its markers (so that a forged one
/// is the caller's bad input, not the engine's failure).
pub fn is_tag_marker(marker: &str) -> bool {
    decode_marker(marker).is_ok()
}

fn decode_marker(marker: &str) -> Result<(String, i64)> {
    let (id, value) = marker
        .split_once('!')
        .ok_or_else(|| StoreError::Internal("bad marker".into()))?;
    let id = id
        .parse()
        .map_err(|_| StoreError::Internal("bad marker".into()))?;
    Ok((value.to_owned(), id))
}

/// The SQL of one batch of the walk: index entries of the key within the bounds, after the
/// marker, in index order. Built from fixed pieces; every value is a bound parameter.
fn walk_sql(low: &Bound, high: &Bound) -> String {
    let mut sql = String::from("SELECT blob_id, value FROM blob_tags WHERE key = ?1");
    if let Some((_, incl)) = low {
        sql.push_str(if *incl {
            " AND value >= ?2"
        } else {
            " AND value > ?2"
        });
    }
    if let Some((_, incl)) = high {
        sql.push_str(if *incl {
            " AND value <= ?3"
        } else {
            " AND value < ?3"
        });
    }
    sql.push_str(" AND (value, blob_id) > (?4, ?5) ORDER BY value, blob_id LIMIT ?6");
    sql
}

pub(crate) fn find(
    conn: &Connection,
    account: &str,
    q: &TagQuery,
    marker: Option<&str>,
    max: usize,
) -> Result<TaggedBlobsPage> {
    let mut page = TaggedBlobsPage::default();
    let Some(key) = driving_key(q) else {
        return Ok(page);
    };
    let (low, high) = value_range(q, key);
    let (mut after_value, mut after_id) = match marker {
        Some(m) => decode_marker(m)?,
        None => (String::new(), -1),
    };
    let mut walk = conn.prepare(&walk_sql(&low, &high))?;
    let mut blob = conn.prepare_cached(
        "SELECT b.name, c.name FROM blobs b JOIN containers c ON c.id = b.container_id
         WHERE b.id = ?1 AND b.committed = 1 AND b.snapshot = '' AND c.account = ?2
           AND c.deleted_version = ''",
    )?;
    let named: Vec<&str> = q.terms.iter().map(|t| t.key.as_str()).collect();
    let mut examined = 0;
    loop {
        let batch: Vec<(i64, String)> = walk
            .query_map(
                params![
                    key,
                    low.as_ref().map(|(v, _)| v.as_str()),
                    high.as_ref().map(|(v, _)| v.as_str()),
                    after_value,
                    after_id,
                    SCAN_BATCH
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let full_batch = batch.len() as i64 == SCAN_BATCH;
        for (id, value) in batch {
            if page.items.len() == max || examined == MAX_CANDIDATES_PER_PAGE {
                page.next_marker = Some(encode_marker(&after_value, after_id));
                return Ok(page);
            }
            examined += 1;
            page.examined = examined;
            (after_value, after_id) = (value, id);
            let Some((name, container)) = blob
                .query_row(params![id, account], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?
            else {
                continue;
            };
            if q.container.as_deref().is_some_and(|c| c != container) {
                continue;
            }
            let tags = load_tags(conn, id)?;
            if !q.terms.iter().all(|t| t.holds(&tags)) {
                continue;
            }
            let tags = tags
                .into_iter()
                .filter(|(k, _)| named.contains(&k.as_str()))
                .collect();
            page.items.push(TaggedBlob {
                container,
                name,
                tags,
            });
        }
        if !full_batch {
            return Ok(page);
        }
    }
}

impl Store {
    /// Replaces the tags of a blob (or of one of its snapshots). Tags are not content: the
    /// blob's ETag and Last-Modified stay.
    #[allow(clippy::too_many_arguments)]
    pub fn set_blob_tags(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        tags: &[(String, String)],
        cond: &Conditions,
    ) -> Result<()> {
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let (snapshot, tags, cond) = (snapshot.map(str::to_owned), tags.to_vec(), cond.clone());
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            let row = find_version(c, cont.id, &blob, snapshot.as_deref())?;
            check_tag_operation(c, &row, &cond, Access::Write)?;
            write_tags(c, row.id, &tags)
        })
    }

    /// The tags of a blob (or of one of its snapshots), in key order.
    pub fn get_blob_tags(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        cond: &Conditions,
    ) -> Result<BlobTags> {
        self.core().readers.read(|c| {
            let cont = load_container(c, account, container)?;
            let row = find_version(c, cont.id, blob, snapshot)?;
            check_tag_operation(c, &row, cond, Access::Read)?;
            load_tags(c, row.id)
        })
    }

    /// SQLite's `EXPLAIN QUERY PLAN` of the index walk `find_blobs_by_tags` makes for `query`.
    pub fn explain_find_blobs_by_tags(&self, query: &TagQuery) -> Result<String> {
        let Some(key) = driving_key(query) else {
            return Ok("no tag comparison".into());
        };
        let (low, high) = value_range(query, key);
        self.core().readers.read(|c| {
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {}", walk_sql(&low, &high)))?;
            let lines = st.query_map(
                params![
                    key,
                    low.as_ref().map(|(v, _)| v.as_str()),
                    high.as_ref().map(|(v, _)| v.as_str()),
                    "",
                    -1,
                    SCAN_BATCH
                ],
                |r| r.get::<_, String>(3),
            )?;
            Ok(lines.collect::<rusqlite::Result<Vec<_>>>()?.join("\n"))
        })
    }

    /// Find Blobs by Tags across the account's containers (or the one the query names), from
    /// the `marker` of the previous page, at most `max` blobs.
    pub fn find_blobs_by_tags(
        &self,
        account: &str,
        query: &TagQuery,
        marker: Option<&str>,
        max: u32,
    ) -> Result<TaggedBlobsPage> {
        self.core()
            .readers
            .read(|c| find(c, account, query, marker, max.max(1) as usize))
    }
}
