//! Signatures and tokens produced by the Azure Python SDK (azure-storage-blob 12.31, azure-data-tables 12.7,
//! azure-storage-queue 12.18.1) for fixed inputs; regenerate with `tests/vectors/sdk_vectors.py` and
//! `tests/vectors/queue_sdk_vectors.py`. Each must authenticate, and must stop authenticating when the
//! request changes.

use std::net::IpAddr;

use lapis_auth::*;
use time::macros::datetime;
use time::OffsetDateTime;

// Five minutes after the Shared Key requests were signed: within the clock skew Azure allows.
const NOW: OffsetDateTime = datetime!(2026-01-01 0:05 UTC);
const MS_DATE: &str = "Thu, 01 Jan 2026 00:00:00 GMT";

fn no_policy(_: &str, _: &str) -> Option<StoredPolicy> {
    None
}

fn run(req: &RequestInfo, service: Service) -> Result<Principal, AuthError> {
    authenticate(&Accounts::dev(), req, service, NOW, &no_policy)
}

fn request<'a>(
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
        account: DEV_ACCOUNT,
        client_ip: Some(IpAddr::from([127, 0, 0, 5])),
        https: false,
    }
}

fn assert_shared_key(result: Result<Principal, AuthError>) {
    match result {
        Ok(Principal::SharedKey { account }) => assert_eq!(account, DEV_ACCOUNT),
        other => panic!("expected Shared Key principal, got {other:?}"),
    }
}

#[test]
fn python_shared_key_put_metadata_with_escaped_unicode_path() {
    let auth = "SharedKey devstoreaccount1:Qp+YH9RaOcwiXINMhdMbn+7NWQkujhVccyFBovpD9dE=";
    let headers = [
        ("x-ms-date", MS_DATE),
        ("x-ms-version", "2026-10-06"),
        ("x-ms-meta-b", "two"),
        ("x-ms-meta-a", "one"),
        ("Content-Length", "0"),
        ("Content-Type", "application/octet-stream"),
        ("Authorization", auth),
    ];
    let path = "/devstoreaccount1/cont/a%7C%7Cb%20c%2B%C3%BC";
    assert_shared_key(run(
        &request("PUT", path, Some("comp=metadata&timeout=30"), &headers),
        Service::Blob,
    ));
    // Our signer produces the same header the SDK did.
    let unsigned = &headers[..6];
    let req = request("PUT", path, Some("comp=metadata&timeout=30"), unsigned);
    assert_eq!(
        sign_shared_key(
            DEV_ACCOUNT,
            &Accounts::dev().get(DEV_ACCOUNT).unwrap().keys[0],
            &req,
            Service::Blob,
            false
        ),
        auth
    );
    let tampered = request("PUT", path, Some("comp=metadata&timeout=31"), &headers);
    let err = run(&tampered, Service::Blob).expect_err("changed query must fail");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    assert!(err.detail.contains("timeout:31"), "{}", err.detail);
}

#[test]
fn python_shared_key_list_containers() {
    let headers = [
        ("x-ms-date", MS_DATE),
        ("x-ms-version", "2026-10-06"),
        ("x-ms-range", "bytes=0-9"),
        (
            "Authorization",
            "SharedKey devstoreaccount1:mdHnCO3BRZdo1ezj7hmpKMwH7oa2AdTvvthkdM2Eu+A=",
        ),
    ];
    let query = "comp=list&prefix=a%20b&include=metadata";
    assert_shared_key(run(
        &request("GET", "/devstoreaccount1", Some(query), &headers),
        Service::Blob,
    ));
    let other_range = [
        ("x-ms-range", "bytes=0-8"),
        headers[0],
        headers[1],
        headers[3],
    ];
    assert!(run(
        &request("GET", "/devstoreaccount1", Some(query), &other_range),
        Service::Blob
    )
    .is_err());
}

#[test]
fn python_shared_key_sorts_headers_with_azure_collation() {
    let headers = [
        ("x-ms-date", MS_DATE),
        ("x-ms-version", "2026-10-06"),
        ("x-ms-meta-a_b", "1"),
        ("x-ms-meta-a-c", "2"),
        ("x-ms-blob-type", "BlockBlob"),
        ("Content-Length", "5"),
        (
            "Authorization",
            "SharedKey devstoreaccount1:NczIwlfYwBTr7UoNMZeREidCmjarb1FLwspdSlhTajY=",
        ),
    ];
    assert_shared_key(run(
        &request("PUT", "/devstoreaccount1/cont/blob", None, &headers),
        Service::Blob,
    ));
}

