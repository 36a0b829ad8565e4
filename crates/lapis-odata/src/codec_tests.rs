use super::*;
use time::macros::datetime;

fn every_type() -> Properties {
    vec![
        ("s".into(), EdmValue::String(String::new())),
        ("u".into(), EdmValue::String("héllo 😀 \u{0}".into())),
        ("i".into(), EdmValue::Int32(i32::MIN)),
        ("i2".into(), EdmValue::Int32(i32::MAX)),
        ("l".into(), EdmValue::Int64(i64::MIN)),
        ("l2".into(), EdmValue::Int64(i64::MAX)),
        ("d".into(), EdmValue::Double(-0.0)),
        ("d2".into(), EdmValue::Double(f64::INFINITY)),
        ("d3".into(), EdmValue::Double(f64::NEG_INFINITY)),
        ("d4".into(), EdmValue::Double(1234.1234)),
        ("b".into(), EdmValue::Boolean(true)),
        (
            "t".into(),
            EdmValue::DateTime(datetime!(2013-08-02 17:37:43.0090043 UTC)),
        ),
        (
            "t0".into(),
            EdmValue::DateTime(datetime!(1601-01-01 0:00 UTC)),
        ),
        (
            "g".into(),
            EdmValue::Guid("4185404A-5818-48c3-b9be-f217df0dba6f".into()),
        ),
        ("x".into(), EdmValue::Binary(vec![0, 255, 1])),
        ("x0".into(), EdmValue::Binary(Vec::new())),
    ]
}

#[test]
fn round_trips_every_type_exactly() {
    let props = every_type();
    let decoded = decode_properties(&encode_properties(&props)).expect("decodes");
    assert_eq!(decoded, props);
    let (_, EdmValue::Double(z)) = &decoded[6] else {
        panic!("type changed")
    };
    assert!(z.is_sign_negative());
}

#[test]
fn round_trips_nan_bit_pattern() {
    let weird_nan = f64::from_bits(0x7ff8_0000_dead_beef);
    let props = vec![("n".to_string(), EdmValue::Double(weird_nan))];
    let decoded = decode_properties(&encode_properties(&props)).expect("decodes");
    let (_, EdmValue::Double(d)) = &decoded[0] else {
        panic!("type changed")
    };
    assert_eq!(d.to_bits(), weird_nan.to_bits());
}

#[test]
fn empty_properties_round_trip() {
    assert_eq!(
        decode_properties(&encode_properties(&Vec::new())).expect("decodes"),
        Vec::new()
    );
}

#[test]
fn corrupt_bytes_are_errors_never_panics() {
    let good = encode_properties(&every_type());
    for len in 0..good.len() {
        assert!(
            decode_properties(&good[..len]).is_err(),
            "truncated at {len}"
        );
    }
    let mut extra = good.clone();
    extra.push(0);
    assert!(decode_properties(&extra).is_err());
    let mut seed = 7u64;
    for _ in 0..2000 {
        let mut bytes = good.clone();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = (seed >> 33) as usize % bytes.len();
        bytes[at] = (seed >> 20) as u8;
        let _ = decode_properties(&bytes);
    }
    assert!(decode_properties(&[2, 0]).is_err());
    assert!(decode_properties(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
}

#[test]
fn merge_replaces_same_names_and_keeps_others() {
    let old = vec![
        ("a".into(), EdmValue::Int32(1)),
        ("B".into(), EdmValue::Boolean(false)),
    ];
    let new = vec![
        ("b".into(), EdmValue::Int32(2)),
        ("a".into(), EdmValue::String("x".into())),
    ];
    let merged = merge_properties(&old, &new);
    assert_eq!(
        merged,
        vec![
            ("a".into(), EdmValue::String("x".into())),
            ("B".into(), EdmValue::Boolean(false)),
            ("b".into(), EdmValue::Int32(2)),
        ]
    );
}

#[test]
fn borrowed_decode_round_trips_every_type() {
    let props = every_type();
    let bytes = encode_properties(&props);
    let refs = decode_property_refs(&bytes).expect("decodes");
    assert_eq!(refs, crate::model::property_refs(&props));
    let owned: Properties = refs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_edm_value()))
        .collect();
    assert_eq!(owned, props);
}

#[test]
fn finds_each_property_by_exact_name_without_decoding_the_rest() {
    let props = every_type();
    let bytes = encode_properties(&props);
    for (name, value) in &props {
        assert_eq!(
            find_property_ref(&bytes, name),
            Some(value.as_value_ref()),
            "{name}"
        );
    }
    assert_eq!(
        find_property_ref(&bytes, "S"),
        None,
        "names are case-sensitive"
    );
    assert_eq!(find_property_ref(&bytes, "missing"), None);
    assert_eq!(
        find_property_ref(&encode_properties(&Vec::new()), "s"),
        None
    );
    // A bad value is only an error where it is read: the first string here is not UTF-8.
    let mut bad = encode_properties(&vec![
        ("a".into(), EdmValue::String("x".into())),
        ("b".into(), EdmValue::Int32(7)),
    ]);
    let x = bad.iter().position(|&b| b == b'x').unwrap();
    bad[x] = 0xff;
    assert_eq!(find_property_ref(&bad, "a"), None);
    assert_eq!(find_property_ref(&bad, "b"), Some(ValueRef::Int32(7)));
    for len in 0..bytes.len() {
        let _ = find_property_ref(&bytes[..len], "l2");
    }
    assert_eq!(
        find_property_ref(&[2, 1, 0, 1, b's', 0], "s"),
        None,
        "unknown version"
    );
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Both decoders accept and reject the same bytes, with the same values and messages.
        #[test]
        fn borrowed_and_owned_decoders_agree(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            cut in any::<usize>(),
            random in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = encode_properties(&every_type());
            for (at, b) in edits {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            bytes.truncate(bytes.len() - cut % 4);
            for input in [&bytes[..], &random[..]] {
                match (decode_properties(input), decode_property_refs(input)) {
                    (Ok(owned), Ok(refs)) => {
                        // NaN != NaN: compare encodings.
                        let back: Properties =
                            refs.iter().map(|(n, v)| (n.to_string(), v.to_edm_value())).collect();
                        prop_assert_eq!(encode_properties(&back), encode_properties(&owned));
                    }
                    (Err(a), Err(b)) => prop_assert_eq!(a.message, b.message),
                    (a, b) => prop_assert!(false, "disagree: {:?} vs {:?}", a, b),
                }
            }
        }
    }
}
