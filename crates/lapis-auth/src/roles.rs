//! Azure's built-in data roles, and which of them let a bearer token (or a user delegation SAS,
//! on behalf of its key's object id) perform each operation: the one table of these rules, an
//! exhaustive match like [`crate::sas_rule`].
//!
//! Sources: the built-in roles reference (Storage Blob/Queue/Table Data roles and their actions
//! and data actions) and each operation's "Authorization" section in the REST reference.
//! Operations that need a management-plane role (service properties: Storage Account
//! Contributor) are granted by no data role, so a token gets 403
//! `AuthorizationPermissionMismatch`, as from Azure when the caller holds data roles only. The
//! ACL operations take Entra ID since August 2025 (`containers/getAcl/action`, `setAcl/action`):
//! Storage Blob Data Owner's `containers/*` covers the container's; no queue or table data role
//! lists the queue's or table's, which take a custom role there and none here.

use std::str::FromStr;

use strum::{EnumIter, IntoEnumIterator};

use crate::error::{AuthError, AuthErrorCode};
use crate::rules::Operation;

/// A built-in data role, by the name Azure gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter)]
pub enum DataRole {
    BlobReader,
    BlobContributor,
    BlobOwner,
    QueueReader,
    QueueContributor,
    QueueMessageProcessor,
    QueueMessageSender,
    TableReader,
    TableContributor,
}

impl DataRole {
    pub fn name(self) -> &'static str {
        match self {
            DataRole::BlobReader => "Storage Blob Data Reader",
            DataRole::BlobContributor => "Storage Blob Data Contributor",
            DataRole::BlobOwner => "Storage Blob Data Owner",
            DataRole::QueueReader => "Storage Queue Data Reader",
            DataRole::QueueContributor => "Storage Queue Data Contributor",
            DataRole::QueueMessageProcessor => "Storage Queue Data Message Processor",
            DataRole::QueueMessageSender => "Storage Queue Data Message Sender",
            DataRole::TableReader => "Storage Table Data Reader",
            DataRole::TableContributor => "Storage Table Data Contributor",
        }
    }
}

impl FromStr for DataRole {
    type Err = String;

    /// Azure's role name, compared without regard to case.
    fn from_str(name: &str) -> Result<DataRole, String> {
        DataRole::iter()
            .find(|r| r.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = DataRole::iter().map(DataRole::name).collect();
                format!("unknown role '{name}' (known: {})", known.join(", "))
            })
    }
}

