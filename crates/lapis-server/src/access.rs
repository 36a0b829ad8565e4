//! Who may do what: authentication (by lapis-auth) and then the operation's permission, checked
//! before the operation looks at any stored resource, so that an unauthorised caller learns
//! nothing about what exists.

use std::net::SocketAddr;

use http::{HeaderMap, Method, Uri};
use lapis_auth::{
    AuthError, AuthErrorCode, BearerGrant, Principal, RequestInfo, ResponseHeaderOverrides,
    SasAccess, SasGrant, SasTarget, Service, StoredPolicy,
};
use lapis_store::PublicAccess;
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::request::{Query, Target};
use crate::router::Op;
use crate::state::AppState;

/// The parts of a request authentication reads (the body is not `Sync`, so the request itself
/// cannot be held across an await).
pub struct RequestHead<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    /// Came over TLS (or, for a copy source, names an https URL): satisfies a SAS's `spr=https`.
    pub https: bool,
    pub enclosing: Enclosing<'a>,
}

/// What a Blob Batch sub-request inherits from its batch; nothing for a request of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Enclosing<'a> {
    /// The batch's SAS, applied to a sub-request that carries no credentials of its own.
    pub sas: Option<&'a SasGrant>,
    /// The path as the client signed it when it named the blob relative to the account
    /// (`/container/blob`, as sent to Azure's own hosts) rather than path-style; the
    /// sub-request is routed as `/account/container/blob`.
    pub signed_path: Option<&'a str>,
}

/// Operations an anonymous caller may perform, by the container's public access level.
fn anonymous_allowed(op: Op, access: PublicAccess) -> bool {
    let blob_read = matches!(
        op,
        Op::GetBlob | Op::GetBlobProperties | Op::GetBlobMetadata | Op::GetBlockList
    );
    let container_read = matches!(
        op,
        Op::ListBlobs | Op::GetContainerProperties | Op::GetContainerMetadata
    );
    match access {
        PublicAccess::None => false,
        PublicAccess::Blob => blob_read,
        PublicAccess::Container => blob_read || container_read,
    }
}

/// What the request's credentials let the operation do, and how a SAS shapes it.
#[derive(Debug, Default)]
pub struct Granted {
    /// A SAS with `c` but not `w` creates only.
    pub access: SasAccess,
    /// A service SAS's `rscc`/`rscd`/`rsce`/`rscl`/`rsct`: headers a read answers with.
    pub response_headers: ResponseHeaderOverrides,
    /// A SAS's `ses`: the encryption scope writes must use.
    pub encryption_scope: Option<String>,
    /// Signed with the account key (Shared Key): such a caller may copy from its own account's
    /// private blobs.
    pub account_key: bool,
    /// A Blob Batch's SAS, which its sub-requests without credentials of their own inherit.
    /// Boxed: a SAS grant is some 400 bytes, and `Granted` travels in every request's context.
    pub batch_sas: Option<Box<SasGrant>>,
    /// A verified bearer token: who asks (Get User Delegation Key signs a key for it).
    pub bearer: Option<BearerGrant>,
}

