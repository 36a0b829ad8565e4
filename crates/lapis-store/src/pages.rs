//! Page blobs: sparse content in 512-byte pages. A page blob's `blob_chunks` rows cover only
//! the pages written; holes between them read as zeros and cost nothing. Writing a range
//! replaces the overlapping parts of those rows (chunks are split at the range's edges, the
//! triggers keep `extents.live_bytes` right), clearing a range removes them.

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use crate::blobs::{find_blob, upsert_blob, BlobRow, Replacing};
use crate::chunks::{cipher_from_columns, insert_chunks_at};
use crate::conditions::check_blob_row;
use crate::containers::load_container;
use crate::cpk::check_key;
use crate::{
    Access, BlobHttpProps, BlobProps, BlobType, Chunk, Conditions, CustomerKey, Metadata, Refusal,
    Result, Store, StoreError, WrittenData,
};

pub(crate) use crate::page_ranges::page_reader;
pub use crate::page_ranges::{PageRange, PageRangeList, PageRangeQuery};

/// Pages are 512 bytes: every range and size of a page blob is a multiple of this.
pub const PAGE_SIZE: u64 = 512;
/// Azure's largest page blob: 8 TiB.
pub const MAX_PAGE_BLOB_SIZE: u64 = 8 * 1024 * 1024 * 1024 * 1024;
/// Azure's largest write of pages: 4 MiB.
pub const MAX_PAGE_WRITE: u64 = 4 * 1024 * 1024;
/// The largest sequence number (a signed 64-bit integer's largest value).
pub const MAX_SEQUENCE_NUMBER: u64 = i64::MAX as u64;

/// `x-ms-if-sequence-number-le`, `-lt` and `-eq`: every one given must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceConditions {
    pub le: Option<u64>,
    pub lt: Option<u64>,
    pub eq: Option<u64>,
}

impl SequenceConditions {
    fn check(&self, current: u64) -> Result<()> {
        let holds = self.le.is_none_or(|v| current <= v)
            && self.lt.is_none_or(|v| current < v)
            && self.eq.is_none_or(|v| current == v);
        if holds {
            Ok(())
        } else {
            Err(StoreError::Refused(Refusal::SequenceNumberConditionNotMet))
        }
    }
}

/// `x-ms-sequence-number-action` with its `x-ms-blob-sequence-number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceNumberAction {
    /// The larger of the given and the current number.
    Max(u64),
    Update(u64),
    Increment,
}

/// What Set Blob Properties does to a page blob: resize it, change its sequence number, and
/// (when `http` is given) replace its content headers.
#[derive(Debug, Clone, Default)]
pub struct PageBlobChange {
    pub size: Option<u64>,
    pub sequence: Option<SequenceNumberAction>,
    pub http: Option<BlobHttpProps>,
}

/// The blob's row for a write, which must be a committed page blob.
fn load_page_blob(
    conn: &Connection,
    account: &str,
    container: &str,
    blob: &str,
) -> Result<(i64, BlobRow)> {
    let cont = load_container(conn, account, container)?;
    let row = find_blob(conn, cont.id, blob)?
        .filter(|b| b.committed)
        .ok_or(StoreError::BlobNotFound)?;
    if row.props.blob_type != BlobType::PageBlob {
        return Err(StoreError::Refused(Refusal::InvalidBlobType));
    }
    Ok((cont.id, row))
}

/// Drops the blob's bytes in `[from, to)`: runs inside are deleted, runs across an edge keep
/// the part outside.
pub(crate) fn cut_range(conn: &Connection, blob_id: i64, from: u64, to: u64) -> Result<()> {
    let mut st = conn.prepare_cached(
        "SELECT start, extent, offset, len, iv, position FROM blob_chunks
         WHERE blob_id = ?1 AND start < ?3
           AND start >= COALESCE((SELECT MAX(start) FROM blob_chunks WHERE blob_id = ?1 AND start <= ?2), 0)
         ORDER BY start",
    )?;
    let to_sql = to.min(i64::MAX as u64) as i64;
    let mut q = st.query(params![blob_id, from as i64, to_sql])?;
    let mut overlapping: Vec<(u64, Chunk)> = Vec::new();
    while let Some(r) = q.next()? {
        let start = r.get::<_, i64>(0)? as u64;
        let chunk = Chunk {
            extent: r.get(1)?,
            offset: r.get::<_, i64>(2)? as u64,
            len: r.get::<_, i64>(3)? as u64,
            cipher: cipher_from_columns(r.get(4)?, r.get(5)?)?,
        };
        if start + chunk.len > from {
            overlapping.push((start, chunk));
        }
    }
    drop(q);
    let mut delete =
        conn.prepare_cached("DELETE FROM blob_chunks WHERE blob_id = ?1 AND start = ?2")?;
    for (start, chunk) in overlapping {
        delete.execute(params![blob_id, start as i64])?;
        if start < from {
            insert_chunks_at(conn, blob_id, start, &[chunk.part(0, from - start)])?;
        }
        let end = start + chunk.len;
        if end > to {
            insert_chunks_at(conn, blob_id, to, &[chunk.part(to - start, end - to)])?;
        }
    }
    Ok(())
}

