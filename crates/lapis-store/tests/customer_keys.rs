//! Customer-provided keys: content written under a key is stored encrypted (the plaintext is in
//! no file), reads with the key return it whole or by any range, through commits of blocks, GC
//! compaction and a reopen; without the key, or with another, nothing is read or changed.
//! And access tiers given on upload.

mod support;

use std::path::Path;
use std::time::Duration;

use lapis_store::*;
use support::*;

fn key(byte: u8) -> CustomerKey {
    CustomerKey::new([byte; 32])
}

fn write_with(store: &Store, data: &[u8], key: &CustomerKey) -> WrittenData {
    let mut w = store.blob_writer().unwrap().encrypt_with(key).unwrap();
    for piece in data.chunks(7_777) {
        w.write(piece).unwrap();
    }
    w.finish().unwrap()
}

fn put_with(store: &Store, blob: &str, data: &[u8], key: &CustomerKey) -> BlobProps {
    store
        .put_blob(
            ACCOUNT,
            "c",
            blob,
            write_with(store, data, key),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &no_cond(),
        )
        .unwrap()
}

fn read_with(
    store: &Store,
    blob: &str,
    range: Option<ByteRange>,
    key: Option<&CustomerKey>,
) -> Result<Vec<u8>> {
    store
        .read_blob(ACCOUNT, "c", blob, range, &no_cond(), key)
        .map(|(_, r)| drain(r))
}

fn range(start: u64, end: u64) -> Option<ByteRange> {
    Some(ByteRange {
        start,
        end: Some(end),
    })
}

/// Whether any file under `dir` holds `needle`.
fn any_file_contains(dir: &Path, needle: &[u8]) -> bool {
    let mut found = false;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found |= any_file_contains(&path, needle);
        } else if let Ok(bytes) = std::fs::read(&path) {
            found |= bytes.windows(needle.len()).any(|w| w == needle);
        }
    }
    found
}

fn assert_refused(result: Result<Vec<u8>>, expected: fn(&StoreError) -> bool) {
    match result {
        Err(e) if expected(&e) => {}
        other => panic!("expected a key error, got {:?}", other.map(|v| v.len())),
    }
}

#[test]
fn content_under_a_key_reads_back_only_with_that_key() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let k = key(1);
        for (blob, len) in [("inline", 1_000usize), ("extent", 300_000)] {
            let data = pattern(len, len as u64);
            let props = if len <= INLINE_BLOB_MAX {
                s.put_blob_inline(
                    ACCOUNT,
                    "c",
                    blob,
                    bytes::Bytes::from(data.clone()),
                    &BlobHttpProps::default(),
                    &Vec::new(),
                    None,
                    &no_cond(),
                    Some(&k),
                )
                .unwrap()
            } else {
                put_with(s, blob, &data, &k)
            };
            assert_eq!(props.cpk_sha256, Some(k.sha256()));
            // Checksums are those of the bytes as sent.
            assert_eq!(
                props.http.content_md5.as_deref(),
                Some(md5(&data).as_slice())
            );
            assert_eq!(read_with(s, blob, None, Some(&k)).unwrap(), data);
            for (from, to) in [(0, 0), (1, 16), (15, 33), (999, 999), (7_776, 7_790)] {
                if (to as usize) < len {
                    assert_eq!(
                        read_with(s, blob, range(from, to), Some(&k)).unwrap(),
                        &data[from as usize..=to as usize],
                        "{blob} {from}-{to}"
                    );
                }
            }
            assert_refused(read_with(s, blob, None, None), |e| {
                matches!(e, StoreError::CustomerKeyRequired)
            });
            assert_refused(read_with(s, blob, None, Some(&key(2))), |e| {
                matches!(e, StoreError::CustomerKeyMismatch)
            });
            let props =
                |key| s.get_blob_properties(ACCOUNT, "c", blob, &no_cond(), Access::Read, key);
            assert!(props(Some(&k)).is_ok());
            assert!(matches!(props(None), Err(StoreError::CustomerKeyRequired)));
            assert!(matches!(
                props(Some(&key(2))),
                Err(StoreError::CustomerKeyMismatch)
            ));
            // Metadata is written with the key only.
            let meta = md(&[("a", "b")]);
            assert!(matches!(
                s.set_blob_metadata(ACCOUNT, "c", blob, &meta, &no_cond(), None),
                Err(StoreError::CustomerKeyRequired)
            ));
            s.set_blob_metadata(ACCOUNT, "c", blob, &meta, &no_cond(), Some(&k))
                .unwrap();
        }
        // A blob without a key is not opened with one.
        put(s, "c", "plain", b"plain bytes");
        assert_refused(read_with(s, "plain", None, Some(&k)), |e| {
            matches!(e, StoreError::CustomerKeyNotUsed)
        });
        assert_eq!(read_with(s, "plain", None, None).unwrap(), b"plain bytes");
    });
}

