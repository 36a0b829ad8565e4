//! The Notify handler against the fake Dapr sidecar of the custom-handler crate, invoked as the
//! Functions host invokes a queue-triggered custom handler.

#[path = "../../custom-handler/tests/support/fake_dapr.rs"]
mod fake_dapr;

use std::sync::Arc;
use std::time::{Duration, Instant};

use custom_handler::{
    notification_key, order_key, DaprClient, DaprSettings, InvocationRequest, Update,
};
use fake_dapr::FakeDapr;
use notify_function::routes::router;
use notify_function::{NotifyService, Outcome};
use serde_json::{json, Value};

const STORE: &str = "orders-state";
const ID: &str = "0123456789abcdef0123456789abcdef";

fn service(dapr: &DaprSettings) -> NotifyService {
    NotifyService::new(DaprClient::new(dapr, Duration::from_secs(3)), STORE.into())
}

fn accepted_order() -> Value {
    json!({"id": ID, "customer": "Ada", "items": [{"sku": "TEA-1", "quantity": 3, "unitPrice": "12.50", "lineTotal": "37.50"}],
           "total": "37.50", "status": "accepted", "createdAt": "2026-05-01T12:00:00Z", "requestHash": "h", "queued": true})
}

/// The documented queue-trigger request (functions-custom-handlers, "Request payload") with our
/// binding name and message: the text the orders-queue binding wrote, as the host decoded it.
fn delivery(message_id: &str, dequeue_count: u64) -> Value {
    let text = json!({"type": "order-accepted", "orderId": ID, "customer": "Ada", "total": "37.50",
                      "itemCount": 1, "acceptedAt": "2026-05-01T12:00:00Z"})
    .to_string();
    json!({
        "Data": {"order": text},
        "Metadata": {
            "DequeueCount": dequeue_count,
            "ExpirationTime": "2026-05-08T12:00:00+00:00",
            "Id": message_id,
            "InsertionTime": "2026-05-01T12:00:00+00:00",
            "NextVisibleTime": "2026-05-01T12:10:00+00:00",
            "PopReceipt": "AgAAAAMAAAAAAAAAAgtnj8x+1QE=",
            "sys": {"MethodName": "NotifyOrder", "UtcNow": "2026-05-01T12:00:01.2205399Z",
                    "RandGuid": "24ad4c06-24ad-4e5b-8294-3da9714877e9"}
        }
    })
}

async fn start(dapr: &DaprSettings) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(service(dapr));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, server)
}

async fn invoke(base: &str, invocation: &Value) -> (u16, Value) {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = http
        .post(format!("{base}/NotifyOrder"))
        .body(invocation.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn a_delivery_notifies_the_order_once_and_a_second_delivery_does_nothing() {
    let fake = FakeDapr::start().await;
    fake.put(STORE, &order_key(ID), accepted_order());
    let (base, server) = start(&fake.settings()).await;

    let (status, answer) = invoke(&base, &delivery("msg-1", 1)).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"Outputs": {}, "Logs": [format!("order {ID} notified")], "ReturnValue": null})
    );
    let order = fake.value(STORE, &order_key(ID)).unwrap();
    assert_eq!(order["status"], "notified");
    assert_eq!(order["queued"], true, "fields Notify does not own are kept");
    assert_eq!(order["items"], accepted_order()["items"]);
    let record = fake.value(STORE, &notification_key(ID)).unwrap();
    assert_eq!(order["notifiedAt"], record["notifiedAt"]);
    assert_eq!(
        (&record["orderId"], &record["customer"], &record["total"]),
        (&json!(ID), &json!("Ada"), &json!("37.50"))
    );
    assert_eq!(record["messageId"], "msg-1");

    let saves = fake.saves();
    let (status, answer) = invoke(&base, &delivery("msg-1", 2)).await;
    assert_eq!(status, 200);
    assert!(
        answer["Logs"][0]
            .as_str()
            .unwrap()
            .contains("already notified"),
        "{answer}"
    );
    assert_eq!(fake.saves(), saves, "a duplicate writes nothing");
    assert_eq!(fake.value(STORE, &notification_key(ID)).unwrap(), record);
    server.abort();
}

