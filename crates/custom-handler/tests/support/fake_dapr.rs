#![allow(dead_code)] // each test binary that includes this file uses a different part of it
//! A test double of the Dapr sidecar's HTTP API, just the routes the apps use, on loopback:
//! state get/save/delete with real ETag semantics (every save makes a new ETag; a save or
//! delete with a stale ETag, or a `first-write` save of an existing key without one, is 409 as
//! daprd answers) and output bindings that record what they were sent. Switches make it fail or
//! slow, as a broken store, binding or sidecar would. The apps' end-to-end tests use the real
//! daprd; this is for unit tests: this crate's and, through `#[path]`, the two apps'.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use custom_handler::DaprSettings;

#[derive(Default)]
struct Inner {
    /// (store, key) -> (value, etag)
    state: HashMap<(String, String), (Value, String)>,
    next_etag: u64,
    /// binding -> the `data` of each invocation, in order
    bindings: HashMap<String, Vec<Value>>,
    fail_bindings: bool,
    fail_state: bool,
    delay: Duration,
    saves: u64,
}

type Shared = Arc<Mutex<Inner>>;

/// A running fake sidecar; stops when dropped.
pub struct FakeDapr {
    addr: SocketAddr,
    inner: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDapr {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeDapr {
    pub async fn start() -> FakeDapr {
        let inner: Shared = Arc::default();
        let app = Router::new()
            .route("/v1.0/state/{store}", post(save))
            .route("/v1.0/state/{store}/{key}", get(read).delete(delete))
            .route("/v1.0/bindings/{name}", post(invoke))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDapr {
            addr,
            inner,
            server,
        }
    }

    /// Settings that point a `DaprClient` at this fake.
    pub fn settings(&self) -> DaprSettings {
        DaprSettings {
            host: self.addr.ip().to_string(),
            http_port: self.addr.port(),
            api_token: None,
        }
    }

    pub fn value(&self, store: &str, key: &str) -> Option<Value> {
        self.lock()
            .state
            .get(&(store.to_owned(), key.to_owned()))
            .map(|(v, _)| v.clone())
    }

    /// Stores a value directly, as another writer would.
    pub fn put(&self, store: &str, key: &str, value: Value) {
        let mut inner = self.lock();
        let etag = inner.new_etag();
        inner
            .state
            .insert((store.to_owned(), key.to_owned()), (value, etag));
    }

    pub fn keys(&self, store: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .lock()
            .state
            .keys()
            .filter(|(s, _)| s == store)
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// The data each invocation of binding `name` carried.
    pub fn messages(&self, name: &str) -> Vec<Value> {
        self.lock().bindings.get(name).cloned().unwrap_or_default()
    }

    /// Successful saves so far (all stores).
    pub fn saves(&self) -> u64 {
        self.lock().saves
    }

    /// Output bindings answer 500 `ERR_INVOKE_OUTPUT_BINDING` while set.
    pub fn fail_bindings(&self, fail: bool) {
        self.lock().fail_bindings = fail;
    }

    /// State calls answer 500 (the store behind the sidecar is down) while set.
    pub fn fail_state(&self, fail: bool) {
        self.lock().fail_state = fail;
    }

    /// Every answer waits this long first (a slow sidecar or store).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn new_etag(&mut self) -> String {
        self.next_etag += 1;
        format!("W/\"{}\"", self.next_etag)
    }
}

fn lock(inner: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

async fn pause(inner: &Shared) {
    let delay = lock(inner).delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errorCode": code, "message": message }).to_string();
    (status, [("content-type", "application/json")], body).into_response()
}

async fn read(State(inner): State<Shared>, Path((store, key)): Path<(String, String)>) -> Response {
    pause(&inner).await;
    let inner = lock(&inner);
    if inner.fail_state {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_STATE_GET",
            "store unavailable",
        );
    }
    match inner.state.get(&(store, key)) {
        None => StatusCode::NO_CONTENT.into_response(),
        Some((value, etag)) => {
            (StatusCode::OK, [("etag", etag.clone())], value.to_string()).into_response()
        }
    }
}

async fn save(State(inner): State<Shared>, Path(store): Path<String>, body: Bytes) -> Response {
    pause(&inner).await;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ERR_MALFORMED_REQUEST",
            "not a JSON array",
        );
    };
    let mut inner = lock(&inner);
    if inner.fail_state {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_STATE_SAVE",
            "store unavailable",
        );
    }
    for item in items {
        let Some(key) = item
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "ERR_MALFORMED_REQUEST",
                "\"key\" is a required field",
            );
        };
        let slot = (store.clone(), key.to_owned());
        let current = inner.state.get(&slot).map(|(_, etag)| etag.clone());
        let first_write =
            item.pointer("/options/concurrency").and_then(Value::as_str) == Some("first-write");
        let conflict = match (item.get("etag").and_then(Value::as_str), current) {
            (Some(given), Some(current)) => given != current,
            (Some(_), None) => true,
            (None, Some(_)) => first_write,
            (None, None) => false,
        };
        if conflict {
            return error(
                StatusCode::CONFLICT,
                "ERR_STATE_SAVE",
                "possible etag mismatch",
            );
        }
        let etag = inner.new_etag();
        let value = item.get("value").cloned().unwrap_or(Value::Null);
        inner.state.insert(slot, (value, etag));
        inner.saves += 1;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete(
    State(inner): State<Shared>,
    Path((store, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    pause(&inner).await;
    let mut inner = lock(&inner);
    if inner.fail_state {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_STATE_DELETE",
            "store unavailable",
        );
    }
    let slot = (store, key);
    let current = inner.state.get(&slot).map(|(_, etag)| etag.clone());
    if let Some(given) = headers.get("if-match").and_then(|v| v.to_str().ok()) {
        if current.as_deref() != Some(given) {
            return error(
                StatusCode::CONFLICT,
                "ERR_STATE_DELETE",
                "possible etag mismatch",
            );
        }
    }
    inner.state.remove(&slot);
    StatusCode::NO_CONTENT.into_response()
}

async fn invoke(State(inner): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    pause(&inner).await;
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "ERR_MALFORMED_REQUEST", "not JSON");
    };
    let mut inner = lock(&inner);
    if inner.fail_bindings {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_INVOKE_OUTPUT_BINDING",
            "error invoking output binding: queue unavailable",
        );
    }
    if request.get("operation").and_then(Value::as_str) != Some("create") {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_INVOKE_OUTPUT_BINDING",
            "unsupported operation",
        );
    }
    let data = request.get("data").cloned().unwrap_or(Value::Null);
    inner.bindings.entry(name).or_default().push(data);
    StatusCode::NO_CONTENT.into_response()
}
