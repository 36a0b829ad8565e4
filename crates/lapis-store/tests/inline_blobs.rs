//! Small blobs stored inline in SQLite (`put_blob_inline`): they must behave exactly like blobs
//! whose bytes live in extents.

mod support;

use bytes::Bytes;
use lapis_store::*;
use md5::{Digest, Md5};
use support::*;

fn put_inline(s: &Store, c: &str, b: &str, data: &[u8]) -> BlobProps {
    put_inline_if(s, c, b, data, &no_cond()).unwrap()
}

fn put_inline_if(s: &Store, c: &str, b: &str, data: &[u8], cond: &Conditions) -> Result<BlobProps> {
    s.put_blob_inline(
        ACCOUNT,
        c,
        b,
        Bytes::copy_from_slice(data),
        &BlobHttpProps::default(),
        &Vec::new(),
        None,
        cond,
        None,
    )
}

fn range(start: u64, end: Option<u64>) -> Option<ByteRange> {
    Some(ByteRange { start, end })
}

fn crc64(data: &[u8]) -> u64 {
    let mut d = crc64fast_nvme::Digest::new();
    d.write(data);
    d.sum64()
}

fn listed_size(s: &Store, c: &str, b: &str) -> Option<u64> {
    let page = s
        .list_blobs(
            ACCOUNT,
            c,
            &ListBlobsQuery {
                max_results: 100,
                ..Default::default()
            },
        )
        .unwrap();
    page.items.into_iter().find_map(|item| match item {
        ListBlobsItem::Blob(p) if p.name == b => Some(p.size),
        _ => None,
    })
}

fn extent_bytes(s: &Store) -> u64 {
    // Inline blobs never touch extents: the extent byte count tells where the bytes went.
    s.stats().unwrap().extent_bytes
}

#[test]
fn round_trip_whole_and_ranged() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let data = pattern(50_000, 1);
        let p = put_inline(s, "c", "b", &data);
        assert_eq!(p.size, 50_000);
        assert_eq!(p.http.content_md5, Some(Md5::digest(&data).to_vec()));
        assert_eq!(p.content_crc64, Some(crc64(&data)));
        assert_eq!(extent_bytes(s), 0, "inline bytes must not go to extents");

        assert_eq!(read(s, "c", "b", None).unwrap(), data);
        assert_eq!(
            read(s, "c", "b", range(100, Some(199))).unwrap(),
            &data[100..200]
        );
        assert_eq!(
            read(s, "c", "b", range(49_999, None)).unwrap(),
            &data[49_999..]
        );
        assert_eq!(
            read(s, "c", "b", range(40_000, Some(1_000_000))).unwrap(),
            &data[40_000..]
        );
        assert!(matches!(
            read(s, "c", "b", range(50_000, None)),
            Err(StoreError::InvalidRange)
        ));

        // Small read chunks split the in-memory bytes without losing any.
        let (props, mut r) = s
            .read_blob(ACCOUNT, "c", "b", range(10, Some(10_009)), &no_cond(), None)
            .unwrap();
        assert_eq!(props.etag, p.etag);
        assert_eq!(r.remaining(), 10_000);
        let mut got = Vec::new();
        while let Some(chunk) = r.read_chunk(333).unwrap() {
            assert!(chunk.len() <= 333);
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, &data[10..10_010]);

        assert_eq!(listed_size(s, "c", "b"), Some(50_000));
        let stats = s.stats().unwrap();
        assert_eq!((stats.blobs, stats.blob_bytes), (1, 50_000));
        let got = s
            .get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(got, p);
    });
}

#[test]
fn empty_blob() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let p = put_inline(s, "c", "e", b"");
        assert_eq!(p.size, 0);
        assert_eq!(p.http.content_md5, Some(Md5::digest(b"").to_vec()));
        assert_eq!(read(s, "c", "e", None).unwrap(), b"");
        assert!(matches!(
            read(s, "c", "e", range(0, None)),
            Err(StoreError::InvalidRange)
        ));
        assert_eq!(listed_size(s, "c", "e"), Some(0));
    });
}

#[test]
fn larger_than_inline_max_goes_to_extents() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let data = pattern(INLINE_BLOB_MAX + 1, 2);
        let p = put_inline(s, "c", "big", &data);
        assert_eq!(p.size, data.len() as u64);
        assert!(extent_bytes(s) >= data.len() as u64);
        assert_eq!(read(s, "c", "big", None).unwrap(), data);

        let exact = pattern(INLINE_BLOB_MAX, 3);
        let before = extent_bytes(s);
        put_inline(s, "c", "max", &exact);
        assert_eq!(
            extent_bytes(s),
            before,
            "a body of exactly the max stays inline"
        );
        assert_eq!(read(s, "c", "max", None).unwrap(), exact);
    });
}

#[test]
fn overwrite_inline_extent_inline() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let first = put_inline(s, "c", "b", b"inline one");
        let extent_data = pattern(30_000, 4);
        let second = put(s, "c", "b", &extent_data);
        assert_eq!(second.created, first.created);
        assert_ne!(second.etag, first.etag);
        assert_eq!(read(s, "c", "b", None).unwrap(), extent_data);
        assert_eq!(
            read(s, "c", "b", range(5, Some(9))).unwrap(),
            &extent_data[5..10]
        );

        let third = put_inline(s, "c", "b", b"inline two!");
        assert_eq!(third.created, first.created);
        assert_eq!(read(s, "c", "b", None).unwrap(), b"inline two!");
        assert_eq!(listed_size(s, "c", "b"), Some(11));
        assert_eq!(s.stats().unwrap().blob_bytes, 11);

        // The overwritten extent bytes are garbage now.
        s.collect_garbage().unwrap();
        assert_eq!(read(s, "c", "b", None).unwrap(), b"inline two!");
    });
}

