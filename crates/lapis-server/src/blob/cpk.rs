//! Customer-provided keys on the wire: `x-ms-encryption-key` (base64 AES-256 key),
//! `x-ms-encryption-key-sha256` (its base64 SHA-256) and `x-ms-encryption-algorithm` (`AES256`).
//! The engine encrypts and checks; this reads the headers and answers with the key's hash.
//!
//! Azure takes these only over HTTPS; Lapis serves plain HTTP as well and accepts them there
//! (docs/api-coverage.md).

use base64::Engine;
use lapis_store::CustomerKey;
use lapis_wire::{AzureError, ErrorCode};

use super::Reply;
use crate::error::ApiResult;
use crate::request::Headers;

const KEY: &str = "x-ms-encryption-key";
const KEY_SHA256: &str = "x-ms-encryption-key-sha256";
const ALGORITHM: &str = "x-ms-encryption-algorithm";

/// Whether the operation writes content or metadata (the algorithm is then required) or reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    Write,
    Read,
}

fn missing(name: &str) -> AzureError {
    AzureError::new(ErrorCode::MissingRequiredHeader).detail("HeaderName", name)
}

/// The request's customer-provided key, if it brings one. `x-ms-encryption-algorithm: AES256`
/// alone is accepted (older SDKs send it on every request).
pub fn customer_key(headers: &Headers, key_use: KeyUse) -> ApiResult<Option<CustomerKey>> {
    let (key, sha256) = match (headers.get(KEY), headers.get(KEY_SHA256)) {
        (None, None) => {
            return match headers.get(ALGORITHM) {
                None | Some("AES256") => Ok(None),
                Some(other) => Err(Headers::invalid(ALGORITHM, other).into()),
            }
        }
        (Some(_), None) => return Err(missing(KEY_SHA256).into()),
        (None, Some(_)) => return Err(missing(KEY).into()),
        (Some(key), Some(sha256)) => (key, sha256),
    };
    match headers.get(ALGORITHM) {
        Some("AES256") => {}
        None if key_use == KeyUse::Read => {}
        None => return Err(missing(ALGORITHM).into()),
        Some(other) => return Err(Headers::invalid(ALGORITHM, other).into()),
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes: [u8; 32] = b64
        .decode(key.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| Headers::invalid(KEY, key))?;
    let key = CustomerKey::new(bytes);
    if b64.decode(sha256.trim()).ok().as_deref() != Some(key.sha256().as_slice()) {
        return Err(Headers::invalid(KEY_SHA256, sha256).into());
    }
    Ok(Some(key))
}

/// Answers carry the hash of the key the content is encrypted with.
pub fn with_key_hash(reply: Reply, sha256: Option<&[u8; 32]>) -> Reply {
    match sha256 {
        Some(hash) => reply.base64(KEY_SHA256, hash),
        None => reply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "MDEyMzQ1NjcwMTIzNDU2NzAxMjM0NTY3MDEyMzQ1Njc=";
    const SHA_B64: &str = "3QFFFpRA5+XANHqwwbT4yXDmrT/2JaLt/FKHjzhOdoE=";

    fn parse(pairs: &[(&'static str, &'static str)], key_use: KeyUse) -> Result<bool, ErrorCode> {
        let mut req = http::Request::new(());
        for (k, v) in pairs {
            req.headers_mut()
                .insert(*k, http::HeaderValue::from_static(v));
        }
        customer_key(&Headers::of(&req), key_use)
            .map(|k| k.is_some())
            .map_err(|e| e.0.code)
    }

    #[test]
    fn the_recorded_key_and_hash_agree() {
        let full = [(KEY, KEY_B64), (KEY_SHA256, SHA_B64), (ALGORITHM, "AES256")];
        assert_eq!(parse(&full, KeyUse::Write), Ok(true));
        assert_eq!(parse(&full[..2], KeyUse::Read), Ok(true));
        assert_eq!(parse(&[(ALGORITHM, "AES256")], KeyUse::Write), Ok(false));
        assert_eq!(parse(&[], KeyUse::Write), Ok(false));
    }

    #[test]
    fn bad_keys_are_azure_errors() {
        use ErrorCode::*;
        for (pairs, key_use, code) in [
            (
                vec![
                    (KEY, "mumbojumbo"),
                    (KEY_SHA256, "mumbojumbohash"),
                    (ALGORITHM, "AES256"),
                ],
                KeyUse::Write,
                InvalidHeaderValue,
            ),
            (
                vec![(KEY, KEY_B64), (KEY_SHA256, KEY_B64), (ALGORITHM, "AES256")],
                KeyUse::Write,
                InvalidHeaderValue,
            ),
            (
                vec![(KEY, "AAAA"), (KEY_SHA256, SHA_B64), (ALGORITHM, "AES256")],
                KeyUse::Write,
                InvalidHeaderValue,
            ),
            (
                vec![(KEY, KEY_B64), (KEY_SHA256, SHA_B64)],
                KeyUse::Write,
                MissingRequiredHeader,
            ),
            (
                vec![(KEY, KEY_B64), (KEY_SHA256, SHA_B64), (ALGORITHM, "AES128")],
                KeyUse::Read,
                InvalidHeaderValue,
            ),
            (vec![(KEY, KEY_B64)], KeyUse::Read, MissingRequiredHeader),
            (
                vec![(KEY_SHA256, SHA_B64)],
                KeyUse::Read,
                MissingRequiredHeader,
            ),
        ] {
            assert_eq!(parse(&pairs, key_use), Err(code), "{pairs:?}");
        }
    }
}
