//! The public keys bearer tokens are verified with: JWKS documents and PEM public keys, as read
//! from the files of the account configuration's `oauth.keys`.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One key a token signature may verify against.
pub(crate) struct VerifyingKey {
    /// The JWKS `kid`; a PEM key has none and is tried for any token of its algorithm.
    pub kid: Option<String>,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// The keys of a JWKS document (`{"keys": [...]}`): RSA keys for RS256, P-256 keys for ES256.
/// Any other key (symmetric, another curve, another `alg`) is refused, so that a configuration
/// never silently drops a key its author meant to trust.
pub(crate) fn from_jwks(json: &str) -> Result<Vec<VerifyingKey>, String> {
    let set: JwkSet =
        serde_json::from_str(json).map_err(|e| format!("not a JWKS document: {e}"))?;
    if set.keys.is_empty() {
        return Err("the JWKS document has no keys".to_string());
    }
    set.keys
        .iter()
        .enumerate()
        .map(|(i, jwk)| {
            let name = jwk
                .common
                .key_id
                .as_deref()
                .map(|kid| format!("key '{kid}'"))
                .unwrap_or_else(|| format!("key {}", i + 1));
            let algorithm = match (&jwk.algorithm, &jwk.common.key_algorithm) {
                (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                    if ec.curve == EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => {
                    return Err(format!(
                        "{name}: only RS256 (RSA) and ES256 (P-256) keys are supported"
                    ))
                }
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("{name}: {e}"))?;
            Ok(VerifyingKey {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            })
        })
        .collect()
}

/// A PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`): RSA for RS256, P-256 for ES256.
pub(crate) fn from_pem(pem: &str) -> Result<VerifyingKey, String> {
    // The library would read a private key's bytes as if they were a public key's.
    if !(pem.contains("-----BEGIN PUBLIC KEY-----")
        || pem.contains("-----BEGIN RSA PUBLIC KEY-----"))
    {
        return Err("not a PEM public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY); certificates and private keys are not read".to_string());
    }
    let bytes = pem.as_bytes();
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
        return Ok(VerifyingKey {
            kid: None,
            algorithm: Algorithm::RS256,
            key,
        });
    }
    match DecodingKey::from_ec_pem(bytes) {
        Ok(key) => Ok(VerifyingKey {
            kid: None,
            algorithm: Algorithm::ES256,
            key,
        }),
        Err(e) => Err(format!(
            "not an RSA or P-256 public key in PEM ({e}); certificates and private keys are not read"
        )),
    }
}
