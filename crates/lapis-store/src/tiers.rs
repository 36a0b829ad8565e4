//! Set Blob Tier, and the Archive tier's rule: an archived blob's content cannot be read or
//! changed until the blob is moved back online. Lapis rehydrates at once: a blob set from
//! Archive to Hot, Cool or Cold is readable as soon as the call returns (docs/api-coverage.md).

use time::OffsetDateTime;

use crate::blobs::{find_blob_at, upsert_blob};
use crate::conditions::{check, check_lease, LeaseHolder};
use crate::containers::load_container;
use crate::tags::check_tags;
use crate::{
    Access, AccessTier, BlobProps, BlobType, Conditions, Refusal, Result, Store, StoreError,
};

/// What Set Blob Tier did: moved an archived blob back online (Azure's 202), or not (200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierChange {
    Done,
    Rehydrated,
}

/// Refuses an operation on the content of an archived blob (409 `BlobArchived`).
pub(crate) fn check_online(props: &BlobProps) -> Result<()> {
    match props.access_tier {
        Some((AccessTier::Archive, _)) => Err(StoreError::Refused(Refusal::BlobArchived)),
        _ => Ok(()),
    }
}

impl Store {
    /// Set Blob Tier on a block blob or one of its snapshots. The blob's ETag and Last-Modified
    /// stay; the tier's change time moves.
    #[allow(clippy::too_many_arguments)]
    pub fn set_blob_tier(
        &self,
        account: &str,
        container: &str,
        blob: &str,
        snapshot: Option<&str>,
        tier: AccessTier,
        rehydrate_priority: Option<String>,
        cond: &Conditions,
    ) -> Result<TierChange> {
        let (account, container, blob, snapshot, cond) = (
            account.to_owned(),
            container.to_owned(),
            blob.to_owned(),
            snapshot.unwrap_or("").to_owned(),
            cond.clone(),
        );
        self.core().writer.submit(Vec::new(), move |c| {
            let cont = load_container(c, &account, &container)?;
            let row = find_blob_at(c, cont.id, &blob, &snapshot)?
                .filter(|b| b.committed)
                .ok_or(StoreError::BlobNotFound)?;
            check(
                &cond,
                Some((&row.props.etag, row.props.last_modified)),
                Access::Write,
            )?;
            check_lease(
                &row.props.lease,
                cond.lease_id.as_deref(),
                Access::Write,
                LeaseHolder::Blob,
            )?;
            check_tags(c, Some(row.id), &cond)?;
            if row.props.blob_type != BlobType::BlockBlob {
                return Err(StoreError::Refused(Refusal::InvalidBlobType));
            }
            let was = row.props.access_tier.map(|(t, _)| t);
            let mut props = row.props;
            let change = match (was, tier) {
                (Some(AccessTier::Archive), AccessTier::Archive) => return Ok(TierChange::Done),
                // A snapshot or previous version (any row but the base) stays archived: Azure
                // rehydrates those only by copying them to a new blob (409, as recorded in
                // TestBlockBlobSetTierOnVersions).
                (Some(AccessTier::Archive), _) if !snapshot.is_empty() => {
                    return Err(StoreError::Refused(Refusal::BlobOperationNotSupported))
                }
                (Some(AccessTier::Archive), _) => TierChange::Rehydrated,
                _ => TierChange::Done,
            };
            props.access_tier = Some((tier, OffsetDateTime::now_utc()));
            props.archive_status = None;
            props.rehydrate_priority = match change {
                TierChange::Rehydrated => rehydrate_priority.or(Some("Standard".into())),
                TierChange::Done => None,
            };
            upsert_blob(c, cont.id, Some(row.id), true, &props)?;
            Ok(change)
        })
    }
}
