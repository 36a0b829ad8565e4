//! Snapshot Blob, and deleting a blob with or without its snapshots.
//!
//! A snapshot is a row of `blobs` under the base blob's name with its time in `snapshot`. Its
//! content rows (`blob_chunks`, committed `blocks` and their `block_chunks`) are copies of the
//! base's rows pointing at the same extents, so taking a snapshot writes no content bytes (an
//! inline blob's few bytes excepted), and the extents' `live_bytes` count every row that uses
//! them: the collector frees nothing a snapshot still reads.

use rusqlite::{params, Connection};
use time::{Duration, OffsetDateTime};

use crate::blobs::{find_blob, find_blob_at, upsert_blob, BLOB_COLS, BLOB_COL_COUNT};
use crate::conditions::{check, check_blob_row, check_lease, LeaseHolder};
use crate::containers::load_container;
use crate::cpk::check_key;
use crate::deleted_blobs::{free_snapshot_key, retention, soft_delete_base, soft_delete_snapshot};
use crate::tags::check_tags;
use crate::tiers::check_online;
use crate::versions::{demote_on_delete, start_version};
use crate::{
    Access, BlobProps, Conditions, CustomerKey, Lease, Metadata, Result, Store, StoreError,
};

/// What Delete Blob does with the blob's snapshots (`x-ms-delete-snapshots`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotsOnDelete {
    /// Not given: a blob with snapshots is not deleted (409 `SnapshotsPresent`).
    Refuse,
    /// `include`: the blob and all its snapshots.
    Include,
    /// `only`: the snapshots; the blob stays.
    Only,
}

/// What Snapshot Blob answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotTaken {
    /// Azure's form, 7 fractional digits: `2026-12-07T17:10:00.1234567Z`.
    pub snapshot: String,
    /// The blob's current version, with versioning.
    pub version_id: Option<String>,
    pub etag: String,
    pub last_modified: OffsetDateTime,
}

/// A snapshot's name: the time in Azure's 7-digit form.
pub(crate) fn snapshot_name(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// Copies the content rows of blob `from` to the new row `to`: references, not bytes; and its
/// index tags when `with_tags` (a snapshot keeps them, a copy does not).
pub(crate) fn share_content(conn: &Connection, from: i64, to: i64, with_tags: bool) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO blob_chunks (blob_id, start, extent, offset, len, iv, position)
         SELECT ?2, start, extent, offset, len, iv, position FROM blob_chunks WHERE blob_id = ?1",
    )?
    .execute([from, to])?;
    conn.prepare_cached(
        "INSERT INTO blob_inline (blob_id, data, iv) SELECT ?2, data, iv FROM blob_inline
         WHERE blob_id = ?1",
    )?
    .execute([from, to])?;
    // The committed block list, so that Get Block List answers for the snapshot too.
    let blocks: Vec<i64> = {
        let mut st = conn.prepare_cached(
            "SELECT id FROM blocks WHERE blob_id = ?1 AND committed = 1 ORDER BY seq",
        )?;
        let rows = st.query_map([from], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for block in blocks {
        conn.prepare_cached(
            "INSERT INTO blocks (blob_id, block_id, committed, seq, size, created, cpk_sha256)
             SELECT ?2, block_id, committed, seq, size, created, cpk_sha256 FROM blocks WHERE id = ?1",
        )?
        .execute([block, to])?;
        let copy = conn.last_insert_rowid();
        conn.prepare_cached(
            "INSERT INTO block_chunks (block, seq, extent, offset, len, counted, iv, position)
             SELECT ?2, seq, extent, offset, len, counted, iv, position FROM block_chunks
             WHERE block = ?1",
        )?
        .execute([block, copy])?;
    }
    if with_tags {
        conn.prepare_cached(
            "INSERT INTO blob_tags (blob_id, key, value) SELECT ?2, key, value FROM blob_tags
             WHERE blob_id = ?1",
        )?
        .execute([from, to])?;
    }
    Ok(())
}

fn snapshot_count(conn: &Connection, container_id: i64, name: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM blobs WHERE container_id = ?1 AND name = ?2 AND snapshot != '' \
             AND snapshot NOT GLOB 'v*' AND deleted_at IS NULL",
        )?
        .query_row(params![container_id, name], |r| r.get(0))?)
}

