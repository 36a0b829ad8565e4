//! Blob soft delete: while the account's DeleteRetentionPolicy is on, Delete Blob and an
//! overwrite keep what they remove as soft-deleted rows, Undelete Blob brings them back, the
//! collector purges them when their retention ends.
//!
//! A soft-deleted row keeps its content rows, so its bytes stay shared and counted in the
//! extents' `live_bytes`; nothing is copied. A soft-deleted base blob leaves the name's ''
//! slot for a snapshot key (the deletion time) with `deleted_base = 1` (schema step 8), so a
//! new blob of the name can be written at once.

use rusqlite::{params, Connection, OptionalExtension};
use time::{Duration, OffsetDateTime};

use crate::blobs::{find_blob_at, BlobRow};
use crate::codec::{time_from_i64, time_to_i64};
use crate::containers::load_container;
use crate::snapshots::{share_content, snapshot_name};
use crate::{BlobProps, BlobType, DeleteRetention, Lease, Refusal, Result, Store, StoreError};

/// A soft-deleted blob or snapshot in a listing: when it was deleted and when it will be
/// purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    pub deleted: OffsetDateTime,
    pub purge_at: OffsetDateTime,
}

impl Deletion {
    /// Azure's `RemainingRetentionDays`: whole days left, counting a started day.
    pub fn remaining_days(&self, now: OffsetDateTime) -> i64 {
        let left = (self.purge_at - now).whole_seconds().max(0);
        (left + 86_399) / 86_400
    }
}

/// The deletion of a row read with `deleted_at, purge_at` at column `first`.
pub(crate) fn deletion_at(
    r: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<Option<Deletion>> {
    let deleted: Option<i64> = r.get(first)?;
    let purge_at: Option<i64> = r.get(first + 1)?;
    Ok(deleted.map(|d| Deletion {
        deleted: time_from_i64(d),
        purge_at: time_from_i64(purge_at.unwrap_or(d)),
    }))
}

/// The account's blob DeleteRetentionPolicy, `None` when off.
pub(crate) fn retention(conn: &Connection, account: &str) -> Result<Option<DeleteRetention>> {
    let row: Option<(Option<i64>, bool)> = conn
        .prepare_cached(
            "SELECT soft_delete_days, allow_permanent_delete FROM service_properties
             WHERE account = ?1",
        )?
        .query_row([account], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(days, allow_permanent_delete)| {
        days.map(|d| DeleteRetention {
            days: d as u32,
            allow_permanent_delete,
        })
    }))
}

/// A snapshot key of `name` no row (live or soft-deleted) has, at `at` or just after.
pub(crate) fn free_snapshot_key(
    conn: &Connection,
    container_id: i64,
    name: &str,
    mut at: OffsetDateTime,
) -> Result<String> {
    let mut st = conn.prepare_cached(
        "SELECT 1 FROM blobs WHERE container_id = ?1 AND name = ?2 AND snapshot = ?3",
    )?;
    loop {
        let key = snapshot_name(at);
        if !st.exists(params![container_id, name, key])? {
            return Ok(key);
        }
        at += Duration::nanoseconds(100);
    }
}

fn purge_time(now: OffsetDateTime, r: &DeleteRetention) -> i64 {
    time_to_i64(now + Duration::days(r.days as i64))
}

/// Soft-deletes a snapshot row (or a soft-deleted-to-be copy) in place.
pub(crate) fn soft_delete_snapshot(conn: &Connection, id: i64, r: &DeleteRetention) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    conn.prepare_cached(
        "UPDATE blobs SET deleted_at = ?2, purge_at = ?3, lease_state = 0, lease_id = NULL,
         lease_duration = NULL, lease_until = NULL WHERE id = ?1",
    )?
    .execute(params![id, time_to_i64(now), purge_time(now, r)])?;
    Ok(())
}

/// Soft-deletes a base blob: its row moves to a snapshot key, its uncommitted blocks go.
pub(crate) fn soft_delete_base(
    conn: &Connection,
    container_id: i64,
    row: &BlobRow,
    r: &DeleteRetention,
) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let key = free_snapshot_key(conn, container_id, &row.props.name, now)?;
    conn.prepare_cached("DELETE FROM blocks WHERE blob_id = ?1 AND committed = 0")?
        .execute([row.id])?;
    conn.prepare_cached(
        "UPDATE blobs SET snapshot = ?2, deleted_base = 1, deleted_at = ?3, purge_at = ?4,
         lease_state = 0, lease_id = NULL, lease_duration = NULL, lease_until = NULL
         WHERE id = ?1",
    )?
    .execute(params![row.id, key, time_to_i64(now), purge_time(now, r)])?;
    Ok(())
}

