//! What a verified SAS grants, and the check of one operation against it.

use time::OffsetDateTime;

use crate::error::{AuthError, AuthErrorCode};
use crate::roles::{authorize_roles, DataRole};
use crate::rules::{sas_rule, Needs, Operation};

/// Who the request is.
// One per request, so the size difference costs nothing; unboxed keeps matching on it simple.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    /// Shared Key or Shared Key Lite: full access to the account.
    SharedKey {
        account: String,
    },
    Sas(SasGrant),
    /// A verified OAuth bearer token.
    Bearer(BearerGrant),
}

/// A verified bearer token: who it names, and the data roles that object id holds in the account.
#[derive(Debug, Clone)]
pub struct BearerGrant {
    pub account: String,
    /// `oid`
    pub object_id: String,
    /// `tid`
    pub tenant_id: String,
    pub roles: Vec<DataRole>,
}

impl BearerGrant {
    /// Checks the operation against the token's roles.
    pub fn authorize(&self, op: Operation) -> Result<(), AuthError> {
        authorize_roles(&self.roles, op)
    }
}

/// A verified SAS, its stored access policy already merged in.
#[derive(Debug, Clone)]
pub struct SasGrant {
    pub account: String,
    pub scope: SasScope,
    /// Effective `sp` (from the SAS or its stored policy).
    pub permissions: String,
    /// `sv`
    pub version: String,
    pub start: Option<OffsetDateTime>,
    pub expiry: OffsetDateTime,
    /// `si`, when a stored access policy was used.
    pub identifier: Option<String>,
    /// `ses`
    pub encryption_scope: Option<String>,
    /// `rscc`/`rscd`/`rsce`/`rscl`/`rsct`: headers a read through this SAS must answer with.
    pub response_headers: ResponseHeaderOverrides,
    /// A user delegation SAS: the data roles of its key's object id (`skoid`), which bound what
    /// the SAS grants as its permission letters do.
    pub delegated_roles: Option<Vec<DataRole>>,
}

#[derive(Debug, Clone)]
pub enum SasScope {
    /// `ss`, `srt`
    Account {
        services: String,
        resource_types: String,
    },
    /// sr=c
    Container { container: String },
    /// sr=b (also bs, bv); blob name decoded.
    Blob { container: String, blob: String },
    Table {
        table: String,
        start_pk: Option<String>,
        start_rk: Option<String>,
        end_pk: Option<String>,
        end_rk: Option<String>,
    },
    /// A queue SAS: the queue named by the URL it was verified on.
    Queue { queue: String },
}

/// Response header overrides of a service SAS; `None` when not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaderOverrides {
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub content_type: Option<String>,
}

/// The resource a request addresses, as named by its URL: the container (or table, or queue)
/// and the decoded blob name.
#[derive(Clone, Copy, Debug, Default)]
pub struct SasTarget<'a> {
    pub container: Option<&'a str>,
    pub blob: Option<&'a str>,
}

/// What a SAS lets the request do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SasAccess {
    #[default]
    Full,
    /// Only `c` of `c`/`w`: the operation may create its target but not overwrite one that
    /// exists (403 `AuthorizationPermissionMismatch` then).
    CreateOnly,
}

