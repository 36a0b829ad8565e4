//! From method + path shape + `restype`/`comp` (+ a few headers) to one typed operation.
//!
//! A pure function, so that every route is a table row in the tests below, instead of
//! dispatching by trying every operation and scoring the matches.

use http::Method;
use lapis_auth::Operation;
use lapis_wire::{AzureError, ErrorCode};

/// The Blob service operations Lapis knows. Names are Azure's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    // service
    ListContainers,
    GetServiceProperties,
    SetServiceProperties,
    GetAccountInfo,
    Preflight,
    // container
    CreateContainer,
    GetContainerProperties,
    GetContainerMetadata,
    SetContainerMetadata,
    GetContainerAcl,
    SetContainerAcl,
    DeleteContainer,
    ListBlobs,
    // blob
    PutBlob,
    PutBlock,
    PutBlockList,
    GetBlockList,
    GetBlob,
    GetBlobProperties,
    GetBlobMetadata,
    SetBlobProperties,
    SetBlobMetadata,
    DeleteBlob,
}

impl Op {
    /// The operation as the SAS rules (and logs and metrics) name it; `None` for a CORS
    /// preflight, which is answered before authentication.
    pub fn operation(self) -> Option<Operation> {
        Some(match self {
            Op::ListContainers => Operation::ListContainers,
            Op::GetServiceProperties => Operation::GetBlobServiceProperties,
            Op::SetServiceProperties => Operation::SetBlobServiceProperties,
            Op::GetAccountInfo => Operation::GetAccountInformation,
            Op::Preflight => return None,
            Op::CreateContainer => Operation::CreateContainer,
            Op::GetContainerProperties => Operation::GetContainerProperties,
            Op::GetContainerMetadata => Operation::GetContainerMetadata,
            Op::SetContainerMetadata => Operation::SetContainerMetadata,
            Op::GetContainerAcl => Operation::GetContainerAcl,
            Op::SetContainerAcl => Operation::SetContainerAcl,
            Op::DeleteContainer => Operation::DeleteContainer,
            Op::ListBlobs => Operation::ListBlobs,
            Op::PutBlob => Operation::PutBlob,
            Op::PutBlock => Operation::PutBlock,
            Op::PutBlockList => Operation::PutBlockList,
            Op::GetBlockList => Operation::GetBlockList,
            Op::GetBlob => Operation::GetBlob,
            Op::GetBlobProperties => Operation::GetBlobProperties,
            Op::GetBlobMetadata => Operation::GetBlobMetadata,
            Op::SetBlobProperties => Operation::SetBlobProperties,
            Op::SetBlobMetadata => Operation::SetBlobMetadata,
            Op::DeleteBlob => Operation::DeleteBlob,
        })
    }

    /// Azure's name of the operation, for logs and metrics.
    pub fn name(self) -> &'static str {
        self.operation().map_or("Preflight", Operation::name)
    }
}

/// Where a request points: `/account`, `/account/container` or `/account/container/blob…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Service,
    Container,
    Blob,
}

/// Operations Azure has that Lapis does not offer yet; answered with 501 and named in the error
/// message so that a user knows it is a gap and not a bug in their request.
fn not_implemented(feature: &str) -> AzureError {
    AzureError::new(ErrorCode::NotImplemented)
        .message(format!("Lapis does not implement {feature} yet."))
}

fn invalid_query(name: &str, value: &str) -> AzureError {
    AzureError::new(ErrorCode::InvalidQueryParameterValue)
        .detail("QueryParameterName", name)
        .detail("QueryParameterValue", value)
        .detail("Reason", "")
}

