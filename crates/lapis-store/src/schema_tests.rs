//! The schema's migrations: each old version upgrades keeping its data.

use super::*;

#[test]
fn migrating_twice_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    for _ in 0..2 {
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema_version());
    }
}

#[test]
fn upgrades_from_every_old_version_keeping_data() {
    for from in 1..schema_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..from as usize] {
            tx.execute_batch(sql).unwrap();
        }
        tx.execute_batch(&format!("PRAGMA user_version = {from}"))
            .unwrap();
        // Columns named: later steps add some.
        tx.execute(
            "INSERT INTO containers (id, account, name, etag, last_modified, created, metadata,
                                     public_access, acl)
             VALUES (1, 'a', 'c', 'e', 0, 0, x'', 0, x'')",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        migrate(&mut conn).unwrap();
        let containers: i64 = conn
            .query_row("SELECT COUNT(*) FROM containers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(containers, 1, "upgrade from {from} lost data");
        // The latest step's objects exist.
        conn.execute_batch(
            "INSERT INTO tables (id, account, key, name, acl) VALUES (1, 'a', 't', 'T', x'');
             INSERT INTO entities VALUES (1, 'p', 'r', 0, x'');
             INSERT INTO blobs (id, container_id, name, committed, blob_type, etag, last_modified, created,
                                size, committed_block_count, metadata, version_id)
                 VALUES (1, 1, 'b', 1, 0, 'e', 0, 0, 1, 0, x'', '2026-01-01T00:00:00.0000000Z');
             INSERT INTO blob_inline (blob_id, data, iv) VALUES (1, x'00', NULL);
             INSERT INTO queues (id, account, name, metadata, acl) VALUES (1, 'a', 'q', x'', x'');
             INSERT INTO messages (queue_id, id, inserted, expires, visible_at, dequeue_count,
                                   pop_receipt, text) VALUES (1, 'm', 0, NULL, 0, 0, 'p', 't')",
        )
        .unwrap();
    }
}

#[test]
fn blobs_put_without_a_content_type_get_azure_default_on_upgrade() {
    let mut conn = Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    for sql in &MIGRATIONS[..3] {
        tx.execute_batch(sql).unwrap();
    }
    tx.execute_batch(
        "PRAGMA user_version = 3;
         INSERT INTO containers VALUES (1, 'a', 'c', 'e', 0, 0, x'', 0, x'');
         INSERT INTO blobs (id, container_id, name, committed, blob_type, etag, last_modified, created,
                            size, committed_block_count, metadata, content_type)
             VALUES (1, 1, 'none', 1, 0, 'e', 0, 0, 1, 0, x'', NULL),
                    (2, 1, 'typed', 1, 0, 'e', 0, 0, 1, 0, x'', 'text/plain'),
                    (3, 1, 'blocks-only', 0, 0, '', 0, 0, 0, 0, x'', NULL);",
    )
    .unwrap();
    tx.commit().unwrap();
    migrate(&mut conn).unwrap();
    let types: Vec<Option<String>> = conn
        .prepare("SELECT content_type FROM blobs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        types,
        [
            Some("application/octet-stream".to_string()),
            Some("text/plain".to_string()),
            None
        ]
    );
}

