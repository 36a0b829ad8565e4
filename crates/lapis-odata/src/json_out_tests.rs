use super::*;
use crate::model::{property_refs, EdmValue, Properties};
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
    let view = EntityView {
        partition_key: "partition",
        row_key: "1",
        timestamp: TS,
        properties: &property_refs(&props),
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
    let refs = property_refs(&props);
    let view = EntityView {
        partition_key: "p",
        row_key: "r",
        timestamp: datetime!(2022-01-01 0:00 UTC),
        properties: &refs,
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
        r#"{"odata.metadata":"http://127.0.0.1:10002/devstoreaccount1/$metadata#t","value":[{"odata.etag":"W/\"datetime'2022-01-01T00%3A00%3A00Z'\"","PartitionKey":"p","RowKey":"r","Timestamp":"2022-01-01T00:00:00Z","w@odata.type":"Edm.Double","w":2.0,"n@odata.type":"Edm.Double","n":"NaN","i@odata.type":"Edm.Double","i":"Infinity","m@odata.type":"Edm.Double","m":"-Infinity","e@odata.type":"Edm.Double","e":1e+300,"s":"q\"\\\n😀"}]}"#
    );
    // What we render, we read back with the same types.
    let single = EntityView {
        partition_key: "p",
        row_key: "r",
        timestamp: TS,
        properties: &refs,
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
        render_table_list(dev, &["a", "b"], Metadata::Minimal, None),
        r#"{"odata.metadata":"http://127.0.0.1:10002/devstoreaccount1/$metadata#Tables","value":[{"TableName":"a"},{"TableName":"b"}]}"#
    );
    assert_eq!(
        render_table_list(dev, &[], Metadata::None, None),
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

/// `s` as a JSON string, the way the renderer spelled it before it escaped by itself.
fn serde_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn escaped(s: &str) -> String {
    let mut out = String::new();
    push_json_string(&mut out, s);
    out
}

#[test]
fn strings_escape_exactly_like_serde_json() {
    let mut cases: Vec<String> = (0u32..0x80)
        .map(|c| char::from_u32(c).expect("ASCII").to_string())
        .collect();
    cases.extend(
        [
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "\\\"\\\"",
            "a/b</script>",
            "tab\there\nnew\r\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "héllo wörld",
            "😀 emoji \u{10ffff} \u{2028}\u{2029}",
            "\u{0}\u{0}x\u{0}",
            "ends with control\u{1}",
            "\"",
        ]
        .map(String::from),
    );
    let all_ascii: String = (0u8..0x80).map(char::from).collect();
    cases.push(all_ascii.repeat(3));
    for s in &cases {
        assert_eq!(escaped(s), serde_string(s), "{s:?}");
    }
}

#[test]
fn numbers_render_exactly_like_serde_json() {
    let doubles = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        19.99,
        1234.1234,
        0.1 + 0.2,
        1e300,
        -1e300,
        1e-7,
        1e16,
        1e15,
        123456789012345680.0,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        std::f64::consts::PI,
        9007199254740993.0,
    ];
    for d in doubles {
        assert_eq!(rendered_value(ValueRef::Double(d)), old_double(d), "{d:?}");
    }
    for i in [0, 1, -1, 42, i32::MIN, i32::MAX] {
        assert_eq!(rendered_value(ValueRef::Int32(i)), i.to_string());
    }
    for i in [0, -1, 123456789012, i64::MIN, i64::MAX] {
        assert_eq!(rendered_value(ValueRef::Int64(i)), format!("\"{i}\""));
    }
}

/// How a value was rendered before: through a `serde_json::Value`.
fn old_double(d: f64) -> String {
    serde_json::Value::from(d).to_string()
}

/// The JSON text of one property value, annotation and key stripped.
fn rendered_value(value: ValueRef) -> String {
    let mut out = String::from("{");
    push_property(&mut out, "v", value, Metadata::None);
    out.strip_prefix("{\"v\":").expect("one member").to_string()
}

/// `format_datetime` as it was: two `format!`s and a trim.
fn old_format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let ticks = t.nanosecond() / 100;
    if ticks != 0 {
        let digits = format!("{ticks:07}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[test]
fn datetimes_and_etags_render_as_before() {
    let times = [
        TS,
        datetime!(1601-01-01 0:00 UTC),
        datetime!(0001-01-01 0:00 UTC),
        datetime!(9999-12-31 23:59:59.9999999 UTC),
        datetime!(2022-04-13 19:25:26.7575136 UTC),
        datetime!(2022-04-13 19:25:26.1 UTC),
        datetime!(2022-04-13 19:25:26.0000001 UTC),
        datetime!(2022-04-13 19:25:26.00000009 UTC),
        datetime!(2022-04-13 19:25:26.5 +02:00),
        datetime!(-0005-03-01 1:02:03.4 UTC),
        OffsetDateTime::from_unix_timestamp(-377_705_116_800).expect("the earliest instant"),
    ];
    for t in times {
        let text = old_format_datetime(t);
        assert_eq!(crate::format_datetime(t), text);
        assert_eq!(
            entity_etag(t),
            format!("W/\"datetime'{}'\"", text.replace(':', "%3A"))
        );
        assert_eq!(rendered_value(ValueRef::DateTime(t)), serde_string(&text));
    }
}

#[test]
fn full_metadata_escapes_keys_like_before() {
    let (pk, rk) = ("it's \"q\"\\/\u{1}é", "''");
    let table = "t1";
    let props = vec![("we\"ird\n".to_string(), EdmValue::Int64(7))];
    let view = EntityView {
        partition_key: pk,
        row_key: rk,
        timestamp: TS,
        properties: &property_refs(&props),
    };
    let base = "http://127.0.0.1:10002/devstoreaccount1";
    let out = render_entity(base, table, &view, Metadata::Full, None);
    // Spelled as the renderer did before: whole strings built with format!, then escaped.
    let key_path = format!(
        "{table}(PartitionKey='{}',RowKey='{}')",
        pk.replace('\'', "''"),
        rk.replace('\'', "''")
    );
    let member = |k: &str, v: &str| format!("{}:{}", serde_string(k), serde_string(v));
    let expected = [
        member(
            "odata.metadata",
            &format!("{base}/$metadata#{table}/@Element"),
        ),
        member("odata.type", &format!("devstoreaccount1.{table}")),
        member("odata.id", &format!("{base}/{key_path}")),
        member("odata.etag", &entity_etag(TS)),
        member("odata.editLink", &key_path),
        member("PartitionKey", pk),
        member("RowKey", rk),
        member("Timestamp@odata.type", "Edm.DateTime"),
        member("Timestamp", &old_format_datetime(TS)),
        member("we\"ird\n@odata.type", "Edm.Int64"),
        member("we\"ird\n", "7"),
    ]
    .join(",");
    assert_eq!(out, format!("{{{expected}}}"));
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in any::<String>()) {
            prop_assert_eq!(escaped(&s), serde_string(&s));
        }

        /// Runs long enough for the eight-bytes-at-a-time search, with the bytes it must find
        /// (and their neighbours 0x1f/0x20, '!'/'#', '['/']', multi-byte characters) anywhere.
        #[test]
        fn escapes_found_at_every_position(
            chars in proptest::collection::vec(
                prop::sample::select(vec![
                    'a', 'Z', ' ', '!', '#', '"', '\\', '[', ']', '\u{1f}', '\u{0}', '\n', '\u{7f}',
                    'é', '😀', '\u{80}',
                ]),
                0..40,
            ),
        ) {
            let s: String = chars.into_iter().collect();
            prop_assert_eq!(escaped(&s), serde_string(&s));
        }

        #[test]
        fn any_finite_double_renders_like_serde_json(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            prop_assume!(d.is_finite());
            prop_assert_eq!(rendered_value(ValueRef::Double(d)), old_double(d));
        }

        #[test]
        fn any_integer_renders_like_to_string(v in any::<i64>(), w in any::<i32>()) {
            prop_assert_eq!(rendered_value(ValueRef::Int64(v)), format!("\"{v}\""));
            prop_assert_eq!(rendered_value(ValueRef::Int32(w)), w.to_string());
        }

        #[test]
        fn any_datetime_renders_as_before(
            // Every year `time` supports, -9999 to 9999.
            secs in -377_705_116_800i64..253_402_300_800,
            nanos in 0u32..1_000_000_000,
        ) {
            let t = OffsetDateTime::from_unix_timestamp(secs)
                .expect("in range")
                .replace_nanosecond(nanos)
                .expect("valid nanos");
            prop_assert_eq!(crate::format_datetime(t), old_format_datetime(t));
        }
    }
}

#[test]
fn integers_render_like_to_string() {
    let mut cases = vec![
        0,
        1,
        -1,
        9,
        10,
        -10,
        99,
        100,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
    ];
    cases.extend((0..19).map(|p| 10i64.pow(p)));
    cases.extend((0..19).map(|p| -(10i64.pow(p)) - 1));
    for v in cases {
        let mut out = String::new();
        push_integer(&mut out, v);
        assert_eq!(out, v.to_string());
    }
}
