//! Plain data types exchanged between the engine and its callers.

use time::OffsetDateTime;

/// User metadata: (name, value) pairs, names as given by the client (case preserved), in the
/// order received. Names compare case-insensitively in Azure; the server validates them.
pub type Metadata = Vec<(String, String)>;

/// Public access level of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublicAccess {
    #[default]
    None,
    Blob,
    Container,
}

/// A stored access policy (`<SignedIdentifier>`). Times and permissions are kept as the client sent
/// them (strings), so they round-trip byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedIdentifier {
    pub id: String,
    pub start: Option<String>,
    pub expiry: Option<String>,
    pub permission: Option<String>,
}

/// Entity tag: the engine produces values like `0x8DC1234ABCD5678` (no quotes); the server adds quotes.
pub type ETag = String;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerProps {
    pub name: String,
    pub etag: ETag,
    pub last_modified: OffsetDateTime,
    pub created: OffsetDateTime,
    pub metadata: Metadata,
    pub public_access: PublicAccess,
    /// Immutability policies are not supported yet: always false (Azure's default).
    pub has_immutability_policy: bool,
    pub has_legal_hold: bool,
    pub lease: Lease,
    /// A soft-deleted container (List Containers include=deleted), else `None`.
    pub deleted: Option<ContainerDeletion>,
}

/// A soft-deleted container: the version Restore Container names it by, and its times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDeletion {
    pub version: String,
    pub deletion: crate::Deletion,
}

/// The account's blob DeleteRetentionPolicy when enabled: how many days soft-deleted blobs
/// and snapshots are kept, and whether `deletetype=permanent` may purge them sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteRetention {
    pub days: u32,
    pub allow_permanent_delete: bool,
}

/// Standard HTTP properties of a blob, set by Put Blob / Put Block List / Set Blob Properties.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlobHttpProps {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub content_disposition: Option<String>,
    pub cache_control: Option<String>,
    /// Content-MD5 of the whole blob (16 bytes), as stored / returned.
    pub content_md5: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobType {
    BlockBlob,
    PageBlob,
    AppendBlob,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobProps {
    pub name: String,
    pub blob_type: BlobType,
    pub etag: ETag,
    pub last_modified: OffsetDateTime,
    pub created: OffsetDateTime,
    pub size: u64,
    pub http: BlobHttpProps,
    pub metadata: Metadata,
    /// CRC64 (NVMe polynomial, as Azure) of the whole content when it was uploaded in one Put Blob.
    pub content_crc64: Option<u64>,
    /// Number of committed blocks (block blobs committed with Put Block List), else 0.
    pub committed_block_count: u32,
    /// The tier the blob was given and when; `None`: the account's default (Hot), inferred.
    pub access_tier: Option<(AccessTier, OffsetDateTime)>,
    /// SHA-256 of the customer-provided key the blob's content is encrypted with.
    pub cpk_sha256: Option<[u8; 32]>,
    /// `None` for the base blob; the snapshot's time (Azure's 7-digit form) for a snapshot.
    pub snapshot: Option<String>,
    pub lease: Lease,
    /// An append blob that takes no more appends.
    pub sealed: bool,
    /// A page blob's sequence number.
    pub sequence_number: u64,
    /// The last copy into this blob, if it was made by a copy.
    pub copy: Option<CopyProps>,
    pub incremental_copy: bool,
    /// `rehydrate-pending-to-hot` (or `-cool`, `-cold`) while an archived blob is rehydrated.
    pub archive_status: Option<String>,
    pub rehydrate_priority: Option<String>,
    pub tag_count: u32,
    /// The blob's index tags, read only where asked for (List Blobs with include=tags).
    pub tags: Option<crate::BlobTags>,
    /// The version's id (Azure's 7-digit time) when the blob was written with versioning on.
    pub version_id: Option<String>,
    /// The base blob's current version (false for a previous version and for a blob written
    /// while versioning was off).
    pub is_current_version: bool,
}

impl BlobProps {
    /// A new base blob's properties with everything but the given fields at their defaults.
    pub fn new(name: String, blob_type: BlobType, etag: ETag, now: OffsetDateTime) -> BlobProps {
        BlobProps {
            name,
            blob_type,
            etag,
            last_modified: now,
            created: now,
            size: 0,
            http: BlobHttpProps::default(),
            metadata: Vec::new(),
            content_crc64: None,
            committed_block_count: 0,
            access_tier: None,
            cpk_sha256: None,
            snapshot: None,
            lease: Lease::default(),
            sealed: false,
            sequence_number: 0,
            copy: None,
            incremental_copy: false,
            archive_status: None,
            rehydrate_priority: None,
            tag_count: 0,
            tags: None,
            version_id: None,
            is_current_version: false,
        }
    }
}

/// The stored state of a lease; what it means now is `Lease::at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoredLeaseState {
    #[default]
    Available,
    Leased,
    Breaking,
    Broken,
}

