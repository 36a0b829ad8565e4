use super::*;
use time::macros::datetime;

const BASE: &str = "https://fakeaccount.table.core.windows.net";

fn recorded_props() -> Properties {
    vec![
        ("Binary".into(), EdmValue::Binary(b"SomeBinary".to_vec())),
        ("Bool".into(), EdmValue::Boolean(false)),
        (
            "DateTime".into(),
            EdmValue::DateTime(datetime!(2013-08-02 17:37:43.0090043 UTC)),
        ),
        ("Double".into(), EdmValue::Double(1234.1234)),
        (
            "Guid".into(),
            EdmValue::Guid("4185404a-5818-48c3-b9be-f217df0dba6f".into()),
        ),
        ("Int32".into(), EdmValue::Int32(1234)),
        ("Int64".into(), EdmValue::Int64(123456789012)),
        ("String".into(), EdmValue::String("test".into())),
    ]
}

const TS: OffsetDateTime = datetime!(2022-04-13 19:25:37.512524 UTC);

#[test]
fn etag_matches_recording() {
    assert_eq!(
        entity_etag(TS),
        r#"W/"datetime'2022-04-13T19%3A25%3A37.512524Z'""#
    );
    assert_eq!(
        entity_etag(datetime!(2022-04-13 19:25:26.7575136 UTC)),
        r#"W/"datetime'2022-04-13T19%3A25%3A26.7575136Z'""#
    );
}

fn recorded_entity(level: Metadata, select: Option<&[String]>) -> String {
    let props = recorded_props();
    let etag = entity_etag(TS);
    let view = EntityView {
        partition_key: "partition",
        row_key: "1",
        timestamp: TS,
        etag: &etag,
        properties: &props,
    };
    render_entity(BASE, "tableName1318965604", &view, level, select)
}

#[test]
fn minimal_metadata_equals_recorded_response() {
    // ResponseBody of the point query in the TestEdmMarshalling recording.
    let recorded = r#"{"odata.metadata":"https://fakeaccount.table.core.windows.net/$metadata#tableName1318965604/@Element","odata.etag":"W/\"datetime'2022-04-13T19%3A25%3A37.512524Z'\"","PartitionKey":"partition","RowKey":"1","Timestamp":"2022-04-13T19:25:37.512524Z","Binary@odata.type":"Edm.Binary","Binary":"U29tZUJpbmFyeQ==","Bool":false,"DateTime@odata.type":"Edm.DateTime","DateTime":"2013-08-02T17:37:43.0090043Z","Double":1234.1234,"Guid@odata.type":"Edm.Guid","Guid":"4185404a-5818-48c3-b9be-f217df0dba6f","Int32":1234,"Int64@odata.type":"Edm.Int64","Int64":"123456789012","String":"test"}"#;
    assert_eq!(recorded_entity(Metadata::Minimal, None), recorded);
}

#[test]
fn no_metadata_has_no_odata_keys() {
    let expected = r#"{"PartitionKey":"partition","RowKey":"1","Timestamp":"2022-04-13T19:25:37.512524Z","Binary":"U29tZUJpbmFyeQ==","Bool":false,"DateTime":"2013-08-02T17:37:43.0090043Z","Double":1234.1234,"Guid":"4185404a-5818-48c3-b9be-f217df0dba6f","Int32":1234,"Int64":"123456789012","String":"test"}"#;
    assert_eq!(recorded_entity(Metadata::None, None), expected);
}

#[test]
fn full_metadata_adds_identity_and_timestamp_type() {
    let expected = r#"{"odata.metadata":"https://fakeaccount.table.core.windows.net/$metadata#tableName1318965604/@Element","odata.type":"fakeaccount.tableName1318965604","odata.id":"https://fakeaccount.table.core.windows.net/tableName1318965604(PartitionKey='partition',RowKey='1')","odata.etag":"W/\"datetime'2022-04-13T19%3A25%3A37.512524Z'\"","odata.editLink":"tableName1318965604(PartitionKey='partition',RowKey='1')","PartitionKey":"partition","RowKey":"1","Timestamp@odata.type":"Edm.DateTime","Timestamp":"2022-04-13T19:25:37.512524Z","Binary@odata.type":"Edm.Binary","Binary":"U29tZUJpbmFyeQ==","Bool":false,"DateTime@odata.type":"Edm.DateTime","DateTime":"2013-08-02T17:37:43.0090043Z","Double":1234.1234,"Guid@odata.type":"Edm.Guid","Guid":"4185404a-5818-48c3-b9be-f217df0dba6f","Int32":1234,"Int64@odata.type":"Edm.Int64","Int64":"123456789012","String":"test"}"#;
    assert_eq!(recorded_entity(Metadata::Full, None), expected);
}

