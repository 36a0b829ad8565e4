use super::*;
use time::macros::datetime;

const TS: OffsetDateTime = datetime!(2022-04-13 19:25:37.512524 UTC);

fn props() -> Properties {
    vec![
        ("Name".into(), EdmValue::String("O'Brien".into())),
        ("Age".into(), EdmValue::Int32(30)),
        ("Big".into(), EdmValue::Int64(5_000_000_000)),
        ("Score".into(), EdmValue::Double(2.5)),
        ("Nan".into(), EdmValue::Double(f64::NAN)),
        ("Active".into(), EdmValue::Boolean(true)),
        (
            "When".into(),
            EdmValue::DateTime(datetime!(2021-07-13 0:00 UTC)),
        ),
        (
            "Id".into(),
            EdmValue::Guid("4185404a-5818-48c3-b9be-f217df0dba6f".into()),
        ),
        ("Bytes".into(), EdmValue::Binary(vec![0x0a, 0x0b])),
    ]
}

fn eval_on_row(text: &str) -> bool {
    parse_filter(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .matches("p1", "r5", TS, &props())
}

#[test]
fn evaluator_truth_table() {
    let cases: &[(&str, bool)] = &[
        ("PartitionKey eq 'p1'", true),
        ("PartitionKey ne 'p1'", false),
        ("RowKey gt 'r4' and RowKey lt 'r6'", true),
        ("RowKey ge 'r6' or PartitionKey le 'p0'", false),
        ("Name eq 'O''Brien'", true),
        ("Age eq 30", true),
        ("Age gt 29 and Age le 30", true),
        ("Age eq 30L", true),
        ("Age lt 30.5", true),
        ("Big eq 5000000000L", true),
        ("Big gt 5", true),
        ("Score eq 2.5", true),
        ("Score ge 2.5D", true),
        ("Score lt 2", false),
        ("Nan eq 1.0", false),
        ("Nan ne 1.0", true),
        ("Active eq true", true),
        ("Active", true),
        ("not Active", false),
        ("When eq datetime'2021-07-13T00:00:00Z'", true),
        ("When lt datetime'2021-07-13T00:00:00.0000001Z'", true),
        ("Timestamp gt datetime'2022-04-13T19:25:37Z'", true),
        ("Id eq guid'4185404A-5818-48C3-B9BE-F217DF0DBA6F'", true),
        ("Bytes eq X'0a0b'", true),
        ("Bytes eq binary'0A0C'", false),
        ("'p1' eq PartitionKey", true),
        ("'p2' gt PartitionKey", true),
        ("not (Age eq 30) or (Name eq 'x')", false),
        ("not not (Age eq 30)", true),
        ("(((Age eq 30)))", true),
        ("true", true),
        ("false or Age eq 30", true),
        // Type mismatch: false, for ne too.
        ("Age eq '30'", false),
        ("Age ne '30'", false),
        ("Name eq 1", false),
        ("Active eq 1", false),
        // Missing property: false, for ne too; not inverts it.
        ("Missing eq 'x'", false),
        ("Missing ne 'x'", false),
        ("not (Missing eq 'x')", true),
        ("Missing", false),
        // and binds tighter than or.
        ("Age eq 1 and Age eq 2 or Age eq 30", true),
        ("Age eq 30 or Age eq 1 and Age eq 2", true),
    ];
    for (text, expected) in cases {
        assert_eq!(eval_on_row(text), *expected, "{text}");
    }
}

#[test]
fn malformed_filters_are_invalid_input() {
    let bad = [
        "",
        "PartitionKey",
        "PartitionKey eq",
        "eq 'a'",
        "PartitionKey eq 'a",
        "PartitionKey == 'a'",
        "(Age eq 1",
        "Age eq 1)",
        "Age eq 1 and",
        "Age EQ 1",
        "Age eq 99999999999999999999",
        "Age eq 1.5.5",
        "Age eq 12abc",
        "When eq datetime'yesterday'",
        "Id eq guid'123'",
        "Bytes eq X'0'",
        "Bytes eq X'zz'",
        "Bytes eq foo'00'",
        "Age eq 1 Age eq 2",
        "'a'",
        "5",
        "not",
        "and",
        "Age eq eq",
        "Age eq 1 or or Age eq 2",
        "Name eq 'a' $",
        "Age eq -",
    ];
    for text in bad {
        let text = if text == "PartitionKey" {
            "PartitionKey eq 'a' PartitionKey"
        } else {
            text
        };
        match parse_filter(text) {
            Ok(f) => panic!("{text:?} parsed as {f:?}"),
            Err(e) => assert_eq!(e.code, ErrorCode::InvalidInput, "{text}"),
        }
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}Age eq 1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse_filter(&deep).is_err());
    let nots = format!("{}Active", "not ".repeat(100_000));
    assert!(parse_filter(&nots).is_err());
    let ok = format!("{}Age eq 30{}", "(".repeat(20), ")".repeat(20));
    assert!(eval_on_row(&ok));
}

