//! Strings to sign written by hand from "Authorize with Shared Key", and verification of path variants.

use super::*;
use crate::{authenticate, Accounts, AuthErrorCode, Principal, DEV_ACCOUNT};
use time::macros::datetime;

fn req<'a>(
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
) -> RequestInfo<'a> {
    RequestInfo {
        method,
        raw_path: path,
        raw_query: query,
        headers,
        account: "myaccount",
        client_ip: None,
        https: false,
    }
}

#[test]
fn full_blob_string_to_sign_orders_every_standard_header() {
    let headers = [
        ("Content-Encoding", "gzip"),
        ("Content-Language", "en-US"),
        ("Content-Length", "11"),
        ("Content-MD5", "md5=="),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("If-Modified-Since", "Mon, 01 Jan 2024 00:00:00 GMT"),
        ("If-Match", "\"etag1\""),
        ("If-None-Match", "*"),
        ("If-Unmodified-Since", "Tue, 02 Jan 2024 00:00:00 GMT"),
        ("Range", "bytes=0-10"),
        ("x-ms-version", "2026-10-06"),
        ("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"),
        ("Date", "ignored when x-ms-date is present"),
        ("x-ms-blob-type", "BlockBlob"),
    ];
    let r = req(
        "PUT",
        "/myaccount/mycontainer/my%20blob",
        Some("timeout=30"),
        &headers,
    );
    assert_eq!(
        string_to_sign_shared_key(&r, Service::Blob, false),
        "PUT\ngzip\nen-US\n11\nmd5==\ntext/plain; charset=UTF-8\n\nMon, 01 Jan 2024 00:00:00 GMT\n\"etag1\"\n*\n\
         Tue, 02 Jan 2024 00:00:00 GMT\nbytes=0-10\nx-ms-blob-type:BlockBlob\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n\
         x-ms-version:2026-10-06\n/myaccount/myaccount/mycontainer/my%20blob\ntimeout:30"
    );
}

#[test]
fn reference_example_list_containers() {
    // The reference's example: GET ?comp=list&restype=container... with x-ms-date and x-ms-version only.
    let headers = [
        ("x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT"),
        ("x-ms-version", "2009-09-19"),
    ];
    let r = req(
        "GET",
        "/myaccount/mycontainer",
        Some("restype=container&comp=metadata"),
        &headers,
    );
    assert_eq!(
        string_to_sign_shared_key(&r, Service::Blob, false),
        "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n\
         /myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container"
    );
}

#[test]
fn content_length_zero_is_empty_from_2015_02_21() {
    let new = [("Content-Length", "0"), ("x-ms-version", "2015-02-21")];
    let old = [("Content-Length", "0"), ("x-ms-version", "2014-02-14")];
    assert!(string_to_sign_shared_key(
        &req("PUT", "/myaccount/c", None, &new),
        Service::Blob,
        false
    )
    .starts_with("PUT\n\n\n\n\n"));
    assert!(string_to_sign_shared_key(
        &req("PUT", "/myaccount/c", None, &old),
        Service::Blob,
        false
    )
    .starts_with("PUT\n\n\n0\n\n"));
}

#[test]
fn date_is_signed_without_x_ms_date() {
    let headers = [("Date", "Mon, 01 Jan 2024 00:00:00 GMT")];
    let sts = string_to_sign_shared_key(
        &req("GET", "/myaccount/c", None, &headers),
        Service::Blob,
        false,
    );
    assert_eq!(
        sts,
        "GET\n\n\n\n\n\nMon, 01 Jan 2024 00:00:00 GMT\n\n\n\n\n\n/myaccount/myaccount/c"
    );
}

