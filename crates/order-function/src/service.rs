//! Creating and reading orders through Dapr, independent of how the request arrived (forwarded
//! HTTP or the custom-handler envelope): both ask this and render its [`Reply`].
//!
//! Create: validate -> save `order-<id>` first-write with `queued: false` -> on a conflict load
//! it (same request: replay, finishing the queueing if it never happened; different request:
//! 422) -> invoke the `orders-queue` binding -> mark it `queued` (ETag-guarded) -> 201. A failed
//! binding deletes the order it just wrote, so a retry starts clean. The whole request is
//! bounded by `ORDER_REQUEST_TIMEOUT_MS`: past it the client gets 503 and the work goes on in
//! the background only to finish or undo what was started, never to leave it half done.

use std::time::{Duration, Instant};

use custom_handler::{is_order_id, log, order_key, Concurrency, DaprClient, DaprError, Update};
use serde_json::{json, Map, Value};

use crate::ids::{order_id, request_hash};
use crate::money::format_amount;
use crate::validate::{parse_order, NewOrder};

/// An answer: status, extra headers, JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl Reply {
    fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        let body = json!({ "error": { "code": code, "message": message.into() } });
        let headers = if status == 503 {
            vec![("Retry-After", "1".to_owned())]
        } else {
            vec![]
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    fn invalid(message: impl Into<String>) -> Reply {
        Reply::error(400, "InvalidOrder", message)
    }

    fn unavailable(why: impl std::fmt::Display) -> Reply {
        Reply::error(503, "ServiceUnavailable", format!("{why}; retry"))
    }

    fn from_dapr(err: DaprError) -> Reply {
        match err {
            DaprError::Other { .. } | DaprError::NotFound { .. } => {
                Reply::error(500, "InternalError", err.to_string())
            }
            other => Reply::unavailable(other),
        }
    }
}

const MAX_KEY_CHARS: usize = 200;
/// ETag-guarded updates of one order by this app and Notify: a handful of writers at most.
const UPDATE_ATTEMPTS: u32 = 10;

#[derive(Clone)]
pub struct OrderService {
    dapr: DaprClient,
    store: String,
    binding: String,
    budget: Duration,
}

impl OrderService {
    /// `budget` bounds each request (and each Dapr call).
    pub fn new(dapr: DaprClient, store: String, binding: String, budget: Duration) -> Self {
        OrderService {
            dapr,
            store,
            binding,
            budget,
        }
    }

