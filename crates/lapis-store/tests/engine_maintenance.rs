//! Integration tests of listing, garbage collection, durability across reopen, concurrency and
//! running out of space.

mod support;

use std::time::Duration;

use lapis_store::*;
use support::*;

fn names(page: &ListBlobsPage) -> Vec<String> {
    page.items
        .iter()
        .map(|i| match i {
            ListBlobsItem::Blob(b) => b.name.clone(),
            ListBlobsItem::UncommittedBlob { name } => format!("~{name}"),
            ListBlobsItem::Prefix(p) => format!("{p}*"),
            ListBlobsItem::Deleted(b, _) => format!("-{}", b.name),
        })
        .collect()
}

#[test]
fn listing_with_prefix_delimiter_and_marker() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        for n in ["a", "b/1", "b/2", "b/3/x", "c", "d/1", "e"] {
            put(s, "c", n, n.as_bytes());
        }
        s.put_block(ACCOUNT, "c", "bz", "id", write(s, b"u"))
            .unwrap();
        let q =
            |prefix: Option<&str>, delim: Option<&str>, marker: Option<&str>, max| ListBlobsQuery {
                prefix: prefix.map(Into::into),
                delimiter: delim.map(Into::into),
                marker: marker.map(Into::into),
                max_results: max,
                ..Default::default()
            };
        let all = s
            .list_blobs(ACCOUNT, "c", &q(None, None, None, 100))
            .unwrap();
        assert_eq!(names(&all), ["a", "b/1", "b/2", "b/3/x", "c", "d/1", "e"]);
        assert!(all.next_marker.is_none());
        if let ListBlobsItem::Blob(b) = &all.items[0] {
            assert!(b.metadata.is_empty());
        }

        let p1 = s
            .list_blobs(ACCOUNT, "c", &q(None, Some("/"), None, 3))
            .unwrap();
        assert_eq!(names(&p1), ["a", "b/*", "c"]);
        assert_eq!(p1.next_marker.as_deref(), Some("d/"));
        let p2 = s
            .list_blobs(
                ACCOUNT,
                "c",
                &q(None, Some("/"), p1.next_marker.as_deref(), 3),
            )
            .unwrap();
        assert_eq!(names(&p2), ["d/*", "e"]);
        assert!(p2.next_marker.is_none());

        let inner = s
            .list_blobs(ACCOUNT, "c", &q(Some("b/"), Some("/"), None, 10))
            .unwrap();
        assert_eq!(names(&inner), ["b/1", "b/2", "b/3/*"]);
        let marker_mid = s
            .list_blobs(ACCOUNT, "c", &q(Some("b/"), None, Some("b/2"), 10))
            .unwrap();
        assert_eq!(names(&marker_mid), ["b/2", "b/3/x"]);

        let mut with = q(Some("b"), None, None, 10);
        with.include_uncommitted = true;
        assert_eq!(
            names(&s.list_blobs(ACCOUNT, "c", &with).unwrap()),
            ["b/1", "b/2", "b/3/x", "~bz"]
        );

        s.set_blob_metadata(
            ACCOUNT,
            "c",
            "e",
            &vec![("k".into(), "v".into())],
            &no_cond(),
            None,
        )
        .unwrap();
        let mut with_md = q(Some("e"), None, None, 10);
        with_md.include_metadata = true;
        match &s.list_blobs(ACCOUNT, "c", &with_md).unwrap().items[..] {
            [ListBlobsItem::Blob(b)] => {
                assert_eq!(b.metadata, vec![("k".to_string(), "v".to_string())])
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            s.list_blobs(ACCOUNT, "missing", &q(None, None, None, 1)),
            Err(StoreError::ContainerNotFound)
        ));
    });
}

