//! The entry point: Shared Key (Lite) header, else SAS, else anonymous.

use time::OffsetDateTime;

use crate::accounts::Accounts;
use crate::error::AuthError;
use crate::grant::Principal;
use crate::request::{RequestInfo, Service};
use crate::sas::{self, StoredPolicy};
use crate::shared_key;

/// Authenticates a request: the `Authorization` header ("SharedKey acct:sig" / "SharedKeyLite acct:sig"),
/// else a SAS (the query has `sig`), else `Anonymous`. Signatures are checked in constant time against every
/// key of the account. `policy(container_table_or_queue, id)` resolves a stored access policy (`si`).
pub fn authenticate(
    accounts: &Accounts,
    req: &RequestInfo,
    service: Service,
    now: OffsetDateTime,
    policy: &dyn Fn(&str, &str) -> Option<StoredPolicy>,
) -> Result<Principal, AuthError> {
    if let Some(header) = req.header("authorization") {
        return shared_key_principal(accounts, req, service, &header, now);
    }
    let has_sig = req
        .query_pairs()
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("sig"));
    if has_sig {
        let account = accounts.get(req.account).ok_or_else(|| {
            AuthError::failed(format!(
                "The storage account '{}' does not exist.",
                req.account
            ))
        })?;
        let ctx = sas::SasContext {
            account,
            service,
            now,
            policy,
        };
        return sas::verify(req, &ctx).map(Principal::Sas);
    }
    Ok(Principal::Anonymous)
}

fn shared_key_principal(
    accounts: &Accounts,
    req: &RequestInfo,
    service: Service,
    header: &str,
    now: OffsetDateTime,
) -> Result<Principal, AuthError> {
    let malformed = || {
        AuthError::failed("The Authorization header is not in the form 'SharedKey account:signature' or 'SharedKeyLite account:signature'.")
    };
    let (scheme, credential) = header.trim().split_once(' ').ok_or_else(malformed)?;
    let lite = if scheme.eq_ignore_ascii_case("SharedKey") {
        false
    } else if scheme.eq_ignore_ascii_case("SharedKeyLite") {
        true
    } else {
        return Err(AuthError::failed(format!(
            "Authentication scheme '{scheme}' is not supported."
        )));
    };
    let (name, signature) = credential.trim().split_once(':').ok_or_else(malformed)?;
    if name != req.account {
        return Err(AuthError::failed(format!(
            "The account '{name}' of the Authorization header is not the account '{}' of the request URL.",
            req.account
        )));
    }
    let account = accounts.get(name).ok_or_else(|| {
        AuthError::failed(format!("The storage account '{name}' does not exist."))
    })?;
    shared_key::check_date(req, now)?;
    shared_key::verify(req, service, lite, &account.keys, signature)?;
    Ok(Principal::SharedKey {
        account: account.name.clone(),
    })
}
