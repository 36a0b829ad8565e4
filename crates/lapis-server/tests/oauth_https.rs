//! OAuth over HTTPS, in process: bearer tokens signed in the test with the test-only keys of
//! lapis-auth/tests/keys, each data role's reach on Blob, Queue and Table, Azure's answers for a
//! refused token, Get User Delegation Key and a user delegation SAS made with its key.

mod signed;

use std::net::SocketAddr;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use lapis_auth::{
    sign_user_delegation_sas, Accounts, DataRole, OAuth, SasParams, Service, DEV_ACCOUNT,
};
use lapis_server::{AppState, ServiceKind, TlsConfig};
use lapis_store::Store;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{json, Value};

const JWKS: &str = include_str!("../../lapis-auth/tests/keys/jwks.json");
const RSA_PRIVATE: &str = include_str!("../../lapis-auth/tests/keys/rsa-private.pem");
const OTHER_RSA_PRIVATE: &str = include_str!("../../lapis-auth/tests/keys/other-rsa-private.pem");
const ISSUER: &str = "https://sts.windows.net/72f988bf-0000-0000-0000-2d7cd011db47/";
const TENANT: &str = "72f988bf-0000-0000-0000-2d7cd011db47";
const READER: &str = "00000000-0000-0000-0000-00000000000a";
const CONTRIBUTOR: &str = "00000000-0000-0000-0000-00000000000b";
const OWNER: &str = "00000000-0000-0000-0000-00000000000c";
const NOBODY: &str = "00000000-0000-0000-0000-00000000000d";

struct Servers {
    blob: String,
    table: String,
    queue: String,
    plain_blob: String,
    client: reqwest::Client,
}

/// A test authority and a certificate it signed for 127.0.0.1: (authority PEM, TLS config).
fn tls() -> (String, TlsConfig) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Lapis OAuth test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = params.signed_by(&key, &issuer).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, leaf.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let config = TlsConfig::load(&cert_path, Some(&key_path), None).expect("tls");
    (ca.pem(), config)
}

fn oauth() -> OAuth {
    let mut oauth = OAuth::new(vec![ISSUER.to_string()], 300);
    oauth.add_jwks(JWKS).expect("jwks");
    oauth.assign_roles(
        DEV_ACCOUNT,
        READER,
        vec![
            DataRole::BlobReader,
            DataRole::QueueMessageSender,
            DataRole::TableReader,
        ],
    );
    oauth.assign_roles(
        DEV_ACCOUNT,
        CONTRIBUTOR,
        vec![
            DataRole::BlobContributor,
            DataRole::QueueContributor,
            DataRole::TableContributor,
        ],
    );
    oauth.assign_roles(DEV_ACCOUNT, OWNER, vec![DataRole::BlobOwner]);
    oauth
}

async fn start() -> Servers {
    let (ca_pem, tls) = tls();
    let accounts = Accounts::dev().with_oauth(oauth());
    let state = AppState::new(Store::in_memory().expect("store"), accounts);
    let mut urls = Vec::new();
    for (kind, tls) in [
        (ServiceKind::Blob, Some(tls.clone())),
        (ServiceKind::Table, Some(tls.clone())),
        (ServiceKind::Queue, Some(tls)),
        (ServiceKind::Blob, None),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(lapis_server::serve_with(
            listener,
            state.clone(),
            kind,
            lapis_server::ServeOptions {
                tls,
                ..Default::default()
            },
            std::future::pending(),
        ));
        urls.push(format!("{scheme}://{addr}/{DEV_ACCOUNT}"));
    }
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    Servers {
        blob: urls[0].clone(),
        table: urls[1].clone(),
        queue: urls[2].clone(),
        plain_blob: urls[3].clone(),
        client,
    }
}

fn claims(oid: &str) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    json!({"aud": "https://storage.azure.com/", "iss": ISSUER, "iat": now, "nbf": now - 60,
           "exp": now + 3600, "oid": oid, "tid": TENANT})
}

fn sign(claims: &Value, private: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa-1".into());
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn token(oid: &str) -> String {
    sign(&claims(oid), RSA_PRIVATE)
}

impl Servers {
    async fn bearer(
        &self,
        token: &str,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method.parse().unwrap(), url)
            .header("Authorization", format!("Bearer {token}"))
            .header("x-ms-version", "2026-10-06")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }
}

async fn code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let code = resp
        .headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, code)
}

