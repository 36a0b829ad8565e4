//! Messages of the Queue service.
//!
//! A message is one row of `messages`. Whether it can be served is decided from its stored times
//! only, against the `now` of the request: visible when `visible_at <= now`, gone when
//! `expires <= now`. Nothing runs when a visibility timeout ends, so visibility holds across
//! restarts; expired rows are deleted later by the collector (`purge_expired_messages`).
//!
//! Every change goes through the single writer: Get Messages selects the next visible messages
//! and hides them again in one job, so two consumers never receive the same message within its
//! visibility window.

use std::collections::HashMap;

use base64::Engine as _;
use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::codec::{time_from_i64, time_to_i64};
use crate::engine::Core;
use crate::queues::{detach, queue_id, queue_id_and_count, small};
use crate::{GcStats, MessageUpdated, QueueMessage, Result, Store, StoreError};

/// Expired messages deleted per writer job by the collector, so a mass expiry never holds the
/// writer for long.
const PURGE_BATCH: u32 = 1000;

/// A fresh pop receipt: 16 random bytes in URL-safe base64, so that it travels in a query
/// string unchanged even when a client does not percent-encode it.
fn pop_receipt() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().into_bytes())
}

/// The next messages a consumer may receive at `?2`, in the order they became visible: a range
/// of `messages_by_visibility` read from its start, no sort. Expired rows in that range (waiting
/// for the collector) are stepped over.
const NEXT_VISIBLE: &str = "SELECT seq, id, inserted, expires, visible_at, dequeue_count, text
     FROM messages
     WHERE queue_id = ?1 AND visible_at <= ?2 AND (expires IS NULL OR expires > ?2)
     ORDER BY visible_at, seq LIMIT ?3";

