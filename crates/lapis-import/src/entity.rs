//! An Azurite entity's stored properties turned into EDM-typed values, typed as Azurite itself
//! types them when it answers (its `NormalizedEntity` / `parseEntityProperty`):
//!
//! - with a `name@odata.type` annotation, that type: `Edm.Int64` as decimal text, `Edm.Double`
//!   as a number or `"NaN"` / `"Infinity"` / `"-Infinity"`, `Edm.Binary` as base64,
//!   `Edm.DateTime` as ISO 8601 text, `Edm.Guid` as base64 of the GUID's text (what Azurite 3.x
//!   stores so that string queries do not find GUIDs; older versions stored the text itself);
//! - without one, by the JSON value: a string is `Edm.String`, a boolean `Edm.Boolean`, an
//!   integral number `Edm.Int32` and any other number `Edm.Double`; `null` is no property.
//!
//! Azurite accepts an unannotated integer beyond Int32's range and answers it as a plain
//! number; Lapis cannot keep that as Int32, so it becomes Int64 (same value) and is reported.

use base64::Engine as _;
use lapis_odata::EdmValue;
use serde_json::Value;

const ODATA_TYPE: &str = "@odata.type";

/// Properties that are the entity's keys and timestamp, not user properties.
const SYSTEM: [&str; 3] = ["PartitionKey", "RowKey", "Timestamp"];

/// What converting an entity's properties gave: the user properties in stored order, and
/// notes about values that could not keep their exact form.
#[derive(Debug, Default, PartialEq)]
pub struct Converted {
    pub properties: Vec<(String, EdmValue)>,
    pub widened: Vec<String>,
}

pub fn convert(stored: &[(String, Value)]) -> Result<Converted, String> {
    let annotation = |name: &str| -> Result<Option<&str>, String> {
        let key = format!("{name}{ODATA_TYPE}");
        match stored.iter().find(|(k, _)| *k == key) {
            None => Ok(None),
            Some((_, Value::String(t))) => Ok(Some(t.as_str())),
            Some((_, other)) => Err(format!("{key} is {other}, not a type name")),
        }
    };
    let mut out = Converted::default();
    for (name, value) in stored {
        if name.ends_with(ODATA_TYPE) || SYSTEM.contains(&name.as_str()) {
            continue;
        }
        let typed = match annotation(name)? {
            Some(edm) => typed(edm, value).map_err(|e| format!("property {name:?}: {e}"))?,
            None => match untyped(value).map_err(|e| format!("property {name:?}: {e}"))? {
                Untyped::Value(v) => Some(v),
                Untyped::Widened(v) => {
                    out.widened.push(name.clone());
                    Some(v)
                }
                Untyped::Null => None,
            },
        };
        if let Some(v) = typed {
            out.properties.push((name.clone(), v));
        }
    }
    Ok(out)
}

enum Untyped {
    Value(EdmValue),
    /// An integer past Int32's range, kept as Int64.
    Widened(EdmValue),
    /// No property (Azure stores none for null).
    Null,
}

fn untyped(value: &Value) -> Result<Untyped, String> {
    Ok(Untyped::Value(match value {
        Value::String(s) => EdmValue::String(s.clone()),
        Value::Bool(b) => EdmValue::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = integral(n) {
                return Ok(match i32::try_from(i) {
                    Ok(v) => Untyped::Value(EdmValue::Int32(v)),
                    Err(_) => Untyped::Widened(EdmValue::Int64(i)),
                });
            }
            EdmValue::Double(n.as_f64().ok_or("not a number")?)
        }
        Value::Null => return Ok(Untyped::Null),
        other => return Err(format!("{other} is not a property value")),
    }))
}

/// The value of a JSON number that JavaScript's `Number.isInteger` holds for, if it fits i64.
fn integral(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

fn typed(edm: &str, value: &Value) -> Result<Option<EdmValue>, String> {
    let text = || -> Result<&str, String> {
        value
            .as_str()
            .ok_or_else(|| format!("{edm} value {value} is not text"))
    };
    Ok(Some(match edm {
        "Edm.String" => EdmValue::String(text()?.to_string()),
        "Edm.Boolean" => match value {
            Value::Bool(b) => EdmValue::Boolean(*b),
            Value::String(s) if s == "true" || s == "false" => EdmValue::Boolean(s == "true"),
            _ => return Err(format!("Edm.Boolean value {value} is not a boolean")),
        },
        "Edm.Int32" => {
            let v = match value {
                Value::Number(n) => integral(n),
                Value::String(s) => s.parse::<i64>().ok(),
                _ => None,
            };
            EdmValue::Int32(
                v.and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(|| format!("Edm.Int32 value {value} is not a 32-bit integer"))?,
            )
        }
        "Edm.Int64" => {
            let v = match value {
                Value::String(s) => s.parse::<i64>().ok(),
                Value::Number(n) => integral(n),
                _ => None,
            };
            EdmValue::Int64(
                v.ok_or_else(|| format!("Edm.Int64 value {value} is not a 64-bit integer"))?,
            )
        }
        "Edm.Double" => EdmValue::Double(match value {
            Value::Number(n) => n.as_f64().ok_or("not a number")?,
            Value::String(s) => match s.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other
                    .parse::<f64>()
                    .map_err(|_| format!("Edm.Double value {other:?} is not a number"))?,
            },
            _ => return Err(format!("Edm.Double value {value} is not a number")),
        }),
        "Edm.DateTime" => {
            let s = text()?;
            EdmValue::DateTime(
                lapis_odata::parse_datetime(s)
                    .ok_or_else(|| format!("Edm.DateTime value {s:?} is not a date"))?,
            )
        }
        "Edm.Guid" => EdmValue::Guid(guid_text(text()?)),
        "Edm.Binary" => {
            let s = text()?;
            EdmValue::Binary(
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|_| format!("Edm.Binary value {s:?} is not base64"))?,
            )
        }
        // Azurite's null: no property, as in Azure.
        "Edm.Null" => return Ok(None),
        other => return Err(format!("unknown type {other:?}")),
    }))
}

