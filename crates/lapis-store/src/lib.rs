//! Lapis storage engine.
//!
//! Metadata (containers, blobs, blocks, ACLs, service properties, tables and their entities,
//! queues and their messages) lives in SQLite (WAL, one writer thread doing group commit, a pool
//! of readers). Blob bytes live in append-only extents referenced from SQLite as
//! `(extent, offset, len)` chunks, except small blobs put with `put_blob_inline`, whose bytes
//! live in SQLite itself. The same engine runs on disk or in memory.
//!
//! This crate knows nothing of HTTP, XML or authentication: the server maps `StoreError` to Azure
//! error responses.
//!
//! PUBLIC API CONTRACT — the server is written against exactly these names and signatures.

mod types;
pub use types::*;
mod types_table;
pub use types_table::*;
mod types_queue;
pub use types_queue::*;

mod append;
mod blob_row;
mod blobs;
mod blocks;
mod chunks;
mod codec;
mod conditions;
mod containers;
mod copy;
mod cpk;
mod deleted_blobs;
mod deleted_containers;
mod entities;
mod entity_query;
mod extents;
mod gc;
mod import;
mod inline;
mod leases;
mod listing;
mod maintenance;
mod messages;
mod page_ranges;
mod pages;
mod pool;
mod put;
mod queues;
mod refusal;
mod reserve;
mod schema;
mod snapshots;
mod stream;
mod tables;
mod tags;
mod tiers;
mod versions;
mod writer;

pub use append::{AppendConditions, Appended, MAX_APPEND_BLOCKS};
pub use copy::{CopyDone, CopyInto, CopySource};
pub use cpk::CustomerKey;
pub use deleted_blobs::Deletion;
pub use import::{ImportOutcome, ImportedBlob, ImportedBlock, ImportedContent};
pub use inline::INLINE_BLOB_MAX;
pub use pages::*;
pub use put::BodyDigest;
pub use refusal::Refusal;
pub use snapshots::{SnapshotTaken, SnapshotsOnDelete};
pub use stream::{BlobReader, BlobWriter};
pub use tags::{
    is_tag_marker, BlobTags, TagCondition, TagOp, TagQuery, TagTerm, TaggedBlob, TaggedBlobsPage,
};
pub use tiers::TierChange;
pub use versions::version_selector;
pub use writer::Pending;

use std::path::Path;

/// Errors of the storage layer. The server maps each to an Azure error code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("container not found")]
    ContainerNotFound,
    #[error("container already exists")]
    ContainerAlreadyExists,
    #[error("container is being deleted")]
    ContainerBeingDeleted,
    #[error("blob not found")]
    BlobNotFound,
    /// A write/read precondition (If-Match, If-Unmodified-Since, or If-None-Match on a write) failed: 412.
    #[error("condition not met")]
    ConditionNotMet,
    /// A read's If-None-Match / If-Modified-Since says the client copy is current: 304.
    #[error("not modified")]
    NotModified,
    /// Put Block List names a block that is not in the requested list.
    #[error("invalid block list")]
    InvalidBlockList,
    /// Requested range starts beyond the blob's end (and blob is non-empty or range start > 0).
    #[error("invalid range")]
    InvalidRange,
    /// The disk is full (ENOSPC) or a quota is hit.
    #[error("storage full")]
    StorageFull,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("sqlite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Too many blocks: more than 100,000 uncommitted or 50,000 committed blocks for one blob.
    #[error("block count exceeds limit")]
    BlockCountExceeded,
    /// Put Block with an id whose length differs from the blob's other uncommitted block ids.
    #[error("block id length differs from the other uncommitted blocks")]
    BlockIdLengthMismatch,
    #[error("table not found")]
    TableNotFound,
    /// A table of the same name, compared case-insensitively, exists.
    #[error("table already exists")]
    TableAlreadyExists,
    #[error("entity not found")]
    EntityNotFound,
    #[error("entity already exists")]
    EntityAlreadyExists,
    /// An entity write or delete whose If-Match does not match the stored version: 412.
    #[error("update condition not satisfied")]
    UpdateConditionNotSatisfied,
    #[error("queue not found")]
    QueueNotFound,
    /// A queue of that name exists with other metadata (with the same metadata, Create Queue
    /// answers `QueueCreated::Existed`).
    #[error("queue already exists")]
    QueueAlreadyExists,
    /// No message of that id in the queue, or it has expired.
    #[error("message not found")]
    MessageNotFound,
    /// The message exists but its current pop receipt is another one.
    #[error("pop receipt mismatch")]
    PopReceiptMismatch,
    /// The blob is encrypted with a customer-provided key and the request brought none.
    #[error("the blob uses a customer-provided key")]
    CustomerKeyRequired,
    /// The request brought a customer-provided key for a blob (or block) stored without one.
    #[error("the blob does not use a customer-provided key")]
    CustomerKeyNotUsed,
    /// The request's customer-provided key is not the one the blob was encrypted with.
    #[error("the customer-provided key does not match the blob's")]
    CustomerKeyMismatch,
    /// The resource's state (lease, type, copy, tier, ...) does not allow the request.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage engine handle. Cheap to clone (Arc inside); `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: std::sync::Arc<engine::Engine>,
}

mod engine;

impl Store {
    /// Opens (creating if missing) the on-disk store in `dir`: `dir/lapis.sqlite` + `dir/extents/`.
    pub fn open(dir: &Path) -> Result<Store> {
        Ok(Store {
            inner: std::sync::Arc::new(engine::Engine::open(dir)?),
        })
    }
    /// The same engine with memory-backed metadata and extents.
    pub fn in_memory() -> Result<Store> {
        Ok(Store {
            inner: std::sync::Arc::new(engine::Engine::in_memory()?),
        })
    }
    /// `open` with explicit options.
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store> {
        Ok(Store {
            inner: std::sync::Arc::new(engine::Engine::open_with(dir, options)?),
        })
    }
    /// `in_memory` with explicit options.
    pub fn in_memory_with(options: StoreOptions) -> Result<Store> {
        Ok(Store {
            inner: std::sync::Arc::new(engine::Engine::in_memory_with(options)?),
        })
    }
}
