//! Blob versions: which writes make one, reading and deleting a version, listing them, and
//! that a previous version shares its bytes with the blob it was.

mod support;

use std::time::Duration;

use lapis_store::*;
use support::*;

fn opts() -> StoreOptions {
    StoreOptions {
        extent_target_size: 64 * 1024,
        gc_interval: Duration::from_secs(3600),
        ..Default::default()
    }
}

fn versioned(store: &Store) {
    store.set_blob_versioning(ACCOUNT, true);
    container(store, "c");
}

fn read_version(store: &Store, b: &str, version: &str) -> Result<Vec<u8>> {
    store
        .read_blob_at(
            ACCOUNT,
            "c",
            b,
            Some(&version_selector(version)),
            None,
            &no_cond(),
            None,
        )
        .map(|(_, r)| drain(r))
}

fn props_at(store: &Store, b: &str, version: &str) -> Result<BlobProps> {
    store.get_blob_properties_at(
        ACCOUNT,
        "c",
        b,
        Some(&version_selector(version)),
        &no_cond(),
        Access::Read,
        None,
    )
}

fn list_versions(store: &Store, max: u32, marker: Option<String>) -> ListBlobsPage {
    store
        .list_blobs(
            ACCOUNT,
            "c",
            &ListBlobsQuery {
                max_results: max,
                marker,
                include_versions: true,
                ..Default::default()
            },
        )
        .unwrap()
}

