//! Request bodies: entities (Insert/Update/Merge, batch sub-requests) and Create Table.
//!
//! Types come from `Name@odata.type` annotations; without one a JSON string is Edm.String, an
//! integer that fits i32 is Edm.Int32, any other number Edm.Double, a bool Edm.Boolean.
//! Null values are dropped (the property is simply not stored), `odata.*` keys and the
//! client's `Timestamp` are ignored (the server sets it). Limits and their errors follow
//! "Understanding the Table service data model".

use base64::Engine;
use lapis_wire::{AzureError, ErrorCode};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::datetime::parse_datetime;
use crate::model::{EdmValue, Properties};

const MAX_PROPERTIES: usize = 252;
const MAX_NAME_CHARS: usize = 255;
const MAX_STRING_UTF16: usize = 32 * 1024;
const MAX_BINARY_BYTES: usize = 64 * 1024;
const MAX_KEY_UTF16: usize = 1024;
const MAX_ENTITY_BYTES: usize = 1024 * 1024;

pub struct EntityBody {
    pub partition_key: Option<String>,
    pub row_key: Option<String>,
    pub properties: Properties,
}

/// A JSON object with its members in order and duplicates kept (serde_json's map drops them).
struct OrderedObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    members.push((k, v));
                }
                Ok(OrderedObject(members))
            }
        }
        d.deserialize_map(V)
    }
}

fn invalid(message: impl Into<String>) -> AzureError {
    AzureError::new(ErrorCode::InvalidInput).message(message)
}

fn parse_object(body: &[u8]) -> Result<Vec<(String, Value)>, AzureError> {
    serde_json::from_slice::<OrderedObject>(body)
        .map(|o| o.0)
        .map_err(|e| invalid(format!("The request body is not a valid JSON object: {e}.")))
}

pub fn parse_table_name(body: &[u8]) -> Result<String, AzureError> {
    let members = parse_object(body)?;
    match members.iter().find(|(k, _)| k == "TableName") {
        Some((_, Value::String(name))) => Ok(name.clone()),
        Some(_) => Err(invalid("TableName must be a string.")),
        None => Err(AzureError::new(ErrorCode::PropertiesNeedValue)),
    }
}

pub fn parse_entity(body: &[u8]) -> Result<EntityBody, AzureError> {
    let members = parse_object(body)?;
    let mut annotations: Vec<(&str, &str)> = Vec::new();
    for (key, value) in &members {
        if let Some(name) = key.strip_suffix("@odata.type") {
            match value {
                Value::String(t) => annotations.push((name, t)),
                _ => {
                    return Err(invalid(format!(
                        "The type annotation of '{name}' is not a string."
                    )))
                }
            }
        }
    }
    let mut entity = EntityBody {
        partition_key: None,
        row_key: None,
        properties: Vec::new(),
    };
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in &members {
        if key.contains('@') || key.starts_with("odata.") {
            continue;
        }
        if seen.contains(&key.as_str()) {
            return Err(AzureError::new(ErrorCode::DuplicatePropertiesSpecified));
        }
        seen.push(key);
        if value.is_null() {
            continue;
        }
        let annotation = annotations.iter().find(|(n, _)| *n == key).map(|(_, t)| *t);
        match key.as_str() {
            "PartitionKey" | "RowKey" => {
                let Value::String(s) = value else {
                    return Err(invalid(format!("{key} must be a string.")));
                };
                validate_key(key, s)?;
                if key == "PartitionKey" {
                    entity.partition_key = Some(s.clone());
                } else {
                    entity.row_key = Some(s.clone());
                }
            }
            "Timestamp" => {}
            _ => {
                validate_property_name(key)?;
                let v = typed_value(key, value, annotation)?;
                check_value_size(&v)?;
                entity.properties.push((key.clone(), v));
            }
        }
    }
    if entity.properties.len() > MAX_PROPERTIES {
        return Err(AzureError::new(ErrorCode::TooManyProperties));
    }
    if entity_size(&entity) > MAX_ENTITY_BYTES {
        return Err(AzureError::new(ErrorCode::EntityTooLarge));
    }
    Ok(entity)
}

/// Key rules: at most 1 KiB (counted in UTF-16 code units, as Azurite does) and none of
/// `/ \ # ?` or the control characters U+0000-U+001F and U+007F-U+009F.
pub(crate) fn validate_key(which: &str, key: &str) -> Result<(), AzureError> {
    let forbidden = |c: char| {
        matches!(c, '/' | '\\' | '#' | '?')
            || (c as u32) < 0x20
            || (0x7f..=0x9f).contains(&(c as u32))
    };
    if key.encode_utf16().count() > MAX_KEY_UTF16 || key.chars().any(forbidden) {
        return Err(AzureError::new(ErrorCode::OutOfRangeInput).message(format!(
            "The '{which}' parameter of value '{key}' is out of range."
        )));
    }
    Ok(())
}

