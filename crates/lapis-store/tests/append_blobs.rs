//! Integration tests of append blobs: create, Append Block with its conditions, Seal, and how
//! the other operations treat an append blob.

mod support;

use lapis_store::*;
use support::*;

fn create(s: &Store, b: &str) -> BlobProps {
    s.create_append_blob(
        ACCOUNT,
        "c",
        b,
        &BlobHttpProps::default(),
        &md(&[("k", "v")]),
        &no_cond(),
        None,
        &[],
    )
    .unwrap()
}

fn append_with(
    s: &Store,
    b: &str,
    data: &[u8],
    cond: &Conditions,
    append: AppendConditions,
) -> Result<Appended> {
    s.append_block(ACCOUNT, "c", b, write(s, data), cond, append, None)
}

fn append(s: &Store, b: &str, data: &[u8]) -> Result<Appended> {
    append_with(s, b, data, &no_cond(), AppendConditions::default())
}

fn refusal(r: Result<impl std::fmt::Debug>) -> Refusal {
    match r {
        Err(StoreError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn appends_land_in_order_at_the_old_end() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let created = create(s, "a");
        assert_eq!(created.blob_type, BlobType::AppendBlob);
        assert_eq!((created.size, created.committed_block_count), (0, 0));
        let mut want = Vec::new();
        let mut etag = created.etag.clone();
        for (i, len) in [1usize, 300_000, 17, 1_100_000].into_iter().enumerate() {
            let data = pattern(len, i as u64);
            let done = append(s, "a", &data).unwrap();
            assert_eq!(done.offset, want.len() as u64);
            want.extend_from_slice(&data);
            assert_eq!(done.props.size, want.len() as u64);
            assert_eq!(done.props.committed_block_count, i as u32 + 1);
            assert_ne!(done.props.etag, etag, "every append changes the ETag");
            etag = done.props.etag.clone();
        }
        assert_eq!(read(s, "c", "a", None).unwrap(), want);
        // A range across the boundary of two appends.
        let range = ByteRange {
            start: 299_990,
            end: Some(300_030),
        };
        assert_eq!(
            read(s, "c", "a", Some(range)).unwrap(),
            want[299_990..=300_030]
        );
        let p = s
            .get_blob_properties(ACCOUNT, "c", "a", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!((p.size, p.committed_block_count), (want.len() as u64, 4));
        assert_eq!(p.metadata, md(&[("k", "v")]), "appends keep the metadata");
        assert_eq!(p.etag, etag);
    });
}

#[test]
fn append_conditions_are_checked_against_the_blob_as_it_is() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "a");
        append(s, "a", b"0123456789").unwrap();
        let at = |position, max_size| AppendConditions { position, max_size };
        assert_eq!(
            refusal(append_with(s, "a", b"x", &no_cond(), at(Some(9), None))),
            Refusal::AppendPositionConditionNotMet
        );
        assert_eq!(
            refusal(append_with(s, "a", b"xy", &no_cond(), at(None, Some(11)))),
            Refusal::MaxBlobSizeConditionNotMet
        );
        let done = append_with(s, "a", b"x", &no_cond(), at(Some(10), Some(11))).unwrap();
        assert_eq!((done.offset, done.props.size), (10, 11));
        // HTTP conditions: a stale ETag is 412, the current one goes ahead.
        let stale = Conditions {
            if_match: Some(EtagCondition::Tags(vec!["0x1".into()])),
            ..Default::default()
        };
        assert!(matches!(
            append_with(s, "a", b"z", &stale, at(None, None)),
            Err(StoreError::ConditionNotMet)
        ));
        let current = Conditions {
            if_match: Some(EtagCondition::Tags(vec![done.props.etag.clone()])),
            ..Default::default()
        };
        append_with(s, "a", b"z", &current, at(None, None)).unwrap();
        // Refused appends left nothing behind.
        assert_eq!(read(s, "c", "a", None).unwrap(), b"0123456789xz");
    });
}

#[test]
fn a_sealed_blob_takes_no_more_appends_but_stays_readable() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "a");
        append(s, "a", b"abc").unwrap();
        assert_eq!(
            refusal(s.seal_blob(ACCOUNT, "c", "a", &no_cond(), Some(2))),
            Refusal::AppendPositionConditionNotMet
        );
        let sealed = s.seal_blob(ACCOUNT, "c", "a", &no_cond(), Some(3)).unwrap();
        assert!(sealed.sealed);
        assert_eq!(refusal(append(s, "a", b"d")), Refusal::BlobIsSealed);
        assert_eq!(read(s, "c", "a", None).unwrap(), b"abc");
        let p = s
            .get_blob_properties(ACCOUNT, "c", "a", &no_cond(), Access::Read, None)
            .unwrap();
        assert!(p.sealed);
        // Creating it again starts an unsealed, empty append blob.
        let again = create(s, "a");
        assert!(!again.sealed);
        assert_eq!(append(s, "a", b"new").unwrap().offset, 0);
        assert_eq!(read(s, "c", "a", None).unwrap(), b"new");
    });
}