/// Before a write replaces `old` (a committed base blob): with soft delete on, keeps the old
/// state as a soft-deleted snapshot sharing its bytes (Azure's overwrite protection; archived
/// blobs excepted, as in Azure).
pub(crate) fn keep_overwritten(
    conn: &Connection,
    container_id: i64,
    old: &BlobRow,
    r: Option<&DeleteRetention>,
) -> Result<()> {
    let Some(r) = r else { return Ok(()) };
    if old
        .props
        .access_tier
        .is_some_and(|(t, _)| t == crate::AccessTier::Archive)
    {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let mut props: BlobProps = old.props.clone();
    props.snapshot = Some(free_snapshot_key(conn, container_id, &props.name, now)?);
    props.lease = Lease::default();
    let id = crate::blobs::upsert_blob(conn, container_id, None, true, &props)?;
    share_content(conn, old.id, id, true)?;
    soft_delete_snapshot(conn, id, r)
}

/// A new base blob of type `kind` over a soft-deleted one of another type: Azure then drops
/// all the name's soft-deleted data.
pub(crate) fn drop_if_other_type(
    conn: &Connection,
    container_id: i64,
    name: &str,
    kind: BlobType,
) -> Result<()> {
    let kind = crate::blob_row::type_to_i64(kind);
    let other: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE container_id = ?1 AND name = ?2
             AND deleted_base = 1 AND deleted_at IS NOT NULL AND blob_type != ?3)",
        )?
        .query_row(params![container_id, name, kind], |r| r.get(0))?;
    if other {
        conn.prepare_cached(
            "DELETE FROM blobs WHERE container_id = ?1 AND name = ?2 AND deleted_at IS NOT NULL",
        )?
        .execute(params![container_id, name])?;
    }
    Ok(())
}

/// Undelete Blob's work in one transaction; false when the name has neither a blob nor
/// soft-deleted data within retention.
fn undelete(conn: &Connection, container_id: i64, name: &str) -> Result<bool> {
    let now = time_to_i64(OffsetDateTime::now_utc());
    let base_taken: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE container_id = ?1 AND name = ?2
             AND snapshot = '')",
        )?
        .query_row(params![container_id, name], |r| r.get(0))?;
    if !base_taken {
        // The latest deleted base is the blob again; older ones (a blob deleted, written
        // anew, deleted again) are what Azure made snapshots of at the overwrite.
        let latest: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM blobs WHERE container_id = ?1 AND name = ?2 AND deleted_base = 1
                 AND purge_at > ?3 ORDER BY deleted_at DESC, snapshot DESC LIMIT 1",
            )?
            .query_row(params![container_id, name, now], |r| r.get(0))
            .optional()?;
        if let Some(id) = latest {
            conn.prepare_cached("UPDATE blobs SET snapshot = '' WHERE id = ?1")?
                .execute([id])?;
        }
    }
    let restored = conn
        .prepare_cached(
            "UPDATE blobs SET deleted_at = NULL, purge_at = NULL, deleted_base = 0
             WHERE container_id = ?1 AND name = ?2 AND deleted_at IS NOT NULL AND purge_at > ?3",
        )?
        .execute(params![container_id, name, now])?;
    Ok(base_taken || restored > 0)
}

