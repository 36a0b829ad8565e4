//! The fields of a SAS token, as found in (or written to) a query string.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Every SAS field by its query name. An empty string means "absent", which is also how the string to sign
/// treats a missing field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SasParams {
    /// `sv`
    pub version: String,
    /// `sp`
    pub permissions: String,
    /// `st`
    pub start: String,
    /// `se`
    pub expiry: String,
    /// `si` (service SAS): a stored access policy of the container or table.
    pub identifier: String,
    /// `sip`
    pub ip: String,
    /// `spr`
    pub protocol: String,
    /// `ses`
    pub encryption_scope: String,
    /// `ss` (account SAS)
    pub services: String,
    /// `srt` (account SAS)
    pub resource_types: String,
    /// `sr` (blob service SAS): c, b, bs, bv
    pub resource: String,
    /// `snapshot` (sr=bs; also the version id for sr=bv)
    pub snapshot: String,
    /// `rscc`, `rscd`, `rsce`, `rscl`, `rsct`
    pub cache_control: String,
    pub content_disposition: String,
    pub content_encoding: String,
    pub content_language: String,
    pub content_type: String,
    /// `tn` (table SAS)
    pub table: String,
    /// `spk`, `srk`, `epk`, `erk` (table SAS)
    pub start_pk: String,
    pub start_rk: String,
    pub end_pk: String,
    pub end_rk: String,
    /// User delegation SAS: `skoid`, `sktid`, `skt`, `ske`, `sks`, `skv` (the key's signed
    /// fields), `saoid`, `suoid`, `scid` (2020-02-10), `skdutid`, `sduoid` (2025-07-05).
    pub key_object_id: String,
    pub key_tenant_id: String,
    pub key_start: String,
    pub key_expiry: String,
    pub key_service: String,
    pub key_version: String,
    pub authorized_object_id: String,
    pub unauthorized_object_id: String,
    pub correlation_id: String,
    pub key_delegated_user_tenant_id: String,
    pub delegated_user_object_id: String,
}

// Unreserved characters stay; everything else (including '+', '/', '=' of signatures) is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl SasParams {
    /// Reads the SAS fields from decoded query pairs; the first occurrence of a name wins.
    pub(crate) fn from_query(pairs: &[(String, String)]) -> SasParams {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        SasParams {
            version: get("sv"),
            permissions: get("sp"),
            start: get("st"),
            expiry: get("se"),
            identifier: get("si"),
            ip: get("sip"),
            protocol: get("spr"),
            encryption_scope: get("ses"),
            services: get("ss"),
            resource_types: get("srt"),
            resource: get("sr"),
            snapshot: get("snapshot"),
            cache_control: get("rscc"),
            content_disposition: get("rscd"),
            content_encoding: get("rsce"),
            content_language: get("rscl"),
            content_type: get("rsct"),
            table: get("tn"),
            start_pk: get("spk"),
            start_rk: get("srk"),
            end_pk: get("epk"),
            end_rk: get("erk"),
            key_object_id: get("skoid"),
            key_tenant_id: get("sktid"),
            key_start: get("skt"),
            key_expiry: get("ske"),
            key_service: get("sks"),
            key_version: get("skv"),
            authorized_object_id: get("saoid"),
            unauthorized_object_id: get("suoid"),
            correlation_id: get("scid"),
            key_delegated_user_tenant_id: get("skdutid"),
            delegated_user_object_id: get("sduoid"),
        }
    }

    /// The non-empty fields as `name=value&...`, values percent-encoded, then `sig`.
    pub(crate) fn to_query(&self, signature: &str) -> String {
        let fields = [
            ("sv", &self.version),
            ("ss", &self.services),
            ("srt", &self.resource_types),
            ("sp", &self.permissions),
            ("st", &self.start),
            ("se", &self.expiry),
            ("sip", &self.ip),
            ("spr", &self.protocol),
            ("si", &self.identifier),
            ("skoid", &self.key_object_id),
            ("sktid", &self.key_tenant_id),
            ("skt", &self.key_start),
            ("ske", &self.key_expiry),
            ("sks", &self.key_service),
            ("skv", &self.key_version),
            ("saoid", &self.authorized_object_id),
            ("suoid", &self.unauthorized_object_id),
            ("scid", &self.correlation_id),
            ("skdutid", &self.key_delegated_user_tenant_id),
            ("sduoid", &self.delegated_user_object_id),
            ("sr", &self.resource),
            ("snapshot", &self.snapshot),
            ("ses", &self.encryption_scope),
            ("tn", &self.table),
            ("spk", &self.start_pk),
            ("srk", &self.start_rk),
            ("epk", &self.end_pk),
            ("erk", &self.end_rk),
            ("rscc", &self.cache_control),
            ("rscd", &self.content_disposition),
            ("rsce", &self.content_encoding),
            ("rscl", &self.content_language),
            ("rsct", &self.content_type),
        ];
        let mut parts: Vec<String> = fields
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| format!("{n}={}", utf8_percent_encode(v, QUERY_VALUE)))
            .collect();
        parts.push(format!(
            "sig={}",
            utf8_percent_encode(signature, QUERY_VALUE)
        ));
        parts.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips() {
        let params = SasParams {
            version: "2020-12-06".into(),
            permissions: "rw".into(),
            expiry: "2026-01-01T00:00:00Z".into(),
            content_disposition: "attachment; filename=a b.txt".into(),
            ..SasParams::default()
        };
        let query = params.to_query("ab+/c=");
        assert_eq!(
            query,
            "sv=2020-12-06&sp=rw&se=2026-01-01T00%3A00%3A00Z&rscd=attachment%3B%20filename%3Da%20b.txt&sig=ab%2B%2Fc%3D"
        );
        let req = crate::RequestInfo {
            method: "GET",
            raw_path: "/a",
            raw_query: Some(&query),
            headers: &[],
            account: "a",
            client_ip: None,
            https: false,
        };
        let pairs = req.query_pairs();
        assert_eq!(SasParams::from_query(&pairs), params);
        assert!(pairs.contains(&("sig".to_string(), "ab+/c=".to_string())));
    }
}
