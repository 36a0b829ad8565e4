//! Shared fixtures: every test runs against both the disk and the memory engine.
#![allow(dead_code)]

use lapis_store::*;

pub const ACCOUNT: &str = "devstoreaccount1";

/// Metadata from name/value pairs.
pub fn md(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub struct Fixture {
    pub store: Store,
    pub dir: Option<tempfile::TempDir>,
}

impl Fixture {
    pub fn disk(opts: StoreOptions) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        Fixture {
            store: Store::open_with(dir.path(), opts).unwrap(),
            dir: Some(dir),
        }
    }
    pub fn memory(opts: StoreOptions) -> Fixture {
        Fixture {
            store: Store::in_memory_with(opts).unwrap(),
            dir: None,
        }
    }
}

/// Runs `test` on a disk store and on a memory store.
pub fn both(opts: StoreOptions, test: impl Fn(&Store)) {
    for fx in [Fixture::disk(opts.clone()), Fixture::memory(opts)] {
        test(&fx.store);
        assert_eq!(fx.store.integrity_check().unwrap(), "ok");
        fx.store.close().unwrap();
    }
}

pub fn no_cond() -> Conditions {
    Conditions::default()
}

pub fn write(store: &Store, data: &[u8]) -> WrittenData {
    let mut w = store.blob_writer().unwrap();
    for piece in data.chunks(7_777) {
        w.write(piece).unwrap();
    }
    w.finish().unwrap()
}

pub fn container(store: &Store, name: &str) {
    store
        .create_container(ACCOUNT, name, &Vec::new(), PublicAccess::None)
        .unwrap();
}

pub fn put(store: &Store, c: &str, b: &str, data: &[u8]) -> BlobProps {
    store
        .put_blob(
            ACCOUNT,
            c,
            b,
            write(store, data),
            &BlobHttpProps::default(),
            &Vec::new(),
            None,
            &no_cond(),
        )
        .unwrap()
}

pub fn drain(mut r: BlobReader) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = r.read_chunk(64 * 1024).unwrap() {
        out.extend_from_slice(&chunk);
    }
    assert_eq!(r.remaining(), 0);
    out
}

pub fn read(store: &Store, c: &str, b: &str, range: Option<ByteRange>) -> Result<Vec<u8>> {
    store
        .read_blob(ACCOUNT, c, b, range, &no_cond(), None)
        .map(|(_, r)| drain(r))
}

/// Deterministic, non-repeating-looking bytes.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
