//! `snapshot=` and `versionid=` name another resource than the base blob. Lapis keeps no
//! snapshots or versions yet, so a request naming one addresses nothing: the operations that
//! read or delete a snapshot or version answer 404 `BlobNotFound`, and no operation acts on the
//! base blob instead.

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

/// Refuses a request that names a snapshot or version: Azure's 400 for a value that is not
/// a snapshot time or version id, 404 for one that does not exist (none do), and 400 for an
/// operation that cannot address a snapshot or version at all.
pub fn check(op: Op, query: &Query) -> ApiResult<()> {
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
        // Get Page Ranges reads a snapshot's own rows: the engine answers for it.
        if op == Op::GetPageRanges && name == "snapshot" {
            continue;
        }
        let addressable = matches!(
            op,
            Op::GetBlob
                | Op::GetBlobProperties
                | Op::GetBlobMetadata
                | Op::DeleteBlob
                | Op::GetBlockList
        ) && !(name == "versionid" && op == Op::GetBlockList);
        if !addressable {
            return Err(invalid(
                name,
                value,
                "This operation cannot address a snapshot or version of a blob.",
            )
            .into());
        }
        return Err(AzureError::new(ErrorCode::BlobNotFound).into());
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
        ] {
            for q in [snapshot, version] {
                assert_eq!(
                    code(op, q),
                    Some((ErrorCode::BlobNotFound, 404)),
                    "{op:?} {q}"
                );
            }
        }
        assert_eq!(
            code(Op::GetBlockList, snapshot),
            Some((ErrorCode::BlobNotFound, 404))
        );
        for op in [
            Op::PutBlob,
            Op::SetBlobMetadata,
            Op::SetBlobProperties,
            Op::PutBlockList,
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