fn listed(page: &ListBlobsPage) -> Vec<(String, Option<String>, bool)> {
    page.items
        .iter()
        .map(|i| match i {
            ListBlobsItem::Blob(b) => (b.name.clone(), b.version_id.clone(), b.is_current_version),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn each_put_makes_a_version_and_the_old_ones_stay_readable() {
    both(opts(), |s| {
        versioned(s);
        let big = pattern(100_000, 1);
        let v1 = put(s, "c", "b", &big);
        let v2 = put(s, "c", "b", b"second");
        let (id1, id2) = (v1.version_id.unwrap(), v2.version_id.unwrap());
        assert!(id1 < id2, "{id1} {id2}");
        assert!(v2.is_current_version);
        // The collector frees nothing a previous version still reads.
        s.collect_garbage().unwrap();
        assert_eq!(read_version(s, "b", &id1).unwrap(), big);
        assert_eq!(read_version(s, "b", &id2).unwrap(), b"second");
        assert_eq!(read(s, "c", "b", None).unwrap(), b"second");
        let old = props_at(s, "b", &id1).unwrap();
        assert!(!old.is_current_version);
        assert_eq!(old.version_id.as_deref(), Some(id1.as_str()));
        assert!(props_at(s, "b", &id2).unwrap().is_current_version);
        // An id that never was.
        assert!(matches!(
            read_version(s, "b", "2001-01-01T00:00:00.0000000Z"),
            Err(StoreError::BlobNotFound)
        ));
    });
}

#[test]
fn set_metadata_makes_a_version_sharing_the_bytes_and_set_properties_does_not() {
    both(opts(), |s| {
        versioned(s);
        let big = pattern(200_000, 2);
        let v1 = put(s, "c", "b", &big).version_id.unwrap();
        let before = s.stats().unwrap().extent_bytes;
        let changed = s
            .set_blob_metadata(ACCOUNT, "c", "b", &md(&[("k", "v")]), &no_cond(), None)
            .unwrap();
        let v2 = changed.version_id.unwrap();
        assert!(v2 > v1);
        // The new version wrote no bytes: it shares the extents.
        assert_eq!(s.stats().unwrap().extent_bytes, before);
        assert_eq!(read_version(s, "b", &v1).unwrap(), big);
        assert!(props_at(s, "b", &v1).unwrap().metadata.is_empty());
        let http = BlobHttpProps {
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        let after = s
            .set_blob_http_props(ACCOUNT, "c", "b", &http, &no_cond())
            .unwrap();
        assert_eq!(after.version_id.as_deref(), Some(v2.as_str()));
        assert_eq!(listed(&list_versions(s, 100, None)).len(), 2);
    });
}

#[test]
fn deleting_the_blob_keeps_its_versions_and_the_current_one_cannot_be_deleted_by_id() {
    both(opts(), |s| {
        versioned(s);
        let v1 = put(s, "c", "b", b"one").version_id.unwrap();
        let v2 = put(s, "c", "b", b"two").version_id.unwrap();
        let refused = s.delete_blob_at(
            ACCOUNT,
            "c",
            "b",
            Some(&version_selector(&v2)),
            SnapshotsOnDelete::Refuse,
            &no_cond(),
        );
        assert!(matches!(
            refused,
            Err(StoreError::Refused(Refusal::OperationNotAllowedOnRootBlob))
        ));
        s.delete_blob(ACCOUNT, "c", "b", &no_cond()).unwrap();
        assert!(matches!(
            read(s, "c", "b", None),
            Err(StoreError::BlobNotFound)
        ));
        // The current version became a previous one.
        assert_eq!(read_version(s, "b", &v2).unwrap(), b"two");
        assert!(!props_at(s, "b", &v2).unwrap().is_current_version);
        assert_eq!(
            listed(&list_versions(s, 100, None)),
            [
                ("b".to_string(), Some(v1.clone()), false),
                ("b".to_string(), Some(v2.clone()), false)
            ]
        );
        // A previous version is deleted alone.
        s.delete_blob_at(
            ACCOUNT,
            "c",
            "b",
            Some(&version_selector(&v1)),
            SnapshotsOnDelete::Refuse,
            &no_cond(),
        )
        .unwrap();
        assert!(matches!(
            read_version(s, "b", &v1),
            Err(StoreError::BlobNotFound)
        ));
        assert_eq!(read_version(s, "b", &v2).unwrap(), b"two");
        // Without include=versions a deleted blob is not listed.
        let plain = s
            .list_blobs(ACCOUNT, "c", &ListBlobsQuery::default())
            .unwrap();
        assert!(plain.items.is_empty());
    });
}

#[test]
fn copying_a_previous_version_over_the_blob_restores_it() {
    both(opts(), |s| {
        versioned(s);
        let v1 = put(s, "c", "b", b"original").version_id.unwrap();
        put(s, "c", "b", b"mistake");
        let source = CopySource {
            account: ACCOUNT.into(),
            container: "c".into(),
            blob: "b".into(),
            snapshot: Some(version_selector(&v1)),
            cond: no_cond(),
        };
        let done = s
            .copy_blob(&source, ACCOUNT, "c", "b", CopyInto::default(), &no_cond())
            .unwrap();
        let v3 = done.version_id.unwrap();
        assert!(v3 > v1);
        assert_eq!(read(s, "c", "b", None).unwrap(), b"original");
        let all = listed(&list_versions(s, 100, None));
        assert_eq!(all.len(), 3);
        assert_eq!(all[2], ("b".to_string(), Some(v3), true));
        // A previous version's tags are its own, listed with include=tags.
        let tags = [("k".to_string(), "old".to_string())];
        let v1_key = version_selector(&v1);
        s.set_blob_tags(ACCOUNT, "c", "b", Some(&v1_key), &tags, &no_cond())
            .unwrap();
        let page = s
            .list_blobs(
                ACCOUNT,
                "c",
                &ListBlobsQuery {
                    max_results: 100,
                    include_versions: true,
                    include_tags: true,
                    ..Default::default()
                },
            )
            .unwrap();
        let listed_tags: Vec<_> = page
            .items
            .iter()
            .map(|i| match i {
                ListBlobsItem::Blob(b) => b.tags.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(listed_tags, [Some(tags.to_vec()), None, None]);
    });
}

#[test]
fn versioning_off_makes_no_versions_and_keeps_those_made_while_it_was_on() {
    both(opts(), |s| {
        container(s, "c");
        assert_eq!(put(s, "c", "plain", b"x").version_id, None);
        put(s, "c", "plain", b"y");
        assert_eq!(listed(&list_versions(s, 100, None)).len(), 1);
        s.set_blob_versioning(ACCOUNT, true);
        let v1 = put(s, "c", "b", b"one").version_id.unwrap();
        s.set_blob_versioning(ACCOUNT, false);
        let after = put(s, "c", "b", b"two");
        assert_eq!(after.version_id, None);
        assert!(!after.is_current_version);
        assert_eq!(read_version(s, "b", &v1).unwrap(), b"one");
        // A blob that is no version is deleted for good.
        s.delete_blob(ACCOUNT, "c", "plain", &no_cond()).unwrap();
        let names: Vec<_> = listed(&list_versions(s, 100, None));
        assert_eq!(
            names,
            [
                ("b".to_string(), Some(v1), false),
                ("b".to_string(), None, false)
            ]
        );
    });
}

#[test]
fn a_blob_and_its_versions_page_together_in_name_order() {
    both(opts(), |s| {
        versioned(s);
        for name in ["a", "b", "c"] {
            for i in 0..3u8 {
                put(s, "c", name, &[i]);
            }
        }
        // Deleted, with versions only.
        s.delete_blob(ACCOUNT, "c", "b", &no_cond()).unwrap();
        let first = list_versions(s, 4, None);
        assert_eq!(
            listed(&first).len(),
            3,
            "a's three versions; b's do not fit"
        );
        assert_eq!(first.next_marker.as_deref(), Some("b"));
        let second = list_versions(s, 4, first.next_marker);
        let names: Vec<_> = listed(&second)
            .into_iter()
            .map(|(n, _, c)| (n, c))
            .collect();
        assert_eq!(
            names,
            [
                ("b".to_string(), false),
                ("b".to_string(), false),
                ("b".to_string(), false)
            ]
        );
        let third = list_versions(s, 4, second.next_marker);
        let current: Vec<_> = listed(&third).into_iter().map(|(_, _, c)| c).collect();
        assert_eq!(current, [false, false, true]);
        assert_eq!(third.next_marker, None);
    });
}

/// With versioning, Snapshot Blob also makes a new current version of the blob (as Azure
/// does: TestUndeleteAppendBlobVersion lists each snapshot's x-ms-version-id as a version),
/// and the snapshot itself is no version.
#[test]
fn a_snapshot_makes_a_new_version_and_is_no_version_itself() {
    both(opts(), |s| {
        versioned(s);
        let v1 = put(s, "c", "b", b"one").version_id.unwrap();
        let snap = s
            .snapshot_blob(ACCOUNT, "c", "b", None, &no_cond(), None)
            .unwrap();
        let v2 = snap.version_id.unwrap();
        assert!(v2 > v1, "{v1} {v2}");
        assert!(props_at(s, "b", &v2).unwrap().is_current_version);
        assert_eq!(read_version(s, "b", &v1).unwrap(), b"one");
        put(s, "c", "b", b"two");
        let page = s
            .list_blobs(
                ACCOUNT,
                "c",
                &ListBlobsQuery {
                    max_results: 100,
                    include_snapshots: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(page.items.len(), 2, "the snapshot and the blob");
        let versions = listed(&list_versions(s, 100, None));
        assert_eq!(versions.len(), 3, "{versions:?}");
        assert_eq!(versions[1].1.as_deref(), Some(v2.as_str()));
        // Deleting the snapshots leaves the versions.
        s.delete_blob_at(ACCOUNT, "c", "b", None, SnapshotsOnDelete::Only, &no_cond())
            .unwrap();
        assert_eq!(read_version(s, "b", &v1).unwrap(), b"one");
        assert_eq!(read_version(s, "b", &v2).unwrap(), b"one");
    });
}

/// An archived previous version or snapshot is brought back only by copying it (Azure's 409
/// BlobOperationNotSupported, recorded in TestBlockBlobSetTierOnVersions); the blob itself is
/// rehydrated in place.
#[test]
fn archived_versions_and_snapshots_stay_archived_the_blob_itself_comes_back() {
    both(opts(), |s| {
        versioned(s);
        let v1 = put(s, "c", "b", b"first").version_id.unwrap();
        put(s, "c", "b", b"second");
        let snap = s
            .snapshot_blob(ACCOUNT, "c", "b", None, &no_cond(), None)
            .unwrap()
            .snapshot;
        let tier = |at: Option<&str>, to: AccessTier| {
            s.set_blob_tier(ACCOUNT, "c", "b", at, to, None, &no_cond())
        };
        let version = version_selector(&v1);
        for at in [Some(version.as_str()), Some(snap.as_str())] {
            assert_eq!(tier(at, AccessTier::Archive).unwrap(), TierChange::Done);
            assert!(matches!(
                tier(at, AccessTier::Cool),
                Err(StoreError::Refused(Refusal::BlobOperationNotSupported))
            ));
        }
        assert_eq!(
            props_at(s, "b", &v1).unwrap().access_tier.map(|(t, _)| t),
            Some(AccessTier::Archive)
        );
        assert_eq!(tier(None, AccessTier::Archive).unwrap(), TierChange::Done);
        assert_eq!(tier(None, AccessTier::Hot).unwrap(), TierChange::Rehydrated);
        assert_eq!(read(s, "c", "b", None).unwrap(), b"second");
    });
}