#[test]
fn rebuilding_blobs_keeps_their_chunks_and_blocks() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let tx = conn.transaction().unwrap();
    for sql in &MIGRATIONS[..4] {
        tx.execute_batch(sql).unwrap();
    }
    tx.execute_batch(
        "PRAGMA user_version = 4;
         INSERT INTO containers VALUES (1, 'a', 'c', 'e', 0, 0, x'', 0, x'');
         INSERT INTO blobs (id, container_id, name, committed, blob_type, etag, last_modified, created,
                            size, committed_block_count, metadata) VALUES (7, 1, 'b', 1, 0, 'e', 0, 0, 10, 1, x'');
         INSERT INTO extents (id) VALUES (5);
         INSERT INTO blob_chunks (blob_id, start, extent, offset, len) VALUES (7, 0, 5, 0, 10);
         INSERT INTO blocks (id, blob_id, block_id, committed, seq, size, created) VALUES (1, 7, 'x', 1, 0, 10, 0);",
    )
    .unwrap();
    tx.commit().unwrap();
    migrate(&mut conn).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM blob_chunks WHERE blob_id = 7"),
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM blocks WHERE blob_id = 7"), 1);
    assert_eq!(count("SELECT live_bytes FROM extents WHERE id = 5"), 10);
    assert_eq!(
        count("SELECT COUNT(*) FROM blobs WHERE id = 7 AND snapshot = ''"),
        1
    );
    // Foreign keys are back on, and still point at the rebuilt table.
    assert_eq!(count("PRAGMA foreign_keys"), 1);
    conn.execute_batch("DELETE FROM blobs WHERE id = 7")
        .unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM blob_chunks"), 0);
    assert_eq!(count("SELECT live_bytes FROM extents WHERE id = 5"), 0);
}

#[test]
fn detaching_queues_keeps_their_messages_through_the_upgrade() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let tx = conn.transaction().unwrap();
    for sql in &MIGRATIONS[..6] {
        tx.execute_batch(sql).unwrap();
    }
    tx.execute_batch(
        "PRAGMA user_version = 6;
         INSERT INTO queues (id, account, name, metadata, acl, message_count)
             VALUES (4, 'a', 'q', x'01', x'02', 2);
         INSERT INTO messages (queue_id, id, inserted, expires, visible_at, dequeue_count,
                               pop_receipt, text)
             VALUES (4, 'm1', 0, NULL, 0, 0, 'p', 't'), (4, 'm2', 0, 9, 0, 0, 'p', 't');",
    )
    .unwrap();
    tx.commit().unwrap();
    migrate(&mut conn).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM queues WHERE id = 4 AND name = 'q' AND message_count = 2"),
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM messages WHERE queue_id = 4"), 2);
    // Any number of detached rows beside a live queue of the same name.
    conn.execute_batch(
        "UPDATE queues SET name = NULL WHERE id = 4;
         INSERT INTO queues (id, account, name, metadata, acl) VALUES (5, 'a', 'q', x'', x'');
         UPDATE queues SET name = NULL WHERE id = 5;
         INSERT INTO queues (id, account, name, metadata, acl) VALUES (6, 'a', 'q', x'', x'');",
    )
    .unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM queues WHERE name IS NULL"), 2);
    // The foreign key still points at the rebuilt table: it refuses an orphan and cascades.
    assert!(conn
        .execute_batch(
            "INSERT INTO messages (queue_id, id, inserted, visible_at, dequeue_count,
                                   pop_receipt, text) VALUES (99, 'x', 0, 0, 0, 'p', 't')"
        )
        .is_err());
    conn.execute_batch("DELETE FROM queues WHERE id = 4")
        .unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM messages"), 0);
}

#[test]
fn rebuilding_containers_keeps_their_blobs_and_frees_deleted_names() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let tx = conn.transaction().unwrap();
    for sql in &MIGRATIONS[..7] {
        tx.execute_batch(sql).unwrap();
    }
    tx.execute_batch(
        "PRAGMA user_version = 7;
         INSERT INTO containers (id, account, name, etag, last_modified, created, metadata,
                                 public_access, acl, lease_state)
             VALUES (3, 'a', 'c', 'e', 0, 0, x'01', 1, x'02', 1);
         INSERT INTO blobs (id, container_id, name, committed, blob_type, etag, last_modified, created,
                            size, committed_block_count, metadata) VALUES (7, 3, 'b', 1, 0, 'e', 0, 0, 1, 0, x'');",
    )
    .unwrap();
    tx.commit().unwrap();
    migrate(&mut conn).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM containers WHERE id = 3 AND deleted_version = '' AND lease_state = 1"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM blobs WHERE container_id = 3 AND deleted_at IS NULL"),
        1
    );
    // A deleted container beside a live one of the same name; two live ones are refused.
    conn.execute_batch(
        "UPDATE containers SET deleted_version = '01' WHERE id = 3;
         INSERT INTO containers (id, account, name, etag, last_modified, created, metadata,
                                 public_access, acl) VALUES (4, 'a', 'c', 'e', 0, 0, x'', 0, x'');",
    )
    .unwrap();
    assert!(conn
        .execute_batch(
            "INSERT INTO containers (account, name, etag, last_modified, created, metadata,
                                     public_access, acl) VALUES ('a', 'c', 'e', 0, 0, x'', 0, x'')"
        )
        .is_err());
    // `blobs` still names the rebuilt table: deleting the container cascades.
    conn.execute_batch("DELETE FROM containers WHERE id = 3")
        .unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM blobs"), 0);
}

