//! Azure error codes and the error bodies that carry them.
//!
//! One table ([`error_codes!`] below) holds every code with its default HTTP status and Azure's
//! message text; the enum, its spelling, status and message are all generated from it so they
//! cannot drift apart. Where a recording of real Azure traffic shows a message that differs from
//! the documentation, the recorded text wins (including Azure's own typo "specifed").

use std::fmt;

use crate::time_format::iso8601_7;
use crate::xml::escape_text;

macro_rules! error_codes {
    ($($code:ident => ($status:literal, $message:literal),)*) => {
        /// An Azure Storage error code, spelled exactly as the `x-ms-error-code` header value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($code,)* }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            /// The `x-ms-error-code` spelling (the variant name).
            pub fn as_str(&self) -> &'static str {
                match self { $(ErrorCode::$code => stringify!($code),)* }
            }

            /// The HTTP status Azure answers with by default.
            pub fn status(&self) -> u16 {
                match self { $(ErrorCode::$code => $status,)* }
            }

            /// Azure's message text for this code.
            pub fn default_message(&self) -> &'static str {
                match self { $(ErrorCode::$code => $message,)* }
            }

            /// The code with this exact (case-sensitive) spelling.
            #[allow(clippy::should_implement_trait)]
            pub fn from_str(s: &str) -> Option<ErrorCode> {
                match s { $(stringify!($code) => Some(ErrorCode::$code),)* _ => None }
            }
        }
    };
}

