//! The SAS permission table of the REST reference, operation by operation, as a test: every
//! operation × every kind of SAS (account SAS with and without its resource type, container,
//! blob, table and queue SAS) × every permission letter alone and all together, allowed or
//! refused with Azure's code.
//!
//! The expected rows below are written from the reference ("Create an account SAS": operations
//! by `srt` and `sp`; "Create a service SAS": permissions by signed resource; the SAS error
//! codes page), not from `lapis_auth::sas_rule`, and every `Operation` must have one: a new
//! operation fails `every_operation_has_a_row` until its requirement is written here.

use lapis_auth::{
    AuthErrorCode, Operation, ResponseHeaderOverrides, SasAccess, SasGrant, SasScope, SasTarget,
};
use strum::IntoEnumIterator;
use time::macros::datetime;

/// Every letter an account SAS may carry, and every letter of a blob, table and queue service SAS.
const ACCOUNT_LETTERS: &str = "rwdxylacuptfi";
const BLOB_LETTERS: &str = "racwdxyltfmeopi";
const TABLE_LETTERS: &str = "raud";
const QUEUE_LETTERS: &str = "raup";

#[derive(Clone, Copy, Debug)]
enum Level {
    Service,
    Container,
    Object,
}

/// What a kind of SAS must carry, per the reference.
#[derive(Clone, Copy, Debug)]
enum Grants {
    /// Never grantable by this kind: 403 AuthorizationFailure.
    No,
    /// Any one of these letters.
    AnyOf(&'static str),
    /// All of these letters.
    AllOf(&'static str),
    /// `w`; `c` alone creates but cannot overwrite.
    CreateOrWrite,
    /// Any valid SAS.
    Anything,
}

struct Row {
    op: Operation,
    /// The service's letter in an account SAS `ss`.
    service: char,
    level: Level,
    account: Grants,
    service_sas: Grants,
}

fn rows() -> Vec<Row> {
    use Grants::*;
    use Level::*;
    use Operation::*;
    let row = |service| {
        move |op, level, account, service_sas| Row {
            op,
            service,
            level,
            account,
            service_sas,
        }
    };
    let (blob, table, queue) = (row('b'), row('t'), row('q'));
    vec![
        blob(ListContainers, Service, AnyOf("l"), No),
        blob(GetBlobServiceProperties, Service, AnyOf("r"), No),
        blob(SetBlobServiceProperties, Service, AnyOf("w"), No),
        blob(GetAccountInformation, Object, Anything, Anything),
        // "Get User Delegation Key": a token's operation; no SAS can ask for a key.
        blob(GetUserDelegationKey, Service, No, No),
        // "Containers can't be created, deleted, or listed. Container metadata and properties
        // can't be read or written" by a service SAS; "attempting to modify an ACL" with a SAS
        // is AuthorizationFailure, and the account SAS table has no ACL rows.
        blob(CreateContainer, Container, AnyOf("cw"), No),
        blob(GetContainerProperties, Container, AnyOf("r"), No),
        blob(GetContainerMetadata, Container, AnyOf("r"), No),
        blob(SetContainerMetadata, Container, AnyOf("w"), No),
        blob(GetContainerAcl, Container, No, No),
        blob(SetContainerAcl, Container, No, No),
        blob(DeleteContainer, Container, AnyOf("d"), No),
        // Restore Container: "authorized by using shared key, account shared access signature
        // authorization, or role-based access control" — no service SAS. The letter is a
        // reading, not a quote: it creates the container again, a write.
        blob(RestoreContainer, Container, AnyOf("w"), No),
        blob(ListBlobs, Container, AnyOf("l"), AnyOf("l")),
        blob(PutBlob, Object, CreateOrWrite, CreateOrWrite),
        blob(PutBlock, Object, AnyOf("w"), AnyOf("w")),
        blob(PutBlockList, Object, AnyOf("w"), AnyOf("w")),
        blob(GetBlockList, Object, AnyOf("r"), AnyOf("r")),
        blob(GetBlob, Object, AnyOf("r"), AnyOf("r")),
        blob(GetBlobProperties, Object, AnyOf("r"), AnyOf("r")),
        blob(GetBlobMetadata, Object, AnyOf("r"), AnyOf("r")),
        blob(SetBlobProperties, Object, AnyOf("w"), AnyOf("w")),
        blob(SetBlobMetadata, Object, AnyOf("w"), AnyOf("w")),
        blob(DeleteBlob, Object, AnyOf("d"), AnyOf("d")),
        // Undelete Blob: the delete permission, as for the delete it undoes (the reference
        // names no letter).
        blob(UndeleteBlob, Object, AnyOf("d"), AnyOf("d")),
        // "Permanent delete (y)": of a soft-deleted snapshot or version.
        blob(PermanentDeleteBlob, Object, AnyOf("y"), AnyOf("y")),
        // "Write (w): ... lease the container" (account SAS only); "... snapshot or lease the
        // blob"; "Create (c): ... snapshot a blob, or copy a blob to a new blob".
        blob(LeaseContainer, Container, AnyOf("w"), No),
        blob(LeaseBlob, Object, AnyOf("w"), AnyOf("w")),
        blob(SnapshotBlob, Object, AnyOf("cw"), AnyOf("cw")),
        blob(CopyBlob, Object, CreateOrWrite, CreateOrWrite),
        blob(CopyBlobFromUrl, Object, CreateOrWrite, CreateOrWrite),
        blob(PutBlobFromUrl, Object, CreateOrWrite, CreateOrWrite),
        blob(IncrementalCopyBlob, Object, CreateOrWrite, CreateOrWrite),
        blob(AbortCopyBlob, Object, AnyOf("w"), AnyOf("w")),
        blob(PutBlockFromUrl, Object, AnyOf("w"), AnyOf("w")),
        blob(SealBlob, Object, AnyOf("w"), AnyOf("w")),
        // "Add (a): add a block to an append blob".
        blob(AppendBlock, Object, AnyOf("aw"), AnyOf("aw")),
        blob(AppendBlockFromUrl, Object, AnyOf("aw"), AnyOf("aw")),
        blob(PutPage, Object, AnyOf("w"), AnyOf("w")),
        blob(PutPageFromUrl, Object, AnyOf("w"), AnyOf("w")),
        blob(SetBlobTier, Object, AnyOf("w"), AnyOf("w")),
        blob(GetPageRanges, Object, AnyOf("r"), AnyOf("r")),
        // "Tags (t)" and "Filter (f)".
        blob(GetBlobTags, Object, AnyOf("t"), AnyOf("t")),
        blob(SetBlobTags, Object, AnyOf("t"), AnyOf("t")),
        blob(FindBlobsByTags, Container, AnyOf("f"), AnyOf("f")),
        // Each sub-request is checked as its own operation.
        blob(SubmitBatch, Container, Anything, Anything),
        // "Tables can't be created, deleted, or listed" by a table SAS; Get/Set Table ACL:
        // "only the account owner may call this operation".
        table(GetTableServiceProperties, Service, AnyOf("r"), No),
        table(SetTableServiceProperties, Service, AnyOf("w"), No),
        table(QueryTables, Container, AnyOf("l"), No),
        table(CreateTable, Container, AnyOf("cw"), No),
        table(DeleteTable, Container, AnyOf("d"), No),
        table(GetTableAcl, Container, No, No),
        table(SetTableAcl, Container, No, No),
        table(QueryEntities, Object, AnyOf("r"), AnyOf("r")),
        table(InsertEntity, Object, AnyOf("a"), AnyOf("a")),
        table(UpdateEntity, Object, AnyOf("u"), AnyOf("u")),
        table(MergeEntity, Object, AnyOf("u"), AnyOf("u")),
        // "Add and Update permissions are required for upsert operations."
        table(InsertOrReplaceEntity, Object, AllOf("au"), AllOf("au")),
        table(InsertOrMergeEntity, Object, AllOf("au"), AllOf("au")),
        table(DeleteEntity, Object, AnyOf("d"), AnyOf("d")),
        // Each sub-request is checked as its own operation.
        table(EntityGroupTransaction, Object, Anything, Anything),
        // "Create an account SAS", Queue service table. A queue SAS: "Queues can't be created,
        // deleted, or listed"; "Queues can't be cleared, and their metadata can't be written";
        // "Read (r): Read metadata and properties, including message count. Peek at messages."
        queue(GetQueueServiceProperties, Service, AnyOf("r"), No),
        queue(SetQueueServiceProperties, Service, AnyOf("w"), No),
        queue(GetQueueServiceStats, Service, AnyOf("r"), No),
        queue(ListQueues, Service, AnyOf("l"), No),
        queue(CreateQueue, Container, AnyOf("cw"), No),
        queue(DeleteQueue, Container, AnyOf("d"), No),
        queue(GetQueueMetadata, Container, AnyOf("r"), AnyOf("r")),
        queue(SetQueueMetadata, Container, AnyOf("w"), No),
        // No account SAS row; "For security reasons Account SAS does not enable access to
        // permission related operations including ... Set Queue ACL".
        queue(GetQueueAcl, Container, No, No),
        queue(SetQueueAcl, Container, No, No),
        queue(PutMessage, Object, AnyOf("a"), AnyOf("a")),
        queue(GetMessages, Object, AnyOf("p"), AnyOf("p")),
        queue(PeekMessages, Object, AnyOf("r"), AnyOf("r")),
        queue(DeleteMessage, Object, AnyOf("p"), AnyOf("p")),
        queue(UpdateMessage, Object, AnyOf("u"), AnyOf("u")),
        // Object (o), Delete (d) for an account SAS, whatever `d`'s "except for queue messages".
        queue(ClearMessages, Object, AnyOf("d"), No),
    ]
}

fn grant(scope: SasScope, permissions: &str) -> SasGrant {
    SasGrant {
        account: "acc".into(),
        scope,
        permissions: permissions.into(),
        version: "2026-10-06".into(),
        start: None,
        expiry: datetime!(2030-01-01 0:00 UTC),
        identifier: None,
        encryption_scope: None,
        response_headers: ResponseHeaderOverrides::default(),
        delegated_roles: None,
    }
}

type Outcome = Result<SasAccess, AuthErrorCode>;

/// What the reference says a SAS with `permissions` gets, given what its kind `grants`.
fn expected(grants: Grants, permissions: &str) -> Outcome {
    let has = |c: char| permissions.contains(c);
    match grants {
        Grants::No => Err(AuthErrorCode::AuthorizationFailure),
        Grants::Anything => Ok(SasAccess::Full),
        Grants::AnyOf(l) if l.chars().any(has) => Ok(SasAccess::Full),
        Grants::AllOf(l) if l.chars().all(has) => Ok(SasAccess::Full),
        Grants::CreateOrWrite if has('w') => Ok(SasAccess::Full),
        Grants::CreateOrWrite if has('c') => Ok(SasAccess::CreateOnly),
        _ => Err(AuthErrorCode::AuthorizationPermissionMismatch),
    }
}

/// Each letter alone, and all of them.
fn permission_sets(letters: &str) -> Vec<String> {
    let mut sets: Vec<String> = letters.chars().map(String::from).collect();
    sets.push(letters.to_string());
    sets
}

fn target(level: Level) -> SasTarget<'static> {
    match level {
        Level::Service => SasTarget::default(),
        Level::Container => SasTarget {
            container: Some("c"),
            blob: None,
        },
        Level::Object => SasTarget {
            container: Some("c"),
            blob: Some("b"),
        },
    }
}

fn outcome(g: &SasGrant, op: Operation, level: Level) -> Outcome {
    g.authorize(op, &target(level)).map_err(|e| e.code)
}

#[test]
fn every_operation_has_a_row() {
    let rows = rows();
    for op in Operation::iter() {
        assert_eq!(
            rows.iter().filter(|r| r.op == op).count(),
            1,
            "{op:?} needs exactly one row in the SAS permission table of this test"
        );
    }
}

#[test]
fn account_sas() {
    for row in rows() {
        let service = row.service.to_string();
        for perms in permission_sets(ACCOUNT_LETTERS) {
            let all_types = grant(
                SasScope::Account {
                    services: service.clone(),
                    resource_types: "sco".into(),
                },
                &perms,
            );
            assert_eq!(
                outcome(&all_types, row.op, row.level),
                expected(row.account, &perms),
                "{:?} with an account SAS sp={perms}",
                row.op
            );
        }
        // Without the operation's resource type (when it can be granted at all).
        let (own, others) = match row.level {
            Level::Service => ('s', "co"),
            Level::Container => ('c', "so"),
            Level::Object => ('o', "sc"),
        };
        let other_types = grant(
            SasScope::Account {
                services: service,
                resource_types: others.into(),
            },
            ACCOUNT_LETTERS,
        );
        let want = match row.account {
            Grants::No => Err(AuthErrorCode::AuthorizationFailure),
            Grants::Anything => Ok(SasAccess::Full),
            _ => Err(AuthErrorCode::AuthorizationResourceTypeMismatch),
        };
        assert_eq!(
            outcome(&other_types, row.op, row.level),
            want,
            "{:?} with an account SAS srt={others} (not {own})",
            row.op
        );
    }
}

#[test]
fn container_and_blob_sas() {
    for row in rows().into_iter().filter(|r| r.service == 'b') {
        for perms in permission_sets(BLOB_LETTERS) {
            let container_sas = grant(
                SasScope::Container {
                    container: "c".into(),
                },
                &perms,
            );
            let blob_sas = grant(
                SasScope::Blob {
                    container: "c".into(),
                    blob: "b".into(),
                },
                &perms,
            );
            // A container SAS names no resource at the account root; a blob SAS none above
            // its blob: "the specified signed resource is not allowed for this resource level".
            let level_refused = Err(AuthErrorCode::AuthenticationFailed);
            let (container_want, blob_want) = match row.level {
                Level::Service => (level_refused, level_refused),
                Level::Container => (expected(row.service_sas, &perms), level_refused),
                Level::Object => (
                    expected(row.service_sas, &perms),
                    expected(row.service_sas, &perms),
                ),
            };
            assert_eq!(
                outcome(&container_sas, row.op, row.level),
                container_want,
                "{:?} with a container SAS sp={perms}",
                row.op
            );
            assert_eq!(
                outcome(&blob_sas, row.op, row.level),
                blob_want,
                "{:?} with a blob SAS sp={perms}",
                row.op
            );
        }
    }
}

#[test]
fn table_sas() {
    for row in rows().into_iter().filter(|r| r.service == 't') {
        for perms in permission_sets(TABLE_LETTERS) {
            let table_sas = grant(
                SasScope::Table {
                    table: "C".into(),
                    start_pk: None,
                    start_rk: None,
                    end_pk: None,
                    end_rk: None,
                },
                &perms,
            );
            assert_eq!(
                outcome(&table_sas, row.op, row.level),
                expected(row.service_sas, &perms),
                "{:?} with a table SAS sp={perms}",
                row.op
            );
        }
    }
}

#[test]
fn queue_sas() {
    for row in rows().into_iter().filter(|r| r.service == 'q') {
        for perms in permission_sets(QUEUE_LETTERS) {
            let queue_sas = grant(SasScope::Queue { queue: "c".into() }, &perms);
            assert_eq!(
                outcome(&queue_sas, row.op, row.level),
                expected(row.service_sas, &perms),
                "{:?} with a queue SAS sp={perms}",
                row.op
            );
        }
    }
}

#[test]
fn a_batch_names_no_table_and_passes_to_its_sub_requests() {
    let table_sas = grant(
        SasScope::Table {
            table: "t".into(),
            start_pk: None,
            start_rk: None,
            end_pk: None,
            end_rk: None,
        },
        "r",
    );
    assert_eq!(
        table_sas
            .authorize(Operation::EntityGroupTransaction, &SasTarget::default())
            .map_err(|e| e.code),
        Ok(SasAccess::Full)
    );
}

#[test]
fn a_service_sas_for_another_resource_fails_authentication() {
    let container_sas = grant(
        SasScope::Container {
            container: "other".into(),
        },
        BLOB_LETTERS,
    );
    let table_sas = grant(
        SasScope::Table {
            table: "other".into(),
            start_pk: None,
            start_rk: None,
            end_pk: None,
            end_rk: None,
        },
        TABLE_LETTERS,
    );
    assert_eq!(
        outcome(&container_sas, Operation::GetBlob, Level::Object),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    assert_eq!(
        outcome(&table_sas, Operation::QueryEntities, Level::Object),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    let queue_sas = grant(
        SasScope::Queue {
            queue: "other".into(),
        },
        QUEUE_LETTERS,
    );
    assert_eq!(
        outcome(&queue_sas, Operation::GetMessages, Level::Object),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}
