//! User delegation keys and the SAS signed with them. A key's value is derived from the
//! account key and the key's signed fields, so nothing is stored: the SAS carries those
//! fields, and verification derives the same value again.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use time::OffsetDateTime;

use super::params::SasParams;
use crate::crypto;
use crate::error::AuthError;
use crate::sas_time;
use lapis_wire::time_format::rfc1123;

/// The signed fields of a user delegation key, as Get User Delegation Key returns them and a
/// SAS carries them (`skoid`, `sktid`, `skt`, `ske`, `sks`, `skv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDelegationKey {
    pub object_id: String,
    pub tenant_id: String,
    pub start: String,
    pub expiry: String,
    pub service: String,
    pub version: String,
}

/// Sets a key derivation apart from every other HMAC made with the account key.
const DERIVATION_LABEL: &str = "lapis user delegation key";

impl UserDelegationKey {
    /// The key's value (base64, 32 bytes): HMAC-SHA256 of the account key over its fields.
    pub fn value(&self, account_key: &[u8]) -> String {
        let fields = [
            DERIVATION_LABEL,
            &self.object_id,
            &self.tenant_id,
            &self.start,
            &self.expiry,
            &self.service,
            &self.version,
        ];
        crypto::sign(account_key, &fields.join("\n"))
    }

    pub(crate) fn from_sas(p: &SasParams) -> UserDelegationKey {
        UserDelegationKey {
            object_id: p.key_object_id.clone(),
            tenant_id: p.key_tenant_id.clone(),
            start: p.key_start.clone(),
            expiry: p.key_expiry.clone(),
            service: p.key_service.clone(),
            version: p.key_version.clone(),
        }
    }
}

/// The keys a user delegation SAS may be signed with: one per account key.
pub(crate) fn signing_keys(p: &SasParams, account_keys: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let key = UserDelegationKey::from_sas(p);
    account_keys
        .iter()
        .filter_map(|k| STANDARD.decode(key.value(k)).ok())
        .collect()
}

/// The fields of the key are all present, it is for the Blob service, and it is valid now.
/// Fields Lapis cannot honour (signed request headers or query parameters, a delegated user)
/// are refused rather than ignored.
pub(crate) fn check_key(p: &SasParams, now: OffsetDateTime) -> Result<(), AuthError> {
    for (name, value) in [
        ("skoid", &p.key_object_id),
        ("sktid", &p.key_tenant_id),
        ("skt", &p.key_start),
        ("ske", &p.key_expiry),
        ("sks", &p.key_service),
        ("skv", &p.key_version),
    ] {
        if value.is_empty() {
            return Err(AuthError::failed(format!(
                "{name} is mandatory. Cannot be empty"
            )));
        }
    }
    if !p.identifier.is_empty() {
        return Err(AuthError::failed(
            "A user delegation SAS cannot refer to a stored access policy (si).",
        ));
    }
    if !p.delegated_user_object_id.is_empty() || !p.key_delegated_user_tenant_id.is_empty() {
        return Err(AuthError::failed(
            "Delegated user SAS (sduoid, skdutid) is not supported by this emulator.",
        ));
    }
    if p.key_service != "b" {
        return Err(AuthError::failed(format!(
            "The user delegation key is for service '{}', not the Blob service.",
            p.key_service
        )));
    }
    let parse = |name: &str, text: &str| {
        sas_time::parse(text).ok_or_else(|| {
            AuthError::failed(format!(
                "The signed key {name} time '{text}' is not a valid ISO 8601 time."
            ))
        })
    };
    let start = parse("start", &p.key_start)?;
    let expiry = parse("expiry", &p.key_expiry)?;
    if now < start || now > expiry {
        return Err(AuthError::failed(format!(
            "The user delegation key is not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
            rfc1123(start),
            rfc1123(expiry),
            rfc1123(now)
        )));
    }
    Ok(())
}
