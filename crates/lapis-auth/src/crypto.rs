//! HMAC-SHA256 signing and constant-time verification, shared by Shared Key and SAS.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

fn mac(key: &[u8], string_to_sign: &str) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(string_to_sign.as_bytes());
    mac.finalize().into_bytes().into()
}

/// base64(HMAC-SHA256(key, utf8(string_to_sign))).
pub(crate) fn sign(key: &[u8], string_to_sign: &str) -> String {
    STANDARD.encode(mac(key, string_to_sign))
}

/// True when `presented` (base64) is the signature of one of `strings_to_sign` under one of `keys`.
pub(crate) fn signature_matches(
    presented: &str,
    keys: &[Vec<u8>],
    strings_to_sign: &[String],
) -> bool {
    let Ok(presented) = STANDARD.decode(presented.trim()) else {
        return false;
    };
    if presented.len() != 32 {
        return false;
    }
    strings_to_sign.iter().any(|sts| {
        keys.iter()
            .any(|key| bool::from(mac(key, sts).ct_eq(presented.as_slice())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let got: String = mac(b"Jefe", "what do ya want for nothing?")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn matches_any_key_and_any_candidate() {
        let keys = vec![b"first".to_vec(), b"second".to_vec()];
        let sig = sign(b"second", "b");
        assert!(signature_matches(&sig, &keys, &["a".into(), "b".into()]));
        assert!(!signature_matches(&sig, &keys, &["a".into()]));
        assert!(!signature_matches(&sig, &keys[..1], &["b".into()]));
        assert!(!signature_matches("not base64!", &keys, &["b".into()]));
        assert!(!signature_matches("", &keys, &["b".into()]));
    }
}