#[test]
fn paging_through_2500_blobs_returns_each_once() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let empty = write(s, b"");
        let mut expected: Vec<String> = (0..2500)
            .map(|i| format!("dir{}/blob{i:05}", i % 3))
            .collect();
        for n in &expected {
            s.put_blob(
                ACCOUNT,
                "c",
                n,
                empty.clone(),
                &Default::default(),
                &Vec::new(),
                None,
                &no_cond(),
            )
            .unwrap();
        }
        expected.sort();
        let mut seen = Vec::new();
        let mut marker = None;
        let mut pages = 0;
        loop {
            let q = ListBlobsQuery {
                marker: marker.clone(),
                max_results: 1000,
                ..Default::default()
            };
            let page = s.list_blobs(ACCOUNT, "c", &q).unwrap();
            assert!(page.items.len() <= 1000);
            seen.extend(names(&page));
            pages += 1;
            match page.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, expected);
        // With a delimiter the 2,500 collapse into three prefixes.
        let q = ListBlobsQuery {
            delimiter: Some("/".into()),
            max_results: 1000,
            ..Default::default()
        };
        assert_eq!(
            names(&s.list_blobs(ACCOUNT, "c", &q).unwrap()),
            ["dir0/*", "dir1/*", "dir2/*"]
        );
    });
}

fn small_extents() -> StoreOptions {
    StoreOptions {
        extent_target_size: 64 * 1024,
        gc_interval: Duration::from_secs(3600),
        ..Default::default()
    }
}

#[test]
fn gc_reclaims_deleted_and_overwritten_blobs_without_breaking_readers() {
    both(small_extents(), |s| {
        container(s, "c");
        let keep = pattern(30_000, 1);
        put(s, "c", "keep", &keep);
        for i in 0..6 {
            put(s, "c", &format!("gone{i}"), &pattern(50_000, i + 10));
        }
        put(s, "c", "over", &pattern(50_000, 99));
        let before = s.stats().unwrap();
        assert_eq!((before.containers, before.blobs), (1, 8));

        // A reader opened before the delete keeps its bytes through delete + GC.
        let (_, reader) = s
            .read_blob(ACCOUNT, "c", "gone0", None, &no_cond(), None)
            .unwrap();
        for i in 0..6 {
            s.delete_blob(ACCOUNT, "c", &format!("gone{i}"), &no_cond())
                .unwrap();
        }
        let over = pattern(10, 5);
        put(s, "c", "over", &over);
        let gc = s.collect_garbage().unwrap();
        assert!(gc.extents_deleted + gc.extents_compacted > 0, "{gc:?}");
        assert_eq!(drain(reader), pattern(50_000, 10));

        // Once the reader is gone, a second pass reclaims the rest.
        s.collect_garbage().unwrap();
        let after = s.stats().unwrap();
        assert_eq!(after.blobs, 2);
        assert!(
            after.extent_bytes < before.extent_bytes / 2,
            "{before:?} -> {after:?}"
        );
        assert!(after.extent_bytes >= 30_010);
        assert_eq!(read(s, "c", "keep", None).unwrap(), keep);
        assert_eq!(read(s, "c", "over", None).unwrap(), over);
    });
}

#[test]
fn gc_compacts_mostly_dead_sealed_extents() {
    both(small_extents(), |s| {
        container(s, "c");
        // Ten 10 KB blobs written one after another share sealed extents.
        let blobs: Vec<Vec<u8>> = (0..10).map(|i| pattern(10_000, i)).collect();
        for (i, b) in blobs.iter().enumerate() {
            put(s, "c", &format!("b{i}"), b);
        }
        for i in (0..10).filter(|i| i % 4 != 0) {
            s.delete_blob(ACCOUNT, "c", &format!("b{i}"), &no_cond())
                .unwrap();
        }
        let before = s.stats().unwrap();
        let gc = s.collect_garbage().unwrap();
        assert!(gc.extents_compacted >= 1, "{gc:?}");
        s.collect_garbage().unwrap();
        let after = s.stats().unwrap();
        assert!(
            after.extent_bytes < before.extent_bytes,
            "{before:?} -> {after:?}"
        );
        for i in [0, 4, 8] {
            assert_eq!(read(s, "c", &format!("b{i}"), None).unwrap(), blobs[i]);
            assert_eq!(
                read(
                    s,
                    "c",
                    &format!("b{i}"),
                    Some(ByteRange {
                        start: 5,
                        end: Some(9)
                    })
                )
                .unwrap(),
                &blobs[i][5..10]
            );
        }
    });
}

