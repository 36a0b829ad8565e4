//! Integration tests of the Table service storage: tables, ACLs, entity writes, batches, reopen.
//! Queries are in `table_queries.rs`.

mod support;

use std::sync::{Arc, Mutex};

use lapis_store::*;
use support::*;

/// Merge used by the tests: old and new bytes joined by `+`, so tests see which side went where.
fn concat_merge() -> Arc<MergeFn> {
    Arc::new(|old: &[u8], new: &[u8]| {
        let mut out = old.to_vec();
        out.push(b'+');
        out.extend_from_slice(new);
        Ok(out)
    })
}

fn write_op(write: EntityWrite, pk: &str, rk: &str, props: &[u8]) -> EntityOp {
    EntityOp {
        partition_key: pk.into(),
        row_key: rk.into(),
        kind: EntityOpKind::Write {
            write,
            properties: props.to_vec(),
        },
    }
}

fn delete_op(pk: &str, rk: &str, if_match: IfMatch) -> EntityOp {
    EntityOp {
        partition_key: pk.into(),
        row_key: rk.into(),
        kind: EntityOpKind::Delete { if_match },
    }
}

fn put(
    s: &Store,
    t: &str,
    write: EntityWrite,
    pk: &str,
    rk: &str,
    props: &[u8],
) -> Result<EntityRecord> {
    s.write_entity(ACCOUNT, t, write_op(write, pk, rk, props), &concat_merge())
        .map(|r| r.expect("a write returns the stored entity"))
}

fn props_of(s: &Store, t: &str, pk: &str, rk: &str) -> Vec<u8> {
    s.get_entity(ACCOUNT, t, pk, rk).unwrap().properties
}

#[test]
fn table_crud_is_case_insensitive_and_per_account() {
    both(StoreOptions::default(), |s| {
        let t = s.create_table(ACCOUNT, "MyTable").unwrap();
        assert_eq!(t.name, "MyTable");
        assert_eq!(s.get_table(ACCOUNT, "mytable").unwrap().name, "MyTable");
        assert!(matches!(
            s.create_table(ACCOUNT, "MYTABLE"),
            Err(StoreError::TableAlreadyExists)
        ));
        assert!(matches!(
            s.get_table("other", "MyTable"),
            Err(StoreError::TableNotFound)
        ));
        s.create_table("other", "mytable").unwrap();
        assert_eq!(s.get_table("other", "MyTable").unwrap().name, "mytable");

        put(s, "myTABLE", EntityWrite::Insert, "p", "r", b"x").unwrap();
        s.delete_table(ACCOUNT, "MYtable").unwrap();
        assert!(matches!(
            s.get_table(ACCOUNT, "MyTable"),
            Err(StoreError::TableNotFound)
        ));
        assert!(matches!(
            s.delete_table(ACCOUNT, "MyTable"),
            Err(StoreError::TableNotFound)
        ));
        // The other account's table is untouched.
        s.get_table("other", "mytable").unwrap();
        // Entities went with the table: a new table of the same name starts empty.
        s.create_table(ACCOUNT, "mytable").unwrap();
        assert!(matches!(
            s.get_entity(ACCOUNT, "mytable", "p", "r"),
            Err(StoreError::EntityNotFound)
        ));
    });
}

