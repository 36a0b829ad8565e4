//! Header names Azure Storage uses, lowercase (as HTTP/2 and the `http` crate want them).

pub const X_MS_VERSION: &str = "x-ms-version";
pub const X_MS_REQUEST_ID: &str = "x-ms-request-id";
pub const X_MS_CLIENT_REQUEST_ID: &str = "x-ms-client-request-id";
pub const X_MS_DATE: &str = "x-ms-date";
pub const X_MS_ERROR_CODE: &str = "x-ms-error-code";
/// Prefix of user metadata headers; the rest of the name is the metadata key.
pub const X_MS_META_PREFIX: &str = "x-ms-meta-";

// Blob properties sent on create / set properties.
pub const X_MS_BLOB_TYPE: &str = "x-ms-blob-type";
pub const X_MS_BLOB_CONTENT_TYPE: &str = "x-ms-blob-content-type";
pub const X_MS_BLOB_CONTENT_ENCODING: &str = "x-ms-blob-content-encoding";
pub const X_MS_BLOB_CONTENT_LANGUAGE: &str = "x-ms-blob-content-language";
pub const X_MS_BLOB_CONTENT_MD5: &str = "x-ms-blob-content-md5";
pub const X_MS_BLOB_CACHE_CONTROL: &str = "x-ms-blob-cache-control";
pub const X_MS_BLOB_CONTENT_DISPOSITION: &str = "x-ms-blob-content-disposition";
pub const X_MS_BLOB_CONTENT_LENGTH: &str = "x-ms-blob-content-length";
pub const X_MS_BLOB_SEQUENCE_NUMBER: &str = "x-ms-blob-sequence-number";
pub const X_MS_BLOB_COMMITTED_BLOCK_COUNT: &str = "x-ms-blob-committed-block-count";
pub const X_MS_BLOB_CONDITION_MAXSIZE: &str = "x-ms-blob-condition-maxsize";
pub const X_MS_BLOB_CONDITION_APPENDPOS: &str = "x-ms-blob-condition-appendpos";
pub const X_MS_BLOB_APPEND_OFFSET: &str = "x-ms-blob-append-offset";
pub const X_MS_BLOB_PUBLIC_ACCESS: &str = "x-ms-blob-public-access";

// Content integrity.
pub const X_MS_CONTENT_MD5: &str = "x-ms-content-md5";
pub const X_MS_CONTENT_CRC64: &str = "x-ms-content-crc64";
pub const X_MS_RANGE: &str = "x-ms-range";
pub const X_MS_RANGE_GET_CONTENT_MD5: &str = "x-ms-range-get-content-md5";
pub const X_MS_RANGE_GET_CONTENT_CRC64: &str = "x-ms-range-get-content-crc64";

// Properties returned on reads.
pub const X_MS_CREATION_TIME: &str = "x-ms-creation-time";
pub const X_MS_LEASE_STATE: &str = "x-ms-lease-state";
pub const X_MS_LEASE_STATUS: &str = "x-ms-lease-status";
pub const X_MS_LEASE_DURATION: &str = "x-ms-lease-duration";
pub const X_MS_SERVER_ENCRYPTED: &str = "x-ms-server-encrypted";
pub const X_MS_REQUEST_SERVER_ENCRYPTED: &str = "x-ms-request-server-encrypted";
pub const X_MS_ACCESS_TIER: &str = "x-ms-access-tier";
pub const X_MS_ACCESS_TIER_INFERRED: &str = "x-ms-access-tier-inferred";
pub const X_MS_ACCESS_TIER_CHANGE_TIME: &str = "x-ms-access-tier-change-time";
pub const X_MS_HAS_IMMUTABILITY_POLICY: &str = "x-ms-has-immutability-policy";
pub const X_MS_HAS_LEGAL_HOLD: &str = "x-ms-has-legal-hold";
pub const X_MS_DEFAULT_ENCRYPTION_SCOPE: &str = "x-ms-default-encryption-scope";
pub const X_MS_DENY_ENCRYPTION_SCOPE_OVERRIDE: &str = "x-ms-deny-encryption-scope-override";
pub const X_MS_IMMUTABLE_STORAGE_WITH_VERSIONING_ENABLED: &str =
    "x-ms-immutable-storage-with-versioning-enabled";
pub const X_MS_IS_CURRENT_VERSION: &str = "x-ms-is-current-version";
pub const X_MS_SNAPSHOT: &str = "x-ms-snapshot";

