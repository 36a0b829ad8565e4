//! Customer-provided keys: a blob written with one has its bytes encrypted at rest with
//! AES-256 in counter mode under that key, and only the key's SHA-256 is stored. Every read and
//! write of the blob's content or metadata must bring the same key.
//!
//! Counter mode because reads are random access (ranges, streaming): any byte can be decrypted
//! on its own, from its position in the keystream. Each upload draws a random IV, so no two
//! uploads under one key share keystream; a stored chunk records its IV and the keystream
//! position of its first byte, which stay true when the chunk is committed into a blob or moved
//! by compaction.

use std::fmt;

use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// An AES-256 key from a request. Kept only as long as the request; never stored or logged.
#[derive(Clone)]
pub struct CustomerKey {
    key: [u8; 32],
    sha256: [u8; 32],
}

// The key must never reach a log line.
impl fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerKey").finish_non_exhaustive()
    }
}

impl CustomerKey {
    pub fn new(key: [u8; 32]) -> CustomerKey {
        CustomerKey {
            sha256: Sha256::digest(key).into(),
            key,
        }
    }

    /// The key's SHA-256: what the blob keeps to recognise the key.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// XORs `buf` with the keystream of `iv` from byte `position` on: encrypts or decrypts.
    pub(crate) fn apply(&self, iv: &[u8; 16], position: u64, buf: &mut [u8]) {
        let mut cipher = Aes256Ctr::new(&self.key.into(), iv.into());
        cipher.seek(position);
        cipher.apply_keystream(buf);
    }
}

/// A fresh random IV for one upload.
pub(crate) fn new_iv() -> Result<[u8; 16]> {
    let mut iv = [0u8; 16];
    getrandom::fill(&mut iv)
        .map_err(|e| StoreError::Internal(format!("no randomness for an IV: {e}")))?;
    Ok(iv)
}

/// Whether a request's key opens a blob stored with `stored` (the SHA-256 of its key, if any).
pub(crate) fn check_key(stored: Option<&[u8; 32]>, given: Option<&CustomerKey>) -> Result<()> {
    match (stored, given) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(StoreError::CustomerKeyRequired),
        (None, Some(_)) => Err(StoreError::CustomerKeyNotUsed),
        (Some(stored), Some(key)) if *stored == key.sha256 => Ok(()),
        (Some(_), Some(_)) => Err(StoreError::CustomerKeyMismatch),
    }
}

/// Reads a stored SHA-256 column.
pub(crate) fn sha256_from_column(value: Option<Vec<u8>>) -> Result<Option<[u8; 32]>> {
    value
        .map(|v| {
            <[u8; 32]>::try_from(v.as_slice())
                .map_err(|_| StoreError::Internal("a stored key hash is not 32 bytes".into()))
        })
        .transpose()
}

/// Reads a stored IV column.
pub(crate) fn iv_from_column(value: Option<Vec<u8>>) -> Result<Option<[u8; 16]>> {
    value
        .map(|v| {
            <[u8; 16]>::try_from(v.as_slice())
                .map_err(|_| StoreError::Internal("a stored IV is not 16 bytes".into()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_range_decrypts_on_its_own() {
        let key = CustomerKey::new([7; 32]);
        let iv = [3; 16];
        let plain: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut sealed = plain.clone();
        key.apply(&iv, 0, &mut sealed);
        assert_ne!(sealed, plain);
        for (from, to) in [(0, 1000), (1, 2), (15, 17), (16, 32), (333, 999)] {
            let mut part = sealed[from..to].to_vec();
            key.apply(&iv, from as u64, &mut part);
            assert_eq!(part, &plain[from..to], "{from}..{to}");
        }
        let mut wrong = sealed[..16].to_vec();
        CustomerKey::new([8; 32]).apply(&iv, 0, &mut wrong);
        assert_ne!(wrong, &plain[..16]);
    }

    #[test]
    fn keys_are_recognised_by_their_hash() {
        let key = CustomerKey::new([1; 32]);
        let other = CustomerKey::new([2; 32]);
        assert!(check_key(None, None).is_ok());
        assert!(check_key(Some(&key.sha256()), Some(&key)).is_ok());
        assert!(matches!(
            check_key(Some(&key.sha256()), None),
            Err(StoreError::CustomerKeyRequired)
        ));
        assert!(matches!(
            check_key(None, Some(&key)),
            Err(StoreError::CustomerKeyNotUsed)
        ));
        assert!(matches!(
            check_key(Some(&key.sha256()), Some(&other)),
            Err(StoreError::CustomerKeyMismatch)
        ));
        assert!(!format!("{key:?}").contains('1'));
    }
}