#[test]
fn list_tables_pages_filters_and_continues_inclusively() {
    both(StoreOptions::default(), |s| {
        let names = ["delta", "Alpha", "charlie", "Echo", "bravo"];
        for n in names {
            s.create_table(ACCOUNT, n).unwrap();
        }
        s.create_table("other", "zulu").unwrap();
        let all = |_: &str| true;
        let (page, next) = s.list_tables(ACCOUNT, None, 2, &all).unwrap();
        let got: Vec<_> = page.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(got, ["Alpha", "bravo"]);
        assert_eq!(next.as_deref(), Some("charlie"));
        let (page, next) = s.list_tables(ACCOUNT, next.as_deref(), 2, &all).unwrap();
        let got: Vec<_> = page.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(got, ["charlie", "delta"]);
        let (page, next) = s.list_tables(ACCOUNT, next.as_deref(), 2, &all).unwrap();
        assert_eq!(
            page,
            [TableInfo {
                name: "Echo".into()
            }]
        );
        assert_eq!(next, None);
        // The continuation compares case-insensitively, like the names.
        let (page, _) = s.list_tables(ACCOUNT, Some("ECHO"), 10, &all).unwrap();
        assert_eq!(page.len(), 1);

        let seen = Mutex::new(Vec::new());
        let long = |n: &str| {
            seen.lock().unwrap().push(n.to_string());
            n.len() == 5
        };
        let (page, next) = s.list_tables(ACCOUNT, None, 10, &long).unwrap();
        let got: Vec<_> = page.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(got, ["Alpha", "bravo", "delta"]);
        assert_eq!(next, None);
        assert_eq!(seen.lock().unwrap().len(), names.len());
    });
}

#[test]
fn table_acl_round_trips() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "acl").unwrap();
        assert!(s.get_table_acl(ACCOUNT, "acl").unwrap().is_empty());
        let ids = vec![
            SignedIdentifier {
                id: "policy1".into(),
                start: Some("2024-01-01T00:00:00.0000000Z".into()),
                expiry: Some("2030-01-01T00:00:00Z".into()),
                permission: Some("raud".into()),
            },
            SignedIdentifier {
                id: "bare".into(),
                ..Default::default()
            },
        ];
        s.set_table_acl(ACCOUNT, "ACL", &ids).unwrap();
        assert_eq!(s.get_table_acl(ACCOUNT, "acl").unwrap(), ids);
        s.set_table_acl(ACCOUNT, "acl", &[]).unwrap();
        assert!(s.get_table_acl(ACCOUNT, "acl").unwrap().is_empty());
        assert!(matches!(
            s.get_table_acl(ACCOUNT, "none"),
            Err(StoreError::TableNotFound)
        ));
        assert!(matches!(
            s.set_table_acl(ACCOUNT, "none", &ids),
            Err(StoreError::TableNotFound)
        ));
    });
}

#[test]
fn insert_update_and_upserts() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let a = put(s, "t", EntityWrite::Insert, "p", "r", b"v1").unwrap();
        assert_eq!((a.partition_key.as_str(), a.row_key.as_str()), ("p", "r"));
        assert_eq!(a.properties, b"v1");
        assert_eq!(s.get_entity(ACCOUNT, "t", "p", "r").unwrap(), a);
        assert!(matches!(
            put(s, "t", EntityWrite::Insert, "p", "r", b"v2"),
            Err(StoreError::EntityAlreadyExists)
        ));

        // Update: must exist, condition checked against the current version.
        let update = |m| EntityWrite::Update { if_match: m };
        assert!(matches!(
            put(s, "t", update(IfMatch::Any), "p", "nope", b"x"),
            Err(StoreError::EntityNotFound)
        ));
        let b = put(
            s,
            "t",
            update(IfMatch::Timestamp(a.timestamp)),
            "p",
            "r",
            b"v2",
        )
        .unwrap();
        assert!(b.timestamp > a.timestamp);
        assert!(matches!(
            put(
                s,
                "t",
                update(IfMatch::Timestamp(a.timestamp)),
                "p",
                "r",
                b"v3"
            ),
            Err(StoreError::UpdateConditionNotSatisfied)
        ));
        assert!(matches!(
            put(s, "t", update(IfMatch::Never), "p", "r", b"v3"),
            Err(StoreError::UpdateConditionNotSatisfied)
        ));
        let c = put(s, "t", update(IfMatch::Any), "p", "r", b"v3").unwrap();
        assert_eq!(props_of(s, "t", "p", "r"), b"v3");

        // InsertOrReplace: creates or replaces, no merging.
        let d = put(s, "t", EntityWrite::InsertOrReplace, "p", "r", b"v4").unwrap();
        assert!(d.timestamp > c.timestamp);
        assert_eq!(props_of(s, "t", "p", "r"), b"v4");
        put(s, "t", EntityWrite::InsertOrReplace, "p", "new", b"n").unwrap();
        assert_eq!(props_of(s, "t", "p", "new"), b"n");

        // A failed write changes nothing.
        assert_eq!(s.get_entity(ACCOUNT, "t", "p", "r").unwrap(), d);
        assert!(matches!(
            put(s, "missing", EntityWrite::Insert, "p", "r", b""),
            Err(StoreError::TableNotFound)
        ));
        assert!(matches!(
            s.get_entity(ACCOUNT, "missing", "p", "r"),
            Err(StoreError::TableNotFound)
        ));
        // Keys are case-sensitive.
        assert!(matches!(
            s.get_entity(ACCOUNT, "t", "P", "r"),
            Err(StoreError::EntityNotFound)
        ));
    });
}