// Account information.
pub const X_MS_SKU_NAME: &str = "x-ms-sku-name";
pub const X_MS_ACCOUNT_KIND: &str = "x-ms-account-kind";
pub const X_MS_IS_HNS_ENABLED: &str = "x-ms-is-hns-enabled";

// Leases.
pub const X_MS_LEASE_ID: &str = "x-ms-lease-id";
pub const X_MS_LEASE_ACTION: &str = "x-ms-lease-action";
pub const X_MS_LEASE_BREAK_PERIOD: &str = "x-ms-lease-break-period";
pub const X_MS_LEASE_TIME: &str = "x-ms-lease-time";
pub const X_MS_PROPOSED_LEASE_ID: &str = "x-ms-proposed-lease-id";

// Copy.
pub const X_MS_COPY_SOURCE: &str = "x-ms-copy-source";
pub const X_MS_COPY_ID: &str = "x-ms-copy-id";
pub const X_MS_COPY_STATUS: &str = "x-ms-copy-status";
pub const X_MS_SOURCE_IF_MATCH: &str = "x-ms-source-if-match";
pub const X_MS_SOURCE_IF_NONE_MATCH: &str = "x-ms-source-if-none-match";
pub const X_MS_SOURCE_IF_MODIFIED_SINCE: &str = "x-ms-source-if-modified-since";
pub const X_MS_SOURCE_IF_UNMODIFIED_SINCE: &str = "x-ms-source-if-unmodified-since";

// Misc request headers.
pub const X_MS_DELETE_SNAPSHOTS: &str = "x-ms-delete-snapshots";
pub const X_MS_DELETE_TYPE_PERMANENT: &str = "x-ms-delete-type-permanent";
pub const X_MS_IF_SEQUENCE_NUMBER_LE: &str = "x-ms-if-sequence-number-le";
pub const X_MS_IF_SEQUENCE_NUMBER_LT: &str = "x-ms-if-sequence-number-lt";
pub const X_MS_IF_SEQUENCE_NUMBER_EQ: &str = "x-ms-if-sequence-number-eq";
pub const X_MS_SEQUENCE_NUMBER_ACTION: &str = "x-ms-sequence-number-action";
pub const X_MS_PAGE_WRITE: &str = "x-ms-page-write";
pub const X_MS_TAGS: &str = "x-ms-tags";
pub const X_MS_TAG_COUNT: &str = "x-ms-tag-count";
pub const X_MS_IF_TAGS: &str = "x-ms-if-tags";
pub const X_MS_ENCRYPTION_SCOPE: &str = "x-ms-encryption-scope";
pub const X_MS_ENCRYPTION_KEY: &str = "x-ms-encryption-key";
pub const X_MS_CONTENT_LENGTH: &str = "x-ms-content-length";

// CORS.
pub const ORIGIN: &str = "origin";
pub const ACCESS_CONTROL_REQUEST_METHOD: &str = "access-control-request-method";
pub const ACCESS_CONTROL_REQUEST_HEADERS: &str = "access-control-request-headers";
pub const ACCESS_CONTROL_ALLOW_ORIGIN: &str = "access-control-allow-origin";
pub const ACCESS_CONTROL_ALLOW_METHODS: &str = "access-control-allow-methods";
pub const ACCESS_CONTROL_ALLOW_HEADERS: &str = "access-control-allow-headers";
pub const ACCESS_CONTROL_EXPOSE_HEADERS: &str = "access-control-expose-headers";
pub const ACCESS_CONTROL_MAX_AGE: &str = "access-control-max-age";
pub const ACCESS_CONTROL_ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";

// Table service.
pub const DATA_SERVICE_VERSION: &str = "dataserviceversion";
pub const MAX_DATA_SERVICE_VERSION: &str = "maxdataserviceversion";
pub const PREFER: &str = "prefer";
pub const PREFERENCE_APPLIED: &str = "preference-applied";
pub const X_MS_CONTINUATION_NEXT_TABLE_NAME: &str = "x-ms-continuation-nexttablename";
pub const X_MS_CONTINUATION_NEXT_PARTITION_KEY: &str = "x-ms-continuation-nextpartitionkey";
pub const X_MS_CONTINUATION_NEXT_ROW_KEY: &str = "x-ms-continuation-nextrowkey";

/// The `Server` header value we answer with.
pub const SERVER_VALUE: &str = concat!("Lapis/", env!("CARGO_PKG_VERSION"));
