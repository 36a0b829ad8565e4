//! The Table protocol parsers under random input: `$filter` text built from the language's own
//! tokens (so most inputs get deep into the parser), `$batch` bodies mutated from a valid one,
//! and entity JSON. Each gives a value or a 4xx Azure error; what parses evaluates without
//! panicking, and what an entity parse accepts survives the storage codec.

use lapis_odata::batch::MAX_OPERATIONS;
use lapis_odata::{
    decode_properties, encode_properties, parse_batch, parse_entity, parse_filter, EdmValue,
};
use proptest::prelude::*;
use time::macros::datetime;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 4000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("PartitionKey"),
        Just("RowKey"),
        Just("Timestamp"),
        Just("Name"),
        Just("Age"),
        Just("Big"),
        Just("Ratio"),
        Just("Flag"),
        Just("When"),
        Just("Id"),
        Just("Bin"),
        Just("eq"),
        Just("ne"),
        Just("gt"),
        Just("ge"),
        Just("lt"),
        Just("le"),
        Just("and"),
        Just("or"),
        Just("not"),
        Just("("),
        Just(")"),
        Just("true"),
        Just("false"),
        Just("'a''b'"),
        Just("''"),
        Just("'"),
        Just("5"),
        Just("-2147483649"),
        Just("2147483648"),
        Just("5L"),
        Just("9223372036854775808L"),
        Just("1.5e308"),
        Just("1e999"),
        Just("-0.0"),
        Just("NaN"),
        Just("datetime'2020-01-01T00:00:00Z'"),
        Just("datetime'2020-13-01'"),
        Just("datetime''"),
        Just("guid'c9da6455-213d-42c9-9a79-3e9149a57833'"),
        Just("guid'zz'"),
        Just("X'00ff'"),
        Just("X'0'"),
        Just("binary'AAE='"),
        Just("null"),
        Just("%20"),
        Just("\u{e9}"),
        Just("\u{0}"),
    ]
    .prop_map(str::to_string)
}

fn filter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(token(), 1..14).prop_map(|t| t.join(" ")),
        1 => proptest::collection::vec(token(), 1..14).prop_map(|t| t.concat()),
        1 => "[ -~]{0,40}",
        // Deep nesting must not overflow the stack.
        1 => (1usize..5000).prop_map(|n| format!("{}Age eq 1{}", "(".repeat(n), ")".repeat(n))),
        1 => (1usize..5000).prop_map(|n| format!("{}Flag", "not ".repeat(n))),
    ]
}

const BATCH: &str = "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n\
--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
POST http://127.0.0.1:10002/devstoreaccount1/t HTTP/1.1\r\nContent-Type: application/json\r\n\
Accept: application/json;odata=minimalmetadata\r\nContent-ID: 1\r\n\r\n\
{\"PartitionKey\":\"p\",\"RowKey\":\"1\",\"V\":1}\r\n\
--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
DELETE http://127.0.0.1:10002/devstoreaccount1/t(PartitionKey='p',RowKey='2') HTTP/1.1\r\n\
If-Match: *\r\nContent-ID: 2\r\n\r\n\r\n--changeset_1--\r\n--batch_1--\r\n";

/// One edit of a byte string: delete, insert, overwrite or truncate at a position.
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    const ALPHABET: &[u8] = b"-\r\n:;= \"'{}()/_abcHTP01";
    for &(kind, at, byte) in edits {
        let at = at % (bytes.len() + 1);
        match kind % 4 {
            0 if at < bytes.len() => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, ALPHABET[byte as usize % ALPHABET.len()]),
            2 if at < bytes.len() => bytes[at] = byte,
            3 if byte < 16 => bytes.truncate(at),
            _ => {}
        }
    }
    bytes
}

