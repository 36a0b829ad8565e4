//! Blob rows and the whole-blob operations: Put Blob, properties, metadata, read, delete.

use std::sync::{Arc, LazyLock};

use rusqlite::{params, Connection, Row};
use time::OffsetDateTime;

use crate::chunks::{range_chunks, resolve_range};
use crate::codec::{decode_metadata, encode_metadata, time_from_i64, time_to_i64};
use crate::conditions::{check, check_blob, check_lease, LeaseHolder};
use crate::containers::load_container;
use crate::cpk::{check_key, sha256_from_column};
use crate::inline::read_inline;
use crate::pages::page_reader;
use crate::pool::Extent;
use crate::stream::BlobReader;
use crate::tags::{check_tags, write_tags};
use crate::tiers::check_online;
use crate::{
    Access, AccessTier, BlobHttpProps, BlobProps, BlobType, ByteRange, Chunk, Conditions,
    CopyProps, CustomerKey, Lease, Metadata, Result, Store, StoreError, StoredLeaseState,
};

pub(crate) const BLOB_COLS: &str = "id, committed, name, blob_type, etag, last_modified, created, size, content_type, \
     content_encoding, content_language, content_disposition, cache_control, content_md5, content_crc64, \
     committed_block_count, metadata, access_tier, access_tier_changed, cpk_sha256, snapshot, lease_state, \
     lease_id, lease_duration, lease_until, sealed, sequence_number, copy_id, copy_status, copy_source, \
     copy_progress, copy_completed, copy_status_description, incremental_copy, archive_status, \
     rehydrate_priority, tag_count";

/// The columns `upsert_blob` writes, in its parameters' order (?3 onwards; ?1 and ?2 are the
/// container and the name).
const WRITTEN_COLS: &[&str] = &[
    "committed",
    "blob_type",
    "etag",
    "last_modified",
    "created",
    "size",
    "content_type",
    "content_encoding",
    "content_language",
    "content_disposition",
    "cache_control",
    "content_md5",
    "content_crc64",
    "committed_block_count",
    "metadata",
    "access_tier",
    "access_tier_changed",
    "cpk_sha256",
    "snapshot",
    "lease_state",
    "lease_id",
    "lease_duration",
    "lease_until",
    "sealed",
    "sequence_number",
    "copy_id",
    "copy_status",
    "copy_source",
    "copy_progress",
    "copy_completed",
    "copy_status_description",
    "incremental_copy",
    "archive_status",
    "rehydrate_priority",
    "tag_count",
];

pub(crate) struct BlobRow {
    pub(crate) id: i64,
    /// False: the blob exists only through uncommitted blocks.
    pub(crate) committed: bool,
    pub(crate) props: BlobProps,
}

fn type_to_i64(t: BlobType) -> i64 {
    match t {
        BlobType::BlockBlob => 0,
        BlobType::PageBlob => 1,
        BlobType::AppendBlob => 2,
    }
}

fn type_from_i64(v: i64) -> BlobType {
    match v {
        1 => BlobType::PageBlob,
        2 => BlobType::AppendBlob,
        _ => BlobType::BlockBlob,
    }
}

