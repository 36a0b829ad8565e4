//! A small client of the Dapr sidecar's HTTP API: state (get, save, delete) and output bindings.
//!
//! What the sidecar answers (dapr/dapr `pkg/api/http/http.go`, checked at d8450742; the state
//! API reference at docs.dapr.io/reference/api/state_api agrees):
//! - `GET /v1.0/state/<store>/<key>`: 200 with the value and an `ETag` header; 204 with no body
//!   when the key does not exist.
//! - `POST /v1.0/state/<store>` (a JSON array of `{key, value, etag?, options?}`): 204 when
//!   saved; 409 (`ERR_STATE_SAVE`) when the store reports an ETag mismatch, which is also what a
//!   `first-write` save of an existing key gets (components-contrib
//!   `state/azure/tablestorage`: "update with Concurrency.FirstWrite without ETag" is an
//!   `ETagMismatch`); 400 for an invalid ETag or an unknown store; 500 when the store fails.
//! - `DELETE /v1.0/state/<store>/<key>` with `If-Match`: 204, or 409 (`ERR_STATE_DELETE`) on a
//!   mismatch.
//! - `POST /v1.0/bindings/<name>` (`{data, metadata?, operation}`): 200 with the binding's data
//!   or 204; 500 (`ERR_INVOKE_OUTPUT_BINDING`) when the binding fails.
//!
//! Errors carry `{"errorCode", "message"}`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::settings::DaprSettings;

/// Why a call to the sidecar did not succeed. `Unavailable` is for everything a retry may cure
/// (the sidecar unreachable or slow, the store or binding behind it failing); the apps answer it
/// with 503.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum DaprError {
    #[error("{reason}")]
    Unavailable { reason: String },
    /// An ETag mismatch, or a `first-write` save of a key that already exists.
    #[error("conflict: {message}")]
    Conflict { message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    #[error("Dapr answered HTTP {status}: {message}")]
    Other { status: u16, message: String },
}

/// A stored value and its ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct StateEntry {
    pub value: Value,
    pub etag: Option<String>,
}

/// How a save treats an existing value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// Overwrite whatever is there (or, with an ETag, only that version).
    LastWrite,
    /// Never overwrite: without an ETag the save fails if the key exists.
    FirstWrite,
}

/// The result of [`DaprClient::update_state`].
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The change was saved; the value as written.
    Saved(Value),
    /// The change function left the value as it was; nothing was written.
    Unchanged(Value),
}

#[derive(Clone)]
pub struct DaprClient {
    http: reqwest::Client,
    base_url: String,
    api_token: Option<String>,
    timeout: Duration,
}

