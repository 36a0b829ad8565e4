//! The diff of page ranges, on its own and against snapshot rows made the way Snapshot Blob
//! makes them (a copy of the row and of its chunk rows, sharing the extent bytes).

use super::*;
use crate::blobs::{find_blob, upsert_blob};
use crate::{BlobHttpProps, SequenceConditions};

fn run(start: u64, extent: i64, offset: u64, len: u64) -> (u64, Chunk) {
    (
        start,
        Chunk {
            extent,
            offset,
            len,
            cipher: None,
        },
    )
}

fn spans(ranges: &[PageRange]) -> Vec<(u64, u64, bool)> {
    ranges.iter().map(|r| (r.start, r.end, r.clear)).collect()
}

#[test]
fn diff_compares_where_bytes_live() {
    // Old: [0, 2048) in extent 1. New: the same first page, a rewritten second page, the
    // third cleared, the fourth the same, and a new page at 4096.
    let old = [run(0, 1, 0, 2048)];
    let new = [
        run(0, 1, 0, 512),
        run(512, 2, 0, 512),
        run(1536, 1, 1536, 512),
        run(4096, 2, 512, 512),
    ];
    assert_eq!(
        spans(&diff_runs(&new, &old, 0, 8192)),
        vec![(512, 1024, false), (1024, 1536, true), (4096, 4608, false)]
    );
    // Nothing changed, nothing listed; everything new when there was nothing.
    assert_eq!(spans(&diff_runs(&old, &old, 0, 8192)), vec![]);
    assert_eq!(
        spans(&diff_runs(&old, &[], 0, 8192)),
        vec![(0, 2048, false)]
    );
    // The same extent at another offset is other bytes.
    let moved = [run(0, 1, 512, 512)];
    assert_eq!(
        spans(&diff_runs(&moved, &[run(0, 1, 0, 512)], 0, 512)),
        vec![(0, 512, false)]
    );
}

const A: &str = "devstoreaccount1";

fn write(store: &Store, data: &[u8]) -> crate::WrittenData {
    let mut w = store.blob_writer().unwrap();
    w.write(data).unwrap();
    w.finish().unwrap()
}

fn put(store: &Store, offset: u64, data: &[u8]) {
    let seq = SequenceConditions::default();
    let cond = Conditions::default();
    store
        .put_pages(A, "c", "p", offset, write(store, data), &cond, &seq, None)
        .unwrap();
}

/// Takes a snapshot as Snapshot Blob does: the row and its chunk rows copied.
fn snapshot(store: &Store, time: &str) {
    let time = time.to_string();
    store
        .core()
        .writer
        .submit(Vec::new(), move |c| {
            let cont = load_container(c, A, "c")?;
            let row = find_blob(c, cont.id, "p")?.unwrap();
            let mut props = row.props.clone();
            props.snapshot = Some(time);
            let id = upsert_blob(c, cont.id, None, true, &props)?;
            c.execute(
                "INSERT INTO blob_chunks (blob_id, start, extent, offset, len, iv, position)
                 SELECT ?1, start, extent, offset, len, iv, position FROM blob_chunks WHERE blob_id = ?2",
                params![id, row.id],
            )?;
            Ok(())
        })
        .unwrap();
}

fn ranges(store: &Store, query: PageRangeQuery) -> Result<Vec<(u64, u64, bool)>> {
    let list = store.get_page_ranges(A, "c", "p", &query, &Conditions::default())?;
    Ok(spans(&list.ranges))
}

#[test]
fn ranges_of_a_snapshot_and_the_diff_since_one() {
    let store = Store::in_memory().unwrap();
    store
        .create_container(A, "c", &Vec::new(), crate::PublicAccess::None)
        .unwrap();
    let cond = Conditions::default();
    store
        .create_page_blob(
            A,
            "c",
            "p",
            8192,
            0,
            &BlobHttpProps::default(),
            &Vec::new(),
            &cond,
            None,
            &[],
        )
        .unwrap();
    put(&store, 0, &[1; 2048]);
    const S1: &str = "2026-01-01T00:00:00.0000001Z";
    const S2: &str = "2026-01-01T00:00:00.0000002Z";
    snapshot(&store, S1);
    put(&store, 512, &[2; 512]);
    store
        .clear_pages(
            A,
            "c",
            "p",
            1024,
            1536,
            &cond,
            &SequenceConditions::default(),
            None,
        )
        .unwrap();
    put(&store, 4096, &[3; 512]);
    snapshot(&store, S2);
    put(&store, 6144, &[4; 512]);

    let since = |prev: &str, snap: Option<&str>| {
        ranges(
            &store,
            PageRangeQuery {
                snapshot: snap.map(str::to_string),
                prev_snapshot: Some(prev.to_string()),
                ..Default::default()
            },
        )
        .unwrap()
    };
    assert_eq!(
        since(S1, None),
        vec![
            (512, 1024, false),
            (1024, 1536, true),
            (4096, 4608, false),
            (6144, 6656, false)
        ]
    );
    assert_eq!(since(S2, None), vec![(6144, 6656, false)]);
    assert_eq!(
        since(S1, Some(S2)),
        vec![(512, 1024, false), (1024, 1536, true), (4096, 4608, false)]
    );
    // The snapshot lists its own pages and still reads its own bytes.
    let snap = PageRangeQuery {
        snapshot: Some(S1.to_string()),
        ..Default::default()
    };
    assert_eq!(ranges(&store, snap).unwrap(), vec![(0, 2048, false)]);
    // Paging a diff: one range a call, each call from the last one's end.
    let mut marker = None;
    let mut all = Vec::new();
    loop {
        let query = PageRangeQuery {
            prev_snapshot: Some(S1.to_string()),
            marker,
            max_results: Some(1),
            ..Default::default()
        };
        let list = store.get_page_ranges(A, "c", "p", &query, &cond).unwrap();
        all.extend(spans(&list.ranges));
        match list.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(all, since(S1, None));
    // A snapshot that does not exist.
    let missing = PageRangeQuery {
        prev_snapshot: Some("2020-01-01T00:00:00.0000000Z".to_string()),
        ..Default::default()
    };
    assert!(matches!(
        ranges(&store, missing),
        Err(StoreError::Refused(Refusal::PreviousSnapshotNotFound))
    ));
    // Bytes the snapshot shares survive the blob's overwrite and a collection.
    put(&store, 0, &[9; 2048]);
    store.collect_garbage().unwrap();
    let snap_id = store
        .core()
        .readers
        .read(|c| {
            Ok(c.query_row(
                "SELECT id FROM blobs WHERE name = 'p' AND snapshot = ?1",
                [S1],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    let bytes = store
        .core()
        .readers
        .read(|c| {
            let reader = page_reader(store.core(), c, snap_id, 0, 2048, None)?;
            let mut reader = reader;
            let mut out = Vec::new();
            while let Some(chunk) = reader.read_chunk(4096)? {
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        })
        .unwrap();
    assert_eq!(bytes, vec![1u8; 2048]);
}
