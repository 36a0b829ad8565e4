//! Page blobs in the engine: random 4 KiB page writes into a 1 GiB page blob, and Get Page
//! Ranges over a blob of 10,000 separate ranges (one call listing them all, as
//! `maxresults=10000` asks), in memory and on disk.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lapis_benches::{memory_and_disk_stores, payload, quick_criterion};
use lapis_store::{
    BlobHttpProps, Conditions, PageRangeQuery, SequenceConditions, Store, StoreError,
};

const ACCOUNT: &str = "devstoreaccount1";
const CONTAINER: &str = "bench";
const GIB: u64 = 1024 * 1024 * 1024;
const PAGE_WRITE: u64 = 4096;
const RANGES: u64 = 10_000;

fn stores() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    memory_and_disk_stores(ACCOUNT, CONTAINER)
}

fn create(store: &Store, name: &str, size: u64) {
    store
        .create_page_blob(
            ACCOUNT,
            CONTAINER,
            name,
            size,
            0,
            &BlobHttpProps::default(),
            &Vec::new(),
            &Conditions::default(),
            None,
            &[],
        )
        .expect("create page blob");
}

fn put_pages(store: &Store, name: &str, offset: u64, data: &[u8]) -> Result<(), StoreError> {
    let mut writer = store.blob_writer()?.without_md5();
    writer.write(data)?;
    let written = writer.finish()?;
    store.put_pages(
        ACCOUNT,
        CONTAINER,
        name,
        offset,
        written,
        &Conditions::default(),
        &SequenceConditions::default(),
        None,
    )?;
    Ok(())
}

/// xorshift: the same pseudo-random offsets on every run.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn random_writes(c: &mut Criterion) {
    let mut group = c.benchmark_group("page_blob");
    let data = payload(PAGE_WRITE as usize);
    group.throughput(Throughput::Bytes(PAGE_WRITE));
    for (kind, store, _dir) in stores() {
        create(&store, "random", GIB);
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        group.bench_function(BenchmarkId::new("random_4KiB_write_in_1GiB", kind), |b| {
            b.iter(|| {
                let offset = next(&mut seed) % (GIB / PAGE_WRITE) * PAGE_WRITE;
                put_pages(&store, "random", offset, &data).expect("put pages")
            })
        });
    }
    group.finish();
}

fn page_ranges(c: &mut Criterion) {
    let mut group = c.benchmark_group("page_blob");
    group.throughput(Throughput::Elements(RANGES));
    let page = payload(512);
    for (kind, store, _dir) in stores() {
        // Every other page written: 10,000 ranges. Written from several threads so that group
        // commit batches the setup on disk.
        create(&store, "ranges", RANGES * 1024);
        std::thread::scope(|s| {
            for t in 0..16u64 {
                let (store, page) = (&store, &page);
                s.spawn(move || {
                    for i in (t..RANGES).step_by(16) {
                        put_pages(store, "ranges", i * 1024, page).expect("put page");
                    }
                });
            }
        });
        let query = PageRangeQuery {
            max_results: Some(RANGES as usize),
            ..Default::default()
        };
        let list = |store: &Store| {
            store
                .get_page_ranges(ACCOUNT, CONTAINER, "ranges", &query, &Conditions::default())
                .expect("get page ranges")
        };
        assert_eq!(list(&store).ranges.len(), RANGES as usize);
        group.bench_function(BenchmarkId::new("get_page_ranges_10000", kind), |b| {
            b.iter(|| list(&store).ranges.len())
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = quick_criterion(); targets = random_writes, page_ranges }
criterion_main!(benches);
