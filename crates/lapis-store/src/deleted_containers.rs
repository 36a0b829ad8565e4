//! Container soft delete: Delete Container with a retention keeps the container, its blobs
//! with it, under a version string; Restore Container brings it back; the collector purges it
//! when its retention ends. The name is free at once: a deleted row has `deleted_version` set
//! and UNIQUE (account, name, deleted_version) holds for live rows only (schema step 8).

use rusqlite::{params, OptionalExtension};
use time::{Duration, OffsetDateTime};

use crate::codec::time_to_i64;
use crate::conditions::check_container;
use crate::containers::find_container;
use crate::{Access, Conditions, Result, Store, StoreError};

/// Azure's deleted-container version: 16 hex digits (Azure's look like `01D8DEC8F3473469`);
/// here the deletion time in 100 ns ticks since 1601, as a Windows FILETIME.
fn version_of(t: OffsetDateTime) -> String {
    const FILETIME_EPOCH_OFFSET: i128 = 116_444_736_000_000_000;
    let ticks = t.unix_timestamp_nanos() / 100 + FILETIME_EPOCH_OFFSET;
    format!("{ticks:016X}")
}

impl Store {
    /// Delete Container keeping the container and its blobs for `retain_days` (container soft
    /// delete): invisible to every operation, listed by List Containers include=deleted,
    /// restored by `restore_container`.
    pub fn delete_container_retained(
        &self,
        account: &str,
        name: &str,
        cond: &Conditions,
        retain_days: u32,
    ) -> Result<()> {
        let (account, name, cond) = (account.to_owned(), name.to_owned(), cond.clone());
        self.core().writer.submit(Vec::new(), move |c| {
            let row = find_container(c, &account, &name)?.ok_or(StoreError::ContainerNotFound)?;
            check_container(&cond, &row.props, Access::Write)?;
            let mut now = OffsetDateTime::now_utc();
            let mut taken = c.prepare_cached(
                "SELECT 1 FROM containers WHERE account = ?1 AND name = ?2 AND deleted_version = ?3",
            )?;
            // Two deletions of one name in the same 100 ns get distinct versions.
            while taken.exists(params![account, name, version_of(now)])? {
                now += Duration::nanoseconds(100);
            }
            let purge_at = now + Duration::days(retain_days as i64);
            c.prepare_cached(
                "UPDATE containers SET deleted_version = ?2, deleted_at = ?3, purge_at = ?4,
                 lease_state = 0, lease_id = NULL, lease_duration = NULL, lease_until = NULL
                 WHERE id = ?1",
            )?
            .execute(params![
                row.id,
                version_of(now),
                time_to_i64(now),
                time_to_i64(purge_at)
            ])?;
            Ok(())
        })
    }

    /// Restore Container: the soft-deleted container `deleted_name` of `version` is live again
    /// with its blobs. A live container of the name: ContainerAlreadyExists; no such deleted
    /// container (or its retention ended): ContainerNotFound.
    pub fn restore_container(
        &self,
        account: &str,
        deleted_name: &str,
        version: &str,
    ) -> Result<()> {
        let (account, name, version) = (
            account.to_owned(),
            deleted_name.to_owned(),
            version.to_owned(),
        );
        self.core().writer.submit(Vec::new(), move |c| {
            if find_container(c, &account, &name)?.is_some() {
                return Err(StoreError::ContainerAlreadyExists);
            }
            let now = time_to_i64(OffsetDateTime::now_utc());
            let id: Option<i64> = c
                .prepare_cached(
                    "SELECT id FROM containers WHERE account = ?1 AND name = ?2
                     AND deleted_version = ?3 AND deleted_version != '' AND purge_at > ?4",
                )?
                .query_row(params![account, name, version, now], |r| r.get(0))
                .optional()?;
            let id = id.ok_or(StoreError::ContainerNotFound)?;
            c.prepare_cached(
                "UPDATE containers SET deleted_version = '', deleted_at = NULL, purge_at = NULL
                 WHERE id = ?1",
            )?
            .execute([id])?;
            Ok(())
        })
    }
}