#[tokio::test]
async fn blob_roles_decide_what_a_token_may_do() {
    let s = start().await;
    let container = format!("{}/roles?restype=container", s.blob);
    let reader = token(READER);
    let contributor = token(CONTRIBUTOR);
    let owner = token(OWNER);
    assert_eq!(
        code(s.bearer(&reader, "PUT", &container, &[], "").await).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
    assert_eq!(
        s.bearer(&contributor, "PUT", &container, &[], "")
            .await
            .status(),
        201
    );
    let blob = format!("{}/roles/a.txt", s.blob);
    let put = s
        .bearer(
            &contributor,
            "PUT",
            &blob,
            &[("x-ms-blob-type", "BlockBlob")],
            "hello",
        )
        .await;
    assert_eq!(put.status(), 201);
    let read = s.bearer(&reader, "GET", &blob, &[], "").await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.text().await.unwrap(), "hello");
    let list = format!("{}/roles?restype=container&comp=list", s.blob);
    assert_eq!(s.bearer(&reader, "GET", &list, &[], "").await.status(), 200);
    assert_eq!(
        code(s.bearer(&reader, "DELETE", &blob, &[], "").await)
            .await
            .0,
        403
    );
    // Tags are the Owner's.
    let tags = format!("{blob}?comp=tags");
    let body = "<Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tags>";
    assert_eq!(
        code(s.bearer(&contributor, "PUT", &tags, &[], body).await).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
    assert_eq!(
        s.bearer(&owner, "PUT", &tags, &[], body).await.status(),
        204
    );
    // The container's ACL is the Owner's; service properties need a management-plane role.
    let acl = format!("{}/roles?restype=container&comp=acl", s.blob);
    assert_eq!(
        code(s.bearer(&contributor, "GET", &acl, &[], "").await).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
    assert_eq!(s.bearer(&owner, "GET", &acl, &[], "").await.status(), 200);
    let props = format!("{}/?restype=service&comp=properties", s.blob);
    assert_eq!(
        code(s.bearer(&owner, "GET", &props, &[], "").await).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
    // A valid token for an object id with no role.
    assert_eq!(
        code(s.bearer(&token(NOBODY), "GET", &blob, &[], "").await).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
}

#[tokio::test]
async fn refused_tokens_get_azures_401_and_challenge() {
    let s = start().await;
    let url = format!("{}?comp=list", s.blob);
    let mut expired = claims(OWNER);
    expired["exp"] = json!(time::OffsetDateTime::now_utc().unix_timestamp() - 3600);
    let mut foreign_issuer = claims(OWNER);
    foreign_issuer["iss"] = json!("https://sts.windows.net/someone-else/");
    let mut other_audience = claims(OWNER);
    other_audience["aud"] = json!("https://management.azure.com/");
    for (token, detail) in [
        (
            sign(&expired, RSA_PRIVATE),
            "Lifetime validation failed. The token is expired.",
        ),
        (
            sign(&foreign_issuer, RSA_PRIVATE),
            "Issuer validation failed. Issuer did not match.",
        ),
        (
            sign(&other_audience, RSA_PRIVATE),
            "Audience validation failed. Audience did not match.",
        ),
        (
            sign(&claims(OWNER), OTHER_RSA_PRIVATE),
            "Signature validation failed.",
        ),
    ] {
        let resp = s.bearer(&token, "GET", &url, &[], "").await;
        assert_eq!(resp.status(), 401, "{detail}");
        assert_eq!(
            resp.headers()["x-ms-error-code"],
            "InvalidAuthenticationInfo"
        );
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.starts_with("Bearer authorization_uri=https://login.microsoftonline.com/"),
            "{challenge}"
        );
        assert!(
            challenge.ends_with("resource_id=https://storage.azure.com"),
            "{challenge}"
        );
        let body = resp.text().await.unwrap();
        assert!(
            body.contains(&format!("<AuthenticationErrorDetail>{detail}")),
            "{body}"
        );
        assert!(
            body.contains("Please refer to the information in the www-authenticate header."),
            "{body}"
        );
    }
    // Over plain http a token is not even looked at.
    let plain = format!("{}?comp=list", s.plain_blob);
    let resp = reqwest::Client::new()
        .get(&plain)
        .header("Authorization", format!("Bearer {}", token(OWNER)))
        .header("x-ms-version", "2026-10-06")
        .send()
        .await
        .unwrap();
    assert_eq!(code(resp).await, (403, "AuthenticationFailed".into()));
}

#[tokio::test]
async fn queue_and_table_roles() {
    let s = start().await;
    let (reader, contributor) = (token(READER), token(CONTRIBUTOR));
    let queue = format!("{}/jobs", s.queue);
    assert_eq!(
        code(s.bearer(&reader, "PUT", &queue, &[], "").await)
            .await
            .0,
        403
    );
    assert_eq!(
        s.bearer(&contributor, "PUT", &queue, &[], "")
            .await
            .status(),
        201
    );
    let messages = format!("{queue}/messages");
    let message = "<QueueMessage><MessageText>hi</MessageText></QueueMessage>";
    // The reader holds Message Sender: it may add but not receive.
    assert_eq!(
        s.bearer(&reader, "POST", &messages, &[], message)
            .await
            .status(),
        201
    );
    assert_eq!(
        code(s.bearer(&reader, "GET", &messages, &[], "").await).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
    assert_eq!(
        s.bearer(&contributor, "GET", &messages, &[], "")
            .await
            .status(),
        200
    );

    let json = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json;odata=nometadata"),
    ];
    let tables = format!("{}/Tables", s.table);
    assert_eq!(
        code(
            s.bearer(
                &reader,
                "POST",
                &tables,
                &json,
                r#"{"TableName":"oauthtable"}"#
            )
            .await
        )
        .await
        .0,
        403
    );
    assert_eq!(
        s.bearer(
            &contributor,
            "POST",
            &tables,
            &json,
            r#"{"TableName":"oauthtable"}"#
        )
        .await
        .status(),
        201
    );
    let entities = format!("{}/oauthtable", s.table);
    let entity = r#"{"PartitionKey":"p","RowKey":"r","V":1}"#;
    assert_eq!(
        code(s.bearer(&reader, "POST", &entities, &json, entity).await)
            .await
            .0,
        403
    );
    assert_eq!(
        s.bearer(&contributor, "POST", &entities, &json, entity)
            .await
            .status(),
        201
    );
    assert_eq!(
        s.bearer(
            &reader,
            "GET",
            &format!("{}/oauthtable()", s.table),
            &json,
            ""
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn user_delegation_key_signs_a_sas_bounded_by_the_keys_roles() {
    let s = start().await;
    let contributor = token(CONTRIBUTOR);
    assert_eq!(
        s.bearer(
            &contributor,
            "PUT",
            &format!("{}/udk?restype=container", s.blob),
            &[],
            ""
        )
        .await
        .status(),
        201
    );
    let blob = format!("{}/udk/a.txt", s.blob);
    assert_eq!(
        s.bearer(
            &contributor,
            "PUT",
            &blob,
            &[("x-ms-blob-type", "BlockBlob")],
            "delegated"
        )
        .await
        .status(),
        201
    );

    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| lapis_wire::time_format::iso8601_seconds(t);
    let key_info = |expiry: time::OffsetDateTime| {
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><KeyInfo><Start>{}</Start><Expiry>{}</Expiry></KeyInfo>", fmt(now - time::Duration::minutes(5)), fmt(expiry))
    };
    let url = format!("{}/?restype=service&comp=userdelegationkey", s.blob);
    // Over Shared Key: Azure asks for a token.
    let resp = signed::send(
        &s.client,
        Service::Blob,
        "POST",
        &url,
        &[],
        key_info(now + time::Duration::hours(1)).as_bytes(),
    )
    .await;
    assert_eq!(code(resp).await, (403, "AuthenticationFailed".into()));
    // Longer than seven days.
    let resp = s
        .bearer(
            &token(READER),
            "POST",
            &url,
            &[],
            &key_info(now + time::Duration::days(8)),
        )
        .await;
    assert_eq!(code(resp).await, (400, "InvalidXmlNodeValue".into()));

    let resp = s
        .bearer(
            &token(READER),
            "POST",
            &url,
            &[],
            &key_info(now + time::Duration::hours(1)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let xml = resp.text().await.unwrap();
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = xml.find(&open).unwrap_or_else(|| panic!("{name} in {xml}")) + open.len();
        xml[start..start + xml[start..].find('<').unwrap()].to_string()
    };
    assert_eq!(field("SignedOid"), READER);
    assert_eq!(field("SignedTid"), TENANT);
    assert_eq!(field("SignedService"), "b");
    let params = SasParams {
        version: "2026-10-06".into(),
        permissions: "rw".into(),
        expiry: fmt(now + time::Duration::minutes(30)),
        resource: "b".into(),
        key_object_id: field("SignedOid"),
        key_tenant_id: field("SignedTid"),
        key_start: field("SignedStart"),
        key_expiry: field("SignedExpiry"),
        key_service: field("SignedService"),
        key_version: field("SignedVersion"),
        ..SasParams::default()
    };
    let sas = sign_user_delegation_sas(DEV_ACCOUNT, &field("Value"), "udk", Some("a.txt"), &params);
    let read = s.client.get(format!("{blob}?{sas}")).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.text().await.unwrap(), "delegated");
    // `w` is in the SAS, but the key's object id is a reader.
    let write = s
        .client
        .put(format!("{blob}?{sas}"))
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(write).await,
        (403, "AuthorizationPermissionMismatch".into())
    );
    // A forged value does not verify.
    let forged = sign_user_delegation_sas(
        DEV_ACCOUNT,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "udk",
        Some("a.txt"),
        &params,
    );
    let read = s
        .client
        .get(format!("{blob}?{forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(code(read).await, (403, "AuthenticationFailed".into()));
}
