//! Small blobs stored inline: the bytes go into `blob_inline` in the same transaction as the
//! blob's row, so a small Put Blob costs one WAL flush instead of an extent fsync plus one.

use rusqlite::{params, Connection, OptionalExtension};

use crate::cpk::{iv_from_column, new_iv};
use crate::put::{BodyDigest, ContentSummary, PutTarget};
use crate::{
    AccessTier, BlobHttpProps, BlobProps, Conditions, CustomerKey, Metadata, Pending, Result,
    Store, StoreError,
};

/// Largest body `put_blob_inline` keeps in the metadata database; larger ones go to extents.
pub const INLINE_BLOB_MAX: usize = 64 * 1024;

/// The bytes `[from, to)` of an inline blob, decrypted with `key` when they were stored under
/// a customer-provided key; None when the blob's content is in extents.
pub(crate) fn read_inline(
    conn: &Connection,
    blob_id: i64,
    from: u64,
    to: u64,
    key: Option<&CustomerKey>,
) -> Result<Option<bytes::Bytes>> {
    // substr on a BLOB counts bytes, 1-based; only the requested range leaves SQLite.
    let mut st =
        conn.prepare_cached("SELECT substr(data, ?2, ?3), iv FROM blob_inline WHERE blob_id = ?1")?;
    let row: Option<(Vec<u8>, Option<Vec<u8>>)> = st
        .query_row(
            params![blob_id, from as i64 + 1, to.saturating_sub(from) as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((mut data, iv)) = row else {
        return Ok(None);
    };
    match (iv_from_column(iv)?, key) {
        (None, _) => {}
        (Some(iv), Some(key)) => key.apply(&iv, from, &mut data),
        (Some(_), None) => return Err(StoreError::CustomerKeyRequired),
    }
    Ok(Some(bytes::Bytes::from(data)))
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
        tier: Option<AccessTier>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        let target = PutTarget::new(account, container, blob, http, metadata, tier, cond);
        self.put_inline_into(target, bytes, key)
    }

    /// `put_blob_inline` with index `tags` (`x-ms-tags`), set in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn put_blob_inline_tagged(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        bytes: bytes::Bytes,
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
        tags: &[(String, String)],
    ) -> Result<BlobProps> {
        let target = PutTarget::new(account, container, blob, http, metadata, tier, cond);
        self.put_inline_into(target.tagged(tags), bytes, key)
    }

    fn put_inline_into(
        &self,
        target: PutTarget,
        bytes: bytes::Bytes,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        if bytes.len() > INLINE_BLOB_MAX {
            let mut writer = self.blob_writer()?;
            if let Some(key) = key {
                writer = writer.encrypt_with(key)?;
            }
            writer.write(&bytes)?;
            let data = writer.finish()?;
            return self.put_blob_into(target, data);
        }
        let digest = BodyDigest::of(&bytes);
        self.queue_inline_into(target, bytes, digest, key)?.wait()
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
        tier: Option<AccessTier>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<Pending<BlobProps>> {
        let target = PutTarget::new(account, container, blob, http, metadata, tier, cond);
        self.queue_inline_into(target, bytes, digest, key)
    }

    /// `queue_put_blob_inline` with index `tags` (`x-ms-tags`), set in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn queue_put_blob_inline_tagged(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        bytes: bytes::Bytes,
        digest: BodyDigest,
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
        tags: &[(String, String)],
    ) -> Result<Pending<BlobProps>> {
        let target = PutTarget::new(account, container, blob, http, metadata, tier, cond);
        self.queue_inline_into(target.tagged(tags), bytes, digest, key)
    }

    fn queue_inline_into(
        &self,
        target: PutTarget,
        bytes: bytes::Bytes,
        digest: BodyDigest,
        key: Option<&CustomerKey>,
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
            key_sha256: key.map(CustomerKey::sha256),
        };
        // Under a customer-provided key the bytes are stored encrypted, with their own IV.
        let (stored, iv) = match key {
            Some(key) => {
                let iv = new_iv()?;
                let mut sealed = bytes.to_vec();
                key.apply(&iv, 0, &mut sealed);
                (bytes::Bytes::from(sealed), Some(iv))
            }
            None => (bytes, None),
        };
        self.queue_replace_blob(Vec::new(), target, summary, move |c, id| {
            // An empty blob has no content to store, inline or in extents.
            if !stored.is_empty() {
                c.prepare_cached(
                    "INSERT INTO blob_inline (blob_id, data, iv) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    id,
                    stored.as_ref(),
                    iv.as_ref().map(|v| v.as_slice())
                ])?;
            }
            Ok(())
        })
    }
}
