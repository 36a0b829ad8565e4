//! SAS checks end to end through `authenticate`, with tokens from our signers.

use std::net::IpAddr;

use time::macros::datetime;

use super::super::test_support::*;
use crate::*;

#[test]
fn every_version_layout_verifies() {
    for version in [
        "2012-02-12",
        "2013-08-15",
        "2015-04-05",
        "2018-11-09",
        "2019-12-12",
        "2020-12-06",
        "2026-10-06",
    ] {
        let mut p = base(version);
        p.resource = "b".into();
        p.content_type = "text/plain".into();
        let token = blob_token(&p, "cont", Some("a b"));
        let grant = call("/devstoreaccount1/cont/a%20b", &token)
            .run()
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(grant.version, version);
        assert_eq!(
            grant.response_headers.content_type.as_deref(),
            Some("text/plain")
        );
        // A field the version does not sign is harmless; a field it signs is bound.
        let mut other = p.clone();
        other.content_type = "text/html".into();
        let swapped = format!(
            "{}&sig={}",
            other.to_query("x").trim_end_matches("&sig=x"),
            token.rsplit("sig=").next().unwrap_or("")
        );
        let expect = if version >= "2013-08-15" {
            Err(AuthErrorCode::AuthenticationFailed)
        } else {
            Ok(())
        };
        assert_eq!(
            call("/devstoreaccount1/cont/a%20b", &swapped).code(),
            expect,
            "{version}"
        );
    }
}

#[test]
fn snapshot_and_version_resources_sign_their_timestamp() {
    let mut p = base("2020-12-06");
    p.resource = "bs".into();
    p.snapshot = "2026-01-01T00:00:00.0000000Z".into();
    let token = blob_token(&p, "cont", Some("b"));
    assert!(matches!(
        call("/devstoreaccount1/cont/b", &token)
            .run()
            .map(|g| g.scope),
        Ok(SasScope::Blob { .. })
    ));

    // sr=bv may carry the version id only as the request's versionid.
    let mut p = base("2020-12-06");
    p.resource = "bv".into();
    p.snapshot = "2026-01-01T00:00:00.1234567Z".into();
    let signed = blob_token(&p, "cont", Some("b"));
    let query = format!(
        "{}&versionid=2026-01-01T00%3A00%3A00.1234567Z",
        signed.replace("snapshot=2026-01-01T00%3A00%3A00.1234567Z&", "")
    );
    assert_eq!(call("/devstoreaccount1/cont/b", &query).code(), Ok(()));
}

