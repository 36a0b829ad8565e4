//! The entry point: Shared Key (Lite) or Bearer header, else SAS, else anonymous.

use time::OffsetDateTime;

use crate::accounts::Accounts;
use crate::bearer::OAuth;
use crate::error::AuthError;
use crate::grant::{BearerGrant, Principal};
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
        if let (Some(token), Some(oauth)) = (bearer_token(&header), accounts.oauth()) {
            return bearer_principal(accounts, oauth, req, service, token, now);
        }
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
            oauth: accounts.oauth(),
            service,
            now,
            policy,
        };
        return sas::verify(req, &ctx).map(Principal::Sas);
    }
    Ok(Principal::Anonymous)
}

/// The first `x-ms-version` that accepts bearer tokens.
const FIRST_BEARER_VERSION: &str = "2017-11-09";

/// The token of a `Bearer <token>` header.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("Bearer").then(|| token.trim())
}

/// A token is accepted over HTTPS only, as by Azure (and Azurite).
fn bearer_principal(
    accounts: &Accounts,
    oauth: &OAuth,
    req: &RequestInfo,
    service: Service,
    token: &str,
    now: OffsetDateTime,
) -> Result<Principal, AuthError> {
    if !req.https {
        return Err(AuthError::failed(
            "Authentication scheme Bearer is not allowed with HTTP.",
        ));
    }
    // Azure takes tokens from version 2017-11-09 on.
    if req
        .header("x-ms-version")
        .is_some_and(|v| v.as_str() < FIRST_BEARER_VERSION)
    {
        return Err(AuthError::failed(
            "Authentication scheme Bearer is not supported in this version.",
        ));
    }
    let account = accounts.get(req.account).ok_or_else(|| {
        AuthError::failed(format!(
            "The storage account '{}' does not exist.",
            req.account
        ))
    })?;
    let claims = oauth.verify(token, &account.name, service, now)?;
    Ok(Principal::Bearer(BearerGrant {
        account: account.name.clone(),
        roles: oauth.roles_of(&account.name, &claims.object_id).to_vec(),
        object_id: claims.object_id,
        tenant_id: claims.tenant_id,
    }))
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
