//! Blob versions. With versioning on for an account, each write that replaces a blob's
//! content or metadata keeps what the blob held as a previous version and gives the new
//! content a new version id; deleting the blob keeps it as a previous version too.
//!
//! The current version is the base row (its id in `version_id`). A previous version is a row
//! of `blobs` under the blob's name keyed `version_key(id)` in `snapshot`, whose content rows
//! point at the extents the blob's did (`share_content`, as for a snapshot): keeping a version
//! copies no bytes. The `_at` operations find a version by that key, and the current version
//! by its id too (`find_blob_at` falls back on the base row).

use std::collections::BTreeSet;

use parking_lot::RwLock;
use rusqlite::Connection;
use time::{Duration, OffsetDateTime};

use crate::blob_row::{upsert_blob, version_key, BlobRow};
use crate::blobs::find_blob_at;
use crate::snapshots::{share_content, snapshot_name};
use crate::{Lease, Result, Store};

/// The accounts whose blobs are versioned, as the server's account configuration says.
#[derive(Default)]
pub(crate) struct VersionedAccounts(RwLock<BTreeSet<String>>);

impl Store {
    /// Switches blob versioning on or off for `account`. Versions kept while it was on stay
    /// readable after it is turned off.
    pub fn set_blob_versioning(&self, account: &str, on: bool) {
        let mut accounts = self.core().versioned.0.write();
        if on {
            accounts.insert(account.to_owned());
        } else {
            accounts.remove(account);
        }
    }

    pub fn blob_versioning(&self, account: &str) -> bool {
        self.core().versioned.0.read().contains(account)
    }
}

/// The key that finds version `version_id` in the `_at` operations (where a snapshot's time
/// goes), current or previous.
pub fn version_selector(version_id: &str) -> String {
    version_key(version_id)
}

/// A version id for blob `name` from `at`: 100 ns later while it is not after `after` (the
/// blob's newest version) or is taken by another version of the blob.
fn free_version_id(
    conn: &Connection,
    container_id: i64,
    name: &str,
    mut at: OffsetDateTime,
    after: Option<&str>,
) -> Result<String> {
    loop {
        let id = snapshot_name(at);
        let taken = after.is_some_and(|a| id.as_str() <= a)
            || find_blob_at(conn, container_id, name, &version_key(&id))?.is_some();
        if !taken {
            return Ok(id);
        }
        at += Duration::nanoseconds(100);
    }
}

/// The id under which the committed base row `row` is kept when it stops being current: its
/// own, or with versioning on for a blob written while it was off, its last write's time
/// (Azure keeps such a blob's state as a version too). `None`: it is not kept.
fn previous_id(
    conn: &Connection,
    container_id: i64,
    row: &BlobRow,
    versioning: bool,
) -> Result<Option<String>> {
    match &row.props.version_id {
        Some(id) => Ok(Some(id.clone())),
        None if versioning => Ok(Some(free_version_id(
            conn,
            container_id,
            &row.props.name,
            row.props.last_modified,
            None,
        )?)),
        None => Ok(None),
    }
}

/// For a write that makes a new version of blob `name` (Put Blob, Put Block List, Copy Blob,
/// Set Blob Metadata, creating an append or page blob), before it overwrites `existing`:
/// keeps the committed blob as a previous version sharing its content rows, and returns the
/// new version's id (`None` with versioning off: the new content is no version).
pub(crate) fn start_version(
    conn: &Connection,
    container_id: i64,
    name: &str,
    existing: Option<&BlobRow>,
    versioning: bool,
    now: OffsetDateTime,
) -> Result<NewVersion> {
    let existing = existing.filter(|b| b.committed);
    let mut newest = None;
    if let Some(row) = existing {
        if let Some(id) = previous_id(conn, container_id, row, versioning)? {
            let mut props = row.props.clone();
            props.version_id = Some(id.clone());
            props.is_current_version = false;
            props.lease = Lease::default();
            let kept = upsert_blob(conn, container_id, None, true, &props)?;
            share_content(conn, row.id, kept, true)?;
            newest = Some(id);
        }
    }
    let kept_previous = newest.is_some();
    if !versioning {
        return Ok(NewVersion {
            id: None,
            kept_previous,
        });
    }
    Ok(NewVersion {
        id: Some(free_version_id(
            conn,
            container_id,
            name,
            now,
            newest.as_deref(),
        )?),
        kept_previous,
    })
}

/// What [`start_version`] did: the new current version's id (with versioning), and whether
/// the state the write replaces was kept as a previous version (soft delete then keeps no
/// second copy of it: Azure keeps versions instead of soft-deleted snapshots).
pub(crate) struct NewVersion {
    pub(crate) id: Option<String>,
    pub(crate) kept_previous: bool,
}

/// Delete Blob of the base row `row` with versioning on, or of a blob that is a version: the
/// row becomes a previous version (its content stays where it is; its uncommitted blocks and
/// lease go). Returns false when the blob is no version and versioning is off: it is deleted.
pub(crate) fn demote_on_delete(
    conn: &Connection,
    container_id: i64,
    row: &BlobRow,
    versioning: bool,
) -> Result<bool> {
    let Some(id) = previous_id(conn, container_id, row, versioning)? else {
        return Ok(false);
    };
    conn.prepare_cached("DELETE FROM blocks WHERE blob_id = ?1 AND committed = 0")?
        .execute([row.id])?;
    let mut props = row.props.clone();
    props.version_id = Some(id);
    props.is_current_version = false;
    props.lease = Lease::default();
    upsert_blob(conn, container_id, Some(row.id), true, &props)?;
    Ok(true)
}