#[test]
fn python_table_shared_key() {
    let headers = [
        ("x-ms-date", MS_DATE),
        ("x-ms-version", "2019-02-02"),
        ("Content-Type", "application/json"),
        (
            "Authorization",
            "SharedKey devstoreaccount1:gG+LJ2dKqJ3dcWwF492O66mxSBQgEdqYiXN4IA7IHGA=",
        ),
    ];
    let path = "/devstoreaccount1/mytable(PartitionKey='p',RowKey='r')";
    assert_shared_key(run(&request("GET", path, None, &headers), Service::Table));
    // The same signature is not valid as a Blob request (different string to sign).
    assert!(run(&request("GET", path, None, &headers), Service::Blob).is_err());
}

fn sas_grant(result: Result<Principal, AuthError>) -> SasGrant {
    match result {
        Ok(Principal::Sas(grant)) => grant,
        other => panic!("expected SAS principal, got {other:?}"),
    }
}

const BLOB_SAS: &str = "st=2026-01-01T00%3A00%3A00Z&se=2030-01-01T12%3A30%3A00Z&sp=rw&sip=127.0.0.1-127.0.0.9&spr=https%2Chttp&sv=2026-10-06&sr=b&rscd=attachment%3B%20filename%3Dx.txt&rsct=text/plain&sig=1k7I8SMMGcrAwmYw3IOfpu6LqxqLMnEied8sZ8PbtRE%3D";

#[test]
fn python_blob_sas() {
    let path = "/devstoreaccount1/cont/dir/a%7C%7Cb%20c%2B%C3%BC.txt";
    let grant = sas_grant(run(
        &request("GET", path, Some(BLOB_SAS), &[]),
        Service::Blob,
    ));
    assert!(
        matches!(&grant.scope, SasScope::Blob { container, blob } if container == "cont" && blob == "dir/a||b c+ü.txt")
    );
    assert_eq!(grant.permissions, "rw");
    assert_eq!(
        grant.response_headers.content_disposition.as_deref(),
        Some("attachment; filename=x.txt")
    );
    assert_eq!(
        grant.response_headers.content_type.as_deref(),
        Some("text/plain")
    );
    let read = SasTarget {
        container: Some("cont"),
        blob: Some("dir/a||b c+ü.txt"),
    };
    assert_eq!(
        grant.authorize(Operation::GetBlob, &read),
        Ok(SasAccess::Full)
    );

    // Another blob: the signed resource differs, so the signature does.
    let err = run(
        &request("GET", "/devstoreaccount1/cont/other", Some(BLOB_SAS), &[]),
        Service::Blob,
    )
    .expect_err("other blob");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
    assert!(
        err.detail
            .starts_with("Signature did not match. String to sign used was rw\n"),
        "{}",
        err.detail
    );
}

#[test]
fn python_blob_sas_from_outside_its_ip_range() {
    let mut req = request(
        "GET",
        "/devstoreaccount1/cont/dir/a%7C%7Cb%20c%2B%C3%BC.txt",
        Some(BLOB_SAS),
        &[],
    );
    req.client_ip = Some(IpAddr::from([127, 0, 0, 10]));
    assert_eq!(
        run(&req, Service::Blob).map(|_| ()).map_err(|e| e.code),
        Err(AuthErrorCode::AuthorizationSourceIPMismatch)
    );
}

#[test]
fn python_container_sas_with_stored_policy() {
    let query =
        "sp=l&sv=2026-10-06&si=policy1&sr=c&sig=t8hMz6USLCk2WKqzbrCApojQBYbzYPWr35QcPbGXn7M%3D";
    let policy = |container: &str, id: &str| {
        (container == "cont" && id == "policy1").then(|| StoredPolicy {
            start: None,
            expiry: Some("2030-01-01".into()),
            permission: None,
        })
    };
    let req = request("GET", "/devstoreaccount1/cont", Some(query), &[]);
    let grant = sas_grant(authenticate(
        &Accounts::dev(),
        &req,
        Service::Blob,
        NOW,
        &policy,
    ));
    assert_eq!(grant.identifier.as_deref(), Some("policy1"));
    assert_eq!(grant.expiry, datetime!(2030-01-01 0:00 UTC));
    let err = authenticate(&Accounts::dev(), &req, Service::Blob, NOW, &no_policy)
        .expect_err("unknown policy");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
}