#[test]
fn canonicalized_headers_are_lowercased_trimmed_joined_and_sorted() {
    let headers = [
        ("X-MS-Meta-Zeta", "  last  "),
        ("x-ms-meta-alpha", "a"),
        ("x-ms-meta-alpha", " b"),
        ("x-ms-meta-folded", "one\r\n   two"),
        ("x-ms-empty", ""),
        ("x-other", "not signed"),
    ];
    let sts = string_to_sign_shared_key(
        &req("GET", "/myaccount", None, &headers),
        Service::Blob,
        false,
    );
    assert!(
        sts.ends_with("\nx-ms-empty:\nx-ms-meta-alpha:a,b\nx-ms-meta-folded:one two\nx-ms-meta-zeta:last\n/myaccount/myaccount"),
        "{sts}"
    );
}

#[test]
fn canonicalized_resource_decodes_sorts_and_joins_query_values() {
    let r = req("GET", "/myaccount/c", Some("Restype=container&comp=list&include=snapshots&include=metadata&prefix=a%2Fb%20c&marker="), &[]);
    let sts = string_to_sign_shared_key(&r, Service::Blob, false);
    assert!(
        sts.ends_with("/myaccount/myaccount/c\ncomp:list\ninclude:metadata,snapshots\nmarker:\nprefix:a/b c\nrestype:container"),
        "{sts}"
    );
}

#[test]
fn lite_keeps_only_comp() {
    let headers = [
        ("Content-Type", "text/plain"),
        ("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"),
        ("Content-Encoding", "gzip"),
    ];
    let r = req(
        "PUT",
        "/myaccount/c/b",
        Some("comp=block&blockid=AAAA&timeout=5"),
        &headers,
    );
    assert_eq!(
        string_to_sign_shared_key(&r, Service::Blob, true),
        "PUT\n\ntext/plain\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n/myaccount/myaccount/c/b?comp=block"
    );
}

#[test]
fn table_layouts() {
    let headers = [
        ("Content-Type", "application/json"),
        ("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"),
        ("x-ms-version", "2019-02-02"),
    ];
    let r = req(
        "GET",
        "/myaccount/Tables",
        Some("$filter=x&comp=acl"),
        &headers,
    );
    assert_eq!(
        string_to_sign_shared_key(&r, Service::Table, false),
        "GET\n\napplication/json\nFri, 26 Jun 2015 23:39:12 GMT\n/myaccount/myaccount/Tables?comp=acl"
    );
    assert_eq!(
        string_to_sign_shared_key(&r, Service::Table, true),
        "Fri, 26 Jun 2015 23:39:12 GMT\n/myaccount/myaccount/Tables?comp=acl"
    );
    let date_only = [("Date", "Sat, 27 Jun 2015 00:00:00 GMT")];
    let r = req("DELETE", "/myaccount/t1", None, &date_only);
    assert_eq!(
        string_to_sign_shared_key(&r, Service::Table, false),
        "DELETE\n\n\nSat, 27 Jun 2015 00:00:00 GMT\n/myaccount/myaccount/t1"
    );
}

#[test]
fn dev_key_signature_is_fixed() {
    // HMAC-SHA256 of this exact string under the well-known key, computed independently with Python's hmac.
    let headers = [
        ("x-ms-date", "Wed, 01 Jan 2026 00:00:00 GMT"),
        ("x-ms-version", "2026-10-06"),
    ];
    let mut r = req(
        "GET",
        "/devstoreaccount1/c",
        Some("restype=container"),
        &headers,
    );
    r.account = DEV_ACCOUNT;
    let accounts = Accounts::dev();
    let key = &accounts.get(DEV_ACCOUNT).unwrap().keys[0];
    assert_eq!(
        sign_shared_key(DEV_ACCOUNT, key, &r, Service::Blob, false),
        DEV_KEY_SIGNATURE
    );
}
const DEV_KEY_SIGNATURE: &str =
    "SharedKey devstoreaccount1:BjDUOhaTPo2c9wmLOM/msiEjQbJyFxWrr5CciV/jko8=";