/// Who may perform an operation over OAuth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleRule {
    /// Any of these roles (none: no data role grants it).
    Roles(&'static [DataRole]),
    /// Authorised per sub-request (`$batch`, Blob Batch): these roles may send the batch.
    EachSubRequest(&'static [DataRole]),
}

use DataRole::*;
const BLOB_READ: &[DataRole] = &[BlobReader, BlobContributor, BlobOwner];
const BLOB_WRITE: &[DataRole] = &[BlobContributor, BlobOwner];
/// Tags and Find Blobs by Tags (`blobs/tags/*`, `blobs/filter/action`): Owner alone.
const BLOB_OWNER: &[DataRole] = &[BlobOwner];
const QUEUE_READ: &[DataRole] = &[QueueReader, QueueContributor];
/// `messages/read`: peek.
const QUEUE_PEEK: &[DataRole] = &[QueueReader, QueueContributor, QueueMessageProcessor];
/// `messages/add/action`
const QUEUE_ADD: &[DataRole] = &[QueueContributor, QueueMessageSender];
/// `messages/process/action`: get and delete messages.
const QUEUE_PROCESS: &[DataRole] = &[QueueContributor, QueueMessageProcessor];
const QUEUE_WRITE: &[DataRole] = &[QueueContributor];
const TABLE_READ: &[DataRole] = &[TableReader, TableContributor];
const TABLE_WRITE: &[DataRole] = &[TableContributor];
/// Management-plane operations: no data role.
const NO_DATA_ROLE: &[DataRole] = &[];

/// The roles that grant each operation. Exhaustive on purpose: a new operation names its rule.
pub fn role_rule(op: Operation) -> RoleRule {
    use Operation::*;
    use RoleRule::Roles;
    match op {
        GetBlobServiceProperties | SetBlobServiceProperties => Roles(NO_DATA_ROLE),
        // `containers/read` and `generateUserDelegationKey/action`, which every blob data
        // role has.
        ListContainers | GetAccountInformation | GetUserDelegationKey => Roles(BLOB_READ),
        CreateContainer | SetContainerMetadata | DeleteContainer | LeaseContainer
        | RestoreContainer => Roles(BLOB_WRITE),
        GetContainerProperties | GetContainerMetadata | ListBlobs => Roles(BLOB_READ),
        // `blobs/permanentDelete/action` is Owner's (its `blobs/*`), not Contributor's.
        GetContainerAcl | SetContainerAcl | FindBlobsByTags | GetBlobTags | SetBlobTags
        | PermanentDeleteBlob => Roles(BLOB_OWNER),
        SubmitBatch => RoleRule::EachSubRequest(BLOB_READ),
        GetBlockList | GetBlob | GetBlobProperties | GetBlobMetadata | GetPageRanges => {
            Roles(BLOB_READ)
        }
        PutBlob | PutBlock | PutBlockList | SetBlobProperties | SetBlobMetadata | DeleteBlob
        | LeaseBlob | SnapshotBlob | CopyBlob | AbortCopyBlob | CopyBlobFromUrl
        | PutBlobFromUrl | PutBlockFromUrl | AppendBlock | AppendBlockFromUrl | SealBlob
        | PutPage | PutPageFromUrl | IncrementalCopyBlob | SetBlobTier | UndeleteBlob => {
            Roles(BLOB_WRITE)
        }
        GetTableServiceProperties | SetTableServiceProperties => Roles(NO_DATA_ROLE),
        QueryTables | QueryEntities => Roles(TABLE_READ),
        CreateTable
        | DeleteTable
        | InsertEntity
        | UpdateEntity
        | MergeEntity
        | InsertOrReplaceEntity
        | InsertOrMergeEntity
        | DeleteEntity => Roles(TABLE_WRITE),
        GetTableAcl | SetTableAcl => Roles(NO_DATA_ROLE),
        EntityGroupTransaction => RoleRule::EachSubRequest(TABLE_READ),
        GetQueueServiceProperties | SetQueueServiceProperties | GetQueueServiceStats => {
            Roles(NO_DATA_ROLE)
        }
        ListQueues | GetQueueMetadata => Roles(QUEUE_READ),
        CreateQueue | DeleteQueue | SetQueueMetadata | UpdateMessage | ClearMessages => {
            Roles(QUEUE_WRITE)
        }
        GetQueueAcl | SetQueueAcl => Roles(NO_DATA_ROLE),
        PutMessage => Roles(QUEUE_ADD),
        GetMessages | DeleteMessage => Roles(QUEUE_PROCESS),
        PeekMessages => Roles(QUEUE_PEEK),
    }
}

/// Checks that one of `roles` grants `op`: 403 `AuthorizationPermissionMismatch` otherwise.
pub fn authorize_roles(roles: &[DataRole], op: Operation) -> Result<(), AuthError> {
    let (RoleRule::Roles(allowed) | RoleRule::EachSubRequest(allowed)) = role_rule(op);
    if roles.iter().any(|r| allowed.contains(r)) {
        Ok(())
    } else {
        Err(AuthError::new(
            AuthErrorCode::AuthorizationPermissionMismatch,
            "",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_parse_without_regard_to_case() {
        for role in DataRole::iter() {
            assert_eq!(role.name().parse::<DataRole>(), Ok(role));
            assert_eq!(role.name().to_uppercase().parse::<DataRole>(), Ok(role));
        }
        let err = "Storage Blob Data Writer".parse::<DataRole>().unwrap_err();
        assert!(err.contains("Storage Blob Data Owner"), "{err}");
    }

    #[test]
    fn blob_roles_grow_from_reader_to_owner() {
        let ok = |roles: &[DataRole], op| authorize_roles(roles, op).is_ok();
        assert!(ok(&[BlobReader], Operation::GetBlob));
        assert!(ok(&[BlobReader], Operation::ListBlobs));
        assert!(!ok(&[BlobReader], Operation::PutBlob));
        assert!(ok(&[BlobContributor], Operation::PutBlob));
        assert!(ok(&[BlobContributor], Operation::DeleteContainer));
        assert!(!ok(&[BlobContributor], Operation::SetBlobTags));
        assert!(ok(&[BlobOwner], Operation::SetBlobTags));
        assert!(!ok(&[QueueContributor], Operation::GetBlob));
        assert!(!ok(&[], Operation::GetBlob));
        assert!(!ok(&[BlobOwner], Operation::SetBlobServiceProperties));
    }

    #[test]
    fn queue_and_table_roles() {
        let ok = |roles: &[DataRole], op| authorize_roles(roles, op).is_ok();
        assert!(ok(&[QueueMessageSender], Operation::PutMessage));
        assert!(!ok(&[QueueMessageSender], Operation::GetMessages));
        assert!(ok(&[QueueMessageProcessor], Operation::GetMessages));
        assert!(ok(&[QueueMessageProcessor], Operation::PeekMessages));
        assert!(!ok(&[QueueMessageProcessor], Operation::PutMessage));
        assert!(ok(&[QueueReader], Operation::PeekMessages));
        assert!(!ok(&[QueueReader], Operation::CreateQueue));
        assert!(ok(&[QueueContributor], Operation::ClearMessages));
        assert!(ok(&[TableReader], Operation::QueryEntities));
        assert!(!ok(&[TableReader], Operation::InsertEntity));
        assert!(ok(&[TableContributor], Operation::InsertOrMergeEntity));
    }

    #[test]
    fn acls_take_the_blob_owner_or_a_role_no_data_role_is() {
        let ok = |roles: &[DataRole], op| authorize_roles(roles, op).is_ok();
        assert!(ok(&[BlobOwner], Operation::GetContainerAcl));
        assert!(ok(&[BlobOwner], Operation::SetContainerAcl));
        assert!(!ok(&[BlobContributor], Operation::SetContainerAcl));
        for op in [Operation::SetTableAcl, Operation::GetQueueAcl] {
            let err =
                authorize_roles(&[BlobOwner, TableContributor, QueueContributor], op).unwrap_err();
            assert_eq!(err.code, AuthErrorCode::AuthorizationPermissionMismatch);
        }
    }
}
