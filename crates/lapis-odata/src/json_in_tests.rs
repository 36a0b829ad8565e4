use super::*;
use time::macros::datetime;

fn code_of(body: &str) -> ErrorCode {
    match parse_entity(body.as_bytes()) {
        Ok(_) => panic!("{body} was accepted"),
        Err(e) => e.code,
    }
}

#[test]
fn parses_recorded_edm_entity() {
    // The request body of the TestEdmMarshalling recording.
    let body = r#"{"Binary":"U29tZUJpbmFyeQ==","Binary@odata.type":"Edm.Binary","Bool":false,"DateTime":"2013-08-02T17:37:43.0090043Z","DateTime@odata.type":"Edm.DateTime","Double":1234.1234,"Guid":"4185404a-5818-48c3-b9be-f217df0dba6f","Guid@odata.type":"Edm.Guid","Int32":1234,"Int64":"123456789012","Int64@odata.type":"Edm.Int64","PartitionKey":"partition","RowKey":"1","String":"test","Timestamp":"0001-01-01T00:00:00Z","odata.etag":"x","Nothing":null}"#;
    let e = parse_entity(body.as_bytes()).expect("parses");
    assert_eq!(e.partition_key.as_deref(), Some("partition"));
    assert_eq!(e.row_key.as_deref(), Some("1"));
    assert_eq!(
        e.properties,
        vec![
            ("Binary".into(), EdmValue::Binary(b"SomeBinary".to_vec())),
            ("Bool".into(), EdmValue::Boolean(false)),
            (
                "DateTime".into(),
                EdmValue::DateTime(datetime!(2013-08-02 17:37:43.0090043 UTC))
            ),
            ("Double".into(), EdmValue::Double(1234.1234)),
            (
                "Guid".into(),
                EdmValue::Guid("4185404a-5818-48c3-b9be-f217df0dba6f".into())
            ),
            ("Int32".into(), EdmValue::Int32(1234)),
            ("Int64".into(), EdmValue::Int64(123456789012)),
            ("String".into(), EdmValue::String("test".into())),
        ]
    );
}

#[test]
fn infers_and_reads_special_values() {
    let body = r#"{"a":2147483648,"b":-2147483648,"c":1.0,"d":"NaN","d@odata.type":"Edm.Double","e":"-Infinity","e@odata.type":"Edm.Double","f":"-9223372036854775808","f@odata.type":"Edm.Int64","g":"","h":"ü😀","t":"2020-01-01T01:00:00+01:00","t@odata.type":"Edm.DateTime"}"#;
    let p = parse_entity(body.as_bytes()).expect("parses").properties;
    assert_eq!(p[0].1, EdmValue::Double(2147483648.0));
    assert_eq!(p[1].1, EdmValue::Int32(i32::MIN));
    assert_eq!(p[2].1, EdmValue::Double(1.0));
    assert!(matches!(p[3].1, EdmValue::Double(d) if d.is_nan()));
    assert_eq!(p[4].1, EdmValue::Double(f64::NEG_INFINITY));
    assert_eq!(p[5].1, EdmValue::Int64(i64::MIN));
    assert_eq!(p[6].1, EdmValue::String(String::new()));
    assert_eq!(p[7].1, EdmValue::String("ü😀".into()));
    assert_eq!(p[8].1, EdmValue::DateTime(datetime!(2020-01-01 0:00 UTC)));
}

