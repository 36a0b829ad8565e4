//! Queues of the Queue service: create, delete, metadata, ACLs, listing. Their messages live in
//! `messages.rs`. Names arrive validated (lowercase) and are compared as stored.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::codec::{decode_acl, decode_metadata, encode_acl, encode_metadata};
use crate::engine::Core;
use crate::{
    GcStats, QueueCreated, QueuePage, QueueProps, Result, SignedIdentifier, Store, StoreError,
};

/// Messages of detached queues deleted per writer job by the collector; also the most messages
/// Delete Queue and Clear Messages delete in the request's own job (a queue that short is gone
/// at once, for the cost of one collector job). A longer queue is detached instead (`detach`).
///
/// Every write waits for the job before it, so this bounds what the collector adds to other
/// writes. Measured on disk on the 2-core development machine, purging 200,000 messages while
/// another thread wrote: jobs of 10,000 took up to 160 ms and the writes waited 130 ms at the
/// median; jobs of 1,000 took up to 60 ms, the writes waited 20 ms, and the purge took twice as
/// long (24 µs a message instead of 11: each commit rewrites the same index pages).
pub(crate) const DETACH_BATCH: u32 = 1_000;

/// The row id of a queue, for message operations.
pub(crate) fn queue_id(conn: &Connection, account: &str, name: &str) -> Result<i64> {
    let mut st = conn.prepare_cached("SELECT id FROM queues WHERE account = ?1 AND name = ?2")?;
    st.query_row(params![account, name], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::QueueNotFound)
}

