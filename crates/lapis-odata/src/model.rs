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

impl EdmValue {
    /// The `@odata.type` spelling of this value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            EdmValue::String(_) => "Edm.String",
            EdmValue::Int32(_) => "Edm.Int32",
            EdmValue::Int64(_) => "Edm.Int64",
            EdmValue::Double(_) => "Edm.Double",
            EdmValue::Boolean(_) => "Edm.Boolean",
            EdmValue::DateTime(_) => "Edm.DateTime",
            EdmValue::Guid(_) => "Edm.Guid",
            EdmValue::Binary(_) => "Edm.Binary",
        }
    }
}

/// User properties in the order the client sent them; never PartitionKey, RowKey or Timestamp.
pub type Properties = Vec<(String, EdmValue)>;
