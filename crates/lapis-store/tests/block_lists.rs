//! Integration tests of the engine's blocks (Put Block, Put Block List, Get Block List) and of
//! which reads find a blob.

mod support;

use lapis_store::*;
use support::*;

fn ids(list: &[BlockInfo]) -> Vec<(&str, u64)> {
    list.iter().map(|b| (b.id.as_str(), b.size)).collect()
}

#[test]
fn block_lists() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let block =
            |id: &str, data: &[u8]| s.put_block(ACCOUNT, "c", "bb", id, write(s, data)).unwrap();
        block("A", b"aaa");
        block("B", b"bb");
        block("A", b"AAAA"); // replaces
                             // Uncommitted only: invisible to get/read/delete, visible to get_block_list.
        assert!(matches!(
            read(s, "c", "bb", None),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            s.delete_blob(ACCOUNT, "c", "bb", &no_cond()),
            Err(StoreError::BlobNotFound)
        ));
        let lists = s
            .get_block_list(ACCOUNT, "c", "bb", BlockListFilter::All)
            .unwrap();
        assert_eq!(ids(&lists.uncommitted), [("B", 2), ("A", 4)]);
        assert!(lists.committed.is_empty() && lists.blob.is_none());

        let list = |entries: &[(BlockSource, &str)]| {
            let entries: Vec<_> = entries.iter().map(|(s, i)| (*s, i.to_string())).collect();
            s.put_block_list(
                ACCOUNT,
                "c",
                "bb",
                &entries,
                &Default::default(),
                &md(&[("m", "1")]),
                None,
                &no_cond(),
                None,
            )
        };
        assert!(matches!(
            list(&[(BlockSource::Committed, "A")]),
            Err(StoreError::InvalidBlockList)
        ));
        assert!(matches!(
            list(&[(BlockSource::Latest, "Z")]),
            Err(StoreError::InvalidBlockList)
        ));
        let p = list(&[
            (BlockSource::Uncommitted, "A"),
            (BlockSource::Latest, "B"),
            (BlockSource::Uncommitted, "A"),
        ])
        .unwrap();
        assert_eq!(
            (
                p.size,
                p.committed_block_count,
                p.content_crc64,
                p.http.content_md5.clone()
            ),
            (10, 3, None, None)
        );
        assert_eq!(read(s, "c", "bb", None).unwrap(), b"AAAAbbAAAA");
        let lists = s
            .get_block_list(ACCOUNT, "c", "bb", BlockListFilter::All)
            .unwrap();
        assert_eq!(ids(&lists.committed), [("A", 4), ("B", 2), ("A", 4)]);
        assert!(
            lists.uncommitted.is_empty(),
            "uncommitted blocks are discarded by a commit"
        );
        assert_eq!(lists.blob.unwrap().etag, p.etag);

        // Latest prefers the uncommitted block; Committed takes the committed one.
        block("B", b"new-b");
        block("C", b"c");
        let p2 = list(&[
            (BlockSource::Latest, "B"),
            (BlockSource::Committed, "A"),
            (BlockSource::Committed, "B"),
        ])
        .unwrap();
        assert_eq!(p2.created, p.created);
        assert_eq!(read(s, "c", "bb", None).unwrap(), b"new-bAAAAbb");
        assert!(s
            .get_block_list(ACCOUNT, "c", "bb", BlockListFilter::Uncommitted)
            .unwrap()
            .uncommitted
            .is_empty());
        assert_eq!(
            ids(&s
                .get_block_list(ACCOUNT, "c", "bb", BlockListFilter::Committed)
                .unwrap()
                .committed),
            [("B", 5), ("A", 4), ("B", 2)]
        );
        assert_eq!(
            read(
                s,
                "c",
                "bb",
                Some(ByteRange {
                    start: 3,
                    end: Some(6)
                })
            )
            .unwrap(),
            b"-bAA"
        );

        // An empty list makes a 0-byte blob.
        let p3 = list(&[]).unwrap();
        assert_eq!(p3.size, 0);
        assert_eq!(read(s, "c", "bb", None).unwrap(), b"");
        // Put Blob drops committed blocks.
        block("X", b"x");
        put(s, "c", "bb", b"whole");
        let lists = s
            .get_block_list(ACCOUNT, "c", "bb", BlockListFilter::All)
            .unwrap();
        assert!(lists.committed.is_empty() && lists.uncommitted.is_empty());
        assert!(matches!(
            s.get_block_list(ACCOUNT, "c", "none", BlockListFilter::All),
            Err(StoreError::BlobNotFound)
        ));
    });
}

#[test]
fn uncommitted_block_ids_of_a_blob_have_one_length() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let block = |id: &str| s.put_block(ACCOUNT, "c", "b", id, write(s, b"x"));
        // "AAAA" is 3 bytes, "AAE=" 2 and "AAAAAA==" 4 before their base64 encoding.
        block("AAAA").unwrap();
        block("BBBB").unwrap();
        assert!(matches!(
            block("AAE="),
            Err(StoreError::BlockIdLengthMismatch)
        ));
        assert!(matches!(
            block("AAAAAA=="),
            Err(StoreError::BlockIdLengthMismatch)
        ));
        // Another blob has its own length.
        s.put_block(ACCOUNT, "c", "other", "AAE=", write(s, b"y"))
            .unwrap();
        // Once committed, a new length starts afresh.
        s.put_block_list(
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
        block("AAAAAA==").unwrap();
    });
}

#[test]
fn a_read_tells_a_missing_container_from_a_missing_blob() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "here", b"data");
        let err = |c: &str, b: &str| read(s, c, b, None).unwrap_err();
        assert!(matches!(err("nope", "here"), StoreError::ContainerNotFound));
        assert!(matches!(err("c", "gone"), StoreError::BlobNotFound));
        // The same container name under another account is not this one.
        assert!(matches!(
            s.read_blob("other", "c", "here", None, &no_cond(), None)
                .map(|_| ()),
            Err(StoreError::ContainerNotFound)
        ));
        // Uncommitted blocks alone do not make a blob readable.
        s.put_block(ACCOUNT, "c", "staged", "id", write(s, b"u"))
            .unwrap();
        assert!(matches!(err("c", "staged"), StoreError::BlobNotFound));
        assert_eq!(read(s, "c", "here", None).unwrap(), b"data");
    });
}
