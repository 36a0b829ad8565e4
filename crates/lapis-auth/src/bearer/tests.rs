//! Tokens signed in the test with fixed test-only keys (tests/keys, made with openssl for these
//! tests and trusted nowhere else).

use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;

const RSA_PRIVATE: &str = include_str!("../../tests/keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../../tests/keys/rsa-public.pem");
const OTHER_RSA_PRIVATE: &str = include_str!("../../tests/keys/other-rsa-private.pem");
const EC_PRIVATE: &str = include_str!("../../tests/keys/ec-private.pem");
const EC_PUBLIC: &str = include_str!("../../tests/keys/ec-public.pem");
const JWKS: &str = include_str!("../../tests/keys/jwks.json");

const ISSUER: &str = "https://sts.windows.net/72f988bf-0000-0000-0000-2d7cd011db47/";
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn claims() -> Value {
    let now = NOW.unix_timestamp();
    json!({
        "aud": "https://storage.azure.com",
        "iss": ISSUER,
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "oid": "11111111-2222-3333-4444-555555555555",
        "tid": "72f988bf-0000-0000-0000-2d7cd011db47",
    })
}

fn rs256(claims: &Value, kid: Option<&str>, private: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    let key = EncodingKey::from_rsa_pem(private.as_bytes()).expect("rsa key");
    encode(&header, claims, &key).expect("signed")
}

fn es256(claims: &Value, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_string);
    let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).expect("ec key");
    encode(&header, claims, &key).expect("signed")
}

fn with_jwks() -> OAuth {
    let mut oauth = OAuth::new(vec![ISSUER.to_string()], 300);
    assert_eq!(oauth.add_jwks(JWKS), Ok(2));
    oauth
}

fn verify(oauth: &OAuth, token: &str) -> Result<TokenClaims, AuthError> {
    oauth.verify(token, "devstoreaccount1", Service::Blob, NOW)
}

fn detail(result: Result<TokenClaims, AuthError>) -> String {
    let err = result.expect_err("refused");
    assert_eq!(err.code, AuthErrorCode::InvalidAuthenticationInfo);
    assert!(
        err.challenge.as_deref().is_some_and(|c| c
            .starts_with("Bearer authorization_uri=https://login.microsoftonline.com/")
            && c.ends_with(" resource_id=https://storage.azure.com")),
        "{err:?}"
    );
    err.detail
}

#[test]
fn rs256_and_es256_tokens_verify_against_the_jwks() {
    let oauth = with_jwks();
    let expected = TokenClaims {
        object_id: "11111111-2222-3333-4444-555555555555".into(),
        tenant_id: "72f988bf-0000-0000-0000-2d7cd011db47".into(),
    };
    assert_eq!(
        verify(&oauth, &rs256(&claims(), Some("rsa-1"), RSA_PRIVATE)),
        Ok(expected.clone())
    );
    assert_eq!(
        verify(&oauth, &es256(&claims(), Some("ec-1"))),
        Ok(expected.clone())
    );
    // No kid: every key of the algorithm is tried.
    assert_eq!(
        verify(&oauth, &rs256(&claims(), None, RSA_PRIVATE)),
        Ok(expected)
    );
}

#[test]
fn pem_public_keys_verify_tokens() {
    let mut oauth = OAuth::new(vec![ISSUER.to_string()], 0);
    oauth.add_pem(RSA_PUBLIC).expect("rsa pem");
    oauth.add_pem(EC_PUBLIC).expect("ec pem");
    assert_eq!(oauth.key_count(), 2);
    assert!(verify(&oauth, &rs256(&claims(), Some("any"), RSA_PRIVATE)).is_ok());
    assert!(verify(&oauth, &es256(&claims(), None)).is_ok());
}

#[test]
fn a_foreign_or_tampered_signature_is_refused() {
    let oauth = with_jwks();
    let foreign = rs256(&claims(), Some("rsa-1"), OTHER_RSA_PRIVATE);
    assert!(detail(verify(&oauth, &foreign)).starts_with("Signature validation failed."));
    // The right key under another kid is not tried: the kid picks the key.
    let wrong_kid = rs256(&claims(), Some("ec-1"), RSA_PRIVATE);
    assert!(detail(verify(&oauth, &wrong_kid)).contains("kid 'ec-1'"));
    // A payload changed after signing.
    let token = rs256(&claims(), Some("rsa-1"), RSA_PRIVATE);
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims();
    forged["oid"] = json!("someone-else");
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        forged.to_string(),
    );
    parts[1] = &payload;
    assert!(detail(verify(&oauth, &parts.join("."))).starts_with("Signature validation failed."));
    // Unsigned ("alg": "none") and HMAC tokens are never accepted.
    let none = format!(
        "{}.{}.",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            r#"{"alg":"none","typ":"JWT"}"#
        ),
        payload
    );
    assert!(verify(&oauth, &none).is_err());
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    assert!(detail(verify(&oauth, &hs)).contains("HS256"));
    assert!(detail(verify(&oauth, "not a token")).contains("well-formed"));
}

