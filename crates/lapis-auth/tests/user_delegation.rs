//! User delegation SAS and bearer tokens through `authenticate`. The SAS vectors were signed by the
//! Azure Python SDK with a key whose value Lapis derives; regenerate with
//! `tests/vectors/user_delegation_vectors.py`.

use std::net::IpAddr;

use lapis_auth::*;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const OID: &str = "11111111-2222-3333-4444-555555555555";
const TID: &str = "72f988bf-0000-0000-0000-2d7cd011db47";
const KEY_VALUE: &str = "PLQXCjgN/1viRa6ydRNONwpqVugV0fxPVnuzF4mkdF8=";
const BLOB_SAS: &str = "st=2026-06-01T10%3A00%3A00Z&se=2026-06-01T18%3A00%3A00Z&sp=rw&sv=2026-10-06&sr=b&skoid=11111111-2222-3333-4444-555555555555&sktid=72f988bf-0000-0000-0000-2d7cd011db47&skt=2026-06-01T00%3A00%3A00Z&ske=2026-06-02T00%3A00%3A00Z&sks=b&skv=2026-10-06&sig=mV8Bb7ea6uIa%2B/xKr08coM7kT/%2BBjFJyQ%2BtQhAykNcA%3D";
const CONTAINER_SAS: &str = "se=2026-06-01T18%3A00%3A00Z&sp=rl&sv=2026-10-06&sr=c&skoid=11111111-2222-3333-4444-555555555555&sktid=72f988bf-0000-0000-0000-2d7cd011db47&skt=2026-06-01T00%3A00%3A00Z&ske=2026-06-02T00%3A00%3A00Z&sks=b&skv=2026-10-06&sig=CCcx%2B/RGdxVnkBMnPiUqEvT5Qk4NYGZFvn5H5obMqwE%3D";

fn no_policy(_: &str, _: &str) -> Option<StoredPolicy> {
    None
}

fn accounts(roles: &[DataRole]) -> Accounts {
    let mut oauth = OAuth::new(vec!["https://sts.windows.net/t/".into()], 300);
    oauth.assign_roles(DEV_ACCOUNT, OID, roles.to_vec());
    Accounts::dev().with_oauth(oauth)
}

fn request<'a>(
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
) -> RequestInfo<'a> {
    RequestInfo {
        method: "GET",
        raw_path: path,
        raw_query: query,
        headers,
        account: DEV_ACCOUNT,
        client_ip: Some(IpAddr::from([127, 0, 0, 1])),
        https: true,
    }
}

fn grant(
    accounts: &Accounts,
    path: &str,
    query: &str,
    now: OffsetDateTime,
) -> Result<SasGrant, AuthError> {
    match authenticate(
        accounts,
        &request(path, Some(query), &[]),
        Service::Blob,
        now,
        &no_policy,
    )? {
        Principal::Sas(grant) => Ok(grant),
        other => panic!("expected a SAS, got {other:?}"),
    }
}

fn key() -> UserDelegationKey {
    UserDelegationKey {
        object_id: OID.into(),
        tenant_id: TID.into(),
        start: "2026-06-01T00:00:00Z".into(),
        expiry: "2026-06-02T00:00:00Z".into(),
        service: "b".into(),
        version: "2026-10-06".into(),
    }
}

#[test]
fn the_key_value_is_derived_from_the_account_key_and_its_fields() {
    let dev_key = &Accounts::dev().get(DEV_ACCOUNT).unwrap().keys[0].clone();
    assert_eq!(key().value(dev_key), KEY_VALUE);
    let mut other = key();
    other.expiry = "2026-06-03T00:00:00Z".into();
    assert_ne!(other.value(dev_key), KEY_VALUE);
}

#[test]
fn python_user_delegation_sas_verifies_and_is_bounded_by_roles() {
    let contributor = accounts(&[DataRole::BlobContributor]);
    let blob = "/devstoreaccount1/cont/dir/a%20b.txt";
    let g = grant(&contributor, blob, BLOB_SAS, NOW).expect("blob SAS");
    let target = SasTarget {
        container: Some("cont"),
        blob: Some("dir/a b.txt"),
    };
    assert!(g.authorize(Operation::GetBlob, &target).is_ok());
    assert!(g.authorize(Operation::PutBlob, &target).is_ok());
    // Not in sp.
    assert!(g.authorize(Operation::DeleteBlob, &target).is_err());
    let g =
        grant(&contributor, "/devstoreaccount1/cont", CONTAINER_SAS, NOW).expect("container SAS");
    let container = SasTarget {
        container: Some("cont"),
        blob: None,
    };
    assert!(g.authorize(Operation::ListBlobs, &container).is_ok());

    // A reader's SAS with `w` still cannot write: the key's roles bound the letters.
    let reader = accounts(&[DataRole::BlobReader]);
    let g = grant(&reader, blob, BLOB_SAS, NOW).expect("blob SAS");
    assert!(g.authorize(Operation::GetBlob, &target).is_ok());
    let err = g.authorize(Operation::PutBlob, &target).unwrap_err();
    assert_eq!(err.code, AuthErrorCode::AuthorizationPermissionMismatch);
    // An object id with no role gets nothing.
    let nobody = accounts(&[]);
    let g = grant(&nobody, blob, BLOB_SAS, NOW).expect("verifies");
    assert!(g.authorize(Operation::GetBlob, &target).is_err());
}

