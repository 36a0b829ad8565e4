//! Restoring state brought from another emulator (`lapis import-azurite`): containers, blobs,
//! entities and messages written exactly as given — ETags, times, leases, snapshot names,
//! entity timestamps, message ids and pop receipts — where a request would make new ones.
//!
//! No HTTP operation reaches these functions. Each one replaces the object at its key (a
//! container's name, a blob's name and snapshot, an entity's keys, a message's id), so
//! importing the same thing twice leaves one copy, and each runs as one writer job: an object
//! is either imported whole or not at all.

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::blobs::{find_blob_at, upsert_blob};
use crate::blocks::{insert_block, StoredBlock};
use crate::chunks::insert_chunks_at;
use crate::codec::{access_to_i64, encode_acl, encode_metadata, time_to_i64};
use crate::containers::find_container;
use crate::entities::set_entity_clock_at_least;
use crate::queues::queue_id;
use crate::tables::table_id;
use crate::{
    BlobProps, BlobType, Chunk, ContainerProps, EntityRecord, QueueMessage, Result,
    SignedIdentifier, Store, StoreError, WrittenData,
};

/// Whether an import made a new object or replaced one stored under the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    Replaced,
}

/// A block with the id its client gave it and when it was staged (uncommitted blocks expire
/// `StoreOptions::uncommitted_block_ttl` after that).
#[derive(Debug, Clone)]
pub struct ImportedBlock {
    pub id: String,
    pub data: WrittenData,
    pub created: OffsetDateTime,
}

/// What an imported blob holds.
#[derive(Debug, Clone)]
pub enum ImportedContent {
    /// The content stored under the blob's key stays as it is (its committed blocks too): the
    /// caller found the same version there. The stored blob must be committed, of the same
    /// type and size.
    Keep,
    /// Content kept in SQLite with the row, as Put Blob keeps bodies up to `INLINE_BLOB_MAX`.
    Inline(Vec<u8>),
    /// Runs of bytes at their offsets in the blob, in order and apart: one for a blob put
    /// whole, one per appended block of an append blob, one per written range of a page blob
    /// (the holes between them read as zeros).
    Runs(Vec<(u64, WrittenData)>),
    /// A block blob's committed blocks, in order: the content is their concatenation and Get
    /// Block List lists them.
    Blocks(Vec<ImportedBlock>),
}

/// A blob (or one of its snapshots, `props.snapshot`) as it is to be stored.
#[derive(Debug, Clone)]
pub struct ImportedBlob {
    /// Stored as given: ETag, times, lease, tier, copy properties, sequence number...
    /// `tag_count` is taken from `tags`.
    pub props: BlobProps,
    /// False: a blob that exists only through uncommitted blocks (`content` then `Runs(vec![])`).
    pub committed: bool,
    pub tags: Vec<(String, String)>,
    pub content: ImportedContent,
    /// `Some`: the blob's uncommitted blocks become these; `None`: the stored ones stay.
    pub uncommitted: Option<Vec<ImportedBlock>>,
}

fn invalid(what: String) -> StoreError {
    StoreError::Internal(format!("import: {what}"))
}

/// The extents to make durable before the commit that references `data`.
fn sync_of<'a>(
    data: impl Iterator<Item = &'a WrittenData>,
) -> Vec<(std::sync::Arc<crate::pool::Extent>, u64)> {
    data.flat_map(|d| d.sync_list()).collect()
}

/// Checks that the content is a consistent picture of `props` before anything is written.
fn check_blob(blob: &ImportedBlob) -> Result<()> {
    let p = &blob.props;
    let name = &p.name;
    if p.snapshot.is_some() && (!blob.committed || blob.uncommitted.is_some()) {
        return Err(invalid(format!(
            "snapshot of {name} must be committed and has no uncommitted blocks"
        )));
    }
    match &blob.content {
        ImportedContent::Keep => {}
        ImportedContent::Inline(bytes) => {
            if bytes.len() as u64 != p.size || p.blob_type != BlobType::BlockBlob {
                return Err(invalid(format!(
                    "{name}: inline content is for block blobs of its size"
                )));
            }
        }
        ImportedContent::Blocks(blocks) => {
            let total: u64 = blocks.iter().map(|b| b.data.len).sum();
            if p.blob_type != BlobType::BlockBlob
                || total != p.size
                || blocks.len() as u32 != p.committed_block_count
            {
                return Err(invalid(format!(
                    "{name}: {} blocks of {total} bytes do not make a block blob of {} bytes and {} blocks",
                    blocks.len(),
                    p.size,
                    p.committed_block_count
                )));
            }
        }
        ImportedContent::Runs(runs) => {
            let mut end = 0;
            for (at, data) in runs {
                if *at < end {
                    return Err(invalid(format!("{name}: runs overlap or are out of order")));
                }
                end = at + data.len;
            }
            if end > p.size {
                return Err(invalid(format!(
                    "{name}: content ends at {end}, past the size {}",
                    p.size
                )));
            }
            // Only a page blob has holes; the others are their runs end to end.
            let covered: u64 = runs.iter().map(|(_, d)| d.len).sum();
            if blob.committed && p.blob_type != BlobType::PageBlob && covered != p.size {
                return Err(invalid(format!(
                    "{name}: {covered} bytes of content for a blob of {} bytes",
                    p.size
                )));
            }
        }
    }
    Ok(())
}

