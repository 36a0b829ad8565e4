//! Importing state from elsewhere: containers, blobs of every type with their snapshots and
//! blocks, entities and messages are stored exactly as given, importing twice leaves one copy,
//! and the engine's own operations then treat them as their own.

mod support;

use std::sync::Arc;

use lapis_store::*;
use support::*;
use time::macros::datetime;
use time::OffsetDateTime;

const T0: OffsetDateTime = datetime!(2024-03-01 10:00:00.123 UTC);
const T1: OffsetDateTime = datetime!(2024-03-02 11:30:00.456 UTC);

fn imported_container(name: &str) -> ContainerProps {
    ContainerProps {
        name: name.into(),
        etag: "0x1FBFA636D1130A0".into(),
        last_modified: T1,
        created: T0,
        metadata: md(&[("Team", "blue")]),
        public_access: PublicAccess::Blob,
        has_immutability_policy: false,
        has_legal_hold: false,
        lease: Lease {
            state: StoredLeaseState::Leased,
            id: Some("a63b48a9-ff12-444d-9bb1-eeaff21c6587".into()),
            duration: Some(-1),
            until: None,
        },
        deleted: None,
    }
}

fn acl() -> Vec<SignedIdentifier> {
    vec![SignedIdentifier {
        id: "pol1".into(),
        start: Some("2024-01-01T00:00:00Z".into()),
        expiry: Some("2030-01-01T00:00:00Z".into()),
        permission: Some("rl".into()),
    }]
}

fn props(name: &str, blob_type: BlobType, size: u64, etag: &str) -> BlobProps {
    BlobProps {
        last_modified: T1,
        created: T0,
        size,
        ..BlobProps::new(name.into(), blob_type, etag.into(), T1)
    }
}

fn block(store: &Store, id: &str, data: &[u8]) -> ImportedBlock {
    ImportedBlock {
        id: id.into(),
        data: write(store, data),
        created: T0,
    }
}

fn simple(store: &Store, name: &str, data: &[u8], etag: &str) -> ImportedBlob {
    ImportedBlob {
        props: props(name, BlobType::BlockBlob, data.len() as u64, etag),
        committed: true,
        tags: Vec::new(),
        content: ImportedContent::Runs(vec![(0, write(store, data))]),
        uncommitted: None,
    }
}

fn read_at(store: &Store, c: &str, b: &str, snapshot: Option<&str>) -> Vec<u8> {
    let (_, r) = store
        .read_blob_at(ACCOUNT, c, b, snapshot, None, &no_cond(), None)
        .unwrap();
    drain(r)
}

fn blob_props(store: &Store, c: &str, b: &str, snapshot: Option<&str>) -> BlobProps {
    store
        .get_blob_properties_at(ACCOUNT, c, b, snapshot, &no_cond(), Access::Read, None)
        .unwrap()
}

#[test]
fn containers_keep_their_etag_times_lease_and_policies() {
    both(StoreOptions::default(), |store| {
        let props = imported_container("cont1");
        let first = store.import_container(ACCOUNT, &props, &acl()).unwrap();
        assert_eq!(first, ImportOutcome::Created);
        let (stored, ids) = store.get_container_acl(ACCOUNT, "cont1").unwrap();
        assert_eq!(stored, props);
        assert_eq!(ids, acl());
        // Again: the same container, once.
        let again = store.import_container(ACCOUNT, &props, &acl()).unwrap();
        assert_eq!(again, ImportOutcome::Replaced);
        let page = store.list_containers(ACCOUNT, None, None, 10).unwrap();
        assert_eq!(page.items, vec![props.clone()]);
        // The imported lease is a lease like any other: a delete without its id is refused.
        assert!(store
            .delete_container(ACCOUNT, "cont1", &no_cond())
            .is_err());
        let cond = Conditions {
            lease_id: props.lease.id.clone(),
            ..Default::default()
        };
        store.delete_container(ACCOUNT, "cont1", &cond).unwrap();
    });
}

