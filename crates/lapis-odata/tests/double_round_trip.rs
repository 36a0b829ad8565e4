//! Every finite `f64` comes back bit for bit: parsed from the JSON a client sends, stored by the
//! codec, printed at every metadata level, and parsed again by the next client. `$filter`
//! compares the exact stored value: `eq` matches it and neither neighbour.
//!
//! The value sets are every binade's smallest and largest value (subnormals included), both
//! zeros, the values a user found changed (`123456789.12345679`, `1.5e-300`), and arbitrary bit
//! patterns.

use lapis_odata::{
    decode_property_refs, encode_properties, parse_entity, parse_filter, render_entity,
    render_entity_list, EdmValue, EntityView, Metadata, ValueRef,
};
use proptest::prelude::*;
use time::OffsetDateTime;

const LEVELS: [Metadata; 3] = [Metadata::None, Metadata::Minimal, Metadata::Full];

/// The printed JSON of one Double property, as a client would send it back.
fn printed(d: f64, level: Metadata) -> String {
    let stored = encode_properties(&vec![("D".to_string(), EdmValue::Double(d))]);
    let props = decode_property_refs(&stored).expect("codec decodes what it encoded");
    let view = EntityView {
        partition_key: "p",
        row_key: "r",
        timestamp: OffsetDateTime::UNIX_EPOCH,
        properties: &props,
    };
    render_entity("http://h/a", "t", &view, level, None)
}

/// The Double a client's JSON body gives after the request parser and the storage codec.
fn stored_from(json: &str) -> f64 {
    let entity = parse_entity(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e:?}"));
    let stored = encode_properties(&entity.properties);
    let props = decode_property_refs(&stored).expect("codec");
    match props.iter().find(|(n, _)| *n == "D") {
        Some((_, ValueRef::Double(d))) => *d,
        Some((_, ValueRef::Int32(i))) => f64::from(*i),
        other => panic!("{json}: D is {other:?}"),
    }
}

/// Whether `$filter=D <op> <literal>` holds for an entity whose D is `d`.
fn filter_holds(d: f64, op: &str, literal: f64) -> bool {
    let filter = parse_filter(&format!("D {op} {}", filter_literal(literal))).expect("filter");
    let stored = encode_properties(&vec![("D".to_string(), EdmValue::Double(d))]);
    filter.matches_encoded("p", "r", OffsetDateTime::UNIX_EPOCH, &stored)
}

/// A double literal as a client writes one in `$filter`: shortest round-trip digits, always
/// with a fraction or exponent so that it is not read as an integer.
fn filter_literal(d: f64) -> String {
    let text = format!("{d:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

fn assert_round_trips(d: f64) {
    // What a client sends: Python's repr, Go's strconv 'g' -1, JS's toString (all shortest).
    let sent = format!(
        r#"{{"PartitionKey":"p","RowKey":"r","D":{},"D@odata.type":"Edm.Double"}}"#,
        filter_literal(d)
    );
    let stored = stored_from(&sent);
    assert_eq!(
        stored.to_bits(),
        d.to_bits(),
        "parsing {sent} gave {stored:?}, not {d:?}"
    );
    for level in LEVELS {
        let json = printed(d, level);
        let back = stored_from(&json);
        assert_eq!(
            back.to_bits(),
            d.to_bits(),
            "{level:?}: {json} read back as {back:?}"
        );
    }
    let list = {
        let stored = encode_properties(&vec![("D".to_string(), EdmValue::Double(d))]);
        let props = decode_property_refs(&stored).expect("codec");
        let view = EntityView {
            partition_key: "p",
            row_key: "r",
            timestamp: OffsetDateTime::UNIX_EPOCH,
            properties: &props,
        };
        render_entity_list("http://h/a", "t", &[view], Metadata::Minimal, None)
    };
    // The one entity of the list, as its raw text: `{"value":[{...}]}`.
    let entity = list
        .split_once("\"value\":[")
        .and_then(|(_, rest)| rest.strip_suffix("]}"))
        .expect("one entity in the list");
    assert_eq!(stored_from(entity).to_bits(), d.to_bits(), "{list}");
}

fn assert_filter_exact(d: f64) {
    assert!(filter_holds(d, "eq", d), "D eq {d:?}");
    let up = next_up(d);
    let down = -next_up(-d);
    for neighbour in [up, down] {
        if neighbour.is_finite() && neighbour != d {
            assert!(
                !filter_holds(d, "eq", neighbour),
                "D={d:?} eq {neighbour:?}"
            );
            assert!(filter_holds(d, "ne", neighbour), "D={d:?} ne {neighbour:?}");
        }
    }
    if up.is_finite() {
        assert!(filter_holds(d, "lt", up), "D={d:?} lt {up:?}");
        assert!(!filter_holds(d, "ge", up), "D={d:?} ge {up:?}");
    }
}

/// The next representable value above `d` (finite `d`).
fn next_up(d: f64) -> f64 {
    if d == 0.0 {
        return f64::from_bits(1);
    }
    let bits = d.to_bits();
    f64::from_bits(if d > 0.0 { bits + 1 } else { bits - 1 })
}

/// Every binade's smallest and largest positive value, subnormals and zero included, and
/// their negatives.
fn binade_edges() -> Vec<f64> {
    let mut out = Vec::new();
    for exponent in 0u64..0x7ff {
        for mantissa in [0u64, 1, 0x000f_ffff_ffff_ffff] {
            let d = f64::from_bits((exponent << 52) | mantissa);
            out.push(d);
            out.push(-d);
        }
    }
    out
}

#[test]
fn the_values_a_user_found_changed_round_trip() {
    for d in [
        123456789.12345679,
        1.5e-300,
        0.1,
        1.0 / 3.0,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        -0.0,
        0.0,
    ] {
        assert_round_trips(d);
        assert_filter_exact(d);
    }
}

#[test]
fn every_binade_edge_round_trips() {
    for d in binade_edges() {
        assert_round_trips(d);
    }
}

#[test]
fn filters_compare_binade_edges_exactly() {
    for d in binade_edges().into_iter().step_by(7) {
        assert_filter_exact(d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_finite_double_round_trips(bits in any::<u64>()) {
        let d = f64::from_bits(bits);
        prop_assume!(d.is_finite());
        assert_round_trips(d);
    }

    #[test]
    fn filters_compare_any_double_exactly(bits in any::<u64>()) {
        let d = f64::from_bits(bits);
        prop_assume!(d.is_finite());
        assert_filter_exact(d);
    }
}