/// Resolves the operation. `restype` and `comp` are the (decoded) query values, `header` looks up a
/// request header by lowercase name.
pub fn resolve(
    method: &Method,
    level: Level,
    restype: Option<&str>,
    comp: Option<&str>,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<Op, AzureError> {
    use Level::*;
    let m = method.as_str();
    if m == "OPTIONS" {
        return Ok(Op::Preflight);
    }
    // Get Account Information is answered at every level.
    if restype == Some("account") && comp == Some("properties") && (m == "GET" || m == "HEAD") {
        return Ok(Op::GetAccountInfo);
    }
    let op = match (level, m, restype, comp) {
        (Service, "GET", _, Some("list")) => Op::ListContainers,
        (Service, "GET" | "HEAD", Some("service"), Some("properties")) => Op::GetServiceProperties,
        (Service, "PUT", Some("service"), Some("properties")) => Op::SetServiceProperties,
        (Service, _, Some("service"), Some("stats")) => {
            return Err(not_implemented(
                "Get Blob Service Stats (secondary endpoint)",
            ))
        }
        (Service, _, Some("service"), Some("userdelegationkey")) => {
            return Err(not_implemented("user delegation keys"))
        }
        (Service, _, _, Some("blobs")) => return Err(not_implemented("Find Blobs by Tags")),
        (Service, "POST", _, Some("batch")) => return Err(not_implemented("Blob Batch")),

        (Container, "PUT", Some("container"), None) => Op::CreateContainer,
        (Container, "GET" | "HEAD", Some("container"), None) => Op::GetContainerProperties,
        (Container, "DELETE", Some("container"), None) => Op::DeleteContainer,
        (Container, "GET" | "HEAD", Some("container"), Some("metadata")) => {
            Op::GetContainerMetadata
        }
        (Container, "PUT", Some("container"), Some("metadata")) => Op::SetContainerMetadata,
        (Container, "GET" | "HEAD", Some("container"), Some("acl")) => Op::GetContainerAcl,
        (Container, "PUT", Some("container"), Some("acl")) => Op::SetContainerAcl,
        (Container, "GET", Some("container"), Some("list")) => Op::ListBlobs,
        (Container, _, Some("container"), Some("lease")) => {
            return Err(not_implemented("container leases"))
        }
        (Container, _, Some("container"), Some("blobs")) => {
            return Err(not_implemented("Find Blobs by Tags"))
        }
        (Container, _, Some("container"), Some("batch")) => {
            return Err(not_implemented("Blob Batch"))
        }
        (Container, _, Some("container"), Some("rename" | "undelete")) => {
            return Err(not_implemented("container rename and undelete"))
        }
        (Container, _, Some("container"), Some("session")) => {
            return Err(not_implemented("Create Session"))
        }

        (Blob, "PUT", _, None) => return put_blob_kind(header),
        (Blob, "PUT", _, Some("block")) => {
            if header("x-ms-copy-source").is_some() {
                return Err(not_implemented("Put Block From URL"));
            }
            Op::PutBlock
        }
        (Blob, "PUT", _, Some("blocklist")) => Op::PutBlockList,
        (Blob, "GET", _, Some("blocklist")) => Op::GetBlockList,
        (Blob, "GET", _, None) => Op::GetBlob,
        (Blob, "HEAD", _, None) => Op::GetBlobProperties,
        (Blob, "GET" | "HEAD", _, Some("metadata")) => Op::GetBlobMetadata,
        // Resize and Update Sequence Number share the route: page blob operations.
        (Blob, "PUT", _, Some("properties"))
            if header("x-ms-blob-content-length").is_some()
                || header("x-ms-sequence-number-action").is_some() =>
        {
            return Err(not_implemented("page blobs"))
        }
        (Blob, "PUT", _, Some("properties")) => Op::SetBlobProperties,
        (Blob, "PUT", _, Some("metadata")) => Op::SetBlobMetadata,
        (Blob, "DELETE", _, None) => Op::DeleteBlob,
        (Blob, _, _, Some("lease")) => return Err(not_implemented("blob leases")),
        (Blob, _, _, Some("snapshot")) => return Err(not_implemented("blob snapshots")),
        (Blob, _, _, Some("copy")) => return Err(not_implemented("Abort Copy Blob")),
        (Blob, _, _, Some("tags")) => return Err(not_implemented("blob index tags")),
        (Blob, _, _, Some("tier")) => return Err(not_implemented("Set Blob Tier")),
        (Blob, _, _, Some("appendblock" | "seal")) => return Err(not_implemented("append blobs")),
        (Blob, _, _, Some("page" | "pagelist" | "incrementalcopy")) => {
            return Err(not_implemented("page blobs"))
        }
        (
            Blob,
            _,
            _,
            Some("expiry" | "immutabilityPolicies" | "legalhold" | "undelete" | "query"),
        ) => {
            return Err(not_implemented(&format!(
                "comp={}",
                comp.unwrap_or_default()
            )))
        }

        (_, "GET" | "HEAD" | "PUT" | "DELETE" | "POST", _, Some(other)) => {
            return Err(invalid_query("comp", other));
        }
        (_, "GET" | "HEAD" | "PUT" | "DELETE" | "POST", Some(other), None) => {
            return Err(invalid_query("restype", other));
        }
        (Service, "GET" | "HEAD" | "PUT" | "DELETE" | "POST", None, None) => {
            // `/account` with no operation: Azure treats it as an invalid query.
            return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
                .detail("QueryParameterName", "comp")
                .detail("QueryParameterValue", "")
                .detail("Reason", ""));
        }
        (Container, "GET" | "HEAD" | "PUT" | "DELETE" | "POST", None, None) => {
            // A container URL without restype=container is read by Azure as a blob in $root.
            return Err(not_implemented("the $root container"));
        }
        _ => return Err(AzureError::new(ErrorCode::UnsupportedHttpVerb)),
    };
    Ok(op)
}

