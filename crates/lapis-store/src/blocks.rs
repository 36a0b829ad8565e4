//! Block blobs built from blocks: Put Block, Put Block List, Get Block List.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::blobs::{find_blob, find_blob_at, upsert_blob, BlobRow, Replacing};
use crate::chunks::{cipher_from_columns, ensure_extent_row, insert_blob_chunks};
use crate::codec::time_to_i64;
use crate::conditions::{check_lease, LeaseHolder};
use crate::containers::load_container;
use crate::cpk::{check_key, sha256_from_column};
use crate::{
    Access, AccessTier, BlobHttpProps, BlobProps, BlobType, BlockInfo, BlockListFilter, BlockLists,
    BlockSource, Chunk, Conditions, CustomerKey, Metadata, Refusal, Result, Store, StoreError,
    WrittenData,
};

/// Azure's limits per blob.
pub(crate) const MAX_UNCOMMITTED_BLOCKS: i64 = 100_000;
pub(crate) const MAX_COMMITTED_BLOCKS: usize = 50_000;

pub(crate) fn insert_block(
    conn: &Connection,
    blob_id: i64,
    block_id: &str,
    committed: bool,
    seq: i64,
    created: i64,
    block: &StoredBlock,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO blocks (blob_id, block_id, committed, seq, size, created, cpk_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
        .execute(params![
            blob_id,
            block_id,
            committed,
            seq,
            block.size as i64,
            created,
            block.key_sha256.as_ref().map(|h| h.as_slice())
        ])?;
    let row = conn.last_insert_rowid();
    // Committed blocks' bytes are counted once, through the blob's own chunks.
    let counted = i64::from(!committed);
    let mut st = conn.prepare_cached("INSERT INTO block_chunks (block, seq, extent, offset, len, counted, iv, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
    for (i, ch) in block.chunks.iter().filter(|c| c.len > 0).enumerate() {
        ensure_extent_row(conn, ch.extent)?;
        st.execute(params![
            row,
            i as i64,
            ch.extent,
            ch.offset as i64,
            ch.len as i64,
            counted,
            ch.cipher.as_ref().map(|c| c.iv.as_slice()),
            ch.cipher.map(|c| c.position as i64),
        ])?;
    }
    Ok(())
}

pub(crate) struct StoredBlock {
    pub(crate) size: u64,
    /// SHA-256 of the customer-provided key the block's bytes are encrypted with.
    pub(crate) key_sha256: Option<[u8; 32]>,
    pub(crate) chunks: Vec<Chunk>,
}

/// A blob's blocks keyed by id: (committed, uncommitted).
fn load_blocks(
    conn: &Connection,
    blob_id: i64,
) -> Result<(HashMap<String, StoredBlock>, HashMap<String, StoredBlock>)> {
    let mut st = conn.prepare_cached(
        "SELECT b.id, b.block_id, b.committed, b.size, c.extent, c.offset, c.len, b.cpk_sha256,
                c.iv, c.position
         FROM blocks b LEFT JOIN block_chunks c ON c.block = b.id
         WHERE b.blob_id = ?1 ORDER BY b.id, c.seq",
    )?;
    let mut q = st.query([blob_id])?;
    let (mut committed, mut uncommitted) = (HashMap::new(), HashMap::new());
    // (row id, key, committed) of the block whose chunks are being gathered; None = skipping.
    let mut last_row: Option<i64> = None;
    let mut current: Option<(String, bool)> = None;
    while let Some(r) = q.next()? {
        let row: i64 = r.get(0)?;
        if last_row != Some(row) {
            last_row = Some(row);
            let id: String = r.get(1)?;
            let is_committed: bool = r.get(2)?;
            let map = if is_committed {
                &mut committed
            } else {
                &mut uncommitted
            };
            // A committed id listed twice has the same bytes each time: keep the first.
            current = if map.contains_key(&id) {
                None
            } else {
                map.insert(
                    id.clone(),
                    StoredBlock {
                        size: r.get::<_, i64>(3)? as u64,
                        key_sha256: sha256_from_column(r.get(7)?)?,
                        chunks: Vec::new(),
                    },
                );
                Some((id, is_committed))
            };
        }
        let Some((id, is_committed)) = &current else {
            continue;
        };
        if let (Some(extent), Some(offset), Some(len)) = (
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, Option<i64>>(6)?,
        ) {
            let map = if *is_committed {
                &mut committed
            } else {
                &mut uncommitted
            };
            if let Some(block) = map.get_mut(id) {
                block.chunks.push(Chunk {
                    extent,
                    offset: offset as u64,
                    len: len as u64,
                    cipher: cipher_from_columns(r.get(8)?, r.get(9)?)?,
                });
            }
        }
    }
    Ok((committed, uncommitted))
}

fn list_blocks(conn: &Connection, blob_id: i64, committed: bool) -> Result<Vec<BlockInfo>> {
    let mut st = conn.prepare_cached(
        "SELECT block_id, size FROM blocks WHERE blob_id = ?1 AND committed = ?2 ORDER BY seq",
    )?;
    let rows = st.query_map(params![blob_id, committed], |r| {
        Ok(BlockInfo {
            id: r.get(0)?,
            size: r.get::<_, i64>(1)? as u64,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Blocks belong to block blobs: a page or append blob of the name refuses them.
fn only_block_blob(row: &BlobRow) -> Result<&BlobRow> {
    match row.props.blob_type {
        BlobType::BlockBlob => Ok(row),
        _ => Err(StoreError::Refused(Refusal::InvalidBlobType)),
    }
}

/// The length of the id a client chose, before the base64 encoding it is sent and kept in
/// (padded standard base64, as Put Block checks it).
fn block_id_len(id: &str) -> usize {
    let padding = id.bytes().rev().take_while(|b| *b == b'=').count();
    (id.len() / 4 * 3).saturating_sub(padding)
}

impl Store {
    /// Stores an uncommitted block; the same id again replaces it. The blob need not exist.
    pub fn put_block(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        block_id: &str,
        data: WrittenData,
    ) -> Result<()> {
        self.put_block_under_lease(account, container, blob, block_id, data, None)
    }

    /// `put_block` by a caller naming a lease (`x-ms-lease-id`), which a leased blob requires.
    pub fn put_block_under_lease(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        block_id: &str,
        data: WrittenData,
        lease_id: Option<&str>,
    ) -> Result<()> {
        let lease_id = lease_id.map(str::to_owned);
        let (account, container, blob, block_id) = (
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            block_id.to_owned(),
        );
        let sync = data.sync_list();
        self.core().writer.submit(sync, move |c| {
            let cont = load_container(c, &account, &container)?;
            let now = OffsetDateTime::now_utc();
            let blob_id = match find_blob(c, cont.id, &blob)? {
                Some(row) => {
                    only_block_blob(&row)?;
                    let lease = row.committed.then_some(&row.props.lease);
                    let lease = lease.cloned().unwrap_or_default();
                    check_lease(&lease, lease_id.as_deref(), Access::Write, LeaseHolder::Blob)?;
                    row.id
                }
                None => {
                    check_lease(
                        &Default::default(),
                        lease_id.as_deref(),
                        Access::Write,
                        LeaseHolder::Blob,
                    )?;
                    // Placeholder row: visible only through block lists and uncommitted listings.
                    let props = BlobProps::new(blob, BlobType::BlockBlob, String::new(), now);
                    upsert_blob(c, cont.id, None, false, &props)?
                }
            };
            // All uncommitted blocks of a blob have ids of one length.
            let other: Option<String> = c
                .prepare_cached("SELECT block_id FROM blocks WHERE blob_id = ?1 AND committed = 0 LIMIT 1")?
                .query_row([blob_id], |r| r.get(0))
                .optional()?;
            if other.is_some_and(|o| block_id_len(&o) != block_id_len(&block_id)) {
                return Err(StoreError::BlockIdLengthMismatch);
            }
            let replaced = c
                .prepare_cached("DELETE FROM blocks WHERE blob_id = ?1 AND block_id = ?2 AND committed = 0")?
                .execute(params![blob_id, block_id])?;
            let (count, last_seq): (i64, i64) = c
                .prepare_cached("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM blocks WHERE blob_id = ?1 AND committed = 0")?
                .query_row([blob_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if replaced == 0 && count >= MAX_UNCOMMITTED_BLOCKS {
                return Err(StoreError::BlockCountExceeded);
            }
            let block = StoredBlock {
                size: data.len,
                key_sha256: data.key_sha256,
                chunks: data.chunks,
            };
            insert_block(c, blob_id, &block_id, false, last_seq + 1, time_to_i64(now), &block)?;
            Ok(())
        })
    }

    /// Commits the listed blocks, in order, as the blob's content (Put Block List), in `tier`
    /// when given. Blocks written under a customer-provided key are committed with that `key`.
    #[allow(clippy::too_many_arguments)]
    pub fn put_block_list(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        blocks: &[(BlockSource, String)],
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        self.put_block_list_tagged(
            account,
            container,
            blob,
            blocks,
            http,
            metadata,
            tier,
            cond,
            key,
            &[],
        )
    }

    /// `put_block_list` with index `tags` (`x-ms-tags`), set in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn put_block_list_tagged(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        blocks: &[(BlockSource, String)],
        http: &BlobHttpProps,
        metadata: &Metadata,
        tier: Option<AccessTier>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
        tags: &[(String, String)],
    ) -> Result<BlobProps> {
        let tags = tags.to_vec();
        if blocks.len() > MAX_COMMITTED_BLOCKS {
            return Err(StoreError::BlockCountExceeded);
        }
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        let (blocks, http, metadata, cond) = (
            blocks.to_vec(),
            http.clone(),
            metadata.clone(),
            cond.clone(),
        );
        let clock = self.core().clock.clone();
        let key = key.cloned();
        let versioning = self.blob_versioning(&account);
        self.core().writer.submit(Vec::new(), move |c| {
            let target = Replacing::open(c, &account, &container, &blob, &cond, versioning)?;
            if target
                .existing
                .as_ref()
                .is_some_and(|b| b.committed && b.props.blob_type != BlobType::BlockBlob)
            {
                return Err(StoreError::Refused(Refusal::InvalidBlobType));
            }
            let (committed, uncommitted) = match &target.existing {
                Some(row) => load_blocks(c, only_block_blob(row)?.id)?,
                None => Default::default(),
            };
            let mut resolved = Vec::with_capacity(blocks.len());
            for (source, id) in &blocks {
                let block = match source {
                    BlockSource::Committed => committed.get(id),
                    BlockSource::Uncommitted => uncommitted.get(id),
                    BlockSource::Latest => uncommitted.get(id).or_else(|| committed.get(id)),
                };
                let block = block.ok_or(StoreError::InvalidBlockList)?;
                check_key(block.key_sha256.as_ref(), key.as_ref())?;
                resolved.push((id, block));
            }
            let now = OffsetDateTime::now_utc();
            let mut props = BlobProps {
                name: blob,
                blob_type: BlobType::BlockBlob,
                etag: clock.next(),
                last_modified: now,
                created: target.created(now),
                size: resolved.iter().map(|(_, b)| b.size).sum(),
                http,
                metadata,
                content_crc64: None,
                committed_block_count: resolved.len() as u32,
                access_tier: tier.map(|t| (t, now)),
                cpk_sha256: key.as_ref().map(CustomerKey::sha256),
                ..BlobProps::new(String::new(), BlobType::BlockBlob, String::new(), now)
            };
            let blob_id = target.write_row(c, &mut props, &tags)?;
            let created = time_to_i64(now);
            let mut content: Vec<Chunk> = Vec::new();
            for (seq, (id, block)) in resolved.iter().enumerate() {
                insert_block(c, blob_id, id, true, seq as i64, created, block)?;
                for ch in &block.chunks {
                    match content.last_mut() {
                        Some(last) if last.continued_by(ch) => last.len += ch.len,
                        _ => content.push(*ch),
                    }
                }
            }
            insert_blob_chunks(c, blob_id, &content)?;
            Ok(props)
        })
    }

    pub fn get_block_list(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        filter: BlockListFilter,
    ) -> Result<BlockLists> {
        self.get_block_list_at(account, container, blob, None, filter)
    }

    /// `get_block_list` of a snapshot (`None`: the base blob), which has committed blocks only.
    pub fn get_block_list_at(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        filter: BlockListFilter,
    ) -> Result<BlockLists> {
        self.core().readers.read(|c| {
            let cont = load_container(c, account, container)?;
            let row = find_blob_at(c, cont.id, blob, snapshot.unwrap_or(""))?
                .ok_or(StoreError::BlobNotFound)?;
            only_block_blob(&row)?;
            let committed = match filter {
                BlockListFilter::Committed | BlockListFilter::All => list_blocks(c, row.id, true)?,
                BlockListFilter::Uncommitted => Vec::new(),
            };
            let uncommitted = list_blocks(c, row.id, false)?;
            if !row.committed && uncommitted.is_empty() {
                return Err(StoreError::BlobNotFound);
            }
            let uncommitted = match filter {
                BlockListFilter::Uncommitted | BlockListFilter::All => uncommitted,
                BlockListFilter::Committed => Vec::new(),
            };
            Ok(BlockLists {
                committed,
                uncommitted,
                blob: row.committed.then_some(row.props),
            })
        })
    }
}