#[test]
fn gc_expires_old_uncommitted_blocks() {
    both(
        StoreOptions {
            uncommitted_block_ttl: Duration::from_millis(1),
            ..small_extents()
        },
        |s| {
            container(s, "c");
            s.put_block(
                ACCOUNT,
                "c",
                "only-blocks",
                "a",
                write(s, &pattern(20_000, 3)),
            )
            .unwrap();
            put(s, "c", "committed", b"x");
            s.put_block(ACCOUNT, "c", "committed", "b", write(s, b"pending"))
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
            let gc = s.collect_garbage().unwrap();
            assert_eq!(gc.blocks_expired, 2);
            assert!(matches!(
                s.get_block_list(ACCOUNT, "c", "only-blocks", BlockListFilter::All),
                Err(StoreError::BlobNotFound)
            ));
            let lists = s
                .get_block_list(ACCOUNT, "c", "committed", BlockListFilter::All)
                .unwrap();
            assert!(lists.uncommitted.is_empty());
            assert_eq!(read(s, "c", "committed", None).unwrap(), b"x");
            let q = ListBlobsQuery {
                include_uncommitted: true,
                max_results: 10,
                ..Default::default()
            };
            assert_eq!(
                names(&s.list_blobs(ACCOUNT, "c", &q).unwrap()),
                ["committed"]
            );
        },
    );
}

#[test]
fn reopen_after_close_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(300_000, 4);
    let (etag, container_etag) = {
        let s = Store::open(dir.path()).unwrap();
        let c = s
            .create_container(
                ACCOUNT,
                "c",
                &vec![("m".into(), "1".into())],
                PublicAccess::Blob,
            )
            .unwrap();
        let p = put(&s, "c", "b", &data);
        s.put_block(ACCOUNT, "c", "blocky", "id1", write(&s, b"block"))
            .unwrap();
        // Written but never committed: garbage that reopening must drop.
        let mut w = s.blob_writer().unwrap();
        w.write(&pattern(5000, 8)).unwrap();
        drop(w.finish().unwrap());
        s.close().unwrap();
        s.close().unwrap(); // idempotent
        assert!(s.set_service_properties(ACCOUNT, "x").is_err());
        (p.etag, c.etag)
    };
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.get_container(ACCOUNT, "c").unwrap().etag, container_etag);
    assert_eq!(read(&s, "c", "b", None).unwrap(), data);
    let lists = s
        .get_block_list(ACCOUNT, "c", "blocky", BlockListFilter::All)
        .unwrap();
    assert_eq!(lists.uncommitted.len(), 1);
    let p = s
        .put_block_list(
            ACCOUNT,
            "c",
            "blocky",
            &[(BlockSource::Latest, "id1".into())],
            &Default::default(),
            &Vec::new(),
            None,
            &no_cond(),
            None,
        )
        .unwrap();
    assert_eq!(read(&s, "c", "blocky", None).unwrap(), b"block");
    assert!(p.etag > etag, "etags keep increasing across restarts");
    let stats = s.stats().unwrap();
    assert_eq!(
        stats.extent_bytes,
        300_000 + 5,
        "uncommitted bytes were dropped at open"
    );
    assert_eq!(s.integrity_check().unwrap(), "ok");
    drop(s);
    // Dropping without close also leaves a store that opens.
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(read(&s, "c", "b", None).unwrap(), data);
}

#[test]
fn sixteen_concurrent_writers() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        std::thread::scope(|scope| {
            for t in 0..16u64 {
                scope.spawn(move || {
                    for i in 0..8u64 {
                        let data = pattern(1000 + (t * 8 + i) as usize * 37, t * 100 + i);
                        put(s, "c", &format!("t{t}/b{i}"), &data);
                        s.put_block(
                            ACCOUNT,
                            "c",
                            &format!("t{t}/blocks"),
                            &format!("{i}"),
                            write(s, &data),
                        )
                        .unwrap();
                    }
                });
            }
        });
        for t in 0..16u64 {
            for i in 0..8u64 {
                let data = pattern(1000 + (t * 8 + i) as usize * 37, t * 100 + i);
                assert_eq!(read(s, "c", &format!("t{t}/b{i}"), None).unwrap(), data);
            }
            let lists = s
                .get_block_list(
                    ACCOUNT,
                    "c",
                    &format!("t{t}/blocks"),
                    BlockListFilter::Uncommitted,
                )
                .unwrap();
            assert_eq!(lists.uncommitted.len(), 8);
        }
        assert_eq!(s.stats().unwrap().blobs, 128);
    });
}