/// A plain PUT on a blob URL is Put Blob, Copy Blob or Put Blob From URL, by header.
fn put_blob_kind(header: &dyn Fn(&str) -> Option<String>) -> Result<Op, AzureError> {
    if header("x-ms-copy-source").is_some() {
        return Err(not_implemented("Copy Blob and Put Blob From URL"));
    }
    match header("x-ms-blob-type").as_deref() {
        Some("BlockBlob") => Ok(Op::PutBlob),
        Some("AppendBlob") => Err(not_implemented("append blobs")),
        Some("PageBlob") => Err(not_implemented("page blobs")),
        Some(other) => Err(AzureError::new(ErrorCode::InvalidHeaderValue)
            .detail("HeaderName", "x-ms-blob-type")
            .detail("HeaderValue", other)),
        None => Err(AzureError::new(ErrorCode::MissingRequiredHeader)
            .detail("HeaderName", "x-ms-blob-type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(
        m: &str,
        level: Level,
        restype: Option<&str>,
        comp: Option<&str>,
        blob_type: Option<&str>,
    ) -> Result<Op, ErrorCode> {
        let bt = blob_type.map(str::to_string);
        let header = move |name: &str| {
            if name == "x-ms-blob-type" {
                bt.clone()
            } else {
                None
            }
        };
        resolve(
            &Method::from_bytes(m.as_bytes()).unwrap(),
            level,
            restype,
            comp,
            &header,
        )
        .map_err(|e| e.code)
    }

    /// method, level, restype, comp, x-ms-blob-type, expected operation
    type RouteRow<'a> = (
        &'a str,
        Level,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Op,
    );

    #[test]
    fn routes_of_the_rest_reference() {
        use Level::*;
        let rows: &[RouteRow] = &[
            ("GET", Service, None, Some("list"), None, Op::ListContainers),
            (
                "GET",
                Service,
                Some("service"),
                Some("properties"),
                None,
                Op::GetServiceProperties,
            ),
            (
                "PUT",
                Service,
                Some("service"),
                Some("properties"),
                None,
                Op::SetServiceProperties,
            ),
            (
                "GET",
                Service,
                Some("account"),
                Some("properties"),
                None,
                Op::GetAccountInfo,
            ),
            (
                "HEAD",
                Blob,
                Some("account"),
                Some("properties"),
                None,
                Op::GetAccountInfo,
            ),
            (
                "PUT",
                Container,
                Some("container"),
                None,
                None,
                Op::CreateContainer,
            ),
            (
                "GET",
                Container,
                Some("container"),
                None,
                None,
                Op::GetContainerProperties,
            ),
            (
                "HEAD",
                Container,
                Some("container"),
                Some("metadata"),
                None,
                Op::GetContainerMetadata,
            ),
            (
                "PUT",
                Container,
                Some("container"),
                Some("metadata"),
                None,
                Op::SetContainerMetadata,
            ),
            (
                "GET",
                Container,
                Some("container"),
                Some("acl"),
                None,
                Op::GetContainerAcl,
            ),
            (
                "PUT",
                Container,
                Some("container"),
                Some("acl"),
                None,
                Op::SetContainerAcl,
            ),
            (
                "DELETE",
                Container,
                Some("container"),
                None,
                None,
                Op::DeleteContainer,
            ),
            (
                "GET",
                Container,
                Some("container"),
                Some("list"),
                None,
                Op::ListBlobs,
            ),
            ("PUT", Blob, None, None, Some("BlockBlob"), Op::PutBlob),
            ("PUT", Blob, None, Some("block"), None, Op::PutBlock),
            ("PUT", Blob, None, Some("blocklist"), None, Op::PutBlockList),
            ("GET", Blob, None, Some("blocklist"), None, Op::GetBlockList),
            ("GET", Blob, None, None, None, Op::GetBlob),
            ("HEAD", Blob, None, None, None, Op::GetBlobProperties),
            (
                "GET",
                Blob,
                None,
                Some("metadata"),
                None,
                Op::GetBlobMetadata,
            ),
            (
                "PUT",
                Blob,
                None,
                Some("properties"),
                None,
                Op::SetBlobProperties,
            ),
            (
                "PUT",
                Blob,
                None,
                Some("metadata"),
                None,
                Op::SetBlobMetadata,
            ),
            ("DELETE", Blob, None, None, None, Op::DeleteBlob),
            ("OPTIONS", Blob, None, None, None, Op::Preflight),
        ];
        for (m, level, restype, comp, bt, op) in rows {
            assert_eq!(
                route(m, *level, *restype, *comp, *bt),
                Ok(*op),
                "{m} {level:?} {restype:?} {comp:?}"
            );
        }
    }

    #[test]
    fn bad_routes_are_azure_errors() {
        use Level::*;
        assert_eq!(
            route("PUT", Blob, None, None, None),
            Err(ErrorCode::MissingRequiredHeader)
        );
        assert_eq!(
            route("PUT", Blob, None, None, Some("Nope")),
            Err(ErrorCode::InvalidHeaderValue)
        );
        assert_eq!(
            route("GET", Container, Some("container"), Some("bogus"), None),
            Err(ErrorCode::InvalidQueryParameterValue)
        );
        assert_eq!(
            route("PATCH", Blob, None, None, None),
            Err(ErrorCode::UnsupportedHttpVerb)
        );
        assert_eq!(
            route("PUT", Blob, None, None, Some("PageBlob")),
            Err(ErrorCode::NotImplemented)
        );
    }
}
