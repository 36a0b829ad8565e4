//! Stored access policies: Set/Get Container ACL (and Table ACL) bodies.

use super::tree::{invalid_document, Document, Element};
use super::{push_element, XML_DECLARATION};
use crate::error::AzureError;
use crate::time_format::{iso8601_7, parse_iso8601};

/// Azure keeps at most five stored access policies per container or table.
const MAX_IDENTIFIERS: usize = 5;
const MAX_ID_LENGTH: usize = 64;

/// One stored access policy. Start and expiry are kept in Azure's 7-digit form once parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedIdentifierXml {
    pub id: String,
    pub start: Option<String>,
    pub expiry: Option<String>,
    pub permission: Option<String>,
}

/// Reads `<SignedIdentifiers>`. An empty body clears the policies (empty list).
pub fn parse_signed_identifiers(body: &[u8]) -> Result<Vec<SignedIdentifierXml>, AzureError> {
    let Some(doc) = Document::parse(body)? else {
        return Ok(Vec::new());
    };
    if doc.root.name != "SignedIdentifiers" {
        return Err(doc.invalid_at(0, "The root element must be SignedIdentifiers."));
    }
    let mut ids = Vec::new();
    for element in doc.root.children_named("SignedIdentifier") {
        ids.push(parse_one(&doc, element)?);
    }
    // Azure reports this one without a position or reason.
    if ids.len() > MAX_IDENTIFIERS {
        return Err(invalid_document(0, 0, ""));
    }
    Ok(ids)
}

fn parse_one(doc: &Document, element: &Element) -> Result<SignedIdentifierXml, AzureError> {
    // Azure checks each identifier once it has read it whole, so it points past its end tag.
    let here = || doc.next_node(element.after_end);
    let id = element
        .child("Id")
        .map(|e| e.text.clone())
        .unwrap_or_default();
    if id.is_empty() || id.chars().count() > MAX_ID_LENGTH {
        return Err(doc.invalid_at(
            here(),
            "Signed identifier ID cannot be empty or over 64 characters in length",
        ));
    }
    let policy = element.child("AccessPolicy");
    let field = |name: &str| policy.and_then(|p| p.child(name)).map(|e| e.text.trim());
    let time = |name: &str| -> Result<Option<String>, AzureError> {
        match field(name) {
            None | Some("") => Ok(None),
            Some(text) => match parse_iso8601(text) {
                Some(t) => Ok(Some(iso8601_7(t))),
                None => Err(doc.invalid_at(
                    here(),
                    &format!("The {name} time is not a valid ISO 8601 date."),
                )),
            },
        }
    };
    Ok(SignedIdentifierXml {
        id,
        start: time("Start")?,
        expiry: time("Expiry")?,
        permission: field("Permission")
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    })
}

/// Get ACL body; an empty list renders as `<SignedIdentifiers />`.
pub fn render_signed_identifiers(ids: &[SignedIdentifierXml]) -> String {
    let mut out = String::with_capacity(64 + ids.len() * 200);
    out.push_str(XML_DECLARATION);
    if ids.is_empty() {
        out.push_str("<SignedIdentifiers />");
        return out;
    }
    out.push_str("<SignedIdentifiers>");
    for id in ids {
        out.push_str("<SignedIdentifier>");
        push_element(&mut out, "Id", &id.id);
        let fields = [
            ("Start", &id.start),
            ("Expiry", &id.expiry),
            ("Permission", &id.permission),
        ];
        if fields.iter().all(|(_, v)| v.is_none()) {
            out.push_str("<AccessPolicy />");
        } else {
            out.push_str("<AccessPolicy>");
            for (name, value) in fields {
                if let Some(value) = value {
                    push_element(&mut out, name, value);
                }
            }
            out.push_str("</AccessPolicy>");
        }
        out.push_str("</SignedIdentifier>");
    }
    out.push_str("</SignedIdentifiers>");
    out
}

#[cfg(test)]
#[path = "signed_identifiers_tests.rs"]
mod tests;