#[test]
fn a_blob_keeps_its_properties_tags_and_lease() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let data = pattern(100_000, 1);
        let mut blob = simple(store, "dir/a.bin", &data, "0x27B79427CC342E0");
        blob.props.http = BlobHttpProps {
            content_type: Some("text/plain".into()),
            content_encoding: Some("identity".into()),
            content_language: Some("en".into()),
            content_disposition: Some("inline".into()),
            cache_control: Some("no-cache".into()),
            content_md5: Some(vec![7; 16]),
        };
        blob.props.metadata = md(&[("Key1", "v1")]);
        blob.props.access_tier = Some((AccessTier::Cool, T0));
        blob.props.lease = Lease {
            state: StoredLeaseState::Leased,
            id: Some("fe22e649-44ae-4814-8f77-db4a67a72c1e".into()),
            duration: Some(-1),
            until: None,
        };
        blob.tags = vec![
            ("project".into(), "x y".into()),
            ("tag1".into(), "a".into()),
        ];
        assert_eq!(
            store.import_blob(ACCOUNT, "c", blob.clone()).unwrap(),
            ImportOutcome::Created
        );
        let stored = blob_props(store, "c", "dir/a.bin", None);
        let mut expected = blob.props.clone();
        expected.tag_count = 2;
        assert_eq!(stored, expected);
        assert_eq!(read_at(store, "c", "dir/a.bin", None), data);
        assert_eq!(
            store
                .get_blob_tags(ACCOUNT, "c", "dir/a.bin", None, &no_cond())
                .unwrap(),
            blob.tags
        );
        // The lease holds: a write without its id is refused.
        let refused =
            store.set_blob_metadata(ACCOUNT, "c", "dir/a.bin", &md(&[]), &no_cond(), None);
        assert!(refused.is_err());
        // Importing again replaces it with the same: one blob, same bytes.
        assert_eq!(
            store.import_blob(ACCOUNT, "c", blob).unwrap(),
            ImportOutcome::Replaced
        );
        let page = store
            .list_blobs(
                ACCOUNT,
                "c",
                &ListBlobsQuery {
                    max_results: 10,
                    include_snapshots: true,
                    include_uncommitted: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(read_at(store, "c", "dir/a.bin", None), data);
    });
}

#[test]
fn small_blobs_can_live_inline() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let blob = ImportedBlob {
            content: ImportedContent::Inline(b"hello".to_vec()),
            ..simple(store, "small", b"", "0x1")
        };
        let mut blob = blob;
        blob.props.size = 5;
        store.import_blob(ACCOUNT, "c", blob).unwrap();
        assert_eq!(read_at(store, "c", "small", None), b"hello");
    });
}

#[test]
fn block_blobs_keep_committed_and_uncommitted_blocks() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let (a, b) = (pattern(100, 2), pattern(200, 3));
        let mut p = props("blocks.bin", BlobType::BlockBlob, 300, "0x2429B59656F20E0");
        p.committed_block_count = 2;
        let blob = ImportedBlob {
            props: p,
            committed: true,
            tags: Vec::new(),
            content: ImportedContent::Blocks(vec![
                block(store, "WVdGaA==", &a),
                block(store, "WW1KaQ==", &b),
            ]),
            uncommitted: Some(vec![block(store, "WTJOag==", &[b'c'; 50])]),
        };
        store.import_blob(ACCOUNT, "c", blob).unwrap();
        assert_eq!(read_at(store, "c", "blocks.bin", None), [a, b].concat());
        let lists = store
            .get_block_list(ACCOUNT, "c", "blocks.bin", BlockListFilter::All)
            .unwrap();
        let ids = |l: &[BlockInfo]| l.iter().map(|b| (b.id.clone(), b.size)).collect::<Vec<_>>();
        assert_eq!(
            ids(&lists.committed),
            vec![("WVdGaA==".into(), 100), ("WW1KaQ==".into(), 200)]
        );
        assert_eq!(ids(&lists.uncommitted), vec![("WTJOag==".to_string(), 50)]);
        // The staged block can be committed by the engine's own Put Block List.
        store
            .put_block_list(
                ACCOUNT,
                "c",
                "blocks.bin",
                &[
                    (BlockSource::Committed, "WVdGaA==".into()),
                    (BlockSource::Uncommitted, "WTJOag==".into()),
                ],
                &BlobHttpProps::default(),
                &Vec::new(),
                None,
                &no_cond(),
                None,
            )
            .unwrap();
        let mut expected = pattern(100, 2);
        expected.extend_from_slice(&[b'c'; 50]);
        assert_eq!(read_at(store, "c", "blocks.bin", None), expected);
    });
}