fn chunks_of(data: &WrittenData) -> Vec<Chunk> {
    data.chunks.clone()
}

fn stored_block(data: &WrittenData) -> StoredBlock {
    StoredBlock {
        size: data.len,
        key_sha256: data.key_sha256,
        chunks: chunks_of(data),
    }
}

/// Writes the imported blob's row and content in the current transaction.
fn write_blob(
    c: &Connection,
    container_id: i64,
    blob: &ImportedBlob,
) -> Result<(i64, ImportOutcome)> {
    let snapshot = blob.props.snapshot.as_deref().unwrap_or("");
    let existing = find_blob_at(c, container_id, &blob.props.name, snapshot)?;
    if let ImportedContent::Keep = blob.content {
        let same = existing.as_ref().is_some_and(|e| {
            e.committed
                && e.props.blob_type == blob.props.blob_type
                && e.props.size == blob.props.size
        });
        if !same {
            return Err(invalid(format!(
                "{}: no stored content of that type and size to keep",
                blob.props.name
            )));
        }
    }
    let id = existing.as_ref().map(|e| e.id);
    if let Some(id) = id {
        if !matches!(blob.content, ImportedContent::Keep) {
            c.prepare_cached("DELETE FROM blob_chunks WHERE blob_id = ?1")?
                .execute([id])?;
            c.prepare_cached("DELETE FROM blob_inline WHERE blob_id = ?1")?
                .execute([id])?;
            c.prepare_cached("DELETE FROM blocks WHERE blob_id = ?1 AND committed = 1")?
                .execute([id])?;
        }
        if blob.uncommitted.is_some() {
            c.prepare_cached("DELETE FROM blocks WHERE blob_id = ?1 AND committed = 0")?
                .execute([id])?;
        }
    }
    let mut props = blob.props.clone();
    props.tag_count = blob.tags.len() as u32;
    props.tags = None;
    let id = upsert_blob(c, container_id, id, blob.committed, &props)?;
    crate::tags::write_tags(c, id, &blob.tags)?;
    match &blob.content {
        ImportedContent::Keep => {}
        ImportedContent::Inline(bytes) => {
            c.prepare_cached("INSERT INTO blob_inline (blob_id, data, iv) VALUES (?1, ?2, NULL)")?
                .execute(params![id, bytes])?;
        }
        ImportedContent::Runs(runs) => {
            for (at, data) in runs {
                insert_chunks_at(c, id, *at, &data.chunks)?;
            }
        }
        ImportedContent::Blocks(blocks) => {
            let mut at = 0;
            for (seq, block) in blocks.iter().enumerate() {
                let created = time_to_i64(block.created);
                insert_block(
                    c,
                    id,
                    &block.id,
                    true,
                    seq as i64,
                    created,
                    &stored_block(&block.data),
                )?;
                insert_chunks_at(c, id, at, &block.data.chunks)?;
                at += block.data.len;
            }
        }
    }
    if let Some(blocks) = &blob.uncommitted {
        for (seq, block) in blocks.iter().enumerate() {
            let created = time_to_i64(block.created);
            insert_block(
                c,
                id,
                &block.id,
                false,
                seq as i64 + 1,
                created,
                &stored_block(&block.data),
            )?;
        }
    }
    let outcome = match existing {
        Some(_) => ImportOutcome::Replaced,
        None => ImportOutcome::Created,
    };
    Ok((id, outcome))
}

impl Store {
    /// Stores a container exactly as described (ETag, times, metadata, public access, lease)
    /// with its stored access policies, over any container of that name; its blobs stay.
    pub fn import_container(
        &self,
        account: &str,
        props: &ContainerProps,
        acl: &[SignedIdentifier],
    ) -> Result<ImportOutcome> {
        let (account, props, acl) = (account.to_owned(), props.clone(), encode_acl(acl));
        self.core().writer.submit(Vec::new(), move |c| {
            let lease = &props.lease;
            let values = params![
                account,
                props.name,
                props.etag,
                time_to_i64(props.last_modified),
                time_to_i64(props.created),
                encode_metadata(&props.metadata),
                access_to_i64(props.public_access),
                acl,
                crate::blobs::lease_state_to_i64(lease.state),
                lease.id,
                lease.duration,
                lease.until.map(time_to_i64),
            ];
            match find_container(c, &account, &props.name)? {
                Some(_) => {
                    c.prepare_cached(
                        "UPDATE containers SET etag = ?3, last_modified = ?4, created = ?5,
                         metadata = ?6, public_access = ?7, acl = ?8, lease_state = ?9,
                         lease_id = ?10, lease_duration = ?11, lease_until = ?12
                         WHERE account = ?1 AND name = ?2 AND deleted_version = ''",
                    )?
                    .execute(values)?;
                    Ok(ImportOutcome::Replaced)
                }
                None => {
                    c.prepare_cached(
                        "INSERT INTO containers (account, name, etag, last_modified, created,
                         metadata, public_access, acl, lease_state, lease_id, lease_duration,
                         lease_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    )?
                    .execute(values)?;
                    Ok(ImportOutcome::Created)
                }
            }
        })
    }