/// Decodes a row selected with `BLOB_COLS`; metadata only when asked (listing skips it).
pub(crate) fn blob_from_row(r: &Row<'_>, with_metadata: bool) -> Result<BlobRow> {
    let metadata = if with_metadata {
        decode_metadata(&r.get::<_, Vec<u8>>(16)?)?
    } else {
        Vec::new()
    };
    Ok(BlobRow {
        id: r.get(0)?,
        committed: r.get(1)?,
        props: BlobProps {
            name: r.get(2)?,
            blob_type: type_from_i64(r.get(3)?),
            etag: r.get(4)?,
            last_modified: time_from_i64(r.get(5)?),
            created: time_from_i64(r.get(6)?),
            size: r.get::<_, i64>(7)? as u64,
            http: BlobHttpProps {
                content_type: r.get(8)?,
                content_encoding: r.get(9)?,
                content_language: r.get(10)?,
                content_disposition: r.get(11)?,
                cache_control: r.get(12)?,
                content_md5: r.get(13)?,
            },
            metadata,
            content_crc64: r.get::<_, Option<i64>>(14)?.map(|v| v as u64),
            committed_block_count: r.get::<_, i64>(15)? as u32,
            access_tier: match (
                r.get::<_, Option<String>>(17)?,
                r.get::<_, Option<i64>>(18)?,
            ) {
                (Some(tier), Some(changed)) => {
                    AccessTier::from_name(&tier).map(|t| (t, time_from_i64(changed)))
                }
                _ => None,
            },
            cpk_sha256: sha256_from_column(r.get(19)?)?,
            snapshot: Some(r.get::<_, String>(20)?).filter(|s| !s.is_empty()),
            lease: lease_from_columns(r, 21)?,
            sealed: r.get(25)?,
            sequence_number: r.get::<_, i64>(26)? as u64,
            copy: match r.get::<_, Option<String>>(27)? {
                None => None,
                Some(id) => Some(CopyProps {
                    id,
                    status: r.get::<_, Option<String>>(28)?.unwrap_or_default(),
                    source: r.get::<_, Option<String>>(29)?.unwrap_or_default(),
                    progress: r.get::<_, Option<String>>(30)?.unwrap_or_default(),
                    completed: r.get::<_, Option<i64>>(31)?.map(time_from_i64),
                    status_description: r.get(32)?,
                }),
            },
            incremental_copy: r.get(33)?,
            archive_status: r.get(34)?,
            rehydrate_priority: r.get(35)?,
            tag_count: r.get::<_, i64>(36)? as u32,
            tags: None,
        },
    })
}

/// The lease stored in the four columns from `first` (state, id, duration, until), as blobs
/// and containers both keep it.
pub(crate) fn lease_from_columns(r: &Row<'_>, first: usize) -> rusqlite::Result<Lease> {
    // Most resources were never leased: one column says so.
    if r.get::<_, i64>(first)? == 0 {
        return Ok(Lease::default());
    }
    Ok(Lease {
        state: match r.get::<_, i64>(first)? {
            1 => StoredLeaseState::Leased,
            2 => StoredLeaseState::Breaking,
            3 => StoredLeaseState::Broken,
            _ => StoredLeaseState::Available,
        },
        id: r.get(first + 1)?,
        duration: r.get(first + 2)?,
        until: r.get::<_, Option<i64>>(first + 3)?.map(time_from_i64),
    })
}

pub(crate) fn lease_state_to_i64(s: StoredLeaseState) -> i64 {
    match s {
        StoredLeaseState::Available => 0,
        StoredLeaseState::Leased => 1,
        StoredLeaseState::Breaking => 2,
        StoredLeaseState::Broken => 3,
    }
}

pub(crate) fn find_blob(
    conn: &Connection,
    container_id: i64,
    name: &str,
) -> Result<Option<BlobRow>> {
    find_blob_at(conn, container_id, name, "")
}

/// The row of `name` at `snapshot` ('' for the base blob).
pub(crate) fn find_blob_at(
    conn: &Connection,
    container_id: i64,
    name: &str,
    snapshot: &str,
) -> Result<Option<BlobRow>> {
    // Built once: a `format!` per lookup was 1 % of a small GET.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {BLOB_COLS} FROM blobs WHERE container_id = ?1 AND name = ?2 AND snapshot = ?3"
        )
    });
    let mut st = conn.prepare_cached(&SQL)?;
    let mut q = st.query(params![container_id, name, snapshot])?;
    match q.next()? {
        Some(r) => Ok(Some(blob_from_row(r, true)?)),
        None => Ok(None),
    }
}

/// What a write that replaces a blob's content (Put Blob, Put Block List) starts from: the
/// container, and the blob row if one exists, after the write conditions were checked against
/// its committed version.
pub(crate) struct Replacing {
    pub(crate) container_id: i64,
    pub(crate) existing: Option<BlobRow>,
}

