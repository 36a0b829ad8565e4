//! Storage accounts and their keys (the emulator's well-known account, or `AZURITE_ACCOUNTS`).

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::bearer::OAuth;

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
    /// Keys that were not standard base64 and were read as Azurite reads them.
    lenient: Arc<Vec<String>>,
    /// Bearer tokens' keys, issuers and role assignments; `None`: no token is accepted.
    oauth: Option<Arc<OAuth>>,
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
            lenient: Arc::default(),
            oauth: None,
        }
    }

    /// Parses `AZURITE_ACCOUNTS`: `name1:key1[:key2];name2:key1`, keys in base64. Like Azurite, the accounts
    /// given replace the default one. A key that is not standard base64 (configurations written for
    /// Azurite hold keys like `testing_key`) is read as Azurite and the JavaScript SDK read it, and
    /// named in [`Accounts::lenient_keys`] for a warning.
    pub fn parse(env_value: &str) -> Result<Accounts, String> {
        let mut accounts: Vec<Account> = Vec::new();
        let mut lenient = Vec::new();
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
                // Messages name the account and key position, never the key text.
                let decoded = match STANDARD.decode(key) {
                    Ok(decoded) => decoded,
                    Err(_) => {
                        lenient.push(format!("key {} of account '{name}'", i + 1));
                        decode_like_node(key)
                    }
                };
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
            lenient: Arc::new(lenient),
            oauth: None,
        })
    }

    /// The keys (by position and account, never their text) that were not standard base64.
    pub fn lenient_keys(&self) -> &[String] {
        &self.lenient
    }

    /// Accepts bearer tokens as `oauth` says.
    pub fn with_oauth(mut self, oauth: OAuth) -> Accounts {
        self.oauth = Some(Arc::new(oauth));
        self
    }

    pub fn oauth(&self) -> Option<&OAuth> {
        self.oauth.as_deref()
    }

    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(|a| a.name.as_str())
    }
}

/// Base64 as Node's `Buffer.from(text, "base64")` reads it, which is how Azurite and the
/// JavaScript SDK turn a key into bytes: both alphabets (`-` and `_` for `+` and `/`), characters
/// outside them skipped, reading stopped at `=`, and the bits of an incomplete byte dropped.
fn decode_like_node(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
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
            "acc1:!!!",
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

    #[test]
    fn keys_written_for_azurite_are_read_as_azurite_reads_them() {
        let accounts = Accounts::parse("acc1:testing_key;acc2:a2V5MQ").expect("accepted");
        // Node: Buffer.from("testing_key", "base64") is b5 eb 2d 8a 78 3f 91 ec.
        assert_eq!(
            accounts.get("acc1").map(|a| a.keys[0].clone()),
            Some(vec![0xb5, 0xeb, 0x2d, 0x8a, 0x78, 0x3f, 0x91, 0xec])
        );
        // Unpadded standard base64 reads as it would padded.
        assert_eq!(
            accounts.get("acc2").map(|a| a.keys[0].clone()),
            Some(b"key1".to_vec())
        );
        assert_eq!(
            accounts.lenient_keys(),
            ["key 1 of account 'acc1'", "key 1 of account 'acc2'"]
        );
        assert!(Accounts::parse("a:a2V5MQ==")
            .unwrap()
            .lenient_keys()
            .is_empty());
        assert_eq!(decode_like_node("a2V5MQ==a2V5"), b"key1");
        assert_eq!(decode_like_node("a2 V5\nMQ"), b"key1");
    }
}