#[test]
fn a_blob_with_only_uncommitted_blocks_stays_invisible() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let blob = ImportedBlob {
            props: props("staged", BlobType::BlockBlob, 0, ""),
            committed: false,
            tags: Vec::new(),
            content: ImportedContent::Runs(Vec::new()),
            uncommitted: Some(vec![block(store, "MDAx", b"staged bytes")]),
        };
        store.import_blob(ACCOUNT, "c", blob).unwrap();
        assert!(matches!(
            store.get_blob_properties(ACCOUNT, "c", "staged", &no_cond(), Access::Read, None),
            Err(StoreError::BlobNotFound)
        ));
        let lists = store
            .get_block_list(ACCOUNT, "c", "staged", BlockListFilter::All)
            .unwrap();
        assert_eq!(lists.uncommitted.len(), 1);
        assert!(lists.blob.is_none());
    });
}

#[test]
fn page_blobs_keep_their_ranges_and_holes() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let mut p = props(
            "disk.vhd",
            BlobType::PageBlob,
            1024 * 1024,
            "0x23790696E08BF20",
        );
        p.sequence_number = 7;
        let blob = ImportedBlob {
            props: p,
            committed: true,
            tags: Vec::new(),
            content: ImportedContent::Runs(vec![
                (0, write(store, &[1; 512])),
                (8192, write(store, &[2; 1024])),
            ]),
            uncommitted: None,
        };
        store.import_blob(ACCOUNT, "c", blob).unwrap();
        let ranges = store
            .get_page_ranges(
                ACCOUNT,
                "c",
                "disk.vhd",
                &PageRangeQuery::default(),
                &no_cond(),
            )
            .unwrap();
        let spans: Vec<_> = ranges.ranges.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(spans, vec![(0, 512), (8192, 9216)]);
        assert_eq!(ranges.blob.sequence_number, 7);
        let all = read_at(store, "c", "disk.vhd", None);
        assert_eq!(all.len(), 1024 * 1024);
        assert!(all[..512].iter().all(|b| *b == 1));
        assert!(all[512..8192].iter().all(|b| *b == 0));
        assert!(all[8192..9216].iter().all(|b| *b == 2));
    });
}

#[test]
fn append_blobs_take_further_appends() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let mut p = props("app.log", BlobType::AppendBlob, 12, "0x27D7BFDBC132DE0");
        p.committed_block_count = 2;
        let blob = ImportedBlob {
            props: p,
            committed: true,
            tags: Vec::new(),
            content: ImportedContent::Runs(vec![
                (0, write(store, b"line1\n")),
                (6, write(store, b"line2\n")),
            ]),
            uncommitted: None,
        };
        store.import_blob(ACCOUNT, "c", blob).unwrap();
        let appended = store
            .append_block(
                ACCOUNT,
                "c",
                "app.log",
                write(store, b"line3\n"),
                &no_cond(),
                AppendConditions::default(),
                None,
            )
            .unwrap();
        assert_eq!(appended.offset, 12);
        assert_eq!(appended.props.committed_block_count, 3);
        assert_eq!(
            read_at(store, "c", "app.log", None),
            b"line1\nline2\nline3\n"
        );
    });
}