impl Store {
    /// Creates (or replaces) a page blob of `size` bytes, all zeros (Put Blob with
    /// `x-ms-blob-type: PageBlob`). Under a customer-provided `key`, its pages must be written
    /// with that key.
    #[allow(clippy::too_many_arguments)]
    pub fn create_page_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        size: u64,
        sequence_number: u64,
        http: &BlobHttpProps,
        metadata: &Metadata,
        cond: &Conditions,
        key: Option<&CustomerKey>,
        tags: &[(String, String)],
    ) -> Result<BlobProps> {
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let tags = tags.to_vec();
        let (http, metadata, cond) = (http.clone(), metadata.clone(), cond.clone());
        let key_sha256 = key.map(CustomerKey::sha256);
        let clock = self.core().clock.clone();
        let versioning = self.blob_versioning(&account);
        self.core().writer.submit(Vec::new(), move |c| {
            let target = Replacing::open(c, &account, &container, &blob, &cond, versioning)?;
            let now = OffsetDateTime::now_utc();
            let mut props = BlobProps {
                size,
                http,
                metadata,
                created: target.created(now),
                sequence_number,
                cpk_sha256: key_sha256,
                ..BlobProps::new(blob, BlobType::PageBlob, clock.next(), now)
            };
            target.write_row(c, &mut props, &tags)?;
            Ok(props)
        })
    }

    /// Writes `data` as the pages from `offset` on (Put Page, update). The caller checked that
    /// the range is page-aligned and as long as `data`.
    #[allow(clippy::too_many_arguments)]
    pub fn put_pages(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        offset: u64,
        data: WrittenData,
        cond: &Conditions,
        sequence: &SequenceConditions,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        let sync = data.sync_list();
        let (from, to) = (offset, offset + data.len);
        self.change_pages(
            account,
            container,
            blob,
            (from, to),
            Some(data),
            cond,
            sequence,
            key,
            sync,
        )
    }

    /// Clears the pages of `[from, to)` (Put Page, clear): they read as zeros again and are no
    /// longer listed.
    #[allow(clippy::too_many_arguments)]
    pub fn clear_pages(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        from: u64,
        to: u64,
        cond: &Conditions,
        sequence: &SequenceConditions,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        self.change_pages(
            account,
            container,
            blob,
            (from, to),
            None,
            cond,
            sequence,
            key,
            Vec::new(),
        )
    }

    /// One writer transaction: the checks, then the range's runs replaced by `data` (or
    /// dropped), then the row's new ETag and Last-Modified.
    #[allow(clippy::too_many_arguments)]
    fn change_pages(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        (from, to): (u64, u64),
        data: Option<WrittenData>,
        cond: &Conditions,
        sequence: &SequenceConditions,
        key: Option<&CustomerKey>,
        sync: Vec<(std::sync::Arc<crate::pool::Extent>, u64)>,
    ) -> Result<BlobProps> {
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let (cond, sequence, key) = (cond.clone(), *sequence, key.cloned());
        let clock = self.core().clock.clone();
        // `data` moves into the job so that its extent pins last until the commit.
        self.core().writer.submit(sync, move |c| {
            let (container_id, row) = load_page_blob(c, &account, &container, &blob)?;
            // Bytes are written under the blob's key; clearing needs none, but a wrong one fails.
            if data.is_some() || key.is_some() {
                check_key(row.props.cpk_sha256.as_ref(), key.as_ref())?;
            }
            check_blob_row(c, &cond, &row, Access::Write)?;
            sequence.check(row.props.sequence_number)?;
            if to > row.props.size {
                return Err(StoreError::Refused(Refusal::InvalidPageRange));
            }
            cut_range(c, row.id, from, to)?;
            if let Some(data) = &data {
                insert_chunks_at(c, row.id, from, &data.chunks)?;
            }
            let mut props = row.props;
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            upsert_blob(c, container_id, Some(row.id), true, &props)?;
            Ok(props)
        })
    }

    /// Set Blob Properties on a page blob: resize (a shrink drops the pages past the new
    /// end), change the sequence number, and replace the content headers if given.
    pub fn set_page_blob_properties(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        change: &PageBlobChange,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let (change, cond, key) = (change.clone(), cond.clone(), key.cloned());
        let clock = self.core().clock.clone();
        self.core().writer.submit(Vec::new(), move |c| {
            let (container_id, row) = load_page_blob(c, &account, &container, &blob)?;
            if key.is_some() {
                check_key(row.props.cpk_sha256.as_ref(), key.as_ref())?;
            }
            check_blob_row(c, &cond, &row, Access::Write)?;
            let mut props = row.props;
            if let Some(size) = change.size {
                if size < props.size {
                    cut_range(c, row.id, size, u64::MAX)?;
                }
                props.size = size;
            }
            match change.sequence {
                None => {}
                Some(SequenceNumberAction::Max(n)) => {
                    props.sequence_number = props.sequence_number.max(n)
                }
                Some(SequenceNumberAction::Update(n)) => props.sequence_number = n,
                Some(SequenceNumberAction::Increment) => {
                    if props.sequence_number >= MAX_SEQUENCE_NUMBER {
                        return Err(StoreError::Refused(
                            Refusal::SequenceNumberIncrementTooLarge,
                        ));
                    }
                    props.sequence_number += 1;
                }
            }
            if let Some(http) = change.http {
                props.http = http;
            }
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            upsert_blob(c, container_id, Some(row.id), true, &props)?;
            Ok(props)
        })
    }
}
