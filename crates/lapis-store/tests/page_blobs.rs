//! Page blobs: sparse storage (only written pages are stored, holes read as zeros), writes
//! that replace exactly their range, clears, resizes, Get Page Ranges with continuation,
//! sequence numbers and their conditions, and customer-provided keys.

mod support;

use lapis_store::*;
use support::*;

const KIB: u64 = 1024;
const TIB: u64 = 1024 * 1024 * 1024 * 1024;

fn create(store: &Store, blob: &str, size: u64) -> BlobProps {
    store
        .create_page_blob(
            ACCOUNT,
            "c",
            blob,
            size,
            0,
            &BlobHttpProps::default(),
            &Vec::new(),
            &no_cond(),
            None,
            &[],
        )
        .unwrap()
}

fn put_pages(store: &Store, blob: &str, offset: u64, data: &[u8]) -> Result<BlobProps> {
    store.put_pages(
        ACCOUNT,
        "c",
        blob,
        offset,
        write(store, data),
        &no_cond(),
        &SequenceConditions::default(),
        None,
    )
}

fn clear(store: &Store, blob: &str, from: u64, to: u64) -> Result<BlobProps> {
    store.clear_pages(
        ACCOUNT,
        "c",
        blob,
        from,
        to,
        &no_cond(),
        &SequenceConditions::default(),
        None,
    )
}

fn ranges_page(
    store: &Store,
    blob: &str,
    marker: Option<u64>,
    max: Option<usize>,
) -> PageRangeList {
    let query = PageRangeQuery {
        marker,
        max_results: max,
        ..Default::default()
    };
    store
        .get_page_ranges(ACCOUNT, "c", blob, &query, &no_cond())
        .unwrap()
}

/// Every written range as `(start, end)`, end exclusive.
fn ranges(store: &Store, blob: &str) -> Vec<(u64, u64)> {
    let list = ranges_page(store, blob, None, None);
    assert_eq!(list.next_marker, None);
    list.ranges.iter().map(|r| (r.start, r.end)).collect()
}

fn read_range(store: &Store, blob: &str, start: u64, len: u64) -> Vec<u8> {
    read(
        store,
        "c",
        blob,
        Some(ByteRange {
            start,
            end: Some(start + len - 1),
        }),
    )
    .unwrap()
}

fn resize(store: &Store, blob: &str, size: u64) -> BlobProps {
    let change = PageBlobChange {
        size: Some(size),
        ..Default::default()
    };
    store
        .set_page_blob_properties(ACCOUNT, "c", blob, &change, &no_cond(), None)
        .unwrap()
}

#[test]
fn a_sparse_terabyte_stores_only_its_two_pages() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "disk", TIB);
        let (a, b) = (pattern(512, 1), pattern(512, 2));
        put_pages(s, "disk", 0, &a).unwrap();
        put_pages(s, "disk", TIB / 2, &b).unwrap();
        assert_eq!(s.stats().unwrap().extent_bytes, 1024);
        assert_eq!(ranges(s, "disk"), vec![(0, 512), (TIB / 2, TIB / 2 + 512)]);
        let props = s
            .get_blob_properties(ACCOUNT, "c", "disk", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!((props.size, props.blob_type), (TIB, BlobType::PageBlob));
        // Zeros around and between the pages.
        let mut want = a.clone();
        want.extend(vec![0u8; 1536]);
        assert_eq!(read_range(s, "disk", 0, 2048), want);
        let mut want = vec![0u8; 4096];
        want.extend(&b);
        want.extend(vec![0u8; 4096]);
        assert_eq!(read_range(s, "disk", TIB / 2 - 4096, 8704), want);
        assert_eq!(read_range(s, "disk", TIB - 512, 512), vec![0u8; 512]);
        // A long hole streams without storing or allocating it whole.
        let (_, mut reader) = s
            .read_blob(ACCOUNT, "c", "disk", None, &no_cond(), None)
            .unwrap();
        assert_eq!(reader.remaining(), TIB);
        let first = reader.read_chunk(1 << 20).unwrap().unwrap();
        assert_eq!(&first[..512], &a[..]);
        assert!(first[512..].iter().all(|b| *b == 0));
    });
}