/// The row id and stored message count of a queue.
pub(crate) fn queue_id_and_count(
    conn: &Connection,
    account: &str,
    name: &str,
) -> Result<(i64, i64)> {
    let mut st = conn
        .prepare_cached("SELECT id, message_count FROM queues WHERE account = ?1 AND name = ?2")?;
    st.query_row(params![account, name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(StoreError::QueueNotFound)
}

/// Takes queue `id` out of the namespace in one row write: its name becomes NULL, which no
/// lookup by name and no listing ever matches, so every operation on the name answers
/// `QueueNotFound` (or finds the queue created since) and its messages, still under the old id,
/// are never served again. The collector deletes them in batches, then the row
/// (`Core::purge_detached_queues`); the row is kept until then because the messages' foreign
/// key needs it.
pub(crate) fn detach(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE queues SET name = NULL WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// True when a queue of `count` messages is emptied by the request itself rather than detached.
pub(crate) fn small(count: i64) -> bool {
    count <= i64::from(DETACH_BATCH)
}

/// Columns read by `props`, in its order.
const COLS: &str = "name, metadata, message_count";

fn props(r: &Row<'_>) -> Result<QueueProps> {
    let metadata: Vec<u8> = r.get(1)?;
    Ok(QueueProps {
        name: r.get(0)?,
        metadata: decode_metadata(&metadata)?,
        approximate_message_count: r.get::<_, i64>(2)?.max(0) as u64,
    })
}

/// Azure's test when Create Queue finds the queue: the same set of (name, value) pairs, names
/// compared case-insensitively.
fn same_metadata(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let set = |md: &[(String, String)]| -> BTreeSet<(String, String)> {
        md.iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect()
    };
    set(a) == set(b)
}

impl Store {
    /// Creates a queue. An existing queue with the same metadata is `Existed`; with other
    /// metadata, `QueueAlreadyExists`.
    pub fn create_queue(
        &self,
        account: &str,
        name: &str,
        metadata: &[(String, String)],
    ) -> Result<QueueCreated> {
        let (account, name, metadata) = (account.to_owned(), name.to_owned(), metadata.to_vec());
        self.core().writer.submit(Vec::new(), move |c| {
            let existing: Option<Vec<u8>> = c
                .prepare_cached("SELECT metadata FROM queues WHERE account = ?1 AND name = ?2")?
                .query_row(params![account, name], |r| r.get(0))
                .optional()?;
            if let Some(stored) = existing {
                return if same_metadata(&decode_metadata(&stored)?, &metadata) {
                    Ok(QueueCreated::Existed)
                } else {
                    Err(StoreError::QueueAlreadyExists)
                };
            }
            c.prepare_cached(
                "INSERT INTO queues (account, name, metadata, acl) VALUES (?1, ?2, ?3, x'')",
            )?
            .execute(params![account, name, encode_metadata(&metadata)])?;
            Ok(QueueCreated::Created)
        })
    }

    /// Deletes a queue with all its messages (falling back on the disk reserve when full). From
    /// the moment it returns, the queue is gone for every operation and from List Queues, and a
    /// queue of the same name can be created at once.
    ///
    /// Deleting a message costs 10 to 25 µs of the single writer's time (a row and three index
    /// entries): one DELETE of a queue of 1,000,000 held the writer for 15 s. So a queue of at
    /// most `DETACH_BATCH` messages is deleted in this job, and a longer one is detached
    /// (`detach`: one row write, whatever its length) and its messages deleted by the collector
    /// in jobs of `DETACH_BATCH`. Azure answers `QueueBeingDeleted` to
    /// a Create Queue of the name while it removes a deleted queue; here the new queue is simply
    /// a new row with a new id, which the old messages do not carry, so they can never show in
    /// it. That is simpler than a refusal that would need its own state and window, and never
    /// wrong: Azure allows the create to succeed once the deletion is done, and clients that
    /// retry on 409 work either way.
    pub fn delete_queue(&self, account: &str, name: &str) -> Result<()> {
        self.freeing_space(|| self.delete_queue_once(account, name))
    }

    fn delete_queue_once(&self, account: &str, name: &str) -> Result<()> {
        let (account, name) = (account.to_owned(), name.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let (id, count) = queue_id_and_count(c, &account, &name)?;
            if !small(count) {
                return detach(c, id);
            }
            // Explicit rather than relying on the foreign-key cascade being enabled.
            c.prepare_cached("DELETE FROM messages WHERE queue_id = ?1")?
                .execute([id])?;
            c.prepare_cached("DELETE FROM queues WHERE id = ?1")?
                .execute([id])?;
            Ok(())
        })
    }

    /// Deletes up to `limit` messages of queues that were deleted or cleared while long
    /// (`delete_queue`), and the rows of those left empty; returns how many messages. The
    /// collector calls it until they are all gone; it is public for tests and tools.
    pub fn purge_detached_queues(&self, limit: u32) -> Result<u64> {
        if limit == 0 {
            return Ok(0);
        }
        Ok(self.core().purge_detached_queues(limit)?.0)
    }

    /// Rows of the `queues` and `messages` tables, detached queues and their messages included:
    /// for tests that check the collector left nothing behind.
    #[doc(hidden)]
    pub fn queue_table_rows(&self) -> Result<(u64, u64)> {
        self.core().readers.read(|c| {
            let (queues, messages): (i64, i64) = c.query_row(
                "SELECT (SELECT COUNT(*) FROM queues), (SELECT COUNT(*) FROM messages)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((queues as u64, messages as u64))
        })
    }

    /// The queue's metadata and approximate message count (one row read).
    pub fn get_queue(&self, account: &str, name: &str) -> Result<QueueProps> {
        self.core().readers.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLS} FROM queues WHERE account = ?1 AND name = ?2"
            ))?;
            let mut rows = st.query(params![account, name])?;
            match rows.next()? {
                Some(r) => props(r),
                None => Err(StoreError::QueueNotFound),
            }
        })
    }

    /// Replaces the queue's metadata.
    pub fn set_queue_metadata(
        &self,
        account: &str,
        name: &str,
        metadata: &[(String, String)],
    ) -> Result<()> {
        let (account, name, metadata) = (
            account.to_owned(),
            name.to_owned(),
            encode_metadata(metadata),
        );
        self.core().writer.submit(Vec::new(), move |c| {
            let n = c
                .prepare_cached("UPDATE queues SET metadata = ?3 WHERE account = ?1 AND name = ?2")?
                .execute(params![account, name, metadata])?;
            if n == 0 {
                return Err(StoreError::QueueNotFound);
            }
            Ok(())
        })
    }

    /// The queue's stored access policies.
    pub fn get_queue_acl(&self, account: &str, name: &str) -> Result<Vec<SignedIdentifier>> {
        self.core().readers.read(|c| {
            let mut st =
                c.prepare_cached("SELECT acl FROM queues WHERE account = ?1 AND name = ?2")?;
            let acl: Vec<u8> = st
                .query_row(params![account, name], |r| r.get(0))
                .optional()?
                .ok_or(StoreError::QueueNotFound)?;
            decode_acl(&acl)
        })
    }

    /// Replaces the queue's stored access policies.
    pub fn set_queue_acl(&self, account: &str, name: &str, ids: &[SignedIdentifier]) -> Result<()> {
        let (account, name, acl) = (account.to_owned(), name.to_owned(), encode_acl(ids));
        self.core().writer.submit(Vec::new(), move |c| {
            let n = c
                .prepare_cached("UPDATE queues SET acl = ?3 WHERE account = ?1 AND name = ?2")?
                .execute(params![account, name, acl])?;
            if n == 0 {
                return Err(StoreError::QueueNotFound);
            }
            Ok(())
        })
    }

    /// Lists queues in name order from `marker` (inclusive: the previous page's `next_marker`),
    /// those starting with `prefix`, at most `max` (at least 1) per page: a range scan of the
    /// `(account, name)` index.
    pub fn list_queues(
        &self,
        account: &str,
        prefix: Option<&str>,
        marker: Option<&str>,
        max: u32,
    ) -> Result<QueuePage> {
        let prefix = prefix.unwrap_or("");
        let start = match marker {
            Some(m) if m > prefix => m,
            _ => prefix,
        };
        let max = max.max(1) as usize;
        self.core().readers.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLS} FROM queues WHERE account = ?1 AND name >= ?2 ORDER BY name LIMIT ?3"
            ))?;
            let mut rows = st.query(params![account, start, (max + 1) as i64])?;
            let mut page = QueuePage::default();
            while let Some(r) = rows.next()? {
                let queue = props(r)?;
                if !queue.name.starts_with(prefix) {
                    break;
                }
                if page.items.len() == max {
                    page.next_marker = Some(queue.name);
                    break;
                }
                page.items.push(queue);
            }
            Ok(page)
        })
    }
}

