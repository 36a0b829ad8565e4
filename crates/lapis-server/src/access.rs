//! Who may do what: authentication (by lapis-auth) and then the operation's permission, checked
//! before the operation looks at any stored resource, so that an unauthorised caller learns
//! nothing about what exists.

use std::net::SocketAddr;

use http::{HeaderMap, Method, Uri};
use lapis_auth::{Principal, RequestInfo, Requirement, ResourceType, Service, StoredPolicy};
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
}

/// What a SAS must grant for an operation: the resource type (account SAS `srt`) and any one of
/// the permission letters.
fn requirement(op: Op) -> (ResourceType, &'static [char]) {
    use ResourceType::*;
    match op {
        Op::ListContainers => (Service, &['l']),
        Op::GetServiceProperties => (Service, &['r']),
        Op::SetServiceProperties => (Service, &['w']),
        Op::GetAccountInfo | Op::Preflight => (Service, &['r']),
        Op::CreateContainer => (Container, &['c', 'w']),
        Op::GetContainerProperties | Op::GetContainerMetadata | Op::GetContainerAcl => {
            (Container, &['r'])
        }
        Op::SetContainerMetadata | Op::SetContainerAcl => (Container, &['w']),
        Op::DeleteContainer => (Container, &['d']),
        Op::ListBlobs => (Container, &['l']),
        Op::PutBlob | Op::PutBlock | Op::PutBlockList => (Object, &['w', 'c']),
        Op::GetBlockList | Op::GetBlob | Op::GetBlobProperties | Op::GetBlobMetadata => {
            (Object, &['r'])
        }
        Op::SetBlobProperties | Op::SetBlobMetadata => (Object, &['w']),
        Op::DeleteBlob => (Object, &['d']),
    }
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

pub async fn check(
    state: &AppState,
    req: &RequestHead<'_>,
    target: &Target,
    _query: &Query,
    op: Op,
    peer: SocketAddr,
    now: OffsetDateTime,
) -> ApiResult<()> {
    let header_pairs: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let info = RequestInfo {
        method: req.method.as_str(),
        raw_path: req.uri.path(),
        raw_query: req.uri.query(),
        headers: &header_pairs,
        account: &target.account,
        client_ip: Some(peer.ip()),
        https: false,
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
    let principal = lapis_auth::authenticate(&state.accounts, &info, Service::Blob, now, &policy)?;

    match principal {
        Principal::SharedKey { .. } => Ok(()),
        Principal::Sas(grant) => {
            if op == Op::GetAccountInfo {
                // Any valid SAS may ask for the account information.
                return Ok(());
            }
            let (resource_type, letters) = requirement(op);
            let needed = Requirement {
                resource_type,
                permission: letters[0],
                container: target.container.as_deref(),
                blob: target.blob.as_deref(),
            };
            let mut result = grant.authorize(&needed);
            for &alt in &letters[1..] {
                if result.is_ok() {
                    break;
                }
                result = grant.authorize(&Requirement {
                    permission: alt,
                    ..needed
                });
            }
            result.map_err(ApiError::from)
        }
        Principal::Anonymous => anonymous(state, target, op).await,
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
    let access = crate::ops::point_read(&state.store, |s| {
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
