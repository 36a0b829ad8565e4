//! Queue SAS and account SAS for the Queue service, end to end through `authenticate`, with
//! tokens from our signers.

use time::macros::datetime;

use super::super::test_support::*;
use crate::*;

fn queue_params(version: &str, permissions: &str) -> SasParams {
    SasParams {
        permissions: permissions.into(),
        ..base(version)
    }
}

fn queue_call<'a>(path: &'a str, query: &'a str) -> Call<'a> {
    Call {
        service: Service::Queue,
        ..call(path, query)
    }
}

fn orders() -> SasTarget<'static> {
    SasTarget {
        container: Some("orders"),
        blob: None,
    }
}

/// `token`'s signature on the fields of `other`: valid only if `token` signed none of the
/// fields in which they differ.
fn with_fields_of(other: &SasParams, token: &str) -> String {
    format!(
        "{}&sig={}",
        other.to_query("x").trim_end_matches("&sig=x"),
        token.rsplit("sig=").next().unwrap_or("")
    )
}

#[test]
fn every_version_layout_verifies_for_its_queue() {
    for version in [
        "2012-02-12",
        "2013-08-15",
        "2015-02-21",
        "2015-04-05",
        "2020-12-06",
        "2026-10-06",
    ] {
        let p = queue_params(version, "rap");
        let token = queue_token(&p, "orders");
        let grant = queue_call("/devstoreaccount1/orders/messages", &token)
            .run()
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(grant.version, version);
        assert!(
            matches!(&grant.scope, SasScope::Queue { queue } if queue == "orders"),
            "{:?}",
            grant.scope
        );
        // `spr` is signed from 2015-04-05; before, an unsigned one is harmless.
        let other = SasParams {
            protocol: "https,http".into(),
            ..p.clone()
        };
        let expect = if version >= "2015-04-05" {
            Err(AuthErrorCode::AuthenticationFailed)
        } else {
            Ok(())
        };
        assert_eq!(
            queue_call(
                "/devstoreaccount1/orders/messages",
                &with_fields_of(&other, &token)
            )
            .code(),
            expect,
            "{version}"
        );
        // Fields a queue SAS never signs change nothing.
        let unsigned = SasParams {
            resource: "c".into(),
            content_type: "text/plain".into(),
            ..p.clone()
        };
        assert_eq!(
            queue_call(
                "/devstoreaccount1/orders/messages",
                &with_fields_of(&unsigned, &token)
            )
            .code(),
            Ok(()),
            "{version}"
        );
    }
}

#[test]
fn queue_sas_binds_the_queue_of_the_url() {
    let token = queue_token(&queue_params("2026-10-06", "raup"), "orders");
    for path in [
        "/devstoreaccount1/orders",
        "/devstoreaccount1/orders/messages",
        "/devstoreaccount1/orders/messages/0f1e2d3c-aaaa-bbbb-cccc-000000000001",
    ] {
        assert_eq!(queue_call(path, &token).code(), Ok(()), "{path}");
    }
    let err = queue_call("/devstoreaccount1/other/messages", &token)
        .run()
        .expect_err("another queue");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    assert!(
        err.detail.starts_with(
            "Signature did not match. String to sign used was raup\n\n2026-07-01T00:00:00Z\n/queue/devstoreaccount1/other\n"
        ),
        "{}",
        err.detail
    );
    // The name is signed as the URL gives it; the account itself names no queue.
    for path in ["/devstoreaccount1/Orders/messages", "/devstoreaccount1"] {
        assert_eq!(
            queue_call(path, &token).code(),
            Err(AuthErrorCode::AuthenticationFailed),
            "{path}"
        );
    }
}

#[test]
fn expired_queue_sas_fails_authentication() {
    let token = queue_token(&queue_params("2026-10-06", "p"), "orders");
    let err = Call {
        now: datetime!(2026-07-01 0:00:01 UTC),
        ..queue_call("/devstoreaccount1/orders/messages", &token)
    }
    .run()
    .expect_err("expired");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    assert!(
        err.detail
            .starts_with("Signature not valid in the specified time frame"),
        "{}",
        err.detail
    );
}

#[test]
fn missing_letter_is_a_permission_mismatch() {
    let token = queue_token(&queue_params("2026-10-06", "r"), "orders");
    let grant = queue_call("/devstoreaccount1/orders/messages", &token)
        .run()
        .expect("valid");
    assert_eq!(
        grant.authorize(Operation::PeekMessages, &orders()),
        Ok(SasAccess::Full)
    );
    assert_eq!(
        grant.authorize(Operation::GetQueueMetadata, &orders()),
        Ok(SasAccess::Full)
    );
    for op in [
        Operation::PutMessage,
        Operation::GetMessages,
        Operation::DeleteMessage,
        Operation::UpdateMessage,
    ] {
        assert_eq!(
            grant.authorize(op, &orders()).map_err(|e| e.code),
            Err(AuthErrorCode::AuthorizationPermissionMismatch),
            "{op:?}"
        );
    }
}

