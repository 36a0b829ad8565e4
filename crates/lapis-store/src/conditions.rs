//! HTTP preconditions, evaluated against the current state of a resource inside the same
//! transaction as the operation they guard.

use time::OffsetDateTime;

use crate::{
    Access, BlobProps, Conditions, ContainerProps, EtagCondition, Lease, LeaseState, Refusal,
    Result, StoreError, StoredLeaseState,
};

fn etag_matches(cond: &EtagCondition, etag: &str) -> bool {
    match cond {
        EtagCondition::Any => true,
        EtagCondition::Tags(tags) => tags.iter().any(|t| t == etag),
    }
}

/// `current` is `(etag, last_modified)` of the resource, `None` when it does not exist (callers
/// that must answer "not found" first do so before calling this).
pub(crate) fn check(
    cond: &Conditions,
    current: Option<(&str, OffsetDateTime)>,
    access: Access,
) -> Result<()> {
    let Some((etag, last_modified)) = current else {
        // Nothing to match: If-Match fails, and so does If-Modified-Since (Azure answers 412 to a
        // Put Block List with If-Modified-Since for a blob that does not exist yet, recording
        // TestBlobPutBlockListIfModifiedSinceFalse); the others hold vacuously.
        return match (&cond.if_match, cond.if_modified_since) {
            (None, None) => Ok(()),
            _ => Err(StoreError::ConditionNotMet),
        };
    };
    // Azure compares dates at whole seconds.
    let modified = last_modified.replace_nanosecond(0).unwrap_or(last_modified);
    if let Some(m) = &cond.if_match {
        if !etag_matches(m, etag) {
            return Err(StoreError::ConditionNotMet);
        }
    }
    if let Some(date) = cond.if_unmodified_since {
        if modified > date {
            return Err(StoreError::ConditionNotMet);
        }
    }
    let unchanged = match access {
        Access::Read => StoreError::NotModified,
        Access::Write => StoreError::ConditionNotMet,
    };
    // Each says "the client's copy is current".
    let same_etag = cond.if_none_match.as_ref().map(|m| etag_matches(m, etag));
    let not_modified_since = cond.if_modified_since.map(|date| modified <= date);
    let current = match (access, same_etag, not_modified_since) {
        // A read goes ahead if either condition holds (Azure since 2013-08-15).
        (Access::Read, Some(a), Some(b)) => a && b,
        (_, a, b) => a.unwrap_or(false) || b.unwrap_or(false),
    };
    if current {
        return Err(unchanged);
    }
    Ok(())
}

/// A blob's conditions, then its lease, as Azure checks them for a read or a write.
pub(crate) fn check_blob(cond: &Conditions, blob: &BlobProps, access: Access) -> Result<()> {
    check(cond, Some((&blob.etag, blob.last_modified)), access)?;
    check_lease(
        &blob.lease,
        cond.lease_id.as_deref(),
        access,
        LeaseHolder::Blob,
    )
}

/// `check_blob`, then the blob's index tags (`x-ms-if-tags`): every condition a request may put
/// on a blob row, checked in the transaction that acts on it.
pub(crate) fn check_blob_row(
    conn: &rusqlite::Connection,
    cond: &Conditions,
    row: &crate::blobs::BlobRow,
    access: Access,
) -> Result<()> {
    check_blob(cond, &row.props, access)?;
    crate::tags::check_tags(conn, Some(row.id), cond)
}

/// A container write's conditions, then its lease. A container lease guards only Delete
/// Container: other writes (metadata, ACL) may name the lease, and then it must match, but need
/// not (`lease` = `Access::Read` for those, `Access::Write` for a delete).
pub(crate) fn check_container(
    cond: &Conditions,
    container: &ContainerProps,
    lease: Access,
) -> Result<()> {
    check(
        cond,
        Some((&container.etag, container.last_modified)),
        Access::Write,
    )?;
    check_lease(
        &container.lease,
        cond.lease_id.as_deref(),
        lease,
        LeaseHolder::Container,
    )
}

