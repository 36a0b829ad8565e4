//! Entities: single writes, entity group transactions and point reads. Queries are in
//! `entity_query.rs`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::tables::table_id;
use crate::{
    BatchFailure, EntityOp, EntityOpKind, EntityRecord, EntityWrite, IfMatch, MergeFn, Pending,
    Result, Store, StoreError,
};

/// Entity timestamps are counted in 100 ns ticks since the Unix epoch (Azure's precision).
const TICK_NANOS: i128 = 100;

pub(crate) fn ticks_to_time(ticks: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ticks as i128 * TICK_NANOS)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The 100 ns tick of `t` (finer digits dropped).
pub(crate) fn time_to_ticks(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / TICK_NANOS) as i64
}

/// Raises the stored entity clock to `ticks` if it is below: timestamps handed out later are
/// then above every imported one.
pub(crate) fn set_entity_clock_at_least(conn: &Connection, ticks: i64) -> Result<()> {
    conn.prepare_cached("UPDATE meta SET value = MAX(value, ?1) WHERE key = 'entity_clock'")?
        .execute([ticks])?;
    Ok(())
}

fn now_ticks() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / TICK_NANOS) as i64
}

/// Hands out entity timestamps inside one writer job. The last value lives in `meta` and is
/// written in the job's own savepoint, so it is durable exactly when the entities using it are,
/// and timestamps keep increasing across restarts even if the wall clock steps back.
struct EntityClock {
    last: i64,
    dirty: bool,
}

impl EntityClock {
    fn load(conn: &Connection) -> Result<EntityClock> {
        let mut st = conn.prepare_cached("SELECT value FROM meta WHERE key = 'entity_clock'")?;
        Ok(EntityClock {
            last: st.query_row([], |r| r.get(0))?,
            dirty: false,
        })
    }

    /// Strictly greater than every timestamp handed out before.
    fn next(&mut self) -> i64 {
        self.last = now_ticks().max(self.last + 1);
        self.dirty = true;
        self.last
    }

    fn save(&self, conn: &Connection) -> Result<()> {
        if self.dirty {
            conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'entity_clock'")?
                .execute([self.last])?;
        }
        Ok(())
    }
}

fn matches(cond: &IfMatch, ticks: i64) -> bool {
    match cond {
        IfMatch::Any => true,
        IfMatch::Timestamp(t) => t.unix_timestamp_nanos() == ticks as i128 * TICK_NANOS,
        IfMatch::Never => false,
    }
}

fn check(cond: &IfMatch, ticks: i64) -> Result<()> {
    if matches(cond, ticks) {
        Ok(())
    } else {
        Err(StoreError::UpdateConditionNotSatisfied)
    }
}

