//! Storage accounts and their keys (the emulator's well-known account, or `AZURITE_ACCOUNTS`).

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub const DEV_ACCOUNT: &str = "devstoreaccount1";
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// One account with one or two decoded keys.
pub struct Account {
    pub name: String,
    pub keys: Vec<Vec<u8>>,
}

// Keys must never reach a log line, so Debug shows only how many there are.
impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// The accounts the emulator serves; cheap to clone.
#[derive(Clone, Debug)]
pub struct Accounts {
    accounts: Arc<Vec<Account>>,
}

impl Accounts {
    /// `devstoreaccount1` with the well-known key.
    pub fn dev() -> Accounts {
        let key = STANDARD.decode(DEV_KEY).unwrap_or_default();
        Accounts {
            accounts: Arc::new(vec![Account {
                name: DEV_ACCOUNT.to_string(),
                keys: vec![key],
            }]),
        }
    }

    /// Parses `AZURITE_ACCOUNTS`: `name1:key1[:key2];name2:key1`, keys in base64. Like Azurite, the accounts
    /// given replace the default one.
    pub fn parse(env_value: &str) -> Result<Accounts, String> {
        let mut accounts: Vec<Account> = Vec::new();
        for entry in env_value
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let mut parts = entry.split(':').map(str::trim);
            let name = parts.next().unwrap_or_default();
            if name.is_empty() {
                return Err("an account entry has no name".to_string());
            }
            if accounts.iter().any(|a| a.name == name) {
                return Err(format!("account '{name}' is listed twice"));
            }
            let mut keys = Vec::new();
            for (i, key) in parts.enumerate() {
                // The message names the account and key position, never the key text.
                let decoded = STANDARD.decode(key).map_err(|_| {
                    format!("key {} of account '{name}' is not valid base64", i + 1)
                })?;
                if decoded.is_empty() {
                    return Err(format!("key {} of account '{name}' is empty", i + 1));
                }
                keys.push(decoded);
            }
            if keys.is_empty() || keys.len() > 2 {
                return Err(format!(
                    "account '{name}' needs one or two keys, got {}",
                    keys.len()
                ));
            }
            accounts.push(Account {
                name: name.to_string(),
                keys,
            });
        }
        if accounts.is_empty() {
            return Err("no account given".to_string());
        }
        Ok(Accounts {
            accounts: Arc::new(accounts),
        })
    }

    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(|a| a.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_account_has_the_well_known_key() {
        let accounts = Accounts::dev();
        let dev = accounts.get(DEV_ACCOUNT).expect("dev account");
        assert_eq!(dev.keys.len(), 1);
        assert_eq!(dev.keys[0].len(), 64);
        assert_eq!(STANDARD.encode(&dev.keys[0]), DEV_KEY);
        assert!(accounts.get("other").is_none());
    }

    #[test]
    fn parses_several_accounts_with_one_or_two_keys() {
        let accounts =
            Accounts::parse(" acc1:a2V5MQ==:a2V5Mg== ; acc2 : a2V5Mw== ;").expect("valid");
        assert_eq!(accounts.names().collect::<Vec<_>>(), ["acc1", "acc2"]);
        assert_eq!(
            accounts.get("acc1").map(|a| a.keys.clone()),
            Some(vec![b"key1".to_vec(), b"key2".to_vec()])
        );
        assert_eq!(
            accounts.get("acc2").map(|a| a.keys.clone()),
            Some(vec![b"key3".to_vec()])
        );
        assert!(accounts.get(DEV_ACCOUNT).is_none());
    }

    #[test]
    fn rejects_bad_values_without_echoing_keys() {
        for bad in [
            "",
            ";",
            "acc1",
            "acc1:",
            ":a2V5MQ==",
            "acc1:not base64!",
            "a:a2V5MQ==;a:a2V5Mg==",
            "a:a2V5MQ==:a2V5MQ==:a2V5MQ==",
        ] {
            let err = Accounts::parse(bad).expect_err(bad);
            assert!(!err.contains("a2V5"), "{err}");
        }
    }

    #[test]
    fn debug_hides_keys() {
        let shown = format!("{:?}", Accounts::dev());
        assert!(shown.contains(DEV_ACCOUNT));
        assert!(!shown.contains("Eby8"));
        assert!(shown.contains("keys: 1"), "{shown}");
    }
}