#[test]
fn select_keeps_named_properties_and_nulls_missing_ones() {
    let select = vec!["Int32".to_string(), "RowKey".into(), "Missing".into()];
    let out = recorded_entity(Metadata::None, Some(&select));
    assert_eq!(out, r#"{"RowKey":"1","Int32":1234,"Missing":null}"#);
    let all = vec!["*".to_string()];
    assert_eq!(
        recorded_entity(Metadata::None, Some(&all)),
        recorded_entity(Metadata::None, None)
    );
}

#[test]
fn doubles_keep_their_type() {
    let props: Properties = vec![
        ("w".into(), EdmValue::Double(2.0)),
        ("n".into(), EdmValue::Double(f64::NAN)),
        ("i".into(), EdmValue::Double(f64::INFINITY)),
        ("m".into(), EdmValue::Double(f64::NEG_INFINITY)),
        ("e".into(), EdmValue::Double(1e300)),
        ("s".into(), EdmValue::String("q\"\\\n😀".into())),
    ];
    let view = EntityView {
        partition_key: "p",
        row_key: "r",
        timestamp: datetime!(2022-01-01 0:00 UTC),
        etag: "e",
        properties: &props,
    };
    let out = render_entity_list(
        "http://127.0.0.1:10002/devstoreaccount1",
        "t",
        &[view],
        Metadata::Minimal,
        None,
    );
    assert_eq!(
        out,
        r#"{"odata.metadata":"http://127.0.0.1:10002/devstoreaccount1/$metadata#t","value":[{"odata.etag":"e","PartitionKey":"p","RowKey":"r","Timestamp":"2022-01-01T00:00:00Z","w@odata.type":"Edm.Double","w":2.0,"n@odata.type":"Edm.Double","n":"NaN","i@odata.type":"Edm.Double","i":"Infinity","m@odata.type":"Edm.Double","m":"-Infinity","e@odata.type":"Edm.Double","e":1e+300,"s":"q\"\\\n😀"}]}"#
    );
    // What we render, we read back with the same types.
    let single = EntityView {
        partition_key: "p",
        row_key: "r",
        timestamp: TS,
        etag: "e",
        properties: &props,
    };
    let body = render_entity("b", "t", &single, Metadata::Minimal, None);
    let parsed = crate::json_in::parse_entity(body.as_bytes()).expect("reparses");
    assert_eq!(format!("{:?}", parsed.properties), format!("{props:?}"));
}

#[test]
fn tables_render_like_azure() {
    assert_eq!(
        render_table(BASE, "tableName1318965604", Metadata::Minimal),
        r#"{"odata.metadata":"https://fakeaccount.table.core.windows.net/$metadata#Tables/@Element","TableName":"tableName1318965604"}"#
    );
    assert_eq!(
        render_table(BASE, "t", Metadata::None),
        r#"{"TableName":"t"}"#
    );
    let dev = "http://127.0.0.1:10002/devstoreaccount1";
    assert_eq!(
        render_table(dev, "t", Metadata::Full),
        r#"{"odata.metadata":"http://127.0.0.1:10002/devstoreaccount1/$metadata#Tables/@Element","odata.type":"devstoreaccount1.Tables","odata.id":"http://127.0.0.1:10002/devstoreaccount1/Tables('t')","odata.editLink":"Tables('t')","TableName":"t"}"#
    );
    assert_eq!(
        render_table_list(dev, &["a", "b"], Metadata::Minimal),
        r#"{"odata.metadata":"http://127.0.0.1:10002/devstoreaccount1/$metadata#Tables","value":[{"TableName":"a"},{"TableName":"b"}]}"#
    );
    assert_eq!(
        render_table_list(dev, &[], Metadata::None),
        r#"{"value":[]}"#
    );
}

#[test]
fn accept_header_selects_level() {
    let cases: &[(Option<&str>, Metadata)] = &[
        (None, Metadata::Minimal),
        (Some("*/*"), Metadata::Minimal),
        (Some("application/json"), Metadata::Minimal),
        (
            Some("application/json;odata=minimalmetadata"),
            Metadata::Minimal,
        ),
        (Some("application/json;odata=nometadata"), Metadata::None),
        (Some("application/json; odata=fullmetadata"), Metadata::Full),
        (
            Some("application/atom+xml, application/json;odata=nometadata"),
            Metadata::None,
        ),
    ];
    for (accept, level) in cases {
        assert_eq!(
            Metadata::from_accept(*accept).expect("accepted"),
            *level,
            "{accept:?}"
        );
    }
    let err = Metadata::from_accept(Some("application/atom+xml")).expect_err("atom refused");
    assert_eq!(
        (err.code, err.status),
        (ErrorCode::AtomFormatNotSupported, 415)
    );
    assert_eq!(
        Metadata::Minimal.content_type(),
        "application/json; odata=minimalmetadata; streaming=true; charset=utf-8"
    );
}