#[test]
fn python_account_sas_for_blob_and_table() {
    let query = "st=2026-01-01T00%3A00%3A00Z&se=2030-01-01T12%3A30%3A00Z&sp=rl&sv=2026-10-06&ss=bt&srt=co&sig=nknYxCGsxO7ZmLa1YhKwF5qoULqutwhM%2BpJwXVZVIQ0%3D";
    let grant = sas_grant(run(
        &request("GET", "/devstoreaccount1/cont", Some(query), &[]),
        Service::Blob,
    ));
    assert!(
        matches!(&grant.scope, SasScope::Account { services, resource_types } if services == "bt" && resource_types == "co")
    );
    sas_grant(run(
        &request("GET", "/devstoreaccount1/Tables", Some(query), &[]),
        Service::Table,
    ));
    let err = run(
        &request("GET", "/devstoreaccount1/q", Some(query), &[]),
        Service::Queue,
    )
    .expect_err("queue not signed");
    assert_eq!(err.code, AuthErrorCode::AuthorizationServiceMismatch);
    let too_late = authenticate(
        &Accounts::dev(),
        &request("GET", "/devstoreaccount1/cont", Some(query), &[]),
        Service::Blob,
        datetime!(2030-01-01 12:30:01 UTC),
        &no_policy,
    )
    .expect_err("expired");
    assert!(
        too_late
            .detail
            .starts_with("Signature not valid in the specified time frame"),
        "{}",
        too_late.detail
    );
}

#[test]
fn python_table_sas() {
    let query = "se=2030-01-01T12%3A30%3A00Z&sp=ra&sv=2019-02-02&tn=MyTable&spk=p1&epk=p9&sig=yztgVPB6y%2BOPod5il/hOQkMQR9tlQUt/HXX72SEg3pU%3D";
    let grant = sas_grant(run(
        &request("GET", "/devstoreaccount1/MyTable()", Some(query), &[]),
        Service::Table,
    ));
    assert!(
        matches!(&grant.scope, SasScope::Table { table, start_pk, end_pk, .. }
        if table == "MyTable" && start_pk.as_deref() == Some("p1") && end_pk.as_deref() == Some("p9"))
    );
    assert!(grant.allows_entity("p5", "any"));
    assert!(!grant.allows_entity("q", "any"));
}

#[test]
fn python_queue_shared_key_put_message() {
    let auth = "SharedKey devstoreaccount1:8Q7QRa46lXyShpvV1VnaOIhjiQSDqCc5U+MtuBjHzwM=";
    let headers = [
        ("x-ms-date", MS_DATE),
        ("x-ms-version", "2026-10-06"),
        ("Content-Type", "application/xml"),
        ("Content-Length", "72"),
        ("Authorization", auth),
    ];
    let path = "/devstoreaccount1/orders/messages";
    let query = "visibilitytimeout=0&messagettl=3600";
    assert_shared_key(run(
        &request("POST", path, Some(query), &headers),
        Service::Queue,
    ));
    let unsigned = request("POST", path, Some(query), &headers[..4]);
    assert_eq!(
        sign_shared_key(
            DEV_ACCOUNT,
            &Accounts::dev().get(DEV_ACCOUNT).unwrap().keys[0],
            &unsigned,
            Service::Queue,
            false
        ),
        auth
    );
    let tampered = request(
        "POST",
        path,
        Some("visibilitytimeout=9&messagettl=3600"),
        &headers,
    );
    assert!(run(&tampered, Service::Queue).is_err());
}

const QUEUE_SAS: &str = "st=2026-01-01T00%3A00%3A00Z&se=2030-01-01T12%3A30%3A00Z&sp=rap&sip=127.0.0.1-127.0.0.9&spr=https%2Chttp&sv=2026-10-06&sig=0gmgFvLLZ/zgGIUvaYIiEnLeDUm8%2BERbc0x7zr1kp7A%3D";

/// The signature of a query, unescaped (SDKs differ in whether they escape '/').
fn sig_of(query: &str) -> String {
    let sig = query.rsplit("sig=").next().unwrap_or("");
    percent_encoding::percent_decode_str(sig)
        .decode_utf8_lossy()
        .into_owned()
}