impl Replacing {
    pub(crate) fn open(
        conn: &Connection,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
    ) -> Result<Replacing> {
        let cont = load_container(conn, account, container)?;
        let target = Replacing {
            container_id: cont.id,
            existing: find_blob(conn, cont.id, blob)?,
        };
        check_tags(conn, target.committed().map(|b| b.id), cond)?;
        match target.committed() {
            Some(b) => check_blob(cond, &b.props, Access::Write)?,
            None => {
                check(cond, None, Access::Write)?;
                // No blob, so no lease to hold.
                check_lease(
                    &Default::default(),
                    cond.lease_id.as_deref(),
                    Access::Write,
                    LeaseHolder::Blob,
                )?;
            }
        }
        Ok(target)
    }

    /// The committed version being replaced (a blob with only uncommitted blocks has none).
    fn committed(&self) -> Option<&BlobRow> {
        self.existing.as_ref().filter(|b| b.committed)
    }

    /// The creation time the new version keeps: the committed blob's, else `now`.
    pub(crate) fn created(&self, now: OffsetDateTime) -> OffsetDateTime {
        self.committed().map_or(now, |b| b.props.created)
    }

    /// Writes the new version's row: over the old row, whose content is cleared first, or as a
    /// new blob, with `tags` as its index tags (the old ones go with the old content). The new
    /// version keeps the blob's lease (the write was checked against it).
    /// Returns the row's id, for the caller to store the content under.
    pub(crate) fn write_row(
        &self,
        conn: &Connection,
        props: &mut BlobProps,
        tags: &[(String, String)],
    ) -> Result<i64> {
        let existing_id = self.existing.as_ref().map(|b| b.id);
        if let Some(id) = existing_id {
            clear_content(conn, id)?;
        }
        if let Some(old) = self.committed() {
            props.lease = old.props.lease.clone();
        }
        props.tag_count = tags.len() as u32;
        let id = upsert_blob(conn, self.container_id, existing_id, true, props)?;
        // Most uploads have no tags and replace none: no statement for them.
        let had_tags = self.committed().is_some_and(|b| b.props.tag_count > 0);
        if had_tags || !tags.is_empty() {
            write_tags(conn, id, tags)?;
        }
        Ok(id)
    }
}

/// The committed blob, or BlobNotFound (uncommitted-only blobs are invisible).
#[allow(dead_code)] // kept for the blob types that read only the base blob
pub(crate) fn load_committed(
    conn: &Connection,
    account: &str,
    container: &str,
    name: &str,
) -> Result<BlobRow> {
    load_committed_at(conn, account, container, name, "")
}

/// `load_committed` of the blob at `snapshot` ('' for the base blob).
pub(crate) fn load_committed_at(
    conn: &Connection,
    account: &str,
    container: &str,
    name: &str,
    snapshot: &str,
) -> Result<BlobRow> {
    // One statement for both lookups: every read of a blob makes it, and a second statement
    // was a sixth of a small GET's instructions. No row: no container; a row of NULLs: no blob.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let cols: Vec<String> = BLOB_COLS.split(", ").map(|c| format!("b.{c}")).collect();
        format!(
            "SELECT {} FROM containers c LEFT JOIN blobs b ON b.container_id = c.id AND b.name = ?3 \
             AND b.snapshot = ?4 WHERE c.account = ?1 AND c.name = ?2",
            cols.join(", ")
        )
    });
    let mut st = conn.prepare_cached(&SQL)?;
    let mut rows = st.query(params![account, container, name, snapshot])?;
    let row = rows.next()?.ok_or(StoreError::ContainerNotFound)?;
    if row.get::<_, Option<i64>>(0)?.is_none() {
        return Err(StoreError::BlobNotFound);
    }
    Some(blob_from_row(row, true)?)
        .filter(|b| b.committed)
        .ok_or(StoreError::BlobNotFound)
}

