//! Shared access signatures: the per-version strings to sign, verification, and SDK-style signers.

mod fields;
mod layout;
mod params;
#[cfg(test)]
mod test_support;
mod user_delegation;
mod verify;

pub use params::SasParams;
pub use user_delegation::UserDelegationKey;
pub(crate) use verify::{verify, SasContext};

use crate::crypto;
use crate::request::Service;

/// A stored access policy (`<SignedIdentifier>` of a container, table or queue ACL), as the store keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredPolicy {
    pub start: Option<String>,
    pub expiry: Option<String>,
    pub permission: Option<String>,
}

/// The string to sign of a service SAS for a container (`blob` = None), a blob (decoded name) or, with
/// `Service::Table`, a table (`container` = table name) or, with `Service::Queue`, a queue
/// (`container` = queue name; `blob` is not used).
pub fn string_to_sign_service_sas(
    account: &str,
    service: Service,
    container: &str,
    blob: Option<&str>,
    params: &SasParams,
) -> String {
    match service {
        Service::Table => layout::table_service(
            params,
            &layout::table_resource(&params.version, account, container),
        ),
        Service::Queue => layout::queue_service(
            params,
            &layout::queue_resource(&params.version, account, container),
        ),
        Service::Blob | Service::File => layout::blob_service(
            params,
            &layout::blob_resource(&params.version, account, container, blob),
        ),
    }
}

/// The query string (no '?') of a service SAS, `sig` last, as an SDK builds it.
pub fn sign_service_sas(
    account: &str,
    key: &[u8],
    service: Service,
    container: &str,
    blob: Option<&str>,
    params: &SasParams,
) -> String {
    let signature = crypto::sign(
        key,
        &string_to_sign_service_sas(account, service, container, blob, params),
    );
    params.to_query(&signature)
}

/// The string to sign of a user delegation SAS for a container or blob (`params` carries the
/// key's fields).
pub fn string_to_sign_user_delegation_sas(
    account: &str,
    container: &str,
    blob: Option<&str>,
    params: &SasParams,
) -> String {
    layout::blob_user_delegation(
        params,
        &layout::blob_resource(&params.version, account, container, blob),
    )
}

/// The query string of a user delegation SAS, signed with the key's value (base64), as an SDK
/// builds it.
pub fn sign_user_delegation_sas(
    account: &str,
    key_value: &str,
    container: &str,
    blob: Option<&str>,
    params: &SasParams,
) -> String {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_value)
        .unwrap_or_default();
    let signature = crypto::sign(
        &key,
        &string_to_sign_user_delegation_sas(account, container, blob, params),
    );
    params.to_query(&signature)
}

pub fn string_to_sign_account_sas(account: &str, params: &SasParams) -> String {
    layout::account(params, account)
}

/// The query string (no '?') of an account SAS.
pub fn sign_account_sas(account: &str, key: &[u8], params: &SasParams) -> String {
    let signature = crypto::sign(key, &string_to_sign_account_sas(account, params));
    params.to_query(&signature)
}