#[test]
fn plaintext_never_reaches_the_disk() {
    let fx = Fixture::disk(StoreOptions::default());
    let s = &fx.store;
    container(s, "c");
    let secret = b"THE-SECRET-PAYLOAD-0123456789".repeat(5_000);
    let k = key(3);
    put_with(s, "big", &secret, &k);
    s.put_blob_inline(
        ACCOUNT,
        "c",
        "small",
        bytes::Bytes::from_static(b"THE-SMALL-SECRET-PAYLOAD"),
        &BlobHttpProps::default(),
        &Vec::new(),
        None,
        &no_cond(),
        Some(&k),
    )
    .unwrap();
    s.close().unwrap();
    let dir = fx.dir.as_ref().unwrap().path();
    assert!(!any_file_contains(dir, b"THE-SECRET-PAYLOAD"));
    assert!(!any_file_contains(dir, b"THE-SMALL-SECRET"));
    // The key is not on disk either, only its hash.
    assert!(!any_file_contains(dir, &[3u8; 32]));
    let reopened = Store::open(dir).unwrap();
    assert_eq!(
        reopened
            .read_blob(ACCOUNT, "c", "big", None, &no_cond(), Some(&k))
            .map(|(_, r)| drain(r))
            .unwrap(),
        secret
    );
    reopened.close().unwrap();
}

#[test]
fn blocks_commit_under_the_key_they_were_written_with() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let k = key(4);
        let parts: Vec<Vec<u8>> = (0..3).map(|i| pattern(20_000 + i * 7, i as u64)).collect();
        for (i, p) in parts.iter().enumerate() {
            s.put_block(ACCOUNT, "c", "b", &format!("AAA{i}"), write_with(s, p, &k))
                .unwrap();
        }
        let list: Vec<(BlockSource, String)> = (0..3)
            .rev()
            .map(|i| (BlockSource::Latest, format!("AAA{i}")))
            .collect();
        let commit = |key: Option<&CustomerKey>| {
            s.put_block_list(
                ACCOUNT,
                "c",
                "b",
                &list,
                &BlobHttpProps::default(),
                &Vec::new(),
                None,
                &no_cond(),
                key,
            )
        };
        assert!(matches!(commit(None), Err(StoreError::CustomerKeyRequired)));
        assert!(matches!(
            commit(Some(&key(5))),
            Err(StoreError::CustomerKeyMismatch)
        ));
        let props = commit(Some(&k)).unwrap();
        assert_eq!(props.cpk_sha256, Some(k.sha256()));
        let whole: Vec<u8> = parts.iter().rev().flatten().copied().collect();
        assert_eq!(read_with(s, "b", None, Some(&k)).unwrap(), whole);
        // A range across block boundaries (each block has its own IV).
        let mid = parts[2].len() as u64;
        assert_eq!(
            read_with(s, "b", range(mid - 5, mid + 5), Some(&k)).unwrap(),
            &whole[mid as usize - 5..=mid as usize + 5]
        );
        // Recommitting the committed blocks keeps them readable.
        let again: Vec<(BlockSource, String)> = vec![(BlockSource::Committed, "AAA0".to_string())];
        s.put_block_list(
            ACCOUNT,
            "c",
            "b",
            &again,
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &no_cond(),
            Some(&k),
        )
        .unwrap();
        assert_eq!(read_with(s, "b", None, Some(&k)).unwrap(), parts[0]);
        // A block without a key cannot join a commit under one.
        s.put_block(ACCOUNT, "c", "m", "AAAA", write(s, b"plain"))
            .unwrap();
        let one = vec![(BlockSource::Latest, "AAAA".to_string())];
        assert!(matches!(
            s.put_block_list(
                ACCOUNT,
                "c",
                "m",
                &one,
                &BlobHttpProps::default(),
                &Vec::new(),
                None,
                &no_cond(),
                Some(&k)
            ),
            Err(StoreError::CustomerKeyNotUsed)
        ));
    });
}

#[test]
fn compaction_keeps_encrypted_blobs_readable() {
    let opts = StoreOptions {
        extent_target_size: 64 * 1024,
        gc_interval: Duration::from_secs(3600),
        ..Default::default()
    };
    both(opts, |s| {
        container(s, "c");
        let k = key(6);
        let blobs: Vec<Vec<u8>> = (0..10).map(|i| pattern(10_000 + i, i as u64)).collect();
        for (i, b) in blobs.iter().enumerate() {
            put_with(s, &format!("b{i}"), b, &k);
        }
        for i in (0..10).filter(|i| i % 4 != 0) {
            s.delete_blob(ACCOUNT, "c", &format!("b{i}"), &no_cond())
                .unwrap();
        }
        let gc = s.collect_garbage().unwrap();
        assert!(gc.extents_compacted >= 1, "{gc:?}");
        for i in [0usize, 4, 8] {
            assert_eq!(
                read_with(s, &format!("b{i}"), None, Some(&k)).unwrap(),
                blobs[i]
            );
            assert_eq!(
                read_with(s, &format!("b{i}"), range(3, 40), Some(&k)).unwrap(),
                &blobs[i][3..=40]
            );
        }
    });
}

#[test]
fn a_tier_given_on_upload_is_kept_until_the_next_upload() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let props = s
            .put_blob(
                ACCOUNT,
                "c",
                "t",
                write(s, b"x"),
                &BlobHttpProps::default(),
                &Vec::new(),
                Some(AccessTier::Cool),
                &no_cond(),
            )
            .unwrap();
        assert_eq!(props.access_tier.map(|(t, _)| t), Some(AccessTier::Cool));
        let read = || {
            s.get_blob_properties(ACCOUNT, "c", "t", &no_cond(), Access::Read, None)
                .unwrap()
        };
        assert_eq!(read().access_tier, props.access_tier);
        s.set_blob_metadata(ACCOUNT, "c", "t", &md(&[("a", "b")]), &no_cond(), None)
            .unwrap();
        assert_eq!(read().access_tier, props.access_tier);
        put(s, "c", "t", b"y");
        assert_eq!(read().access_tier, None);
    });
}

fn md5(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}
