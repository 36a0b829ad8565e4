//! Reading page blobs: their bytes with holes as zeros, Get Page Ranges, and the difference
//! from an earlier snapshot. A snapshot's chunk rows point at the same extent bytes as the
//! blob's did when it was taken, so a page is unchanged exactly when both point at the same
//! `(extent, offset)`: the diff compares references, never bytes.

use std::sync::Arc;

use rusqlite::{params, Connection};

use crate::blobs::{find_blob_at, BlobRow};
use crate::chunks::range_runs;
use crate::conditions::check_blob_row;
use crate::containers::load_container;
use crate::engine::Core;
use crate::pages::PAGE_SIZE;
use crate::pool::Extent;
use crate::stream::BlobReader;
use crate::{
    Access, BlobProps, BlobType, ByteRange, Chunk, Conditions, CustomerKey, Refusal, Result, Store,
    StoreError,
};

/// A run of pages `[start, end)`: written ones, or (in a diff) ones cleared since the earlier
/// snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    pub start: u64,
    /// Exclusive.
    pub end: u64,
    pub clear: bool,
}

/// What Get Page Ranges asks for.
#[derive(Debug, Clone, Default)]
pub struct PageRangeQuery {
    /// The snapshot to list (its time); `None` for the blob itself.
    pub snapshot: Option<String>,
    /// List the difference from this earlier snapshot (`prevsnapshot`).
    pub prev_snapshot: Option<String>,
    /// Only ranges within these bytes, widened to whole pages.
    pub range: Option<ByteRange>,
    /// Where a previous page of the answer stopped (`NextMarker`).
    pub marker: Option<u64>,
    pub max_results: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct PageRangeList {
    /// The listed blob (or snapshot).
    pub blob: BlobProps,
    pub ranges: Vec<PageRange>,
    /// Where the next page of the answer starts, when there is more.
    pub next_marker: Option<u64>,
}

/// A reader over `[from, to)` of a page blob, with zeros where no page was written.
pub(crate) fn page_reader(
    core: &Core,
    conn: &Connection,
    blob_id: i64,
    from: u64,
    to: u64,
    key: Option<&CustomerKey>,
) -> Result<BlobReader> {
    let runs = if from < to {
        range_runs(conn, blob_id, from, to)?
    } else {
        Vec::new()
    };
    let mut parts: Vec<(u64, Arc<Extent>, Chunk)> = Vec::with_capacity(runs.len());
    for (start, ch) in runs {
        let ext = core.pool.get(ch.extent).ok_or_else(|| {
            StoreError::Internal(format!("extent {} of a page blob is missing", ch.extent))
        })?;
        parts.push((start, ext, ch));
    }
    Ok(BlobReader::sparse(parts, from, to, key.cloned()))
}

/// The committed row named `blob` at `snapshot` ('' for the base blob).
fn find_version(
    conn: &Connection,
    container_id: i64,
    blob: &str,
    snapshot: &str,
) -> Result<Option<BlobRow>> {
    Ok(find_blob_at(conn, container_id, blob, snapshot)?.filter(|b| b.committed))
}

/// The bytes a listing covers: the requested range widened to whole pages and cut at the
/// blob's end, or the whole blob.
fn window(size: u64, range: Option<ByteRange>) -> Result<(u64, u64)> {
    let Some(r) = range else { return Ok((0, size)) };
    if r.start >= size {
        return Err(StoreError::Refused(Refusal::InvalidPageRange));
    }
    let from = r.start / PAGE_SIZE * PAGE_SIZE;
    let to = match r.end {
        Some(last) => (last / PAGE_SIZE + 1).saturating_mul(PAGE_SIZE).min(size),
        None => size,
    };
    Ok((from, to))
}

/// The written ranges of `[from, to)`, adjacent runs merged, at most `max` of them.
fn list_ranges(
    conn: &Connection,
    blob_id: i64,
    from: u64,
    to: u64,
    max: usize,
) -> Result<(Vec<PageRange>, Option<u64>)> {
    let mut st = conn.prepare_cached(
        "SELECT start, len FROM blob_chunks
         WHERE blob_id = ?1 AND start < ?3
           AND start >= COALESCE((SELECT MAX(start) FROM blob_chunks WHERE blob_id = ?1 AND start <= ?2), 0)
         ORDER BY start",
    )?;
    let mut q = st.query(params![blob_id, from as i64, to as i64])?;
    let mut out: Vec<PageRange> = Vec::new();
    while let Some(r) = q.next()? {
        let start = r.get::<_, i64>(0)? as u64;
        let len = r.get::<_, i64>(1)? as u64;
        let (lo, hi) = (start.max(from), (start + len).min(to));
        if lo >= hi {
            continue;
        }
        if let Some(last) = out.last_mut().filter(|l| l.end == lo) {
            last.end = hi;
            continue;
        }
        if out.len() == max {
            let next = out[max - 1].end;
            return Ok((out, Some(next)));
        }
        out.push(PageRange {
            start: lo,
            end: hi,
            clear: false,
        });
    }
    Ok((out, None))
}

/// Where a byte of a run lives: the same place in both versions means the same page.
fn location(runs: &[(u64, Chunk)], i: usize, at: u64) -> Option<(i64, u64)> {
    let (start, ch) = runs.get(i)?;
    (*start <= at && at < start + ch.len).then(|| (ch.extent, ch.offset + (at - start)))
}

/// The ranges of `[from, to)` that differ between `new` and `old` (both clipped runs, in
/// order): pages written since (`clear: false`) and pages cleared since (`clear: true`).
pub(crate) fn diff_runs(
    new: &[(u64, Chunk)],
    old: &[(u64, Chunk)],
    from: u64,
    to: u64,
) -> Vec<PageRange> {
    let mut edges: Vec<u64> = vec![from, to];
    for (start, ch) in new.iter().chain(old) {
        edges.push(*start);
        edges.push(start + ch.len);
    }
    edges.sort_unstable();
    edges.dedup();
    let (mut i, mut j) = (0, 0);
    let mut out: Vec<PageRange> = Vec::new();
    for pair in edges.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a < from || b > to {
            continue;
        }
        while new.get(i).is_some_and(|(s, c)| s + c.len <= a) {
            i += 1;
        }
        while old.get(j).is_some_and(|(s, c)| s + c.len <= a) {
            j += 1;
        }
        let (now, before) = (location(new, i, a), location(old, j, a));
        let clear = match (now, before) {
            (Some(n), b) if Some(n) != b => false,
            (None, Some(_)) => true,
            _ => continue,
        };
        match out.last_mut() {
            Some(last) if last.end == a && last.clear == clear => last.end = b,
            _ => out.push(PageRange {
                start: a,
                end: b,
                clear,
            }),
        }
    }
    out
}