#[test]
fn lifetime_is_checked_with_the_clock_skew() {
    let oauth = with_jwks();
    let now = NOW.unix_timestamp();
    let mut expired = claims();
    expired["exp"] = json!(now - 301);
    assert_eq!(
        detail(verify(&oauth, &rs256(&expired, Some("rsa-1"), RSA_PRIVATE))),
        "Lifetime validation failed. The token is expired."
    );
    expired["exp"] = json!(now - 299);
    assert!(verify(&oauth, &rs256(&expired, Some("rsa-1"), RSA_PRIVATE)).is_ok());
    let mut early = claims();
    early["nbf"] = json!(now + 301);
    assert!(
        detail(verify(&oauth, &rs256(&early, Some("rsa-1"), RSA_PRIVATE)))
            .contains("not yet valid")
    );
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(
        detail(verify(&oauth, &rs256(&no_exp, Some("rsa-1"), RSA_PRIVATE)))
            .contains("no expiration")
    );
}

#[test]
fn issuer_must_be_configured() {
    let oauth = with_jwks();
    let mut other = claims();
    other["iss"] = json!("https://sts.windows.net/another-tenant/");
    assert_eq!(
        detail(verify(&oauth, &rs256(&other, Some("rsa-1"), RSA_PRIVATE))),
        "Issuer validation failed. Issuer did not match."
    );
}

#[test]
fn audience_is_storage_or_the_accounts_service_url() {
    let oauth = with_jwks();
    let with_aud = |aud: Value| {
        let mut c = claims();
        c["aud"] = aud;
        rs256(&c, Some("rsa-1"), RSA_PRIVATE)
    };
    for ok in [
        json!("https://storage.azure.com/"),
        json!("https://storage.azure.com"),
        json!("https://devstoreaccount1.blob.core.windows.net"),
        json!("https://devstoreaccount1.blob.core.windows.net/"),
        json!(STORAGE_APP_ID),
        json!(["https://example.com", "https://storage.azure.com"]),
    ] {
        assert!(verify(&oauth, &with_aud(ok.clone())).is_ok(), "{ok}");
    }
    for bad in [
        json!("https://management.azure.com"),
        json!("https://otheraccount.blob.core.windows.net"),
        json!("https://devstoreaccount1.queue.core.windows.net"),
        json!([]),
    ] {
        assert_eq!(
            detail(verify(&oauth, &with_aud(bad.clone()))),
            "Audience validation failed. Audience did not match.",
            "{bad}"
        );
    }
    let token = with_aud(json!("https://devstoreaccount1.queue.core.windows.net"));
    assert!(oauth
        .verify(&token, "devstoreaccount1", Service::Queue, NOW)
        .is_ok());
}

#[test]
fn bad_key_material_is_refused_at_start_up() {
    let mut oauth = OAuth::default();
    assert!(oauth.add_jwks("{}").is_err());
    assert!(oauth.add_jwks(r#"{"keys": []}"#).is_err());
    let symmetric = r#"{"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}"#;
    assert!(oauth.add_jwks(symmetric).unwrap_err().contains("key 's'"));
    assert!(oauth.add_pem(RSA_PRIVATE).is_err());
    assert!(oauth.add_pem("not pem").is_err());
    assert_eq!(oauth.key_count(), 0);
}

#[test]
fn roles_are_per_account_and_object_id() {
    let mut oauth = OAuth::default();
    oauth.assign_roles("acc", "oid-1", vec![DataRole::BlobReader]);
    oauth.assign_roles("acc", "oid-1", vec![DataRole::QueueReader]);
    assert_eq!(
        oauth.roles_of("acc", "oid-1"),
        [DataRole::BlobReader, DataRole::QueueReader]
    );
    assert!(oauth.roles_of("other", "oid-1").is_empty());
    assert!(oauth.roles_of("acc", "oid-2").is_empty());
}