#[test]
fn writing_over_a_range_replaces_only_those_bytes() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "p", 16 * KIB);
        let base = pattern(4096, 3);
        put_pages(s, "p", 0, &base).unwrap();
        let patch = pattern(1024, 4);
        put_pages(s, "p", 1024, &patch).unwrap();
        let mut want = base.clone();
        want[1024..2048].copy_from_slice(&patch);
        assert_eq!(read_range(s, "p", 0, 4096), want);
        // Straddling the end of the written pages into a hole.
        let tail = pattern(1024, 5);
        put_pages(s, "p", 3584, &tail).unwrap();
        want[3584..].copy_from_slice(&tail[..512]);
        want.extend(&tail[512..]);
        assert_eq!(read_range(s, "p", 0, 4608), want);
        // Contiguous runs list as one range.
        assert_eq!(ranges(s, "p"), vec![(0, 4608)]);
        // The overwritten bytes are no longer live.
        s.collect_garbage().unwrap();
        assert_eq!(read_range(s, "p", 0, 4608), want);
    });
}

#[test]
fn clearing_drops_pages_and_splits_runs() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "p", 8 * KIB);
        let data = pattern(4096, 6);
        put_pages(s, "p", 0, &data).unwrap();
        let before = s
            .get_blob_properties(ACCOUNT, "c", "p", &no_cond(), Access::Read, None)
            .unwrap();
        let after = clear(s, "p", 1024, 2048).unwrap();
        assert_ne!(before.etag, after.etag);
        assert_eq!(ranges(s, "p"), vec![(0, 1024), (2048, 4096)]);
        let mut want = data.clone();
        want[1024..2048].fill(0);
        assert_eq!(read_range(s, "p", 0, 4096), want);
        // Clearing holes and beyond the written pages is harmless.
        clear(s, "p", 4096, 8192).unwrap();
        clear(s, "p", 0, 8192).unwrap();
        assert_eq!(ranges(s, "p"), vec![]);
        assert_eq!(read_range(s, "p", 0, 8192), vec![0u8; 8192]);
    });
}

#[test]
fn resize_shrinks_and_extends() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "p", 4 * KIB);
        let data = pattern(4096, 7);
        put_pages(s, "p", 0, &data).unwrap();
        assert_eq!(resize(s, "p", 1536).size, 1536);
        assert_eq!(ranges(s, "p"), vec![(0, 1536)]);
        assert_eq!(read(s, "c", "p", None).unwrap(), data[..1536].to_vec());
        // Growing again brings zeros, not the old bytes.
        assert_eq!(resize(s, "p", 4096).size, 4096);
        let mut want = data[..1536].to_vec();
        want.extend(vec![0u8; 4096 - 1536]);
        assert_eq!(read(s, "c", "p", None).unwrap(), want);
        assert_eq!(ranges(s, "p"), vec![(0, 1536)]);
        assert_eq!(resize(s, "p", 0).size, 0);
        assert_eq!(read(s, "c", "p", None).unwrap(), Vec::<u8>::new());
        assert_eq!(ranges(s, "p"), vec![]);
    });
}

#[test]
fn pages_beyond_the_end_are_an_invalid_page_range() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "p", 1024);
        let err = put_pages(s, "p", 1024, &pattern(512, 8)).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Refused(Refusal::InvalidPageRange)
        ));
        let err = clear(s, "p", 512, 1536).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Refused(Refusal::InvalidPageRange)
        ));
        assert_eq!(ranges(s, "p"), vec![]);
    });
}