#[tokio::test]
async fn the_log_line_fields_are_the_contracts() {
    let fake = FakeDapr::start().await;
    fake.put(STORE, &order_key(ID), accepted_order());
    let invocation: InvocationRequest = serde_json::from_value(delivery("msg-7", 3)).unwrap();
    match service(&fake.settings()).notify(&invocation).await.unwrap() {
        Outcome::Notified(fields) => assert_eq!(
            Value::Object(fields),
            json!({"orderId": ID, "customer": "Ada", "total": "37.50", "messageId": "msg-7", "dequeueCount": 3})
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn concurrent_duplicates_notify_once_and_lose_no_concurrent_update() {
    let fake = FakeDapr::start().await;
    let mut order = accepted_order();
    order["queued"] = json!(false);
    fake.put(STORE, &order_key(ID), order);
    let notify = Arc::new(service(&fake.settings()));
    let dapr = Arc::new(DaprClient::new(&fake.settings(), Duration::from_secs(3)));
    let mut deliveries = Vec::new();
    let mut writers = Vec::new();
    for i in 0..10u64 {
        let notify = notify.clone();
        deliveries.push(tokio::spawn(async move {
            let invocation: InvocationRequest =
                serde_json::from_value(delivery(&format!("msg-{i}"), 1)).unwrap();
            notify.notify(&invocation).await
        }));
        // Order marking the order queued, and another writer, racing the deliveries.
        let dapr = dapr.clone();
        writers.push(tokio::spawn(async move {
            dapr.update_state(STORE, &order_key(ID), 25, move |doc| {
                doc["queued"] = json!(true);
                match doc["touchedBy"].as_array_mut() {
                    Some(touched) => touched.push(json!(i)),
                    None => doc["touchedBy"] = json!([i]),
                }
                true
            })
            .await
        }));
    }
    let mut notified = 0;
    for task in deliveries {
        match task.await.unwrap() {
            Ok(Outcome::Notified(_)) => notified += 1,
            Ok(Outcome::AlreadyNotified { .. }) => {}
            Err(failure) => panic!("{failure:?}"),
        }
    }
    for task in writers {
        assert!(matches!(task.await.unwrap(), Ok(Update::Saved(_))));
    }
    assert_eq!(notified, 1, "one notification for ten deliveries");
    let order = fake.value(STORE, &order_key(ID)).unwrap();
    assert_eq!(order["status"], "notified");
    assert_eq!(order["queued"], true);
    let mut touched: Vec<u64> = order["touchedBy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    touched.sort();
    assert_eq!(touched, (0..10).collect::<Vec<_>>(), "no update was lost");
}

#[tokio::test]
async fn bad_messages_unknown_orders_and_a_missing_sidecar_fail_the_delivery() {
    let fake = FakeDapr::start().await;
    let (base, server) = start(&fake.settings()).await;

    let (status, _) = invoke(&base, &delivery("msg-1", 1)).await;
    assert_eq!(status, 404, "unknown order: retried, then poisoned");
    assert!(
        fake.keys(STORE).is_empty(),
        "nothing is recorded for an unknown order"
    );

    let mut bad = delivery("msg-2", 1);
    bad["Data"]["order"] = json!("{ message: \"Message sent\" }");
    let (status, answer) = invoke(&base, &bad).await;
    assert_eq!(status, 400);
    assert!(
        answer["Logs"][0]
            .as_str()
            .unwrap()
            .starts_with("bad message"),
        "{answer}"
    );
    server.abort();

    fake.put(STORE, &order_key(ID), accepted_order());
    fake.fail_state(true);
    let (base, server) = start(&fake.settings()).await;
    let (status, _) = invoke(&base, &delivery("msg-3", 1)).await;
    assert_eq!(status, 503);
    server.abort();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = DaprSettings {
        host: "127.0.0.1".into(),
        http_port: port,
        api_token: None,
    };
    let (base, server) = start(&nowhere).await;
    let started = Instant::now();
    let (status, answer) = invoke(&base, &delivery("msg-4", 1)).await;
    assert_eq!(status, 503);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        answer["Logs"][0]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{answer}"
    );
    server.abort();
}
