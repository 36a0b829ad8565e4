//! Verifying a SAS on a request: signature, stored policy, time window, source IP, protocol, service.

use time::OffsetDateTime;

use super::fields;
use super::layout;
use super::params::SasParams;
use super::user_delegation;
use super::StoredPolicy;
use crate::accounts::Account;
use crate::bearer::OAuth;
use crate::crypto;
use crate::error::{AuthError, AuthErrorCode};
use crate::grant::{ResponseHeaderOverrides, SasGrant, SasScope};
use crate::ip::IpRange;
use crate::request::{RequestInfo, Service};
use crate::sas_time;
use lapis_wire::time_format::rfc1123;

/// Everything a SAS may need besides the request.
pub(crate) struct SasContext<'a> {
    pub account: &'a Account,
    /// Bearer tokens' configuration: a user delegation SAS needs its role assignments.
    pub oauth: Option<&'a OAuth>,
    pub service: Service,
    pub now: OffsetDateTime,
    pub policy: &'a dyn Fn(&str, &str) -> Option<StoredPolicy>,
}

pub(crate) fn verify(req: &RequestInfo, ctx: &SasContext) -> Result<SasGrant, AuthError> {
    let pairs = req.query_pairs();
    fields::check_unique(&pairs)?;
    let mut p = SasParams::from_query(&pairs);
    // base64 has no spaces: a space here is a '+' an SDK forgot to escape and a form decoder turned into ' '.
    let signature = pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("sig"))
        .map(|(_, v)| v.replace(' ', "+"))
        .unwrap_or_default();
    if p.version.is_empty() {
        return Err(AuthError::failed("sv is mandatory. Cannot be empty"));
    }
    let is_account_sas = !p.services.is_empty() || !p.resource_types.is_empty();
    let user_delegation = !is_account_sas && !p.key_object_id.is_empty();
    let delegated_roles = if user_delegation {
        Some(delegated_roles(&pairs, &p, ctx)?)
    } else {
        None
    };
    let (scope, policy_owner, string_to_sign) = if is_account_sas {
        account_scope(&p, ctx)?
    } else {
        service_scope(req, &mut p, ctx)?
    };

    let keys = if user_delegation {
        user_delegation::signing_keys(&p, &ctx.account.keys)
    } else {
        ctx.account.keys.clone()
    };
    if !crypto::signature_matches(&signature, &keys, std::slice::from_ref(&string_to_sign)) {
        return Err(AuthError::failed(format!(
            "Signature did not match. String to sign used was {string_to_sign}"
        )));
    }

    let identifier = (!is_account_sas && !p.identifier.is_empty()).then(|| p.identifier.clone());
    if let Some(id) = &identifier {
        let policy = (ctx.policy)(&policy_owner, id).ok_or_else(|| {
            AuthError::failed(format!(
                "The specified signed identifier '{id}' does not exist."
            ))
        })?;
        merge_policy(&mut p, policy)?;
    }
    if p.permissions.is_empty() {
        return Err(AuthError::failed("sp is mandatory. Cannot be empty"));
    }
    match &scope {
        SasScope::Account { .. } => {
            fields::check_letters(&p.permissions, fields::ACCOUNT_PERMISSIONS)?
        }
        SasScope::Table { .. } => {
            fields::check_ordered_letters(&p.permissions, fields::TABLE_PERMISSIONS)?
        }
        SasScope::Queue { .. } => {
            fields::check_ordered_letters(&p.permissions, fields::QUEUE_PERMISSIONS)?
        }
        SasScope::Container { .. } | SasScope::Blob { .. } => {
            fields::check_ordered_letters(&p.permissions, fields::BLOB_PERMISSIONS)?
        }
    }
    let (start, expiry) = check_time(&p, ctx.now)?;
    check_ip(&p, req)?;
    check_protocol(&p, req)?;
    if let SasScope::Account { services, .. } = &scope {
        if !services.contains(ctx.service.sas_letter()) {
            return Err(AuthError::new(
                AuthErrorCode::AuthorizationServiceMismatch,
                format!(
                    "Signed services '{services}' do not include '{}'.",
                    ctx.service.sas_letter()
                ),
            ));
        }
    }

    let some = |s: &String| (!s.is_empty()).then(|| s.clone());
    Ok(SasGrant {
        account: ctx.account.name.clone(),
        scope,
        permissions: p.permissions.clone(),
        version: p.version.clone(),
        start,
        expiry,
        identifier,
        encryption_scope: some(&p.encryption_scope),
        response_headers: ResponseHeaderOverrides {
            cache_control: some(&p.cache_control),
            content_disposition: some(&p.content_disposition),
            content_encoding: some(&p.content_encoding),
            content_language: some(&p.content_language),
            content_type: some(&p.content_type),
        },
        delegated_roles,
    })
}