impl DaprClient {
    /// Every call gives up after `timeout` (connect included) and reports `Unavailable`.
    pub fn new(settings: &DaprSettings, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .no_proxy() // the sidecar is local; a proxy in the environment must not see it
            .connect_timeout(timeout)
            .build()
            .expect("an HTTP client without TLS always builds");
        DaprClient {
            http,
            base_url: settings.base_url(),
            api_token: settings.api_token.clone(),
            timeout,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The same client with another per-call timeout (e.g. what is left of a request's budget).
    pub fn with_timeout(&self, timeout: Duration) -> DaprClient {
        DaprClient {
            timeout,
            ..self.clone()
        }
    }

    /// The value under `key`, or `None` when there is none.
    pub async fn get_state(&self, store: &str, key: &str) -> Result<Option<StateEntry>, DaprError> {
        let url = format!(
            "{}/v1.0/state/{}/{}",
            self.base_url,
            encode(store),
            encode(key)
        );
        let what = format!("reading {key} from state store {store}");
        let resp = self.send(self.http.get(url), &what).await?;
        let status = resp.status().as_u16();
        let etag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = self.body(resp, &what).await?;
        match status {
            204 => Ok(None),
            200 if body.is_empty() => Ok(None),
            200 => {
                let value = serde_json::from_slice(&body).map_err(|e| DaprError::Other {
                    status,
                    message: format!("{what}: the stored value is not JSON ({e})"),
                })?;
                Ok(Some(StateEntry { value, etag }))
            }
            _ => Err(classify(status, &body, &what)),
        }
    }

    /// Saves `value` under `key`: with `etag`, only over that version; with `FirstWrite` and no
    /// ETag, only if the key does not exist yet.
    pub async fn save_state(
        &self,
        store: &str,
        key: &str,
        value: &Value,
        etag: Option<&str>,
        concurrency: Concurrency,
    ) -> Result<(), DaprError> {
        let mut item = json!({ "key": key, "value": value });
        if let Some(etag) = etag {
            item["etag"] = Value::String(etag.to_owned());
        }
        if concurrency == Concurrency::FirstWrite {
            item["options"] = json!({ "concurrency": "first-write" });
        }
        let url = format!("{}/v1.0/state/{}", self.base_url, encode(store));
        let what = format!("saving {key} to state store {store}");
        let request = self
            .http
            .post(url)
            .header("content-type", "application/json");
        let resp = self
            .send(request.body(Value::Array(vec![item]).to_string()), &what)
            .await?;
        self.expect_success(resp, &what).await
    }

    /// Deletes `key`, only that version when `etag` is given.
    pub async fn delete_state(
        &self,
        store: &str,
        key: &str,
        etag: Option<&str>,
    ) -> Result<(), DaprError> {
        let url = format!(
            "{}/v1.0/state/{}/{}",
            self.base_url,
            encode(store),
            encode(key)
        );
        let mut request = self.http.delete(url);
        if let Some(etag) = etag {
            request = request.header("if-match", etag);
        }
        let what = format!("deleting {key} from state store {store}");
        let resp = self.send(request, &what).await?;
        self.expect_success(resp, &what).await
    }

    /// Invokes output binding `name` with `operation` (e.g. `create`) and `data`.
    pub async fn invoke_binding(
        &self,
        name: &str,
        operation: &str,
        data: &Value,
    ) -> Result<(), DaprError> {
        let url = format!("{}/v1.0/bindings/{}", self.base_url, encode(name));
        let body = json!({ "data": data, "operation": operation }).to_string();
        let what = format!("invoking output binding {name} ({operation})");
        let request = self
            .http
            .post(url)
            .header("content-type", "application/json");
        let resp = self.send(request.body(body), &what).await?;
        self.expect_success(resp, &what).await
    }

    /// Read-modify-write of `key` guarded by its ETag: reads the value, lets `change` edit it
    /// (returning whether it did), saves it with the ETag read, and on a conflict starts over,
    /// at most `attempts` times. `NotFound` when the key does not exist.
    ///
    /// A writer only loses a round when another writer's save succeeded, so with n concurrent
    /// writers of one key, n attempts are always enough.
    pub async fn update_state(
        &self,
        store: &str,
        key: &str,
        attempts: u32,
        mut change: impl FnMut(&mut Value) -> bool,
    ) -> Result<Update, DaprError> {
        let mut last_conflict = String::new();
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let Some(StateEntry { mut value, etag }) = self.get_state(store, key).await? else {
                return Err(DaprError::NotFound {
                    message: format!("{key} is not in state store {store}"),
                });
            };
            if !change(&mut value) {
                return Ok(Update::Unchanged(value));
            }
            let concurrency = if etag.is_some() {
                Concurrency::FirstWrite
            } else {
                Concurrency::LastWrite
            };
            match self
                .save_state(store, key, &value, etag.as_deref(), concurrency)
                .await
            {
                Ok(()) => return Ok(Update::Saved(value)),
                Err(DaprError::Conflict { message }) => last_conflict = message,
                Err(other) => return Err(other),
            }
        }
        Err(DaprError::Conflict {
            message: format!(
                "{key}: still conflicting after {attempts} attempts ({last_conflict})"
            ),
        })
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<reqwest::Response, DaprError> {
        let mut request = request.timeout(self.timeout);
        if let Some(token) = &self.api_token {
            request = request.header("dapr-api-token", token);
        }
        request
            .send()
            .await
            .map_err(|e| self.transport_error(e, what))
    }

    async fn body(&self, resp: reqwest::Response, what: &str) -> Result<Vec<u8>, DaprError> {
        resp.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| self.transport_error(e, what))
    }

    async fn expect_success(&self, resp: reqwest::Response, what: &str) -> Result<(), DaprError> {
        let status = resp.status().as_u16();
        let body = self.body(resp, what).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(classify(status, &body, what))
        }
    }

    fn transport_error(&self, e: reqwest::Error, what: &str) -> DaprError {
        let why = if e.is_timeout() {
            format!("no answer within {} ms", self.timeout.as_millis())
        } else if e.is_connect() {
            "cannot connect (is daprd running?)".to_owned()
        } else {
            e.to_string()
        };
        DaprError::Unavailable {
            reason: format!("Dapr sidecar at {}: {what}: {why}", self.base_url),
        }
    }
}

/// Maps a non-success answer to an error, keeping Dapr's `errorCode` and `message`.
fn classify(status: u16, body: &[u8], what: &str) -> DaprError {
    let detail = match serde_json::from_slice::<Value>(body) {
        Ok(v) => format!(
            "{} {}",
            v.get("errorCode").and_then(Value::as_str).unwrap_or(""),
            v.get("message").and_then(Value::as_str).unwrap_or("")
        )
        .trim()
        .to_owned(),
        Err(_) => String::from_utf8_lossy(body).chars().take(300).collect(),
    };
    let message = format!("{what}: HTTP {status} {detail}")
        .trim_end()
        .to_owned();
    match status {
        409 => DaprError::Conflict { message },
        404 => DaprError::NotFound { message },
        500..=599 => DaprError::Unavailable { reason: message },
        _ => DaprError::Other { status, message },
    }
}

/// Path segment encoding: unreserved characters as they are, every other byte as `%XX`.
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Grows with the attempt and is jittered, so that writers that collided spread out.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let base = 5 * u64::from(attempt.min(10));
    Duration::from_millis(base + random % (base + 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_unavailability_and_others_are_told_apart() {
        let body = br#"{"errorCode":"ERR_STATE_SAVE","message":"failed saving state: possible etag mismatch"}"#;
        assert!(matches!(
            classify(409, body, "saving k"),
            DaprError::Conflict { .. }
        ));
        match classify(
            500,
            br#"{"errorCode":"ERR_STATE_SAVE","message":"connection refused"}"#,
            "saving k",
        ) {
            DaprError::Unavailable { reason } => {
                assert_eq!(
                    reason,
                    "saving k: HTTP 500 ERR_STATE_SAVE connection refused"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(400, b"nope", "x"),
            DaprError::Other { status: 400, .. }
        ));
        assert!(matches!(
            classify(404, b"", "x"),
            DaprError::NotFound { .. }
        ));
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode("order-0a1B_~."), "order-0a1B_~.");
        assert_eq!(encode("a||b c/d"), "a%7C%7Cb%20c%2Fd");
    }
}