#[test]
fn refuses_bad_input_with_azure_codes() {
    use ErrorCode::*;
    let long_name = "a".repeat(256);
    let long_string = "x".repeat(32 * 1024 + 1);
    let long_key = "k".repeat(1025);
    let many: String = (0..253).map(|i| format!("\"p{i}\":1,")).collect();
    let big_binary = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 64 * 1024 + 1]);
    let near_max = "y".repeat(32 * 1024);
    let huge: String = (0..17)
        .map(|i| format!("\"s{i}\":\"{near_max}\","))
        .collect();
    let cases: Vec<(String, ErrorCode)> = vec![
        ("not json".into(), InvalidInput),
        ("[1,2]".into(), InvalidInput),
        (r#"{"a":{"b":1}}"#.into(), InvalidInput),
        (
            r#"{"a":"abc","a@odata.type":"Edm.Int64"}"#.into(),
            InvalidInput,
        ),
        (
            r#"{"a":1.5,"a@odata.type":"Edm.Int32"}"#.into(),
            InvalidInput,
        ),
        (
            r#"{"a":"x","a@odata.type":"Edm.Guid"}"#.into(),
            InvalidInput,
        ),
        (
            r#"{"a":"%%","a@odata.type":"Edm.Binary"}"#.into(),
            InvalidInput,
        ),
        (
            r#"{"a":"2020-13-01T00:00:00Z","a@odata.type":"Edm.DateTime"}"#.into(),
            InvalidInput,
        ),
        (
            r#"{"a":"x","a@odata.type":"Edm.Decimal"}"#.into(),
            InvalidInput,
        ),
        (r#"{"PartitionKey":5}"#.into(), InvalidInput),
        (r#"{"a":1,"a":2}"#.into(), DuplicatePropertiesSpecified),
        (r#"{"1a":1}"#.into(), PropertyNameInvalid),
        (r#"{"a-b":1}"#.into(), PropertyNameInvalid),
        (format!(r#"{{"{long_name}":1}}"#), PropertyNameTooLong),
        (format!(r#"{{"s":"{long_string}"}}"#), PropertyValueTooLarge),
        (
            format!(r#"{{"b":"{big_binary}","b@odata.type":"Edm.Binary"}}"#),
            PropertyValueTooLarge,
        ),
        (format!("{{{many}\"last\":1}}"), TooManyProperties),
        (format!("{{{huge}\"last\":1}}"), EntityTooLarge),
        (
            format!(r#"{{"PartitionKey":"{long_key}"}}"#),
            OutOfRangeInput,
        ),
        (r#"{"RowKey":"a/b"}"#.into(), OutOfRangeInput),
        (r#"{"RowKey":"a#b"}"#.into(), OutOfRangeInput),
        (r#"{"PartitionKey":"a\u0001"}"#.into(), OutOfRangeInput),
        (r#"{"PartitionKey":"a\u0085"}"#.into(), OutOfRangeInput),
    ];
    for (body, code) in cases {
        assert_eq!(code_of(&body), code, "{}", &body[..body.len().min(60)]);
    }
}

#[test]
fn limits_are_inclusive() {
    let many: String = (0..251).map(|i| format!("\"p{i}\":1,")).collect();
    assert!(parse_entity(format!("{{{many}\"last\":1}}").as_bytes()).is_ok());
    let s = "x".repeat(32 * 1024);
    assert!(parse_entity(format!(r#"{{"s":"{s}"}}"#).as_bytes()).is_ok());
    let k = "k".repeat(1024);
    assert!(parse_entity(format!(r#"{{"PartitionKey":"{k}","RowKey":""}}"#).as_bytes()).is_ok());
}

#[test]
fn table_name_body() {
    assert_eq!(
        parse_table_name(br#"{"TableName":"t1"}"#).expect("parses"),
        "t1"
    );
    assert_eq!(
        parse_table_name(b"{}").expect_err("missing").code,
        ErrorCode::PropertiesNeedValue
    );
    assert_eq!(
        parse_table_name(b"{").expect_err("bad").code,
        ErrorCode::InvalidInput
    );
    assert_eq!(
        parse_table_name(br#"{"TableName":1}"#)
            .expect_err("bad")
            .code,
        ErrorCode::InvalidInput
    );
}

#[test]
fn typed_values_sent_as_strings_are_read_as_their_type() {
    // What the Azure CLI sends for --entity B=true B@odata.type=Edm.Boolean and the like.
    let body = r#"{"PartitionKey":"p","RowKey":"r","B":"true","B@odata.type":"Edm.Boolean","F":"False","F@odata.type":"Edm.Boolean","I":"-5","I@odata.type":"Edm.Int32","D":"1.5","D@odata.type":"Edm.Double","L":"9007199254740993","L@odata.type":"Edm.Int64"}"#;
    let e = parse_entity(body.as_bytes()).expect("accepted");
    assert_eq!(
        e.properties,
        vec![
            ("B".to_string(), EdmValue::Boolean(true)),
            ("F".to_string(), EdmValue::Boolean(false)),
            ("I".to_string(), EdmValue::Int32(-5)),
            ("D".to_string(), EdmValue::Double(1.5)),
            ("L".to_string(), EdmValue::Int64(9007199254740993)),
        ]
    );
    for bad in [
        r#"{"B":"yes","B@odata.type":"Edm.Boolean"}"#,
        r#"{"I":"2147483648","I@odata.type":"Edm.Int32"}"#,
        r#"{"I":"1.5","I@odata.type":"Edm.Int32"}"#,
    ] {
        assert_eq!(code_of(bad), ErrorCode::InvalidInput, "{bad}");
    }
}
