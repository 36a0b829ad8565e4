//! Blob and container soft delete through the engine's public API: what a delete or an
//! overwrite keeps, what listings show, what Undelete Blob and Restore Container bring back.

mod support;

use std::time::Duration;

use lapis_store::*;
use support::*;

fn small_extents() -> StoreOptions {
    StoreOptions {
        extent_target_size: 64 * 1024,
        gc_interval: Duration::from_secs(3600),
        ..Default::default()
    }
}

fn keep_days(s: &Store, days: u32) {
    let r = DeleteRetention {
        days,
        allow_permanent_delete: false,
    };
    s.set_blob_service_properties(ACCOUNT, "<StorageServiceProperties/>", Some(r))
        .unwrap();
}

fn delete(s: &Store, c: &str, b: &str, snapshot: Option<&str>, snapshots: SnapshotsOnDelete) {
    s.delete_blob_at(ACCOUNT, c, b, snapshot, snapshots, &no_cond())
        .unwrap();
}

fn query(include_deleted: bool, include_snapshots: bool) -> ListBlobsQuery {
    ListBlobsQuery {
        max_results: 100,
        include_deleted,
        include_snapshots,
        ..Default::default()
    }
}

/// Each listed item as "name", "name@snapshot", with "~" before a soft-deleted one.
fn listed(s: &Store, c: &str, q: &ListBlobsQuery) -> Vec<String> {
    let show = |p: &BlobProps, deleted: bool| {
        let mark = if deleted { "~" } else { "" };
        match &p.snapshot {
            Some(t) => format!("{mark}{}@{t}", p.name),
            None => format!("{mark}{}", p.name),
        }
    };
    s.list_blobs(ACCOUNT, c, q)
        .unwrap()
        .items
        .iter()
        .map(|i| match i {
            ListBlobsItem::Blob(p) => show(p, false),
            ListBlobsItem::Deleted(p, _) => show(p, true),
            ListBlobsItem::UncommittedBlob { name } => format!("?{name}"),
            ListBlobsItem::Prefix(p) => format!("{p}*"),
        })
        .collect()
}

fn snapshot(s: &Store, c: &str, b: &str) -> String {
    s.snapshot_blob(ACCOUNT, c, b, None, &no_cond(), None)
        .unwrap()
        .snapshot
}

#[test]
fn without_a_policy_delete_is_final() {
    both(small_extents(), |s| {
        container(s, "c");
        put(s, "c", "b", b"data");
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        assert!(listed(s, "c", &query(true, true)).is_empty());
        assert!(matches!(
            s.undelete_blob(ACCOUNT, "c", "b"),
            Err(StoreError::BlobNotFound)
        ));
    });
}

#[test]
fn a_soft_deleted_blob_is_invisible_listed_with_deleted_and_undeleted() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 3);
        let data = pattern(100_000, 1);
        put(s, "c", "b", &data);
        put(s, "c", "other", b"x");
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        assert!(matches!(
            read(s, "c", "b", None),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            s.get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None),
            Err(StoreError::BlobNotFound)
        ));
        // Deleting it again: it is gone as far as operations go.
        assert!(matches!(
            s.delete_blob(ACCOUNT, "c", "b", &no_cond()),
            Err(StoreError::BlobNotFound)
        ));
        assert_eq!(listed(s, "c", &query(false, false)), ["other"]);
        assert_eq!(listed(s, "c", &query(true, false)), ["~b", "other"]);
        let page = s.list_blobs(ACCOUNT, "c", &query(true, false)).unwrap();
        let ListBlobsItem::Deleted(_, d) = &page.items[0] else {
            panic!("{:?}", page.items[0]);
        };
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(d.remaining_days(now), 3);
        assert!(now - d.deleted < time::Duration::minutes(1));

        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), data);
        assert_eq!(listed(s, "c", &query(true, true)), ["b", "other"]);
        // Undelete of a live blob with nothing deleted: a no-op.
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), data);
    });
}

#[test]
fn deleted_snapshots_come_back_with_undelete() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"v1");
        let s1 = snapshot(s, "c", "b");
        let s2 = snapshot(s, "c", "b");
        delete(s, "c", "b", Some(&s1), SnapshotsOnDelete::Refuse);
        assert!(s
            .read_blob_at(ACCOUNT, "c", "b", Some(&s1), None, &no_cond(), None)
            .is_err());
        assert_eq!(
            listed(s, "c", &query(false, true)),
            [format!("b@{s2}"), "b".into()]
        );
        assert_eq!(
            listed(s, "c", &query(true, true)),
            [format!("~b@{s1}"), format!("b@{s2}"), "b".into()]
        );
        // A blob whose snapshots are all soft-deleted can be deleted on its own.
        delete(s, "c", "b", Some(&s2), SnapshotsOnDelete::Refuse);
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        assert_eq!(
            listed(s, "c", &query(true, true)),
            [format!("~b@{s1}"), format!("~b@{s2}"), "~b".into()]
        );
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(
            listed(s, "c", &query(true, true)),
            [format!("b@{s1}"), format!("b@{s2}"), "b".into()]
        );
        let (_, r) = s
            .read_blob_at(ACCOUNT, "c", "b", Some(&s1), None, &no_cond(), None)
            .unwrap();
        assert_eq!(drain(r), b"v1");
    });
}

