//! Data types of the Table service exchanged between the engine and its callers.
//!
//! Entity properties are opaque bytes here: the server encodes and decodes them, and passes the
//! merging and filtering it needs as closures, so the engine stays free of OData.

use time::OffsetDateTime;

use crate::StoreError;

/// A table. Names compare case-insensitively; `name` keeps the spelling it was created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub name: String,
}

/// One stored entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRecord {
    pub partition_key: String,
    pub row_key: String,
    /// Set by the store on every write, 100 ns precision, strictly increasing across the store:
    /// it identifies the entity's version (the server derives the ETag from it).
    pub timestamp: OffsetDateTime,
    /// Encoded properties, as given by the server.
    pub properties: Vec<u8>,
}

/// A stored entity as a query's filter sees it: borrowed from the row being read, so that rows
/// the filter rejects are never copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityRow<'a> {
    pub partition_key: &'a str,
    pub row_key: &'a str,
    pub timestamp: OffsetDateTime,
    pub properties: &'a [u8],
}

/// An `If-Match` condition, already parsed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any existing version.
    Any,
    /// The version whose timestamp is exactly this.
    Timestamp(OffsetDateTime),
    /// An ETag that could not be parsed: matches nothing.
    Never,
}

/// How a write treats an existing entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityWrite {
    /// `EntityAlreadyExists` if present.
    Insert,
    /// Replace: the entity must exist (`EntityNotFound`) and match (`UpdateConditionNotSatisfied`).
    Update {
        if_match: IfMatch,
    },
    /// As `Update`, with the properties combined by the merge closure.
    Merge {
        if_match: IfMatch,
    },
    InsertOrReplace,
    InsertOrMerge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityOpKind {
    Write {
        write: EntityWrite,
        properties: Vec<u8>,
    },
    /// `EntityNotFound` if absent, `UpdateConditionNotSatisfied` if the condition fails.
    Delete { if_match: IfMatch },
}

/// One entity operation, alone or inside a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityOp {
    pub partition_key: String,
    pub row_key: String,
    pub kind: EntityOpKind,
}

/// Combines the stored properties (first) with the request's (second) for Merge operations.
/// Returns a `StoreError` when either side cannot be decoded.
pub type MergeFn = dyn Fn(&[u8], &[u8]) -> Result<Vec<u8>, StoreError> + Send + Sync;

/// Why an entity group transaction was rolled back: the failing operation and its error.
#[derive(Debug)]
pub struct BatchFailure {
    /// 0-based index of the operation in the batch (0 when the failure concerns the whole batch).
    pub index: usize,
    pub error: StoreError,
}

impl std::fmt::Display for BatchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "batch operation {} failed: {}", self.index, self.error)
    }
}

impl std::error::Error for BatchFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A page of Query Entities: the entities and, when more may follow, the (NextPartitionKey,
/// NextRowKey) to continue at.
pub type EntityPage = (Vec<EntityRecord>, Option<(String, String)>);

/// A range query over one table's entities, in (PartitionKey, RowKey) byte order.
///
/// Key bounds are served by the primary-key index; `filter` (the rest of the `$filter`) is
/// evaluated on each row in range.
#[derive(Clone, Copy)]
pub struct EntityQuery<'a> {
    pub pk_eq: Option<&'a str>,
    /// `(key, inclusive)`.
    pub pk_lower: Option<(&'a str, bool)>,
    pub pk_upper: Option<(&'a str, bool)>,
    /// RowKey bounds; used only together with `pk_eq` (the filter still checks them otherwise).
    pub rk_lower: Option<(&'a str, bool)>,
    pub rk_upper: Option<(&'a str, bool)>,
    /// Continuation (NextPartitionKey, NextRowKey): where to start, inclusive.
    pub start_at: Option<(&'a str, &'a str)>,
    /// Most entities returned; clamped to 1..=1000.
    pub limit: usize,
    pub filter: &'a (dyn Fn(&EntityRow) -> bool + Sync),
}

impl<'a> EntityQuery<'a> {
    /// A query over the whole table: no key bounds, no continuation.
    pub fn new(limit: usize, filter: &'a (dyn Fn(&EntityRow) -> bool + Sync)) -> Self {
        EntityQuery {
            pk_eq: None,
            pk_lower: None,
            pk_upper: None,
            rk_lower: None,
            rk_upper: None,
            start_at: None,
            limit,
            filter,
        }
    }
}

impl std::fmt::Debug for EntityQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityQuery")
            .field("pk_eq", &self.pk_eq)
            .field("pk_lower", &self.pk_lower)
            .field("pk_upper", &self.pk_upper)
            .field("rk_lower", &self.rk_lower)
            .field("rk_upper", &self.rk_upper)
            .field("start_at", &self.start_at)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}