#[test]
fn queue_letters_are_raup_in_order() {
    for (sp, expected) in [
        ("raup", Ok(())),
        ("up", Ok(())),
        ("pr", Err(AuthErrorCode::AuthenticationFailed)),
        ("rw", Err(AuthErrorCode::AuthenticationFailed)),
        ("rl", Err(AuthErrorCode::AuthenticationFailed)),
    ] {
        let token = queue_token(&queue_params("2026-10-06", sp), "orders");
        assert_eq!(
            queue_call("/devstoreaccount1/orders/messages", &token).code(),
            expected,
            "{sp}"
        );
    }
}

#[test]
fn stored_policy_of_the_queue() {
    let p = SasParams {
        version: "2026-10-06".into(),
        identifier: "p1".into(),
        ..SasParams::default()
    };
    let token = queue_token(&p, "orders");
    let policy = StoredPolicy {
        start: None,
        expiry: Some("2026-12-31".into()),
        permission: Some("ap".into()),
    };
    let grant = Call {
        policy: Some(policy.clone()),
        policy_owner: "orders",
        ..queue_call("/devstoreaccount1/orders/messages", &token)
    }
    .run()
    .expect("the queue's policy fills the SAS");
    assert_eq!(grant.permissions, "ap");
    assert_eq!(grant.identifier.as_deref(), Some("p1"));
    assert_eq!(grant.expiry, datetime!(2026-12-31 0:00 UTC));
    assert_eq!(
        grant.authorize(Operation::PutMessage, &orders()),
        Ok(SasAccess::Full)
    );
    // The policy is looked up on the queue of the URL: another owner's `p1` is not it.
    assert_eq!(
        Call {
            policy: Some(policy),
            policy_owner: "cont",
            ..queue_call("/devstoreaccount1/orders/messages", &token)
        }
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn queue_sas_never_grants_service_queue_or_acl_operations() {
    let token = queue_token(&queue_params("2026-10-06", "raup"), "orders");
    let grant = queue_call("/devstoreaccount1/orders", &token)
        .run()
        .expect("valid");
    for op in [
        Operation::ListQueues,
        Operation::GetQueueServiceProperties,
        Operation::SetQueueServiceProperties,
        Operation::GetQueueServiceStats,
    ] {
        assert_eq!(
            grant
                .authorize(op, &SasTarget::default())
                .map_err(|e| e.code),
            Err(AuthErrorCode::AuthorizationFailure),
            "{op:?}"
        );
    }
    for op in [
        Operation::CreateQueue,
        Operation::DeleteQueue,
        Operation::SetQueueMetadata,
        Operation::GetQueueAcl,
        Operation::SetQueueAcl,
        Operation::ClearMessages,
    ] {
        assert_eq!(
            grant.authorize(op, &orders()).map_err(|e| e.code),
            Err(AuthErrorCode::AuthorizationFailure),
            "{op:?}"
        );
    }
}

#[test]
fn account_sas_with_q_grants_queue_operations() {
    let p = SasParams {
        services: "q".into(),
        resource_types: "sco".into(),
        permissions: "rwdlacup".into(),
        ..base("2026-10-06")
    };
    let query = format!("comp=list&{}", account_token(&p));
    let grant = queue_call("/devstoreaccount1", &query)
        .run()
        .expect("ss=q on the Queue service");
    assert_eq!(
        grant.authorize(Operation::ListQueues, &SasTarget::default()),
        Ok(SasAccess::Full)
    );
    assert_eq!(
        grant.authorize(Operation::ClearMessages, &orders()),
        Ok(SasAccess::Full)
    );
    assert_eq!(
        grant
            .authorize(Operation::SetQueueAcl, &orders())
            .map_err(|e| e.code),
        Err(AuthErrorCode::AuthorizationFailure)
    );
    // ss=bq covers the queue too; ss=b does not.
    let both = SasParams {
        services: "bq".into(),
        ..p.clone()
    };
    assert_eq!(
        queue_call("/devstoreaccount1/orders/messages", &account_token(&both)).code(),
        Ok(())
    );
    let blob_only = SasParams {
        services: "b".into(),
        ..p
    };
    assert_eq!(
        queue_call(
            "/devstoreaccount1/orders/messages",
            &account_token(&blob_only)
        )
        .code(),
        Err(AuthErrorCode::AuthorizationServiceMismatch)
    );
}