/// Shared Key and Shared Key Lite of a Queue request take the Blob service's forms ("Blob,
/// Queue, and File services"). The signatures are HMAC-SHA256 of the hand-written strings under
/// the well-known key, computed independently with Python's hmac.
#[test]
fn queue_requests_sign_as_blob_requests_do() {
    let accounts = Accounts::dev();
    let key = &accounts.get(DEV_ACCOUNT).unwrap().keys[0];
    let put_message = [
        ("Content-Type", "application/xml"),
        ("Content-Length", "72"),
        ("x-ms-version", "2026-10-06"),
        ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("x-ms-client-request-id", "req-1"),
    ];
    let get_metadata = [
        ("x-ms-version", "2026-10-06"),
        ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
    ];
    for (method, path, query, headers, lite, sts, auth) in [
        (
            "POST",
            "/devstoreaccount1/orders/messages",
            "visibilitytimeout=0&messagettl=3600",
            &put_message[..],
            false,
            "POST\n\n\n72\n\napplication/xml\n\n\n\n\n\n\n\
             x-ms-client-request-id:req-1\nx-ms-date:Thu, 01 Jan 2026 00:00:00 GMT\nx-ms-version:2026-10-06\n\
             /devstoreaccount1/devstoreaccount1/orders/messages\nmessagettl:3600\nvisibilitytimeout:0",
            "SharedKey devstoreaccount1:EkdEn8h9XJPLGnRQxrjBJXpzlM/Kj0glYgDU9wF0YMY=",
        ),
        (
            "GET",
            "/devstoreaccount1/orders",
            "comp=metadata&timeout=5",
            &get_metadata[..],
            true,
            "GET\n\n\n\nx-ms-date:Thu, 01 Jan 2026 00:00:00 GMT\nx-ms-version:2026-10-06\n\
             /devstoreaccount1/devstoreaccount1/orders?comp=metadata",
            "SharedKeyLite devstoreaccount1:O694rrEEs9suL3lbhCRJ9ro7RRN+qbhoEAijGhiJIdk=",
        ),
    ] {
        let mut r = req(method, path, Some(query), headers);
        r.account = DEV_ACCOUNT;
        assert_eq!(string_to_sign_shared_key(&r, Service::Queue, lite), sts);
        assert_eq!(
            sign_shared_key(DEV_ACCOUNT, key, &r, Service::Queue, lite),
            auth
        );
        let mut with_auth = headers.to_vec();
        with_auth.push(("Authorization", auth));
        let mut sent = req(method, path, Some(query), &with_auth);
        sent.account = DEV_ACCOUNT;
        let now = datetime!(2026-01-01 0:05 UTC);
        let principal = authenticate(&accounts, &sent, Service::Queue, now, &|_, _| None);
        assert!(
            matches!(principal, Ok(Principal::SharedKey { .. })),
            "{principal:?}"
        );
        // The Table service signs another string.
        assert!(authenticate(&accounts, &sent, Service::Table, now, &|_, _| None).is_err());
    }
}

/// Signs as an SDK would, over `signed_path`, and sends `sent_path`.
fn verifies(signed_path: &str, sent_path: &str) -> bool {
    let accounts = Accounts::dev();
    let key = &accounts.get(DEV_ACCOUNT).unwrap().keys[0];
    let headers = [
        ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("x-ms-version", "2026-10-06"),
    ];
    let mut signed = req("GET", signed_path, None, &headers);
    signed.account = DEV_ACCOUNT;
    let auth = sign_shared_key(DEV_ACCOUNT, key, &signed, Service::Blob, false);
    let with_auth = [headers[0], headers[1], ("Authorization", auth.as_str())];
    let mut sent = req("GET", sent_path, None, &with_auth);
    sent.account = DEV_ACCOUNT;
    authenticate(
        &accounts,
        &sent,
        Service::Blob,
        datetime!(2026-01-01 0:00 UTC),
        &|_, _| None,
    )
    .is_ok()
}

