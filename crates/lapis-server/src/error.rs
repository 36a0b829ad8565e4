//! The one place where failures of every layer become Azure error responses.

use lapis_auth::{AuthError, AuthErrorCode};
use lapis_store::{Refusal, StoreError};
use lapis_wire::{AzureError, ErrorCode};

/// A failed request, as Azure would describe it.
#[derive(Debug)]
pub struct ApiError(pub AzureError);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<AzureError> for ApiError {
    fn from(e: AzureError) -> Self {
        ApiError(e)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(c: ErrorCode) -> Self {
        ApiError(AzureError::new(c))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::ContainerNotFound => ErrorCode::ContainerNotFound,
            StoreError::ContainerAlreadyExists => ErrorCode::ContainerAlreadyExists,
            StoreError::ContainerBeingDeleted => ErrorCode::ContainerBeingDeleted,
            StoreError::BlobNotFound => ErrorCode::BlobNotFound,
            StoreError::ConditionNotMet => ErrorCode::ConditionNotMet,
            StoreError::NotModified => {
                return ApiError(AzureError::new(ErrorCode::ConditionNotMet).status(304))
            }
            StoreError::InvalidBlockList => ErrorCode::InvalidBlockList,
            StoreError::InvalidRange => ErrorCode::InvalidRange,
            StoreError::BlockCountExceeded => ErrorCode::BlockCountExceedsLimit,
            StoreError::BlockIdLengthMismatch => ErrorCode::InvalidBlobOrBlock,
            StoreError::CustomerKeyRequired => ErrorCode::BlobUsesCustomerSpecifiedEncryption,
            StoreError::CustomerKeyNotUsed => ErrorCode::BlobDoesNotUseCustomerSpecifiedEncryption,
            StoreError::CustomerKeyMismatch => ErrorCode::BlobCustomerSpecifiedEncryptionMismatch,
            StoreError::TableNotFound => ErrorCode::TableNotFound,
            StoreError::TableAlreadyExists => ErrorCode::TableAlreadyExists,
            // Azure answers a missing entity with the generic code.
            StoreError::EntityNotFound => ErrorCode::ResourceNotFound,
            StoreError::EntityAlreadyExists => ErrorCode::EntityAlreadyExists,
            StoreError::UpdateConditionNotSatisfied => ErrorCode::UpdateConditionNotSatisfied,
            StoreError::QueueNotFound => ErrorCode::QueueNotFound,
            StoreError::QueueAlreadyExists => ErrorCode::QueueAlreadyExists,
            StoreError::MessageNotFound => ErrorCode::MessageNotFound,
            StoreError::PopReceiptMismatch => ErrorCode::PopReceiptMismatch,
            StoreError::Refused(Refusal::CopySourceNotFound) => {
                return ApiError(AzureError::new(ErrorCode::CannotVerifyCopySource).status(404))
            }
            StoreError::Refused(r) => refusal_code(*r),
            StoreError::StorageFull => {
                tracing::error!(error = %e, "storage full");
                // Azure has no "disk full"; ServerBusy (503) tells clients to retry later,
                // which is right: writes succeed again once space returns.
                return ApiError(AzureError::new(ErrorCode::ServerBusy).message(
                    "The server has no space left to store the request's data; retry later.",
                ));
            }
            // Listed, not matched by a wildcard: a new engine error must say what it answers.
            StoreError::Io(_) | StoreError::Sqlite(_) | StoreError::Internal(_) => {
                tracing::error!(error = %e, "storage engine failure");
                ErrorCode::InternalError
            }
        };
        ApiError(AzureError::new(code))
    }
}

