use super::*;
use crate::error::ErrorCode;

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn identifier(id: &str) -> String {
    format!("<SignedIdentifier><AccessPolicy><Permission>r</Permission><Expiry>2049-06-11T20:00:00Z</Expiry><Start>2021-06-11T20:00:00Z</Start></AccessPolicy><Id>{id}</Id></SignedIdentifier>")
}

fn policy(id: &str) -> SignedIdentifierXml {
    SignedIdentifierXml {
        id: id.to_owned(),
        start: Some("2021-06-11T20:00:00.0000000Z".to_owned()),
        expiry: Some("2049-06-11T20:00:00.0000000Z".to_owned()),
        permission: Some("r".to_owned()),
    }
}

#[test]
fn parses_recorded_request_and_normalises_times() {
    // TestContainerSetPermissionsDeleteAndModifyACL.json
    let body = format!(
        "{DECL}<SignedIdentifiers>{}{}</SignedIdentifiers>",
        identifier("0000"),
        identifier("0001")
    );
    assert_eq!(
        parse_signed_identifiers(body.as_bytes()).unwrap(),
        [policy("0000"), policy("0001")]
    );
}

#[test]
fn renders_recorded_response() {
    assert_eq!(
        render_signed_identifiers(&[policy("0000"), policy("0001")]),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers><SignedIdentifier><Id>0000</Id><AccessPolicy><Start>2021-06-11T20:00:00.0000000Z</Start><Expiry>2049-06-11T20:00:00.0000000Z</Expiry><Permission>r</Permission></AccessPolicy></SignedIdentifier><SignedIdentifier><Id>0001</Id><AccessPolicy><Start>2021-06-11T20:00:00.0000000Z</Start><Expiry>2049-06-11T20:00:00.0000000Z</Expiry><Permission>r</Permission></AccessPolicy></SignedIdentifier></SignedIdentifiers>"
    );
}

#[test]
fn empty_list_renders_self_closing() {
    // TestContainerGetPermissionsPublicAccessNotNone.json
    assert_eq!(
        render_signed_identifiers(&[]),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers />"
    );
}

#[test]
fn policy_without_fields_renders_empty_access_policy() {
    let only_id = SignedIdentifierXml {
        id: "x".to_owned(),
        ..Default::default()
    };
    assert_eq!(
        render_signed_identifiers(&[only_id]),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers><SignedIdentifier><Id>x</Id><AccessPolicy /></SignedIdentifier></SignedIdentifiers>"
    );
}

#[test]
fn empty_bodies_mean_no_policies() {
    assert!(parse_signed_identifiers(b"").unwrap().is_empty());
    let recorded = format!("{DECL}<SignedIdentifiers></SignedIdentifiers>");
    assert!(parse_signed_identifiers(recorded.as_bytes())
        .unwrap()
        .is_empty());
}

#[test]
fn more_than_five_is_invalid_document_without_position() {
    // TestContainerSetPermissionsACLMoreThanFive.json
    let all: String = (0..6).map(|i| identifier(&format!("000{i}"))).collect();
    let body = format!("{DECL}<SignedIdentifiers>{all}</SignedIdentifiers>");
    let err = parse_signed_identifiers(body.as_bytes()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidXmlDocument);
    let details = [("LineNumber", "0"), ("LinePosition", "0"), ("Reason", "")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(err.details, details);
    let five: String = (0..5).map(|i| identifier(&format!("000{i}"))).collect();
    assert_eq!(
        parse_signed_identifiers(
            format!("<SignedIdentifiers>{five}</SignedIdentifiers>").as_bytes()
        )
        .unwrap()
        .len(),
        5
    );
}

#[test]
fn too_long_id_points_where_azure_does() {
    // TestContainerSetPermissionsSignedIdentifierTooLong.json: line 2, position 259.
    let long = "a".repeat(65);
    let one = format!("<SignedIdentifier><AccessPolicy><Permission>r</Permission><Expiry>2021-06-11T20:00:00Z</Expiry><Start>2021-06-11T20:05:00Z</Start></AccessPolicy><Id>{long}</Id></SignedIdentifier>");
    let body = format!("{DECL}<SignedIdentifiers>{one}{one}</SignedIdentifiers>");
    let err = parse_signed_identifiers(body.as_bytes()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidXmlDocument);
    let details = [
        ("LineNumber", "2"),
        ("LinePosition", "259"),
        (
            "Reason",
            "Signed identifier ID cannot be empty or over 64 characters in length",
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(err.details, details);
    let exactly_64 = format!(
        "<SignedIdentifiers>{}</SignedIdentifiers>",
        identifier(&"a".repeat(64))
    );
    assert!(parse_signed_identifiers(exactly_64.as_bytes()).is_ok());
    let empty_id = format!("<SignedIdentifiers>{}</SignedIdentifiers>", identifier(""));
    assert_eq!(
        parse_signed_identifiers(empty_id.as_bytes())
            .unwrap_err()
            .code,
        ErrorCode::InvalidXmlDocument
    );
}

#[test]
fn bad_time_is_refused() {
    let body = "<SignedIdentifiers><SignedIdentifier><Id>a</Id><AccessPolicy><Start>yesterday</Start></AccessPolicy></SignedIdentifier></SignedIdentifiers>";
    assert_eq!(
        parse_signed_identifiers(body.as_bytes()).unwrap_err().code,
        ErrorCode::InvalidXmlDocument
    );
}

#[test]
fn partial_policy_keeps_missing_fields_absent() {
    let body = "<SignedIdentifiers><SignedIdentifier><Id>a</Id><AccessPolicy><Permission>rw</Permission></AccessPolicy></SignedIdentifier></SignedIdentifiers>";
    let want = SignedIdentifierXml {
        id: "a".to_owned(),
        permission: Some("rw".to_owned()),
        ..Default::default()
    };
    assert_eq!(parse_signed_identifiers(body.as_bytes()).unwrap(), [want]);
}