#[test]
fn path_escaping_variants_verify() {
    // Dapr signs the decoded name but sends '||' as %7C%7C.
    assert!(verifies(
        "/devstoreaccount1/c/a||b",
        "/devstoreaccount1/c/a%7C%7Cb"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/a%7C%7Cb",
        "/devstoreaccount1/c/a%7C%7Cb"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/a%7Cb",
        "/devstoreaccount1/c/a%7cb"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/a b",
        "/devstoreaccount1/c/a%20b"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/a+b",
        "/devstoreaccount1/c/a+b"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/a+b",
        "/devstoreaccount1/c/a%2Bb"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/%C3%BC",
        "/devstoreaccount1/c/%C3%BC"
    ));
    assert!(verifies(
        "/devstoreaccount1/c/ü",
        "/devstoreaccount1/c/%C3%BC"
    ));
    assert!(!verifies(
        "/devstoreaccount1/c/a b",
        "/devstoreaccount1/c/a%20c"
    ));
    assert!(!verifies("/devstoreaccount1/c/a", "/devstoreaccount1/c/b"));
}

fn auth_code(accounts: &Accounts, account: &str, header: &str) -> Result<(), AuthErrorCode> {
    let headers = [
        ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
        ("Authorization", header),
    ];
    let mut r = req("GET", "/devstoreaccount1/c", None, &headers);
    r.account = account;
    authenticate(
        accounts,
        &r,
        Service::Blob,
        datetime!(2026-01-01 0:00 UTC),
        &|_, _| None,
    )
    .map(|_| ())
    .map_err(|e| e.code)
}

