//! What a SAS must grant for each operation: the one table of these rules. Every operation Lapis
//! serves is an [`Operation`]; the server maps each of its routes to one, and [`sas_rule`] is an
//! exhaustive match, so a new operation does not build until its rule is written here.
//!
//! Sources: the REST reference's "Create a service SAS" (permissions by signed resource) and
//! "Create an account SAS" (operations by signed resource type and permission), checked against
//! the SAS error codes page: an operation a kind of SAS can never grant is 403
//! `AuthorizationFailure`, a missing letter 403 `AuthorizationPermissionMismatch`.

use strum::{EnumIter, IntoStaticStr};

use crate::request::Service;

/// Every operation Lapis serves, named as Azure names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, IntoStaticStr)]
pub enum Operation {
    // Blob service, service level.
    ListContainers,
    GetBlobServiceProperties,
    SetBlobServiceProperties,
    GetAccountInformation,
    /// Only over a bearer token.
    GetUserDelegationKey,
    // Blob service, containers.
    CreateContainer,
    GetContainerProperties,
    GetContainerMetadata,
    SetContainerMetadata,
    GetContainerAcl,
    SetContainerAcl,
    DeleteContainer,
    /// Restore Container (`comp=undelete`) of a soft-deleted container.
    RestoreContainer,
    ListBlobs,
    LeaseContainer,
    /// Find Blobs by Tags at account (service level) or container scope.
    FindBlobsByTags,
    /// Blob Batch: each sub-request is authorised as its own operation.
    SubmitBatch,
    // Blob service, blobs.
    PutBlob,
    PutBlock,
    PutBlockList,
    GetBlockList,
    GetBlob,
    GetBlobProperties,
    GetBlobMetadata,
    SetBlobProperties,
    SetBlobMetadata,
    DeleteBlob,
    UndeleteBlob,
    /// Delete Blob with `deletetype=permanent`.
    PermanentDeleteBlob,
    LeaseBlob,
    SnapshotBlob,
    CopyBlob,
    AbortCopyBlob,
    CopyBlobFromUrl,
    PutBlobFromUrl,
    PutBlockFromUrl,
    AppendBlock,
    AppendBlockFromUrl,
    SealBlob,
    PutPage,
    PutPageFromUrl,
    GetPageRanges,
    IncrementalCopyBlob,
    SetBlobTier,
    GetBlobTags,
    SetBlobTags,
    // Table service.
    GetTableServiceProperties,
    SetTableServiceProperties,
    QueryTables,
    CreateTable,
    DeleteTable,
    GetTableAcl,
    SetTableAcl,
    QueryEntities,
    InsertEntity,
    UpdateEntity,
    MergeEntity,
    InsertOrReplaceEntity,
    InsertOrMergeEntity,
    DeleteEntity,
    /// `$batch`: each sub-request is authorised as its own operation.
    EntityGroupTransaction,
    // Queue service, service level.
    GetQueueServiceProperties,
    SetQueueServiceProperties,
    GetQueueServiceStats,
    ListQueues,
    // Queue service, queues.
    CreateQueue,
    DeleteQueue,
    GetQueueMetadata,
    SetQueueMetadata,
    GetQueueAcl,
    SetQueueAcl,
    // Queue service, messages.
    PutMessage,
    GetMessages,
    PeekMessages,
    DeleteMessage,
    UpdateMessage,
    ClearMessages,
}

/// The level an operation acts on: an account SAS's signed resource type (`srt`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ResourceType {
    Service,
    Container,
    Object,
}

impl ResourceType {
    pub fn letter(self) -> char {
        match self {
            ResourceType::Service => 's',
            ResourceType::Container => 'c',
            ResourceType::Object => 'o',
        }
    }
}