/// (old, new) as seen by a merge closure.
type MergeCall = (Vec<u8>, Vec<u8>);

#[test]
fn merge_calls_the_closure_with_old_then_new() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let calls: Arc<Mutex<Vec<MergeCall>>> = Arc::default();
        let log = calls.clone();
        let merge: Arc<MergeFn> = Arc::new(move |old: &[u8], new: &[u8]| {
            log.lock().unwrap().push((old.to_vec(), new.to_vec()));
            Ok([old, b"+", new].concat())
        });
        let w = |write, rk: &str, p: &[u8]| {
            s.write_entity(ACCOUNT, "t", write_op(write, "p", rk, p), &merge)
        };
        let merge_any = || EntityWrite::Merge {
            if_match: IfMatch::Any,
        };

        assert!(matches!(
            w(merge_any(), "r", b"x"),
            Err(StoreError::EntityNotFound)
        ));
        // InsertOrMerge on a missing entity inserts without merging.
        let a = w(EntityWrite::InsertOrMerge, "r", b"a").unwrap().unwrap();
        assert!(calls.lock().unwrap().is_empty());
        let b = w(EntityWrite::InsertOrMerge, "r", b"b").unwrap().unwrap();
        assert_eq!(b.properties, b"a+b");
        let c = w(
            EntityWrite::Merge {
                if_match: IfMatch::Timestamp(b.timestamp),
            },
            "r",
            b"c",
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.properties, b"a+b+c");
        assert!(matches!(
            w(
                EntityWrite::Merge {
                    if_match: IfMatch::Timestamp(a.timestamp)
                },
                "r",
                b"d"
            ),
            Err(StoreError::UpdateConditionNotSatisfied)
        ));
        assert_eq!(
            *calls.lock().unwrap(),
            vec![
                (b"a".to_vec(), b"b".to_vec()),
                (b"a+b".to_vec(), b"c".to_vec())
            ]
        );
        assert_eq!(props_of(s, "t", "p", "r"), b"a+b+c");

        // A merge that rejects the stored bytes fails the write and stores nothing.
        let bad: Arc<MergeFn> =
            Arc::new(|_: &[u8], _: &[u8]| Err(StoreError::Internal("bad properties".into())));
        let op = write_op(merge_any(), "p", "r", b"z");
        assert!(matches!(
            s.write_entity(ACCOUNT, "t", op, &bad),
            Err(StoreError::Internal(_))
        ));
        // A panicking merge is an error, and the writer keeps working.
        let panics: Arc<MergeFn> = Arc::new(|_: &[u8], _: &[u8]| panic!("merge bug"));
        let op = write_op(EntityWrite::InsertOrMerge, "p", "r", b"z");
        assert!(matches!(
            s.write_entity(ACCOUNT, "t", op, &panics),
            Err(StoreError::Internal(_))
        ));
        assert_eq!(props_of(s, "t", "p", "r"), b"a+b+c");
        w(EntityWrite::InsertOrReplace, "r2", b"ok").unwrap();
    });
}

