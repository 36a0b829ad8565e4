//! OAuth bearer tokens (`Authorization: Bearer <JWT>`): the signature against configured public
//! keys, then lifetime, issuer and audience, as Azure checks a Microsoft Entra token. Azurite
//! decodes tokens without checking their signature; Lapis checks it, so a test that a forged or
//! foreign token is refused means something.
//!
//! Failures are 401 `InvalidAuthenticationInfo` with a `WWW-Authenticate: Bearer ...` challenge,
//! as Azure answers them.

mod keys;

use std::collections::BTreeMap;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::{AuthError, AuthErrorCode};
use crate::request::Service;
use crate::roles::DataRole;
use keys::VerifyingKey;

/// Azure Storage's application id: a token may name it as its audience instead of a URL.
const STORAGE_APP_ID: &str = "e406a681-f3d4-42a8-90b6-c2b029497af1";

/// What a verified token says of its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// `oid`: the object id roles are assigned to (empty when the token has none).
    pub object_id: String,
    /// `tid`
    pub tenant_id: String,
}

/// Everything bearer tokens need: the keys and issuers to trust, and each account's role
/// assignments (object id → data roles). Built once at start-up.
#[derive(Default)]
pub struct OAuth {
    keys: Vec<VerifyingKey>,
    issuers: Vec<String>,
    clock_skew_seconds: u64,
    roles: BTreeMap<(String, String), Vec<DataRole>>,
}

// Keys are public, but their number is all a log needs.
impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("keys", &self.keys.len())
            .field("issuers", &self.issuers)
            .field("clock_skew_seconds", &self.clock_skew_seconds)
            .field("role_assignments", &self.roles.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    aud: Audience,
    #[serde(default)]
    iss: String,
    exp: Option<i64>,
    nbf: Option<i64>,
    #[serde(default)]
    oid: String,
    #[serde(default)]
    tid: String,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OAuth {
    pub fn new(issuers: Vec<String>, clock_skew_seconds: u64) -> OAuth {
        OAuth {
            issuers,
            clock_skew_seconds,
            ..OAuth::default()
        }
    }

    /// Adds the keys of a JWKS document; returns how many.
    pub fn add_jwks(&mut self, json: &str) -> Result<usize, String> {
        let keys = keys::from_jwks(json)?;
        let count = keys.len();
        self.keys.extend(keys);
        Ok(count)
    }

    /// Adds a PEM public key.
    pub fn add_pem(&mut self, pem: &str) -> Result<(), String> {
        self.keys.push(keys::from_pem(pem)?);
        Ok(())
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Assigns data roles to an object id in an account.
    pub fn assign_roles(&mut self, account: &str, object_id: &str, roles: Vec<DataRole>) {
        self.roles
            .entry((account.to_string(), object_id.to_string()))
            .or_default()
            .extend(roles);
    }

    /// The data roles of an object id in an account (none when unassigned).
    pub fn roles_of(&self, account: &str, object_id: &str) -> &[DataRole] {
        self.roles
            .get(&(account.to_string(), object_id.to_string()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Verifies a token presented to `account`'s `service` at `now`.
    pub fn verify(
        &self,
        token: &str,
        account: &str,
        service: Service,
        now: OffsetDateTime,
    ) -> Result<TokenClaims, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid_token("", "The access token is not a well-formed JWT."))?;
        let claims = self.verified_claims(token, header.alg, header.kid.as_deref())?;
        let tenant = claims.tid.as_str();
        let now = now.unix_timestamp();
        let skew = i64::try_from(self.clock_skew_seconds).unwrap_or(i64::MAX);
        match claims.exp {
            None => {
                return Err(invalid_token(
                    tenant,
                    "Lifetime validation failed. The token has no expiration time.",
                ))
            }
            Some(exp) if now > exp.saturating_add(skew) => {
                return Err(invalid_token(
                    tenant,
                    "Lifetime validation failed. The token is expired.",
                ))
            }
            Some(_) => {}
        }
        if claims.nbf.is_some_and(|nbf| now < nbf.saturating_sub(skew)) {
            return Err(invalid_token(
                tenant,
                "Lifetime validation failed. The token is not yet valid.",
            ));
        }
        if !self.issuers.contains(&claims.iss) {
            return Err(invalid_token(
                tenant,
                "Issuer validation failed. Issuer did not match.",
            ));
        }
        let audiences = match &claims.aud {
            Audience::None => Vec::new(),
            Audience::One(a) => vec![a.as_str()],
            Audience::Many(all) => all.iter().map(String::as_str).collect(),
        };
        if !audiences
            .iter()
            .any(|a| is_storage_audience(a, account, service))
        {
            return Err(invalid_token(
                tenant,
                "Audience validation failed. Audience did not match.",
            ));
        }
        Ok(TokenClaims {
            object_id: claims.oid,
            tenant_id: claims.tid,
        })
    }

    /// The claims of a token whose signature verifies against a configured key of its algorithm
    /// (and of its `kid`, when both name one).
    fn verified_claims(
        &self,
        token: &str,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Claims, AuthError> {
        if !matches!(alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid_token(
                "",
                format!("Signature validation failed. The algorithm {alg:?} is not supported."),
            ));
        }
        // Lifetime, issuer and audience are checked afterwards, against the request's time
        // and with Azure's messages: the library checks the signature only.
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let candidates = self.keys.iter().filter(|k| {
            k.algorithm == alg
                && match (kid, k.kid.as_deref()) {
                    (Some(wanted), Some(has)) => wanted == has,
                    _ => true,
                }
        });
        for key in candidates {
            if let Ok(data) = jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                return Ok(data.claims);
            }
        }
        Err(invalid_token(
            "",
            match kid {
                Some(kid) => format!("Signature validation failed. No configured key with kid '{kid}' verifies the token."),
                None => "Signature validation failed. No configured key verifies the token.".to_string(),
            },
        ))
    }
}

/// Azure Storage's audiences: the storage resource (`https://storage.azure.com`, with or
/// without the trailing slash, or its application id), or the account's own service URL
/// (`https://<account>.blob.core.windows.net`).
fn is_storage_audience(aud: &str, account: &str, service: Service) -> bool {
    let aud = aud.strip_suffix('/').unwrap_or(aud);
    if aud == "https://storage.azure.com" || aud == STORAGE_APP_ID {
        return true;
    }
    let service = match service {
        Service::Blob => "blob",
        Service::Table => "table",
        Service::Queue => "queue",
        Service::File => "file",
    };
    aud == format!("https://{account}.{service}.core.windows.net")
}

/// Azure's 401 for a token it does not accept, with the challenge that says where to get one.
pub(crate) fn invalid_token(tenant: &str, detail: impl Into<String>) -> AuthError {
    let tenant = if tenant.is_empty() { "common" } else { tenant };
    AuthError::new(AuthErrorCode::InvalidAuthenticationInfo, detail).with_challenge(format!(
        "Bearer authorization_uri=https://login.microsoftonline.com/{tenant}/oauth2/authorize resource_id=https://storage.azure.com"
    ))
}

#[cfg(test)]
mod tests;
