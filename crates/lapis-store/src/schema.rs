//! Schema, created and upgraded by numbered migrations; the version lives in `PRAGMA user_version`.

use rusqlite::Connection;

use crate::Result;

/// Migration N (1-based) is `MIGRATIONS[N - 1]`. Append only: never edit a released step.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('etag_high_water', 0);

    CREATE TABLE service_properties (account TEXT PRIMARY KEY, xml TEXT NOT NULL);

    CREATE TABLE containers (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        created INTEGER NOT NULL,
        metadata BLOB NOT NULL,
        public_access INTEGER NOT NULL,
        acl BLOB NOT NULL,
        UNIQUE (account, name)
    );

    -- committed = 0: the blob exists only through uncommitted blocks.
    CREATE TABLE blobs (
        id INTEGER PRIMARY KEY,
        container_id INTEGER NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        committed INTEGER NOT NULL,
        blob_type INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        created INTEGER NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT,
        content_encoding TEXT,
        content_language TEXT,
        content_disposition TEXT,
        cache_control TEXT,
        content_md5 BLOB,
        content_crc64 INTEGER,
        committed_block_count INTEGER NOT NULL,
        metadata BLOB NOT NULL,
        UNIQUE (container_id, name)
    );
    CREATE INDEX blobs_uncommitted ON blobs (id) WHERE committed = 0;

    -- live_bytes is kept by triggers; an extent with 0 live bytes holds only garbage.
    CREATE TABLE extents (id INTEGER PRIMARY KEY, live_bytes INTEGER NOT NULL DEFAULT 0);

    -- start = offset of the chunk within the blob.
    CREATE TABLE blob_chunks (
        blob_id INTEGER NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
        start INTEGER NOT NULL,
        extent INTEGER NOT NULL REFERENCES extents (id),
        offset INTEGER NOT NULL,
        len INTEGER NOT NULL,
        UNIQUE (blob_id, start)
    );
    CREATE INDEX blob_chunks_by_extent ON blob_chunks (extent);

    CREATE TABLE blocks (
        id INTEGER PRIMARY KEY,
        blob_id INTEGER NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
        block_id TEXT NOT NULL,
        committed INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        size INTEGER NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE INDEX blocks_by_blob ON blocks (blob_id, committed, seq);
    CREATE UNIQUE INDEX blocks_uncommitted_id ON blocks (blob_id, block_id) WHERE committed = 0;
    CREATE INDEX blocks_uncommitted_age ON blocks (created) WHERE committed = 0;

    -- counted = 0 for committed blocks: their bytes are already counted through blob_chunks.
    CREATE TABLE block_chunks (
        block INTEGER NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        extent INTEGER NOT NULL REFERENCES extents (id),
        offset INTEGER NOT NULL,
        len INTEGER NOT NULL,
        counted INTEGER NOT NULL,
        PRIMARY KEY (block, seq)
    );
    CREATE INDEX block_chunks_by_extent ON block_chunks (extent);

    CREATE TRIGGER blob_chunks_ins AFTER INSERT ON blob_chunks BEGIN
        UPDATE extents SET live_bytes = live_bytes + NEW.len WHERE id = NEW.extent;
    END;
    CREATE TRIGGER blob_chunks_del AFTER DELETE ON blob_chunks BEGIN
        UPDATE extents SET live_bytes = live_bytes - OLD.len WHERE id = OLD.extent;
    END;
    CREATE TRIGGER blob_chunks_upd AFTER UPDATE OF extent, len ON blob_chunks BEGIN
        UPDATE extents SET live_bytes = live_bytes - OLD.len WHERE id = OLD.extent;
        UPDATE extents SET live_bytes = live_bytes + NEW.len WHERE id = NEW.extent;
    END;
    CREATE TRIGGER block_chunks_ins AFTER INSERT ON block_chunks BEGIN
        UPDATE extents SET live_bytes = live_bytes + NEW.len * NEW.counted WHERE id = NEW.extent;
    END;
    CREATE TRIGGER block_chunks_del AFTER DELETE ON block_chunks BEGIN
        UPDATE extents SET live_bytes = live_bytes - OLD.len * OLD.counted WHERE id = OLD.extent;
    END;
    CREATE TRIGGER block_chunks_upd AFTER UPDATE OF extent, len, counted ON block_chunks BEGIN
        UPDATE extents SET live_bytes = live_bytes - OLD.len * OLD.counted WHERE id = OLD.extent;
        UPDATE extents SET live_bytes = live_bytes + NEW.len * NEW.counted WHERE id = NEW.extent;
    END;
    "#,
    // 2: Table service. Table names are case-insensitive: `key` is the lowercase name, `name` the
    // spelling given at creation. Entities are clustered by (table, PartitionKey, RowKey) so key
    // ranges are index ranges; TEXT compares with memcmp (BINARY), which is Azure's byte order.
    // `entity_clock` is the last entity timestamp handed out, in 100 ns ticks since the epoch.
    r#"
    INSERT INTO meta (key, value) VALUES ('entity_clock', 0);

    CREATE TABLE tables (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        acl BLOB NOT NULL,
        UNIQUE (account, key)
    );

    CREATE TABLE entities (
        table_id INTEGER NOT NULL REFERENCES tables (id) ON DELETE CASCADE,
        pk TEXT NOT NULL,
        rk TEXT NOT NULL,
        ts INTEGER NOT NULL,
        props BLOB NOT NULL,
        PRIMARY KEY (table_id, pk, rk)
    ) WITHOUT ROWID;
    "#,
    // 3: small blobs stored inline: their bytes live here, committed with the metadata in one
    // transaction, instead of in blob_chunks. A blob has content in one of the two, never both.
    r#"
    CREATE TABLE blob_inline (
        blob_id INTEGER PRIMARY KEY REFERENCES blobs (id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    "#,
    // 4: access tiers given on upload; customer-provided keys: the key's SHA-256 on the blob and
    // each block, and each stored run of bytes (or inline blob) its IV and keystream position.
    // A blob put without a content type now stores Azure's default, so that NULL can mean what
    // Set Blob Properties without one leaves: no content type at all.
    r#"
    ALTER TABLE blobs ADD COLUMN access_tier TEXT;
    ALTER TABLE blobs ADD COLUMN access_tier_changed INTEGER;
    ALTER TABLE blobs ADD COLUMN cpk_sha256 BLOB;
    ALTER TABLE blocks ADD COLUMN cpk_sha256 BLOB;
    ALTER TABLE blob_chunks ADD COLUMN iv BLOB;
    ALTER TABLE blob_chunks ADD COLUMN position INTEGER;
    ALTER TABLE block_chunks ADD COLUMN iv BLOB;
    ALTER TABLE block_chunks ADD COLUMN position INTEGER;
    ALTER TABLE blob_inline ADD COLUMN iv BLOB;
    UPDATE blobs SET content_type = 'application/octet-stream'
        WHERE committed = 1 AND content_type IS NULL;
    "#,
    // 5: leases, snapshots, copies, append and page blobs, archive, index tags. A snapshot is a
    // row of `blobs` under its base blob's name with Azure's snapshot time in `snapshot` ('' for
    // the base blob): its chunks are rows pointing at the same extents, so taking one copies no
    // bytes and the extents' live_bytes (kept by the triggers) stay above 0 while any snapshot
    // uses them. SQLite cannot change a UNIQUE constraint in place, so `blobs` is rebuilt (with
    // foreign keys off around this step: see `migrate`).
    // Leases: state 0 available, 1 leased, 2 breaking, 3 broken; `lease_until` is when a
    // finite lease expires or a break ends (100 ns ticks, as every time here), so expiry is
    // computed on read and needs no timer. `lease_duration` in seconds, -1 infinite.
    r#"
    CREATE TABLE blobs_v5 (
        id INTEGER PRIMARY KEY,
        container_id INTEGER NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        snapshot TEXT NOT NULL DEFAULT '',
        committed INTEGER NOT NULL,
        blob_type INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        created INTEGER NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT,
        content_encoding TEXT,
        content_language TEXT,
        content_disposition TEXT,
        cache_control TEXT,
        content_md5 BLOB,
        content_crc64 INTEGER,
        committed_block_count INTEGER NOT NULL,
        metadata BLOB NOT NULL,
        access_tier TEXT,
        access_tier_changed INTEGER,
        cpk_sha256 BLOB,
        lease_state INTEGER NOT NULL DEFAULT 0,
        lease_id TEXT,
        lease_duration INTEGER,
        lease_until INTEGER,
        sealed INTEGER NOT NULL DEFAULT 0,
        sequence_number INTEGER NOT NULL DEFAULT 0,
        copy_id TEXT,
        copy_status TEXT,
        copy_source TEXT,
        copy_progress TEXT,
        copy_completed INTEGER,
        copy_status_description TEXT,
        incremental_copy INTEGER NOT NULL DEFAULT 0,
        archive_status TEXT,
        rehydrate_priority TEXT,
        tag_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (container_id, name, snapshot)
    );
    INSERT INTO blobs_v5 (id, container_id, name, committed, blob_type, etag, last_modified, created, size, content_type, content_encoding, content_language, content_disposition, cache_control, content_md5, content_crc64, committed_block_count, metadata, access_tier, access_tier_changed, cpk_sha256) SELECT id, container_id, name, committed, blob_type, etag, last_modified, created, size, content_type, content_encoding, content_language, content_disposition, cache_control, content_md5, content_crc64, committed_block_count, metadata, access_tier, access_tier_changed, cpk_sha256 FROM blobs;
    DROP TABLE blobs;
    ALTER TABLE blobs_v5 RENAME TO blobs;
    CREATE INDEX blobs_uncommitted ON blobs (id) WHERE committed = 0;

    ALTER TABLE containers ADD COLUMN lease_state INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE containers ADD COLUMN lease_id TEXT;
    ALTER TABLE containers ADD COLUMN lease_duration INTEGER;
    ALTER TABLE containers ADD COLUMN lease_until INTEGER;

    -- Blob index tags; by (key, value) for Find Blobs by Tags.
    CREATE TABLE blob_tags (
        blob_id INTEGER NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (blob_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX blob_tags_by_value ON blob_tags (key, value, blob_id);
    "#,
    // 6: Queue service. `message_count` is kept by the engine's writes (put adds one; delete,
    // clear and the expiry purge subtract what they remove) so that Get Queue Metadata reads one
    // row. `seq` (the rowid) is the insertion order. Times are Unix nanoseconds; `expires` NULL
    // = never. Messages are found by (queue, visible_at, seq): the next visible ones are the
    // start of an index range. `text` is the last column so that reading the others never
    // touches a long message's overflow pages.
    r#"
    CREATE TABLE queues (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        metadata BLOB NOT NULL,
        acl BLOB NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, name)
    );

    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        queue_id INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        inserted INTEGER NOT NULL,
        expires INTEGER,
        visible_at INTEGER NOT NULL,
        dequeue_count INTEGER NOT NULL,
        pop_receipt TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX messages_by_visibility ON messages (queue_id, visible_at, seq);
    CREATE UNIQUE INDEX messages_by_id ON messages (queue_id, id);
    CREATE INDEX messages_by_expiry ON messages (expires) WHERE expires IS NOT NULL;
    "#,
    // 7: a queue deleted or cleared with many messages is detached rather than emptied in the
    // request: its row loses its name (NULL) and keeps its id, which its messages still
    // reference, and the collector deletes them in batches, then the row. No lookup by name and
    // no listing ever sees a NULL name, and UNIQUE lets any number of them coexist with a live
    // queue of the old name. SQLite cannot drop NOT NULL in place, so `queues` is rebuilt (a
    // row per queue; foreign keys are off around this, as for step 5, so dropping the old table
    // cascades into no message, and `messages` goes on naming `queues`).
    r#"
    CREATE TABLE queues_v7 (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        name TEXT,
        metadata BLOB NOT NULL,
        acl BLOB NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, name)
    );
    INSERT INTO queues_v7 (id, account, name, metadata, acl, message_count)
        SELECT id, account, name, metadata, acl, message_count FROM queues;
    DROP TABLE queues;
    ALTER TABLE queues_v7 RENAME TO queues;
    CREATE INDEX queues_detached ON queues (id) WHERE name IS NULL;
    "#,
    // 8: blob versions. `version_id` is Azure's version id (a time in the 7-digit form): on the
    // base row the current version's (NULL for a blob written while versioning was off); on a
    // previous version's row, that version's. A previous version is a row of `blobs` under the
    // blob's name whose `snapshot` is 'v' followed by its version id: the existing UNIQUE
    // (container_id, name, snapshot) keeps it apart from the base row and from snapshots (a
    // snapshot time starts with a digit) with no rebuild of `blobs`, its index orders a blob's
    // previous versions oldest first after its snapshots, and its content rows point at the
    // extents the blob's did, as a snapshot's do.
    r#"
    ALTER TABLE blobs ADD COLUMN version_id TEXT;
    "#,
    // 9: soft delete. A soft-deleted blob or snapshot keeps its row and its content rows (so
    // its bytes stay shared, nothing is copied) with `deleted_at` and `purge_at` set (100 ns
    // ticks); the collector deletes it at `purge_at`. A soft-deleted base blob is moved out of
    // the name's '' slot to a snapshot key (its deletion time) with `deleted_base = 1`: every
    // lookup of the live blob (`snapshot = ''`) misses it without a new condition, and a new
    // blob of that name can be written at once, the old one then being what Azure calls the
    // soft-deleted snapshot of the overwritten blob. Lookups by snapshot time add
    // `deleted_at IS NULL`. `soft_delete_days` and `allow_permanent_delete` are the account's
    // DeleteRetentionPolicy, kept beside its XML so that a write reads two integers.
    // Containers: a deleted container keeps its row with `deleted_version` set (Azure's
    // version string; '' while live), so UNIQUE (account, name, deleted_version) lets any
    // number of deleted ones sit beside one live container of the name. SQLite cannot change
    // a UNIQUE constraint in place, so `containers` (one row per container) is rebuilt, with
    // foreign keys off as for steps 5 and 7, `blobs` going on naming `containers`.
    r#"
    ALTER TABLE blobs ADD COLUMN deleted_at INTEGER;
    ALTER TABLE blobs ADD COLUMN purge_at INTEGER;
    ALTER TABLE blobs ADD COLUMN deleted_base INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX blobs_purge ON blobs (purge_at) WHERE purge_at IS NOT NULL;

    ALTER TABLE service_properties ADD COLUMN soft_delete_days INTEGER;
    ALTER TABLE service_properties ADD COLUMN allow_permanent_delete INTEGER NOT NULL DEFAULT 0;
    -- A policy enabled before this step (stored, to no effect) takes effect now. The XML is
    -- Lapis's own rendering, one fixed form; CAST reads the digits before `</Days>`.
    UPDATE service_properties SET
        soft_delete_days = CAST(substr(xml, instr(xml,
            '<DeleteRetentionPolicy><Enabled>true</Enabled><Days>') + 52, 4) AS INTEGER),
        allow_permanent_delete = instr(xml,
            '<AllowPermanentDelete>true</AllowPermanentDelete></DeleteRetentionPolicy>') > 0
        WHERE instr(xml, '<DeleteRetentionPolicy><Enabled>true</Enabled><Days>') > 0;

    CREATE TABLE containers_v9 (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        created INTEGER NOT NULL,
        metadata BLOB NOT NULL,
        public_access INTEGER NOT NULL,
        acl BLOB NOT NULL,
        lease_state INTEGER NOT NULL DEFAULT 0,
        lease_id TEXT,
        lease_duration INTEGER,
        lease_until INTEGER,
        deleted_version TEXT NOT NULL DEFAULT '',
        deleted_at INTEGER,
        purge_at INTEGER,
        UNIQUE (account, name, deleted_version)
    );
    INSERT INTO containers_v9 (id, account, name, etag, last_modified, created, metadata,
                               public_access, acl, lease_state, lease_id, lease_duration, lease_until)
        SELECT id, account, name, etag, last_modified, created, metadata, public_access, acl,
               lease_state, lease_id, lease_duration, lease_until FROM containers;
    DROP TABLE containers;
    ALTER TABLE containers_v9 RENAME TO containers;
    CREATE INDEX containers_purge ON containers (purge_at) WHERE purge_at IS NOT NULL;
    "#,
];

pub(crate) fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database to the current schema, every pending step in one transaction: a new
/// data folder is made in one commit (one sync, not one per step; syncs were most of a cold
/// start on a busy disk), and an upgrade is all or nothing.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > schema_version() {
        return Err(crate::StoreError::Internal(format!(
            "database schema version {current} is newer than this build ({})",
            schema_version()
        )));
    }
    if current == schema_version() {
        return Ok(());
    }
    // Steps 5, 7 and 9 rebuild `blobs`, `queues` and `containers`; dropping the old table with
    // foreign keys on would cascade into every chunk or message. The pragma is a no-op inside a transaction, so
    // it goes around it.
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let tx = conn.transaction()?;
    for sql in &MIGRATIONS[current as usize..] {
        tx.execute_batch(sql)?;
    }
    // PRAGMA takes no bound parameters; the value is our own integer.
    tx.execute_batch(&format!("PRAGMA user_version = {}", schema_version()))?;
    let dangling: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if dangling != 0 {
        return Err(crate::StoreError::Internal(format!(
            "schema upgrade left {dangling} rows without their parent"
        )));
    }
    tx.commit()?;
    if foreign_keys {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