/// The snapshots of a blob, oldest first (as List Blobs shows them, before the blob); with
/// `deleted_after` (now, in ticks), its soft-deleted ones within retention too, with their
/// deletion. A soft-deleted base blob listed here (a later blob took its name) is listed as
/// the snapshot Azure made of it at the overwrite.
pub(crate) fn list_snapshots(
    conn: &Connection,
    container_id: i64,
    name: &str,
    with_metadata: bool,
    deleted_after: Option<i64>,
) -> Result<Vec<(BlobProps, Option<crate::Deletion>)>> {
    // Built once: a listing with snapshots asks for each listed blob's.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {BLOB_COLS}, deleted_at, purge_at FROM blobs WHERE container_id = ?1 \
             AND name = ?2 AND snapshot != '' AND snapshot NOT GLOB 'v*' \
             AND (deleted_at IS NULL OR purge_at > ?3) ORDER BY snapshot"
        )
    });
    let mut st = conn.prepare_cached(&SQL)?;
    // i64::MAX: no soft-deleted row is within retention past it.
    let mut rows = st.query(params![
        container_id,
        name,
        deleted_after.unwrap_or(i64::MAX)
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let props = crate::blobs::blob_from_row(r, with_metadata)?.props;
        out.push((props, crate::deleted_blobs::deletion_at(r, BLOB_COL_COUNT)?));
    }
    Ok(out)
}