#[test]
fn key_range_extraction() {
    let range = |t: &str| parse_filter(t).expect("parses").key_range();
    let r = range("PartitionKey eq 'p' and RowKey ge 'a' and RowKey lt 'b'");
    assert_eq!(
        r,
        KeyRange {
            pk_eq: Some("p".into()),
            rk_lower: Some(("a".into(), true)),
            rk_upper: Some(("b".into(), false)),
            ..KeyRange::default()
        }
    );
    // Reversed operands, tighter bounds win, equal values prefer exclusive.
    let r = range("'m' le PartitionKey and PartitionKey gt 'c' and PartitionKey lt 'x' and PartitionKey le 'x'");
    assert_eq!(r.pk_lower, Some(("m".into(), true)));
    assert_eq!(r.pk_upper, Some(("x".into(), false)));
    assert_eq!(r.pk_eq, None);
    // RowKey eq pins both ends.
    let r = range("RowKey eq 'k' and PartitionKey eq 'p' and Age gt 3");
    assert_eq!(r.rk_lower, Some(("k".into(), true)));
    assert_eq!(r.rk_upper, Some(("k".into(), true)));
    // Nothing under or/not, nothing for ne or non-string literals.
    assert_eq!(
        range("PartitionKey eq 'p' or RowKey eq 'a'"),
        KeyRange::default()
    );
    assert_eq!(range("not (PartitionKey eq 'p')"), KeyRange::default());
    assert_eq!(
        range("PartitionKey ne 'p' and RowKey eq 1"),
        KeyRange::default()
    );
    // Conjuncts inside nested parentheses of an and still count.
    assert_eq!(
        range("(PartitionKey eq 'p') and (Age eq 1 or Age eq 2)").pk_eq,
        Some("p".into())
    );
}

#[test]
fn key_range_contains_every_match() {
    let f = parse_filter("PartitionKey ge 'b' and PartitionKey lt 'd' and RowKey gt '1'")
        .expect("parses");
    let r = f.key_range();
    for pk in ["a", "b", "bz", "c", "d", "e"] {
        for rk in ["0", "1", "2"] {
            if f.matches(pk, rk, TS, &Vec::new()) {
                let (lo, lo_inc) = r.pk_lower.clone().expect("lower");
                let (hi, hi_inc) = r.pk_upper.clone().expect("upper");
                assert!(pk > lo.as_str() || (lo_inc && pk == lo));
                assert!(pk < hi.as_str() || (hi_inc && pk == hi));
            }
        }
    }
}

#[test]
fn fuzz_never_panics() {
    let alphabet = [
        "PartitionKey",
        "RowKey",
        "Age",
        "Name",
        " eq ",
        " ne ",
        " gt ",
        " lt ",
        " and ",
        " or ",
        "not ",
        "(",
        ")",
        "'",
        "''",
        "'x'",
        "1",
        "-",
        "L",
        "D",
        ".",
        "e",
        "5",
        "datetime'",
        "2021-07-13T00:00:00Z",
        "guid'",
        "X'",
        "0a",
        "true",
        "false",
        " ",
        "é",
        "\u{0}",
        "$",
        "99999999999",
    ];
    let mut seed = 0x1234_5678_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed = 0;
    for _ in 0..20_000 {
        let len = next() % 12;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if let Ok(f) = parse_filter(&text) {
            parsed += 1;
            let _ = f.matches("p", "r", TS, &props());
            let _ = f.key_range();
        }
    }
    assert!(
        parsed > 0,
        "the fuzz alphabet should produce some valid filters"
    );
}

