//! Entry points that are not Azure operations: streaming handles, GC, statistics, shutdown.

use crate::engine::Core;
use crate::stream::BlobWriter;
use crate::{GcStats, GcTotals, Result, Store, StoreError, StoreStats};

impl Store {
    pub(crate) fn core(&self) -> &Core {
        &self.inner.core
    }

    /// Starts streaming bytes into the extent store; pass the result to put_blob / put_block.
    pub fn blob_writer(&self) -> Result<BlobWriter> {
        if self.core().closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Internal("store is closed".into()));
        }
        Ok(BlobWriter::new(self.core().pool.clone()))
    }

    /// One garbage-collection pass (a background thread also runs one every `gc_interval`).
    pub fn collect_garbage(&self) -> Result<GcStats> {
        self.core().collect_garbage()
    }

    /// What the garbage collector has done since the store was opened (for metrics).
    pub fn gc_totals(&self) -> GcTotals {
        *self.core().gc_totals.lock()
    }

    /// Flushes, checkpoints the WAL and stops the threads. Idempotent; later writes fail.
    pub fn close(&self) -> Result<()> {
        self.inner.close()
    }

    /// Runs a space-freeing write; when it fails for lack of disk, releases the reserve and tries
    /// once more, so that a full disk can still be emptied through the API.
    pub(crate) fn freeing_space<T>(&self, f: impl Fn() -> Result<T>) -> Result<T> {
        match f() {
            Err(StoreError::StorageFull) if self.core().reserve.release() => f(),
            other => other,
        }
    }

    /// A cheap read through the reader pool: Ok when the metadata database answers.
    pub fn ping(&self) -> Result<()> {
        self.core().readers.read(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
    }

    /// Copies the WAL's committed frames into the database file now (PASSIVE: readers and the
    /// writer go on), rather than waiting for the background pass: for a measurement that must
    /// not count the setup's checkpoint work. True when every frame was copied (false when the
    /// background pass or a reader held some back: try again). The in-memory store has no WAL.
    pub fn checkpoint(&self) -> Result<bool> {
        self.core().readers.read(|c| {
            let (busy, frames, copied): (i64, i64, i64) =
                c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            Ok(busy == 0 && frames == copied)
        })
    }

    /// SQLite's `PRAGMA integrity_check`: "ok" when the metadata database is sound.
    pub fn integrity_check(&self) -> Result<String> {
        self.core().readers.read(|c| {
            let mut st = c.prepare("PRAGMA integrity_check")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("\n"))
        })
    }

    pub fn stats(&self) -> Result<StoreStats> {
        let (extents, extent_bytes) = self.core().pool.totals();
        self.core().readers.read(|c| {
            let containers: i64 = c.query_row(
                "SELECT COUNT(*) FROM containers WHERE deleted_version = ''",
                [],
                |r| r.get(0),
            )?;
            let (blobs, bytes): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs WHERE committed = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let tables: i64 = c.query_row("SELECT COUNT(*) FROM tables", [], |r| r.get(0))?;
            let entities: i64 = c.query_row("SELECT COUNT(*) FROM entities", [], |r| r.get(0))?;
            // The stored counts, not COUNT(*) over messages: a scrape reads one row per queue.
            // Detached queues (name NULL, messages waiting for the collector) are gone.
            let (queues, messages): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(message_count), 0) FROM queues
                 WHERE name IS NOT NULL",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(StoreStats {
                containers: containers as u64,
                blobs: blobs as u64,
                blob_bytes: bytes as u64,
                extents,
                extent_bytes,
                tables: tables as u64,
                entities: entities as u64,
                queues: queues as u64,
                queue_messages: messages as u64,
            })
        })
    }
}
