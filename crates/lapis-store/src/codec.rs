//! Small encodings between Rust values and SQLite columns, and the ETag clock.

use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

use crate::{Metadata, PublicAccess, SignedIdentifier, StoreError};

/// Length-prefixed strings: a compact, order-preserving form for metadata pairs and ACLs.
fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn corrupt() -> StoreError {
        StoreError::Internal("corrupt encoded column".into())
    }
    fn byte(&mut self) -> Result<u8, StoreError> {
        let (&b, rest) = self.0.split_first().ok_or_else(Self::corrupt)?;
        self.0 = rest;
        Ok(b)
    }
    fn string(&mut self) -> Result<String, StoreError> {
        if self.0.len() < 4 {
            return Err(Self::corrupt());
        }
        let (len, rest) = self.0.split_at(4);
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if rest.len() < len {
            return Err(Self::corrupt());
        }
        let (s, rest) = rest.split_at(len);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| Self::corrupt())
    }
    fn opt(&mut self) -> Result<Option<String>, StoreError> {
        match self.byte()? {
            0 => Ok(None),
            _ => self.string().map(Some),
        }
    }
}

pub(crate) fn encode_metadata(md: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in md {
        put_str(&mut out, k);
        put_str(&mut out, v);
    }
    out
}

pub(crate) fn decode_metadata(bytes: &[u8]) -> Result<Metadata, StoreError> {
    let mut cur = Cursor(bytes);
    let mut out = Vec::new();
    while !cur.0.is_empty() {
        let k = cur.string()?;
        let v = cur.string()?;
        out.push((k, v));
    }
    Ok(out)
}

pub(crate) fn encode_acl(ids: &[SignedIdentifier]) -> Vec<u8> {
    let mut out = Vec::new();
    for id in ids {
        put_str(&mut out, &id.id);
        put_opt(&mut out, id.start.as_deref());
        put_opt(&mut out, id.expiry.as_deref());
        put_opt(&mut out, id.permission.as_deref());
    }
    out
}

pub(crate) fn decode_acl(bytes: &[u8]) -> Result<Vec<SignedIdentifier>, StoreError> {
    let mut cur = Cursor(bytes);
    let mut out = Vec::new();
    while !cur.0.is_empty() {
        out.push(SignedIdentifier {
            id: cur.string()?,
            start: cur.opt()?,
            expiry: cur.opt()?,
            permission: cur.opt()?,
        });
    }
    Ok(out)
}

pub(crate) fn access_to_i64(a: PublicAccess) -> i64 {
    match a {
        PublicAccess::None => 0,
        PublicAccess::Blob => 1,
        PublicAccess::Container => 2,
    }
}

pub(crate) fn access_from_i64(v: i64) -> PublicAccess {
    match v {
        1 => PublicAccess::Blob,
        2 => PublicAccess::Container,
        _ => PublicAccess::None,
    }
}

/// Timestamps are stored as Unix nanoseconds (fits i64 until 2262; later times saturate).
pub(crate) fn time_to_i64(t: OffsetDateTime) -> i64 {
    t.unix_timestamp_nanos()
        .clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

pub(crate) fn time_from_i64(v: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(v as i128).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// ETag source: microseconds since the Unix epoch, bumped so every value is strictly greater than
/// the previous one. The high-water mark is persisted with each commit, so values stay unique
/// across restarts even if the clock steps back.
pub(crate) struct EtagClock {
    last: AtomicU64,
}

/// 13 hex digits after the `0x8D` prefix.
const ETAG_MASK: u64 = (1 << 52) - 1;

impl EtagClock {
    pub(crate) fn new(persisted: u64) -> EtagClock {
        EtagClock {
            last: AtomicU64::new(persisted),
        }
    }

    fn now_micros() -> u64 {
        (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as u64
    }

    pub(crate) fn next(&self) -> String {
        let now = Self::now_micros();
        let prev = self
            .last
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            });
        let value = match prev {
            Ok(last) | Err(last) => now.max(last + 1),
        };
        format!("0x8D{:013X}", value & ETAG_MASK)
    }

    pub(crate) fn high_water(&self) -> u64 {
        self.last.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_in_order() {
        let md = vec![
            ("b".to_string(), "2".to_string()),
            ("A".to_string(), "".to_string()),
            ("é".into(), "x y".into()),
        ];
        assert_eq!(decode_metadata(&encode_metadata(&md)).unwrap(), md);
        assert!(decode_metadata(&[1, 0, 0]).is_err());
    }

    #[test]
    fn acl_round_trips() {
        let ids = vec![
            SignedIdentifier {
                id: "a".into(),
                start: Some("2020".into()),
                expiry: None,
                permission: Some("rw".into()),
            },
            SignedIdentifier {
                id: "b".into(),
                ..Default::default()
            },
        ];
        assert_eq!(decode_acl(&encode_acl(&ids)).unwrap(), ids);
    }

    #[test]
    fn etags_have_azure_shape_and_increase() {
        let clock = EtagClock::new(0);
        let a = clock.next();
        let b = clock.next();
        assert_eq!(a.len(), 17);
        assert!(a.starts_with("0x8D"));
        assert!(a[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        assert!(b > a);
        // A persisted mark from the future (clock stepped back) still wins.
        let mark = EtagClock::now_micros() + 10_000_000;
        let future = EtagClock::new(mark);
        let c = future.next();
        assert_eq!(future.high_water(), mark + 1);
        assert_eq!(
            u64::from_str_radix(&c[4..], 16).unwrap(),
            (mark + 1) & ETAG_MASK
        );
    }
}