/// The next visible messages as (seq, message), pop receipts empty.
fn next_visible(
    conn: &Connection,
    queue: i64,
    now: i64,
    count: u32,
) -> Result<Vec<(i64, QueueMessage)>> {
    let mut st = conn.prepare_cached(NEXT_VISIBLE)?;
    let rows = st.query_map(params![queue, now, count], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            QueueMessage {
                id: r.get(1)?,
                inserted: time_from_i64(r.get(2)?),
                expires: r.get::<_, Option<i64>>(3)?.map(time_from_i64),
                next_visible: time_from_i64(r.get(4)?),
                dequeue_count: r.get::<_, i64>(5)?.max(0) as u64,
                pop_receipt: String::new(),
                text: r.get(6)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The `seq` of message `id` if it may be deleted or updated with `receipt` at `now`: it exists,
/// has not expired, and `receipt` is its current pop receipt (whether or not its visibility
/// timeout has passed: what matters is that nobody received it since).
fn claimed(conn: &Connection, queue: i64, id: &str, receipt: &str, now: i64) -> Result<i64> {
    let mut st = conn.prepare_cached(
        "SELECT seq, expires, pop_receipt FROM messages WHERE queue_id = ?1 AND id = ?2",
    )?;
    let row: Option<(i64, Option<i64>, String)> = st
        .query_row(params![queue, id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    match row {
        None => Err(StoreError::MessageNotFound),
        Some((_, Some(expires), _)) if expires <= now => Err(StoreError::MessageNotFound),
        Some((_, _, current)) if current != receipt => Err(StoreError::PopReceiptMismatch),
        Some((seq, _, _)) => Ok(seq),
    }
}

fn add_to_count(conn: &Connection, queue: i64, delta: i64) -> Result<()> {
    conn.prepare_cached("UPDATE queues SET message_count = message_count + ?2 WHERE id = ?1")?
        .execute(params![queue, delta])?;
    Ok(())
}

impl Store {
    /// Adds a message, invisible until `visible_at`, gone at `expires` (None: never). It has
    /// dequeue count 0 and a pop receipt that Delete and Update Message accept.
    pub fn put_message(
        &self,
        account: &str,
        queue: &str,
        text: &str,
        now: OffsetDateTime,
        visible_at: OffsetDateTime,
        expires: Option<OffsetDateTime>,
    ) -> Result<QueueMessage> {
        let (account, queue) = (account.to_owned(), queue.to_owned());
        let message = QueueMessage {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            inserted: now,
            expires,
            next_visible: visible_at,
            dequeue_count: 0,
            pop_receipt: pop_receipt(),
            text: text.to_owned(),
        };
        self.core().writer.submit(Vec::new(), move |c| {
            let qid = queue_id(c, &account, &queue)?;
            c.prepare_cached(
                "INSERT INTO messages (queue_id, id, inserted, expires, visible_at, dequeue_count,
                                       pop_receipt, text)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)",
            )?
            .execute(params![
                qid,
                message.id,
                time_to_i64(message.inserted),
                message.expires.map(time_to_i64),
                time_to_i64(message.next_visible),
                message.pop_receipt,
                message.text
            ])?;
            add_to_count(c, qid, 1)?;
            Ok(message)
        })
    }

    /// Receives up to `count` messages visible at `now` and not expired, in the order they
    /// became visible (visible time, then insertion order). Each is hidden until `visible_at`,
    /// gets a new pop receipt and one more dequeue; all in one writer job.
    pub fn get_messages(
        &self,
        account: &str,
        queue: &str,
        count: u32,
        now: OffsetDateTime,
        visible_at: OffsetDateTime,
    ) -> Result<Vec<QueueMessage>> {
        let (account, queue) = (account.to_owned(), queue.to_owned());
        let (now, hidden_until) = (time_to_i64(now), time_to_i64(visible_at));
        self.core().writer.submit(Vec::new(), move |c| {
            let qid = queue_id(c, &account, &queue)?;
            let found = next_visible(c, qid, now, count)?;
            let mut hide = c.prepare_cached(
                "UPDATE messages SET visible_at = ?2, dequeue_count = dequeue_count + 1,
                                     pop_receipt = ?3
                 WHERE seq = ?1",
            )?;
            let mut out = Vec::with_capacity(found.len());
            for (seq, mut message) in found {
                message.pop_receipt = pop_receipt();
                message.next_visible = visible_at;
                message.dequeue_count += 1;
                hide.execute(params![seq, hidden_until, message.pop_receipt])?;
                out.push(message);
            }
            Ok(out)
        })
    }

    /// The messages `get_messages` would receive at `now`, changing nothing; pop receipts empty.
    pub fn peek_messages(
        &self,
        account: &str,
        queue: &str,
        count: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueMessage>> {
        let now = time_to_i64(now);
        self.core().readers.read(|c| {
            let qid = queue_id(c, account, queue)?;
            Ok(next_visible(c, qid, now, count)?
                .into_iter()
                .map(|(_, message)| message)
                .collect())
        })
    }

    /// Deletes a message given its current pop receipt (`MessageNotFound` if it does not exist
    /// or has expired, `PopReceiptMismatch` if it was received again since).
    pub fn delete_message(
        &self,
        account: &str,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let (account, queue, id, receipt) = (
            account.to_owned(),
            queue.to_owned(),
            id.to_owned(),
            pop_receipt.to_owned(),
        );
        let now = time_to_i64(now);
        self.core().writer.submit(Vec::new(), move |c| {
            let qid = queue_id(c, &account, &queue)?;
            let seq = claimed(c, qid, &id, &receipt, now)?;
            c.prepare_cached("DELETE FROM messages WHERE seq = ?1")?
                .execute([seq])?;
            add_to_count(c, qid, -1)
        })
    }

    /// Hides a message until `visible_at` (0 seconds from `now` makes it visible at once) and,
    /// with `text`, replaces its text; the checks are `delete_message`'s. The old pop receipt
    /// stops working; the dequeue count is unchanged.
    #[allow(clippy::too_many_arguments)]
    pub fn update_message(
        &self,
        account: &str,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        text: Option<&str>,
        now: OffsetDateTime,
        visible_at: OffsetDateTime,
    ) -> Result<MessageUpdated> {
        let (account, queue, id, receipt, text) = (
            account.to_owned(),
            queue.to_owned(),
            id.to_owned(),
            pop_receipt.to_owned(),
            text.map(str::to_owned),
        );
        let now = time_to_i64(now);
        let updated = MessageUpdated {
            pop_receipt: self::pop_receipt(),
            next_visible: visible_at,
        };
        self.core().writer.submit(Vec::new(), move |c| {
            let qid = queue_id(c, &account, &queue)?;
            let seq = claimed(c, qid, &id, &receipt, now)?;
            c.prepare_cached(
                "UPDATE messages SET visible_at = ?2, pop_receipt = ?3, text = COALESCE(?4, text)
                 WHERE seq = ?1",
            )?
            .execute(params![
                seq,
                time_to_i64(updated.next_visible),
                updated.pop_receipt,
                text
            ])?;
            Ok(updated)
        })
    }

    /// Deletes every message of the queue; its count is 0 at once. A queue of at most
    /// `DETACH_BATCH` messages is emptied in this job. A longer one would hold the writer in
    /// proportion to its length (15 s for 1,000,000 messages), so instead the queue moves to a
    /// new row, with its name, metadata and ACL, and the old row is detached with all the
    /// messages (`queues::detach`): one job whatever the length, after which no operation can
    /// reach an old message, and the collector deletes them in batches.
    pub fn clear_messages(&self, account: &str, queue: &str) -> Result<()> {
        self.freeing_space(|| {
            let (account, queue) = (account.to_owned(), queue.to_owned());
            self.core().writer.submit(Vec::new(), move |c| {
                let (qid, count) = queue_id_and_count(c, &account, &queue)?;
                if small(count) {
                    c.prepare_cached("DELETE FROM messages WHERE queue_id = ?1")?
                        .execute([qid])?;
                    c.prepare_cached("UPDATE queues SET message_count = 0 WHERE id = ?1")?
                        .execute([qid])?;
                    return Ok(());
                }
                detach(c, qid)?;
                // Every column of the queue but its id and count (a column added to `queues`
                // belongs here too).
                c.prepare_cached(
                    "INSERT INTO queues (account, name, metadata, acl)
                     SELECT account, ?2, metadata, acl FROM queues WHERE id = ?1",
                )?
                .execute(params![qid, queue])?;
                Ok(())
            })
        })
    }

    /// Deletes up to `limit` messages expired at `now`, oldest expiry first, and returns how
    /// many. The collector calls it in batches; it is public for tests and tools.
    pub fn purge_expired_messages(&self, now: OffsetDateTime, limit: u32) -> Result<u64> {
        self.core().purge_expired_messages(time_to_i64(now), limit)
    }
}

impl Core {
    /// One writer job: a range of `messages_by_expiry` from its start, each queue's count
    /// lowered by what it lost.
    fn purge_expired_messages(&self, now: i64, limit: u32) -> Result<u64> {
        if limit == 0 {
            return Ok(0);
        }
        self.writer.submit(Vec::new(), move |c| {
            let doomed: Vec<(i64, i64)> = {
                let mut st = c.prepare_cached(
                    "SELECT seq, queue_id FROM messages WHERE expires <= ?1
                     ORDER BY expires LIMIT ?2",
                )?;
                let rows = st.query_map(params![now, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut lost: HashMap<i64, i64> = HashMap::new();
            let mut delete = c.prepare_cached("DELETE FROM messages WHERE seq = ?1")?;
            for (seq, queue) in &doomed {
                delete.execute([seq])?;
                *lost.entry(*queue).or_default() += 1;
            }
            for (queue, n) in lost {
                add_to_count(c, queue, -n)?;
            }
            Ok(doomed.len() as u64)
        })
    }

    /// The collector's part: purges expired messages in bounded batches until none are left.
    /// A store with nothing expired costs one index probe on a reader and commits nothing.
    pub(crate) fn expire_messages(&self, stats: &mut GcStats) -> Result<()> {
        let now = time_to_i64(OffsetDateTime::now_utc());
        let any: bool = self.readers.read(|c| {
            let mut st =
                c.prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE expires <= ?1)")?;
            Ok(st.query_row([now], |r| r.get(0))?)
        })?;
        if !any {
            return Ok(());
        }
        loop {
            let n = self.purge_expired_messages(now, PURGE_BATCH)?;
            stats.messages_expired += n;
            if n < u64::from(PURGE_BATCH) {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn schema() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        conn
    }

    #[test]
    fn next_visible_messages_are_an_index_range_without_a_sort() {
        let p = plan(&schema(), NEXT_VISIBLE);
        assert!(
            p.contains("SEARCH messages USING INDEX messages_by_visibility"),
            "{p}"
        );
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }

    #[test]
    fn expired_messages_are_found_by_the_expiry_index() {
        let conn = schema();
        for sql in [
            "SELECT seq, queue_id FROM messages WHERE expires <= ?1 ORDER BY expires LIMIT ?2",
            "SELECT EXISTS (SELECT 1 FROM messages WHERE expires <= ?1)",
        ] {
            let p = plan(&conn, sql);
            assert!(
                p.contains("USING COVERING INDEX messages_by_expiry")
                    || p.contains("USING INDEX messages_by_expiry"),
                "{p}"
            );
            assert!(!p.contains("SCAN messages"), "{p}");
        }
    }

    #[test]
    fn pop_receipts_are_url_safe_base64_of_16_bytes_and_differ() {
        let (a, b) = (pop_receipt(), pop_receipt());
        assert_eq!(a.len(), 22);
        assert!(!a.contains(['+', '/', '=']), "{a}");
        assert_ne!(a, b);
    }
}
