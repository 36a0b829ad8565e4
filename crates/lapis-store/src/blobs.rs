//! The whole-blob operations: looking a blob up, Put Blob's replacement of a row, properties,
//! metadata, read, delete. How a row is read and written is `blob_row.rs`.

use std::sync::{Arc, LazyLock};

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use crate::blob_row::VERSION_KEY_PREFIX;
pub(crate) use crate::blob_row::{
    blob_from_row, lease_from_columns, lease_state_to_i64, upsert_blob, BlobRow, BLOB_COLS,
    BLOB_COL_COUNT,
};
use crate::chunks::{range_chunks, resolve_range};
use crate::conditions::{check, check_blob, check_blob_row, check_lease, LeaseHolder};
use crate::containers::load_container;
use crate::cpk::check_key;
use crate::deleted_blobs::{drop_if_other_type, keep_overwritten, retention};
use crate::inline::read_inline;
use crate::pages::page_reader;
use crate::pool::Extent;
use crate::stream::BlobReader;
use crate::tags::{check_tags, write_tags};
use crate::tiers::check_online;
use crate::versions::start_version;
use crate::{
    Access, BlobHttpProps, BlobProps, BlobType, ByteRange, Chunk, Conditions, CustomerKey,
    Metadata, Result, Store, StoreError,
};

pub(crate) fn find_blob(
    conn: &Connection,
    container_id: i64,
    name: &str,
) -> Result<Option<BlobRow>> {
    find_blob_at(conn, container_id, name, "")
}

/// The row of `name` at `snapshot` ('' for the base blob, a snapshot's time, or a version's
/// `version_key`: a previous version's row, else the base row if it is that version).
pub(crate) fn find_blob_at(
    conn: &Connection,
    container_id: i64,
    name: &str,
    snapshot: &str,
) -> Result<Option<BlobRow>> {
    // Built once: a `format!` per lookup was 1 % of a small GET.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {BLOB_COLS} FROM blobs WHERE container_id = ?1 AND name = ?2 AND snapshot = ?3 \
             AND deleted_at IS NULL"
        )
    });
    let mut st = conn.prepare_cached(&SQL)?;
    let mut q = st.query(params![container_id, name, snapshot])?;
    match q.next()? {
        Some(r) => Ok(Some(blob_from_row(r, true)?)),
        None => match snapshot.strip_prefix(VERSION_KEY_PREFIX) {
            Some(version) => Ok(find_blob(conn, container_id, name)?
                .filter(|b| b.props.version_id.as_deref() == Some(version))),
            None => Ok(None),
        },
    }
}

/// What a write that replaces a blob's content (Put Blob, Put Block List) starts from: the
/// container, and the blob row if one exists, after the write conditions were checked against
/// its committed version.
pub(crate) struct Replacing {
    pub(crate) container_id: i64,
    pub(crate) existing: Option<BlobRow>,
    /// The account's blobs are versioned: the write makes a new version.
    pub(crate) versioning: bool,
    /// Whose DeleteRetentionPolicy decides whether the replaced version is kept (read only
    /// when a committed version is replaced: a new blob's write makes no such query).
    account: String,
}

impl Replacing {
    pub(crate) fn open(
        conn: &Connection,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
        versioning: bool,
    ) -> Result<Replacing> {
        let cont = load_container(conn, account, container)?;
        let target = Replacing {
            container_id: cont.id,
            existing: find_blob(conn, cont.id, blob)?,
            versioning,
            account: account.to_owned(),
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
    /// version keeps the blob's lease (the write was checked against it). With versioning, the
    /// old content is kept as a previous version first and `props` gets the new version's id.
    /// Returns the row's id, for the caller to store the content under.
    pub(crate) fn write_row(
        &self,
        conn: &Connection,
        props: &mut BlobProps,
        tags: &[(String, String)],
    ) -> Result<i64> {
        let version = start_version(
            conn,
            self.container_id,
            &props.name,
            self.existing.as_ref(),
            self.versioning,
            props.last_modified,
        )?;
        props.version_id = version.id;
        props.is_current_version = props.version_id.is_some();
        let existing_id = self.existing.as_ref().map(|b| b.id);
        if let Some(old) = self.committed() {
            if !version.kept_previous {
                let kept = retention(conn, &self.account)?;
                keep_overwritten(conn, self.container_id, old, kept.as_ref())?;
            }
        } else {
            drop_if_other_type(conn, self.container_id, &props.name, props.blob_type)?;
        }
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

/// The committed blob at `snapshot` ('' for the base blob), or BlobNotFound (uncommitted-only
/// blobs are invisible).
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
             AND b.snapshot = ?4 AND b.deleted_at IS NULL WHERE c.account = ?1 AND c.name = ?2 \
             AND c.deleted_version = ''",
            cols.join(", ")
        )
    });
    let mut st = conn.prepare_cached(&SQL)?;
    let mut rows = st.query(params![account, container, name, snapshot])?;
    let row = rows.next()?.ok_or(StoreError::ContainerNotFound)?;
    if row.get::<_, Option<i64>>(0)?.is_none() {
        // The current version is the base row.
        if let Some(version) = snapshot.strip_prefix(VERSION_KEY_PREFIX) {
            let base = load_committed_at(conn, account, container, name, "")?;
            return if base.props.version_id.as_deref() == Some(version) {
                Ok(base)
            } else {
                Err(StoreError::BlobNotFound)
            };
        }
        return Err(StoreError::BlobNotFound);
    }
    Some(blob_from_row(row, true)?)
        .filter(|b| b.committed)
        .ok_or(StoreError::BlobNotFound)
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
            check_blob_row(c, cond, &row, access)?;
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
            check_blob_row(c, cond, &row, Access::Read)?;
            check_online(&row.props)?;
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
        self.update_blob(account, container, blob, cond, false, move |p| {
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
        self.update_blob(account, container, blob, cond, true, move |p| {
            check_key(p.cpk_sha256.as_ref(), key.as_ref())?;
            check_online(p)?;
            p.metadata = metadata;
            Ok(())
        })
    }

    /// Read-modify-write of a committed blob's row with a new ETag and Last-Modified; a
    /// `new_version` change (Set Blob Metadata) makes a new version, as `start_version` says.
    pub(crate) fn update_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        cond: &Conditions,
        new_version: bool,
        change: impl FnOnce(&mut BlobProps) -> Result<()> + Send + 'static,
    ) -> Result<BlobProps> {
        let versioning = self.blob_versioning(account);
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
            check_blob_row(c, &cond, &row, Access::Write)?;
            let mut props = row.props.clone();
            change(&mut props)?;
            props.etag = clock.next();
            props.last_modified = OffsetDateTime::now_utc();
            if new_version {
                props.version_id = start_version(
                    c,
                    cont.id,
                    &blob,
                    Some(&row),
                    versioning,
                    props.last_modified,
                )?
                .id;
                props.is_current_version = props.version_id.is_some();
            }
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