impl Store {
    /// Undelete Blob: restores the soft-deleted blob with its soft-deleted snapshots (on a
    /// live blob, its soft-deleted snapshots). Nothing to restore and no blob: BlobNotFound.
    pub fn undelete_blob(&self, account: &str, container: &str, blob: &str) -> Result<()> {
        let (account, container, blob) =
            (account.to_owned(), container.to_owned(), blob.to_owned());
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            if undelete(c, cont.id, &blob)? {
                Ok(())
            } else {
                Err(StoreError::BlobNotFound)
            }
        })
    }

    /// Delete Blob with `deletetype=permanent`: removes a soft-deleted snapshot or version
    /// (`snapshot`, a time or a `version_selector`) at once, when the account's
    /// DeleteRetentionPolicy allows permanent delete. Azure answers 409 when it does not and
    /// when the snapshot or version is not soft-deleted; one that does not exist is not found.
    pub fn delete_permanently(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: &str,
    ) -> Result<()> {
        let (account, container, blob, snapshot) = (
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            snapshot.to_owned(),
        );
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            if !retention(c, &account)?.is_some_and(|r| r.allow_permanent_delete) {
                return Err(StoreError::Refused(Refusal::BlobOperationNotSupported));
            }
            let row: Option<(i64, Option<i64>)> = c
                .prepare_cached(
                    "SELECT id, deleted_at FROM blobs WHERE container_id = ?1 AND name = ?2
                     AND snapshot = ?3",
                )?
                .query_row(params![cont.id, blob, snapshot], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            match row {
                // The current version is the base row, never soft-deleted.
                None => match find_blob_at(c, cont.id, &blob, &snapshot)? {
                    Some(_) => Err(StoreError::Refused(Refusal::BlobSnapshotNotSoftDeleted)),
                    None => Err(StoreError::BlobNotFound),
                },
                Some((_, None)) => Err(StoreError::Refused(Refusal::BlobSnapshotNotSoftDeleted)),
                Some((id, Some(_))) => {
                    c.prepare_cached("DELETE FROM blobs WHERE id = ?1")?
                        .execute([id])?;
                    Ok(())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::*;

    const ACCOUNT: &str = "a";

    fn store() -> Store {
        Store::in_memory_with(StoreOptions {
            extent_target_size: 64 * 1024,
            gc_interval: std::time::Duration::from_secs(3600),
            ..Default::default()
        })
        .unwrap()
    }

    fn put(s: &Store, name: &str, len: usize) {
        let mut w = s.blob_writer().unwrap();
        w.write(&vec![7u8; len]).unwrap();
        s.put_blob(
            ACCOUNT,
            "c",
            name,
            w.finish().unwrap(),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &Conditions::default(),
        )
        .unwrap();
    }

    /// Moves every soft deletion's end into the past, as if its retention had run out.
    fn expire_all(s: &Store) {
        s.core()
            .writer
            .submit(Vec::new(), |c| {
                c.execute_batch(
                    "UPDATE blobs SET purge_at = 1 WHERE purge_at IS NOT NULL;
                     UPDATE containers SET purge_at = 1 WHERE purge_at IS NOT NULL;",
                )?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn the_collector_purges_expired_blobs_and_frees_their_bytes() {
        let s = store();
        s.create_container(ACCOUNT, "c", &Vec::new(), PublicAccess::None)
            .unwrap();
        let retention = DeleteRetention {
            days: 1,
            allow_permanent_delete: false,
        };
        s.set_blob_service_properties(ACCOUNT, "<x/>", Some(retention))
            .unwrap();
        for name in ["b1", "b2", "b3"] {
            put(&s, name, 200_000);
        }
        s.snapshot_blob(ACCOUNT, "c", "b1", None, &Conditions::default(), None)
            .unwrap();
        s.delete_blob_at(
            ACCOUNT,
            "c",
            "b1",
            None,
            SnapshotsOnDelete::Include,
            &Conditions::default(),
        )
        .unwrap();
        s.delete_blob(ACCOUNT, "c", "b2", &Conditions::default())
            .unwrap();
        put(&s, "b3", 10); // the old 200 KB is kept as a soft-deleted snapshot
        let full = s.stats().unwrap().extent_bytes;
        // Within retention the collector keeps them.
        assert_eq!(s.collect_garbage().unwrap().soft_deleted_purged, 0);
        assert!(s.stats().unwrap().extent_bytes >= full);

        expire_all(&s);
        // Expired, not yet collected: already gone for Undelete and listings.
        s.undelete_blob(ACCOUNT, "c", "b1").unwrap_err();
        let q = ListBlobsQuery {
            max_results: 10,
            include_deleted: true,
            include_snapshots: true,
            ..Default::default()
        };
        let names: Vec<_> = s.list_blobs(ACCOUNT, "c", &q).unwrap().items;
        assert_eq!(names.len(), 1, "{names:?}"); // b3, live
        assert_eq!(s.collect_garbage().unwrap().soft_deleted_purged, 4);
        s.collect_garbage().unwrap();
        let stats = s.stats().unwrap();
        assert!(
            stats.extent_bytes < full / 2,
            "bytes not freed: {full} -> {}",
            stats.extent_bytes
        );
        assert_eq!(stats.blobs, 1);
    }

    #[test]
    fn the_collector_purges_expired_containers_with_their_blobs() {
        let s = store();
        s.create_container(ACCOUNT, "c", &Vec::new(), PublicAccess::None)
            .unwrap();
        put(&s, "b", 200_000);
        s.delete_container_retained(ACCOUNT, "c", &Conditions::default(), 7)
            .unwrap();
        let full = s.stats().unwrap().extent_bytes;
        assert_eq!(s.collect_garbage().unwrap().soft_deleted_purged, 0);
        expire_all(&s);
        let listed = s
            .list_containers_including(ACCOUNT, None, None, 10, true)
            .unwrap();
        assert!(listed.items.is_empty());
        assert_eq!(s.collect_garbage().unwrap().soft_deleted_purged, 1);
        s.collect_garbage().unwrap();
        assert!(s.stats().unwrap().extent_bytes < full / 2);
        assert_eq!(s.stats().unwrap().blobs, 0);
    }
}