#[test]
fn delete_with_snapshots_include_and_only() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"v1");
        let s1 = snapshot(s, "c", "b");
        assert!(matches!(
            s.delete_blob(ACCOUNT, "c", "b", &no_cond()),
            Err(StoreError::Refused(Refusal::SnapshotsPresent))
        ));
        delete(s, "c", "b", None, SnapshotsOnDelete::Only);
        assert_eq!(
            listed(s, "c", &query(true, true)),
            [format!("~b@{s1}"), "b".into()]
        );
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        delete(s, "c", "b", None, SnapshotsOnDelete::Include);
        assert_eq!(
            listed(s, "c", &query(true, true)),
            [format!("~b@{s1}"), "~b".into()]
        );
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(
            listed(s, "c", &query(true, true)),
            [format!("b@{s1}"), "b".into()]
        );
    });
}

#[test]
fn an_overwrite_keeps_the_old_content_as_a_soft_deleted_snapshot() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        let old = pattern(90_000, 2);
        put(s, "c", "b", &old);
        let bytes_before = s.stats().unwrap().extent_bytes;
        put(s, "c", "b", b"new");
        assert_eq!(read(s, "c", "b", None).unwrap(), b"new");
        let items = listed(s, "c", &query(true, true));
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].starts_with("~b@"), "{items:?}");
        assert_eq!(items[1], "b");
        // The kept version shares the old bytes: nothing was copied.
        assert!(s.stats().unwrap().extent_bytes <= bytes_before + 1024);
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        let kept = items[0].trim_start_matches("~b@").to_string();
        let (_, r) = s
            .read_blob_at(ACCOUNT, "c", "b", Some(&kept), None, &no_cond(), None)
            .unwrap();
        assert_eq!(drain(r), old);
        assert_eq!(read(s, "c", "b", None).unwrap(), b"new");
    });
}

#[test]
fn a_new_blob_over_a_soft_deleted_name() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"first");
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        put(s, "c", "b", b"second");
        assert_eq!(read(s, "c", "b", None).unwrap(), b"second");
        // The deleted one is now a soft-deleted snapshot of the new blob.
        let items = listed(s, "c", &query(true, true));
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].starts_with("~b@"), "{items:?}");
        assert_eq!(listed(s, "c", &query(true, false)), ["b"]);
        // Undelete keeps the new blob and restores the old one as a snapshot.
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), b"second");
        let items = listed(s, "c", &query(false, true));
        assert_eq!(items.len(), 2, "{items:?}");
        let kept = items[0].trim_start_matches("b@").to_string();
        let (_, r) = s
            .read_blob_at(ACCOUNT, "c", "b", Some(&kept), None, &no_cond(), None)
            .unwrap();
        assert_eq!(drain(r), b"first");
    });
}

#[test]
fn a_blob_deleted_twice_comes_back_as_the_latest_with_the_older_as_a_snapshot() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"first");
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        put(s, "c", "b", b"second");
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        let items = listed(s, "c", &query(true, true));
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].starts_with("~b@"), "{items:?}");
        assert_eq!(items[1], "~b");
        assert_eq!(listed(s, "c", &query(true, false)), ["~b"]);
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), b"second");
        assert_eq!(listed(s, "c", &query(false, true)).len(), 2);
    });
}

#[test]
fn listing_with_deleted_pages_by_name() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        for i in 0..30 {
            put(s, "c", &format!("b{i:02}"), b"x");
        }
        for i in (0..30).step_by(3) {
            delete(s, "c", &format!("b{i:02}"), None, SnapshotsOnDelete::Refuse);
        }
        let mut q = query(true, false);
        q.max_results = 7;
        let mut all = Vec::new();
        loop {
            let page = s.list_blobs(ACCOUNT, "c", &q).unwrap();
            assert!(page.items.len() <= 7);
            all.extend(page.items.iter().map(|i| match i {
                ListBlobsItem::Blob(p) => p.name.clone(),
                ListBlobsItem::Deleted(p, _) => format!("~{}", p.name),
                other => panic!("{other:?}"),
            }));
            match page.next_marker {
                Some(m) => q.marker = Some(m),
                None => break,
            }
        }
        let want: Vec<String> = (0..30)
            .map(|i| {
                let mark = if i % 3 == 0 { "~" } else { "" };
                format!("{mark}b{i:02}")
            })
            .collect();
        assert_eq!(all, want);
    });
}