/// Property names follow C# identifier rules: a letter or `_`, then letters, digits or `_`.
fn validate_property_name(name: &str) -> Result<(), AzureError> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AzureError::new(ErrorCode::PropertyNameTooLong));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_alphanumeric() || c == '_') {
        return Err(AzureError::new(ErrorCode::PropertyNameInvalid));
    }
    Ok(())
}

fn typed_value(
    name: &str,
    value: &Value,
    annotation: Option<&str>,
) -> Result<EdmValue, AzureError> {
    let bad = || {
        invalid(format!(
            "The value of property '{name}' is not valid for its type."
        ))
    };
    let v = match (annotation, value) {
        (None | Some("Edm.String"), Value::String(s)) => EdmValue::String(s.clone()),
        (None | Some("Edm.Boolean"), Value::Bool(b)) => EdmValue::Boolean(*b),
        (None, Value::Number(n)) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => EdmValue::Int32(i),
            None => EdmValue::Double(n.as_f64().ok_or_else(bad)?),
        },
        (Some("Edm.Int32"), Value::Number(n)) => EdmValue::Int32(
            n.as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(bad)?,
        ),
        // A typed value may come as a string (the Azure CLI sends `"true"` with Edm.Boolean);
        // the service reads it as its type.
        (Some("Edm.Int32"), Value::String(s)) => {
            EdmValue::Int32(s.trim().parse().map_err(|_| bad())?)
        }
        (Some("Edm.Boolean"), Value::String(s)) => {
            EdmValue::Boolean(match s.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(bad()),
            })
        }
        (Some("Edm.Int64"), Value::String(s)) => EdmValue::Int64(s.parse().map_err(|_| bad())?),
        (Some("Edm.Int64"), Value::Number(n)) => EdmValue::Int64(n.as_i64().ok_or_else(bad)?),
        (Some("Edm.Double"), Value::Number(n)) => EdmValue::Double(n.as_f64().ok_or_else(bad)?),
        (Some("Edm.Double"), Value::String(s)) => EdmValue::Double(match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" | "INF" => f64::INFINITY,
            "-Infinity" | "-INF" => f64::NEG_INFINITY,
            other => other
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite())
                .ok_or_else(bad)?,
        }),
        (Some("Edm.DateTime"), Value::String(s)) => {
            EdmValue::DateTime(parse_datetime(s).ok_or_else(bad)?)
        }
        (Some("Edm.Guid"), Value::String(s)) if is_guid(s) => EdmValue::Guid(s.clone()),
        (Some("Edm.Binary"), Value::String(s)) => EdmValue::Binary(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| bad())?,
        ),
        (Some(t), _) if !KNOWN_TYPES.contains(&t) => {
            return Err(invalid(format!(
                "The type '{t}' of property '{name}' is not supported."
            )))
        }
        _ => return Err(bad()),
    };
    Ok(v)
}

const KNOWN_TYPES: &[&str] = &[
    "Edm.String",
    "Edm.Int32",
    "Edm.Int64",
    "Edm.Double",
    "Edm.Boolean",
    "Edm.DateTime",
    "Edm.Guid",
    "Edm.Binary",
];

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn check_value_size(v: &EdmValue) -> Result<(), AzureError> {
    let too_large = match v {
        EdmValue::String(s) => s.encode_utf16().count() > MAX_STRING_UTF16,
        EdmValue::Binary(b) => b.len() > MAX_BINARY_BYTES,
        _ => false,
    };
    if too_large {
        return Err(AzureError::new(ErrorCode::PropertyValueTooLarge));
    }
    Ok(())
}

/// Azure's documented size formula: 4 + 2·len(keys) + Σ(8 + 2·len(name) + size of value).
fn entity_size(e: &EntityBody) -> usize {
    let utf16 = |s: &str| s.encode_utf16().count() * 2;
    let keys = e.partition_key.as_deref().map_or(0, utf16) + e.row_key.as_deref().map_or(0, utf16);
    let props: usize = e
        .properties
        .iter()
        .map(|(name, v)| {
            8 + utf16(name)
                + match v {
                    EdmValue::String(s) => 4 + utf16(s),
                    EdmValue::Binary(b) => 4 + b.len(),
                    EdmValue::Boolean(_) => 1,
                    EdmValue::Int32(_) => 4,
                    EdmValue::Int64(_) | EdmValue::Double(_) | EdmValue::DateTime(_) => 8,
                    EdmValue::Guid(_) => 16,
                }
        })
        .sum();
    4 + keys + props
}

#[cfg(test)]
#[path = "json_in_tests.rs"]
mod tests;
