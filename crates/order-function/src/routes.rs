//! The handler's HTTP surface, both ways the Functions host may call it.
//!
//! Forwarded: with `customHandler.enableForwardingHttpRequest: true` in host.json, an
//! HTTP-only function (HTTP trigger, HTTP output, no other bindings) is invoked with a copy of
//! the original request "at the same path as the original request, including any query string
//! parameters", and the handler's HTTP response goes back to the client as is (Azure Functions
//! custom handlers documentation, "HTTP-only function"; current versions of that page describe
//! the same for `enableProxyingHttpRequest`, and the host keeps `EnableForwardingHttpRequest`
//! as its "legacy" mode). With the default `routePrefix` that path is `/api/orders`.
//!
//! Envelope: without forwarding, the host POSTs the invocation to `/<FunctionName>`
//! (`/CreateOrder`, `/GetOrder`) with the request in `Data.req`, and expects the response in
//! `Outputs.res`. Served too, so the app works either way.

use std::collections::BTreeMap;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use custom_handler::{HttpResponseOutput, InvocationRequest, InvocationResponse};
use serde_json::{json, Value};

use crate::service::{OrderService, Reply};
use crate::validate::MAX_BODY_BYTES;

/// An envelope carries the body as an escaped JSON string: room for a 64 KiB body and more.
const MAX_ENVELOPE_BYTES: usize = 1024 * 1024;

pub fn router(service: OrderService) -> Router {
    Router::new()
        .route("/api/orders", post(create_forwarded))
        .route("/api/orders/{id}", get(get_forwarded))
        .route("/CreateOrder", post(create_envelope))
        .route("/GetOrder", post(get_envelope))
        .with_state(service)
}

async fn create_forwarded(
    State(service): State<OrderService>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        let message =
            format!("the body is larger than {MAX_BODY_BYTES} bytes (64 KiB) or could not be read");
        let reply = json!({ "error": { "code": "InvalidOrder", "message": message } });
        return respond(Reply {
            status: 400,
            headers: vec![],
            body: reply,
        });
    };
    let key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    respond(service.create(key.as_deref(), &body).await)
}

async fn get_forwarded(State(service): State<OrderService>, Path(id): Path<String>) -> Response {
    respond(service.get(&id).await)
}

async fn create_envelope(State(service): State<OrderService>, body: Body) -> Response {
    let invocation = match read_envelope(body).await {
        Ok(invocation) => invocation,
        Err(response) => return response,
    };
    let req = match invocation.http_request("req") {
        Ok(req) => req,
        Err(e) => return bad_envelope(format!("Data.req is not an HTTP request: {e}")),
    };
    let reply = service
        .create(req.header("Idempotency-Key"), req.body_text().as_bytes())
        .await;
    respond_envelope(reply)
}

async fn get_envelope(State(service): State<OrderService>, body: Body) -> Response {
    let invocation = match read_envelope(body).await {
        Ok(invocation) => invocation,
        Err(response) => return response,
    };
    let req = match invocation.http_request("req") {
        Ok(req) => req,
        Err(e) => return bad_envelope(format!("Data.req is not an HTTP request: {e}")),
    };
    // The route parameter, else the last segment of the URL's path.
    let id = req.param("id").unwrap_or_else(|| {
        let path = req.url.split(['?', '#']).next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or_default().to_owned()
    });
    respond_envelope(service.get(&id).await)
}

async fn read_envelope(body: Body) -> Result<InvocationRequest, Response> {
    let bytes: Bytes = to_bytes(body, MAX_ENVELOPE_BYTES).await.map_err(|_| {
        bad_envelope(format!(
            "the invocation is larger than {MAX_ENVELOPE_BYTES} bytes"
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        bad_envelope(format!(
            "the invocation is not a custom-handler request: {e}"
        ))
    })
}

/// A malformed invocation is the host's problem, not the client's: a plain 400, which the host
/// reports as a failed invocation.
fn bad_envelope(message: String) -> Response {
    let body = json!({ "error": { "code": "BadInvocation", "message": message } });
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [("content-type", "application/json")],
        reply.body.to_string(),
    )
        .into_response();
    for (name, value) in reply.headers {
        // from_bytes lowercases: `Retry-After` goes out as `retry-after`, as HTTP/1 allows.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The reply inside `Outputs.res`; the invocation itself succeeded, whatever the status.
fn respond_envelope(reply: Reply) -> Response {
    let mut headers: BTreeMap<String, String> = reply
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    headers.insert("Content-Type".to_owned(), "application/json".to_owned());
    let log = match reply.body.pointer("/error/code").and_then(Value::as_str) {
        Some(code) => format!("{} {code}", reply.status),
        None => reply.status.to_string(),
    };
    let res = HttpResponseOutput {
        status_code: Some(reply.status),
        headers,
        body: Value::String(reply.body.to_string()),
    };
    let envelope = InvocationResponse::http("res", res, vec![log]);
    let body = serde_json::to_string(&envelope).unwrap_or_default();
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}