impl ContainerProps {
    /// For a read of the container that names a lease (`x-ms-lease-id`): it must be the
    /// container's active lease.
    pub fn check_lease_id(&self, given: Option<&str>) -> Result<()> {
        check_lease(&self.lease, given, Access::Read, LeaseHolder::Container)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaseHolder {
    Blob,
    Container,
}

/// The lease rule of an operation on a leased resource: a write to a locked one needs its
/// lease id; a read may name it, and then it must match. A lease id named for a resource whose
/// lease is gone is refused: `LeaseLost` once it expired or was broken, "not present" when
/// there never was one (or it was released).
pub(crate) fn check_lease(
    lease: &Lease,
    given: Option<&str>,
    access: Access,
    holder: LeaseHolder,
) -> Result<()> {
    // The common case, no lease and none named, needs no clock.
    if lease.state == StoredLeaseState::Available && given.is_none() {
        return Ok(());
    }
    let blob = holder == LeaseHolder::Blob;
    let refuse = |r: Refusal| Err(StoreError::Refused(r));
    let state = lease.at(OffsetDateTime::now_utc());
    match (state.locked(), given) {
        (true, None) if access == Access::Write => refuse(Refusal::LeaseIdMissing),
        (true, None) => Ok(()),
        (true, Some(id))
            if lease
                .id
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(id)) =>
        {
            Ok(())
        }
        (true, Some(_)) if blob => refuse(Refusal::LeaseIdMismatchWithBlobOperation),
        (true, Some(_)) => refuse(Refusal::LeaseIdMismatchWithContainerOperation),
        (false, None) => Ok(()),
        (false, Some(_)) if matches!(state, LeaseState::Expired | LeaseState::Broken) => {
            refuse(Refusal::LeaseLost)
        }
        (false, Some(_)) if blob => refuse(Refusal::LeaseNotPresentWithBlobOperation),
        (false, Some(_)) => refuse(Refusal::LeaseNotPresentWithContainerOperation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const LM: OffsetDateTime = datetime!(2024-05-01 12:00:00.700 UTC);
    const E: &str = "0x8D0000000000001";

    fn tags(t: &[&str]) -> Option<EtagCondition> {
        Some(EtagCondition::Tags(
            t.iter().map(|s| s.to_string()).collect(),
        ))
    }

    fn run(cond: Conditions, access: Access) -> Result<()> {
        check(&cond, Some((E, LM)), access)
    }

    fn kind(r: Result<()>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(StoreError::ConditionNotMet) => "412",
            Err(StoreError::NotModified) => "304",
            Err(_) => "other",
        }
    }

    #[test]
    fn if_match() {
        for access in [Access::Read, Access::Write] {
            assert_eq!(
                kind(run(
                    Conditions {
                        if_match: Some(EtagCondition::Any),
                        ..Default::default()
                    },
                    access
                )),
                "ok"
            );
            assert_eq!(
                kind(run(
                    Conditions {
                        if_match: tags(&["x", E]),
                        ..Default::default()
                    },
                    access
                )),
                "ok"
            );
            assert_eq!(
                kind(run(
                    Conditions {
                        if_match: tags(&["x"]),
                        ..Default::default()
                    },
                    access
                )),
                "412"
            );
        }
    }

    #[test]
    fn if_none_match_is_304_for_reads_and_412_for_writes() {
        let c = || Conditions {
            if_none_match: tags(&[E]),
            ..Default::default()
        };
        assert_eq!(kind(run(c(), Access::Read)), "304");
        assert_eq!(kind(run(c(), Access::Write)), "412");
        let star = || Conditions {
            if_none_match: Some(EtagCondition::Any),
            ..Default::default()
        };
        assert_eq!(kind(run(star(), Access::Write)), "412");
        assert_eq!(
            kind(run(
                Conditions {
                    if_none_match: tags(&["other"]),
                    ..Default::default()
                },
                Access::Read
            )),
            "ok"
        );
    }

    #[test]
    fn dates_compare_at_whole_seconds() {
        let same_second = datetime!(2024-05-01 12:00:00 UTC);
        let before = datetime!(2024-05-01 11:59:59 UTC);
        let ims = |d| Conditions {
            if_modified_since: Some(d),
            ..Default::default()
        };
        let ius = |d| Conditions {
            if_unmodified_since: Some(d),
            ..Default::default()
        };
        assert_eq!(kind(run(ims(same_second), Access::Read)), "304");
        assert_eq!(kind(run(ims(same_second), Access::Write)), "412");
        assert_eq!(kind(run(ims(before), Access::Read)), "ok");
        assert_eq!(kind(run(ius(same_second), Access::Write)), "ok");
        assert_eq!(kind(run(ius(before), Access::Read)), "412");
    }

    #[test]
    fn missing_resource() {
        let m = Conditions {
            if_match: Some(EtagCondition::Any),
            ..Default::default()
        };
        assert_eq!(kind(check(&m, None, Access::Write)), "412");
        let n = Conditions {
            if_none_match: Some(EtagCondition::Any),
            if_unmodified_since: Some(LM),
            ..Default::default()
        };
        assert_eq!(kind(check(&n, None, Access::Write)), "ok");
        let ims = Conditions {
            if_modified_since: Some(LM),
            ..Default::default()
        };
        assert_eq!(kind(check(&ims, None, Access::Write)), "412");
    }

    #[test]
    fn a_read_goes_ahead_when_either_freshness_condition_holds() {
        let earlier = datetime!(2024-05-01 11:00 UTC);
        let later = datetime!(2024-05-01 13:00 UTC);
        let both = |etag: &[&str], since| Conditions {
            if_none_match: tags(etag),
            if_modified_since: Some(since),
            ..Default::default()
        };
        // Same ETag but modified since: the read goes ahead (and a write does not).
        assert_eq!(kind(run(both(&[E], earlier), Access::Read)), "ok");
        assert_eq!(kind(run(both(&[E], earlier), Access::Write)), "412");
        // Other ETag, not modified since: goes ahead.
        assert_eq!(kind(run(both(&["x"], later), Access::Read)), "ok");
        // Both say the copy is current: 304.
        assert_eq!(kind(run(both(&[E], later), Access::Read)), "304");
    }
}