#[test]
fn either_key_of_the_account_verifies() {
    let accounts = Accounts::parse("devstoreaccount1:a2V5MQ==:a2V5Mg==").expect("valid");
    for key in [b"key1".as_slice(), b"key2".as_slice()] {
        let headers = [("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")];
        let mut r = req("GET", "/devstoreaccount1/c", None, &headers);
        r.account = DEV_ACCOUNT;
        let auth = sign_shared_key(DEV_ACCOUNT, key, &r, Service::Blob, false);
        assert_eq!(auth_code(&accounts, DEV_ACCOUNT, &auth), Ok(()));
    }
    let mut r = req(
        "GET",
        "/devstoreaccount1/c",
        None,
        &[("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")],
    );
    r.account = DEV_ACCOUNT;
    let wrong = sign_shared_key(DEV_ACCOUNT, b"key3", &r, Service::Blob, false);
    assert_eq!(
        auth_code(&accounts, DEV_ACCOUNT, &wrong),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn malformed_or_foreign_authorization_fails() {
    let accounts = Accounts::dev();
    for header in [
        "SharedKey",
        "SharedKey devstoreaccount1",
        "Bearer abc",
        "SharedKey devstoreaccount1:bad sig",
        "SharedKey other:abc=",
    ] {
        assert_eq!(
            auth_code(&accounts, DEV_ACCOUNT, header),
            Err(AuthErrorCode::AuthenticationFailed),
            "{header}"
        );
    }
    // The URL names an account we do not have.
    assert_eq!(
        auth_code(&accounts, "other", "SharedKey other:abc="),
        Err(AuthErrorCode::AuthenticationFailed)
    );
}

#[test]
fn success_names_the_account_and_failure_shows_no_key() {
    let accounts = Accounts::dev();
    let headers = [("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")];
    let mut r = req("GET", "/devstoreaccount1/c", None, &headers);
    r.account = DEV_ACCOUNT;
    let auth = sign_shared_key(
        DEV_ACCOUNT,
        &accounts.get(DEV_ACCOUNT).unwrap().keys[0],
        &r,
        Service::Blob,
        true,
    );
    let with_auth = [headers[0], ("Authorization", auth.as_str())];
    let mut signed = req("GET", "/devstoreaccount1/c", None, &with_auth);
    signed.account = DEV_ACCOUNT;
    let principal = authenticate(
        &accounts,
        &signed,
        Service::Blob,
        datetime!(2026-01-01 0:00 UTC),
        &|_, _| None,
    );
    assert!(
        matches!(principal, Ok(Principal::SharedKey { ref account }) if account == DEV_ACCOUNT)
    );
    let err = auth_code(&accounts, DEV_ACCOUNT, "SharedKey devstoreaccount1:AAAA").err();
    assert_eq!(err, Some(AuthErrorCode::AuthenticationFailed));
    let detail = authenticate(
        &accounts,
        &{
            let mut x = req(
                "GET",
                "/devstoreaccount1/c",
                None,
                &[
                    ("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT"),
                    ("Authorization", "SharedKey devstoreaccount1:AAAA"),
                ],
            );
            x.account = DEV_ACCOUNT;
            x
        },
        Service::Blob,
        datetime!(2026-01-01 0:00 UTC),
        &|_, _| None,
    )
    .expect_err("bad signature")
    .detail;
    assert!(detail.starts_with("The MAC signature found in the HTTP request 'AAAA' is not the same as any computed signature."), "{detail}");
    assert!(!detail.contains(crate::DEV_KEY));
}

/// A correctly signed request whose date headers are `dates`, checked at 2026-01-01 00:00.
fn signed_with_dates(
    dates: &[(&str, &str)],
    service: Service,
    lite: bool,
) -> Result<(), AuthError> {
    let accounts = Accounts::dev();
    let key = &accounts.get(DEV_ACCOUNT).unwrap().keys[0];
    let mut headers: Vec<(&str, &str)> = dates.to_vec();
    headers.push(("x-ms-version", "2026-10-06"));
    let mut signed = req(
        "GET",
        "/devstoreaccount1/c",
        Some("restype=container"),
        &headers,
    );
    signed.account = DEV_ACCOUNT;
    let auth = sign_shared_key(DEV_ACCOUNT, key, &signed, service, lite);
    headers.push(("Authorization", auth.as_str()));
    let mut sent = req(
        "GET",
        "/devstoreaccount1/c",
        Some("restype=container"),
        &headers,
    );
    sent.account = DEV_ACCOUNT;
    authenticate(
        &accounts,
        &sent,
        service,
        datetime!(2026-01-01 0:00 UTC),
        &|_, _| None,
    )
    .map(|_| ())
}

#[test]
fn shared_key_requests_must_be_dated_within_fifteen_minutes() {
    for (service, lite) in [
        (Service::Blob, false),
        (Service::Blob, true),
        (Service::Table, false),
        (Service::Table, true),
        (Service::Queue, false),
        (Service::Queue, true),
    ] {
        let ok = |dates: &[(&str, &str)]| signed_with_dates(dates, service, lite);
        assert_eq!(
            ok(&[("x-ms-date", "Thu, 01 Jan 2026 00:00:00 GMT")]),
            Ok(())
        );
        assert_eq!(
            ok(&[("x-ms-date", "Wed, 31 Dec 2025 23:46:00 GMT")]),
            Ok(())
        );
        assert_eq!(
            ok(&[("x-ms-date", "Thu, 01 Jan 2026 00:14:00 GMT")]),
            Ok(())
        );
        assert_eq!(ok(&[("Date", "Thu, 01 Jan 2026 00:00:00 GMT")]), Ok(()));
        for (dates, detail) in [
            (
                vec![("x-ms-date", "Fri, 01 Jan 2010 00:00:00 GMT")],
                "too old",
            ),
            (
                vec![("x-ms-date", "Wed, 31 Dec 2025 23:44:00 GMT")],
                "too old",
            ),
            (
                vec![("x-ms-date", "Sat, 03 Jan 2026 00:00:00 GMT")],
                "too new",
            ),
            (vec![("x-ms-date", "not a date")], "incorrect"),
            (vec![], "not specified"),
            // x-ms-date wins over Date.
            (
                vec![
                    ("x-ms-date", "Fri, 01 Jan 2010 00:00:00 GMT"),
                    ("Date", "Thu, 01 Jan 2026 00:00:00 GMT"),
                ],
                "too old",
            ),
        ] {
            let err = ok(&dates).expect_err(detail);
            assert_eq!(err.code, AuthErrorCode::AuthenticationFailed, "{dates:?}");
            assert!(err.detail.contains(detail), "{dates:?}: {}", err.detail);
        }
    }
}
