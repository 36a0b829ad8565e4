//! Request headers and query parameters that change what an operation does but that Lapis does
//! not honour (yet): a request carrying one is refused with Azure's answer for it, never served
//! as if the parameter were absent. docs/api-coverage.md ("Request parameters") lists these
//! beside the ones Lapis honours; `conformance/spec/test_parameters.py` keeps that list complete.

use lapis_wire::{AzureError, ErrorCode};

use crate::error::ApiResult;
use crate::request::{Headers, Query};

fn not_implemented(feature: &str) -> AzureError {
    AzureError::new(ErrorCode::NotImplemented)
        .message(format!("Lapis does not implement {feature} yet."))
}

/// `x-ms-copy-source-authorization`: a token for a source on another host, sent to it as
/// `Authorization` when `--allowRemoteCopySources` is on; refused otherwise.
pub(super) fn copy_source_authorization() -> AzureError {
    not_implemented("OAuth authorization of copy sources (x-ms-copy-source-authorization)")
}

/// No encryption scope exists besides the account's key.
fn no_scope() -> AzureError {
    AzureError::new(ErrorCode::EncryptionScopeNotAvailable)
}

/// The refusal of a header, by name; `None` for a header Lapis honours or that does not change
/// what the operation does.
fn header_refusal(name: &str, value: &str) -> Option<AzureError> {
    Some(match name {
        "x-ms-encryption-scope" | "x-ms-default-encryption-scope" => no_scope(),
        // Without a scope nothing can override one; only its default, false, holds.
        "x-ms-deny-encryption-scope-override" if !value.eq_ignore_ascii_case("false") => no_scope(),
        "x-ms-immutability-policy-until-date"
        | "x-ms-immutability-policy-mode"
        | "x-ms-legal-hold" => not_implemented("immutability policies and legal holds"),
        "x-ms-structured-body" | "x-ms-structured-content-length" => {
            not_implemented("structured message bodies (x-ms-structured-body)")
        }
        "x-ms-source-if-tags" => not_implemented("blob index tags"),
        "x-ms-copy-source-authorization" => copy_source_authorization(),
        "x-ms-copy-source-tag-option" if value.eq_ignore_ascii_case("COPY") => {
            not_implemented("copying a source's index tags")
        }
        "x-ms-source-encryption-key"
        | "x-ms-source-encryption-key-sha256"
        | "x-ms-source-encryption-algorithm" => {
            not_implemented("copy sources under customer-provided keys")
        }
        "x-ms-access-tier-if-modified-since" | "x-ms-access-tier-if-unmodified-since" => {
            not_implemented("access tier conditions")
        }
        _ => return None,
    })
}

/// The refusal of a query parameter, by name (none today: `deletetype` is Delete Blob's).
fn query_refusal(_name: &str) -> Option<AzureError> {
    None
}

/// Refuses a request that carries a parameter Lapis does not honour. With remote copy sources
/// allowed, `x-ms-copy-source-authorization` is left to the copy (ops/copy_source.rs), which
/// forwards it to a source on another host and refuses it for one on this Lapis.
pub fn check(headers: &Headers, query: &Query, remote_copy: bool) -> ApiResult<()> {
    for (name, value) in headers.all() {
        if remote_copy && name == "x-ms-copy-source-authorization" {
            continue;
        }
        if let Some(err) = header_refusal(name, value) {
            return Err(err.into());
        }
    }
    for (name, _) in query.pairs() {
        if let Some(err) = query_refusal(name) {
            return Err(err.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_is_azures_answer() {
        let code = |name, value| header_refusal(name, value).map(|e| e.code);
        assert_eq!(
            code("x-ms-encryption-scope", "s"),
            Some(ErrorCode::EncryptionScopeNotAvailable)
        );
        assert_eq!(code("x-ms-deny-encryption-scope-override", "false"), None);
        assert_eq!(code("x-ms-tags", "a=b"), None);
        assert_eq!(code("x-ms-meta-a", "b"), None);
        assert!(query_refusal("deletetype").is_none());
        assert!(query_refusal("prefix").is_none());
    }
}