#[test]
fn get_page_ranges_continues_from_its_marker() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "p", 64 * KIB);
        // Every other page: 32 separate ranges.
        for i in 0..32u64 {
            put_pages(s, "p", i * 2048, &pattern(512, i)).unwrap();
        }
        let mut all = Vec::new();
        let mut marker = None;
        let mut calls = 0;
        loop {
            let page = ranges_page(s, "p", marker, Some(5));
            assert!(page.ranges.len() <= 5);
            all.extend(page.ranges.iter().map(|r| (r.start, r.end)));
            calls += 1;
            match page.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(calls, 7);
        let want: Vec<(u64, u64)> = (0..32u64).map(|i| (i * 2048, i * 2048 + 512)).collect();
        assert_eq!(all, want);
        // A range narrows the listing, widened to whole pages.
        let within = |start, end| {
            let query = PageRangeQuery {
                range: Some(ByteRange {
                    start,
                    end: Some(end),
                }),
                ..Default::default()
            };
            let list = s
                .get_page_ranges(ACCOUNT, "c", "p", &query, &no_cond())
                .unwrap();
            list.ranges
                .iter()
                .map(|r| (r.start, r.end))
                .collect::<Vec<_>>()
        };
        assert_eq!(within(2100, 4200), vec![(2048, 2560), (4096, 4608)]);
        assert_eq!(within(2600, 4000), vec![]);
        assert_eq!(within(4300, 4300), vec![(4096, 4608)]);
    });
}

#[test]
fn sequence_numbers_change_and_guard_writes() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        create(s, "p", 4 * KIB);
        let set = |action| {
            let change = PageBlobChange {
                sequence: Some(action),
                ..Default::default()
            };
            s.set_page_blob_properties(ACCOUNT, "c", "p", &change, &no_cond(), None)
                .unwrap()
                .sequence_number
        };
        assert_eq!(set(SequenceNumberAction::Increment), 1);
        assert_eq!(set(SequenceNumberAction::Max(7)), 7);
        assert_eq!(set(SequenceNumberAction::Max(3)), 7);
        assert_eq!(set(SequenceNumberAction::Update(2)), 2);
        let guarded = |seq: SequenceConditions| {
            s.put_pages(
                ACCOUNT,
                "c",
                "p",
                0,
                write(s, &pattern(512, 9)),
                &no_cond(),
                &seq,
                None,
            )
        };
        for ok in [
            SequenceConditions {
                eq: Some(2),
                ..Default::default()
            },
            SequenceConditions {
                le: Some(2),
                lt: Some(3),
                ..Default::default()
            },
        ] {
            assert_eq!(guarded(ok).unwrap().sequence_number, 2);
        }
        for failing in [
            SequenceConditions {
                eq: Some(1),
                ..Default::default()
            },
            SequenceConditions {
                lt: Some(2),
                ..Default::default()
            },
            SequenceConditions {
                le: Some(1),
                ..Default::default()
            },
        ] {
            assert!(matches!(
                guarded(failing).unwrap_err(),
                StoreError::Refused(Refusal::SequenceNumberConditionNotMet)
            ));
        }
        assert_eq!(
            set(SequenceNumberAction::Update(MAX_SEQUENCE_NUMBER)),
            MAX_SEQUENCE_NUMBER
        );
        let change = PageBlobChange {
            sequence: Some(SequenceNumberAction::Increment),
            ..Default::default()
        };
        assert!(matches!(
            s.set_page_blob_properties(ACCOUNT, "c", "p", &change, &no_cond(), None)
                .unwrap_err(),
            StoreError::Refused(Refusal::SequenceNumberIncrementTooLarge)
        ));
    });
}

#[test]
fn other_blob_types_refuse_page_operations_and_page_blobs_refuse_blocks() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "block", b"hello");
        let invalid = |e: StoreError| matches!(e, StoreError::Refused(Refusal::InvalidBlobType));
        assert!(invalid(
            put_pages(s, "block", 0, &pattern(512, 1)).unwrap_err()
        ));
        assert!(invalid(clear(s, "block", 0, 512).unwrap_err()));
        assert!(invalid(
            s.get_page_ranges(
                ACCOUNT,
                "c",
                "block",
                &PageRangeQuery::default(),
                &no_cond()
            )
            .unwrap_err()
        ));
        create(s, "page", 1024);
        assert!(invalid(
            s.put_block(ACCOUNT, "c", "page", "YQ==", write(s, b"x"))
                .unwrap_err()
        ));
        assert!(invalid(
            s.put_block_list(
                ACCOUNT,
                "c",
                "page",
                &[],
                &BlobHttpProps::default(),
                &Vec::new(),
                None,
                &no_cond(),
                None,
            )
            .unwrap_err()
        ));
        // Put Blob replaces a page blob with a block blob.
        put(s, "c", "page", b"now a block blob");
        assert_eq!(read(s, "c", "page", None).unwrap(), b"now a block blob");
        assert!(matches!(
            put_pages(s, "missing", 0, &pattern(512, 1)).unwrap_err(),
            StoreError::BlobNotFound
        ));
    });
}