#[test]
fn put_block_list_replaces_inline_content() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let first = put_inline(s, "c", "b", b"old inline bytes");
        let block = pattern(1_000, 5);
        s.put_block(ACCOUNT, "c", "b", "AAAA", write(s, &block))
            .unwrap();
        // Staging a block leaves the committed inline content readable.
        assert_eq!(read(s, "c", "b", None).unwrap(), b"old inline bytes");
        let p = s
            .put_block_list(
                ACCOUNT,
                "c",
                "b",
                &[(BlockSource::Latest, "AAAA".to_string())],
                &BlobHttpProps::default(),
                &Vec::new(),
                None,
                &no_cond(),
                None,
            )
            .unwrap();
        assert_eq!(p.size, 1_000);
        assert_eq!(p.created, first.created);
        assert_eq!(read(s, "c", "b", None).unwrap(), block);
        assert_eq!(read(s, "c", "b", range(990, None)).unwrap(), &block[990..]);

        // And an inline put over the block blob drops its committed blocks.
        put_inline(s, "c", "b", b"back inline");
        assert_eq!(read(s, "c", "b", None).unwrap(), b"back inline");
        let lists = s
            .get_block_list(ACCOUNT, "c", "b", BlockListFilter::All)
            .unwrap();
        assert!(lists.committed.is_empty() && lists.uncommitted.is_empty());
    });
}

#[test]
fn inline_put_discards_uncommitted_blocks() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        s.put_block(ACCOUNT, "c", "b", "AAAA", write(s, b"staged"))
            .unwrap();
        put_inline(s, "c", "b", b"direct");
        let lists = s
            .get_block_list(ACCOUNT, "c", "b", BlockListFilter::All)
            .unwrap();
        assert!(lists.uncommitted.is_empty());
        assert_eq!(read(s, "c", "b", None).unwrap(), b"direct");
    });
}

#[test]
fn delete_blob_and_container() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put_inline(s, "c", "b", b"bytes");
        s.delete_blob(ACCOUNT, "c", "b", &no_cond()).unwrap();
        assert!(matches!(
            read(s, "c", "b", None),
            Err(StoreError::BlobNotFound)
        ));
        // A new blob of the same name does not see stale inline bytes.
        put(s, "c", "b", b"fresh");
        assert_eq!(read(s, "c", "b", None).unwrap(), b"fresh");

        put_inline(s, "c", "x", b"in container");
        s.delete_container(ACCOUNT, "c", &no_cond()).unwrap();
        container(s, "c");
        assert!(matches!(
            read(s, "c", "x", None),
            Err(StoreError::BlobNotFound)
        ));
        assert_eq!(listed_size(s, "c", "x"), None);
        assert_eq!(s.stats().unwrap().blob_bytes, 0);
    });
}

#[test]
fn conditions() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let none_match_any = Conditions {
            if_none_match: Some(EtagCondition::Any),
            ..Default::default()
        };
        let p = put_inline_if(s, "c", "b", b"one", &none_match_any).unwrap();
        assert!(matches!(
            put_inline_if(s, "c", "b", b"two", &none_match_any),
            Err(StoreError::ConditionNotMet)
        ));
        let matching = Conditions {
            if_match: Some(EtagCondition::Tags(vec![p.etag.clone()])),
            ..Default::default()
        };
        let p2 = put_inline_if(s, "c", "b", b"two", &matching).unwrap();
        // The old ETag no longer matches.
        assert!(matches!(
            put_inline_if(s, "c", "b", b"three", &matching),
            Err(StoreError::ConditionNotMet)
        ));
        assert_eq!(read(s, "c", "b", None).unwrap(), b"two");
        assert_ne!(p2.etag, p.etag);
        assert!(matches!(
            put_inline_if(s, "nope", "b", b"x", &no_cond()),
            Err(StoreError::ContainerNotFound)
        ));
    });
}

#[test]
fn reopen_keeps_inline_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(20_000, 6);
    let props = {
        let s = Store::open(dir.path()).unwrap();
        container(&s, "c");
        let p = put_inline(&s, "c", "b", &data);
        s.close().unwrap();
        p
    };
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(read(&s, "c", "b", None).unwrap(), data);
    let got = s
        .get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None)
        .unwrap();
    assert_eq!(got, props);
    assert_eq!(s.stats().unwrap().extents, 0);
    assert_eq!(s.integrity_check().unwrap(), "ok");
    s.close().unwrap();
}

#[test]
fn concurrent_inline_puts_and_reads() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        std::thread::scope(|scope| {
            for t in 0..16u64 {
                scope.spawn(move || {
                    for i in 0..20u64 {
                        let name = format!("t{t}-b{}", i % 5);
                        let data = pattern(((t * 977 + i * 131) % 4_000) as usize + 1, t * 100 + i);
                        put_inline(s, "c", &name, &data);
                        assert_eq!(read(s, "c", &name, None).unwrap(), data);
                    }
                });
            }
        });
        let stats = s.stats().unwrap();
        assert_eq!(stats.blobs, 80);
        assert_eq!(stats.extents, 0);
    });
}
