//! The XML request body parsers under random documents built from the elements they expect
//! (so inputs get past the first tag), plus raw bytes: a value or InvalidXmlDocument /
//! InvalidXmlNodeValue, never a panic. Complements parsers_never_panic.rs (byte mutation).

use lapis_wire::xml::{parse_block_list, parse_signed_identifiers, ServiceProperties};
use lapis_wire::ErrorCode;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Element(String, Vec<Node>),
}

fn render(node: &Node, out: &mut String) {
    match node {
        Node::Text(t) => out.push_str(t),
        Node::Element(name, children) if children.is_empty() => {
            out.push_str(&format!("<{name} />"));
        }
        Node::Element(name, children) => {
            out.push_str(&format!("<{name}>"));
            for c in children {
                render(c, out);
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

fn element_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("BlockList"),
        Just("Latest"),
        Just("Committed"),
        Just("Uncommitted"),
        Just("SignedIdentifiers"),
        Just("SignedIdentifier"),
        Just("Id"),
        Just("AccessPolicy"),
        Just("Start"),
        Just("Expiry"),
        Just("Permission"),
        Just("StorageServiceProperties"),
        Just("Logging"),
        Just("Version"),
        Just("Read"),
        Just("Write"),
        Just("Delete"),
        Just("RetentionPolicy"),
        Just("Enabled"),
        Just("Days"),
        Just("HourMetrics"),
        Just("MinuteMetrics"),
        Just("IncludeAPIs"),
        Just("Cors"),
        Just("CorsRule"),
        Just("AllowedOrigins"),
        Just("AllowedMethods"),
        Just("AllowedHeaders"),
        Just("ExposedHeaders"),
        Just("MaxAgeInSeconds"),
        Just("DefaultServiceVersion"),
        Just("DeleteRetentionPolicy"),
        Just("StaticWebsite"),
        Just("IndexDocument"),
        Just("ErrorDocument404Path"),
        Just("x:Odd"),
        Just("a b"),
    ]
    .prop_map(str::to_string)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("true".to_string()),
        Just("false".to_string()),
        Just("1.0".to_string()),
        Just("-1".to_string()),
        Just("366".to_string()),
        Just("99999999999999999999".to_string()),
        Just("AAAAAA==".to_string()),
        Just("QUJD".to_string()),
        Just("*".to_string()),
        Just("GET,PUT,NOPE".to_string()),
        Just("2049-06-11T20:00:00.1234567Z".to_string()),
        Just("2021-13-45T00:00:00Z".to_string()),
        Just("rwdl".to_string()),
        Just("&amp;&lt;&#x0;&#65;&bogus;".to_string()),
        Just("<![CDATA[x]]>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<?pi x?>".to_string()),
        "[ -~]{0,16}",
    ]
}

fn tree() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        text().prop_map(Node::Text),
        element_name().prop_map(|n| Node::Element(n, vec![])),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        (element_name(), proptest::collection::vec(inner, 0..6))
            .prop_map(|(n, c)| Node::Element(n, c))
    })
}

fn check(result: Result<(), ErrorCode>, doc: &[u8]) -> Result<(), TestCaseError> {
    if let Err(code) = result {
        prop_assert!(
            matches!(
                code,
                ErrorCode::InvalidXmlDocument | ErrorCode::InvalidXmlNodeValue
            ),
            "unexpected {} for {}",
            code,
            String::from_utf8_lossy(doc)
        );
    }
    Ok(())
}

fn all_parsers(doc: &[u8]) -> Result<(), TestCaseError> {
    check(parse_block_list(doc).map(drop).map_err(|e| e.code), doc)?;
    check(
        parse_signed_identifiers(doc).map(drop).map_err(|e| e.code),
        doc,
    )?;
    check(
        ServiceProperties::parse(doc).map(drop).map_err(|e| e.code),
        doc,
    )?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn structured_documents_never_panic(
        root in tree(),
        prolog in prop_oneof![
            Just(""), Just("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), Just("\u{feff}"),
            Just("<!DOCTYPE x [<!ENTITY e \"v\">]>"),
        ],
        cut in proptest::option::of(any::<usize>()),
    ) {
        let mut doc = prolog.to_string();
        render(&root, &mut doc);
        let mut bytes = doc.into_bytes();
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        all_parsers(&bytes)?;
    }

    #[test]
    fn raw_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        all_parsers(&bytes)?;
    }
}