    /// Stores a blob or snapshot exactly as described, replacing the row at its name and
    /// snapshot (leases and conditions on the stored one do not apply: this is a restore). The
    /// bytes were written with `blob_writer`; they are made durable before the commit.
    pub fn import_blob(
        &self,
        account: &str,
        container: &str,
        blob: ImportedBlob,
    ) -> Result<ImportOutcome> {
        check_blob(&blob)?;
        let written = match &blob.content {
            ImportedContent::Runs(runs) => runs.iter().map(|(_, d)| d).collect::<Vec<_>>(),
            ImportedContent::Blocks(blocks) => blocks.iter().map(|b| &b.data).collect(),
            ImportedContent::Keep | ImportedContent::Inline(_) => Vec::new(),
        };
        let mut sync = sync_of(written.into_iter());
        if let Some(blocks) = &blob.uncommitted {
            sync.extend(sync_of(blocks.iter().map(|b| &b.data)));
        }
        let (account, container) = (account.to_owned(), container.to_owned());
        // `blob` moves into the job so that its extent pins last until the commit.
        self.core().writer.submit(sync, move |c| {
            let cont =
                find_container(c, &account, &container)?.ok_or(StoreError::ContainerNotFound)?;
            Ok(write_blob(c, cont.id, &blob)?.1)
        })
    }

    /// Stores entities with their own timestamps (100 ns precision), replacing those with the
    /// same keys; an entity stored with the same timestamp and properties is left alone.
    /// Entity writes after this get timestamps above every imported one. Returns how many
    /// entities were added or changed.
    pub fn import_entities(
        &self,
        account: &str,
        table: &str,
        entities: Vec<EntityRecord>,
    ) -> Result<u64> {
        let (account, table) = (account.to_owned(), table.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let id = table_id(c, &account, &table)?;
            let mut st = c.prepare_cached(
                "INSERT INTO entities (table_id, pk, rk, ts, props) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (table_id, pk, rk) DO UPDATE SET ts = excluded.ts, props = excluded.props
                 WHERE ts != excluded.ts OR props != excluded.props",
            )?;
            let (mut changed, mut latest) = (0u64, 0i64);
            for e in &entities {
                let ticks = crate::entities::time_to_ticks(e.timestamp);
                latest = latest.max(ticks);
                changed += st.execute(params![
                    id,
                    e.partition_key,
                    e.row_key,
                    ticks,
                    e.properties
                ])? as u64;
            }
            set_entity_clock_at_least(c, latest)?;
            Ok(changed)
        })
    }

    /// Stores messages with their own ids, times, dequeue counts and pop receipts, in the
    /// given order (which is the order messages that become visible together are served in),
    /// replacing those with the same id. Returns how many messages were added or changed.
    pub fn import_messages(
        &self,
        account: &str,
        queue: &str,
        messages: Vec<QueueMessage>,
    ) -> Result<u64> {
        let (account, queue) = (account.to_owned(), queue.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let qid = queue_id(c, &account, &queue)?;
            let (mut changed, mut added) = (0u64, 0i64);
            for m in &messages {
                let values = params![
                    qid,
                    m.id,
                    time_to_i64(m.inserted),
                    m.expires.map(time_to_i64),
                    time_to_i64(m.next_visible),
                    m.dequeue_count.min(i64::MAX as u64) as i64,
                    m.pop_receipt,
                    m.text
                ];
                let exists = c
                    .prepare_cached("SELECT 1 FROM messages WHERE queue_id = ?1 AND id = ?2")?
                    .query_row(params![qid, m.id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if exists {
                    changed += c
                        .prepare_cached(
                            "UPDATE messages SET inserted = ?3, expires = ?4, visible_at = ?5,
                             dequeue_count = ?6, pop_receipt = ?7, text = ?8
                             WHERE queue_id = ?1 AND id = ?2 AND (inserted != ?3
                               OR expires IS NOT ?4 OR visible_at != ?5 OR dequeue_count != ?6
                               OR pop_receipt != ?7 OR text != ?8)",
                        )?
                        .execute(values)? as u64;
                } else {
                    c.prepare_cached(
                        "INSERT INTO messages (queue_id, id, inserted, expires, visible_at,
                         dequeue_count, pop_receipt, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(values)?;
                    added += 1;
                    changed += 1;
                }
            }
            c.prepare_cached("UPDATE queues SET message_count = message_count + ?2 WHERE id = ?1")?
                .execute(params![qid, added])?;
            Ok(changed)
        })
    }
}
