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
    GetUserDelegationKey,
    Preflight,
    // container
    CreateContainer,
    GetContainerProperties,
    GetContainerMetadata,
    SetContainerMetadata,
    GetContainerAcl,
    SetContainerAcl,
    DeleteContainer,
    RestoreContainer,
    ListBlobs,
    LeaseContainer,
    /// At account (service level) or container scope.
    FindBlobsByTags,
    /// At account (service level) or container scope.
    SubmitBatch,
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
    UndeleteBlob,
    /// Delete Blob with `deletetype=permanent` (resolved by the handler, which sees the query).
    PermanentDeleteBlob,
    LeaseBlob,
    SnapshotBlob,
    CopyBlob,
    AbortCopyBlob,
    CopyBlobFromUrl,
    PutBlobFromUrl,
    PutBlockFromUrl,
    /// Put Blob with `x-ms-blob-type: AppendBlob`.
    CreateAppendBlob,
    AppendBlock,
    AppendBlockFromUrl,
    SealBlob,
    /// Put Blob with `x-ms-blob-type: PageBlob`.
    CreatePageBlob,
    /// Put Page, update or clear (`x-ms-page-write`).
    PutPage,
    PutPageFromUrl,
    GetPageRanges,
    /// Set Blob Properties that resizes a page blob or changes its sequence number.
    SetPageBlobProperties,
    IncrementalCopyBlob,
    SetBlobTier,
    GetBlobTags,
    SetBlobTags,
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
            Op::GetUserDelegationKey => Operation::GetUserDelegationKey,
            Op::Preflight => return None,
            Op::CreateContainer => Operation::CreateContainer,
            Op::GetContainerProperties => Operation::GetContainerProperties,
            Op::GetContainerMetadata => Operation::GetContainerMetadata,
            Op::SetContainerMetadata => Operation::SetContainerMetadata,
            Op::GetContainerAcl => Operation::GetContainerAcl,
            Op::SetContainerAcl => Operation::SetContainerAcl,
            Op::DeleteContainer => Operation::DeleteContainer,
            Op::RestoreContainer => Operation::RestoreContainer,
            Op::ListBlobs => Operation::ListBlobs,
            Op::LeaseContainer => Operation::LeaseContainer,
            Op::FindBlobsByTags => Operation::FindBlobsByTags,
            Op::SubmitBatch => Operation::SubmitBatch,
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
            Op::UndeleteBlob => Operation::UndeleteBlob,
            Op::PermanentDeleteBlob => Operation::PermanentDeleteBlob,
            Op::LeaseBlob => Operation::LeaseBlob,
            Op::SnapshotBlob => Operation::SnapshotBlob,
            Op::CopyBlob => Operation::CopyBlob,
            Op::AbortCopyBlob => Operation::AbortCopyBlob,
            Op::CopyBlobFromUrl => Operation::CopyBlobFromUrl,
            Op::PutBlobFromUrl => Operation::PutBlobFromUrl,
            Op::PutBlockFromUrl => Operation::PutBlockFromUrl,
            Op::CreateAppendBlob | Op::CreatePageBlob => Operation::PutBlob,
            Op::AppendBlock => Operation::AppendBlock,
            Op::AppendBlockFromUrl => Operation::AppendBlockFromUrl,
            Op::SealBlob => Operation::SealBlob,
            Op::PutPage => Operation::PutPage,
            Op::PutPageFromUrl => Operation::PutPageFromUrl,
            Op::GetPageRanges => Operation::GetPageRanges,
            Op::SetPageBlobProperties => Operation::SetBlobProperties,
            Op::IncrementalCopyBlob => Operation::IncrementalCopyBlob,
            Op::SetBlobTier => Operation::SetBlobTier,
            Op::GetBlobTags => Operation::GetBlobTags,
            Op::SetBlobTags => Operation::SetBlobTags,
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
        (Service, "POST", Some("service"), Some("userdelegationkey")) => Op::GetUserDelegationKey,
        (Service, "GET", _, Some("blobs")) => Op::FindBlobsByTags,
        (Service, "POST", _, Some("batch")) => Op::SubmitBatch,

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
        (Container, "PUT", Some("container"), Some("lease")) => Op::LeaseContainer,
        (Container, "GET", Some("container"), Some("blobs")) => Op::FindBlobsByTags,
        (Container, "POST", Some("container"), Some("batch")) => Op::SubmitBatch,
        // At the service level too: Azure answers it there (with the headers missing, 400).
        (Service | Container, "PUT", Some("container"), Some("undelete")) => Op::RestoreContainer,
        (Container, _, Some("container"), Some("rename")) => {
            return Err(not_implemented("Rename Container"))
        }
        (Container, _, Some("container"), Some("session")) => {
            return Err(not_implemented("Create Session"))
        }

        (Blob, "PUT", _, None) => return put_blob_kind(header),
        (Blob, "PUT", _, Some("block")) if header("x-ms-copy-source").is_some() => {
            Op::PutBlockFromUrl
        }
        (Blob, "PUT", _, Some("block")) => Op::PutBlock,
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
            Op::SetPageBlobProperties
        }
        (Blob, "PUT", _, Some("properties")) => Op::SetBlobProperties,
        (Blob, "PUT", _, Some("metadata")) => Op::SetBlobMetadata,
        (Blob, "DELETE", _, None) => Op::DeleteBlob,
        (Blob, "PUT", _, Some("undelete")) => Op::UndeleteBlob,
        (Blob, "PUT", _, Some("lease")) => Op::LeaseBlob,
        (Blob, "PUT", _, Some("snapshot")) => Op::SnapshotBlob,
        (Blob, "PUT", _, Some("copy")) => Op::AbortCopyBlob,
        (Blob, "GET", _, Some("tags")) => Op::GetBlobTags,
        (Blob, "PUT", _, Some("tags")) => Op::SetBlobTags,
        (Blob, "PUT", _, Some("tier")) => Op::SetBlobTier,
        (Blob, "PUT", _, Some("appendblock")) if header("x-ms-copy-source").is_some() => {
            Op::AppendBlockFromUrl
        }
        (Blob, "PUT", _, Some("appendblock")) => Op::AppendBlock,
        (Blob, "PUT", _, Some("seal")) => Op::SealBlob,
        (Blob, "PUT", _, Some("page")) if header("x-ms-copy-source").is_some() => {
            Op::PutPageFromUrl
        }
        (Blob, "PUT", _, Some("page")) => Op::PutPage,
        (Blob, "GET", _, Some("pagelist")) => Op::GetPageRanges,
        (Blob, "PUT", _, Some("incrementalcopy")) => Op::IncrementalCopyBlob,
        (Blob, _, _, Some("expiry" | "immutabilityPolicies" | "legalhold" | "query")) => {
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

/// A plain PUT on a blob URL is Put Blob (of each type), Copy Blob, Copy Blob From URL (the
/// synchronous copy, `x-ms-requires-sync: true`) or Put Blob From URL (a copy source and a blob
/// type), by header.
fn put_blob_kind(header: &dyn Fn(&str) -> Option<String>) -> Result<Op, AzureError> {
    if header("x-ms-copy-source").is_some() {
        if header("x-ms-requires-sync").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(Op::CopyBlobFromUrl);
        }
        if header("x-ms-blob-type").is_some() {
            return Ok(Op::PutBlobFromUrl);
        }
        return Ok(Op::CopyBlob);
    }
    match header("x-ms-blob-type").as_deref() {
        Some("BlockBlob") => Ok(Op::PutBlob),
        Some("AppendBlob") => Ok(Op::CreateAppendBlob),
        Some("PageBlob") => Ok(Op::CreatePageBlob),
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
                "POST",
                Service,
                Some("service"),
                Some("userdelegationkey"),
                None,
                Op::GetUserDelegationKey,
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
            ("PUT", Blob, None, Some("undelete"), None, Op::UndeleteBlob),
            (
                "PUT",
                Container,
                Some("container"),
                Some("undelete"),
                None,
                Op::RestoreContainer,
            ),
            ("OPTIONS", Blob, None, None, None, Op::Preflight),
            (
                "PUT",
                Blob,
                None,
                None,
                Some("AppendBlob"),
                Op::CreateAppendBlob,
            ),
            (
                "PUT",
                Blob,
                None,
                None,
                Some("PageBlob"),
                Op::CreatePageBlob,
            ),
            ("PUT", Blob, None, Some("lease"), None, Op::LeaseBlob),
            ("PUT", Blob, None, Some("snapshot"), None, Op::SnapshotBlob),
            ("PUT", Blob, None, Some("copy"), None, Op::AbortCopyBlob),
            ("GET", Blob, None, Some("tags"), None, Op::GetBlobTags),
            ("PUT", Blob, None, Some("tags"), None, Op::SetBlobTags),
            ("PUT", Blob, None, Some("tier"), None, Op::SetBlobTier),
            (
                "PUT",
                Blob,
                None,
                Some("appendblock"),
                None,
                Op::AppendBlock,
            ),
            ("PUT", Blob, None, Some("seal"), None, Op::SealBlob),
            ("PUT", Blob, None, Some("page"), None, Op::PutPage),
            ("GET", Blob, None, Some("pagelist"), None, Op::GetPageRanges),
            (
                "PUT",
                Blob,
                None,
                Some("incrementalcopy"),
                None,
                Op::IncrementalCopyBlob,
            ),
            (
                "PUT",
                Container,
                Some("container"),
                Some("lease"),
                None,
                Op::LeaseContainer,
            ),
            (
                "GET",
                Container,
                Some("container"),
                Some("blobs"),
                None,
                Op::FindBlobsByTags,
            ),
            (
                "POST",
                Container,
                Some("container"),
                Some("batch"),
                None,
                Op::SubmitBatch,
            ),
            (
                "GET",
                Service,
                None,
                Some("blobs"),
                None,
                Op::FindBlobsByTags,
            ),
            ("POST", Service, None, Some("batch"), None, Op::SubmitBatch),
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
            route("PUT", Blob, None, Some("expiry"), None),
            Err(ErrorCode::NotImplemented)
        );
    }
}