/// The stored (timestamp ticks, properties) of an entity.
fn load(conn: &Connection, table: i64, pk: &str, rk: &str) -> Result<Option<(i64, Vec<u8>)>> {
    let mut st = conn.prepare_cached(
        "SELECT ts, props FROM entities WHERE table_id = ?1 AND pk = ?2 AND rk = ?3",
    )?;
    Ok(st
        .query_row(params![table, pk, rk], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

fn run_merge(merge: &MergeFn, old: &[u8], new: &[u8]) -> Result<Vec<u8>> {
    // The closure runs on the writer thread: a panic there would stop every later write.
    catch_unwind(AssertUnwindSafe(|| merge(old, new)))
        .unwrap_or_else(|_| Err(StoreError::Internal("entity merge panicked".into())))
}

/// Applies one operation inside the current writer job.
fn apply(
    conn: &Connection,
    table: i64,
    op: EntityOp,
    merge: &MergeFn,
    clock: &mut EntityClock,
) -> Result<Option<EntityRecord>> {
    let EntityOp {
        partition_key,
        row_key,
        kind,
    } = op;
    // An insert reads nothing first: the primary key refuses a duplicate (below).
    let plain_insert = matches!(
        kind,
        EntityOpKind::Write {
            write: EntityWrite::Insert,
            ..
        }
    );
    let existing = if plain_insert {
        None
    } else {
        load(conn, table, &partition_key, &row_key)?
    };
    let properties = match kind {
        EntityOpKind::Delete { if_match } => {
            let (ticks, _) = existing.ok_or(StoreError::EntityNotFound)?;
            check(&if_match, ticks)?;
            conn.prepare_cached(
                "DELETE FROM entities WHERE table_id = ?1 AND pk = ?2 AND rk = ?3",
            )?
            .execute(params![table, partition_key, row_key])?;
            return Ok(None);
        }
        EntityOpKind::Write { write, properties } => match (write, existing) {
            // No row was read for an insert: the write below finds a duplicate.
            (EntityWrite::Insert | EntityWrite::InsertOrReplace, _)
            | (EntityWrite::InsertOrMerge, None) => properties,
            (EntityWrite::Update { .. } | EntityWrite::Merge { .. }, None) => {
                return Err(StoreError::EntityNotFound)
            }
            (EntityWrite::Update { if_match }, Some((ticks, _))) => {
                check(&if_match, ticks)?;
                properties
            }
            (EntityWrite::Merge { if_match }, Some((ticks, old))) => {
                check(&if_match, ticks)?;
                run_merge(merge, &old, &properties)?
            }
            (EntityWrite::InsertOrMerge, Some((_, old))) => run_merge(merge, &old, &properties)?,
        },
    };
    let ticks = clock.next();
    let sql = if plain_insert {
        "INSERT INTO entities (table_id, pk, rk, ts, props) VALUES (?1, ?2, ?3, ?4, ?5)"
    } else {
        "INSERT INTO entities (table_id, pk, rk, ts, props) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (table_id, pk, rk) DO UPDATE SET ts = excluded.ts, props = excluded.props"
    };
    match conn.prepare_cached(sql)?.execute(params![
        table,
        partition_key,
        row_key,
        ticks,
        properties
    ]) {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            return Err(StoreError::EntityAlreadyExists)
        }
        result => result?,
    };
    Ok(Some(EntityRecord {
        partition_key,
        row_key,
        timestamp: ticks_to_time(ticks),
        properties,
    }))
}

impl Store {
    /// One entity operation. Returns the stored entity for writes, `None` for a delete.
    pub fn write_entity(
        &self,
        account: &str,
        table: &str,
        op: EntityOp,
        merge: &Arc<MergeFn>,
    ) -> Result<Option<EntityRecord>> {
        self.queue_write_entity(account, table, op, merge)?.wait()
    }

    /// `write_entity`, answered through a `Pending` that async code can await.
    pub fn queue_write_entity(
        &self,
        account: &str,
        table: &str,
        op: EntityOp,
        merge: &Arc<MergeFn>,
    ) -> Result<Pending<Option<EntityRecord>>> {
        let (account, table, merge) = (account.to_owned(), table.to_owned(), merge.clone());
        self.core().writer.queue(Vec::new(), move |c| {
            let id = table_id(c, &account, &table)?;
            let mut clock = EntityClock::load(c)?;
            let out = apply(c, id, op, &*merge, &mut clock)?;
            clock.save(c)?;
            Ok(out)
        })
    }

    /// Entity group transaction: every operation in one savepoint, all or nothing. On failure
    /// nothing of the batch is stored and the failing operation's index is returned.
    pub fn execute_batch(
        &self,
        account: &str,
        table: &str,
        ops: Vec<EntityOp>,
        merge: &Arc<MergeFn>,
    ) -> Result<Vec<Option<EntityRecord>>, BatchFailure> {
        let (account, table, merge) = (account.to_owned(), table.to_owned(), merge.clone());
        // The job must fail with a plain `StoreError` (that is what rolls its savepoint back),
        // so the failing index travels beside it.
        let failed_at = Arc::new(AtomicUsize::new(0));
        let failed = failed_at.clone();
        self.core()
            .writer
            .submit(Vec::new(), move |c| {
                let id = table_id(c, &account, &table)?;
                let mut clock = EntityClock::load(c)?;
                let mut out = Vec::with_capacity(ops.len());
                for (i, op) in ops.into_iter().enumerate() {
                    match apply(c, id, op, &*merge, &mut clock) {
                        Ok(r) => out.push(r),
                        Err(e) => {
                            failed.store(i, Ordering::SeqCst);
                            return Err(e);
                        }
                    }
                }
                clock.save(c)?;
                Ok(out)
            })
            .map_err(|error| BatchFailure {
                index: failed_at.load(Ordering::SeqCst),
                error,
            })
    }

    /// Point read; `TableNotFound` or `EntityNotFound`.
    pub fn get_entity(
        &self,
        account: &str,
        table: &str,
        pk: &str,
        rk: &str,
    ) -> Result<EntityRecord> {
        self.core().readers.read(|c| {
            let id = table_id(c, account, table)?;
            let (ticks, properties) = load(c, id, pk, rk)?.ok_or(StoreError::EntityNotFound)?;
            Ok(EntityRecord {
                partition_key: pk.to_owned(),
                row_key: rk.to_owned(),
                timestamp: ticks_to_time(ticks),
                properties,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_exact_ticks() {
        let t = ticks_to_time(17_000_000_000_000_123);
        assert!(matches(&IfMatch::Timestamp(t), 17_000_000_000_000_123));
        assert!(!matches(&IfMatch::Timestamp(t), 17_000_000_000_000_124));
        // 50 ns off is a different version, not rounded onto this one.
        let off = t + time::Duration::nanoseconds(50);
        assert!(!matches(&IfMatch::Timestamp(off), 17_000_000_000_000_123));
        assert!(matches(&IfMatch::Any, 1));
        assert!(!matches(&IfMatch::Never, 1));
    }

    #[test]
    fn clock_is_strictly_increasing_even_from_a_future_mark() {
        let future = now_ticks() + 10_000_000_000;
        let mut clock = EntityClock {
            last: future,
            dirty: false,
        };
        assert_eq!(clock.next(), future + 1);
        assert_eq!(clock.next(), future + 2);
        let mut now = EntityClock {
            last: 0,
            dirty: false,
        };
        let (a, b) = (now.next(), now.next());
        assert!(a > 0 && b > a);
    }
}
