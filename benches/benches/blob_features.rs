//! The Blob API part 2 in the engine: a lease acquired and released, a snapshot of a 1 GiB blob
//! (which should cost microseconds and no bytes), and a 4 KiB append block; in memory and on
//! disk.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lapis_benches::{memory_and_disk_stores, payload, quick_criterion};
use lapis_store::{
    AppendConditions, BlobHttpProps, Conditions, LeaseAction, SnapshotsOnDelete, Store,
};

const ACCOUNT: &str = "devstoreaccount1";
const CONTAINER: &str = "bench";
const LEASE: &str = "0b0b0b0b-0000-4000-8000-000000000001";

fn stores() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    memory_and_disk_stores(ACCOUNT, CONTAINER)
}

fn put(store: &Store, name: &str, len: usize) {
    let mut w = store.blob_writer().expect("writer").without_md5();
    let chunk = payload(4 << 20);
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write(&chunk[..n]).expect("write");
        left -= n;
    }
    let data = w.finish().expect("finish");
    store
        .put_blob(
            ACCOUNT,
            CONTAINER,
            name,
            data,
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &Conditions::default(),
        )
        .expect("put blob");
}

fn lease_acquire_release(c: &mut Criterion) {
    let mut group = c.benchmark_group("lease acquire+release");
    for (kind, store, _dir) in stores() {
        put(&store, "leased", 4096);
        group.bench_function(BenchmarkId::from_parameter(kind), |b| {
            b.iter(|| {
                let acquire = LeaseAction::Acquire {
                    duration: -1,
                    proposed: LEASE.into(),
                };
                store
                    .lease_blob(
                        ACCOUNT,
                        CONTAINER,
                        "leased",
                        acquire,
                        &Conditions::default(),
                    )
                    .expect("acquire");
                let release = LeaseAction::Release { id: LEASE.into() };
                store
                    .lease_blob(
                        ACCOUNT,
                        CONTAINER,
                        "leased",
                        release,
                        &Conditions::default(),
                    )
                    .expect("release");
            })
        });
    }
    group.finish();
}

fn snapshot_of_a_gib(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot of a 1 GiB blob, then its delete");
    for (kind, store, _dir) in stores() {
        put(&store, "big", 1 << 30);
        let before = store.stats().expect("stats").extent_bytes;
        group.bench_function(BenchmarkId::from_parameter(kind), |b| {
            b.iter(|| {
                let taken = store
                    .snapshot_blob(
                        ACCOUNT,
                        CONTAINER,
                        "big",
                        None,
                        &Conditions::default(),
                        None,
                    )
                    .expect("snapshot");
                store
                    .delete_blob_at(
                        ACCOUNT,
                        CONTAINER,
                        "big",
                        Some(&taken.snapshot),
                        SnapshotsOnDelete::Refuse,
                        &Conditions::default(),
                    )
                    .expect("delete snapshot");
            })
        });
        // Snapshots share the blob's bytes: none were written.
        assert_eq!(store.stats().expect("stats").extent_bytes, before);
    }
    group.finish();
}

fn append_4k(c: &mut Criterion) {
    let mut group = c.benchmark_group("append 4 KiB block");
    group.throughput(Throughput::Bytes(4096));
    let block = payload(4096);
    for (kind, store, _dir) in stores() {
        store
            .create_append_blob(
                ACCOUNT,
                CONTAINER,
                "log",
                &BlobHttpProps::default(),
                &Vec::new(),
                &Conditions::default(),
                None,
                &[],
            )
            .expect("create append blob");
        group.bench_function(BenchmarkId::from_parameter(kind), |b| {
            b.iter(|| {
                let mut w = store.blob_writer().expect("writer").without_md5();
                w.write(&block).expect("write");
                let data = w.finish().expect("finish");
                store
                    .append_block(
                        ACCOUNT,
                        CONTAINER,
                        "log",
                        data,
                        &Conditions::default(),
                        AppendConditions::default(),
                        None,
                    )
                    .expect("append");
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = quick_criterion();
    targets = lease_acquire_release, snapshot_of_a_gib, append_4k
}
criterion_main!(benches);
