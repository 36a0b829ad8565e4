//! XML serialisation of a List Blobs page of 1,000 entries (the default page size).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use lapis_benches::quick_criterion;
use lapis_wire::xml::{render_list_blobs, BlobEntry, BlobListItem};

fn list_blobs_1000(c: &mut Criterion) {
    let names: Vec<String> = (0..1000)
        .map(|i| format!("dir{}/blob-{i:06}.bin", i % 10))
        .collect();
    let md5 = [7u8; 16];
    let now = time::OffsetDateTime::now_utc();
    let items: Vec<BlobListItem> = names
        .iter()
        .map(|name| {
            BlobListItem::Blob(BlobEntry {
                name,
                last_modified: now,
                created: now,
                etag: "0x8DA7BAB29755CDA",
                size: 4096,
                content_type: Some("application/octet-stream"),
                content_encoding: None,
                content_language: None,
                content_disposition: None,
                cache_control: None,
                content_md5: Some(&md5),
                blob_type: "BlockBlob",
                metadata: None,
                committed: true,
                access_tier: None,
                customer_key_sha256: None,
                snapshot: None,
                version_id: None,
                is_current_version: false,
                deleted: None,
                lease: Default::default(),
                sequence_number: None,
                copy: None,
                incremental_copy: false,
                sealed: false,
                tag_count: 0,
                tags: None,
                archive_status: None,
                rehydrate_priority: None,
            })
        })
        .collect();
    let render = || {
        render_list_blobs(
            "http://127.0.0.1:10000/devstoreaccount1",
            "bench",
            None,
            None,
            Some(1000),
            None,
            black_box(&items),
            Some("dir9/blob-000999.bin"),
        )
    };
    let body = render();
    assert_eq!(body.matches("<Blob>").count(), 1000);
    let mut group = c.benchmark_group("wire");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("render_list_blobs_1000", |b| b.iter(render));
    group.finish();
}

criterion_group! { name = benches; config = quick_criterion(); targets = list_blobs_1000 }
criterion_main!(benches);
