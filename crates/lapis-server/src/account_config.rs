//! The account configuration (`--accountConfig FILE`): per-account switches that Azure keeps
//! in its management plane, out of reach of the data-plane API an emulator serves — blob
//! versioning, container soft delete, the roles of Microsoft Entra identities — and the keys
//! and issuers that bearer tokens are verified against. A JSON file:
//!
//! ```json
//! {"accounts": {"devstoreaccount1": {"blobVersioning": true, "containerSoftDeleteDays": 7,
//!                                    "roles": {"<object id>": ["Storage Blob Data Reader"]}}},
//!  "oauth": {"keys": ["jwks.json"], "issuers": ["https://sts.windows.net/<tenant id>/"],
//!            "clockSkewSeconds": 300}}
//! ```
//!
//! Unknown fields are refused, so that a misspelt switch is a start-up error rather than a
//! setting silently left off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::Deserialize;

/// Azure's limits for the days a deleted container is kept.
const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=365;

/// Skew allowed between a token's `nbf`/`exp` and the clock when the file gives none: Azure's
/// own is five minutes.
const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 300;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccountConfig {
    /// By account name; an account not named here has every switch off.
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountSettings>,
    /// Where bearer tokens are verified; absent, no token is accepted.
    #[serde(default)]
    pub oauth: Option<OAuthConfig>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccountSettings {
    /// Every write that replaces a blob keeps the previous one as a version.
    #[serde(default)]
    pub blob_versioning: bool,
    /// Delete Container keeps the container this many days, for Restore Container.
    #[serde(default)]
    pub container_soft_delete_days: Option<u32>,
    /// Object id (the token's `oid`) → the names of the data roles assigned to it.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OAuthConfig {
    /// JWKS files or PEM public keys; relative paths are read from the configuration's folder.
    pub keys: Vec<PathBuf>,
    /// The `iss` values accepted.
    pub issuers: Vec<String>,
    #[serde(default = "default_clock_skew")]
    pub clock_skew_seconds: u64,
}

fn default_clock_skew() -> u64 {
    DEFAULT_CLOCK_SKEW_SECONDS
}

static NO_SETTINGS: LazyLock<AccountSettings> = LazyLock::new(AccountSettings::default);

impl AccountConfig {
    /// Reads and checks the file; every error names the file and what is wrong.
    pub fn load(path: &Path) -> Result<AccountConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--accountConfig {}: {e}", path.display()))?;
        let mut config = AccountConfig::parse(&text)
            .map_err(|e| format!("--accountConfig {}: {e}", path.display()))?;
        if let Some(oauth) = &mut config.oauth {
            let folder = path.parent().unwrap_or(Path::new("."));
            for key in &mut oauth.keys {
                if key.is_relative() {
                    *key = folder.join(&*key);
                }
            }
        }
        Ok(config)
    }

    /// Parses and checks the JSON text (paths left as written).
    pub fn parse(text: &str) -> Result<AccountConfig, String> {
        let config: AccountConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (name, settings) in &config.accounts {
            if let Some(days) = settings.container_soft_delete_days {
                if !RETENTION_DAYS.contains(&days) {
                    return Err(format!(
                        "accounts.{name}.containerSoftDeleteDays is {days}; Azure keeps deleted \
                         containers for 1 to 365 days"
                    ));
                }
            }
        }
        if let Some(oauth) = &config.oauth {
            if oauth.keys.is_empty() {
                return Err("oauth.keys is empty: tokens need at least one key to verify".into());
            }
            if oauth.issuers.is_empty() {
                return Err("oauth.issuers is empty: no token could be accepted".into());
            }
        }
        Ok(config)
    }

    /// The settings of `account`, all off when the file does not name it.
    pub fn settings(&self, account: &str) -> &AccountSettings {
        self.accounts.get(account).unwrap_or(&NO_SETTINGS)
    }

    /// Account names the file configures that are not served (a likely typo).
    pub fn unknown_accounts<'a>(
        &'a self,
        served: &'a lapis_auth::Accounts,
    ) -> impl Iterator<Item = &'a str> {
        self.accounts
            .keys()
            .map(String::as_str)
            .filter(|name| served.get(name).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field_and_defaults_what_is_absent() {
        let c = AccountConfig::parse(
            r#"{"accounts": {"a": {"blobVersioning": true, "containerSoftDeleteDays": 7,
                                   "roles": {"oid-1": ["Storage Blob Data Reader"]}}},
                "oauth": {"keys": ["k.json"], "issuers": ["https://sts.windows.net/t/"]}}"#,
        )
        .unwrap();
        let a = c.settings("a");
        assert!(a.blob_versioning);
        assert_eq!(a.container_soft_delete_days, Some(7));
        assert_eq!(a.roles["oid-1"], vec!["Storage Blob Data Reader"]);
        let oauth = c.oauth.unwrap();
        assert_eq!(oauth.clock_skew_seconds, DEFAULT_CLOCK_SKEW_SECONDS);
        assert_eq!(oauth.keys, vec![PathBuf::from("k.json")]);
    }

    #[test]
    fn an_account_not_named_has_every_switch_off() {
        let c = AccountConfig::parse("{}").unwrap();
        let s = c.settings("devstoreaccount1");
        assert!(!s.blob_versioning);
        assert_eq!(s.container_soft_delete_days, None);
        assert!(s.roles.is_empty());
        assert!(c.oauth.is_none());
    }

    #[test]
    fn a_misspelt_switch_is_an_error_not_a_switch_left_off() {
        let e = AccountConfig::parse(r#"{"accounts": {"a": {"blobVersion": true}}}"#).unwrap_err();
        assert!(e.contains("blobVersion"), "{e}");
    }

    #[test]
    fn retention_outside_azures_limits_is_refused() {
        for days in [0, 366] {
            let text = format!(r#"{{"accounts": {{"a": {{"containerSoftDeleteDays": {days}}}}}}}"#);
            assert!(AccountConfig::parse(&text).is_err(), "{days}");
        }
    }

    #[test]
    fn oauth_without_keys_or_issuers_is_refused() {
        assert!(AccountConfig::parse(r#"{"oauth": {"keys": [], "issuers": ["i"]}}"#).is_err());
        assert!(AccountConfig::parse(r#"{"oauth": {"keys": ["k"], "issuers": []}}"#).is_err());
    }

    #[test]
    fn relative_key_paths_are_read_from_the_files_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.json");
        std::fs::write(
            &path,
            r#"{"oauth": {"keys": ["jwks.json", "/abs/key.pem"], "issuers": ["i"]}}"#,
        )
        .unwrap();
        let keys = AccountConfig::load(&path).unwrap().oauth.unwrap().keys;
        assert_eq!(
            keys,
            vec![dir.path().join("jwks.json"), PathBuf::from("/abs/key.pem")]
        );
    }

    #[test]
    fn a_missing_file_names_itself() {
        let e = AccountConfig::load(Path::new("/nonexistent/accounts.json")).unwrap_err();
        assert!(e.contains("/nonexistent/accounts.json"), "{e}");
    }
}