/// A user delegation SAS: a Blob SAS whose key is valid now, for an object id whose roles
/// then bound what it grants.
fn delegated_roles(
    pairs: &[(String, String)],
    p: &SasParams,
    ctx: &SasContext,
) -> Result<Vec<crate::roles::DataRole>, AuthError> {
    if ctx.service != Service::Blob {
        return Err(AuthError::failed(
            "A user delegation SAS is supported for the Blob service only.",
        ));
    }
    if pairs
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("srh") || n.eq_ignore_ascii_case("srq"))
    {
        return Err(AuthError::failed(
            "Signed request headers and query parameters (srh, srq) are not supported by this emulator.",
        ));
    }
    user_delegation::check_key(p, ctx.now)?;
    let oauth = ctx.oauth.ok_or_else(|| {
        AuthError::failed("No user delegation key can be valid: OAuth is not configured.")
    })?;
    Ok(oauth.roles_of(&ctx.account.name, &p.key_object_id).to_vec())
}

type Scoped = (SasScope, String, String);

fn account_scope(p: &SasParams, ctx: &SasContext) -> Result<Scoped, AuthError> {
    fields::check_version(&p.version, fields::FIRST_ACCOUNT_SAS, ctx.now)?;
    check_letters("ss", &p.services, "bqtf")?;
    check_letters("srt", &p.resource_types, "sco")?;
    let scope = SasScope::Account {
        services: p.services.clone(),
        resource_types: p.resource_types.clone(),
    };
    Ok((scope, String::new(), layout::account(p, &ctx.account.name)))
}

/// The signed resource comes from the request URL, so a SAS for one container or blob fails on another.
fn service_scope(
    req: &RequestInfo,
    p: &mut SasParams,
    ctx: &SasContext,
) -> Result<Scoped, AuthError> {
    let account = ctx.account.name.as_str();
    let first = if matches!(p.resource.as_str(), "bs" | "bv") {
        fields::FIRST_SNAPSHOT_SAS
    } else {
        fields::FIRST_SERVICE_SAS
    };
    fields::check_version(&p.version, first, ctx.now)?;
    match ctx.service {
        Service::Blob => {
            let (container, blob) = req.resource_names();
            let container = container.unwrap_or_default();
            let blob_scoped = match p.resource.as_str() {
                "c" => false,
                "b" | "bs" | "bv" => true,
                "" => return Err(AuthError::failed("sr is mandatory. Cannot be empty")),
                other => {
                    return Err(AuthError::new(
                        AuthErrorCode::InvalidQueryParameterValue,
                        format!("Signed resource '{other}' is not supported."),
                    ))
                }
            };
            // sr=bv signs the version id in the snapshot slot.
            if p.resource == "bv" && p.snapshot.is_empty() {
                p.snapshot = req
                    .query_pairs()
                    .into_iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("versionid"))
                    .map(|(_, v)| v)
                    .unwrap_or_default();
            }
            // A snapshot or version SAS grants that snapshot or version, never the base blob.
            if matches!(p.resource.as_str(), "bs" | "bv") && p.snapshot.is_empty() {
                return Err(AuthError::failed(format!(
                    "A SAS with sr={} needs the {} it grants in the request.",
                    p.resource,
                    if p.resource == "bs" {
                        "snapshot"
                    } else {
                        "versionid"
                    }
                )));
            }
            let signed_blob = if blob_scoped {
                Some(blob.unwrap_or_default())
            } else {
                None
            };
            let resource =
                layout::blob_resource(&p.version, account, &container, signed_blob.as_deref());
            let sts = if p.key_object_id.is_empty() {
                layout::blob_service(p, &resource)
            } else {
                layout::blob_user_delegation(p, &resource)
            };
            let scope = match signed_blob {
                // The name as signed; the blob it grants is the one Azure stores, `\` as `/`.
                Some(blob) => SasScope::Blob {
                    container: container.clone(),
                    blob: blob.replace('\\', "/"),
                },
                None => SasScope::Container {
                    container: container.clone(),
                },
            };
            Ok((scope, container, sts))
        }
        Service::Table => {
            if p.table.is_empty() {
                return Err(AuthError::failed("tn is mandatory. Cannot be empty"));
            }
            let resource = layout::table_resource(&p.version, account, &p.table);
            let sts = layout::table_service(p, &resource);
            let some = |s: &String| (!s.is_empty()).then(|| s.clone());
            let scope = SasScope::Table {
                table: p.table.clone(),
                start_pk: some(&p.start_pk),
                start_rk: some(&p.start_rk),
                end_pk: some(&p.end_pk),
                end_rk: some(&p.end_rk),
            };
            Ok((scope, p.table.clone(), sts))
        }
        Service::Queue => {
            // The queue is the URL's first segment after the account: a queue SAS signed for
            // another queue, or used on the account itself (List Queues, service properties),
            // does not match its signature.
            let (queue, _) = req.resource_names();
            let queue = queue.unwrap_or_default();
            let resource = layout::queue_resource(&p.version, account, &queue);
            let sts = layout::queue_service(p, &resource);
            let scope = SasScope::Queue {
                queue: queue.clone(),
            };
            Ok((scope, queue, sts))
        }
        Service::File => Err(AuthError::failed(
            "Service SAS is not supported for this service.",
        )),
    }
}

