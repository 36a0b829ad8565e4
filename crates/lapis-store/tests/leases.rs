//! Leases through the engine: stored, enforced on writes, and kept across a reopen.

mod support;

use lapis_store::*;
use support::*;

const ID: &str = "11111111-2222-3333-4444-555555555555";

fn acquire(duration: i64) -> LeaseAction {
    LeaseAction::Acquire {
        duration,
        proposed: ID.into(),
    }
}

fn with_lease(id: &str) -> Conditions {
    Conditions {
        lease_id: Some(id.into()),
        ..Default::default()
    }
}

fn refusal<T: std::fmt::Debug>(r: Result<T>) -> Refusal {
    match r {
        Err(StoreError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_leased_blob_takes_writes_only_with_its_id() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "b", b"one");
        let out = s
            .lease_blob(ACCOUNT, "c", "b", acquire(-1), &no_cond())
            .unwrap();
        assert_eq!(out.id.as_deref(), Some(ID));
        let md = md(&[("k", "v")]);
        assert_eq!(
            refusal(s.set_blob_metadata(ACCOUNT, "c", "b", &md, &no_cond(), None)),
            Refusal::LeaseIdMissing
        );
        let other = "99999999-2222-3333-4444-555555555555";
        assert_eq!(
            refusal(s.delete_blob(ACCOUNT, "c", "b", &with_lease(other))),
            Refusal::LeaseIdMismatchWithBlobOperation
        );
        s.set_blob_metadata(ACCOUNT, "c", "b", &md, &with_lease(ID), None)
            .unwrap();
        let props = s
            .get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(props.lease.id.as_deref(), Some(ID));
        s.delete_blob(ACCOUNT, "c", "b", &with_lease(ID)).unwrap();
    });
}

#[test]
fn a_lease_outlives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        container(&s, "c");
        put(&s, "c", "b", b"one");
        s.lease_blob(ACCOUNT, "c", "b", acquire(-1), &no_cond())
            .unwrap();
        s.lease_container(ACCOUNT, "c", acquire(60), &no_cond())
            .unwrap();
        s.close().unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(
        refusal(s.delete_blob(ACCOUNT, "c", "b", &no_cond())),
        Refusal::LeaseIdMissing
    );
    assert_eq!(
        refusal(s.delete_container(ACCOUNT, "c", &no_cond())),
        Refusal::LeaseIdMissing
    );
    let c = s.get_container(ACCOUNT, "c").unwrap();
    assert_eq!(
        c.lease.at(time::OffsetDateTime::now_utc()),
        LeaseState::Leased
    );
    s.delete_container(ACCOUNT, "c", &with_lease(ID)).unwrap();
    s.close().unwrap();
}

#[test]
fn a_lease_does_not_change_the_etag() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let before = put(s, "c", "b", b"one").etag;
        let out = s
            .lease_blob(ACCOUNT, "c", "b", acquire(30), &no_cond())
            .unwrap();
        assert_eq!(out.etag, before);
        let after = s
            .get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(after.etag, before);
    });
}
