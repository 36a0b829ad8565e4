//! EDM-typed property values, the unit everything else in this crate works on.

use time::OffsetDateTime;

/// One property value with its EDM type.
#[derive(Debug, Clone, PartialEq)]
pub enum EdmValue {
    String(String),
    Int32(i32),
    Int64(i64),
    /// NaN and ±Infinity are valid Table values.
    Double(f64),
    Boolean(bool),
    /// Azure keeps 100 ns precision; finer digits are dropped on input.
    DateTime(OffsetDateTime),
    /// Kept exactly as the client sent it (after format validation).
    Guid(String),
    Binary(Vec<u8>),
}

/// An [`EdmValue`] borrowed from wherever it lives (a stored row, a parsed filter), so reading
/// and rendering entities costs no allocation per value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    String(&'a str),
    Int32(i32),
    Int64(i64),
    Double(f64),
    Boolean(bool),
    DateTime(OffsetDateTime),
    Guid(&'a str),
    Binary(&'a [u8]),
}

impl EdmValue {
    /// The `@odata.type` spelling of this value's type.
    pub fn type_name(&self) -> &'static str {
        self.as_value_ref().type_name()
    }

    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            EdmValue::String(s) => ValueRef::String(s),
            EdmValue::Int32(v) => ValueRef::Int32(*v),
            EdmValue::Int64(v) => ValueRef::Int64(*v),
            EdmValue::Double(v) => ValueRef::Double(*v),
            EdmValue::Boolean(v) => ValueRef::Boolean(*v),
            EdmValue::DateTime(t) => ValueRef::DateTime(*t),
            EdmValue::Guid(s) => ValueRef::Guid(s),
            EdmValue::Binary(b) => ValueRef::Binary(b),
        }
    }
}

impl ValueRef<'_> {
    /// The `@odata.type` spelling of this value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueRef::String(_) => "Edm.String",
            ValueRef::Int32(_) => "Edm.Int32",
            ValueRef::Int64(_) => "Edm.Int64",
            ValueRef::Double(_) => "Edm.Double",
            ValueRef::Boolean(_) => "Edm.Boolean",
            ValueRef::DateTime(_) => "Edm.DateTime",
            ValueRef::Guid(_) => "Edm.Guid",
            ValueRef::Binary(_) => "Edm.Binary",
        }
    }

    pub fn to_edm_value(&self) -> EdmValue {
        match *self {
            ValueRef::String(s) => EdmValue::String(s.to_owned()),
            ValueRef::Int32(v) => EdmValue::Int32(v),
            ValueRef::Int64(v) => EdmValue::Int64(v),
            ValueRef::Double(v) => EdmValue::Double(v),
            ValueRef::Boolean(v) => EdmValue::Boolean(v),
            ValueRef::DateTime(t) => EdmValue::DateTime(t),
            ValueRef::Guid(s) => EdmValue::Guid(s.to_owned()),
            ValueRef::Binary(b) => EdmValue::Binary(b.to_vec()),
        }
    }
}

/// User properties in the order the client sent them; never PartitionKey, RowKey or Timestamp.
pub type Properties = Vec<(String, EdmValue)>;

/// [`Properties`] borrowed: from a stored row by
/// [`decode_property_refs`](crate::codec::decode_property_refs), or from owned ones by
/// [`property_refs`].
pub type PropertyRefs<'a> = Vec<(&'a str, ValueRef<'a>)>;

pub fn property_refs(props: &Properties) -> PropertyRefs<'_> {
    props
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_value_ref()))
        .collect()
}
