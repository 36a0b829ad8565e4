//! Storage encoding of [`Properties`]: a version byte, then per property a type tag, the name
//! and the value, lengths as LEB128 varints. Exact round trip, including f64 bit patterns and
//! 100 ns DateTimes; decoding never trusts the bytes (a corrupt row is an `InternalError`).

use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::model::{EdmValue, Properties, PropertyRefs, ValueRef};

const FORMAT_VERSION: u8 = 1;

const TAG_STRING: u8 = 1;
const TAG_INT32: u8 = 2;
const TAG_INT64: u8 = 3;
const TAG_DOUBLE: u8 = 4;
const TAG_BOOL: u8 = 5;
const TAG_DATETIME: u8 = 6;
const TAG_GUID: u8 = 7;
const TAG_BINARY: u8 = 8;

pub fn encode_properties(props: &Properties) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + props.len() * 24);
    out.push(FORMAT_VERSION);
    put_varint(&mut out, props.len() as u64);
    for (name, value) in props {
        let tag = match value {
            EdmValue::String(_) => TAG_STRING,
            EdmValue::Int32(_) => TAG_INT32,
            EdmValue::Int64(_) => TAG_INT64,
            EdmValue::Double(_) => TAG_DOUBLE,
            EdmValue::Boolean(_) => TAG_BOOL,
            EdmValue::DateTime(_) => TAG_DATETIME,
            EdmValue::Guid(_) => TAG_GUID,
            EdmValue::Binary(_) => TAG_BINARY,
        };
        out.push(tag);
        put_bytes(&mut out, name.as_bytes());
        match value {
            EdmValue::String(s) | EdmValue::Guid(s) => put_bytes(&mut out, s.as_bytes()),
            EdmValue::Binary(b) => put_bytes(&mut out, b),
            EdmValue::Int32(v) => out.extend_from_slice(&v.to_le_bytes()),
            EdmValue::Int64(v) => out.extend_from_slice(&v.to_le_bytes()),
            EdmValue::Double(v) => out.extend_from_slice(&v.to_bits().to_le_bytes()),
            EdmValue::Boolean(v) => out.push(u8::from(*v)),
            EdmValue::DateTime(t) => {
                out.extend_from_slice(&t.unix_timestamp().to_le_bytes());
                out.extend_from_slice(&t.nanosecond().to_le_bytes());
            }
        }
    }
    out
}

/// The owned form of [`decode_property_refs`], for callers that keep or change the values.
pub fn decode_properties(bytes: &[u8]) -> Result<Properties, AzureError> {
    Ok(decode_property_refs(bytes)?
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_edm_value()))
        .collect())
}

/// Decodes without copying: names, strings, Guids and binaries borrow from `bytes`.
pub fn decode_property_refs(bytes: &[u8]) -> Result<PropertyRefs<'_>, AzureError> {
    decode_refs(bytes).map_err(|what| {
        AzureError::new(ErrorCode::InternalError)
            .message(format!("Stored entity is corrupt: {what}."))
    })
}

/// What is wrong with a corrupt row. A small error type keeps the decoder's hot path lean.
type Corrupt = &'static str;

fn decode_refs(bytes: &[u8]) -> Result<PropertyRefs<'_>, Corrupt> {
    let mut r = Reader { bytes, pos: 0 };
    let version = r.byte()?;
    if version != FORMAT_VERSION {
        return Err("unknown property encoding version");
    }
    let count = r.varint()?;
    // Each property takes at least 3 bytes, so a huge count is corruption, not a reason to allocate.
    if count > bytes.len() as u64 {
        return Err("property count exceeds data");
    }
    let mut props = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let tag = r.byte()?;
        let name = r.str()?;
        props.push((name, r.value(tag)?));
    }
    if r.pos != bytes.len() {
        return Err("trailing bytes");
    }
    Ok(props)
}

/// The value of property `name` in encoded properties, reading no other value: a filter asks
/// for one or two properties of each row, and most rows it sees may be rejected. `None` when
/// the property is absent or the bytes are corrupt (a filter then rejects the row, as it does
/// when [`decode_property_refs`] fails).
pub(crate) fn find_property_ref<'a>(bytes: &'a [u8], name: &str) -> Option<ValueRef<'a>> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte().ok()? != FORMAT_VERSION {
        return None;
    }
    let count = r.varint().ok()?;
    for _ in 0..count {
        let tag = r.byte().ok()?;
        if r.bytes().ok()? == name.as_bytes() {
            return r.value(tag).ok();
        }
        r.skip_value(tag).ok()?;
    }
    None
}
/// Merge Entity: values in `new` replace the same (case-sensitive) names in `old` in place;
/// names only in `new` are appended in their order; the rest of `old` is kept.
pub fn merge_properties(old: &Properties, new: &Properties) -> Properties {
    let mut merged = old.clone();
    for (name, value) in new {
        match merged.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => merged.push((name.clone(), value.clone())),
        }
    }
    merged
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let slice = self.bytes.get(self.pos..end).ok_or("truncated")?;
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Corrupt> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long")
    }

    fn bytes(&mut self) -> Result<&'a [u8], Corrupt> {
        let len = match self.bytes.get(self.pos) {
            // One-byte lengths are the common case; no need for the varint loop.
            Some(&len) if len < 0x80 => {
                self.pos += 1;
                usize::from(len)
            }
            _ => usize::try_from(self.varint()?).map_err(|_| "length overflow")?,
        };
        self.take(len)
    }

    fn str(&mut self) -> Result<&'a str, Corrupt> {
        std::str::from_utf8(self.bytes()?).map_err(|_| "invalid UTF-8")
    }

    fn value(&mut self, tag: u8) -> Result<ValueRef<'a>, Corrupt> {
        Ok(match tag {
            TAG_STRING => ValueRef::String(self.str()?),
            TAG_GUID => ValueRef::Guid(self.str()?),
            TAG_BINARY => ValueRef::Binary(self.bytes()?),
            TAG_INT32 => ValueRef::Int32(i32::from_le_bytes(self.array()?)),
            TAG_INT64 => ValueRef::Int64(i64::from_le_bytes(self.array()?)),
            TAG_DOUBLE => ValueRef::Double(f64::from_bits(u64::from_le_bytes(self.array()?))),
            TAG_BOOL => match self.byte()? {
                0 => ValueRef::Boolean(false),
                1 => ValueRef::Boolean(true),
                _ => return Err("bad boolean"),
            },
            TAG_DATETIME => {
                let secs = i64::from_le_bytes(self.array()?);
                let nanos = u32::from_le_bytes(self.array()?);
                let t = OffsetDateTime::from_unix_timestamp(secs)
                    .ok()
                    .and_then(|t| t.replace_nanosecond(nanos).ok())
                    .ok_or("bad datetime")?;
                ValueRef::DateTime(t)
            }
            _ => return Err("unknown type tag"),
        })
    }

    /// Steps over a value without checking it (its UTF-8, its datetime range).
    fn skip_value(&mut self, tag: u8) -> Result<(), Corrupt> {
        match tag {
            TAG_STRING | TAG_GUID | TAG_BINARY => self.bytes().map(drop),
            TAG_INT32 => self.take(4).map(drop),
            TAG_INT64 | TAG_DOUBLE => self.take(8).map(drop),
            TAG_BOOL => self.take(1).map(drop),
            TAG_DATETIME => self.take(12).map(drop),
            _ => Err("unknown type tag"),
        }
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
