//! The storage engine alone: Put Blob and Get Blob of 4 KiB and 4 MiB, in memory and on disk
//! (durable: every put waits for its group commit), and entity insert and point get.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lapis_benches::{payload, quick_criterion, ENTITY_JSON};
use lapis_store::{
    BlobHttpProps, Conditions, EntityOp, EntityOpKind, EntityWrite, MergeFn, PublicAccess, Store,
    StoreError,
};

const ACCOUNT: &str = "devstoreaccount1";
const CONTAINER: &str = "bench";
const TABLE: &str = "bench";

/// Both engines, each with the container and table the benches use. The temp dir lives as long
/// as the on-disk store.
fn stores() -> Vec<(&'static str, Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let disk = Store::open(dir.path()).expect("open on-disk store");
    let memory = Store::in_memory().expect("open in-memory store");
    let mut out = vec![("memory", memory, None), ("disk", disk, Some(dir))];
    for (_, store, _) in &mut out {
        store
            .create_container(ACCOUNT, CONTAINER, &Vec::new(), PublicAccess::None)
            .expect("create container");
        store.create_table(ACCOUNT, TABLE).expect("create table");
    }
    out
}

fn put_blob(store: &Store, name: &str, data: &[u8]) -> Result<(), StoreError> {
    let mut writer = store.blob_writer()?;
    writer.write(data)?;
    let written = writer.finish()?;
    store.put_blob(
        ACCOUNT,
        CONTAINER,
        name,
        written,
        &BlobHttpProps::default(),
        &Vec::new(),
        None,
        &Conditions::default(),
    )?;
    Ok(())
}

/// Reads the whole blob and returns its length, so the bytes are really copied out.
fn get_blob(store: &Store, name: &str) -> Result<u64, StoreError> {
    let (_, mut reader) =
        store.read_blob(ACCOUNT, CONTAINER, name, None, &Conditions::default(), None)?;
    let mut total = 0u64;
    while let Some(chunk) = reader.read_chunk(1024 * 1024)? {
        total += chunk.len() as u64;
    }
    Ok(total)
}

fn blobs(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_blob");
    for (kind, store, _dir) in stores() {
        for (label, size) in [("4KiB", 4 * 1024), ("4MiB", 4 * 1024 * 1024)] {
            let data = payload(size);
            group.throughput(Throughput::Bytes(size as u64));
            let mut counter = 0u64;
            group.bench_function(BenchmarkId::new(format!("put_{label}"), kind), |b| {
                b.iter(|| {
                    counter += 1;
                    // A new name each time: an overwrite would also measure freeing the old bytes.
                    put_blob(&store, &format!("put-{label}-{counter}"), &data).expect("put blob")
                })
            });
            let name = format!("get-{label}");
            put_blob(&store, &name, &data).expect("put blob");
            assert_eq!(get_blob(&store, &name).expect("get blob"), size as u64);
            group.bench_function(BenchmarkId::new(format!("get_{label}"), kind), |b| {
                b.iter(|| get_blob(&store, black_box(&name)).expect("get blob"))
            });
        }
    }
    group.finish();
}

fn entities(c: &mut Criterion) {
    let parsed = lapis_odata::parse_entity(ENTITY_JSON.as_bytes()).expect("fixture parses");
    let properties = lapis_odata::encode_properties(&parsed.properties);
    let merge: Arc<MergeFn> = Arc::new(|_old: &[u8], new: &[u8]| Ok(new.to_vec()));
    let mut group = c.benchmark_group("store_entity");
    for (kind, store, _dir) in stores() {
        let mut counter = 0u64;
        group.bench_function(BenchmarkId::new("insert", kind), |b| {
            b.iter(|| {
                counter += 1;
                let op = EntityOp {
                    partition_key: format!("p{}", counter % 16),
                    row_key: format!("r{counter:09}"),
                    kind: EntityOpKind::Write {
                        write: EntityWrite::Insert,
                        properties: properties.clone(),
                    },
                };
                store
                    .write_entity(ACCOUNT, TABLE, op, &merge)
                    .expect("insert entity")
            })
        });
        let (pk, rk) = ("p1", format!("r{:09}", 1));
        let got = store
            .get_entity(ACCOUNT, TABLE, pk, &rk)
            .expect("inserted entity");
        assert_eq!(got.properties, properties);
        group.bench_function(BenchmarkId::new("point_get", kind), |b| {
            b.iter(|| {
                store
                    .get_entity(ACCOUNT, TABLE, black_box(pk), &rk)
                    .expect("get entity")
            })
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = quick_criterion(); targets = blobs, entities }
criterion_main!(benches);