#[test]
fn snapshots_keep_their_names_and_their_own_content() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let name = "2024-03-01T10:00:00.1230000Z";
        let mut snap = simple(store, "doc", b"hello world", "0x1AAA");
        snap.props.snapshot = Some(name.into());
        snap.tags = vec![("k".into(), "v".into())];
        store.import_blob(ACCOUNT, "c", snap).unwrap();
        store
            .import_blob(ACCOUNT, "c", simple(store, "doc", b"hello again", "0x1BBB"))
            .unwrap();
        assert_eq!(read_at(store, "c", "doc", Some(name)), b"hello world");
        assert_eq!(read_at(store, "c", "doc", None), b"hello again");
        assert_eq!(blob_props(store, "c", "doc", Some(name)).etag, "0x1AAA");
        assert_eq!(
            store
                .get_blob_tags(ACCOUNT, "c", "doc", Some(name), &no_cond())
                .unwrap(),
            vec![("k".to_string(), "v".to_string())]
        );
        // A snapshot shares bytes given to it twice: both rows point at the same extent bytes.
        let shared = write(store, &pattern(70_000, 9));
        let mut base = simple(store, "shared", b"", "0x2");
        base.props.size = 70_000;
        base.content = ImportedContent::Runs(vec![(0, shared.clone())]);
        let mut snap = base.clone();
        snap.props.snapshot = Some(name.into());
        store.import_blob(ACCOUNT, "c", snap).unwrap();
        store.import_blob(ACCOUNT, "c", base).unwrap();
        drop(shared);
        store
            .delete_blob_at(
                ACCOUNT,
                "c",
                "shared",
                None,
                SnapshotsOnDelete::Only,
                &no_cond(),
            )
            .unwrap();
        store.collect_garbage().unwrap();
        assert_eq!(read_at(store, "c", "shared", None), pattern(70_000, 9));
    });
}

#[test]
fn keep_changes_properties_and_leaves_the_content() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let data = pattern(5000, 4);
        let blob = simple(store, "b", &data, "0x1");
        store.import_blob(ACCOUNT, "c", blob.clone()).unwrap();
        let mut again = blob.clone();
        again.content = ImportedContent::Keep;
        again.tags = vec![("t".into(), "1".into())];
        store.import_blob(ACCOUNT, "c", again).unwrap();
        assert_eq!(read_at(store, "c", "b", None), data);
        assert_eq!(blob_props(store, "c", "b", None).tag_count, 1);
        // Nothing to keep: refused.
        let mut missing = blob;
        missing.props.name = "other".into();
        missing.content = ImportedContent::Keep;
        assert!(store.import_blob(ACCOUNT, "c", missing).is_err());
    });
}

#[test]
fn inconsistent_content_is_refused_before_anything_is_written() {
    both(StoreOptions::default(), |store| {
        container(store, "c");
        let mut short = simple(store, "b", b"abc", "0x1");
        short.props.size = 10;
        assert!(store.import_blob(ACCOUNT, "c", short).is_err());
        let mut blocks = simple(store, "b", b"", "0x1");
        blocks.props.size = 3;
        blocks.props.committed_block_count = 2;
        blocks.content = ImportedContent::Blocks(vec![block(store, "AA==", b"abc")]);
        assert!(store.import_blob(ACCOUNT, "c", blocks).is_err());
        assert!(matches!(
            store.get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            store.import_blob(ACCOUNT, "nope", simple(store, "b", b"a", "0x1")),
            Err(StoreError::ContainerNotFound)
        ));
    });
}

fn merge_none() -> Arc<MergeFn> {
    Arc::new(|_old: &[u8], new: &[u8]| Ok(new.to_vec()))
}