#[test]
fn python_queue_sas() {
    let orders = SasTarget {
        container: Some("orders"),
        blob: None,
    };
    let query = format!("numofmessages=1&{QUEUE_SAS}");
    let grant = sas_grant(run(
        &request(
            "GET",
            "/devstoreaccount1/orders/messages",
            Some(&query),
            &[],
        ),
        Service::Queue,
    ));
    assert!(matches!(&grant.scope, SasScope::Queue { queue } if queue == "orders"));
    assert_eq!(grant.permissions, "rap");
    assert_eq!(
        grant.authorize(Operation::GetMessages, &orders),
        Ok(SasAccess::Full)
    );
    assert_eq!(
        grant
            .authorize(Operation::UpdateMessage, &orders)
            .map_err(|e| e.code),
        Err(AuthErrorCode::AuthorizationPermissionMismatch)
    );
    // Our signer computes the same signature from the same fields.
    let params = SasParams {
        version: "2026-10-06".into(),
        permissions: "rap".into(),
        start: "2026-01-01T00:00:00Z".into(),
        expiry: "2030-01-01T12:30:00Z".into(),
        ip: "127.0.0.1-127.0.0.9".into(),
        protocol: "https,http".into(),
        ..SasParams::default()
    };
    let ours = sign_service_sas(
        DEV_ACCOUNT,
        &Accounts::dev().get(DEV_ACCOUNT).unwrap().keys[0],
        Service::Queue,
        "orders",
        None,
        &params,
    );
    assert_eq!(sig_of(&ours), sig_of(QUEUE_SAS));
    // Another queue: the signed resource differs.
    let err = run(
        &request(
            "GET",
            "/devstoreaccount1/other/messages",
            Some(QUEUE_SAS),
            &[],
        ),
        Service::Queue,
    )
    .expect_err("other queue");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
}

#[test]
fn python_queue_sas_with_stored_policy() {
    let query = "sv=2026-10-06&si=policy1&sig=oSMpEk30ABNRf1pbmlP0slBVNvtcA0VWiVPvG/3sM7I%3D";
    let policy = |queue: &str, id: &str| {
        (queue == "orders" && id == "policy1").then(|| StoredPolicy {
            start: None,
            expiry: Some("2030-01-01".into()),
            permission: Some("p".into()),
        })
    };
    let req = request(
        "DELETE",
        "/devstoreaccount1/orders/messages/m1",
        Some(query),
        &[],
    );
    let grant = sas_grant(authenticate(
        &Accounts::dev(),
        &req,
        Service::Queue,
        NOW,
        &policy,
    ));
    assert_eq!(grant.identifier.as_deref(), Some("policy1"));
    assert_eq!(grant.permissions, "p");
    let err = authenticate(&Accounts::dev(), &req, Service::Queue, NOW, &no_policy)
        .expect_err("unknown policy");
    assert_eq!(err.code, AuthErrorCode::AuthenticationFailed);
}

#[test]
fn python_account_sas_for_queues() {
    let token = "st=2026-01-01T00%3A00%3A00Z&se=2030-01-01T12%3A30%3A00Z&sp=lp&sv=2026-10-06&ss=q&srt=so&sig=ZJTatwNjXgOI6FO38FiRxsTPT4kfCxvD/cLs/6vcUq4%3D";
    let list = format!("comp=list&{token}");
    let grant = sas_grant(run(
        &request("GET", "/devstoreaccount1", Some(&list), &[]),
        Service::Queue,
    ));
    assert_eq!(
        grant.authorize(Operation::ListQueues, &SasTarget::default()),
        Ok(SasAccess::Full)
    );
    let orders = SasTarget {
        container: Some("orders"),
        blob: None,
    };
    assert_eq!(
        grant.authorize(Operation::GetMessages, &orders),
        Ok(SasAccess::Full)
    );
    assert_eq!(
        grant
            .authorize(Operation::CreateQueue, &orders)
            .map_err(|e| e.code),
        Err(AuthErrorCode::AuthorizationResourceTypeMismatch)
    );
    let err = run(
        &request("GET", "/devstoreaccount1", Some(&list), &[]),
        Service::Blob,
    )
    .expect_err("ss=q only");
    assert_eq!(err.code, AuthErrorCode::AuthorizationServiceMismatch);
}