/// A GUID as Azurite stored it: base64 of its text (decoded when it decodes to text), or the
/// text itself as older versions kept it.
fn guid_text(stored: &str) -> String {
    if stored.len().is_multiple_of(4) && !stored.contains('-') {
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(stored) {
            if let Ok(text) = String::from_utf8(bytes) {
                return text;
            }
        }
    }
    stored.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn props(json: &str) -> Vec<(String, Value)> {
        serde_json::from_str::<crate::model::Ordered>(json)
            .unwrap()
            .0
    }

    #[test]
    fn every_edm_type_as_azurite_stores_it() {
        // The properties of an entity Azurite 3.37 stored for the Python SDK.
        let stored = props(
            r#"{"PartitionKey":"p","RowKey":"r1","s":"str","i32":5,"i64":"1099511627776","i64@odata.type":"Edm.Int64",
                "d":1.5,"d@odata.type":"Edm.Double","dint":2,"dint@odata.type":"Edm.Double",
                "nan":"NaN","nan@odata.type":"Edm.Double","inf":"Infinity","inf@odata.type":"Edm.Double",
                "ninf":"-Infinity","ninf@odata.type":"Edm.Double",
                "b":true,"dt":"2020-01-02T03:04:05.123456Z","dt@odata.type":"Edm.DateTime",
                "g":"MTIzNDU2NzgtMTIzNC0xMjM0LTEyMzQtMTIzNDU2Nzg5MGFi","g@odata.type":"Edm.Guid",
                "bin":"AAH/","bin@odata.type":"Edm.Binary","big32":2147483647,"neg":-3,"frac":0.25,
                "Timestamp":"2026-12-07T20:50:12.1102553Z","Timestamp@odata.type":"Edm.DateTime"}"#,
        );
        let c = convert(&stored).unwrap();
        assert!(c.widened.is_empty());
        let get = |n: &str| c.properties.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("s"), EdmValue::String("str".into()));
        assert_eq!(get("i32"), EdmValue::Int32(5));
        assert_eq!(get("i64"), EdmValue::Int64(1 << 40));
        assert_eq!(get("d"), EdmValue::Double(1.5));
        assert_eq!(get("dint"), EdmValue::Double(2.0));
        assert!(matches!(get("nan"), EdmValue::Double(v) if v.is_nan()));
        assert_eq!(get("inf"), EdmValue::Double(f64::INFINITY));
        assert_eq!(get("ninf"), EdmValue::Double(f64::NEG_INFINITY));
        assert_eq!(get("b"), EdmValue::Boolean(true));
        assert_eq!(
            get("dt"),
            EdmValue::DateTime(datetime!(2020-01-02 03:04:05.123456 UTC))
        );
        assert_eq!(
            get("g"),
            EdmValue::Guid("12345678-1234-1234-1234-1234567890ab".into())
        );
        assert_eq!(get("bin"), EdmValue::Binary(vec![0, 1, 255]));
        assert_eq!(get("big32"), EdmValue::Int32(i32::MAX));
        assert_eq!(get("neg"), EdmValue::Int32(-3));
        assert_eq!(get("frac"), EdmValue::Double(0.25));
        // Keys, Timestamp and annotations are not user properties; the order is the stored one.
        let names: Vec<_> = c.properties.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "s", "i32", "i64", "d", "dint", "nan", "inf", "ninf", "b", "dt", "g", "bin",
                "big32", "neg", "frac"
            ]
        );
    }

    #[test]
    fn old_guids_stored_as_text_stay_text() {
        let c = convert(&props(
            r#"{"g":"12345678-1234-1234-1234-1234567890ab","g@odata.type":"Edm.Guid"}"#,
        ))
        .unwrap();
        assert_eq!(
            c.properties[0].1,
            EdmValue::Guid("12345678-1234-1234-1234-1234567890ab".into())
        );
    }

    #[test]
    fn large_untyped_integers_become_int64_and_are_reported() {
        let c = convert(&props(r#"{"big":3000000000,"small":-2147483648}"#)).unwrap();
        assert_eq!(c.properties[0].1, EdmValue::Int64(3_000_000_000));
        assert_eq!(c.properties[1].1, EdmValue::Int32(i32::MIN));
        assert_eq!(c.widened, vec!["big".to_string()]);
    }

    #[test]
    fn values_that_do_not_fit_their_type_are_errors() {
        for bad in [
            r#"{"x":"abc","x@odata.type":"Edm.Int64"}"#,
            r#"{"x":3000000000,"x@odata.type":"Edm.Int32"}"#,
            r#"{"x":"soon","x@odata.type":"Edm.DateTime"}"#,
            r#"{"x":"!!","x@odata.type":"Edm.Binary"}"#,
            r#"{"x":1,"x@odata.type":"Edm.Decimal"}"#,
            r#"{"x":[1]}"#,
            r#"{"x":1,"x@odata.type":5}"#,
        ] {
            assert!(convert(&props(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn nulls_are_no_property() {
        let c = convert(&props(
            r#"{"a":null,"b":null,"b@odata.type":"Edm.Null","c":1}"#,
        ));
        let c = c.unwrap();
        assert_eq!(c.properties, vec![("c".to_string(), EdmValue::Int32(1))]);
    }
}