impl Store {
    /// Snapshot Blob: a read-only copy of the blob as it is now, sharing its bytes. `metadata`
    /// replaces the blob's on the snapshot when given. A named lease must be the blob's, but a
    /// leased blob can be snapshot without it.
    pub fn snapshot_blob(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        metadata: Option<Metadata>,
        cond: &Conditions,
        key: Option<&CustomerKey>,
    ) -> Result<SnapshotTaken> {
        let (account, container, blob, cond, key) = (
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            cond.clone(),
            key.cloned(),
        );
        let versioning = self.blob_versioning(&account);
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            let row = find_blob(c, cont.id, &blob)?
                .filter(|b| b.committed)
                .ok_or(StoreError::BlobNotFound)?;
            // A blob under a customer-provided key is snapshot by whoever holds the key.
            check_key(row.props.cpk_sha256.as_ref(), key.as_ref())?;
            check_online(&row.props)?;
            check(
                &cond,
                Some((&row.props.etag, row.props.last_modified)),
                Access::Write,
            )?;
            check_lease(
                &row.props.lease,
                cond.lease_id.as_deref(),
                Access::Read,
                LeaseHolder::Blob,
            )?;
            check_tags(c, Some(row.id), &cond)?;
            // Two snapshots of one blob in the same 100 ns get distinct times.
            let name = free_snapshot_key(c, cont.id, &blob, OffsetDateTime::now_utc())?;
            let mut props = row.props.clone();
            props.snapshot = Some(name.clone());
            props.lease = Lease::default();
            // A snapshot is no version (it answers the blob's current one, `version_id`).
            props.version_id = None;
            props.is_current_version = false;
            if let Some(m) = metadata {
                props.metadata = m;
            }
            let id = upsert_blob(c, cont.id, None, true, &props)?;
            share_content(c, row.id, id, true)?;
            // With versioning, Azure's Snapshot Blob also gives the blob a new current version
            // (same content and ETag) and answers its id: recorded in TestUndelete*BlobVersion,
            // where each snapshot's x-ms-version-id is listed as a version.
            let version_id = if versioning {
                let now = OffsetDateTime::now_utc();
                let version = start_version(c, cont.id, &blob, Some(&row), true, now)?;
                let mut base = row.props.clone();
                base.version_id = version.id.clone();
                base.is_current_version = true;
                upsert_blob(c, cont.id, Some(row.id), true, &base)?;
                version.id
            } else {
                row.props.version_id
            };
            Ok(SnapshotTaken {
                version_id,
                snapshot: name,
                etag: row.props.etag,
                last_modified: row.props.last_modified,
            })
        })
    }

    /// Delete Blob of one snapshot or version (`snapshot`, a time or a `version_selector`), or
    /// of the base blob with `snapshots` saying what becomes of its snapshots (falling back on
    /// the disk reserve when full). A versioned blob's base row becomes a previous version.
    pub fn delete_blob_at(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        snapshots: SnapshotsOnDelete,
        cond: &Conditions,
    ) -> Result<()> {
        let versioning = self.blob_versioning(account);
        self.freeing_space(|| {
            let (account, container, blob, snapshot, cond) = (
                account.to_owned(),
                container.to_owned(),
                blob.to_owned(),
                snapshot.map(str::to_owned),
                cond.clone(),
            );
            self.core().writer.submit(Vec::new(), move |c| {
                let cont = load_container(c, &account, &container)?;
                let kept = retention(c, &account)?;
                if let Some(s) = snapshot {
                    let row = find_blob_at(c, cont.id, &blob, &s)?
                        .filter(|b| b.committed)
                        .ok_or(StoreError::BlobNotFound)?;
                    // The current version goes only by deleting the blob.
                    if row.props.is_current_version {
                        return Err(StoreError::Refused(
                            crate::Refusal::OperationNotAllowedOnRootBlob,
                        ));
                    }
                    check(
                        &cond,
                        Some((&row.props.etag, row.props.last_modified)),
                        Access::Write,
                    )?;
                    check_tags(c, Some(row.id), &cond)?;
                    match &kept {
                        Some(r) => soft_delete_snapshot(c, row.id, r)?,
                        None => {
                            c.prepare_cached("DELETE FROM blobs WHERE id = ?1")?
                                .execute([row.id])?;
                        }
                    }
                    return Ok(());
                }
                let row = find_blob(c, cont.id, &blob)?
                    .filter(|b| b.committed)
                    .ok_or(StoreError::BlobNotFound)?;
                check_blob_row(c, &cond, &row, Access::Write)?;
                let drop_snapshots = || -> Result<()> {
                    if let Some(r) = &kept {
                        let now = OffsetDateTime::now_utc();
                        c.prepare_cached(
                            "UPDATE blobs SET deleted_at = ?3, purge_at = ?4 WHERE container_id = ?1
                             AND name = ?2 AND snapshot != '' AND snapshot NOT GLOB 'v*'
                             AND deleted_at IS NULL",
                        )?
                        .execute(params![
                            cont.id,
                            blob,
                            crate::codec::time_to_i64(now),
                            crate::codec::time_to_i64(now + Duration::days(r.days as i64))
                        ])?;
                        return Ok(());
                    }
                    c.prepare_cached(
                        "DELETE FROM blobs WHERE container_id = ?1 AND name = ?2 AND snapshot != '' \
                         AND snapshot NOT GLOB 'v*' AND deleted_at IS NULL",
                    )?
                    .execute(params![cont.id, blob])?;
                    Ok(())
                };
                match snapshots {
                    SnapshotsOnDelete::Refuse => {
                        if snapshot_count(c, cont.id, &blob)? > 0 {
                            return Err(StoreError::Refused(crate::Refusal::SnapshotsPresent));
                        }
                    }
                    SnapshotsOnDelete::Include => drop_snapshots()?,
                    SnapshotsOnDelete::Only => return drop_snapshots(),
                }
                // With versioning the blob becomes a previous version (Azure keeps versions,
                // not soft-deleted blobs, then); else soft delete keeps it, or it goes.
                if !demote_on_delete(c, cont.id, &row, versioning)? {
                    match &kept {
                        Some(r) => soft_delete_base(c, cont.id, &row, r)?,
                        None => {
                            c.prepare_cached("DELETE FROM blobs WHERE id = ?1")?
                                .execute([row.id])?;
                        }
                    }
                }
                Ok(())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn names_have_seven_fractional_digits() {
        assert_eq!(
            snapshot_name(datetime!(2022-08-11 15:07:54.1285437 UTC)),
            "2022-08-11T15:07:54.1285437Z"
        );
        assert_eq!(
            snapshot_name(datetime!(2022-08-11 15:07:54 UTC)),
            "2022-08-11T15:07:54.0000000Z"
        );
    }
}
