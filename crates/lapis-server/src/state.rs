//! State shared by every request: the engine, the accounts, and a cache of parsed service
//! properties (consulted for CORS on every request that carries an Origin, and every GET or HEAD).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use lapis_auth::Accounts;
use lapis_store::Store;
use lapis_wire::xml::ServiceProperties;

use crate::account_config::AccountConfig;
use crate::error::ApiResult;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub accounts: Arc<Accounts>,
    pub metrics: Metrics,
    /// Per-account switches of `--accountConfig` (versioning, container soft delete, roles)
    /// and the OAuth keys; empty without the flag.
    pub account_config: Arc<AccountConfig>,
    service_properties: Arc<RwLock<HashMap<String, Arc<ServiceProperties>>>>,
    /// Whether a copy may read its source from another host over HTTP
    /// (`--allowRemoteCopySources`; off by default).
    pub(crate) remote_copy: bool,
    /// How long fetching a remote copy source may take, connection to last byte.
    pub(crate) remote_copy_timeout: Duration,
}

/// A remote copy source must answer in full within this time (Azure gives its own copies no
/// documented bound; 30 s keeps a synchronous copy within the SDKs' default request timeouts).
pub const REMOTE_COPY_TIMEOUT: Duration = Duration::from_secs(30);

impl AppState {
    pub fn new(store: Store, accounts: Accounts) -> AppState {
        AppState {
            store,
            accounts: Arc::new(accounts),
            metrics: Metrics::new(),
            account_config: Arc::default(),
            service_properties: Arc::default(),
            remote_copy: false,
            remote_copy_timeout: REMOTE_COPY_TIMEOUT,
        }
    }

    /// Lets copies read sources on other hosts over HTTP (docs/api-coverage.md, "Copy
    /// sources"); off by default.
    pub fn with_remote_copy_sources(mut self, on: bool) -> Self {
        self.remote_copy = on;
        self
    }

    /// The switches and keys of `--accountConfig`.
    pub fn with_account_config(mut self, config: AccountConfig) -> Self {
        self.account_config = Arc::new(config);
        self
    }

    /// How long a remote copy source may take to answer in full (default 30 s); tests shorten it.
    pub fn with_remote_copy_timeout(mut self, timeout: Duration) -> Self {
        self.remote_copy_timeout = timeout;
        self
    }

    /// A service's properties, stored ones merged over the defaults of a new account. `key` is
    /// the account name for the Blob service, `table:account` or `queue:account` for the others,
    /// which have no soft delete or static website sections.
    pub async fn service_properties(&self, key: &str) -> ApiResult<Arc<ServiceProperties>> {
        let account = key;
        if let Some(p) = self
            .service_properties
            .read()
            .ok()
            .and_then(|m| m.get(account).cloned())
        {
            return Ok(p);
        }
        let store = self.store.clone();
        let name = account.to_string();
        let stored =
            tokio::task::spawn_blocking(move || store.get_service_properties(&name)).await??;
        let mut props = ServiceProperties::default_for_new_account();
        if account.contains(':') {
            props.delete_retention_policy = None;
            props.static_website = None;
        }
        if let Some(xml) = stored {
            // What was stored was validated when it was set; a document that no longer parses
            // (written by an older version) falls back to the defaults rather than failing reads.
            if let Ok(saved) = ServiceProperties::parse(xml.as_bytes()) {
                props.merge_from(saved);
            }
        }
        let props = Arc::new(props);
        if let Ok(mut m) = self.service_properties.write() {
            m.insert(account.to_string(), props.clone());
        }
        Ok(props)
    }

    pub fn forget_service_properties(&self, account: &str) {
        if let Ok(mut m) = self.service_properties.write() {
            m.remove(account);
        }
    }
}
