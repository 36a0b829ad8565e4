//! Snapshots share their base blob's bytes: random sequences of put, snapshot, delete and
//! garbage collection against a model, checking that every snapshot reads back what the blob
//! held when it was taken, and that the collector frees bytes once no row uses them.

mod support;

use std::collections::BTreeMap;
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

/// A deterministic generator (xorshift64*), so that a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn content(rng: &mut Rng) -> Vec<u8> {
    // Small blobs live inline, larger ones in extents; both must share correctly.
    let len = match rng.below(3) {
        0 => rng.below(200) as usize,
        1 => 20_000 + rng.below(20_000) as usize,
        _ => 70_000 + rng.below(60_000) as usize,
    };
    let seed = rng.next() as u8;
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// name -> (base content if it exists, snapshots by time)
type Model = BTreeMap<String, (Option<Vec<u8>>, BTreeMap<String, Vec<u8>>)>;

fn check_model(s: &Store, model: &Model) {
    for (name, (base, snaps)) in model {
        match base {
            Some(data) => assert_eq!(&read(s, "c", name, None).unwrap(), data, "{name}"),
            None => assert!(read(s, "c", name, None).is_err(), "{name} should be gone"),
        }
        for (snap, data) in snaps {
            let (_, r) = s
                .read_blob_at(ACCOUNT, "c", name, Some(snap), None, &no_cond(), None)
                .unwrap();
            assert_eq!(&drain(r), data, "{name} at {snap}");
        }
    }
}

fn run(seed: u64, steps: usize) {
    both(small_extents(), |s| {
        let mut rng = Rng(seed);
        let mut model: Model = BTreeMap::new();
        container(s, "c");
        let names = ["a", "b", "c"];
        for _ in 0..steps {
            let name = names[rng.below(3) as usize].to_string();
            let entry = model.entry(name.clone()).or_default();
            match rng.below(7) {
                0 | 1 => {
                    let data = content(&mut rng);
                    put(s, "c", &name, &data);
                    entry.0 = Some(data);
                }
                2 | 3 => match &entry.0 {
                    Some(data) => {
                        let taken = s
                            .snapshot_blob(ACCOUNT, "c", &name, None, &no_cond(), None)
                            .unwrap();
                        entry.1.insert(taken.snapshot, data.clone());
                    }
                    None => assert!(s
                        .snapshot_blob(ACCOUNT, "c", &name, None, &no_cond(), None)
                        .is_err()),
                },
                4 => {
                    let pick = entry
                        .1
                        .keys()
                        .nth(rng.below(entry.1.len() as u64 + 1) as usize);
                    if let Some(snap) = pick.cloned() {
                        s.delete_blob_at(
                            ACCOUNT,
                            "c",
                            &name,
                            Some(&snap),
                            SnapshotsOnDelete::Refuse,
                            &no_cond(),
                        )
                        .unwrap();
                        entry.1.remove(&snap);
                    }
                }
                5 => {
                    let how = [SnapshotsOnDelete::Include, SnapshotsOnDelete::Only]
                        [rng.below(2) as usize];
                    let result = s.delete_blob_at(ACCOUNT, "c", &name, None, how, &no_cond());
                    if entry.0.is_none() {
                        assert!(result.is_err());
                    } else {
                        result.unwrap();
                        entry.1.clear();
                        if how == SnapshotsOnDelete::Include {
                            entry.0 = None;
                        }
                    }
                }
                _ => {
                    s.collect_garbage().unwrap();
                }
            }
            check_model(s, &model);
        }
        // Everything deleted: nothing stays referenced, and the collector frees the bytes.
        for name in names {
            let _ = s.delete_blob_at(
                ACCOUNT,
                "c",
                name,
                None,
                SnapshotsOnDelete::Include,
                &no_cond(),
            );
        }
        s.collect_garbage().unwrap();
        s.collect_garbage().unwrap();
        let stats = s.stats().unwrap();
        assert_eq!(stats.blobs, 0, "{stats:?}");
        assert!(stats.extent_bytes < 64 * 1024 * 2, "{stats:?}");
    });
}

#[test]
fn snapshots_share_bytes_and_free_them_when_unreferenced() {
    for seed in 1..=6u64 {
        run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 60);
    }
}

#[test]
fn a_snapshot_of_a_large_blob_adds_no_extent_bytes() {
    both(small_extents(), |s| {
        container(s, "c");
        let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        put(s, "c", "big", &data);
        let before = s.stats().unwrap().extent_bytes;
        for _ in 0..5 {
            s.snapshot_blob(ACCOUNT, "c", "big", None, &no_cond(), None)
                .unwrap();
        }
        assert_eq!(s.stats().unwrap().extent_bytes, before);
        // The base is replaced; the snapshots still hold the old bytes through GC.
        put(s, "c", "big", b"small");
        s.collect_garbage().unwrap();
        let page = s
            .list_blobs(
                ACCOUNT,
                "c",
                &ListBlobsQuery {
                    include_snapshots: true,
                    max_results: 100,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(page.items.len(), 6);
        for item in &page.items[..5] {
            let ListBlobsItem::Blob(p) = item else {
                panic!("{item:?}")
            };
            let (_, r) = s
                .read_blob_at(
                    ACCOUNT,
                    "c",
                    "big",
                    p.snapshot.as_deref(),
                    None,
                    &no_cond(),
                    None,
                )
                .unwrap();
            assert_eq!(drain(r), data);
        }
    });
}
