//! Small blobs stored inline: the bytes go into `blob_inline` in the same transaction as the
//! blob's row, so a small Put Blob costs one WAL flush instead of an extent fsync plus one.

use rusqlite::{params, Connection, OptionalExtension};

use crate::put::{BodyDigest, ContentSummary, PutTarget};
use crate::{BlobHttpProps, BlobProps, Conditions, Metadata, Pending, Result, Store, StoreError};

/// Largest body `put_blob_inline` keeps in the metadata database; larger ones go to extents.
pub const INLINE_BLOB_MAX: usize = 64 * 1024;

/// The bytes `[from, to)` of an inline blob, or None when the blob's content is in extents.
pub(crate) fn read_inline(
    conn: &Connection,
    blob_id: i64,
    from: u64,
    to: u64,
) -> Result<Option<bytes::Bytes>> {
    // substr on a BLOB counts bytes, 1-based; only the requested range leaves SQLite.
    let mut st =
        conn.prepare_cached("SELECT substr(data, ?2, ?3) FROM blob_inline WHERE blob_id = ?1")?;
    let data: Option<Vec<u8>> = st
        .query_row(
            params![blob_id, from as i64 + 1, to.saturating_sub(from) as i64],
            |r| r.get(0),
        )
        .optional()?;
    Ok(data.map(bytes::Bytes::from))
}

impl Store {
    /// Put Blob for a small body already in memory: the bytes are stored in SQLite in the same
    /// transaction as the metadata (one WAL flush); otherwise exactly `put_blob`. Bodies over
    /// `INLINE_BLOB_MAX` are written through an extent instead.
    #[allow(clippy::too_many_arguments)]
    pub fn put_blob_inline(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        bytes: bytes::Bytes,
        http: &BlobHttpProps,
        metadata: &Metadata,
        cond: &Conditions,
    ) -> Result<BlobProps> {
        if bytes.len() > INLINE_BLOB_MAX {
            let mut writer = self.blob_writer()?;
            writer.write(&bytes)?;
            let data = writer.finish()?;
            return self.put_blob(account, container, blob, data, http, metadata, cond);
        }
        let digest = BodyDigest::of(&bytes);
        self.queue_put_blob_inline(
            account, container, blob, bytes, digest, http, metadata, cond,
        )?
        .wait()
    }

    /// Put Blob of at most `INLINE_BLOB_MAX` bytes, answered through a `Pending`: nothing here
    /// touches a file, so async code may call it and await the commit without a blocking thread.
    /// A larger body is a caller's mistake (`Internal`); `put_blob_inline` takes any size.
    /// `digest` is `BodyDigest::of(&bytes)`, which the caller has already computed to check it.
    #[allow(clippy::too_many_arguments)]
    pub fn queue_put_blob_inline(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        bytes: bytes::Bytes,
        digest: BodyDigest,
        http: &BlobHttpProps,
        metadata: &Metadata,
        cond: &Conditions,
    ) -> Result<Pending<BlobProps>> {
        if bytes.len() > INLINE_BLOB_MAX {
            return Err(StoreError::Internal(format!(
                "an inline blob holds at most {INLINE_BLOB_MAX} bytes"
            )));
        }
        debug_assert_eq!(digest, BodyDigest::of(&bytes));
        let summary = ContentSummary {
            len: bytes.len() as u64,
            md5: Some(digest.md5),
            crc64: digest.crc64,
        };
        let target = PutTarget::new(account, container, blob, http, metadata, cond);
        self.queue_replace_blob(Vec::new(), target, summary, move |c, id| {
            // An empty blob has no content to store, inline or in extents.
            if !bytes.is_empty() {
                c.prepare_cached("INSERT INTO blob_inline (blob_id, data) VALUES (?1, ?2)")?
                    .execute(params![id, bytes.as_ref()])?;
            }
            Ok(())
        })
    }
}
