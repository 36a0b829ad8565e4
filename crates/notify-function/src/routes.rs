//! `POST /NotifyOrder`: the host's invocation of the queue-triggered function (the folder name
//! is the path). 200 with an envelope when the message is handled (a duplicate included);
//! non-2xx when it is not, so that the host retries it and finally poisons it.

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use custom_handler::{log, InvocationRequest, InvocationResponse};
use serde_json::{json, Map};

use crate::{NotifyService, Outcome};

/// Queue messages are at most 64 KiB; their envelope is a little more.
const MAX_INVOCATION_BYTES: usize = 256 * 1024;

pub fn router(service: NotifyService) -> Router {
    Router::new()
        .route("/NotifyOrder", post(notify_order))
        .with_state(service)
}

async fn notify_order(State(service): State<NotifyService>, body: Body) -> Response {
    let invocation: InvocationRequest = match to_bytes(body, MAX_INVOCATION_BYTES).await {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(invocation) => invocation,
            Err(e) => {
                return answer(
                    400,
                    format!("the invocation is not a custom-handler request: {e}"),
                )
            }
        },
        Err(_) => {
            return answer(
                400,
                format!("the invocation is larger than {MAX_INVOCATION_BYTES} bytes"),
            )
        }
    };
    match service.notify(&invocation).await {
        Ok(Outcome::Notified(fields)) => {
            log::emit("info", "notify", "order.notified", &fields);
            let line = format!(
                "order {} notified",
                fields["orderId"].as_str().unwrap_or_default()
            );
            answer(200, line)
        }
        Ok(Outcome::AlreadyNotified { order_id }) => answer(
            200,
            format!("order {order_id} already notified: duplicate delivery, nothing done"),
        ),
        Err(failure) => {
            let mut fields = Map::new();
            fields.insert("reason".into(), json!(failure.reason));
            fields.insert("status".into(), json!(failure.status));
            log::emit("warn", "notify", "order.notify_failed", &fields);
            answer(failure.status, failure.reason)
        }
    }
}

fn answer(status: u16, line: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body =
        serde_json::to_string(&InvocationResponse::logs_only(vec![line])).unwrap_or_default();
    (status, [("content-type", "application/json")], body).into_response()
}