    /// `POST /api/orders`.
    pub async fn create(&self, idempotency_key: Option<&str>, body: &[u8]) -> Reply {
        let key = match idempotency_key.map(str::trim) {
            None => None,
            Some("") => return Reply::invalid("the Idempotency-Key header must not be empty"),
            Some(k) if k.chars().count() > MAX_KEY_CHARS => {
                return Reply::invalid(format!(
                    "the Idempotency-Key header is longer than {MAX_KEY_CHARS} characters"
                ))
            }
            Some(k) => Some(k.to_owned()),
        };
        let order = match parse_order(body) {
            Ok(order) => order,
            Err(why) => return Reply::invalid(why),
        };
        let id = order_id(key.as_deref(), order.client_order_id.as_deref());
        let deadline = Instant::now() + self.budget;
        // Spawned, so that a timed-out request still finishes or undoes its writes.
        let service = self.clone();
        let work = tokio::spawn(async move { service.accept(id, order, deadline).await });
        match tokio::time::timeout(self.budget, work).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(panic)) => {
                Reply::error(500, "InternalError", format!("the request failed: {panic}"))
            }
            Err(_) => Reply::unavailable(format!(
                "Dapr or the storage behind it did not complete the order within {} ms",
                self.budget.as_millis()
            )),
        }
    }

    /// `GET /api/orders/{id}`.
    pub async fn get(&self, id: &str) -> Reply {
        if !is_order_id(id) {
            return not_found(id);
        }
        let key = order_key(id);
        let read = self.dapr.get_state(&self.store, &key);
        match tokio::time::timeout(self.budget, read).await {
            Err(_) => Reply::unavailable(format!(
                "state store {} did not answer within {} ms",
                self.store,
                self.budget.as_millis()
            )),
            Ok(Err(err)) => Reply::from_dapr(err),
            Ok(Ok(None)) => not_found(id),
            Ok(Ok(Some(entry))) => Reply {
                status: 200,
                headers: vec![],
                body: public_view(&entry.value),
            },
        }
    }

    async fn accept(&self, id: String, order: NewOrder, deadline: Instant) -> Reply {
        let key = order_key(&id);
        let hash = request_hash(&order.canonical_text());
        let now = log::now_rfc3339();
        let document = json!({
            "id": id,
            "customer": order.customer,
            "items": order.items_json(),
            "total": format_amount(order.total),
            "status": "accepted",
            "createdAt": now,
            "requestHash": hash,
            "queued": false,
        });
        let (document, replayed) =
            match self.dapr.save_state(&self.store, &key, &document, None, Concurrency::FirstWrite).await {
                Ok(()) => (document, false),
                Err(DaprError::Conflict { .. }) => match self.dapr.get_state(&self.store, &key).await {
                    Err(err) => return Reply::from_dapr(err),
                    // Written and undone by a concurrent attempt with the same key.
                    Ok(None) => return Reply::unavailable(format!("order {id} is being retried concurrently")),
                    Ok(Some(existing)) if existing.value["requestHash"] != json!(hash) => {
                        return Reply::error(
                            422,
                            "IdempotencyKeyReused",
                            format!("order {id} was created from a different request with this idempotency key"),
                        )
                    }
                    Ok(Some(existing)) if existing.value["queued"] == json!(true) => {
                        return created(&existing.value, true)
                    }
                    // Saved by an earlier attempt that never queued it: finish the job.
                    Ok(Some(existing)) => (existing.value, true),
                },
                Err(err) => return Reply::from_dapr(err),
            };

        let message = json!({
            "type": "order-accepted",
            "orderId": id,
            "customer": document["customer"],
            "total": document["total"],
            "itemCount": document["items"].as_array().map_or(0, Vec::len),
            "acceptedAt": document["createdAt"],
        });
        // Within what is left of the budget: a message that might still be sent after the
        // client was told to retry is what this avoids (the order is undone instead).
        let left = deadline.saturating_duration_since(Instant::now());
        let queued = if left.is_zero() {
            Err(DaprError::Unavailable {
                reason: "no time was left to queue the order".to_owned(),
            })
        } else {
            self.dapr
                .with_timeout(left)
                .invoke_binding(&self.binding, "create", &message)
                .await
        };
        if let Err(err) = queued {
            if !replayed {
                self.undo(&id, &hash).await;
            }
            let why = format!(
                "the orders queue (binding {}) did not take order {id}: {err}",
                self.binding
            );
            log_warn("order.queue_failed", &id, &why);
            return Reply::unavailable(why);
        }

        let marked = self
            .dapr
            .update_state(&self.store, &key, UPDATE_ATTEMPTS, |doc| {
                let changed = doc["queued"] != json!(true);
                doc["queued"] = json!(true);
                changed
            })
            .await;
        let document = match marked {
            Ok(Update::Saved(doc) | Update::Unchanged(doc)) => doc,
            // The order is saved and its message queued: that is accepted. Only the bookkeeping
            // flag is missing, and a replay would at worst queue a duplicate, which Notify drops.
            Err(err) => {
                log_warn("order.mark_queued_failed", &id, &err.to_string());
                document
            }
        };
        if !replayed {
            let mut fields = Map::new();
            fields.insert("orderId".into(), json!(id));
            fields.insert("customer".into(), document["customer"].clone());
            fields.insert("total".into(), document["total"].clone());
            log::emit("info", "order", "order.accepted", &fields);
        }
        created(&document, replayed)
    }

    /// Deletes the order this request wrote, if it is still the unqueued one it wrote.
    async fn undo(&self, id: &str, hash: &str) {
        let key = order_key(id);
        if let Ok(Some(entry)) = self.dapr.get_state(&self.store, &key).await {
            if entry.value["requestHash"] == json!(hash) && entry.value["queued"] != json!(true) {
                if let Err(err) = self
                    .dapr
                    .delete_state(&self.store, &key, entry.etag.as_deref())
                    .await
                {
                    log_warn("order.undo_failed", id, &err.to_string());
                }
            }
        }
    }
}

fn created(document: &Value, replayed: bool) -> Reply {
    let id = document["id"].as_str().unwrap_or_default();
    let mut headers = vec![("Location", format!("/api/orders/{id}"))];
    if replayed {
        headers.push(("Idempotent-Replayed", "true".to_owned()));
    }
    Reply {
        status: 201,
        headers,
        body: public_view(document),
    }
}

fn not_found(id: &str) -> Reply {
    Reply::error(404, "OrderNotFound", format!("there is no order {id:?}"))
}

/// The stored document without its bookkeeping fields.
fn public_view(document: &Value) -> Value {
    let mut view = document.clone();
    if let Some(object) = view.as_object_mut() {
        object.remove("requestHash");
        object.remove("queued");
    }
    view
}

fn log_warn(event: &str, order: &str, why: &str) {
    let mut fields = Map::new();
    fields.insert("orderId".into(), json!(order));
    fields.insert("reason".into(), json!(why));
    log::emit("warn", "order", event, &fields);
}