/// A blob's or container's lease as stored. Expiry is not stored as a state change: a finite
/// lease past `until` is expired, a break past `until` is broken, computed when read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lease {
    pub state: StoredLeaseState,
    pub id: Option<String>,
    /// Seconds; -1 for an infinite lease.
    pub duration: Option<i64>,
    /// When a finite lease expires or a break period ends.
    pub until: Option<OffsetDateTime>,
}

/// Azure's `x-ms-lease-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    Available,
    Leased,
    Expired,
    Breaking,
    Broken,
}

impl LeaseState {
    pub fn name(self) -> &'static str {
        match self {
            LeaseState::Available => "available",
            LeaseState::Leased => "leased",
            LeaseState::Expired => "expired",
            LeaseState::Breaking => "breaking",
            LeaseState::Broken => "broken",
        }
    }

    /// `x-ms-lease-status`: a leased or breaking resource is locked.
    pub fn locked(self) -> bool {
        matches!(self, LeaseState::Leased | LeaseState::Breaking)
    }
}

impl Lease {
    /// The lease's state at `now`.
    pub fn at(&self, now: OffsetDateTime) -> LeaseState {
        let passed = self.until.is_some_and(|u| now >= u);
        match self.state {
            StoredLeaseState::Available => LeaseState::Available,
            StoredLeaseState::Leased if self.duration != Some(-1) && passed => LeaseState::Expired,
            StoredLeaseState::Leased => LeaseState::Leased,
            StoredLeaseState::Breaking if passed => LeaseState::Broken,
            StoredLeaseState::Breaking => LeaseState::Breaking,
            StoredLeaseState::Broken => LeaseState::Broken,
        }
    }

    /// `x-ms-lease-duration` while the lease is held: `infinite` or `fixed`.
    pub fn duration_name(&self, now: OffsetDateTime) -> Option<&'static str> {
        match (self.at(now), self.duration) {
            (LeaseState::Leased, Some(-1)) => Some("infinite"),
            (LeaseState::Leased, Some(_)) => Some("fixed"),
            _ => None,
        }
    }
}

/// What Lease Blob and Lease Container are asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAction {
    /// Duration in seconds (15-60, or -1), and the proposed id.
    Acquire {
        duration: i64,
        proposed: String,
    },
    Renew {
        id: String,
    },
    Change {
        id: String,
        proposed: String,
    },
    Release {
        id: String,
    },
    /// Break period in seconds, if given.
    Break {
        period: Option<i64>,
    },
}

/// What a lease operation answers: the lease id (acquire, renew, change) and, for a break,
/// the seconds left until it is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseOutcome {
    pub etag: ETag,
    pub last_modified: OffsetDateTime,
    pub id: Option<String>,
    pub break_seconds: Option<i64>,
}

/// The copy properties of a blob that was the destination of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyProps {
    pub id: String,
    /// `pending`, `success`, `aborted` or `failed`.
    pub status: String,
    pub source: String,
    /// `copied/total` bytes.
    pub progress: String,
    pub completed: Option<OffsetDateTime>,
    pub status_description: Option<String>,
}

/// A block blob's access tier (standard accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTier {
    Hot,
    Cool,
    Cold,
    /// Offline: the blob cannot be read until Set Blob Tier rehydrates it.
    Archive,
}

