//! `snapshot=` and `versionid=` name another resource than the base blob. The operations that
//! can address a snapshot or version take it from the query (`selected`) and find it or
//! answer 404 `BlobNotFound`, never the base blob.

use lapis_wire::time_format::parse_iso8601;
use lapis_wire::{AzureError, ErrorCode};

use crate::error::ApiResult;
use crate::request::Query;
use crate::router::Op;

/// The query parameters that select a snapshot or a version of a blob.
const SELECTORS: [&str; 2] = ["snapshot", "versionid"];

fn invalid(name: &str, value: &str, reason: &str) -> AzureError {
    AzureError::new(ErrorCode::InvalidQueryParameterValue)
        .detail("QueryParameterName", name)
        .detail("QueryParameterValue", value)
        .detail("Reason", reason)
}

/// The snapshot or version the request addresses, as the engine's `_at` operations take it
/// (`None`: the base blob). `check` has passed.
pub fn selected(query: &Query) -> Option<String> {
    match (query.get("snapshot"), query.get("versionid")) {
        (Some(snapshot), _) => Some(snapshot.to_owned()),
        (None, Some(version)) => Some(lapis_store::version_selector(version)),
        (None, None) => None,
    }
}

/// Refuses a request that names a snapshot or version it cannot address: Azure's 400 for a
/// value that is not a snapshot time or version id, for an operation that cannot address a
/// snapshot or version at all, and for both at once. One an operation can address passes,
/// for the operation to look up.
pub fn check(op: Op, query: &Query) -> ApiResult<()> {
    if let (Some(_), Some(version)) = (query.get("snapshot"), query.get("versionid")) {
        return Err(invalid(
            "versionid",
            version,
            "A snapshot and a version cannot be addressed at once.",
        )
        .into());
    }
    for name in SELECTORS {
        let Some(value) = query.get(name) else {
            continue;
        };
        // Snapshot times and version ids are both ISO 8601 times with 7 fractional digits.
        if parse_iso8601(value).is_none() {
            return Err(invalid(
                name,
                value,
                "The value is not a valid snapshot time or version id.",
            )
            .into());
        }
        let addressable = matches!(
            op,
            Op::GetBlob
                | Op::GetBlobProperties
                | Op::GetBlobMetadata
                | Op::DeleteBlob
                | Op::PermanentDeleteBlob
                | Op::GetBlockList
                | Op::GetPageRanges
                | Op::GetBlobTags
                | Op::SetBlobTags
                | Op::SetBlobTier
        ) && !(name == "versionid"
            && matches!(op, Op::GetBlockList | Op::GetPageRanges));
        if !addressable {
            return Err(invalid(
                name,
                value,
                "This operation cannot address a snapshot or version of a blob.",
            )
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(op: Op, query: &str) -> Option<(ErrorCode, u16)> {
        check(op, &Query::parse(Some(query)))
            .err()
            .map(|e| (e.0.code, e.0.status))
    }

    #[test]
    fn a_named_snapshot_or_version_is_never_the_base_blob() {
        let snapshot = "snapshot=2020-01-01T00:00:00.0000000Z";
        let version = "versionid=2022-08-11T15:08:12.7697235Z";
        for op in [
            Op::GetBlob,
            Op::GetBlobProperties,
            Op::GetBlobMetadata,
            Op::DeleteBlob,
            Op::GetBlockList,
        ] {
            // The operation looks the snapshot up itself.
            assert_eq!(code(op, snapshot), None, "{op:?}");
        }
        for op in [
            Op::GetBlob,
            Op::GetBlobProperties,
            Op::GetBlobMetadata,
            Op::DeleteBlob,
            Op::GetBlobTags,
            Op::SetBlobTags,
            Op::SetBlobTier,
        ] {
            // The operation looks the version up itself.
            assert_eq!(code(op, version), None, "{op:?}");
        }
        for op in [
            Op::GetBlockList,
            Op::GetPageRanges,
            Op::PutBlob,
            Op::SetBlobMetadata,
        ] {
            assert_eq!(
                code(op, version),
                Some((ErrorCode::InvalidQueryParameterValue, 400)),
                "{op:?}"
            );
        }
        assert_eq!(
            code(Op::GetBlob, &format!("{snapshot}&{version}")),
            Some((ErrorCode::InvalidQueryParameterValue, 400))
        );
        assert_eq!(
            code(Op::GetBlob, "versionid=latest"),
            Some((ErrorCode::InvalidQueryParameterValue, 400))
        );
        let q = |s: &str| selected(&Query::parse(Some(s)));
        assert_eq!(q(snapshot).as_deref(), Some("2020-01-01T00:00:00.0000000Z"));
        assert_eq!(
            q(version),
            Some(lapis_store::version_selector(
                "2022-08-11T15:08:12.7697235Z"
            ))
        );
        assert_eq!(q("comp=tags"), None);
        for op in [
            Op::PutBlob,
            Op::SetBlobMetadata,
            Op::SetBlobProperties,
            Op::PutBlockList,
            Op::SnapshotBlob,
            Op::LeaseBlob,
        ] {
            assert_eq!(
                code(op, snapshot),
                Some((ErrorCode::InvalidQueryParameterValue, 400)),
                "{op:?}"
            );
        }
        assert_eq!(
            code(Op::GetBlob, "snapshot=yesterday"),
            Some((ErrorCode::InvalidQueryParameterValue, 400))
        );
        assert_eq!(code(Op::GetBlob, "comp=x&prefix=y"), None);
    }
}
