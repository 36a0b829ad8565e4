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

/// "/service/account/name"; before 2015-02-21 without the service prefix.
fn resource(service: &str, version: &str, account: &str, name: &str) -> String {
    if version >= V_SERVICE_PREFIX {
        format!("/{service}/{account}/{name}")
    } else {
        format!("/{account}/{name}")
    }
}

/// "/blob/account/container[/blob]" (blob name decoded).
pub(crate) fn blob_resource(
    version: &str,
    account: &str,
    container: &str,
    blob: Option<&str>,
) -> String {
    let mut out = resource("blob", version, account, container);
    if let Some(blob) = blob {
        out.push('/');
        out.push_str(blob);
    }
    out
}

/// "/table/account/tablename", the table name lower-cased.
pub(crate) fn table_resource(version: &str, account: &str, table: &str) -> String {
    resource("table", version, account, &table.to_lowercase())
}

/// "/queue/account/queuename". Queue names are lower-case by rule; the name is signed as given.
pub(crate) fn queue_resource(version: &str, account: &str, queue: &str) -> String {
    resource("queue", version, account, queue)
}

/// What every service SAS signs first: permissions, start, expiry, resource, policy id, from
/// 2015-04-05 the source IP and protocol, then the signed version.
fn service_fields<'a>(p: &'a SasParams, canonical_resource: &'a str) -> Vec<&'a str> {
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
    fields
}

pub(crate) fn blob_service(p: &SasParams, canonical_resource: &str) -> String {
    let v = p.version.as_str();
    let mut fields = service_fields(p, canonical_resource);
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

/// `saoid`, `suoid` and `scid` join the user delegation SAS.
const V_DELEGATED_OIDS: &str = "2020-02-10";
/// `skdutid` and `sduoid` join the user delegation SAS.
const V_DELEGATED_USER: &str = "2025-07-05";
/// The signed request headers and query parameters (`srh`, `srq`) join the user delegation SAS.
const V_SIGNED_REQUEST: &str = "2026-04-06";

/// A user delegation SAS for a blob or container: the key's fields stand where a service SAS
/// has its stored policy id. `srh`/`srq` are signed empty: a SAS that carries them is refused
/// before this is built.
pub(crate) fn blob_user_delegation(p: &SasParams, canonical_resource: &str) -> String {
    let v = p.version.as_str();
    let mut fields = vec![
        &*p.permissions,
        &*p.start,
        &*p.expiry,
        canonical_resource,
        &*p.key_object_id,
        &*p.key_tenant_id,
        &*p.key_start,
        &*p.key_expiry,
        &*p.key_service,
        &*p.key_version,
    ];
    if v >= V_DELEGATED_OIDS {
        fields.extend([
            &*p.authorized_object_id,
            &*p.unauthorized_object_id,
            &*p.correlation_id,
        ]);
    }
    if v >= V_DELEGATED_USER {
        fields.extend([
            &*p.key_delegated_user_tenant_id,
            &*p.delegated_user_object_id,
        ]);
    }
    fields.extend([&*p.ip, &*p.protocol, v, &*p.resource, &*p.snapshot]);
    if v >= V_ENCRYPTION_SCOPE {
        fields.push(&p.encryption_scope);
    }
    if v >= V_SIGNED_REQUEST {
        fields.extend(["", ""]);
    }
    fields.extend([
        &*p.cache_control,
        &*p.content_disposition,
        &*p.content_encoding,
        &*p.content_language,
        &*p.content_type,
    ]);
    fields.join("\n")
}

pub(crate) fn table_service(p: &SasParams, canonical_resource: &str) -> String {
    let mut fields = service_fields(p, canonical_resource);
    fields.extend([&*p.start_pk, &*p.start_rk, &*p.end_pk, &*p.end_rk]);
    fields.join("\n")
}

/// A queue SAS signs nothing after its version: no `sr`, snapshot, encryption scope or
/// response headers, in any version up to 2026-10-06 (the reference's queue layouts, and
/// azure-storage-queue 12.18 signing with an account key).
pub(crate) fn queue_service(p: &SasParams, canonical_resource: &str) -> String {
    service_fields(p, canonical_resource).join("\n")
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