/// The permission letters a kind of SAS must carry for an operation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Needs {
    /// This kind of SAS can never grant the operation (403 `AuthorizationFailure`).
    Never,
    /// Any one of these letters.
    Any(&'static str),
    /// Every one of these letters.
    All(&'static str),
    /// `w`, or `c` for a target that does not exist yet: `c` creates but never overwrites.
    CreateOrWrite,
    /// Any valid SAS of this kind.
    Anything,
    /// Authorised per sub-request (`$batch`).
    EachSubRequest,
}

/// One operation's row of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SasRule {
    pub service: Service,
    pub resource_type: ResourceType,
    /// What an account SAS must carry.
    pub account: Needs,
    /// What a service SAS (container, blob or table SAS) must carry.
    pub service_sas: Needs,
}

impl Operation {
    /// The name Azure gives the operation, for logs and metrics.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The rule of each operation. Exhaustive on purpose: a new operation names its rule here.
pub fn sas_rule(op: Operation) -> SasRule {
    use Needs::*;
    use Operation::*;
    use ResourceType::{Container as C, Object as O, Service as S};
    let (service, resource_type, account, service_sas) = match op {
        // Service-level operations: account SAS only.
        ListContainers => (Service::Blob, S, Any("l"), Never),
        GetBlobServiceProperties => (Service::Blob, S, Any("r"), Never),
        SetBlobServiceProperties => (Service::Blob, S, Any("w"), Never),
        // Not in either table: any valid SAS may ask, at the level its resource allows.
        GetAccountInformation => (Service::Blob, S, Anything, Anything),
        // A key is for the token's identity: no SAS of any kind can ask for one.
        GetUserDelegationKey => (Service::Blob, S, Never, Never),
        // Containers: a container SAS grants only List Blobs ("containers can't be created,
        // deleted, or listed; their metadata and properties can't be read or written"); ACLs
        // are for the account owner alone, whatever the SAS.
        CreateContainer => (Service::Blob, C, Any("cw"), Never),
        GetContainerProperties | GetContainerMetadata => (Service::Blob, C, Any("r"), Never),
        SetContainerMetadata => (Service::Blob, C, Any("w"), Never),
        GetContainerAcl | SetContainerAcl => (Service::Blob, C, Never, Never),
        DeleteContainer => (Service::Blob, C, Any("d"), Never),
        // The reference authorises Restore Container by an account SAS only.
        RestoreContainer => (Service::Blob, C, Any("w"), Never),
        ListBlobs => (Service::Blob, C, Any("l"), Any("l")),
        // "Write (w): ... lease the container"; a container SAS cannot.
        LeaseContainer => (Service::Blob, C, Any("w"), Never),
        // "Filter (f)": by tags, across the account or within a container.
        FindBlobsByTags => (Service::Blob, C, Any("f"), Any("f")),
        SubmitBatch => (Service::Blob, C, EachSubRequest, EachSubRequest),
        // Blobs.
        PutBlob => (Service::Blob, O, CreateOrWrite, CreateOrWrite),
        PutBlock | PutBlockList => (Service::Blob, O, Any("w"), Any("w")),
        GetBlockList | GetBlob | GetBlobProperties | GetBlobMetadata => {
            (Service::Blob, O, Any("r"), Any("r"))
        }
        SetBlobProperties | SetBlobMetadata => (Service::Blob, O, Any("w"), Any("w")),
        DeleteBlob | UndeleteBlob => (Service::Blob, O, Any("d"), Any("d")),
        // "Permanent delete (y)": of a soft-deleted snapshot or version.
        PermanentDeleteBlob => (Service::Blob, O, Any("y"), Any("y")),
        // "Write (w): ... snapshot or lease the blob"; "Create (c): ... snapshot a blob".
        LeaseBlob => (Service::Blob, O, Any("w"), Any("w")),
        SnapshotBlob => (Service::Blob, O, Any("cw"), Any("cw")),
        // The destination of a copy: "Create (c): ... copy a blob to a new blob".
        CopyBlob | CopyBlobFromUrl | PutBlobFromUrl | IncrementalCopyBlob => {
            (Service::Blob, O, CreateOrWrite, CreateOrWrite)
        }
        AbortCopyBlob | PutBlockFromUrl | SealBlob => (Service::Blob, O, Any("w"), Any("w")),
        // "Add (a): add a block to an append blob".
        AppendBlock | AppendBlockFromUrl => (Service::Blob, O, Any("aw"), Any("aw")),
        PutPage | PutPageFromUrl | SetBlobTier => (Service::Blob, O, Any("w"), Any("w")),
        GetPageRanges => (Service::Blob, O, Any("r"), Any("r")),
        // "Tags (t): read or write the blob's tags".
        GetBlobTags | SetBlobTags => (Service::Blob, O, Any("t"), Any("t")),
        // Table service: a table SAS grants entity operations only.
        GetTableServiceProperties => (Service::Table, S, Any("r"), Never),
        SetTableServiceProperties => (Service::Table, S, Any("w"), Never),
        QueryTables => (Service::Table, C, Any("l"), Never),
        CreateTable => (Service::Table, C, Any("cw"), Never),
        DeleteTable => (Service::Table, C, Any("d"), Never),
        GetTableAcl | SetTableAcl => (Service::Table, C, Never, Never),
        QueryEntities => (Service::Table, O, Any("r"), Any("r")),
        InsertEntity => (Service::Table, O, Any("a"), Any("a")),
        UpdateEntity | MergeEntity => (Service::Table, O, Any("u"), Any("u")),
        // An upsert adds or updates: both letters.
        InsertOrReplaceEntity | InsertOrMergeEntity => (Service::Table, O, All("au"), All("au")),
        DeleteEntity => (Service::Table, O, Any("d"), Any("d")),
        EntityGroupTransaction => (Service::Table, O, EachSubRequest, EachSubRequest),
        // Queue service. A queue SAS (r, a, u, p) reaches the queue's messages and reads its
        // metadata, nothing more: "Queues can't be created, deleted, or listed", "Queues can't
        // be cleared, and their metadata can't be written".
        GetQueueServiceProperties | GetQueueServiceStats => (Service::Queue, S, Any("r"), Never),
        SetQueueServiceProperties => (Service::Queue, S, Any("w"), Never),
        ListQueues => (Service::Queue, S, Any("l"), Never),
        // "Create(c) or Write (w)" at Container (c), although the same page says of `c`:
        // "Valid for the following Object resource types only: blobs and files".
        CreateQueue => (Service::Queue, C, Any("cw"), Never),
        DeleteQueue => (Service::Queue, C, Any("d"), Never),
        // "Read (r): Read metadata and properties, including message count."
        GetQueueMetadata => (Service::Queue, C, Any("r"), Any("r")),
        SetQueueMetadata => (Service::Queue, C, Any("w"), Never),
        GetQueueAcl | SetQueueAcl => (Service::Queue, C, Never, Never),
        // "Add (a): Add messages to the queue"; "Process (p): Get and delete messages".
        PutMessage => (Service::Queue, O, Any("a"), Any("a")),
        GetMessages | DeleteMessage => (Service::Queue, O, Any("p"), Any("p")),
        PeekMessages => (Service::Queue, O, Any("r"), Any("r")),
        // "Update (u): Update messages ... Use the Process permission with Update so that you can
        // first get the message": Get Messages is its own operation; Update Message needs `u`.
        UpdateMessage => (Service::Queue, O, Any("u"), Any("u")),
        // The account SAS table gives Clear Messages as Object (o), Delete (d), although the
        // same page says of `d`: "Valid for Container and Object resource types, except for
        // queue messages". Azurite checks Delete Message, Update Message and Clear Messages at
        // Container (c); we follow the reference.
        ClearMessages => (Service::Queue, O, Any("d"), Never),
    };
    SasRule {
        service,
        resource_type,
        account,
        service_sas,
    }
}
