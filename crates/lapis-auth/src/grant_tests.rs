use time::macros::datetime;

use super::*;

fn grant(scope: SasScope, permissions: &str) -> SasGrant {
    SasGrant {
        account: "acc".into(),
        scope,
        permissions: permissions.into(),
        version: "2020-12-06".into(),
        start: None,
        expiry: datetime!(2030-01-01 0:00 UTC),
        identifier: None,
        encryption_scope: None,
        response_headers: ResponseHeaderOverrides::default(),
        delegated_roles: None,
    }
}

fn target<'a>(container: Option<&'a str>, blob: Option<&'a str>) -> SasTarget<'a> {
    SasTarget { container, blob }
}

fn code(
    g: &SasGrant,
    op: Operation,
    container: Option<&str>,
    blob: Option<&str>,
) -> Option<AuthErrorCode> {
    g.authorize(op, &target(container, blob))
        .err()
        .map(|e| e.code)
}

#[test]
fn account_sas_checks_resource_type_then_permission() {
    let g = grant(
        SasScope::Account {
            services: "b".into(),
            resource_types: "co".into(),
        },
        "rl",
    );
    assert_eq!(code(&g, Operation::GetBlob, Some("c"), Some("b")), None);
    assert_eq!(code(&g, Operation::ListBlobs, Some("c"), None), None);
    assert_eq!(
        code(&g, Operation::ListContainers, None, None),
        Some(AuthErrorCode::AuthorizationResourceTypeMismatch)
    );
    assert_eq!(
        code(&g, Operation::PutBlock, Some("c"), Some("b")),
        Some(AuthErrorCode::AuthorizationPermissionMismatch)
    );
    // Resource type is checked before permission.
    assert_eq!(
        code(&g, Operation::SetBlobServiceProperties, None, None),
        Some(AuthErrorCode::AuthorizationResourceTypeMismatch)
    );
}

#[test]
fn container_sas_covers_its_container_and_blobs_only() {
    let g = grant(
        SasScope::Container {
            container: "photos".into(),
        },
        "rwl",
    );
    assert_eq!(code(&g, Operation::ListBlobs, Some("photos"), None), None);
    assert_eq!(
        code(&g, Operation::PutBlock, Some("photos"), Some("a/b.jpg")),
        None
    );
    assert_eq!(
        code(&g, Operation::GetBlob, Some("other"), Some("a")),
        Some(AuthErrorCode::AuthenticationFailed)
    );
    assert_eq!(
        code(&g, Operation::ListContainers, None, None),
        Some(AuthErrorCode::AuthenticationFailed)
    );
    assert_eq!(
        code(&g, Operation::DeleteBlob, Some("photos"), Some("a")),
        Some(AuthErrorCode::AuthorizationPermissionMismatch)
    );
}

#[test]
fn blob_sas_covers_only_its_blob() {
    let g = grant(
        SasScope::Blob {
            container: "c".into(),
            blob: "a||b".into(),
        },
        "r",
    );
    assert_eq!(code(&g, Operation::GetBlob, Some("c"), Some("a||b")), None);
    for (op, container, blob) in [
        (Operation::GetBlob, Some("c"), Some("other")),
        (Operation::GetBlob, Some("d"), Some("a||b")),
        (Operation::ListBlobs, Some("c"), None),
    ] {
        assert_eq!(
            code(&g, op, container, blob),
            Some(AuthErrorCode::AuthenticationFailed)
        );
    }
}

#[test]
fn create_without_write_creates_only() {
    let scope = || SasScope::Container {
        container: "c".into(),
    };
    let put = |perms: &str| {
        grant(scope(), perms).authorize(Operation::PutBlob, &target(Some("c"), Some("b")))
    };
    assert_eq!(put("c"), Ok(SasAccess::CreateOnly));
    assert_eq!(put("cw"), Ok(SasAccess::Full));
    assert_eq!(put("w"), Ok(SasAccess::Full));
    assert_eq!(
        put("r").map_err(|e| e.code),
        Err(AuthErrorCode::AuthorizationPermissionMismatch)
    );
}

#[test]
fn table_sas_matches_table_case_insensitively() {
    let g = grant(
        SasScope::Table {
            table: "MyTable".into(),
            start_pk: None,
            start_rk: None,
            end_pk: None,
            end_rk: None,
        },
        "ra",
    );
    assert_eq!(
        code(&g, Operation::InsertEntity, Some("mytable"), None),
        None
    );
    assert_eq!(
        code(&g, Operation::InsertEntity, Some("other"), None),
        Some(AuthErrorCode::AuthenticationFailed)
    );
    assert_eq!(
        code(&g, Operation::DeleteEntity, Some("mytable"), None),
        Some(AuthErrorCode::AuthorizationPermissionMismatch)
    );
}

#[test]
fn queue_sas_covers_its_queue_and_never_the_service() {
    let g = grant(
        SasScope::Queue {
            queue: "orders".into(),
        },
        "rp",
    );
    assert_eq!(code(&g, Operation::GetMessages, Some("orders"), None), None);
    assert_eq!(
        code(&g, Operation::GetQueueMetadata, Some("orders"), None),
        None
    );
    assert_eq!(
        code(&g, Operation::GetMessages, Some("other"), None),
        Some(AuthErrorCode::AuthenticationFailed)
    );
    assert_eq!(
        code(&g, Operation::PutMessage, Some("orders"), None),
        Some(AuthErrorCode::AuthorizationPermissionMismatch)
    );
    // Never grantable by a queue SAS, whatever its letters or the queue asked for.
    for (op, queue) in [
        (Operation::ListQueues, None),
        (Operation::GetQueueServiceProperties, None),
        (Operation::ClearMessages, Some("orders")),
        (Operation::SetQueueMetadata, Some("orders")),
        (Operation::SetQueueAcl, Some("other")),
    ] {
        assert_eq!(
            code(&g, op, queue, None),
            Some(AuthErrorCode::AuthorizationFailure),
            "{op:?}"
        );
    }
}

#[test]
fn table_key_ranges() {
    let scope = SasScope::Table {
        table: "t".into(),
        start_pk: Some("b".into()),
        start_rk: Some("5".into()),
        end_pk: Some("d".into()),
        end_rk: None,
    };
    let g = grant(scope, "r");
    assert!(g.allows_entity("b", "5"));
    assert!(!g.allows_entity("b", "4"));
    assert!(!g.allows_entity("a", "9"));
    assert!(g.allows_entity("c", ""));
    assert!(g.allows_entity("d", "zzz"));
    assert!(!g.allows_entity("e", ""));
    let all = grant(
        SasScope::Container {
            container: "c".into(),
        },
        "r",
    );
    assert!(all.allows_entity("anything", "at all"));
}