fn entity_json() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("1".to_string()),
        Just("-2147483649".to_string()),
        Just("1e400".to_string()),
        Just("\"x\"".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"NaN\"".to_string()),
        Just("\"9223372036854775808\"".to_string()),
        Just("\"AAE=\"".to_string()),
        Just("\"2020-01-01T00:00:00.12345678Z\"".to_string()),
        Just("\"c9da6455-213d-42c9-9a79-3e9149a57833\"".to_string()),
        Just("\"\\ud800\"".to_string()),
        "\"[ -~&&[^\"\\\\]]{0,12}\"",
    ];
    let name = prop_oneof![
        Just("PartitionKey".to_string()),
        Just("RowKey".to_string()),
        Just("Timestamp".to_string()),
        Just("odata.etag".to_string()),
        Just("A@odata.type".to_string()),
        Just("A".to_string()),
        Just(String::new()),
        "[A-Za-z_@.]{1,10}",
    ];
    let ty = prop_oneof![
        Just("Edm.Int64"),
        Just("Edm.Int32"),
        Just("Edm.Double"),
        Just("Edm.DateTime"),
        Just("Edm.Guid"),
        Just("Edm.Binary"),
        Just("Edm.Boolean"),
        Just("Edm.String"),
        Just("Edm.Nope"),
    ];
    proptest::collection::vec((name, value, proptest::option::of(ty)), 0..8).prop_map(|members| {
        let parts: Vec<String> = members
            .into_iter()
            .flat_map(|(n, v, t)| {
                let mut out = vec![format!("\"{n}\":{v}")];
                if let Some(t) = t {
                    out.push(format!("\"{n}@odata.type\":\"{t}\""));
                }
                out
            })
            .collect();
        format!("{{{}}}", parts.join(",")).into_bytes()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn filters_parse_or_give_400_and_evaluate(text in filter_text()) {
        match parse_filter(&text) {
            Ok(filter) => {
                let props = vec![
                    ("Name".to_string(), EdmValue::String("a'b".into())),
                    ("Age".to_string(), EdmValue::Int32(i32::MIN)),
                    ("Big".to_string(), EdmValue::Int64(i64::MAX)),
                    ("Ratio".to_string(), EdmValue::Double(f64::NAN)),
                    ("Flag".to_string(), EdmValue::Boolean(false)),
                    ("When".to_string(), EdmValue::DateTime(datetime!(2026-01-01 0:00 UTC))),
                    ("Id".to_string(), EdmValue::Guid("c9da6455-213d-42c9-9a79-3e9149a57833".into())),
                    ("Bin".to_string(), EdmValue::Binary(vec![0, 255])),
                ];
                let _ = filter.matches("p", "r", datetime!(2026-01-01 0:00 UTC), &props);
                let _ = filter.matches("", "", datetime!(1601-01-01 0:00 UTC), &Vec::new());
                let _ = filter.key_range();
            }
            Err(e) => prop_assert_eq!(e.status, 400, "{:?} for {:?}", e, text),
        }
    }

    #[test]
    fn batches_parse_or_give_4xx(
        edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..6),
        content_type in prop_oneof![
            Just("multipart/mixed; boundary=batch_1".to_string()),
            Just("multipart/mixed; boundary=\"batch_1\"".to_string()),
            Just("multipart/mixed; boundary=".to_string()),
            Just("multipart/mixed".to_string()),
            "[ -~]{0,40}",
        ],
    ) {
        let body = mutate(BATCH.as_bytes().to_vec(), &edits);
        match parse_batch(&content_type, &body) {
            Ok(batch) => prop_assert!(batch.operations.len() <= MAX_OPERATIONS),
            Err(e) => prop_assert!(
                (400..500).contains(&e.status),
                "{:?} for {:?}", e, String::from_utf8_lossy(&body)
            ),
        }
    }

    #[test]
    fn entities_parse_or_give_4xx_and_survive_the_codec(body in entity_json()) {
        match parse_entity(&body) {
            Ok(entity) => {
                let bytes = encode_properties(&entity.properties);
                let back = decode_properties(&bytes);
                prop_assert!(back.is_ok(), "own encoding rejected: {:?}", back);
                // NaN != NaN: compare re-encodings instead of values.
                prop_assert_eq!(encode_properties(&back.expect("checked")), bytes);
            }
            Err(e) => prop_assert!(
                (400..500).contains(&e.status),
                "{:?} for {}", e, String::from_utf8_lossy(&body)
            ),
        }
    }

    #[test]
    fn stored_property_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_properties(&bytes);
    }
}

#[test]
fn a_batch_over_the_operation_limit_is_rejected() {
    let mut body = String::from("--batch_1\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n");
    for i in 0..=MAX_OPERATIONS {
        body.push_str(&format!(
            "--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
             POST http://127.0.0.1:10002/devstoreaccount1/t HTTP/1.1\r\nContent-Type: application/json\r\n\
             Content-ID: {i}\r\n\r\n{{\"PartitionKey\":\"p\",\"RowKey\":\"{i}\"}}\r\n"
        ));
    }
    body.push_str("--cs--\r\n--batch_1--\r\n");
    let result = parse_batch("multipart/mixed; boundary=batch_1", body.as_bytes());
    let err = result.expect_err("101 operations must be refused");
    assert_eq!(err.status, 400);
}
