//! The shape of signed fields, end to end through `authenticate`: permission letters, the
//! signed version, the resource of a snapshot or version SAS, fields given twice.

use time::macros::datetime;

use super::super::test_support::*;
use crate::*;

#[test]
fn permission_letters_follow_the_reference() {
    let service = |sp: &str, resource: &str| {
        let p = SasParams {
            permissions: sp.into(),
            resource: resource.into(),
            ..base("2020-12-06")
        };
        let blob = (resource == "b").then_some("b");
        let path = if resource == "b" {
            "/devstoreaccount1/cont/b"
        } else {
            "/devstoreaccount1/cont"
        };
        call(path, &blob_token(&p, "cont", blob)).code()
    };
    for good in ["r", "racwdxyltfmeopi", "rl", "cw", "rwdl", "f"] {
        assert_eq!(service(good, "c"), Ok(()), "sp={good}");
    }
    assert_eq!(service("rw", "b"), Ok(()));
    // Out of the documented order, repeated, or unknown: "Signature fields not well formed."
    for bad in ["wr", "lr", "dw", "rr", "rZ!", "rq", "R", "r w"] {
        for resource in ["c", "b"] {
            assert_eq!(
                service(bad, resource),
                Err(AuthErrorCode::AuthenticationFailed),
                "sp={bad} sr={resource}"
            );
        }
    }
    let table = |sp: &str| {
        let p = SasParams {
            permissions: sp.into(),
            table: "t".into(),
            ..base("2020-12-06")
        };
        let token = sign_service_sas(DEV_ACCOUNT, &key(), Service::Table, "t", None, &p);
        Call {
            service: Service::Table,
            ..call("/devstoreaccount1/t()", &token)
        }
        .code()
    };
    assert_eq!(table("raud"), Ok(()));
    assert_eq!(table("ud"), Ok(()));
    for bad in ["ar", "rw", "rl", "rr"] {
        assert_eq!(
            table(bad),
            Err(AuthErrorCode::AuthenticationFailed),
            "sp={bad}"
        );
    }
    let account = |sp: &str| {
        let p = SasParams {
            permissions: sp.into(),
            services: "b".into(),
            resource_types: "sco".into(),
            ..base("2020-12-06")
        };
        call("/devstoreaccount1", &account_token(&p)).code()
    };
    assert_eq!(account("rwdxylacuptfi"), Ok(()));
    // The account SAS reference sets no order (an Azure support answer confirms it).
    assert_eq!(account("lr"), Ok(()));
    for bad in ["rZ", "m", "r!", "e"] {
        assert_eq!(
            account(bad),
            Err(AuthErrorCode::AuthenticationFailed),
            "sp={bad}"
        );
    }
}

#[test]
fn signed_version_must_be_a_storage_version() {
    let check = |sv: &str| {
        let p = SasParams {
            resource: "c".into(),
            ..base(sv)
        };
        call("/devstoreaccount1/cont", &blob_token(&p, "cont", None)).code()
    };
    for known in [
        "2012-02-12",
        "2015-04-05",
        "2019-12-12",
        "2025-01-05",
        "2026-10-06",
    ] {
        assert_eq!(check(known), Ok(()), "sv={known}");
    }
    // A version newer than this build knows, but not from the future, is read with the
    // newest layout.
    let later = |sv: &str| {
        let p = SasParams {
            resource: "c".into(),
            expiry: "2028-01-01T00:00:00Z".into(),
            ..base(sv)
        };
        Call {
            now: datetime!(2027-03-01 12:00 UTC),
            ..call("/devstoreaccount1/cont", &blob_token(&p, "cont", None))
        }
        .code()
    };
    assert_eq!(later("2027-02-06"), Ok(()));
    assert_eq!(
        later("2027-03-02"),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    for bad in [
        "2099-01-01",
        "2026-06-02",
        "abc",
        "2020-01-01",
        "2011-08-18",
        "2026-1-06",
        "",
    ] {
        assert_eq!(
            check(bad),
            Err(AuthErrorCode::AuthenticationFailed),
            "sv={bad}"
        );
    }
    let account = |sv: &str| {
        let p = SasParams {
            services: "b".into(),
            resource_types: "s".into(),
            ..base(sv)
        };
        call("/devstoreaccount1", &account_token(&p)).code()
    };
    assert_eq!(account("2015-04-05"), Ok(()));
    assert_eq!(
        account("2013-08-15"),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn snapshot_and_version_sas_need_their_resource() {
    for resource in ["bs", "bv"] {
        let p = SasParams {
            resource: resource.into(),
            ..base("2020-12-06")
        };
        // Signed with no snapshot time or version id: it names no resource at all.
        let token = blob_token(&p, "cont", Some("b"));
        assert_eq!(
            call("/devstoreaccount1/cont/b", &token).code(),
            Err(AuthErrorCode::AuthenticationFailed),
            "sr={resource}"
        );
    }
    // And not before 2018-11-09, when they were introduced.
    let p = SasParams {
        resource: "bs".into(),
        snapshot: "2026-01-01T00:00:00.0000000Z".into(),
        ..base("2015-04-05")
    };
    let token = blob_token(&p, "cont", Some("b"));
    assert_eq!(
        call("/devstoreaccount1/cont/b", &token).code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn a_signed_field_given_twice_is_refused() {
    let p = SasParams {
        services: "b".into(),
        resource_types: "sco".into(),
        ..base("2020-12-06")
    };
    let token = account_token(&p);
    assert_eq!(call("/devstoreaccount1", &token).code(), Ok(()));
    let sig = token.rsplit("sig=").next().unwrap_or_default().to_string();
    for doubled in [
        format!("{token}&sig={sig}"),
        format!("{token}&sig=AAAA"),
        format!("{token}&SIG={sig}"),
        format!("sp=rwdl&{token}"),
        format!("{token}&se=2026-07-01T00%3A00%3A00Z"),
        format!("{token}&sv=2020-12-06"),
    ] {
        assert_eq!(
            call("/devstoreaccount1", &doubled).code(),
            Err(AuthErrorCode::AuthenticationFailed),
            "{doubled}"
        );
    }
}
