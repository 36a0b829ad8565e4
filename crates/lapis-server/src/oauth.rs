//! Bearer tokens' configuration, built once at start-up from the account configuration: the
//! keys of `oauth.keys` read from disk, and each account's `roles` parsed into Azure's data
//! roles. Every mistake (an unreadable key, an unknown role name) stops Lapis at start-up.

use std::path::Path;

use lapis_auth::{DataRole, OAuth};

use crate::account_config::AccountConfig;

/// The OAuth configuration of `config`, or `None` when it has no `oauth` section (then no
/// token is accepted). Role names are checked either way.
pub fn oauth_from_config(config: &AccountConfig) -> Result<Option<OAuth>, String> {
    let mut assignments = Vec::new();
    for (account, settings) in &config.accounts {
        for (object_id, names) in &settings.roles {
            let roles = names
                .iter()
                .map(|name| name.parse::<DataRole>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    format!("--accountConfig accounts.{account}.roles.{object_id}: {e}")
                })?;
            assignments.push((account, object_id, roles));
        }
    }
    let Some(settings) = &config.oauth else {
        if !assignments.is_empty() {
            tracing::warn!(
                "--accountConfig assigns roles but has no oauth section: no token is accepted, \
                 so the roles grant nothing"
            );
        }
        return Ok(None);
    };
    let mut oauth = OAuth::new(settings.issuers.clone(), settings.clock_skew_seconds);
    for path in &settings.keys {
        add_key_file(&mut oauth, path)
            .map_err(|e| format!("--accountConfig oauth.keys {}: {e}", path.display()))?;
    }
    for (account, object_id, roles) in assignments {
        oauth.assign_roles(account, object_id, roles);
    }
    Ok(Some(oauth))
}

/// A JWKS document (JSON) or a PEM public key, told apart by their first character.
fn add_key_file(oauth: &mut OAuth, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim_start().starts_with('{') {
        oauth.add_jwks(&text).map(|_| ())
    } else {
        oauth.add_pem(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &str = include_str!("../../lapis-auth/tests/keys/jwks.json");
    const EC_PUBLIC: &str = include_str!("../../lapis-auth/tests/keys/ec-public.pem");

    fn config(text: &str, folder: &Path) -> Result<AccountConfig, String> {
        let path = folder.join("accounts.json");
        std::fs::write(&path, text).unwrap();
        AccountConfig::load(&path)
    }

    #[test]
    fn reads_jwks_and_pem_keys_and_roles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jwks.json"), JWKS).unwrap();
        std::fs::write(dir.path().join("key.pem"), EC_PUBLIC).unwrap();
        let c = config(
            r#"{"accounts": {"a": {"roles": {"oid-1": ["Storage Blob Data Reader", "storage queue data message sender"]}}},
                "oauth": {"keys": ["jwks.json", "key.pem"], "issuers": ["https://sts.windows.net/t/"]}}"#,
            dir.path(),
        )
        .unwrap();
        let oauth = oauth_from_config(&c).unwrap().expect("configured");
        assert_eq!(oauth.key_count(), 3);
        assert_eq!(
            oauth.roles_of("a", "oid-1"),
            [DataRole::BlobReader, DataRole::QueueMessageSender]
        );
    }

    #[test]
    fn unknown_roles_and_bad_keys_stop_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(
            r#"{"accounts": {"a": {"roles": {"oid-1": ["Storage Blob Data Writer"]}}}}"#,
            dir.path(),
        )
        .unwrap();
        let err = oauth_from_config(&c).unwrap_err();
        assert!(
            err.contains("accounts.a.roles.oid-1") && err.contains("Storage Blob Data Writer"),
            "{err}"
        );
        std::fs::write(dir.path().join("bad.pem"), "-----BEGIN CERTIFICATE-----").unwrap();
        let c = config(
            r#"{"oauth": {"keys": ["bad.pem"], "issuers": ["i"]}}"#,
            dir.path(),
        )
        .unwrap();
        assert!(oauth_from_config(&c).unwrap_err().contains("bad.pem"));
        let c = config(
            r#"{"oauth": {"keys": ["missing.json"], "issuers": ["i"]}}"#,
            dir.path(),
        )
        .unwrap();
        assert!(oauth_from_config(&c).unwrap_err().contains("missing.json"));
        assert!(oauth_from_config(&AccountConfig::default())
            .unwrap()
            .is_none());
    }
}