#[test]
fn each_blob_type_keeps_to_its_own_operations() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "block", b"bytes");
        assert_eq!(refusal(append(s, "block", b"x")), Refusal::InvalidBlobType);
        assert_eq!(
            refusal(s.seal_blob(ACCOUNT, "c", "block", &no_cond(), None)),
            Refusal::InvalidBlobType
        );
        create(s, "a");
        assert_eq!(
            refusal(s.put_block(ACCOUNT, "c", "a", "QQ==", write(s, b"x"))),
            Refusal::InvalidBlobType
        );
        assert_eq!(
            refusal(s.get_block_list(ACCOUNT, "c", "a", BlockListFilter::All)),
            Refusal::InvalidBlobType
        );
        assert_eq!(
            refusal(s.put_block_list(
                ACCOUNT,
                "c",
                "a",
                &[],
                &BlobHttpProps::default(),
                &Vec::new(),
                None,
                &no_cond(),
                None,
            )),
            Refusal::InvalidBlobType
        );
        assert!(matches!(
            append(s, "missing", b"x"),
            Err(StoreError::BlobNotFound)
        ));
        // Put Blob (a block blob) over an append blob replaces it.
        append(s, "a", b"old").unwrap();
        let p = put(s, "c", "a", b"block now");
        assert_eq!(p.blob_type, BlobType::BlockBlob);
        assert_eq!(read(s, "c", "a", None).unwrap(), b"block now");
        assert_eq!(refusal(append(s, "a", b"x")), Refusal::InvalidBlobType);
        // And an append blob created over a block blob starts empty.
        let p = create(s, "block");
        assert_eq!((p.blob_type, p.size), (BlobType::AppendBlob, 0));
        assert_eq!(read(s, "c", "block", None).unwrap(), b"");
    });
}

#[test]
fn concurrent_appends_each_land_whole_up_to_the_block_limit() {
    // In memory: 50,000 commits on disk would time the disk, not the rule.
    let fx = Fixture::memory(StoreOptions::default());
    let s = &fx.store;
    container(s, "c");
    create(s, "a");
    let threads = 8u32;
    let per_thread = MAX_APPEND_BLOCKS / threads;
    // Each thread's blocks are 3 bytes: its number and the block's index in it.
    let offsets: Vec<Vec<(u64, [u8; 3])>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            let block = [t as u8, (i >> 8) as u8, i as u8];
                            (append(s, "a", &block).unwrap().offset, block)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        refusal(append(s, "a", b"one more")),
        Refusal::BlockCountExceedsLimit
    );
    let content = read(s, "c", "a", None).unwrap();
    assert_eq!(content.len() as u32, MAX_APPEND_BLOCKS * 3);
    for (offset, block) in offsets.into_iter().flatten() {
        let at = offset as usize;
        assert_eq!(content[at..at + 3], block, "block at {offset}");
    }
    let p = s
        .get_blob_properties(ACCOUNT, "c", "a", &no_cond(), Access::Read, None)
        .unwrap();
    assert_eq!(p.committed_block_count, MAX_APPEND_BLOCKS);
}

#[test]
fn appends_under_a_customer_key_need_that_key() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let key = CustomerKey::new([7; 32]);
        let other = CustomerKey::new([8; 32]);
        s.create_append_blob(
            ACCOUNT,
            "c",
            "k",
            &BlobHttpProps::default(),
            &Vec::new(),
            &no_cond(),
            Some(&key),
            &[],
        )
        .unwrap();
        let encrypted = |s: &Store, data: &[u8], k: &CustomerKey| {
            let mut w = s.blob_writer().unwrap().encrypt_with(k).unwrap();
            w.write(data).unwrap();
            w.finish().unwrap()
        };
        let with = |data: &[u8], k: Option<&CustomerKey>| {
            let written = match k {
                Some(k) => encrypted(s, data, k),
                None => write(s, data),
            };
            s.append_block(
                ACCOUNT,
                "c",
                "k",
                written,
                &no_cond(),
                AppendConditions::default(),
                k,
            )
        };
        assert!(matches!(
            with(b"x", None),
            Err(StoreError::CustomerKeyRequired)
        ));
        assert!(matches!(
            with(b"x", Some(&other)),
            Err(StoreError::CustomerKeyMismatch)
        ));
        with(b"first ", Some(&key)).unwrap();
        with(b"second", Some(&key)).unwrap();
        let (_, r) = s
            .read_blob(ACCOUNT, "c", "k", None, &no_cond(), Some(&key))
            .unwrap();
        assert_eq!(drain(r), b"first second");
        let range = ByteRange {
            start: 4,
            end: Some(8),
        };
        let (_, r) = s
            .read_blob(ACCOUNT, "c", "k", Some(range), &no_cond(), Some(&key))
            .unwrap();
        assert_eq!(drain(r), b"t sec");
    });
}

#[test]
fn appends_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    container(&s, "c");
    create(&s, "a");
    append(&s, "a", b"kept ").unwrap();
    append(&s, "a", &pattern(2_000_000, 9)).unwrap();
    s.close().unwrap();
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    let got = read(&s, "c", "a", None).unwrap();
    assert_eq!(&got[..5], b"kept ");
    assert_eq!(&got[5..], pattern(2_000_000, 9).as_slice());
    // Appending after the reopen continues where the blob ended, not where an extent did.
    assert_eq!(append(&s, "a", b"more").unwrap().offset, 2_000_005);
    assert_eq!(s.integrity_check().unwrap(), "ok");
    s.close().unwrap();
}