#[test]
fn delete_with_star_and_etag() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let m = concat_merge();
        let a = put(s, "t", EntityWrite::Insert, "p", "a", b"1").unwrap();
        put(s, "t", EntityWrite::Insert, "p", "b", b"2").unwrap();
        let del = |rk, cond| s.write_entity(ACCOUNT, "t", delete_op("p", rk, cond), &m);

        let stale = a.timestamp - time::Duration::nanoseconds(100);
        assert!(matches!(
            del("a", IfMatch::Timestamp(stale)),
            Err(StoreError::UpdateConditionNotSatisfied)
        ));
        assert!(matches!(
            del("a", IfMatch::Never),
            Err(StoreError::UpdateConditionNotSatisfied)
        ));
        assert_eq!(del("a", IfMatch::Timestamp(a.timestamp)).unwrap(), None);
        assert!(matches!(
            s.get_entity(ACCOUNT, "t", "p", "a"),
            Err(StoreError::EntityNotFound)
        ));
        assert!(matches!(
            del("a", IfMatch::Any),
            Err(StoreError::EntityNotFound)
        ));
        assert_eq!(del("b", IfMatch::Any).unwrap(), None);
        assert!(matches!(
            s.get_entity(ACCOUNT, "t", "p", "b"),
            Err(StoreError::EntityNotFound)
        ));
    });
}

#[test]
fn timestamps_strictly_increase_with_100ns_precision() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let ops: Vec<_> = (0..100)
            .map(|i| write_op(EntityWrite::Insert, "p", &format!("{i:03}"), b""))
            .collect();
        let out = s.execute_batch(ACCOUNT, "t", ops, &concat_merge()).unwrap();
        let stamps: Vec<_> = out.iter().map(|r| r.as_ref().unwrap().timestamp).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
        assert!(stamps.iter().all(|t| t.nanosecond() % 100 == 0));
        let single = put(s, "t", EntityWrite::Insert, "q", "r", b"").unwrap();
        assert!(single.timestamp > stamps[99]);
    });
}

#[test]
fn batch_commits_all_operations_together() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let m = concat_merge();
        put(s, "t", EntityWrite::Insert, "p", "old", b"o").unwrap();
        put(s, "t", EntityWrite::Insert, "p", "gone", b"g").unwrap();
        let ops = vec![
            write_op(EntityWrite::Insert, "p", "a", b"1"),
            write_op(EntityWrite::InsertOrMerge, "p", "old", b"2"),
            delete_op("p", "gone", IfMatch::Any),
            write_op(EntityWrite::InsertOrReplace, "p", "b", b"3"),
        ];
        let out = s.execute_batch(ACCOUNT, "t", ops, &m).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(out[1].as_ref().unwrap().properties, b"o+2");
        assert_eq!(out[2], None);
        assert_eq!(
            s.get_entity(ACCOUNT, "t", "p", "a").unwrap(),
            *out[0].as_ref().unwrap()
        );
        assert_eq!(props_of(s, "t", "p", "old"), b"o+2");
        assert_eq!(props_of(s, "t", "p", "b"), b"3");
        assert!(matches!(
            s.get_entity(ACCOUNT, "t", "p", "gone"),
            Err(StoreError::EntityNotFound)
        ));
        assert!(s
            .execute_batch(ACCOUNT, "t", Vec::new(), &m)
            .unwrap()
            .is_empty());
    });
}