#[test]
fn turning_the_policy_off_keeps_what_was_deleted_restorable() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"kept");
        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        s.set_blob_service_properties(ACCOUNT, "<StorageServiceProperties/>", None)
            .unwrap();
        put(s, "c", "gone", b"x");
        delete(s, "c", "gone", None, SnapshotsOnDelete::Refuse);
        assert_eq!(listed(s, "c", &query(true, false)), ["~b"]);
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), b"kept");
    });
}

#[test]
fn a_soft_deleted_container_frees_its_name_and_is_restored_with_its_blobs() {
    both(small_extents(), |s| {
        container(s, "c");
        put(s, "c", "b", b"in the old one");
        s.delete_container_retained(ACCOUNT, "c", &no_cond(), 7)
            .unwrap();
        assert!(matches!(
            s.get_container(ACCOUNT, "c"),
            Err(StoreError::ContainerNotFound)
        ));
        assert!(read(s, "c", "b", None).is_err());
        assert!(s
            .list_containers(ACCOUNT, None, None, 10)
            .unwrap()
            .items
            .is_empty());
        let page = s
            .list_containers_including(ACCOUNT, None, None, 10, true)
            .unwrap();
        assert_eq!(page.items.len(), 1);
        let d = page.items[0].deleted.clone().expect("listed as deleted");
        assert_eq!(d.version.len(), 16);
        assert_eq!(
            d.deletion.remaining_days(time::OffsetDateTime::now_utc()),
            7
        );

        // The name is free at once; restoring over the new one is refused.
        container(s, "c");
        assert!(matches!(
            s.restore_container(ACCOUNT, "c", &d.version),
            Err(StoreError::ContainerAlreadyExists)
        ));
        s.delete_container(ACCOUNT, "c", &no_cond()).unwrap();
        assert!(matches!(
            s.restore_container(ACCOUNT, "c", "0000000000000000"),
            Err(StoreError::ContainerNotFound)
        ));
        s.restore_container(ACCOUNT, "c", &d.version).unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), b"in the old one");
        assert!(s
            .list_containers_including(ACCOUNT, None, None, 10, true)
            .unwrap()
            .items
            .iter()
            .all(|c| c.deleted.is_none()));
        // Restored once: the version is gone.
        assert!(matches!(
            s.restore_container(ACCOUNT, "c", &d.version),
            Err(StoreError::ContainerAlreadyExists)
        ));
    });
}

#[test]
fn deleted_containers_of_one_name_stay_on_one_page() {
    both(small_extents(), |s| {
        for _ in 0..3 {
            container(s, "a");
            s.delete_container_retained(ACCOUNT, "a", &no_cond(), 1)
                .unwrap();
        }
        container(s, "a");
        container(s, "b");
        let page = s
            .list_containers_including(ACCOUNT, None, None, 2, true)
            .unwrap();
        assert_eq!(page.items.len(), 4);
        assert!(page.items.iter().all(|c| c.name == "a"));
        assert!(page.items[0].deleted.is_none());
        assert_eq!(page.next_marker.as_deref(), Some("b"));
        let next = s
            .list_containers_including(ACCOUNT, None, Some("b"), 2, true)
            .unwrap();
        assert_eq!(next.items.len(), 1);
    });
}

#[test]
fn a_copy_over_a_blob_keeps_the_overwritten_one() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "src", b"source");
        put(s, "c", "dst", b"before the copy");
        let source = CopySource {
            account: ACCOUNT.into(),
            container: "c".into(),
            blob: "src".into(),
            snapshot: None,
            cond: no_cond(),
        };
        s.copy_blob(
            &source,
            ACCOUNT,
            "c",
            "dst",
            CopyInto::default(),
            &no_cond(),
        )
        .unwrap();
        assert_eq!(read(s, "c", "dst", None).unwrap(), b"source");
        let items = listed(s, "c", &query(true, true));
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[0].starts_with("~dst@"), "{items:?}");
        s.undelete_blob(ACCOUNT, "c", "dst").unwrap();
        let kept = items[0].trim_start_matches("~dst@").to_string();
        let (_, r) = s
            .read_blob_at(ACCOUNT, "c", "dst", Some(&kept), None, &no_cond(), None)
            .unwrap();
        assert_eq!(drain(r), b"before the copy");
    });
}