error_codes! {
    // Common REST API error codes.
    AccountAlreadyExists => (409, "The specified account already exists."),
    AccountBeingCreated => (409, "The specified account is in the process of being created."),
    AccountIsDisabled => (403, "The specified account is disabled."),
    AuthenticationFailed => (403, "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature."),
    AuthorizationFailure => (403, "This request is not authorized to perform this operation."),
    AuthorizationPermissionMismatch => (403, "This request is not authorized to perform this operation using this permission."),
    AuthorizationProtocolMismatch => (403, "This request is not authorized to perform this operation using this protocol."),
    AuthorizationResourceTypeMismatch => (403, "This request is not authorized to perform this operation using this resource type."),
    AuthorizationServiceMismatch => (403, "This request is not authorized to perform this operation using this service."),
    AuthorizationSourceIPMismatch => (403, "This request is not authorized to perform this operation using this source IP."),
    ConditionHeadersNotSupported => (400, "Condition headers are not supported."),
    // 412 for writes; reads answer 304 (the caller overrides the status, the body is empty).
    ConditionNotMet => (412, "The condition specified using HTTP conditional header(s) is not met."),
    // Answer to a CORS preflight (OPTIONS) that no rule allows.
    CorsPreflightFailure => (403, "CORS not enabled or no matching rule found for this request."),
    Crc64Mismatch => (400, "The CRC64 value specified in the request did not match with the CRC64 value calculated by the server."),
    EmptyMetadataKey => (400, "The key for one of the metadata key-value pairs is empty."),
    InsufficientAccountPermissions => (403, "The account being accessed does not have sufficient permissions to execute this operation."),
    InternalError => (500, "The server encountered an internal error. Please retry the request."),
    InvalidAuthenticationInfo => (400, "Authentication information is not given in the correct format. Check the value of Authorization header."),
    InvalidHeaderValue => (400, "The value for one of the HTTP headers is not in the correct format."),
    InvalidHttpVerb => (400, "The HTTP verb specified was not recognized by the server."),
    InvalidInput => (400, "One of the request inputs is not valid."),
    InvalidMd5 => (400, "The MD5 value specified in the request is invalid. The MD5 value must be 128 bits and Base64-encoded."),
    InvalidMetadata => (400, "The metadata specified is invalid. It has characters that are not permitted."),
    InvalidQueryParameterValue => (400, "Value for one of the query parameters specified in the request URI is invalid."),
    InvalidRange => (416, "The range specified is invalid for the current size of the resource."),
    InvalidResourceName => (400, "The specifed resource name contains invalid characters."),
    InvalidUri => (400, "The requested URI does not represent any resource on the server."),
    InvalidXmlDocument => (400, "XML specified is not syntactically valid."),
    InvalidXmlNodeValue => (400, "The value for one of the XML nodes is not in the correct format."),
    Md5Mismatch => (400, "The MD5 value specified in the request did not match with the MD5 value calculated by the server."),
    MetadataTooLarge => (400, "The size of the specified metadata exceeds the maximum size permitted."),
    MissingContentLengthHeader => (411, "The Content-Length header was not specified."),
    MissingRequiredHeader => (400, "An HTTP header that's mandatory for this request is not specified."),
    MissingRequiredQueryParameter => (400, "A query parameter that's mandatory for this request is not specified."),
    MissingRequiredXmlNode => (400, "An XML node that's mandatory for this request is not specified."),
    MultipleConditionHeadersNotSupported => (400, "Multiple condition headers are not supported."),
    NoAuthenticationInformation => (401, "Server failed to authenticate the request. Please refer to the information in the www-authenticate header."),
    OperationTimedOut => (500, "The operation could not be completed within the permitted time."),
    OutOfRangeInput => (400, "One of the request inputs is out of range."),
    OutOfRangeQueryParameterValue => (400, "One of the query parameters specified in the request URI is outside the permissible range."),
    RequestBodyTooLarge => (413, "The request body is too large and exceeds the maximum permissible limit."),
    RequestUrlFailedToParse => (400, "The url in the request could not be parsed."),
    ResourceAlreadyExists => (409, "The specified resource already exists."),
    ResourceNotFound => (404, "The specified resource does not exist."),
    ResourceTypeMismatch => (409, "The specified resource type does not match the type of the existing resource."),
    ServerBusy => (503, "The server is currently unable to receive requests. Please retry your request."),
    UnsupportedHeader => (400, "One of the HTTP headers specified in the request is not supported."),
    UnsupportedHttpVerb => (405, "The resource doesn't support the specified HTTP verb."),
    UnsupportedQueryParameter => (400, "One of the query parameters specified in the request URI is not supported."),
    UnsupportedXmlNode => (400, "One of the XML nodes specified in the request body is not supported."),
    // Not in the spec's enum; the service's own (legacy emulator source, SDK and CLI tests).
    UnsatisfiableCondition => (400, "The request includes an unsatisfiable condition for this operation."),

    // Blob service error codes (the spec's ErrorCode enum, plus codes seen in recordings).
    AppendPositionConditionNotMet => (412, "The append position condition specified was not met."),
    BlobAccessTierNotSupportedForAccountType => (409, "Blob access tier is not supported on this storage account type."),
    BlobAlreadyExists => (409, "The specified blob already exists."),
    BlobArchived => (409, "This operation is not permitted on an archived blob."),
    BlobBeingRehydrated => (409, "This operation is not permitted because the blob is being rehydrated."),
    BlobImmutableDueToPolicy => (409, "This operation is not permitted as the blob is immutable due to a policy."),
    BlobIsSealed => (409, "The blob is sealed and its contents cannot be modified."),
    BlobNotArchived => (409, "Blob is not in the archive tier."),
    BlobNotFound => (404, "The specified blob does not exist."),
    BlobOperationNotSupported => (409, "Blob operation is not supported."),
    BlobSnapshotNotSoftDeleted => (409, "The specified blob snapshot or version is not soft-deleted."),
    BlobOverwritten => (409, "The blob has been recreated since the previous snapshot was taken."),
    BlobTierInadequateForContentLength => (409, "The specified blob tier size limit cannot be less than content length."),
    BlobCustomerSpecifiedEncryptionMismatch => (409, "The given customer specified encryption does not match the encryption used to encrypt the blob."),
    BlobDoesNotUseCustomerSpecifiedEncryption => (409, "The blob is not encrypted with customer specified encryption, but one was provided in the request."),
    BothCrc64AndMd5HeaderPresent => (400, "Both x-ms-content-crc64 header and Content-MD5 header are present."),
    BothCrc64AndMsMd5HeaderPresent => (400, "Both x-ms-content-crc64 header and x-ms-blob-content-md5 header are present."),
    BlobUsesCustomerSpecifiedEncryption => (409, "The blob is encrypted with customer specified encryption, but it was not provided in the request."),
    BlockCountExceedsLimit => (409, "The committed block count cannot exceed the maximum limit of 50,000 blocks."),
    BlockListTooLong => (400, "The block list may not contain more than 50,000 blocks."),
    CannotChangeToLowerTier => (409, "A higher blob tier has already been explicitly set."),
    CannotVerifyCopySource => (401, "Could not verify the copy source within the specified time."),
    ContainerAlreadyExists => (409, "The specified container already exists."),
    ContainerBeingDeleted => (409, "The specified container is being deleted."),
    ContainerDisabled => (409, "The specified container has been disabled by the administrator."),
    ContainerNotFound => (404, "The specified container does not exist."),
    ContentLengthLargerThanTierLimit => (409, "The blob's content length cannot exceed its tier limit."),
    CopyAcrossAccountsNotSupported => (400, "The copy source account and destination account must be the same."),
    CopyIdMismatch => (409, "The specified copy ID did not match the copy ID for the pending copy operation."),
    EncryptionScopeNotAvailable => (409, "The given encryption scope is not available."),
    FeatureVersionMismatch => (409, "The type of blob in the container is unrecognized by this version."),
    HierarchicalNamespaceNotEnabled => (400, "This operation is only supported on a hierarchical namespace account."),
    IncrementalCopyBlobMismatch => (409, "The specified source blob is different than the copy source of the existing incremental copy blob."),
    IncrementalCopyOfEarlierSnapshotNotAllowed => (409, "The specified snapshot is earlier than the last snapshot copied into the incremental copy blob."),
    IncrementalCopySourceMustBeSnapshot => (409, "The source for incremental copy request must be a snapshot."),
    InfiniteLeaseDurationRequired => (412, "The lease ID matched, but the specified lease must be an infinite-duration lease."),
    InvalidBlobOrBlock => (400, "The specified blob or block content is invalid."),
    InvalidBlobTier => (400, "The specified blob tier is invalid."),
    InvalidBlobType => (409, "The blob type is invalid for this operation."),
    InvalidBlockId => (400, "The specified block ID is invalid. The block ID must be Base64-encoded."),
    InvalidBlockList => (400, "The specified block list is invalid."),
    InvalidMarker => (400, "The specified marker is invalid."),
    InvalidOperation => (400, "Invalid operation against a blob snapshot."),
    InvalidPageRange => (416, "The page range specified is invalid."),
    InvalidSourceBlobType => (409, "The copy source blob type is invalid for this operation."),
    InvalidSourceBlobUrl => (409, "The source URL for incremental copy request must be valid Azure Storage blob URL."),
    InvalidVersionForPageBlobOperation => (400, "All operations on page blobs require at least version 2009-09-19."),
    // Blob index tags (not in the spec's enum; the service's own).
    InvalidTag => (400, "The tags specified are invalid. It contains characters that are not permitted."),
    TagsTooLarge => (400, "The tags specified exceed the maximum permissible limit."),
    EmptyTagName => (400, "The name of one of the tag key-value pairs is empty."),
    DuplicateTagNames => (400, "The tags specified contain duplicate names."),
    LeaseAlreadyBroken => (409, "The lease has already been broken and cannot be broken again."),
    LeaseAlreadyPresent => (409, "There is already a lease present."),
    LeaseIdMismatchWithBlobOperation => (412, "The lease ID specified did not match the lease ID for the blob."),
    LeaseIdMismatchWithContainerOperation => (412, "The lease ID specified did not match the lease ID for the container."),
    LeaseIdMismatchWithLeaseOperation => (409, "The lease ID specified did not match the lease ID for the blob."),
    LeaseIdMissing => (412, "There is currently a lease on the blob and no lease ID was specified in the request."),
    LeaseIsBreakingAndCannotBeAcquired => (409, "The lease ID matched, but the lease is currently in breaking state and cannot be acquired until it is broken."),
    LeaseIsBreakingAndCannotBeChanged => (409, "The lease ID matched, but the lease is currently in breaking state and cannot be changed."),
    LeaseIsBrokenAndCannotBeRenewed => (409, "The lease ID matched, but the lease has been broken explicitly and cannot be renewed."),
    LeaseLost => (412, "A lease ID was specified, but the lease for the blob has expired."),
    LeaseNotPresentWithBlobOperation => (412, "There is currently no lease on the blob."),
    LeaseNotPresentWithContainerOperation => (412, "There is currently no lease on the container."),
    LeaseNotPresentWithLeaseOperation => (409, "There is currently no lease on the blob."),
    MaxBlobSizeConditionNotMet => (412, "The max blob size condition specified was not met."),
    NoPendingCopyOperation => (409, "There is currently no pending copy operation."),
    OperationNotAllowedOnIncrementalCopyBlob => (409, "The specified operation is not allowed on an incremental copy blob."),
    OperationNotAllowedOnRootBlob => (403, "The specified operation is not allowed on root blob."),
    PendingCopyOperation => (409, "There is currently a pending copy operation."),
    PreviousSnapshotCannotBeNewer => (400, "The prevsnapshot query parameter value cannot be newer than snapshot query parameter value."),
    PreviousSnapshotNotFound => (409, "The previous snapshot is not found."),
    PreviousSnapshotOperationNotSupported => (409, "Differential Get Page Ranges is not supported on the previous snapshot."),
    SequenceNumberConditionNotMet => (412, "The sequence number condition specified was not met."),
    SequenceNumberIncrementTooLarge => (409, "The sequence number increment cannot be performed because it would result in overflow of the sequence number."),
    SnapshotCountExceeded => (409, "The snapshot count against this blob has been exceeded."),
    SnapshotOperationRateExceeded => (409, "The rate of snapshot operations against this blob has been exceeded."),
    SnapshotsPresent => (409, "This operation is not permitted because the blob has snapshots."),
    SourceConditionNotMet => (412, "The source condition specified using HTTP conditional header(s) is not met."),
    SystemInUse => (409, "This blob is in use by the system."),
    TargetConditionNotMet => (412, "The target condition specified using HTTP conditional header(s) is not met."),
    UnauthorizedBlobOverwrite => (403, "This request is not authorized to perform blob overwrites."),
    // Blob Batch: codes of the SDKs' tests against Azure (the .NET Batch_Limit recording, the
    // C++ BatchExceptions test); not in the spec's enum.
    AllBatchSubRequestsShouldBeSameApi => (400, "All batch subrequests should be the same api."),
    ExceedsMaxBatchRequestCount => (400, "The batch operation exceeds maximum number of allowed subrequests."),

    // Queue service error codes.
    MessageNotFound => (404, "The specified message does not exist."),
    MessageTooLarge => (400, "The message exceeds the maximum allowed size."),
    PopReceiptMismatch => (400, "The specified pop receipt did not match the pop receipt for a dequeued message."),
    QueueAlreadyExists => (409, "The specified queue already exists."),
    QueueBeingDeleted => (409, "The specified queue is being deleted."),
    QueueDisabled => (409, "The specified queue has been disabled by the administrator."),
    QueueNotEmpty => (409, "The specified queue is not empty."),
    QueueNotFound => (404, "The specified queue does not exist."),

    // Table service error codes.
    AtomFormatNotSupported => (415, "Atom format is not supported."),
    DuplicatePropertiesSpecified => (400, "A property is specified more than one time."),
    EntityAlreadyExists => (409, "The specified entity already exists."),
    EntityNotFound => (404, "The specified entity does not exist."),
    EntityTooLarge => (400, "The entity is larger than the maximum size permitted."),
    HostInformationNotPresent => (400, "The required host information is not present in the request. You must send a non-empty Host header or include the absolute URI in the request line."),
    InvalidDuplicateRow => (400, "A command with this primary key was already specified as part of this changeset."),
    CommandsInBatchActOnDifferentPartitions => (400, "All commands in a batch must operate on same entity group."),
    InvalidValueType => (400, "The value specified is invalid."),
    JsonFormatNotSupported => (415, "JSON format is not supported."),
    MethodNotAllowed => (405, "The requested method is not allowed on the specified resource."),
    NotImplemented => (501, "The requested operation is not implemented on the specified resource."),
    PropertiesNeedValue => (400, "The values are not specified for all properties in the entity."),
    PropertyNameInvalid => (400, "The property name is invalid."),
    PropertyNameTooLong => (400, "The property name exceeds the maximum allowed length."),
    PropertyValueTooLarge => (400, "The property value is larger than the maximum size permitted."),
    TableAlreadyExists => (409, "The table specified already exists."),
    TableBeingDeleted => (409, "The specified table is being deleted."),
    TableNotFound => (404, "The table specified does not exist."),
    TooManyProperties => (400, "The entity contains more properties than allowed."),
    UpdateConditionNotSatisfied => (412, "The update condition specified in the request was not satisfied."),
    XMethodIncorrectCount => (400, "More than one X-HTTP-Method is specified."),
    XMethodIncorrectValue => (400, "The specified X-HTTP-Method is invalid."),
    XMethodNotUsingPost => (400, "The request uses X-HTTP-Method with an HTTP verb other than POST."),

    // The static website endpoint (`<account>.z13.web.core.windows.net`), which renders them as
    // an HTML page rather than XML.
    WebContentNotFound => (404, "The requested content does not exist."),
    WebsiteDisabled => (404, "The requested content does not exist."),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as Azure reports it: code, HTTP status, message and extra detail elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureError {
    pub code: ErrorCode,
    pub status: u16,
    pub message: String,
    /// Extra elements after `<Message>` in the XML body, in order (e.g. `HeaderName`, `Reason`).
    pub details: Vec<(String, String)>,
    /// Extra response headers the error carries (e.g. `Content-Range` on a 416).
    pub headers: Vec<(String, String)>,
}

impl AzureError {
    /// The error with the code's default status and message.
    pub fn new(code: ErrorCode) -> Self {
        AzureError {
            code,
            status: code.status(),
            message: code.default_message().to_owned(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header to the error answer.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    /// Appends an extra element to the XML body (`<element>value</element>`, `<element />` if empty).
    pub fn detail(mut self, element: &str, value: impl Into<String>) -> Self {
        self.details.push((element.to_owned(), value.into()));
        self
    }

    pub fn status(mut self, s: u16) -> Self {
        self.status = s;
        self
    }

    /// The message as Azure sends it: text, request id and time on separate lines.
    fn full_message(&self, request_id: &str, now: time::OffsetDateTime) -> String {
        format!(
            "{}\nRequestId:{}\nTime:{}",
            self.message,
            request_id,
            iso8601_7(now)
        )
    }

    /// The Blob service XML error body.
    pub fn to_xml(&self, request_id: &str, now: time::OffsetDateTime) -> String {
        let mut out = String::with_capacity(256);
        out.push_str(crate::xml::XML_DECLARATION);
        out.push_str("<Error><Code>");
        out.push_str(self.code.as_str());
        out.push_str("</Code><Message>");
        out.push_str(&escape_text(&self.full_message(request_id, now)));
        out.push_str("</Message>");
        for (element, value) in &self.details {
            crate::xml::push_element(&mut out, element, value);
        }
        out.push_str("</Error>");
        out
    }

    /// The Table service JSON error body (`odata.error`).
    pub fn to_json(&self, request_id: &str, now: time::OffsetDateTime) -> String {
        format!(
            "{{\"odata.error\":{{\"code\":\"{}\",\"message\":{{\"lang\":\"en-US\",\"value\":\"{}\"}}}}}}",
            self.code.as_str(),
            json_escape(&self.full_message(request_id, now))
        )
    }
}

/// Escapes a string for a JSON string literal.
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for AzureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.as_str(),
            self.status,
            self.message
        )
    }
}

impl std::error::Error for AzureError {}

impl From<ErrorCode> for AzureError {
    fn from(code: ErrorCode) -> Self {
        AzureError::new(code)
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
