//! Where a blob's bytes are: the chunks of its content, the cipher of each under a
//! customer-provided key, and the byte interval a read resolves to.

use rusqlite::{params, Connection};

use crate::cpk::iv_from_column;
use crate::{ByteRange, Chunk, ChunkCipher, Result, StoreError};

pub(crate) fn ensure_extent_row(conn: &Connection, extent: i64) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO extents (id) VALUES (?1)")?
        .execute([extent])?;
    Ok(())
}

/// Stores `chunks` as the blob's content, in order.
pub(crate) fn insert_blob_chunks(conn: &Connection, blob_id: i64, chunks: &[Chunk]) -> Result<()> {
    insert_blob_chunks_at(conn, blob_id, 0, chunks)
}

/// Stores `chunks` as the blob's bytes from `start` on (an append adds them at its old end).
pub(crate) fn insert_blob_chunks_at(
    conn: &Connection,
    blob_id: i64,
    start: u64,
    chunks: &[Chunk],
) -> Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO blob_chunks (blob_id, start, extent, offset, len, iv, position)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut start = start;
    for ch in chunks.iter().filter(|c| c.len > 0) {
        ensure_extent_row(conn, ch.extent)?;
        st.execute(params![
            blob_id,
            start as i64,
            ch.extent,
            ch.offset as i64,
            ch.len as i64,
            ch.cipher.as_ref().map(|c| c.iv.as_slice()),
            ch.cipher.map(|c| c.position as i64),
        ])?;
        start += ch.len;
    }
    Ok(())
}

/// A stored chunk's cipher columns (`iv`, `position`).
pub(crate) fn cipher_from_columns(
    iv: Option<Vec<u8>>,
    position: Option<i64>,
) -> Result<Option<ChunkCipher>> {
    Ok(match (iv_from_column(iv)?, position) {
        (Some(iv), Some(position)) => Some(ChunkCipher {
            iv,
            position: position as u64,
        }),
        _ => None,
    })
}

/// The chunks covering `[from, to)` of a blob, clipped to that range.
pub(crate) fn range_chunks(
    conn: &Connection,
    blob_id: i64,
    from: u64,
    to: u64,
) -> Result<Vec<Chunk>> {
    let mut st = conn.prepare_cached(
        "SELECT start, extent, offset, len, iv, position FROM blob_chunks
         WHERE blob_id = ?1 AND start < ?3
           AND start >= COALESCE((SELECT MAX(start) FROM blob_chunks WHERE blob_id = ?1 AND start <= ?2), 0)
         ORDER BY start",
    )?;
    let mut q = st.query(params![blob_id, from as i64, to as i64])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        let start = r.get::<_, i64>(0)? as u64;
        let chunk = Chunk {
            extent: r.get(1)?,
            offset: r.get::<_, i64>(2)? as u64,
            len: r.get::<_, i64>(3)? as u64,
            cipher: cipher_from_columns(r.get(4)?, r.get(5)?)?,
        };
        let lo = from.max(start);
        let hi = to.min(start + chunk.len);
        if lo < hi {
            out.push(chunk.part(lo - start, hi - lo));
        }
    }
    Ok(out)
}

/// Half-open byte interval of a read, following HTTP Range rules as Azure applies them.
pub(crate) fn resolve_range(size: u64, range: Option<ByteRange>) -> Result<(u64, u64)> {
    let Some(r) = range else { return Ok((0, size)) };
    if r.start >= size {
        return Err(StoreError::InvalidRange);
    }
    let last = r.end.unwrap_or(size - 1).min(size - 1);
    if last < r.start {
        return Err(StoreError::InvalidRange);
    }
    Ok((r.start, last + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(resolve_range(10, None).unwrap(), (0, 10));
        assert_eq!(resolve_range(0, None).unwrap(), (0, 0));
        assert_eq!(
            resolve_range(
                10,
                Some(ByteRange {
                    start: 2,
                    end: Some(4)
                })
            )
            .unwrap(),
            (2, 5)
        );
        assert_eq!(
            resolve_range(
                10,
                Some(ByteRange {
                    start: 2,
                    end: None
                })
            )
            .unwrap(),
            (2, 10)
        );
        assert_eq!(
            resolve_range(
                10,
                Some(ByteRange {
                    start: 9,
                    end: Some(100)
                })
            )
            .unwrap(),
            (9, 10)
        );
        assert!(matches!(
            resolve_range(
                10,
                Some(ByteRange {
                    start: 10,
                    end: None
                })
            ),
            Err(StoreError::InvalidRange)
        ));
        assert!(matches!(
            resolve_range(
                0,
                Some(ByteRange {
                    start: 0,
                    end: None
                })
            ),
            Err(StoreError::InvalidRange)
        ));
        assert!(matches!(
            resolve_range(
                10,
                Some(ByteRange {
                    start: 5,
                    end: Some(3)
                })
            ),
            Err(StoreError::InvalidRange)
        ));
    }
}
