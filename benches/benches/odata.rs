//! Table entity JSON parse and render, property encoding, and `$filter` parse and evaluation.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use lapis_benches::{quick_criterion, ENTITY_JSON, FILTER};
use lapis_odata::{
    decode_properties, decode_property_refs, encode_properties, parse_entity, parse_filter,
    property_refs, render_entity, render_entity_list, EntityView, Metadata,
};

fn entity_json(c: &mut Criterion) {
    let parsed = parse_entity(ENTITY_JSON.as_bytes()).expect("fixture entity parses");
    assert_eq!(parsed.properties.len(), 9);
    let now = time::OffsetDateTime::now_utc();
    let props = property_refs(&parsed.properties);
    let view = EntityView {
        partition_key: "p07",
        row_key: "r000123",
        timestamp: now,
        properties: &props,
    };
    let encoded = encode_properties(&parsed.properties);
    let base = "http://127.0.0.1:10002/devstoreaccount1";

    let mut group = c.benchmark_group("odata");
    group.bench_function("parse_entity", |b| {
        b.iter(|| parse_entity(black_box(ENTITY_JSON.as_bytes())))
    });
    group.bench_function("render_entity_minimal", |b| {
        b.iter(|| render_entity(base, "bench", black_box(&view), Metadata::Minimal, None))
    });
    group.bench_function("render_entity_full", |b| {
        b.iter(|| render_entity(base, "bench", black_box(&view), Metadata::Full, None))
    });
    group.bench_function("encode_properties", |b| {
        b.iter(|| encode_properties(black_box(&parsed.properties)))
    });
    group.bench_function("decode_properties", |b| {
        b.iter(|| decode_properties(black_box(&encoded)))
    });
    group.bench_function("decode_property_refs", |b| {
        b.iter(|| decode_property_refs(black_box(&encoded)))
    });
    let page: Vec<EntityView> = (0..1000)
        .map(|_| EntityView {
            partition_key: "p07",
            row_key: "r000123",
            timestamp: now,
            properties: &props,
        })
        .collect();
    group.throughput(Throughput::Elements(1000));
    group.bench_function("render_entity_list_1000", |b| {
        b.iter(|| render_entity_list(base, "bench", black_box(&page), Metadata::Minimal, None))
    });
    group.finish();
}

fn filter(c: &mut Criterion) {
    let parsed = parse_entity(ENTITY_JSON.as_bytes()).expect("fixture entity parses");
    let f = parse_filter(FILTER).expect("fixture filter parses");
    let now = time::OffsetDateTime::now_utc();
    assert!(f.matches("p07", "r000123", now, &parsed.properties));
    assert!(!f.matches("p08", "r000123", now, &parsed.properties));

    let mut group = c.benchmark_group("odata");
    group.bench_function("parse_filter", |b| {
        b.iter(|| parse_filter(black_box(FILTER)))
    });
    group.bench_function("filter_matches", |b| {
        b.iter(|| f.matches("p07", black_box("r000123"), now, &parsed.properties))
    });
    // Decode every property, then match: the per-row cost of a query before matches_encoded.
    let encoded = encode_properties(&parsed.properties);
    assert!(f.matches_encoded("p07", "r000123", now, &encoded));
    group.bench_function("decode_and_filter_row", |b| {
        b.iter(|| {
            decode_property_refs(black_box(&encoded))
                .map(|p| f.matches_refs("p07", "r000123", now, &p))
                .unwrap_or(false)
        })
    });
    // What Query Entities runs per row: only the named properties are read from the bytes.
    group.bench_function("filter_encoded_row", |b| {
        b.iter(|| f.matches_encoded("p07", "r000123", now, black_box(&encoded)))
    });
    group.finish();
}

criterion_group! { name = benches; config = quick_criterion(); targets = entity_json, filter }
criterion_main!(benches);
