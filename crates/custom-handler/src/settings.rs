//! The environment both apps read. The Functions host sets `FUNCTIONS_CUSTOMHANDLER_PORT` for
//! the handler it starts; Dapr's sidecar is on `DAPR_HTTP_PORT` (daprd sets it for the app it
//! launches, and 3500 is its default).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Why the environment cannot be used, naming the variable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{name}: {reason}")]
pub struct SettingsError {
    pub name: &'static str,
    pub reason: String,
}

/// Where the sidecar is.
#[derive(Debug, Clone, PartialEq)]
pub struct DaprSettings {
    pub host: String,
    pub http_port: u16,
    /// Sent as `dapr-api-token` when the sidecar requires one (`DAPR_API_TOKEN`).
    pub api_token: Option<String>,
}

impl DaprSettings {
    pub fn base_url(&self) -> String {
        format!("http://{}:{}", self.host, self.http_port)
    }
}

/// What every handler needs.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerSettings {
    pub listen: SocketAddr,
    pub dapr: DaprSettings,
    pub state_store: String,
}

pub const DEFAULT_STATE_STORE: &str = "orders-state";

impl HandlerSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let port: u16 = parse_required(&get, "FUNCTIONS_CUSTOMHANDLER_PORT")?;
        // Loopback by default: the Functions host runs in the same container or pod.
        let host: IpAddr = parse_or(
            &get,
            "FUNCTIONS_CUSTOMHANDLER_HOST",
            IpAddr::from([127, 0, 0, 1]),
        )?;
        let dapr = DaprSettings {
            host: non_empty(&get, "DAPR_HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            http_port: parse_or(&get, "DAPR_HTTP_PORT", 3500)?,
            api_token: non_empty(&get, "DAPR_API_TOKEN"),
        };
        let state_store =
            non_empty(&get, "ORDER_STATE_STORE").unwrap_or_else(|| DEFAULT_STATE_STORE.to_owned());
        Ok(HandlerSettings {
            listen: SocketAddr::new(host, port),
            dapr,
            state_store,
        })
    }
}

/// A value that may be absent (default) but, when present, must parse.
pub fn parse_or<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, SettingsError> {
    match non_empty(get, name) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| SettingsError {
            name,
            reason: format!("{text:?} is not a valid value"),
        }),
    }
}

/// A duration in milliseconds, at least 1.
pub fn millis_or(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default_ms: u64,
) -> Result<Duration, SettingsError> {
    match parse_or(get, name, default_ms)? {
        0 => Err(SettingsError {
            name,
            reason: "must be at least 1 (milliseconds)".to_owned(),
        }),
        ms => Ok(Duration::from_millis(ms)),
    }
}

fn parse_required<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<T, SettingsError> {
    let text = non_empty(get, name).ok_or_else(|| SettingsError {
        name,
        reason: "is not set (the Functions host sets it; set it yourself to run the handler alone)"
            .to_owned(),
    })?;
    text.trim().parse().map_err(|_| SettingsError {
        name,
        reason: format!("{text:?} is not a valid value"),
    })
}

/// A variable's value, unset and empty alike read as absent.
pub fn non_empty(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name).filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_only_the_port_is_set() {
        let s = HandlerSettings::from_lookup(lookup(&[("FUNCTIONS_CUSTOMHANDLER_PORT", "7001")]))
            .unwrap();
        assert_eq!(s.listen, "127.0.0.1:7001".parse().unwrap());
        assert_eq!(s.dapr.base_url(), "http://127.0.0.1:3500");
        assert_eq!(s.dapr.api_token, None);
        assert_eq!(s.state_store, "orders-state");
    }

    #[test]
    fn every_setting_is_read() {
        let s = HandlerSettings::from_lookup(lookup(&[
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "7002"),
            ("FUNCTIONS_CUSTOMHANDLER_HOST", "0.0.0.0"),
            ("DAPR_HOST", "localhost"),
            ("DAPR_HTTP_PORT", "3600"),
            ("DAPR_API_TOKEN", "t0ken"),
            ("ORDER_STATE_STORE", "other-store"),
        ]))
        .unwrap();
        assert_eq!(s.listen, "0.0.0.0:7002".parse().unwrap());
        assert_eq!(s.dapr.base_url(), "http://localhost:3600");
        assert_eq!(s.dapr.api_token.as_deref(), Some("t0ken"));
        assert_eq!(s.state_store, "other-store");
    }

    #[test]
    fn a_missing_or_bad_value_names_the_variable() {
        let err = HandlerSettings::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(err.name, "FUNCTIONS_CUSTOMHANDLER_PORT");
        let err = HandlerSettings::from_lookup(lookup(&[
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "7001"),
            ("DAPR_HTTP_PORT", "lots"),
        ]))
        .unwrap_err();
        assert_eq!(err.name, "DAPR_HTTP_PORT");
        let err = millis_or(&lookup(&[("T", "0")]), "T", 5).unwrap_err();
        assert_eq!(err.name, "T");
        assert_eq!(
            millis_or(&lookup(&[]), "T", 5).unwrap(),
            Duration::from_millis(5)
        );
    }
}