impl AccessTier {
    /// Azure's spelling, as sent and stored.
    pub fn name(self) -> &'static str {
        match self {
            AccessTier::Hot => "Hot",
            AccessTier::Cool => "Cool",
            AccessTier::Cold => "Cold",
            AccessTier::Archive => "Archive",
        }
    }

    pub fn from_name(name: &str) -> Option<AccessTier> {
        [
            AccessTier::Hot,
            AccessTier::Cool,
            AccessTier::Cold,
            AccessTier::Archive,
        ]
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

/// Preconditions, evaluated inside the engine atomically with the operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `If-Match`: `Some(Star)` or a list of ETags (unquoted).
    pub if_match: Option<EtagCondition>,
    /// `If-None-Match`.
    pub if_none_match: Option<EtagCondition>,
    pub if_modified_since: Option<OffsetDateTime>,
    pub if_unmodified_since: Option<OffsetDateTime>,
    /// `x-ms-lease-id`: the lease the caller holds on the resource, checked with the others.
    pub lease_id: Option<String>,
    /// `x-ms-if-tags`: a condition on the blob's index tags.
    pub if_tags: Option<crate::TagCondition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    Any,
    /// ETag values without surrounding quotes.
    Tags(Vec<String>),
}

/// Which kind of operation the conditions guard: a failed read condition may be 304, a failed
/// write condition is always 412.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Bytes written to the extent store, not yet referenced by metadata. Produced by `BlobWriter::finish`.
#[derive(Debug, Clone)]
pub struct WrittenData {
    pub len: u64,
    /// `None` from a writer made `without_md5`.
    pub md5: Option<[u8; 16]>,
    pub crc64: u64,
    /// SHA-256 of the customer-provided key the bytes were encrypted with.
    pub key_sha256: Option<[u8; 32]>,
    pub(crate) chunks: Vec<Chunk>,
    /// Holds the extents the chunks live in, so GC cannot reclaim them before the data is committed.
    pub(crate) pins: Vec<std::sync::Arc<crate::pool::Extent>>,
}

/// A run of bytes inside one extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub extent: i64,
    pub offset: u64,
    pub len: u64,
    /// How the bytes are encrypted, for a blob with a customer-provided key.
    pub cipher: Option<ChunkCipher>,
}

/// AES-256-CTR under the blob's customer key: the upload's IV, and where in that keystream the
/// chunk's first byte lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkCipher {
    pub iv: [u8; 16],
    pub position: u64,
}

impl Chunk {
    /// Whether `next` continues this chunk's bytes in the extent and in the keystream, so that
    /// the two can be kept as one.
    pub(crate) fn continued_by(&self, next: &Chunk) -> bool {
        let keystream = match (self.cipher, next.cipher) {
            (None, None) => true,
            (Some(a), Some(b)) => a.iv == b.iv && a.position + self.len == b.position,
            _ => false,
        };
        self.extent == next.extent && self.offset + self.len == next.offset && keystream
    }

    /// The part of the chunk from `skip` bytes in, `len` long.
    pub(crate) fn part(&self, skip: u64, len: u64) -> Chunk {
        Chunk {
            extent: self.extent,
            offset: self.offset + skip,
            len,
            cipher: self.cipher.map(|c| ChunkCipher {
                iv: c.iv,
                position: c.position + skip,
            }),
        }
    }
}