#[test]
fn storage_full_harms_nothing_and_recovers() {
    let s = Store::in_memory_with(StoreOptions {
        memory_capacity: Some(1_000_000),
        ..small_extents()
    })
    .unwrap();
    container(&s, "c");
    let keep = pattern(400_000, 1);
    put(&s, "c", "keep", &keep);
    put(&s, "c", "victim", &pattern(400_000, 2));
    let mut w = s.blob_writer().unwrap();
    let full = (0..10)
        .map(|_| w.write(&pattern(100_000, 3)))
        .find_map(|r| r.err())
        .or_else(|| w.finish().err());
    assert!(matches!(full, Some(StoreError::StorageFull)), "{full:?}");
    assert_eq!(read(&s, "c", "keep", None).unwrap(), keep);
    s.delete_blob(ACCOUNT, "c", "victim", &no_cond()).unwrap();
    s.collect_garbage().unwrap();
    put(&s, "c", "after", &pattern(300_000, 4));
    assert_eq!(read(&s, "c", "after", None).unwrap(), pattern(300_000, 4));
    assert_eq!(read(&s, "c", "keep", None).unwrap(), keep);
}

#[test]
fn sustained_writes_keep_the_wal_bounded() {
    // Back-to-back commits from 8 threads for a while: the background checkpoint alone never
    // catches up, so without the writer's rewind the WAL grows with every write.
    let rewind = 1024 * 1024;
    let f = Fixture::disk(StoreOptions {
        wal_rewind_bytes: rewind,
        ..StoreOptions::default()
    });
    let s = &f.store;
    container(s, "c");
    let wal = f.dir.as_ref().unwrap().path().join("lapis.sqlite-wal");
    let mut largest = 0;
    std::thread::scope(|scope| {
        for t in 0..8u64 {
            scope.spawn(move || {
                for i in 0..400u64 {
                    let body = bytes::Bytes::from(pattern(2000, t * 1000 + i));
                    s.put_blob_inline(
                        ACCOUNT,
                        "c",
                        &format!("t{t}/b{i}"),
                        body,
                        &BlobHttpProps::default(),
                        &Metadata::new(),
                        None,
                        &no_cond(),
                        None,
                    )
                    .unwrap();
                }
            });
        }
        for _ in 0..200 {
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    // 3,200 commits of a few pages each write tens of MiB of WAL frames in all; the writer looks
    // at the WAL every 100 ms, so it may pass the threshold by what 100 ms of commits append.
    assert!(
        largest < 16 * rewind,
        "WAL reached {largest} bytes with a rewind threshold of {rewind}"
    );
    assert_eq!(s.stats().unwrap().blobs, 3200);
    let body = read(s, "c", "t7/b399", None).unwrap();
    assert_eq!(body, pattern(2000, 7399));
}

#[test]
fn checkpoint_moves_the_wal_into_the_database_file() {
    let f = Fixture::disk(StoreOptions::default());
    let s = &f.store;
    let db = f.dir.as_ref().unwrap().path().join("lapis.sqlite");
    let size = || std::fs::metadata(&db).unwrap().len();
    container(s, "c");
    let empty = size();
    for i in 0..200 {
        put(s, "c", &format!("b{i}"), &pattern(3000, i));
    }
    // The background pass may hold a frame back for a moment; the call says so.
    let done = (0..100).any(|_| {
        s.checkpoint().unwrap() || {
            std::thread::sleep(Duration::from_millis(20));
            false
        }
    });
    assert!(done, "the WAL was never fully checkpointed");
    // The 200 blob rows (their bytes are in extent files) are now pages of the database file.
    assert!(size() > empty + 200 * 100, "{} -> {}", empty, size());
    assert_eq!(read(s, "c", "b199", None).unwrap(), pattern(3000, 199));
    // The in-memory store has no WAL: nothing to do, and done.
    assert!(Fixture::memory(StoreOptions::default())
        .store
        .checkpoint()
        .unwrap());
}