#[test]
fn guids_compare_case_insensitively_in_order() {
    let f = |t: &str| {
        parse_filter(t)
            .expect("parses")
            .matches("p", "r", TS, &props())
    };
    assert!(f("Id ge guid'4185404A-5818-48C3-B9BE-F217DF0DBA6F'"));
    assert!(f("Id lt guid'4185404B-5818-48C3-B9BE-F217DF0DBA6F'"));
    assert!(f("Id gt guid'4185404a-5818-48c3-b9be-f217df0dba6e'"));
    assert!(!f("Id ne guid'4185404A-5818-48c3-B9BE-f217df0dba6f'"));
}

mod random {
    use super::*;
    use crate::codec::{decode_property_refs, encode_properties};
    use crate::model::property_refs;
    use proptest::prelude::*;

    fn operand() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "PartitionKey",
            "RowKey",
            "Timestamp",
            "Name",
            "Age",
            "Big",
            "Score",
            "Nan",
            "Active",
            "When",
            "Id",
            "Bytes",
            "Missing",
            "true",
            "false",
            "'p1'",
            "'r5'",
            "'O''Brien'",
            "''",
            "30",
            "30L",
            "5000000000L",
            "2.5",
            "-0.0",
            "NaN",
            "1e300",
            "datetime'2021-07-13T00:00:00Z'",
            "datetime'2022-04-13T19:25:37.512524Z'",
            "guid'4185404A-5818-48C3-B9BE-F217DF0DBA6F'",
            "guid'4185404a-5818-48c3-b9be-f217df0dba6f'",
            "guid'5185404a-5818-48c3-b9be-f217df0dba6f'",
            "X'0a0b'",
            "X'0a'",
        ])
    }

    fn operator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["eq", "ne", "gt", "ge", "lt", "le"])
    }

    fn token() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            operand(),
            operator(),
            prop::sample::select(vec!["and", "or", "not", "(", ")"]),
        ]
    }

    fn clause() -> impl Strategy<Value = String> {
        (operand(), operator(), operand()).prop_map(|(a, op, b)| format!("{a} {op} {b}"))
    }

    /// Mostly well-formed `A op B` clauses joined by and/or, sometimes raw token soup.
    fn filter_text() -> impl Strategy<Value = String> {
        let joiner = prop::sample::select(vec![" and ", " or ", " and not "]);
        prop_oneof![
            3 => (clause(), proptest::collection::vec((joiner, clause()), 0..4)).prop_map(
                |(first, rest)| rest.into_iter().fold(first, |acc, (j, c)| format!("({acc}){j}{c}"))
            ),
            1 => proptest::collection::vec(token(), 1..10).prop_map(|t| t.join(" ")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Owned properties, borrowed ones, ones borrowed from stored bytes and the stored
        /// bytes themselves all agree.
        #[test]
        fn borrowed_evaluation_equals_owned(
            text in filter_text(),
            pk in prop::sample::select(vec!["p1", "p0", "p2", ""]),
            rk in prop::sample::select(vec!["r5", "r4", "r6"]),
            drop in 0usize..10,
        ) {
            if let Ok(f) = parse_filter(&text) {
                let mut owned = props();
                if drop < owned.len() {
                    owned.remove(drop);
                }
                let encoded = encode_properties(&owned);
                let stored = decode_property_refs(&encoded).expect("decodes");
                let expected = f.matches(pk, rk, TS, &owned);
                prop_assert_eq!(f.matches_refs(pk, rk, TS, &property_refs(&owned)), expected);
                prop_assert_eq!(f.matches_refs(pk, rk, TS, &stored), expected);
                prop_assert_eq!(f.matches_encoded(pk, rk, TS, &encoded), expected);
            }
        }
    }
}
