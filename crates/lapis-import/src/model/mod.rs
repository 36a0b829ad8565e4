//! Azurite's documents as its LokiJS databases hold them (Azurite 3.x), and their values
//! turned into the engine's: dates, ETags, MD5s, leases, access policies, service properties.
//!
//! Only the fields the import uses are read; others are ignored. Field names are Azurite's
//! (its generated models, camelCase), checked against folders Azurite 3.37 wrote.

use std::fmt;

use base64::Engine as _;
use lapis_store::{Lease, SignedIdentifier, StoredLeaseState};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

mod blob;
mod tables_queues;

pub use blob::*;
pub use tables_queues::*;

/// A JSON object's string pairs in file order (metadata: Azure keeps the order and the case of
/// names as the client sent them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pairs, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Pairs, E> {
                Ok(Pairs::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object's values in file order, any JSON (an entity's properties with their
/// `@odata.type` annotations).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered(pub Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JavaScript `Date` as LokiJS saves it: an ISO 8601 string (`JSON.stringify`), or a number
/// of milliseconds where Azurite stores `getTime()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsDate(pub OffsetDateTime);

impl<'de> Deserialize<'de> for JsDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsDate, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => parse_date(&s)
                .map(JsDate)
                .ok_or_else(|| de::Error::custom(format!("not a date: {s:?}"))),
            serde_json::Value::Number(n) => n
                .as_f64()
                .and_then(from_millis)
                .map(JsDate)
                .ok_or_else(|| de::Error::custom(format!("not a date: {n}"))),
            other => Err(de::Error::custom(format!("not a date: {other}"))),
        }
    }
}

/// A JavaScript time (milliseconds since the epoch, whole ones counted exactly).
fn from_millis(ms: f64) -> Option<OffsetDateTime> {
    let nanos = if ms.fract() == 0.0 {
        ms as i128 * 1_000_000
    } else {
        (ms * 1e6).round() as i128
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// An ISO 8601 date with up to 7 fractional digits (Azurite writes 3, or 7 for snapshots and
/// entity timestamps).
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    lapis_odata::parse_datetime(s)
}

/// Bytes as Node and LokiJS save them: a `Uint8Array` becomes `{"0": b0, "1": b1, ...}`, a
/// `Buffer` `{"type": "Buffer", "data": [...]}`; older Azurite kept base64 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsBytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for JsBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsBytes, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        js_bytes(&value)
            .map(JsBytes)
            .ok_or_else(|| de::Error::custom(format!("not bytes: {value}")))
    }
}

fn js_bytes(value: &serde_json::Value) -> Option<Vec<u8>> {
    use serde_json::Value;
    let byte = |v: &Value| v.as_u64().filter(|b| *b <= 255).map(|b| b as u8);
    match value {
        Value::String(s) => base64::engine::general_purpose::STANDARD.decode(s).ok(),
        Value::Array(items) => items.iter().map(byte).collect(),
        Value::Object(map) => {
            if let Some(Value::Array(items)) = map.get("data") {
                return items.iter().map(byte).collect();
            }
            // Indexed keys "0".."n-1", in whatever order they come.
            let mut out = vec![0u8; map.len()];
            for (k, v) in map {
                let i: usize = k.parse().ok()?;
                *out.get_mut(i)? = byte(v)?;
            }
            Some(out)
        }
        _ => None,
    }
}

/// Where an object's bytes are in Azurite's extent files: `{"id": extent, "offset": o,
/// "count": n}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Persistency {
    pub id: String,
    pub offset: u64,
    pub count: u64,
}

/// LokiJS's own bookkeeping: `created` is when the document was inserted (milliseconds).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Meta {
    pub created: Option<f64>,
}

