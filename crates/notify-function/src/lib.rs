//! The Notify function (issue 16): for each `order-accepted` message the Functions host's queue
//! trigger delivers, record a notification, move the order to `notified`, and write one JSON
//! log line. The queue is at-least-once, so a delivery may be a duplicate: the notification
//! record is written first-write, and the log line is written only by the delivery whose
//! ETag-guarded update actually moved the order from `accepted` to `notified`, so a message
//! delivered twice (or concurrently) yields one line.
//!
//! Failures answer non-2xx so that the host retries the message and, after `maxDequeueCount`
//! (host.json: 5), moves it to `orders-poison`.

pub mod routes;

use std::time::Duration;

use custom_handler::{
    log, notification_key, order_key, Concurrency, DaprClient, DaprError, InvocationRequest, Update,
};
use serde_json::{json, Map, Value};

/// Each Dapr call of a delivery gives up after this; the host's own function timeout is far
/// longer, and a failed delivery is simply retried.
pub const DAPR_TIMEOUT: Duration = Duration::from_secs(5);
/// ETag-guarded updates of one order: a delivery only loses a round to another writer's
/// successful save (Order marking it queued, the one duplicate that notifies), a handful at most.
const UPDATE_ATTEMPTS: u32 = 16;

/// What a delivery did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// This delivery notified the order; the fields of its log line.
    Notified(Map<String, Value>),
    /// The order was already notified by an earlier (or concurrent) delivery.
    AlreadyNotified { order_id: String },
}

/// Why a delivery failed: the HTTP status for the host and the reason for its log.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub status: u16,
    pub reason: String,
}

impl Failure {
    fn new(status: u16, reason: impl Into<String>) -> Failure {
        Failure {
            status,
            reason: reason.into(),
        }
    }

    fn from_dapr(err: DaprError) -> Failure {
        match err {
            DaprError::Other { .. } => Failure::new(500, err.to_string()),
            other => Failure::new(503, format!("{other}; the host will retry")),
        }
    }
}

#[derive(Clone)]
pub struct NotifyService {
    dapr: DaprClient,
    store: String,
}

impl NotifyService {
    pub fn new(dapr: DaprClient, store: String) -> Self {
        NotifyService { dapr, store }
    }

    /// One delivery of the `order` queue trigger.
    pub async fn notify(&self, invocation: &InvocationRequest) -> Result<Outcome, Failure> {
        let metadata = invocation.queue_metadata().unwrap_or_default();
        let order_id = parse_message(invocation.data.get("order"))?;
        let order = match self
            .dapr
            .get_state(&self.store, &order_key(&order_id))
            .await
        {
            Ok(Some(entry)) => entry.value,
            Ok(None) => {
                return Err(Failure::new(
                    404,
                    format!("order {order_id} is not in state store {}", self.store),
                ))
            }
            Err(err) => return Err(Failure::from_dapr(err)),
        };

        let record = json!({
            "orderId": order_id,
            "customer": order["customer"],
            "total": order["total"],
            "messageId": metadata.id,
            "notifiedAt": log::now_rfc3339(),
        });
        let key = notification_key(&order_id);
        let record = match self
            .dapr
            .save_state(&self.store, &key, &record, None, Concurrency::FirstWrite)
            .await
        {
            Ok(()) => record,
            // An earlier delivery wrote it: use its time, so every delivery agrees.
            Err(DaprError::Conflict { .. }) => match self.dapr.get_state(&self.store, &key).await {
                Ok(Some(existing)) => existing.value,
                Ok(None) => {
                    return Err(Failure::new(
                        503,
                        format!("{key} changed while being read; the host will retry"),
                    ))
                }
                Err(err) => return Err(Failure::from_dapr(err)),
            },
            Err(err) => return Err(Failure::from_dapr(err)),
        };

        let notified_at = record["notifiedAt"].clone();
        let updated = self
            .dapr
            .update_state(&self.store, &order_key(&order_id), UPDATE_ATTEMPTS, |doc| {
                if doc["status"] == "notified" {
                    return false;
                }
                doc["status"] = json!("notified");
                doc["notifiedAt"] = notified_at.clone();
                true
            })
            .await;
        match updated {
            Ok(Update::Saved(doc)) => {
                let mut fields = Map::new();
                fields.insert("orderId".into(), json!(order_id));
                fields.insert("customer".into(), doc["customer"].clone());
                fields.insert("total".into(), doc["total"].clone());
                fields.insert("messageId".into(), json!(metadata.id));
                fields.insert("dequeueCount".into(), json!(metadata.dequeue_count));
                Ok(Outcome::Notified(fields))
            }
            Ok(Update::Unchanged(_)) => Ok(Outcome::AlreadyNotified { order_id }),
            Err(DaprError::NotFound { .. }) => {
                Err(Failure::new(404, format!("order {order_id} disappeared")))
            }
            Err(err) => Err(Failure::from_dapr(err)),
        }
    }
}

/// The order id of an `order-accepted` message, given as the message text (JSON in a string)
/// or as the JSON the host may have parsed already.
pub fn parse_message(message: Option<&Value>) -> Result<String, Failure> {
    let bad = |why: String| Failure::new(400, format!("bad message: {why}"));
    let message = match message {
        None | Some(Value::Null) => return Err(bad("Data.order is missing".to_owned())),
        Some(Value::String(text)) => {
            serde_json::from_str(text).map_err(|e| bad(format!("the text is not JSON ({e})")))?
        }
        Some(value) => value.clone(),
    };
    if message["type"] != "order-accepted" {
        return Err(bad(format!(
            "type is {}, not \"order-accepted\"",
            message["type"]
        )));
    }
    match message["orderId"].as_str() {
        Some(id) if custom_handler::is_order_id(id) => Ok(id.to_owned()),
        _ => Err(bad(format!(
            "orderId {} is not an order id",
            message["orderId"]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn messages_are_read_as_text_or_json_and_bad_ones_refused() {
        let text = json!(format!(
            "{{\"type\":\"order-accepted\",\"orderId\":\"{ID}\",\"total\":\"1.00\"}}"
        ));
        assert_eq!(parse_message(Some(&text)).unwrap(), ID);
        let object = json!({"type": "order-accepted", "orderId": ID});
        assert_eq!(parse_message(Some(&object)).unwrap(), ID);
        for bad in [
            Value::Null,
            json!("{ message: \"Message sent\" }"),
            json!({"type": "order-cancelled", "orderId": ID}),
            json!({"type": "order-accepted", "orderId": "x||y"}),
            json!({"type": "order-accepted"}),
            json!(42),
        ] {
            let failure = parse_message(Some(&bad)).unwrap_err();
            assert_eq!(failure.status, 400, "{bad}");
            assert!(
                failure.reason.starts_with("bad message: "),
                "{}",
                failure.reason
            );
        }
        assert_eq!(parse_message(None).unwrap_err().status, 400);
    }
}
