//! A `blobs` row: its columns, read into `BlobProps` and written from them.

use std::sync::LazyLock;

use rusqlite::{params, Connection, Row};

use crate::codec::{decode_metadata, encode_metadata, time_from_i64, time_to_i64};
use crate::cpk::sha256_from_column;
use crate::{
    AccessTier, BlobHttpProps, BlobProps, BlobType, CopyProps, Lease, Result, StoredLeaseState,
};

pub(crate) const BLOB_COLS: &str = "id, committed, name, blob_type, etag, last_modified, created, size, content_type, \
     content_encoding, content_language, content_disposition, cache_control, content_md5, content_crc64, \
     committed_block_count, metadata, access_tier, access_tier_changed, cpk_sha256, snapshot, lease_state, \
     lease_id, lease_duration, lease_until, sealed, sequence_number, copy_id, copy_status, copy_source, \
     copy_progress, copy_completed, copy_status_description, incremental_copy, archive_status, \
     rehydrate_priority, tag_count, version_id";

/// How many columns `BLOB_COLS` names: a query may select more after them. Counted from the
/// list itself, so that a column added to it moves what follows.
pub(crate) const BLOB_COL_COUNT: usize = count_columns(BLOB_COLS);

const fn count_columns(cols: &str) -> usize {
    let bytes = cols.as_bytes();
    let (mut i, mut n) = (0, 1);
    while i < bytes.len() {
        if bytes[i] == b',' {
            n += 1;
        }
        i += 1;
    }
    n
}

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
    "version_id",
];

pub(crate) struct BlobRow {
    pub(crate) id: i64,
    /// False: the blob exists only through uncommitted blocks.
    pub(crate) committed: bool,
    pub(crate) props: BlobProps,
}

pub(crate) fn type_to_i64(t: BlobType) -> i64 {
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
    let snapshot: String = r.get(20)?;
    let is_previous_version = snapshot.starts_with(VERSION_KEY_PREFIX);
    let version_id: Option<String> = r.get(37)?;
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
            snapshot: Some(snapshot).filter(|s| !s.is_empty() && !is_previous_version),
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
            is_current_version: version_id.is_some() && !is_previous_version,
            version_id,
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

/// What starts the `snapshot` column of a previous version's row; its version id follows.
/// Snapshot times start with a digit, so the two never meet.
pub(crate) const VERSION_KEY_PREFIX: &str = "v";

/// The `snapshot` column that finds a previous version's row.
pub(crate) fn version_key(version_id: &str) -> String {
    format!("{VERSION_KEY_PREFIX}{version_id}")
}

/// The row's key among the rows of its blob's name: '' for the base blob, the time for a
/// snapshot, `version_key` for a previous version.
fn row_key(p: &BlobProps) -> String {
    match (&p.snapshot, &p.version_id) {
        (Some(s), _) => s.clone(),
        (None, Some(v)) if !p.is_current_version => version_key(v),
        _ => String::new(),
    }
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
    let key = row_key(p);
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
        key,
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
        p.version_id,
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