#[test]
fn a_blob_of_another_type_over_a_soft_deleted_name_drops_its_deleted_data() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"block blob");
        snapshot(s, "c", "b");
        delete(s, "c", "b", None, SnapshotsOnDelete::Include);
        assert_eq!(listed(s, "c", &query(true, true)).len(), 2);
        s.create_append_blob(
            ACCOUNT,
            "c",
            "b",
            &BlobHttpProps::default(),
            &Vec::new(),
            &no_cond(),
            None,
            &[],
        )
        .unwrap();
        // Azure: "If the blob is of a different type, then all existing soft deleted data is
        // permanently deleted."
        assert_eq!(listed(s, "c", &query(true, true)), ["b"]);
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(listed(s, "c", &query(false, true)), ["b"]);
    });
}

/// With versioning on as well, Azure keeps versions, not soft-deleted snapshots: an overwrite
/// or a delete makes a previous version (listed with include=versions) and no soft-deleted
/// copy of the same state; deleting that version by id then soft-deletes it, listed with
/// include=deleted,versions and hidden without.
#[test]
fn with_versioning_an_overwrite_or_delete_keeps_a_version_not_a_deleted_snapshot() {
    both(small_extents(), |s| {
        s.set_blob_versioning(ACCOUNT, true);
        container(s, "c");
        keep_days(s, 1);
        let v1 = put(s, "c", "b", b"one").version_id.unwrap();
        put(s, "c", "b", b"two");
        assert_eq!(listed(s, "c", &query(true, true)), ["b"]);
        let versions = |deleted| ListBlobsQuery {
            include_versions: true,
            ..query(deleted, true)
        };
        let shown = |q: &ListBlobsQuery| -> Vec<(Option<String>, bool)> {
            s.list_blobs(ACCOUNT, "c", q)
                .unwrap()
                .items
                .iter()
                .map(|i| match i {
                    ListBlobsItem::Blob(p) => (p.version_id.clone(), false),
                    ListBlobsItem::Deleted(p, _) => (p.version_id.clone(), true),
                    other => panic!("unexpected {other:?}"),
                })
                .collect()
        };
        assert_eq!(shown(&versions(true)).len(), 2);
        assert_eq!(shown(&versions(true))[0], (Some(v1.clone()), false));

        delete(s, "c", "b", None, SnapshotsOnDelete::Refuse);
        assert!(listed(s, "c", &query(true, true)).is_empty());
        let after_delete = shown(&versions(true));
        assert_eq!(after_delete.len(), 2, "{after_delete:?}");
        assert!(after_delete.iter().all(|(_, deleted)| !deleted));

        let selector = version_selector(&v1);
        delete(s, "c", "b", Some(&selector), SnapshotsOnDelete::Refuse);
        assert_eq!(shown(&versions(false)).len(), 1);
        assert_eq!(shown(&versions(true))[0], (Some(v1.clone()), true));
        // Undelete Blob brings soft-deleted versions back (TestUndelete*BlobVersion).
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(shown(&versions(false)).len(), 2);
        assert_eq!(shown(&versions(false))[0], (Some(v1.clone()), false));
    });
}

/// `deletetype=permanent`: only where the policy allows it, only of a soft-deleted snapshot or
/// version, and then at once (Azure's 409 otherwise; one that does not exist is not found).
#[test]
fn permanent_delete_removes_a_soft_deleted_snapshot_where_the_policy_allows_it() {
    both(small_extents(), |s| {
        container(s, "c");
        keep_days(s, 1);
        put(s, "c", "b", b"data");
        let snap = snapshot(s, "c", "b");
        let refused = |r: Result<()>, want: Refusal| {
            assert!(
                matches!(r, Err(StoreError::Refused(got)) if got == want),
                "{r:?}"
            )
        };
        // The policy does not allow it yet.
        delete(s, "c", "b", Some(&snap), SnapshotsOnDelete::Refuse);
        refused(
            s.delete_permanently(ACCOUNT, "c", "b", &snap),
            Refusal::BlobOperationNotSupported,
        );
        let r = DeleteRetention {
            days: 1,
            allow_permanent_delete: true,
        };
        s.set_blob_service_properties(ACCOUNT, "<StorageServiceProperties/>", Some(r))
            .unwrap();
        // A live snapshot is not soft-deleted.
        let live = snapshot(s, "c", "b");
        refused(
            s.delete_permanently(ACCOUNT, "c", "b", &live),
            Refusal::BlobSnapshotNotSoftDeleted,
        );
        assert!(matches!(
            s.delete_permanently(ACCOUNT, "c", "b", "2001-01-01T00:00:00.0000000Z"),
            Err(StoreError::BlobNotFound)
        ));
        s.delete_permanently(ACCOUNT, "c", "b", &snap).unwrap();
        let items = listed(s, "c", &query(true, true));
        assert_eq!(items, [format!("b@{live}"), "b".to_string()]);
        // Gone for good: Undelete does not bring it back.
        s.undelete_blob(ACCOUNT, "c", "b").unwrap();
        assert_eq!(listed(s, "c", &query(true, true)).len(), 2);
    });
}