/// Which list a Put Block List entry draws its block from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSource {
    Committed,
    Uncommitted,
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockListFilter {
    Committed,
    Uncommitted,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// Block id exactly as the client sent it (base64 text).
    pub id: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockLists {
    pub committed: Vec<BlockInfo>,
    pub uncommitted: Vec<BlockInfo>,
    /// Properties of the committed blob, `None` when the blob has only uncommitted blocks.
    pub blob: Option<BlobProps>,
}

/// Query for List Blobs.
#[derive(Debug, Clone, Default)]
pub struct ListBlobsQuery {
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    /// Opaque continuation: the name to start from (inclusive), as returned in `next_marker`.
    pub marker: Option<String>,
    pub max_results: u32,
    pub include_metadata: bool,
    /// Include blobs that have uncommitted blocks but no committed content.
    pub include_uncommitted: bool,
    /// List each blob's snapshots, oldest first, before the blob.
    pub include_snapshots: bool,
    /// Read each blob's index tags (`BlobProps::tags`).
    pub include_tags: bool,
    /// List each blob's previous versions, oldest first, before its current version; and
    /// the previous versions of deleted blobs.
    pub include_versions: bool,
    /// List soft-deleted blobs too (`ListBlobsItem::Deleted`); their soft-deleted snapshots
    /// with `include_snapshots`.
    pub include_deleted: bool,
}

// Boxing the blob would change the public contract; listing pages are short-lived.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListBlobsItem {
    Blob(BlobProps),
    /// A blob with only uncommitted blocks (include=uncommittedblobs): size 0, no etag history.
    UncommittedBlob {
        name: String,
    },
    Prefix(String),
    /// A soft-deleted blob (`snapshot` None) or snapshot (include=deleted).
    Deleted(BlobProps, crate::Deletion),
}

#[derive(Debug, Clone, Default)]
pub struct ListBlobsPage {
    pub items: Vec<ListBlobsItem>,
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListContainersPage {
    pub items: Vec<ContainerProps>,
    pub next_marker: Option<String>,
}

/// A byte range of a blob, both ends inclusive, as in HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// `None` means to the end of the blob.
    pub end: Option<u64>,
}

/// Result of one garbage-collection pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcStats {
    pub extents_deleted: u64,
    pub extents_compacted: u64,
    pub bytes_reclaimed: u64,
    pub blocks_expired: u64,
    /// Queue messages deleted because they expired.
    pub messages_expired: u64,
    /// Queue messages deleted after their queue was deleted or cleared while long (see
    /// `Store::delete_queue`).
    pub messages_discarded: u64,
    /// Soft-deleted blobs, snapshots and containers purged when their retention ended.
    pub soft_deleted_purged: u64,
}

/// Counts for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub containers: u64,
    /// Blobs with committed content.
    pub blobs: u64,
    /// Sum of committed blob sizes.
    pub blob_bytes: u64,
    pub extents: u64,
    pub extent_bytes: u64,
    pub tables: u64,
    pub entities: u64,
    pub queues: u64,
    /// Messages in all queues, as their stored counts say (expired ones until purged).
    pub queue_messages: u64,
}

/// What the garbage collector has done since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcTotals {
    pub passes: u64,
    pub extents_deleted: u64,
    pub extents_compacted: u64,
    pub bytes_reclaimed: u64,
    pub blocks_expired: u64,
    /// Queue messages deleted because they expired.
    pub messages_expired: u64,
    /// Queue messages deleted after their queue was deleted or cleared while long (see
    /// `Store::delete_queue`).
    pub messages_discarded: u64,
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How often the background GC pass runs.
    pub gc_interval: std::time::Duration,
    /// Uncommitted blocks older than this are discarded (Azure: 7 days).
    pub uncommitted_block_ttl: std::time::Duration,
    /// An extent that grows past this size is sealed (no more appends; may be compacted).
    pub extent_target_size: u64,
    /// In-memory store only: the most blob bytes kept in RAM; beyond it writes fail with
    /// `StorageFull`. `None` = unbounded.
    pub memory_capacity: Option<u64>,
    /// On disk: a WAL larger than this is checkpointed by the writer between batches, so it
    /// starts over instead of growing while writes keep coming (see `writer::WalRewind`).
    pub wal_rewind_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            gc_interval: std::time::Duration::from_secs(60),
            uncommitted_block_ttl: std::time::Duration::from_secs(7 * 24 * 3600),
            // Small enough that deleting a share of the blobs frees whole extents (reclaimed
            // without copying, which matters on a full disk), large enough to keep files few.
            extent_target_size: 16 * 1024 * 1024,
            memory_capacity: None,
            wal_rewind_bytes: 64 * 1024 * 1024,
        }
    }
}