impl Meta {
    pub fn created(&self) -> Option<OffsetDateTime> {
        from_millis(self.created?)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessPolicyDoc {
    pub start: Option<String>,
    pub expiry: Option<String>,
    pub permission: Option<String>,
}

/// A stored access policy: `{"id": ..., "accessPolicy": {"start", "expiry", "permission"}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclDoc {
    pub id: String,
    #[serde(default)]
    pub access_policy: Option<AccessPolicyDoc>,
}

pub fn signed_identifiers(acl: &Option<Vec<AclDoc>>) -> Vec<SignedIdentifier> {
    acl.iter()
        .flatten()
        .map(|a| {
            let p = a.access_policy.clone().unwrap_or_default();
            SignedIdentifier {
                id: a.id.clone(),
                start: p.start,
                expiry: p.expiry,
                permission: p.permission,
            }
        })
        .collect()
}

/// The lease fields Azurite keeps on a container or blob document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseDoc {
    pub lease_id: Option<String>,
    pub lease_duration_seconds: Option<i64>,
    pub lease_expire_time: Option<JsDate>,
    pub lease_break_time: Option<JsDate>,
}

/// The engine's stored lease for Azurite's `leaseState` (+ `leaseDuration`) and lease fields.
/// Azurite, like Lapis, decides expiry when it reads: a `leased` lease past its expiry time is
/// expired, a `breaking` one past its break time broken; the same times mean the same here.
pub fn lease(state: Option<&str>, duration: Option<&str>, doc: &LeaseDoc) -> Result<Lease, String> {
    let state = state.unwrap_or("available");
    let id = doc.lease_id.clone();
    let expire = doc.lease_expire_time.as_ref().map(|d| d.0);
    Ok(match state {
        "available" => Lease::default(),
        "leased" => {
            let infinite = duration == Some("infinite") || doc.lease_duration_seconds == Some(-1);
            Lease {
                state: StoredLeaseState::Leased,
                id,
                duration: Some(if infinite {
                    -1
                } else {
                    doc.lease_duration_seconds.unwrap_or(60)
                }),
                until: if infinite { None } else { expire },
            }
        }
        // An expired lease is a finite lease whose end has passed.
        "expired" => Lease {
            state: StoredLeaseState::Leased,
            id,
            duration: Some(doc.lease_duration_seconds.filter(|d| *d >= 0).unwrap_or(60)),
            until: Some(expire.unwrap_or(OffsetDateTime::UNIX_EPOCH)),
        },
        "breaking" => Lease {
            state: StoredLeaseState::Breaking,
            id,
            duration: None,
            until: Some(
                doc.lease_break_time
                    .as_ref()
                    .map(|d| d.0)
                    .ok_or("a breaking lease without its break time")?,
            ),
        },
        "broken" => Lease {
            state: StoredLeaseState::Broken,
            id,
            duration: None,
            until: None,
        },
        other => return Err(format!("unknown lease state {other:?}")),
    })
}