impl SasGrant {
    /// Checks the operation against the SAS: what it is scoped to, then whether its kind can
    /// grant the operation at all, then the permission letters, as Azure does.
    pub fn authorize(&self, op: Operation, target: &SasTarget) -> Result<SasAccess, AuthError> {
        let rule = sas_rule(op);
        let needs = match &self.scope {
            SasScope::Account { resource_types, .. } => {
                if rule.account == Needs::Never {
                    return Err(not_grantable());
                }
                let letter = rule.resource_type.letter();
                // Any SAS may ask for the account information; a batch's sub-requests carry
                // their own checks.
                let any_level = matches!(rule.account, Needs::Anything | Needs::EachSubRequest);
                if !any_level && !resource_types.contains(letter) {
                    return Err(AuthError::new(
                        AuthErrorCode::AuthorizationResourceTypeMismatch,
                        format!(
                            "Signed resource types '{resource_types}' do not include '{letter}'."
                        ),
                    ));
                }
                rule.account
            }
            // A service SAS signs its container or blob into the signature, so using it
            // elsewhere is, as in Azure, an authentication failure rather than a permission one.
            SasScope::Container { container } => {
                let Some(requested) = target.container else {
                    return Err(level_mismatch());
                };
                if requested != container {
                    return Err(scope_mismatch());
                }
                rule.service_sas
            }
            SasScope::Blob { container, blob } => {
                let (Some(requested_container), Some(requested_blob)) =
                    (target.container, target.blob)
                else {
                    return Err(level_mismatch());
                };
                if requested_container != container || requested_blob != blob {
                    return Err(scope_mismatch());
                }
                rule.service_sas
            }
            SasScope::Table { table, .. } => {
                match rule.service_sas {
                    Needs::Never => return Err(not_grantable()),
                    // A `$batch` URL names no table: each sub-request is checked on its own.
                    Needs::EachSubRequest => return Ok(SasAccess::Full),
                    _ => {}
                }
                if !target
                    .container
                    .is_some_and(|c| c.eq_ignore_ascii_case(table))
                {
                    return Err(scope_mismatch());
                }
                rule.service_sas
            }
            // As for a table: what a queue SAS can never grant (service operations among them,
            // whose URL names no queue) is refused before its queue is compared.
            SasScope::Queue { queue } => {
                if rule.service_sas == Needs::Never {
                    return Err(not_grantable());
                }
                if target.container != Some(queue.as_str()) {
                    return Err(scope_mismatch());
                }
                rule.service_sas
            }
        };
        let access = self.check_letters(needs)?;
        if let Some(roles) = &self.delegated_roles {
            authorize_roles(roles, op)?;
        }
        Ok(access)
    }

    fn check_letters(&self, needs: Needs) -> Result<SasAccess, AuthError> {
        let has = |c: char| self.permissions.contains(c);
        let missing = |needed: &str| {
            AuthError::new(
                AuthErrorCode::AuthorizationPermissionMismatch,
                format!(
                    "Signed permissions '{}' do not include '{needed}'.",
                    self.permissions
                ),
            )
        };
        match needs {
            Needs::Never => Err(not_grantable()),
            Needs::Anything | Needs::EachSubRequest => Ok(SasAccess::Full),
            Needs::Any(letters) if letters.chars().any(has) => Ok(SasAccess::Full),
            Needs::All(letters) if letters.chars().all(has) => Ok(SasAccess::Full),
            Needs::Any(letters) | Needs::All(letters) => Err(missing(letters)),
            Needs::CreateOrWrite if has('w') => Ok(SasAccess::Full),
            Needs::CreateOrWrite if has('c') => Ok(SasAccess::CreateOnly),
            Needs::CreateOrWrite => Err(missing("cw")),
        }
    }

    /// For a table SAS with key ranges: whether an entity's keys fall inside them (bounds inclusive, a missing
    /// row-key bound applies only at its partition bound). Other grants allow every entity.
    pub fn allows_entity(&self, partition_key: &str, row_key: &str) -> bool {
        let SasScope::Table {
            start_pk,
            start_rk,
            end_pk,
            end_rk,
            ..
        } = &self.scope
        else {
            return true;
        };
        let key = (partition_key, row_key);
        if let Some(spk) = start_pk.as_deref() {
            if key < (spk, start_rk.as_deref().unwrap_or("")) {
                return false;
            }
        }
        if let Some(epk) = end_pk.as_deref() {
            let after_end = match end_rk.as_deref() {
                Some(erk) => key > (epk, erk),
                None => partition_key > epk,
            };
            if after_end {
                return false;
            }
        }
        true
    }
}

/// Azure's answer to an operation this kind of SAS can never grant.
fn not_grantable() -> AuthError {
    AuthError::new(AuthErrorCode::AuthorizationFailure, "")
}

/// A container or blob SAS used above the level of its resource (the account root, or a
/// container for a blob SAS).
fn level_mismatch() -> AuthError {
    AuthError::failed("The specified signed resource is not allowed for the this resource level")
}

fn scope_mismatch() -> AuthError {
    AuthError::failed("The signed resource of the SAS does not cover the resource of this request.")
}

#[cfg(test)]
#[path = "grant_tests.rs"]
mod tests;