impl Store {
    /// Get Page Ranges: the written ranges of a page blob (or of its `snapshot`), or with
    /// `prev_snapshot` what changed since that snapshot; paged by `marker` / `max_results`.
    pub fn get_page_ranges(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        query: &PageRangeQuery,
        cond: &Conditions,
    ) -> Result<PageRangeList> {
        self.core().readers.read(|c| {
            let cont = load_container(c, account, container)?;
            let snapshot = query.snapshot.as_deref().unwrap_or("");
            let row = find_version(c, cont.id, blob, snapshot)?.ok_or(StoreError::BlobNotFound)?;
            if row.props.blob_type != BlobType::PageBlob {
                return Err(StoreError::Refused(Refusal::InvalidBlobType));
            }
            check_blob_row(c, cond, &row, Access::Read)?;
            let (from, to) = window(row.props.size, query.range)?;
            let from = from.max(query.marker.unwrap_or(0));
            let max = query.max_results.unwrap_or(usize::MAX).max(1);
            let (ranges, next_marker) = match &query.prev_snapshot {
                _ if from >= to => (Vec::new(), None),
                None => list_ranges(c, row.id, from, to, max)?,
                Some(prev) => {
                    let old = find_version(c, cont.id, blob, prev)?
                        .ok_or(StoreError::Refused(Refusal::PreviousSnapshotNotFound))?;
                    let mut ranges = diff_runs(
                        &range_runs(c, row.id, from, to)?,
                        &range_runs(c, old.id, from, to)?,
                        from,
                        to,
                    );
                    let next = (ranges.len() > max).then(|| ranges[max - 1].end);
                    ranges.truncate(max);
                    (ranges, next)
                }
            };
            Ok(PageRangeList {
                blob: row.props,
                ranges,
                next_marker,
            })
        })
    }
}

#[cfg(test)]
#[path = "page_ranges_tests.rs"]
mod tests;