fn check_letters(name: &str, value: &str, allowed: &str) -> Result<(), AuthError> {
    if value.is_empty() {
        return Err(AuthError::failed(format!(
            "{name} is mandatory. Cannot be empty"
        )));
    }
    if let Some(bad) = value.chars().find(|c| !allowed.contains(*c)) {
        return Err(AuthError::new(
            AuthErrorCode::InvalidQueryParameterValue,
            format!("Value '{bad}' is not valid for {name}: '{value}'."),
        ));
    }
    Ok(())
}

/// A field may come from the SAS or from its stored policy, not from both.
fn merge_policy(p: &mut SasParams, policy: StoredPolicy) -> Result<(), AuthError> {
    for (name, field, from_policy) in [
        ("start", &mut p.start, policy.start),
        ("expiry", &mut p.expiry, policy.expiry),
        ("permission", &mut p.permissions, policy.permission),
    ] {
        let Some(value) = from_policy.filter(|v| !v.is_empty()) else {
            continue;
        };
        if !field.is_empty() {
            return Err(AuthError::failed(format!(
                "The signed {name} is given both in the SAS and in the stored access policy '{}'.",
                p.identifier
            )));
        }
        *field = value;
    }
    Ok(())
}

fn check_time(
    p: &SasParams,
    now: OffsetDateTime,
) -> Result<(Option<OffsetDateTime>, OffsetDateTime), AuthError> {
    let parse = |name: &str, text: &str| {
        sas_time::parse(text).ok_or_else(|| {
            AuthError::failed(format!(
                "The signed {name} time '{text}' is not a valid ISO 8601 time."
            ))
        })
    };
    if p.expiry.is_empty() {
        return Err(AuthError::failed("se is mandatory. Cannot be empty"));
    }
    let expiry = parse("expiry", &p.expiry)?;
    let start = if p.start.is_empty() {
        None
    } else {
        Some(parse("start", &p.start)?)
    };
    if let Some(start) = start {
        if expiry <= start {
            return Err(AuthError::failed(format!(
                "Signed expiry time [{}] has to be after signed start time [{}]",
                rfc1123(expiry),
                rfc1123(start)
            )));
        }
    }
    if start.is_some_and(|s| now < s) || now > expiry {
        return Err(AuthError::failed(format!(
            "Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
            start.map(rfc1123).unwrap_or_default(),
            rfc1123(expiry),
            rfc1123(now)
        )));
    }
    Ok((start, expiry))
}

fn check_ip(p: &SasParams, req: &RequestInfo) -> Result<(), AuthError> {
    if p.ip.is_empty() {
        return Ok(());
    }
    let range = IpRange::parse(&p.ip).ok_or_else(|| {
        AuthError::new(
            AuthErrorCode::InvalidQueryParameterValue,
            format!(
                "Value for sip '{}' is not a valid IP address or range.",
                p.ip
            ),
        )
    })?;
    match req.client_ip {
        Some(ip) if range.contains(ip) => Ok(()),
        client => Err(AuthError::new(
            AuthErrorCode::AuthorizationSourceIPMismatch,
            format!(
                "This request is not authorized to perform this operation using this source IP {}.",
                client.map(|ip| ip.to_string()).unwrap_or_default()
            ),
        )),
    }
}

fn check_protocol(p: &SasParams, req: &RequestInfo) -> Result<(), AuthError> {
    match p.protocol.as_str() {
        "" | "https,http" | "http,https" => Ok(()),
        "https" if req.https => Ok(()),
        "https" => Err(AuthError::new(
            AuthErrorCode::AuthorizationProtocolMismatch,
            "This request is not authorized to perform this operation using this protocol.",
        )),
        other => Err(AuthError::new(
            AuthErrorCode::InvalidQueryParameterValue,
            format!("Value for spr '{other}' is not valid; use 'https' or 'https,http'."),
        )),
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "verify_queue_tests.rs"]
mod queue_tests;
