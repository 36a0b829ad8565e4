//! The SAS strings to sign, one layout per signed version (`sv`).

use super::params::SasParams;

/// `sip`/`spr` join the service SAS string to sign.
const V_IP_PROTOCOL: &str = "2015-04-05";
/// The canonicalized resource gains its service prefix ("/blob/...").
const V_SERVICE_PREFIX: &str = "2015-02-21";
/// Response header overrides (rscc...) join the blob service SAS.
const V_RESPONSE_HEADERS: &str = "2013-08-15";
/// `sr` and the snapshot time join the blob service SAS.
const V_RESOURCE_SNAPSHOT: &str = "2018-11-09";
/// `ses` joins the blob service SAS and the account SAS.
const V_ENCRYPTION_SCOPE: &str = "2020-12-06";

/// "/blob/account/container[/blob]" (blob name decoded); before 2015-02-21 without the service prefix.
pub(crate) fn blob_resource(
    version: &str,
    account: &str,
    container: &str,
    blob: Option<&str>,
) -> String {
    let mut out = if version >= V_SERVICE_PREFIX {
        format!("/blob/{account}/{container}")
    } else {
        format!("/{account}/{container}")
    };
    if let Some(blob) = blob {
        out.push('/');
        out.push_str(blob);
    }
    out
}

/// "/table/account/tablename", the table name lower-cased.
pub(crate) fn table_resource(version: &str, account: &str, table: &str) -> String {
    let table = table.to_lowercase();
    if version >= V_SERVICE_PREFIX {
        format!("/table/{account}/{table}")
    } else {
        format!("/{account}/{table}")
    }
}

pub(crate) fn blob_service(p: &SasParams, canonical_resource: &str) -> String {
    let v = p.version.as_str();
    let mut fields = vec![
        &*p.permissions,
        &*p.start,
        &*p.expiry,
        canonical_resource,
        &*p.identifier,
    ];
    if v >= V_IP_PROTOCOL {
        fields.extend([&*p.ip, &*p.protocol]);
    }
    fields.push(v);
    if v >= V_RESOURCE_SNAPSHOT {
        fields.extend([&*p.resource, &*p.snapshot]);
    }
    if v >= V_ENCRYPTION_SCOPE {
        fields.push(&p.encryption_scope);
    }
    if v >= V_RESPONSE_HEADERS {
        fields.extend([
            &*p.cache_control,
            &*p.content_disposition,
            &*p.content_encoding,
            &*p.content_language,
            &*p.content_type,
        ]);
    }
    fields.join("\n")
}

pub(crate) fn table_service(p: &SasParams, canonical_resource: &str) -> String {
    let v = p.version.as_str();
    let mut fields = vec![
        &*p.permissions,
        &*p.start,
        &*p.expiry,
        canonical_resource,
        &*p.identifier,
    ];
    if v >= V_IP_PROTOCOL {
        fields.extend([&*p.ip, &*p.protocol]);
    }
    fields.extend([v, &*p.start_pk, &*p.start_rk, &*p.end_pk, &*p.end_rk]);
    fields.join("\n")
}

/// Account SAS: every field followed by "\n", so the string ends with one.
pub(crate) fn account(p: &SasParams, account: &str) -> String {
    let mut fields = vec![
        account,
        &*p.permissions,
        &*p.services,
        &*p.resource_types,
        &*p.start,
        &*p.expiry,
        &*p.ip,
        &*p.protocol,
        &*p.version,
    ];
    if p.version.as_str() >= V_ENCRYPTION_SCOPE {
        fields.push(&p.encryption_scope);
    }
    // Each field ends with a newline, the last one too.
    let mut out = fields.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