#[test]
fn user_delegation_sas_is_refused_outside_its_key_or_when_changed() {
    let accounts = accounts(&[DataRole::BlobOwner]);
    let blob = "/devstoreaccount1/cont/dir/a%20b.txt";
    // The SAS's own window is 10:00-18:00; the key's the whole day.
    assert!(grant(&accounts, blob, BLOB_SAS, datetime!(2026-06-01 9:00 UTC)).is_err());
    let err = grant(
        &accounts,
        blob,
        CONTAINER_SAS,
        datetime!(2026-06-02 0:01 UTC),
    )
    .unwrap_err();
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    // Another blob, another object id, or a longer key: the signature no longer matches.
    assert!(grant(&accounts, "/devstoreaccount1/cont/other", BLOB_SAS, NOW).is_err());
    let other_oid = BLOB_SAS.replace("skoid=1111", "skoid=9111");
    assert!(grant(&accounts, blob, &other_oid, NOW)
        .unwrap_err()
        .detail
        .starts_with("Signature did not match"));
    let longer = BLOB_SAS.replace("ske=2026-06-02", "ske=2026-06-03");
    assert!(grant(&accounts, blob, &longer, NOW).is_err());
    // Without OAuth configured no key can have been issued.
    let err = grant(&Accounts::dev(), blob, BLOB_SAS, NOW).unwrap_err();
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    // Signed request headers are not silently dropped.
    assert!(grant(&accounts, blob, &format!("{BLOB_SAS}&srh=x"), NOW).is_err());
}

#[test]
fn older_versions_sign_fewer_fields() {
    let accounts = accounts(&[DataRole::BlobReader]);
    let dev_key = Accounts::dev().get(DEV_ACCOUNT).unwrap().keys[0].clone();
    for version in [
        "2018-11-09",
        "2020-02-10",
        "2020-12-06",
        "2025-07-05",
        "2026-10-06",
    ] {
        let mut k = key();
        k.version = version.into();
        let params = SasParams {
            version: version.into(),
            permissions: "r".into(),
            expiry: "2026-06-01T18:00:00Z".into(),
            resource: "b".into(),
            key_object_id: k.object_id.clone(),
            key_tenant_id: k.tenant_id.clone(),
            key_start: k.start.clone(),
            key_expiry: k.expiry.clone(),
            key_service: k.service.clone(),
            key_version: k.version.clone(),
            ..SasParams::default()
        };
        let sts = string_to_sign_user_delegation_sas(DEV_ACCOUNT, "cont", Some("b"), &params);
        let lines = sts.split('\n').count();
        let expected = match version {
            "2018-11-09" => 20,
            "2020-02-10" => 23,
            "2020-12-06" => 24,
            "2025-07-05" => 26,
            _ => 28,
        };
        assert_eq!(lines, expected, "{version}: {sts:?}");
        let query =
            sign_user_delegation_sas(DEV_ACCOUNT, &k.value(&dev_key), "cont", Some("b"), &params);
        assert!(
            grant(&accounts, "/devstoreaccount1/cont/b", &query, NOW).is_ok(),
            "{version}"
        );
    }
}

fn bearer(accounts: &Accounts, header: &str, https: bool) -> Result<Principal, AuthError> {
    let headers = [("Authorization", header)];
    let mut req = request("/devstoreaccount1/cont", None, &headers);
    req.https = https;
    authenticate(accounts, &req, Service::Blob, NOW, &no_policy)
}

#[test]
fn bearer_tokens_need_oauth_configured_and_https() {
    // Without OAuth, a token is refused as before.
    let err = bearer(&Accounts::dev(), "Bearer abc.def.ghi", true).unwrap_err();
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    assert!(err.detail.contains("Bearer"), "{err:?}");
    let accounts = accounts(&[DataRole::BlobReader]);
    let err = bearer(&accounts, "Bearer abc.def.ghi", false).unwrap_err();
    assert_eq!(
        err.detail,
        "Authentication scheme Bearer is not allowed with HTTP."
    );
    let err = bearer(&accounts, "Bearer abc.def.ghi", true).unwrap_err();
    assert_eq!(err.code, AuthErrorCode::InvalidAuthenticationInfo);
    let headers = [
        ("Authorization", "Bearer abc.def.ghi"),
        ("x-ms-version", "2017-07-29"),
    ];
    let old_version = authenticate(
        &accounts,
        &request("/devstoreaccount1/c", None, &headers),
        Service::Blob,
        NOW,
        &no_policy,
    )
    .unwrap_err();
    assert_eq!(
        old_version.detail,
        "Authentication scheme Bearer is not supported in this version."
    );
    assert_eq!(err.code.status(), 401);
    assert!(err.challenge.is_some());
}