/// The Azure code of each engine refusal (`CopySourceNotFound`: the code, with status 404).
fn refusal_code(r: Refusal) -> ErrorCode {
    match r {
        Refusal::LeaseIdMissing => ErrorCode::LeaseIdMissing,
        Refusal::LeaseIdMismatchWithBlobOperation => ErrorCode::LeaseIdMismatchWithBlobOperation,
        Refusal::LeaseIdMismatchWithContainerOperation => {
            ErrorCode::LeaseIdMismatchWithContainerOperation
        }
        Refusal::LeaseNotPresentWithBlobOperation => ErrorCode::LeaseNotPresentWithBlobOperation,
        Refusal::LeaseNotPresentWithContainerOperation => {
            ErrorCode::LeaseNotPresentWithContainerOperation
        }
        Refusal::LeaseLost => ErrorCode::LeaseLost,
        Refusal::LeaseAlreadyPresent => ErrorCode::LeaseAlreadyPresent,
        Refusal::LeaseAlreadyBroken => ErrorCode::LeaseAlreadyBroken,
        Refusal::LeaseIdMismatchWithLeaseOperation => ErrorCode::LeaseIdMismatchWithLeaseOperation,
        Refusal::LeaseNotPresentWithLeaseOperation => ErrorCode::LeaseNotPresentWithLeaseOperation,
        Refusal::LeaseIsBreakingAndCannotBeAcquired => {
            ErrorCode::LeaseIsBreakingAndCannotBeAcquired
        }
        Refusal::LeaseIsBreakingAndCannotBeChanged => ErrorCode::LeaseIsBreakingAndCannotBeChanged,
        Refusal::LeaseIsBrokenAndCannotBeRenewed => ErrorCode::LeaseIsBrokenAndCannotBeRenewed,
        Refusal::SnapshotsPresent => ErrorCode::SnapshotsPresent,
        Refusal::OperationNotAllowedOnRootBlob => ErrorCode::OperationNotAllowedOnRootBlob,
        Refusal::BlobOperationNotSupported => ErrorCode::BlobOperationNotSupported,
        Refusal::BlobSnapshotNotSoftDeleted => ErrorCode::BlobSnapshotNotSoftDeleted,
        Refusal::InvalidBlobType => ErrorCode::InvalidBlobType,
        Refusal::BlobIsSealed => ErrorCode::BlobIsSealed,
        Refusal::AppendPositionConditionNotMet => ErrorCode::AppendPositionConditionNotMet,
        Refusal::MaxBlobSizeConditionNotMet => ErrorCode::MaxBlobSizeConditionNotMet,
        Refusal::BlockCountExceedsLimit => ErrorCode::BlockCountExceedsLimit,
        Refusal::SequenceNumberConditionNotMet => ErrorCode::SequenceNumberConditionNotMet,
        Refusal::SequenceNumberIncrementTooLarge => ErrorCode::SequenceNumberIncrementTooLarge,
        Refusal::InvalidPageRange => ErrorCode::InvalidPageRange,
        Refusal::PreviousSnapshotNotFound => ErrorCode::PreviousSnapshotNotFound,
        Refusal::PendingCopyOperation => ErrorCode::PendingCopyOperation,
        Refusal::NoPendingCopyOperation => ErrorCode::NoPendingCopyOperation,
        Refusal::CopyIdMismatch => ErrorCode::CopyIdMismatch,
        Refusal::SourceConditionNotMet => ErrorCode::SourceConditionNotMet,
        Refusal::TargetConditionNotMet => ErrorCode::TargetConditionNotMet,
        Refusal::CopySourceNotFound => ErrorCode::CannotVerifyCopySource,
        Refusal::CannotVerifyCopySource => ErrorCode::CannotVerifyCopySource,
        Refusal::InvalidSourceBlobType => ErrorCode::InvalidSourceBlobType,
        Refusal::BlobArchived => ErrorCode::BlobArchived,
        Refusal::BlobBeingRehydrated => ErrorCode::BlobBeingRehydrated,
        Refusal::BlobNotArchived => ErrorCode::BlobNotArchived,
        Refusal::InvalidBlobTier => ErrorCode::InvalidBlobTier,
        Refusal::TagConditionNotMet => ErrorCode::ConditionNotMet,
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = match e.code {
            AuthErrorCode::AuthenticationFailed => ErrorCode::AuthenticationFailed,
            AuthErrorCode::AuthorizationFailure => ErrorCode::AuthorizationFailure,
            AuthErrorCode::AuthorizationPermissionMismatch => {
                ErrorCode::AuthorizationPermissionMismatch
            }
            AuthErrorCode::AuthorizationResourceTypeMismatch => {
                ErrorCode::AuthorizationResourceTypeMismatch
            }
            AuthErrorCode::AuthorizationServiceMismatch => ErrorCode::AuthorizationServiceMismatch,
            AuthErrorCode::AuthorizationProtocolMismatch => {
                ErrorCode::AuthorizationProtocolMismatch
            }
            AuthErrorCode::AuthorizationSourceIPMismatch => {
                ErrorCode::AuthorizationSourceIPMismatch
            }
            AuthErrorCode::InvalidQueryParameterValue => ErrorCode::InvalidQueryParameterValue,
            AuthErrorCode::InvalidAuthenticationInfo => ErrorCode::InvalidAuthenticationInfo,
            AuthErrorCode::NoAuthenticationInformation => ErrorCode::NoAuthenticationInformation,
        };
        let mut err = AzureError::new(code).status(e.code.status());
        // A refused bearer token: Azure's 401 text and challenge, not the code's default (400).
        if let Some(challenge) = e.challenge {
            err = err
                .message(e.code.message())
                .header("WWW-Authenticate", challenge);
        }
        if !e.detail.is_empty() {
            err = err.detail("AuthenticationErrorDetail", e.detail);
        }
        ApiError(err)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "blocking task failed");
        ApiError(AzureError::new(ErrorCode::InternalError))
    }
}