#[test]
fn a_delete_retention_policy_stored_before_soft_delete_takes_effect() {
    let mut conn = Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    for sql in &MIGRATIONS[..7] {
        tx.execute_batch(sql).unwrap();
    }
    tx.execute_batch(
        "PRAGMA user_version = 7;
         INSERT INTO service_properties (account, xml) VALUES
           ('on', '<StorageServiceProperties><Cors /><DeleteRetentionPolicy><Enabled>true</Enabled><Days>17</Days><AllowPermanentDelete>true</AllowPermanentDelete></DeleteRetentionPolicy></StorageServiceProperties>'),
           ('kept', '<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>365</Days><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy></StorageServiceProperties>'),
           ('off', '<StorageServiceProperties><DeleteRetentionPolicy><Enabled>false</Enabled><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy></StorageServiceProperties>'),
           ('none', '<StorageServiceProperties />');",
    )
    .unwrap();
    tx.commit().unwrap();
    migrate(&mut conn).unwrap();
    let policies: Vec<(String, Option<i64>, bool)> = conn
        .prepare(
            "SELECT account, soft_delete_days, allow_permanent_delete FROM service_properties
             ORDER BY account",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        policies,
        [
            ("kept".to_string(), Some(365), false),
            ("none".to_string(), None, false),
            ("off".to_string(), None, false),
            ("on".to_string(), Some(17), true),
        ]
    );
}

#[test]
fn newer_database_is_refused() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA user_version = 999").unwrap();
    assert!(migrate(&mut conn).is_err());
}

#[test]
fn triggers_track_live_bytes() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    migrate(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO containers (id, account, name, etag, last_modified, created, metadata, public_access, acl)
             VALUES (1, 'a', 'c', 'e', 0, 0, x'', 0, x'');
         INSERT INTO blobs (id, container_id, name, committed, blob_type, etag, last_modified, created, size,
                            committed_block_count, metadata) VALUES (1, 1, 'b', 1, 0, 'e', 0, 0, 10, 0, x'');
         INSERT INTO extents (id) VALUES (5);
         INSERT INTO blob_chunks (blob_id, start, extent, offset, len) VALUES (1, 0, 5, 0, 10);
         INSERT INTO blocks (id, blob_id, block_id, committed, seq, size, created) VALUES (1, 1, 'x', 0, 1, 4, 0);
         INSERT INTO block_chunks (block, seq, extent, offset, len, counted) VALUES (1, 0, 5, 10, 4, 1);
         INSERT INTO blocks (id, blob_id, block_id, committed, seq, size, created) VALUES (2, 1, 'y', 1, 1, 10, 0);
         INSERT INTO block_chunks (block, seq, extent, offset, len, counted) VALUES (2, 0, 5, 0, 10, 0);",
    )
    .unwrap();
    let live = |c: &Connection| -> i64 {
        c.query_row("SELECT live_bytes FROM extents WHERE id = 5", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(live(&conn), 14);
    conn.execute_batch("DELETE FROM containers").unwrap();
    assert_eq!(live(&conn), 0);
}