/// The detached queue after id `?1`: the partial index `queues_detached`.
const NEXT_DETACHED: &str =
    "SELECT id FROM queues WHERE name IS NULL AND id > ?1 ORDER BY id LIMIT 1";

/// Up to `?2` messages of queue `?1`: a range of an index led by `queue_id`, so the cost is the
/// rows deleted, never the queue's length or another queue's messages. (`DELETE ... LIMIT`
/// needs a compile option the bundled SQLite lacks.)
const DELETE_DETACHED: &str = "DELETE FROM messages WHERE seq IN
     (SELECT seq FROM messages WHERE queue_id = ?1 LIMIT ?2)";

impl Core {
    /// One writer job: deletes up to `limit` messages of detached queues, oldest detached
    /// first, and the row of each queue it empties. Each queue's messages are a range of
    /// `messages_by_visibility` read from its start. Returns the messages deleted and whether
    /// detached queues may remain (always when the job stopped at `limit`). `limit` > 0.
    pub(crate) fn purge_detached_queues(&self, limit: u32) -> Result<(u64, bool)> {
        self.writer.submit(Vec::new(), move |c| {
            let mut next = c.prepare_cached(NEXT_DETACHED)?;
            let mut delete = c.prepare_cached(DELETE_DETACHED)?;
            let mut forget = c.prepare_cached("DELETE FROM queues WHERE id = ?1")?;
            let (mut deleted, mut after) = (0u64, 0i64);
            loop {
                let left = u64::from(limit) - deleted;
                let Some(id) = next.query_row([after], |r| r.get::<_, i64>(0)).optional()? else {
                    return Ok((deleted, false));
                };
                let n = delete.execute(params![id, left as i64])? as u64;
                deleted += n;
                if n == left {
                    // The limit is reached; the queue may hold more.
                    return Ok((deleted, true));
                }
                forget.execute([id])?;
                after = id;
            }
        })
    }

    /// The collector's part: empties detached queues in bounded jobs until none is left. A
    /// store with none costs one index probe on a reader and commits nothing. Progress is the
    /// rows themselves, so a restart resumes where the last committed job stopped.
    pub(crate) fn purge_detached(&self, stats: &mut GcStats) -> Result<()> {
        let any: bool = self.readers.read(|c| {
            let mut st =
                c.prepare_cached("SELECT EXISTS (SELECT 1 FROM queues WHERE name IS NULL)")?;
            Ok(st.query_row([], |r| r.get(0))?)
        })?;
        if !any {
            return Ok(());
        }
        loop {
            let (n, more) = self.purge_detached_queues(DETACH_BATCH)?;
            stats.messages_discarded += n;
            if !more {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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

    #[test]
    fn the_collector_finds_detached_queues_and_their_messages_by_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        for sql in [
            NEXT_DETACHED,
            "SELECT EXISTS (SELECT 1 FROM queues WHERE name IS NULL)",
        ] {
            // A scan of the partial index reads detached rows only.
            let p = plan(&conn, sql);
            assert!(p.contains("INDEX queues_detached"), "{p}");
            assert!(!p.split("; ").any(|step| step == "SCAN queues"), "{p}");
        }
        let p = plan(&conn, DELETE_DETACHED);
        assert!(
            p.contains("SEARCH messages USING COVERING INDEX messages_by"),
            "{p}"
        );
        assert!(!p.contains("SCAN messages"), "{p}");
    }

    #[test]
    fn metadata_compares_as_a_set_with_names_folded() {
        assert!(same_metadata(
            &md(&[("A", "1"), ("b", "2")]),
            &md(&[("B", "2"), ("a", "1")])
        ));
        assert!(same_metadata(&[], &[]));
        assert!(!same_metadata(&md(&[("a", "1")]), &md(&[("a", "2")])));
        assert!(!same_metadata(
            &md(&[("a", "1")]),
            &md(&[("A", "1"), ("b", "")])
        ));
        // Values keep their case.
        assert!(!same_metadata(&md(&[("a", "x")]), &md(&[("a", "X")])));
    }
}
