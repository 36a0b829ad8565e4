//! Stored access policies on the wire, shared by Container ACLs and Table ACLs.

use lapis_store::SignedIdentifier;
use lapis_wire::xml::{parse_signed_identifiers, render_signed_identifiers, SignedIdentifierXml};
use lapis_wire::{AzureError, ErrorCode};

use crate::error::ApiResult;

/// Azure allows at most five stored access policies per container or table.
const MAX_POLICIES: usize = 5;

/// Parses a `<SignedIdentifiers>` body, refusing more than five policies as Azure does.
pub fn parse(body: &[u8]) -> ApiResult<Vec<SignedIdentifier>> {
    let parsed = parse_signed_identifiers(body)?;
    if parsed.len() > MAX_POLICIES {
        return Err(AzureError::new(ErrorCode::InvalidXmlDocument)
            .message("XML specified is not syntactically valid.")
            .into());
    }
    Ok(parsed
        .into_iter()
        .map(|i| SignedIdentifier {
            id: i.id,
            start: i.start,
            expiry: i.expiry,
            permission: i.permission,
        })
        .collect())
}

pub fn render(ids: Vec<SignedIdentifier>) -> String {
    let xml: Vec<SignedIdentifierXml> = ids
        .into_iter()
        .map(|i| SignedIdentifierXml {
            id: i.id,
            start: i.start,
            expiry: i.expiry,
            permission: i.permission,
        })
        .collect();
    render_signed_identifiers(&xml)
}