/// Inserts or overwrites the blob row with `props`; returns its id.
pub(crate) fn upsert_blob(
    conn: &Connection,
    container_id: i64,
    existing: Option<i64>,
    committed: bool,
    p: &BlobProps,
) -> Result<i64> {
    // Built once from WRITTEN_COLS, so that a column is named in one place.
    static UPDATE: LazyLock<String> = LazyLock::new(|| {
        let sets: Vec<String> = WRITTEN_COLS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 3))
            .collect();
        format!(
            "UPDATE blobs SET {} WHERE id = ?{} AND container_id = ?1 AND name = ?2",
            sets.join(", "),
            WRITTEN_COLS.len() + 3
        )
    });
    static INSERT: LazyLock<String> = LazyLock::new(|| {
        let marks: Vec<String> = (1..=WRITTEN_COLS.len() + 2)
            .map(|i| format!("?{i}"))
            .collect();
        format!(
            "INSERT INTO blobs (container_id, name, {}) VALUES ({})",
            WRITTEN_COLS.join(", "),
            marks.join(", ")
        )
    });
    let copy = p.copy.as_ref();
    let values = params![
        container_id,
        p.name,
        committed,
        type_to_i64(p.blob_type),
        p.etag,
        time_to_i64(p.last_modified),
        time_to_i64(p.created),
        p.size as i64,
        p.http.content_type,
        p.http.content_encoding,
        p.http.content_language,
        p.http.content_disposition,
        p.http.cache_control,
        p.http.content_md5,
        p.content_crc64.map(|v| v as i64),
        p.committed_block_count as i64,
        encode_metadata(&p.metadata),
        p.access_tier.map(|(t, _)| t.name()),
        p.access_tier.map(|(_, changed)| time_to_i64(changed)),
        p.cpk_sha256.as_ref().map(|h| h.as_slice()),
        p.snapshot.as_deref().unwrap_or(""),
        lease_state_to_i64(p.lease.state),
        p.lease.id,
        p.lease.duration,
        p.lease.until.map(time_to_i64),
        p.sealed,
        p.sequence_number as i64,
        copy.map(|c| &c.id),
        copy.map(|c| &c.status),
        copy.map(|c| &c.source),
        copy.map(|c| &c.progress),
        copy.and_then(|c| c.completed).map(time_to_i64),
        copy.and_then(|c| c.status_description.as_ref()),
        p.incremental_copy,
        p.archive_status,
        p.rehydrate_priority,
        p.tag_count as i64,
    ];
    match existing {
        Some(id) => {
            let mut st = conn.prepare_cached(&UPDATE)?;
            let mut all: Vec<&dyn rusqlite::ToSql> = values.to_vec();
            all.push(&id);
            st.execute(all.as_slice())?;
            Ok(id)
        }
        None => {
            conn.prepare_cached(&INSERT)?.execute(values)?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// Drops a blob's content and all its blocks (committed and uncommitted).
pub(crate) fn clear_content(conn: &Connection, blob_id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM blob_chunks WHERE blob_id = ?1")?
        .execute([blob_id])?;
    conn.prepare_cached("DELETE FROM blocks WHERE blob_id = ?1")?
        .execute([blob_id])?;
    conn.prepare_cached("DELETE FROM blob_inline WHERE blob_id = ?1")?
        .execute([blob_id])?;
    Ok(())
}

impl Store {
    /// A committed blob's properties under the read's conditions; `key` must be the blob's
    /// customer-provided key, if it has one.
    pub fn get_blob_properties(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
        access: Access,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        self.get_blob_properties_at(account, container, blob, None, cond, access, key)
    }

    /// `get_blob_properties` of a snapshot (`None`: the base blob).
    #[allow(clippy::too_many_arguments)]
    pub fn get_blob_properties_at(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        cond: &Conditions,
        access: Access,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        self.core().readers.read(|c| {
            let row = load_committed_at(c, account, container, blob, snapshot.unwrap_or(""))?;
            check_key(row.props.cpk_sha256.as_ref(), key)?;
            check_blob(cond, &row.props, access)?;
            check_tags(c, Some(row.id), cond)?;
            Ok(row.props)
        })
    }

    /// Resolves the range and pins its bytes; the reader stays valid whatever happens next.
    /// A blob encrypted with a customer-provided key is read (and decrypted) with that `key`.
    pub fn read_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        range: Option<ByteRange>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<(BlobProps, BlobReader)> {
        self.read_blob_at(account, container, blob, None, range, cond, key)
    }

    /// `read_blob` of a snapshot (`None`: the base blob).
    #[allow(clippy::too_many_arguments)]
    pub fn read_blob_at(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        range: Option<ByteRange>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<(BlobProps, BlobReader)> {
        let core = self.core();
        let _no_gc = core.gc_lock.read();
        core.readers.read(|c| {
            let row = load_committed_at(c, account, container, blob, snapshot.unwrap_or(""))?;
            check_key(row.props.cpk_sha256.as_ref(), key)?;
            check_blob(cond, &row.props, Access::Read)?;
            check_online(&row.props)?;
            check_tags(c, Some(row.id), cond)?;
            let (from, to) = resolve_range(row.props.size, range)?;
            if let Some(data) = read_inline(c, row.id, from, to, key)? {
                if data.len() as u64 != to - from {
                    return Err(StoreError::Internal(format!(
                        "blob {blob}: inline bytes do not cover its size"
                    )));
                }
                return Ok((row.props, BlobReader::from_bytes(data)));
            }
            if row.props.blob_type == BlobType::PageBlob {
                let reader = page_reader(core, c, row.id, from, to, key)?;
                return Ok((row.props, reader));
            }
            let chunks = if from < to {
                range_chunks(c, row.id, from, to)?
            } else {
                Vec::new()
            };
            let mut parts: Vec<(Arc<Extent>, Chunk)> = Vec::with_capacity(chunks.len());
            for ch in chunks {
                let ext = core.pool.get(ch.extent).ok_or_else(|| {
                    StoreError::Internal(format!("extent {} of blob {blob} is missing", ch.extent))
                })?;
                parts.push((ext, ch));
            }
            let reader = BlobReader::new(parts, key.cloned());
            if reader.remaining() != to - from {
                return Err(StoreError::Internal(format!(
                    "blob {blob}: stored chunks do not cover its size"
                )));
            }
            Ok((row.props, reader))
        })
    }

    pub fn set_blob_http_props(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        http: &BlobHttpProps,
        cond: &Conditions,
    ) -> Result<BlobProps> {
        let http = http.clone();
        self.update_blob(account, container, blob, cond, move |p| {
            p.http = http;
            Ok(())
        })
    }

    /// Replaces the metadata; a blob with a customer-provided key needs that `key`.
    pub fn set_blob_metadata(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        metadata: &Metadata,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<BlobProps> {
        let metadata = metadata.clone();
        let key = key.cloned();
        self.update_blob(account, container, blob, cond, move |p| {
            check_key(p.cpk_sha256.as_ref(), key.as_ref())?;
            check_online(p)?;
            p.metadata = metadata;
            Ok(())
        })
    }

    /// Read-modify-write of a committed blob's row with a new ETag and Last-Modified.
    pub(crate) fn update_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
        change: impl FnOnce(&mut BlobProps) -> Result<()> + Send + 'static,
    ) -> Result<BlobProps> {
        let (account, container, blob, cond) = (
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            cond.clone(),
        );
        let clock = self.core().clock.clone();
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            let row = find_blob(c, cont.id, &blob)?
                .filter(|b| b.committed)
                .ok_or(StoreError::BlobNotFound)?;
            check_blob(&cond, &row.props, Access::Write)?;
            check_tags(c, Some(row.id), &cond)?;
            let mut props = row.props;
            change(&mut props)?;
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            upsert_blob(c, cont.id, Some(row.id), true, &props)?;
            Ok(props)
        })
    }

    /// Deletes a committed blob with its blocks; a blob with snapshots is refused
    /// (`delete_blob_at` says what to do with them).
    pub fn delete_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
    ) -> Result<()> {
        self.delete_blob_at(
            account,
            container,
            blob,
            None,
            crate::SnapshotsOnDelete::Refuse,
            cond,
        )
    }
}