#[test]
fn container_sas_binds_the_container_of_the_url() {
    let mut p = base("2020-12-06");
    p.resource = "c".into();
    let token = blob_token(&p, "cont", None);
    assert!(
        matches!(call("/devstoreaccount1/cont/any/blob", &token).run().map(|g| g.scope), Ok(SasScope::Container { container }) if container == "cont")
    );
    assert_eq!(call("/devstoreaccount1/cont", &token).code(), Ok(()));
    assert_eq!(
        call("/devstoreaccount1/other/blob", &token).code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    assert_eq!(
        call("/devstoreaccount1", &token).code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn time_window() {
    let mut p = base("2020-12-06");
    p.resource = "c".into();
    p.start = "2026-06-01".into();
    p.expiry = "2026-06-01T13:00Z".into();
    let token = blob_token(&p, "cont", None);
    let at = |now| {
        Call {
            now,
            ..call("/devstoreaccount1/cont", &token)
        }
        .code()
    };
    assert_eq!(at(datetime!(2026-06-01 0:00 UTC)), Ok(()));
    assert_eq!(at(datetime!(2026-06-01 13:00 UTC)), Ok(()));
    assert_eq!(
        at(datetime!(2026-05-31 23:59:59 UTC)),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    let late = Call {
        now: datetime!(2026-06-01 13:00:01 UTC),
        ..call("/devstoreaccount1/cont", &token)
    }
    .run()
    .expect_err("expired");
    assert_eq!(
        late.detail,
        "Signature not valid in the specified time frame: Start [Mon, 01 Jun 2026 00:00:00 GMT] - Expiry [Mon, 01 Jun 2026 13:00:00 GMT] - Current [Mon, 01 Jun 2026 13:00:01 GMT]"
    );

    p.start = "2026-06-02T00:00:00.0000000Z".into();
    let reversed = blob_token(&p, "cont", None);
    let err = call("/devstoreaccount1/cont", &reversed)
        .run()
        .expect_err("expiry before start");
    assert_eq!(err.detail, "Signed expiry time [Mon, 01 Jun 2026 13:00:00 GMT] has to be after signed start time [Tue, 02 Jun 2026 00:00:00 GMT]");

    for (start, expiry) in [("", "next week"), ("yesterday", "2026-07-01"), ("", "")] {
        p.start = start.into();
        p.expiry = expiry.into();
        let token = blob_token(&p, "cont", None);
        assert_eq!(
            call("/devstoreaccount1/cont", &token).code(),
            Err(AuthErrorCode::AuthenticationFailed),
            "{start} {expiry}"
        );
    }
}

#[test]
fn protocol() {
    let mut p = base("2020-12-06");
    p.resource = "c".into();
    for (spr, https, expected) in [
        (
            "https",
            false,
            Err(AuthErrorCode::AuthorizationProtocolMismatch),
        ),
        ("https", true, Ok(())),
        ("https,http", false, Ok(())),
        (
            "http",
            false,
            Err(AuthErrorCode::InvalidQueryParameterValue),
        ),
    ] {
        p.protocol = spr.into();
        let token = blob_token(&p, "cont", None);
        assert_eq!(
            Call {
                https,
                ..call("/devstoreaccount1/cont", &token)
            }
            .code(),
            expected,
            "{spr} {https}"
        );
    }
}

#[test]
fn source_ip() {
    let mut p = base("2020-12-06");
    p.resource = "c".into();
    for (sip, client, expected) in [
        ("127.0.0.1", Some([127, 0, 0, 1]), Ok(())),
        (
            "127.0.0.2",
            Some([127, 0, 0, 1]),
            Err(AuthErrorCode::AuthorizationSourceIPMismatch),
        ),
        ("10.0.0.0-10.0.0.255", Some([10, 0, 0, 200]), Ok(())),
        (
            "10.0.0.0-10.0.0.255",
            Some([10, 0, 1, 0]),
            Err(AuthErrorCode::AuthorizationSourceIPMismatch),
        ),
        (
            "127.0.0.1",
            None,
            Err(AuthErrorCode::AuthorizationSourceIPMismatch),
        ),
        (
            "not-an-ip",
            Some([127, 0, 0, 1]),
            Err(AuthErrorCode::InvalidQueryParameterValue),
        ),
    ] {
        p.ip = sip.into();
        let token = blob_token(&p, "cont", None);
        let ip = client.map(IpAddr::from);
        assert_eq!(
            Call {
                ip,
                ..call("/devstoreaccount1/cont", &token)
            }
            .code(),
            expected,
            "{sip} {client:?}"
        );
    }
}

#[test]
fn stored_policy_supplies_missing_fields_and_conflicts_fail() {
    let p = SasParams {
        version: "2020-12-06".into(),
        resource: "c".into(),
        identifier: "p1".into(),
        ..SasParams::default()
    };
    let token = blob_token(&p, "cont", None);
    let full = StoredPolicy {
        start: Some("2026-01-01".into()),
        expiry: Some("2026-12-31T00:00:00Z".into()),
        permission: Some("rw".into()),
    };
    let grant = Call {
        policy: Some(full.clone()),
        ..call("/devstoreaccount1/cont", &token)
    }
    .run()
    .expect("policy fills all");
    assert_eq!(grant.permissions, "rw");
    assert_eq!(grant.identifier.as_deref(), Some("p1"));
    assert_eq!(grant.start, Some(datetime!(2026-01-01 0:00 UTC)));

    // The policy's window is enforced.
    let expired = StoredPolicy {
        expiry: Some("2026-02-01".into()),
        ..full.clone()
    };
    assert_eq!(
        Call {
            policy: Some(expired),
            ..call("/devstoreaccount1/cont", &token)
        }
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    // Neither gives an expiry.
    let no_expiry = StoredPolicy {
        expiry: None,
        ..full.clone()
    };
    assert_eq!(
        Call {
            policy: Some(no_expiry),
            ..call("/devstoreaccount1/cont", &token)
        }
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    // Unknown identifier.
    assert_eq!(
        call("/devstoreaccount1/cont", &token).code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    // Both the SAS and the policy give an expiry.
    let both = SasParams {
        expiry: "2026-12-01".into(),
        ..p.clone()
    };
    let token = blob_token(&both, "cont", None);
    let err = Call {
        policy: Some(full),
        ..call("/devstoreaccount1/cont", &token)
    }
    .run()
    .expect_err("conflict");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    assert!(err.detail.contains("expiry"), "{}", err.detail);
}

#[test]
fn missing_or_malformed_fields() {
    let no_version = SasParams {
        version: String::new(),
        resource: "c".into(),
        ..base("")
    };
    assert_eq!(
        call(
            "/devstoreaccount1/cont",
            &blob_token(&no_version, "cont", None)
        )
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    let no_resource = base("2020-12-06");
    assert_eq!(
        call(
            "/devstoreaccount1/cont",
            &blob_token(&no_resource, "cont", None)
        )
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    let odd_resource = SasParams {
        resource: "z".into(),
        ..base("2020-12-06")
    };
    assert_eq!(
        call(
            "/devstoreaccount1/cont",
            &blob_token(&odd_resource, "cont", None)
        )
        .code(),
        Err(AuthErrorCode::InvalidQueryParameterValue)
    );
    let no_permissions = SasParams {
        permissions: String::new(),
        resource: "c".into(),
        ..base("2020-12-06")
    };
    assert_eq!(
        call(
            "/devstoreaccount1/cont",
            &blob_token(&no_permissions, "cont", None)
        )
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn account_sas_services_and_letters() {
    let p = SasParams {
        services: "b".into(),
        resource_types: "sco".into(),
        ..base("2020-12-06")
    };
    let token = account_token(&p);
    assert_eq!(call("/devstoreaccount1", &token).code(), Ok(()));
    assert_eq!(
        Call {
            service: Service::Table,
            ..call("/devstoreaccount1/Tables", &token)
        }
        .code(),
        Err(AuthErrorCode::AuthorizationServiceMismatch)
    );
    let bad = SasParams {
        services: "bz".into(),
        ..p.clone()
    };
    assert_eq!(
        call("/devstoreaccount1", &account_token(&bad)).code(),
        Err(AuthErrorCode::InvalidQueryParameterValue)
    );
    let missing = SasParams {
        resource_types: String::new(),
        ..p.clone()
    };
    assert_eq!(
        call("/devstoreaccount1", &account_token(&missing)).code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
    // Signed for another account name.
    let foreign = sign_account_sas("otheraccount", &key(), &p);
    assert_eq!(
        call("/devstoreaccount1", &foreign).code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn second_key_and_unescaped_plus_in_sig() {
    let accounts = Accounts::parse("devstoreaccount1:a2V5MQ==:a2V5Mg==").expect("valid");
    let p = SasParams {
        services: "b".into(),
        resource_types: "s".into(),
        ..base("2020-12-06")
    };
    let mut found_plus = false;
    // Vary the expiry until the signature holds a '+', then send it unescaped.
    for minute in 0..60 {
        let p = SasParams {
            expiry: format!("2026-07-01T00:{minute:02}:00Z"),
            ..p.clone()
        };
        let token = sign_account_sas(DEV_ACCOUNT, b"key2", &p).replace("%2B", "+");
        if !token.contains('+') {
            continue;
        }
        found_plus = true;
        let req = RequestInfo {
            method: "GET",
            raw_path: "/devstoreaccount1",
            raw_query: Some(&token),
            headers: &[],
            account: DEV_ACCOUNT,
            client_ip: None,
            https: false,
        };
        let principal = authenticate(&accounts, &req, Service::Blob, NOW, &|_, _| None);
        assert!(matches!(principal, Ok(Principal::Sas(_))), "{principal:?}");
        break;
    }
    assert!(found_plus);
}

#[test]
fn table_sas_binds_the_table_name_case_insensitively() {
    let p = SasParams {
        table: "MyTable".into(),
        permissions: "r".into(),
        ..base("2019-02-02")
    };
    let token = sign_service_sas(DEV_ACCOUNT, &key(), Service::Table, "mytable", None, &p);
    let grant = Call {
        service: Service::Table,
        ..call("/devstoreaccount1/MyTable()", &token)
    }
    .run()
    .expect("valid");
    assert!(matches!(grant.scope, SasScope::Table { ref table, .. } if table == "MyTable"));
    let no_tn = SasParams {
        table: String::new(),
        ..p
    };
    let token = sign_service_sas(DEV_ACCOUNT, &key(), Service::Table, "mytable", None, &no_tn);
    assert_eq!(
        Call {
            service: Service::Table,
            ..call("/devstoreaccount1/MyTable()", &token)
        }
        .code(),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn no_credentials_is_anonymous() {
    let req = RequestInfo {
        method: "GET",
        raw_path: "/devstoreaccount1/c/b",
        raw_query: Some("comp=list"),
        headers: &[],
        account: DEV_ACCOUNT,
        client_ip: None,
        https: false,
    };
    assert!(matches!(
        authenticate(&Accounts::dev(), &req, Service::Blob, NOW, &|_, _| None),
        Ok(Principal::Anonymous)
    ));
    let unknown = RequestInfo {
        raw_query: Some("sv=2020-12-06&sig=abc"),
        account: "nobody",
        ..req
    };
    assert_eq!(
        authenticate(&Accounts::dev(), &unknown, Service::Blob, NOW, &|_, _| None)
            .map(|_| ())
            .map_err(|e| e.code),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}