#[test]
fn pages_under_a_customer_key_are_read_with_it() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let key = CustomerKey::new([7; 32]);
        s.create_page_blob(
            ACCOUNT,
            "c",
            "p",
            4096,
            0,
            &BlobHttpProps::default(),
            &Vec::new(),
            &no_cond(),
            Some(&key),
            &[],
        )
        .unwrap();
        let data = pattern(2048, 10);
        let mut w = s.blob_writer().unwrap().encrypt_with(&key).unwrap();
        w.write(&data).unwrap();
        let written = w.finish().unwrap();
        s.put_pages(
            ACCOUNT,
            "c",
            "p",
            1024,
            written,
            &no_cond(),
            &SequenceConditions::default(),
            Some(&key),
        )
        .unwrap();
        // Without the key nothing is written.
        assert!(matches!(
            put_pages(s, "p", 0, &pattern(512, 11)).unwrap_err(),
            StoreError::CustomerKeyRequired
        ));
        let (_, reader) = s
            .read_blob(ACCOUNT, "c", "p", None, &no_cond(), Some(&key))
            .unwrap();
        let mut want = vec![0u8; 1024];
        want.extend(&data);
        want.extend(vec![0u8; 1024]);
        assert_eq!(drain(reader), want);
    });
}

/// Random writes, clears and resizes against a model of the bytes and of the written pages:
/// after every step the blob reads as the model and lists exactly the model's written runs.
#[test]
fn random_page_operations_match_a_model() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        const PAGES: u64 = 64;
        let mut size = PAGES * 512;
        create(s, "m", size);
        let mut bytes = vec![0u8; size as usize];
        let mut written = vec![false; PAGES as usize];
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for step in 0..300u64 {
            let pages = size / 512;
            let action = next(10);
            if action == 9 {
                let new_pages = 1 + next(PAGES);
                resize(s, "m", new_pages * 512);
                size = new_pages * 512;
                bytes.resize(size as usize, 0);
                written.resize(new_pages as usize, false);
                // Shrinking forgets the pages past the end; growing brings zeros.
                continue;
            }
            let first = next(pages);
            let count = 1 + next((pages - first).min(8));
            let (from, to) = (first * 512, (first + count) * 512);
            if action < 6 {
                let data = pattern((to - from) as usize, step);
                put_pages(s, "m", from, &data).unwrap();
                bytes[from as usize..to as usize].copy_from_slice(&data);
                written[first as usize..(first + count) as usize].fill(true);
            } else {
                clear(s, "m", from, to).unwrap();
                bytes[from as usize..to as usize].fill(0);
                written[first as usize..(first + count) as usize].fill(false);
            }
            if step % 10 == 0 || step == 299 {
                assert_eq!(read(s, "c", "m", None).unwrap(), bytes, "step {step}");
                let mut want = Vec::new();
                for (i, w) in written.iter().enumerate() {
                    let (start, end) = (i as u64 * 512, i as u64 * 512 + 512);
                    match want.last_mut() {
                        Some((_, e)) if *w && *e == start => *e = end,
                        _ if *w => want.push((start, end)),
                        _ => {}
                    }
                }
                assert_eq!(ranges(s, "m"), want, "step {step}");
            }
        }
        s.collect_garbage().unwrap();
        assert_eq!(read(s, "c", "m", None).unwrap(), bytes);
    });
}