#[test]
fn failing_batch_stores_nothing_and_names_the_operation() {
    both(StoreOptions::default(), |s| {
        s.create_table(ACCOUNT, "t").unwrap();
        let m = concat_merge();
        let before = put(s, "t", EntityWrite::Insert, "p", "x", b"before").unwrap();
        let ops = vec![
            write_op(EntityWrite::Insert, "p", "a", b"1"),
            write_op(
                EntityWrite::Update {
                    if_match: IfMatch::Any,
                },
                "p",
                "x",
                b"changed",
            ),
            write_op(EntityWrite::Insert, "p", "x", b"dup"),
            write_op(EntityWrite::Insert, "p", "b", b"never reached"),
        ];
        let failure = s.execute_batch(ACCOUNT, "t", ops, &m).unwrap_err();
        assert_eq!(failure.index, 2);
        assert!(matches!(failure.error, StoreError::EntityAlreadyExists));
        assert!(matches!(
            s.get_entity(ACCOUNT, "t", "p", "a"),
            Err(StoreError::EntityNotFound)
        ));
        assert!(matches!(
            s.get_entity(ACCOUNT, "t", "p", "b"),
            Err(StoreError::EntityNotFound)
        ));
        assert_eq!(s.get_entity(ACCOUNT, "t", "p", "x").unwrap(), before);

        let ops = vec![
            delete_op("p", "x", IfMatch::Any),
            delete_op("p", "x", IfMatch::Any), // already deleted by the first
        ];
        let failure = s.execute_batch(ACCOUNT, "t", ops, &m).unwrap_err();
        assert_eq!(failure.index, 1);
        assert!(matches!(failure.error, StoreError::EntityNotFound));
        assert_eq!(s.get_entity(ACCOUNT, "t", "p", "x").unwrap(), before);

        let stale = IfMatch::Timestamp(before.timestamp + time::Duration::nanoseconds(100));
        let ops = vec![write_op(
            EntityWrite::Merge { if_match: stale },
            "p",
            "x",
            b"m",
        )];
        let failure = s.execute_batch(ACCOUNT, "t", ops, &m).unwrap_err();
        assert_eq!(failure.index, 0);
        assert!(matches!(
            failure.error,
            StoreError::UpdateConditionNotSatisfied
        ));

        let ops = vec![write_op(EntityWrite::Insert, "p", "a", b"1")];
        let failure = s.execute_batch(ACCOUNT, "nope", ops, &m).unwrap_err();
        assert!(matches!(failure.error, StoreError::TableNotFound));
    });
}

#[test]
fn reopening_keeps_tables_entities_acls_and_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let ids = vec![SignedIdentifier {
        id: "p".into(),
        permission: Some("r".into()),
        ..Default::default()
    }];
    let written = {
        let s = Store::open(dir.path()).unwrap();
        s.create_table(ACCOUNT, "Keep").unwrap();
        s.create_table(ACCOUNT, "dropped").unwrap();
        s.set_table_acl(ACCOUNT, "keep", &ids).unwrap();
        let ops = (0..50)
            .map(|i| {
                write_op(
                    EntityWrite::Insert,
                    "p",
                    &format!("{i:02}"),
                    format!("v{i}").as_bytes(),
                )
            })
            .collect();
        let out = s
            .execute_batch(ACCOUNT, "keep", ops, &concat_merge())
            .unwrap();
        put(&s, "dropped", EntityWrite::Insert, "p", "r", b"x").unwrap();
        s.delete_table(ACCOUNT, "dropped").unwrap();
        s.close().unwrap();
        out.into_iter().map(Option::unwrap).collect::<Vec<_>>()
    };
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.get_table(ACCOUNT, "KEEP").unwrap().name, "Keep");
    assert!(matches!(
        s.get_table(ACCOUNT, "dropped"),
        Err(StoreError::TableNotFound)
    ));
    assert_eq!(s.get_table_acl(ACCOUNT, "keep").unwrap(), ids);
    for e in &written {
        assert_eq!(
            &s.get_entity(ACCOUNT, "keep", &e.partition_key, &e.row_key)
                .unwrap(),
            e
        );
    }
    let later = put(&s, "keep", EntityWrite::InsertOrReplace, "p", "00", b"new").unwrap();
    assert!(later.timestamp > written.last().unwrap().timestamp);
    assert_eq!(s.integrity_check().unwrap(), "ok");
    s.close().unwrap();
}
