//! What a verified SAS grants, and the check of one operation against it.

use time::OffsetDateTime;

use crate::error::{AuthError, AuthErrorCode};

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

/// The level an operation acts on (account SAS `srt`: s, c, o).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ResourceType {
    Service,
    Container,
    Object,
}

impl ResourceType {
    fn letter(self) -> char {
        match self {
            ResourceType::Service => 's',
            ResourceType::Container => 'c',
            ResourceType::Object => 'o',
        }
    }
}

/// What an operation needs, given by the server per operation.
pub struct Requirement<'a> {
    pub resource_type: ResourceType,
    /// The `sp` letter the operation needs (r w d l a c u p x t f i ...).
    pub permission: char,
    /// Container or table name.
    pub container: Option<&'a str>,
    /// Decoded blob name.
    pub blob: Option<&'a str>,
}

impl SasGrant {
    /// Checks scope, then resource type, then permission, as Azure does.
    pub fn authorize(&self, req: &Requirement) -> Result<(), AuthError> {
        match &self.scope {
            SasScope::Account { resource_types, .. } => {
                if !resource_types.contains(req.resource_type.letter()) {
                    return Err(AuthError::new(
                        AuthErrorCode::AuthorizationResourceTypeMismatch,
                        format!(
                            "Signed resource types '{resource_types}' do not include '{}'.",
                            req.resource_type.letter()
                        ),
                    ));
                }
            }
            // A service SAS signs its container or blob into the signature, so using it elsewhere is, as in
            // Azure, an authentication failure rather than a permission one.
            SasScope::Container { container } => {
                if req.resource_type == ResourceType::Service
                    || req.container != Some(container.as_str())
                {
                    return Err(scope_mismatch());
                }
            }
            SasScope::Blob { container, blob } => {
                if req.resource_type != ResourceType::Object
                    || req.container != Some(container.as_str())
                    || req.blob != Some(blob.as_str())
                {
                    return Err(scope_mismatch());
                }
            }
            SasScope::Table { table, .. } => {
                let same_table = req.container.is_some_and(|c| c.eq_ignore_ascii_case(table));
                if req.resource_type == ResourceType::Service || !same_table {
                    return Err(scope_mismatch());
                }
            }
        }
        if !self.permissions.contains(req.permission) {
            return Err(AuthError::new(
                AuthErrorCode::AuthorizationPermissionMismatch,
                format!(
                    "Signed permissions '{}' do not include '{}'.",
                    self.permissions, req.permission
                ),
            ));
        }
        Ok(())
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

fn scope_mismatch() -> AuthError {
    AuthError::failed("The signed resource of the SAS does not cover the resource of this request.")
}

#[cfg(test)]
#[path = "grant_tests.rs"]
mod tests;
