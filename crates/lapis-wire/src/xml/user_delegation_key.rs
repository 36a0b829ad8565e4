//! Get User Delegation Key: the `<KeyInfo>` request body and the `<UserDelegationKey>` answer.

use super::tree::{invalid_document, Document};
use super::{push_element, XML_DECLARATION};
use crate::error::{AzureError, ErrorCode};

/// `<KeyInfo><Start>…</Start><Expiry>…</Expiry></KeyInfo>`: the times as written (the caller
/// parses them); `Start` may be absent, `Expiry` may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub start: Option<String>,
    pub expiry: String,
}

pub fn parse_key_info(body: &[u8]) -> Result<KeyInfo, AzureError> {
    let Some(doc) = Document::parse(body)? else {
        return Err(invalid_document(0, 0, "Root element is missing."));
    };
    if doc.root.name != "KeyInfo" {
        return Err(doc.invalid_at(0, "The root element must be KeyInfo."));
    }
    let text = |name: &str| {
        doc.root
            .child(name)
            .map(|e| e.text.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let expiry = text("Expiry").ok_or_else(|| {
        AzureError::new(ErrorCode::MissingRequiredXmlNode).detail("XmlNodeName", "Expiry")
    })?;
    Ok(KeyInfo {
        start: text("Start"),
        expiry,
    })
}

/// The key's fields in Azure's element order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDelegationKeyXml<'a> {
    pub signed_oid: &'a str,
    pub signed_tid: &'a str,
    pub signed_start: &'a str,
    pub signed_expiry: &'a str,
    pub signed_service: &'a str,
    pub signed_version: &'a str,
    pub value: &'a str,
}

pub fn render_user_delegation_key(key: &UserDelegationKeyXml) -> String {
    let mut out = String::from(XML_DECLARATION);
    out.push_str("<UserDelegationKey>");
    push_element(&mut out, "SignedOid", key.signed_oid);
    push_element(&mut out, "SignedTid", key.signed_tid);
    push_element(&mut out, "SignedStart", key.signed_start);
    push_element(&mut out, "SignedExpiry", key.signed_expiry);
    push_element(&mut out, "SignedService", key.signed_service);
    push_element(&mut out, "SignedVersion", key.signed_version);
    push_element(&mut out, "Value", key.value);
    out.push_str("</UserDelegationKey>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_info_reads_start_and_expiry() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><KeyInfo><Start>2026-06-01T00:00:00Z</Start><Expiry>2026-06-02T00:00:00Z</Expiry></KeyInfo>";
        assert_eq!(
            parse_key_info(body).unwrap(),
            KeyInfo {
                start: Some("2026-06-01T00:00:00Z".into()),
                expiry: "2026-06-02T00:00:00Z".into()
            }
        );
        let no_start = b"<KeyInfo><Expiry>2026-06-02T00:00:00Z</Expiry></KeyInfo>";
        assert_eq!(parse_key_info(no_start).unwrap().start, None);
        let no_expiry = b"<KeyInfo><Start>2026-06-01T00:00:00Z</Start></KeyInfo>";
        assert_eq!(
            parse_key_info(no_expiry).unwrap_err().code,
            ErrorCode::MissingRequiredXmlNode
        );
        assert_eq!(
            parse_key_info(b"<Other/>").unwrap_err().code,
            ErrorCode::InvalidXmlDocument
        );
        assert_eq!(
            parse_key_info(b"").unwrap_err().code,
            ErrorCode::InvalidXmlDocument
        );
    }

    #[test]
    fn renders_in_azures_order() {
        let xml = render_user_delegation_key(&UserDelegationKeyXml {
            signed_oid: "o",
            signed_tid: "t",
            signed_start: "2026-06-01T00:00:00Z",
            signed_expiry: "2026-06-02T00:00:00Z",
            signed_service: "b",
            signed_version: "2026-10-06",
            value: "dmFsdWU=",
        });
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><UserDelegationKey><SignedOid>o</SignedOid><SignedTid>t</SignedTid><SignedStart>2026-06-01T00:00:00Z</SignedStart><SignedExpiry>2026-06-02T00:00:00Z</SignedExpiry><SignedService>b</SignedService><SignedVersion>2026-10-06</SignedVersion><Value>dmFsdWU=</Value></UserDelegationKey>"
        );
    }
}