/// Authenticates the request and checks the operation against what its credentials grant.
pub async fn check(
    state: &AppState,
    req: &RequestHead<'_>,
    target: &Target,
    _query: &Query,
    op: Op,
    peer: SocketAddr,
    now: OffsetDateTime,
) -> ApiResult<Granted> {
    let header_pairs: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let info = |raw_path| RequestInfo {
        method: req.method.as_str(),
        raw_path,
        raw_query: req.uri.query(),
        headers: &header_pairs,
        account: &target.account,
        client_ip: Some(peer.ip()),
        https: req.https,
    };
    let store = state.store.clone();
    let account = target.account.clone();
    // Stored access policies live with the container's ACL; SAS verification asks for them.
    let policy = move |container: &str, id: &str| -> Option<StoredPolicy> {
        let (_, ids) = store.get_container_acl(&account, container).ok()?;
        ids.into_iter().find(|p| p.id == id).map(|p| StoredPolicy {
            start: p.start,
            expiry: p.expiry,
            permission: p.permission,
        })
    };
    let authenticate = |raw_path| {
        lapis_auth::authenticate(
            &state.accounts,
            &info(raw_path),
            Service::Blob,
            now,
            &policy,
        )
    };
    let principal = match req.enclosing.signed_path {
        // A batch sub-request named relative to the account: Shared Key signed either that path
        // (as for Azure's own hosts) or the path-style one the client addressed the emulator by
        // (object_store signs the full URL, then writes the part relative to the account). A
        // SAS is checked against the resource it names, path-style.
        Some(signed) if req.headers.contains_key(http::header::AUTHORIZATION) => {
            match authenticate(signed) {
                Err(first) => authenticate(req.uri.path()).map_err(|_| first)?,
                principal => principal?,
            }
        }
        _ => authenticate(req.uri.path())?,
    };
    let principal = match principal {
        Principal::Anonymous => match req.enclosing.sas {
            Some(grant) => Principal::Sas(grant.clone()),
            None => Principal::Anonymous,
        },
        principal => principal,
    };

    // Only a token may ask for a user delegation key (Azure: 403 AuthenticationFailed).
    if op == Op::GetUserDelegationKey && !matches!(principal, Principal::Bearer(_)) {
        return Err(AuthError::new(
            AuthErrorCode::AuthenticationFailed,
            "Only authentication scheme Bearer is supported",
        )
        .into());
    }
    match principal {
        Principal::SharedKey { .. } => Ok(Granted {
            account_key: true,
            ..Default::default()
        }),
        Principal::Bearer(grant) => {
            if let Some(operation) = op.operation() {
                grant.authorize(operation)?;
            }
            Ok(Granted {
                bearer: Some(grant),
                ..Default::default()
            })
        }
        Principal::Sas(grant) => {
            let Some(operation) = op.operation() else {
                return Ok(Granted::default());
            };
            let target = SasTarget {
                container: target.container.as_deref(),
                blob: target.blob.as_deref(),
            };
            let access = grant.authorize(operation, &target)?;
            let batch_sas = (op == Op::SubmitBatch).then(|| Box::new(grant.clone()));
            Ok(Granted {
                access,
                response_headers: grant.response_headers,
                encryption_scope: grant.encryption_scope,
                account_key: false,
                batch_sas,
                bearer: None,
            })
        }
        Principal::Anonymous => anonymous(state, target, op)
            .await
            .map(|()| Granted::default()),
    }
}

/// An unsigned request: allowed only for reads of public containers. Everything else is
/// answered as Azure does for a resource it will not reveal: 404 ResourceNotFound, whether or
/// not the container exists.
async fn anonymous(state: &AppState, target: &Target, op: Op) -> ApiResult<()> {
    let hidden = || ApiError(AzureError::new(ErrorCode::ResourceNotFound));
    let Some(container) = target.container.clone() else {
        return Err(ApiError(AzureError::new(
            ErrorCode::NoAuthenticationInformation,
        )));
    };
    let access = crate::common::point_read(&state.store, |s| {
        s.get_container(&target.account, &container)
    });
    match access {
        Ok(c) if anonymous_allowed(op, c.public_access) => Ok(()),
        _ => Err(hidden()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_access_levels() {
        assert!(anonymous_allowed(Op::GetBlob, PublicAccess::Blob));
        assert!(!anonymous_allowed(Op::ListBlobs, PublicAccess::Blob));
        assert!(anonymous_allowed(Op::ListBlobs, PublicAccess::Container));
        assert!(!anonymous_allowed(Op::PutBlob, PublicAccess::Container));
        assert!(!anonymous_allowed(Op::DeleteBlob, PublicAccess::Container));
        assert!(!anonymous_allowed(Op::GetBlob, PublicAccess::None));
    }
}
