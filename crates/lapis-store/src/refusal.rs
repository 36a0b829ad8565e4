//! Why the engine refuses a request on a blob or container in a state that does not allow it.
//! Each variant is named after the Azure error code the server answers it with, one to one, so
//! that the mapping (lapis-server `error.rs`) stays a plain table.

/// A refusal for the state of the resource (its lease, type, copy, tier, seal, sequence
/// number, snapshots), decided inside the transaction that would have made the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    // Leases on a write (or read) of the leased resource.
    LeaseIdMissing,
    LeaseIdMismatchWithBlobOperation,
    LeaseIdMismatchWithContainerOperation,
    LeaseNotPresentWithBlobOperation,
    LeaseNotPresentWithContainerOperation,
    LeaseLost,
    // Lease operations.
    LeaseAlreadyPresent,
    LeaseAlreadyBroken,
    LeaseIdMismatchWithLeaseOperation,
    LeaseNotPresentWithLeaseOperation,
    LeaseIsBreakingAndCannotBeAcquired,
    LeaseIsBreakingAndCannotBeChanged,
    LeaseIsBrokenAndCannotBeRenewed,
    // Snapshots and versions.
    SnapshotsPresent,
    /// Delete Blob of the current version by its version id (the base blob must be deleted).
    OperationNotAllowedOnRootBlob,
    /// A permanent delete (`deletetype=permanent`) of a snapshot or version that is not
    /// soft-deleted.
    BlobSnapshotNotSoftDeleted,
    // Blob types, appends, pages.
    InvalidBlobType,
    BlobIsSealed,
    AppendPositionConditionNotMet,
    MaxBlobSizeConditionNotMet,
    BlockCountExceedsLimit,
    SequenceNumberConditionNotMet,
    SequenceNumberIncrementTooLarge,
    InvalidPageRange,
    PreviousSnapshotNotFound,
    // Copies.
    PendingCopyOperation,
    NoPendingCopyOperation,
    CopyIdMismatch,
    /// A copy source's conditions (`x-ms-source-if-*`) failed.
    SourceConditionNotMet,
    /// A copy destination's conditions failed.
    TargetConditionNotMet,
    /// The copy source does not exist (Azure names it so, with 404).
    CopySourceNotFound,
    CannotVerifyCopySource,
    InvalidSourceBlobType,
    // Tiers.
    BlobArchived,
    /// Set Blob Tier moving an archived snapshot or previous version online: Azure brings
    /// those back only by copying them to a new blob.
    BlobOperationNotSupported,
    BlobBeingRehydrated,
    BlobNotArchived,
    InvalidBlobTier,
    // Tags.
    TagConditionNotMet,
}
