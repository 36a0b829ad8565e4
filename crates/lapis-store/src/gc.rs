//! Garbage collection: expire old uncommitted blocks, delete expired queue messages
//! (`messages.rs`) and the messages of deleted or cleared queues (`queues.rs`), compact sealed
//! extents that are mostly garbage, delete extents nothing references.
//!
//! Never races a reader: readers resolve and pin extents under `gc_lock` (shared); extents are
//! only deleted while it is held exclusively and only when nothing but the registry holds them.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::params;
use time::OffsetDateTime;

use crate::chunks::ensure_extent_row;
use crate::codec::time_to_i64;
use crate::engine::{io_error, Core};
use crate::pool::Extent;
use crate::{GcStats, Result, StoreError};

/// Bytes copied per read during compaction.
const COPY_BUFFER: usize = 1024 * 1024;

impl Core {
    pub(crate) fn collect_garbage(&self) -> Result<GcStats> {
        let _one_pass = self.gc_pass.lock();
        let mut stats = GcStats::default();
        self.expire_blocks(&mut stats)?;
        self.expire_messages(&mut stats)?;
        self.purge_detached(&mut stats)?;
        self.purge_soft_deleted(&mut stats)?;
        self.compact(&mut stats)?;
        self.delete_dead(&mut stats)?;
        self.reserve.replenish();
        let mut totals = self.gc_totals.lock();
        totals.passes += 1;
        totals.extents_deleted += stats.extents_deleted;
        totals.extents_compacted += stats.extents_compacted;
        totals.bytes_reclaimed += stats.bytes_reclaimed;
        totals.blocks_expired += stats.blocks_expired;
        totals.messages_expired += stats.messages_expired;
        totals.messages_discarded += stats.messages_discarded;
        Ok(stats)
    }

    fn expire_blocks(&self, stats: &mut GcStats) -> Result<()> {
        let ttl = time::Duration::try_from(self.opts.uncommitted_block_ttl)
            .unwrap_or(time::Duration::MAX);
        let cutoff = time_to_i64(
            OffsetDateTime::now_utc()
                .checked_sub(ttl)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        stats.blocks_expired = self.writer.submit(Vec::new(), move |c| {
            let n = c.prepare_cached("DELETE FROM blocks WHERE committed = 0 AND created < ?1")?.execute([cutoff])?;
            if n > 0 {
                // Blobs that existed only through those blocks are gone with them.
                c.prepare_cached(
                    "DELETE FROM blobs WHERE committed = 0 AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.blob_id = blobs.id)",
                )?
                .execute([])?;
            }
            Ok(n as u64)
        })?;
        Ok(())
    }

    /// Deletes the soft-deleted blobs, snapshots and containers whose retention has ended;
    /// their bytes become garbage for `compact` and `delete_dead` in the same pass.
    fn purge_soft_deleted(&self, stats: &mut GcStats) -> Result<()> {
        let now = time_to_i64(OffsetDateTime::now_utc());
        stats.soft_deleted_purged = self.writer.submit(Vec::new(), move |c| {
            let blobs = c
                .prepare_cached("DELETE FROM blobs WHERE purge_at <= ?1")?
                .execute([now])?;
            let containers = c
                .prepare_cached("DELETE FROM containers WHERE purge_at <= ?1")?
                .execute([now])?;
            Ok((blobs + containers) as u64)
        })?;
        Ok(())
    }

    fn compact(&self, stats: &mut GcStats) -> Result<()> {
        let sealed: Vec<Arc<Extent>> = {
            let st = self.pool.lock();
            st.all
                .values()
                .filter(|e| e.is_sealed() && Arc::strong_count(e) == 1)
                .cloned()
                .collect()
        };
        for ext in sealed {
            let live: i64 = self.readers.read(|c| {
                let mut st = c.prepare_cached(
                    "SELECT COALESCE((SELECT live_bytes FROM extents WHERE id = ?1), 0)",
                )?;
                Ok(st.query_row([ext.id], |r| r.get(0))?)
            })?;
            // Dead extents are simply deleted; well-used ones are left alone.
            if live <= 0 || live as u64 * 2 >= ext.len() {
                continue;
            }
            match self.compact_one(&ext) {
                Ok(()) => stats.extents_compacted += 1,
                Err(e) => tracing::warn!(extent = ext.id, error = %e, "compaction skipped"),
            }
        }
        Ok(())
    }

    /// Copies the live ranges of `src` into a fresh extent and repoints every chunk at the copy.
    fn compact_one(&self, src: &Arc<Extent>) -> Result<()> {
        let id = src.id;
        let mut ranges: Vec<(u64, u64)> = self.readers.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT offset, len FROM blob_chunks WHERE extent = ?1 UNION SELECT offset, len FROM block_chunks WHERE extent = ?1",
            )?;
            let rows = st.query_map([id], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        ranges.sort_unstable();
        // Union of the referenced intervals: (old start, old end).
        let mut spans: Vec<(u64, u64)> = Vec::new();
        for (off, len) in ranges {
            match spans.last_mut() {
                Some(last) if off <= last.1 => last.1 = last.1.max(off + len),
                _ => spans.push((off, off + len)),
            }
        }
        let dest = self.pool.checkout().map_err(io_error)?;
        let copied = self.copy_spans(src, &dest, &spans);
        let moves = match copied {
            Ok(moves) => moves,
            Err(e) => {
                self.pool.checkin(dest);
                return Err(e);
            }
        };
        let dest_id = dest.id;
        let sync = vec![(dest.clone(), dest.len())];
        let result = self.writer.submit(sync, move |c| {
            ensure_extent_row(c, dest_id)?;
            for table in ["blob_chunks", "block_chunks"] {
                let rows: Vec<(i64, u64, u64)> = {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT rowid, offset, len FROM {table} WHERE extent = ?1"
                    ))?;
                    let rows = st.query_map([id], |r| {
                        Ok((
                            r.get(0)?,
                            r.get::<_, i64>(1)? as u64,
                            r.get::<_, i64>(2)? as u64,
                        ))
                    })?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let mut update = c.prepare_cached(&format!(
                    "UPDATE {table} SET extent = ?2, offset = ?3 WHERE rowid = ?1"
                ))?;
                for (rowid, off, len) in rows {
                    let (old, _, new) = moves
                        .iter()
                        .find(|(old, end, _)| off >= *old && off + len <= *end)
                        .ok_or_else(|| {
                            StoreError::Internal(format!(
                                "chunk of extent {id} changed during compaction"
                            ))
                        })?;
                    update.execute(params![rowid, dest_id, (new + (off - old)) as i64])?;
                }
            }
            Ok(())
        });
        self.pool.checkin(dest);
        result
    }