#[test]
fn entities_keep_their_timestamps_and_later_writes_come_after() {
    both(StoreOptions::default(), |store| {
        store.create_table(ACCOUNT, "Types").unwrap();
        // A timestamp from the future: later writes must still be above it.
        let future = OffsetDateTime::now_utc() + time::Duration::days(1);
        let ts = datetime!(2026-12-07 20:50:12.1102553 UTC);
        let records = vec![
            EntityRecord {
                partition_key: "p".into(),
                row_key: "r1".into(),
                timestamp: ts,
                properties: vec![1, 2, 3],
            },
            EntityRecord {
                partition_key: "p".into(),
                row_key: "r2".into(),
                timestamp: future,
                properties: vec![4],
            },
        ];
        assert_eq!(
            store
                .import_entities(ACCOUNT, "Types", records.clone())
                .unwrap(),
            2
        );
        let got = store.get_entity(ACCOUNT, "Types", "p", "r1").unwrap();
        assert_eq!(got.timestamp, ts);
        assert_eq!(got.properties, vec![1, 2, 3]);
        // Again: nothing changes.
        assert_eq!(store.import_entities(ACCOUNT, "Types", records).unwrap(), 0);
        let written = store
            .write_entity(
                ACCOUNT,
                "Types",
                EntityOp {
                    partition_key: "p".into(),
                    row_key: "r3".into(),
                    kind: EntityOpKind::Write {
                        write: EntityWrite::Insert,
                        properties: vec![],
                    },
                },
                &merge_none(),
            )
            .unwrap()
            .unwrap();
        assert!(written.timestamp > future);
        // If-Match with the imported ETag's timestamp matches the imported version.
        store
            .write_entity(
                ACCOUNT,
                "Types",
                EntityOp {
                    partition_key: "p".into(),
                    row_key: "r1".into(),
                    kind: EntityOpKind::Delete {
                        if_match: IfMatch::Timestamp(ts),
                    },
                },
                &merge_none(),
            )
            .unwrap();
    });
}

#[test]
fn messages_keep_ids_times_receipts_and_order() {
    both(StoreOptions::default(), |store| {
        store.create_queue(ACCOUNT, "queue1", &[]).unwrap();
        let now = OffsetDateTime::now_utc();
        let message = |id: &str, visible: OffsetDateTime, text: &str, dequeues: u64| QueueMessage {
            id: id.into(),
            inserted: T0,
            expires: None,
            next_visible: visible,
            dequeue_count: dequeues,
            pop_receipt: format!("receipt-{id}"),
            text: text.into(),
        };
        let messages = vec![
            message(
                "4344b747-4f10-4a82-bd70-c6b4012ffa15",
                now + time::Duration::minutes(10),
                "hidden",
                1,
            ),
            message("3822c6b5-b369-448c-bbdf-1d9368b2e4bc", T1, "first", 0),
            message("a1733601-f036-47a7-83b4-b7149008a9e8", T1, "second", 0),
        ];
        assert_eq!(
            store
                .import_messages(ACCOUNT, "queue1", messages.clone())
                .unwrap(),
            3
        );
        assert_eq!(
            store
                .import_messages(ACCOUNT, "queue1", messages.clone())
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .get_queue(ACCOUNT, "queue1")
                .unwrap()
                .approximate_message_count,
            3
        );
        let peeked = store.peek_messages(ACCOUNT, "queue1", 32, now).unwrap();
        let texts: Vec<_> = peeked.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["first", "second"]);
        assert_eq!(peeked[0].id, messages[1].id);
        assert_eq!(peeked[0].inserted, T0);
        // The hidden message's pop receipt still deletes it.
        store
            .delete_message(
                ACCOUNT,
                "queue1",
                &messages[0].id,
                "receipt-4344b747-4f10-4a82-bd70-c6b4012ffa15",
                now,
            )
            .unwrap();
        assert_eq!(
            store
                .get_queue(ACCOUNT, "queue1")
                .unwrap()
                .approximate_message_count,
            2
        );
    });
}