/// Azurite's ETags are quoted (`"0x1FBFA636D1130A0"`); the engine keeps them bare.
pub fn bare_etag(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_in_every_form_node_saves_them() {
        let md5 = [
            94u8, 182, 59, 187, 224, 30, 238, 208, 147, 203, 34, 187, 143, 90, 205, 195,
        ];
        let indexed: serde_json::Value = serde_json::from_str(
            r#"{"0":94,"1":182,"2":59,"3":187,"4":224,"5":30,"6":238,"7":208,"8":147,"9":203,"10":34,"11":187,"12":143,"13":90,"14":205,"15":195}"#,
        )
        .unwrap();
        assert_eq!(js_bytes(&indexed).unwrap(), md5);
        let buffer = serde_json::json!({"type": "Buffer", "data": md5.to_vec()});
        assert_eq!(js_bytes(&buffer).unwrap(), md5);
        let text = serde_json::json!("XrY7u+Ae7tCTyyK7j1rNww==");
        assert_eq!(js_bytes(&text).unwrap(), md5);
        assert_eq!(js_bytes(&serde_json::json!({"0": 1, "2": 3})), None);
        assert_eq!(js_bytes(&serde_json::json!({"0": 300})), None);
    }

    #[test]
    fn dates_as_strings_or_milliseconds() {
        let s: JsDate = serde_json::from_str(r#""2026-12-07T20:50:10.875Z""#).unwrap();
        let n: JsDate = serde_json::from_str("1796676610875").unwrap();
        assert_eq!(s, n);
        let seven: JsDate = serde_json::from_str(r#""2026-12-07T20:50:12.1102553Z""#).unwrap();
        assert_eq!(seven.0.nanosecond(), 110_255_300);
        assert!(serde_json::from_str::<JsDate>(r#""yesterday""#).is_err());
    }

    #[test]
    fn metadata_keeps_order_and_case() {
        let p: Pairs = serde_json::from_str(r#"{"b":"2","A":"1"}"#).unwrap();
        assert_eq!(
            p.0,
            vec![("b".into(), "2".into()), ("A".into(), "1".into())]
        );
    }

    #[test]
    fn leases_in_every_state() {
        let t = |s: &str| Some(JsDate(parse_date(s).unwrap()));
        let doc = LeaseDoc {
            lease_id: Some("id".into()),
            lease_duration_seconds: Some(30),
            lease_expire_time: t("2030-01-01T00:00:00Z"),
            lease_break_time: t("2030-01-01T00:00:10Z"),
        };
        assert_eq!(
            lease(None, None, &LeaseDoc::default()).unwrap(),
            Lease::default()
        );
        let fixed = lease(Some("leased"), Some("fixed"), &doc).unwrap();
        assert_eq!(fixed.state, StoredLeaseState::Leased);
        assert_eq!(
            (fixed.duration, fixed.until),
            (Some(30), doc.lease_expire_time.clone().map(|d| d.0))
        );
        let infinite = lease(
            Some("leased"),
            Some("infinite"),
            &LeaseDoc {
                lease_duration_seconds: Some(-1),
                ..doc.clone()
            },
        )
        .unwrap();
        assert_eq!((infinite.duration, infinite.until), (Some(-1), None));
        let expired = lease(Some("expired"), None, &doc).unwrap();
        assert_eq!(
            expired.at(OffsetDateTime::now_utc() + time::Duration::days(10000)),
            lapis_store::LeaseState::Expired
        );
        let breaking = lease(Some("breaking"), None, &doc).unwrap();
        assert_eq!(breaking.state, StoredLeaseState::Breaking);
        assert!(lease(Some("breaking"), None, &LeaseDoc::default()).is_err());
        assert_eq!(
            lease(Some("broken"), None, &doc).unwrap().state,
            StoredLeaseState::Broken
        );
        assert!(lease(Some("odd"), None, &doc).is_err());
    }

    #[test]
    fn service_properties_become_the_documents_lapis_stores() {
        let doc: ServiceDoc = serde_json::from_str(
            r#"{"accountName":"a","cors":[{"allowedOrigins":"http://a.example","allowedMethods":"GET,PUT","allowedHeaders":"x-ms-meta-*","exposedHeaders":"x-ms-meta-a","maxAgeInSeconds":60}],
                "hourMetrics":{"version":"1.0","enabled":true,"includeAPIs":true,"retentionPolicy":{"enabled":true,"days":7}}}"#,
        )
        .unwrap();
        let xml = doc.to_xml();
        let parsed = lapis_wire::xml::ServiceProperties::parse(xml.as_bytes()).unwrap();
        let cors = parsed.cors.unwrap();
        assert_eq!(cors.len(), 1);
        assert_eq!(cors[0].allowed_methods, "GET,PUT");
        assert_eq!(cors[0].max_age_in_seconds, 60);
        let hour = parsed.hour_metrics.unwrap();
        assert!(hour.enabled && hour.include_apis == Some(true));
        assert_eq!(hour.retention_policy.days, Some(7));
        // Sections Azurite never had are rendered with their defaults.
        assert!(!parsed.logging.unwrap().read);
    }
}