    /// Returns (old start, old end, new start) for each span copied from `src` to `dest`.
    fn copy_spans(
        &self,
        src: &Extent,
        dest: &Extent,
        spans: &[(u64, u64)],
    ) -> Result<Vec<(u64, u64, u64)>> {
        let mut moves = Vec::with_capacity(spans.len());
        let mut buf = vec![0u8; COPY_BUFFER];
        let base = dest.len();
        let mut at = base;
        for &(start, end) in spans {
            moves.push((start, end, at));
            let mut pos = start;
            while pos < end {
                let n = ((end - pos) as usize).min(COPY_BUFFER);
                src.file.read_at(pos, &mut buf[..n]).map_err(io_error)?;
                if let Err(e) = dest.file.write_at(at, &buf[..n]) {
                    return Err(io_error(e));
                }
                pos += n as u64;
                at += n as u64;
            }
        }
        dest.set_len(at);
        dest.sync_to(at).map_err(io_error)?;
        Ok(moves)
    }

    fn delete_dead(&self, stats: &mut GcStats) -> Result<()> {
        let dead: Vec<Arc<Extent>> = {
            let _no_readers = self.gc_lock.write();
            let mut st = self.pool.lock();
            // Pins first, then metadata: anything that let go of its pin has committed by now.
            let unpinned = st.unpinned();
            if unpinned.is_empty() {
                return Ok(());
            }
            let live: HashMap<i64, i64> = self.readers.read(|c| {
                let mut q = c.prepare_cached("SELECT id, live_bytes FROM extents")?;
                let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })?;
            let dead: Vec<Arc<Extent>> = unpinned
                .into_iter()
                .filter(|e| live.get(&e.id).copied().unwrap_or(0) <= 0)
                .collect();
            for e in &dead {
                st.remove(e.id);
            }
            dead
        };
        for ext in dead {
            let id = ext.id;
            self.writer.submit(Vec::new(), move |c| {
                c.prepare_cached("DELETE FROM extents WHERE id = ?1")?
                    .execute([id])?;
                Ok(())
            })?;
            self.pool.backend.remove(id).map_err(io_error)?;
            stats.extents_deleted += 1;
            stats.bytes_reclaimed += ext.len();
        }
        Ok(())
    }
}
