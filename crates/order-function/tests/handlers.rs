//! The Order handler over HTTP on loopback, against the fake Dapr sidecar of the
//! custom-handler crate (real ETag and first-write semantics, switchable failures).

#[path = "../../custom-handler/tests/support/fake_dapr.rs"]
mod fake_dapr;

use std::time::{Duration, Instant};

use custom_handler::{order_key, DaprClient, DaprSettings};
use fake_dapr::FakeDapr;
use order_function::ids::request_hash;
use order_function::routes::router;
use order_function::service::OrderService;
use order_function::validate::parse_order;
use serde_json::{json, Value};

const STORE: &str = "orders-state";
const BINDING: &str = "orders-queue";

struct Handler {
    base: String,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Handler {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn start(dapr: DaprSettings, budget: Duration) -> Handler {
    let client = DaprClient::new(&dapr, budget);
    let service = OrderService::new(client, STORE.into(), BINDING.into(), budget);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router(service)).await;
    });
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    Handler { base, http, server }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Handler {
    async fn post(&self, path: &str, key: Option<&str>, body: impl Into<reqwest::Body>) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        answer(request.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Answer {
        answer(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.headers.get(name).and_then(|v| v.to_str().ok())
}

fn order_body() -> String {
    json!({"customer": "Ada", "items": [
        {"sku": "TEA-1", "quantity": 3, "unitPrice": "12.50"},
        {"sku": "MUG-2", "quantity": 3, "unitPrice": "0.10"}
    ]})
    .to_string()
}

#[tokio::test]
async fn an_order_is_saved_queued_and_read_back() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    let created = handler.post("/api/orders", None, order_body()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        header(&created, "location"),
        Some(format!("/api/orders/{id}").as_str())
    );
    assert_eq!(header(&created, "idempotent-replayed"), None);
    assert_eq!(created.body["total"], "37.80");
    assert_eq!(created.body["status"], "accepted");
    assert_eq!(created.body["items"][1]["lineTotal"], "0.30");
    assert!(created.body.get("requestHash").is_none() && created.body.get("queued").is_none());

    let stored = fake.value(STORE, &order_key(&id)).unwrap();
    assert_eq!(stored["queued"], true);
    assert_eq!(stored["requestHash"].as_str().unwrap().len(), 64);
    let messages = fake.messages(BINDING);
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0],
        json!({"type": "order-accepted", "orderId": id, "customer": "Ada", "total": "37.80",
               "itemCount": 2, "acceptedAt": stored["createdAt"]})
    );

    let read = handler.get(&format!("/api/orders/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    for unknown in [
        "0123456789abcdef0123456789abcdef",
        "not-an-id",
        "A123456789abcdef0123456789abcdef",
    ] {
        let missing = handler.get(&format!("/api/orders/{unknown}")).await;
        assert_eq!(missing.status, 404, "{unknown}");
        assert_eq!(missing.body["error"]["code"], "OrderNotFound");
    }
}

#[tokio::test]
async fn a_retried_request_returns_the_same_order_and_a_reused_key_is_refused() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    let first = handler
        .post("/api/orders", Some("key-1"), order_body())
        .await;
    assert_eq!(first.status, 201);
    // The same content written differently is the same request.
    let same = order_body().replace("\"12.50\"", "\"12.5\"");
    let again = handler.post("/api/orders", Some("key-1"), same).await;
    assert_eq!(again.status, 201);
    assert_eq!(header(&again, "idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(fake.messages(BINDING).len(), 1, "a replay queues nothing");

    let different = order_body().replace("\"Ada\"", "\"Grace\"");
    let reused = handler.post("/api/orders", Some("key-1"), different).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.body["error"]["code"], "IdempotencyKeyReused");

    let with_client_id = json!({"customer": "Ada", "clientOrderId": "c-9",
        "items": [{"sku": "s", "quantity": 1, "unitPrice": "1"}]})
    .to_string();
    let a = handler
        .post("/api/orders", None, with_client_id.clone())
        .await;
    let b = handler.post("/api/orders", None, with_client_id).await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(header(&b, "idempotent-replayed"), Some("true"));
    assert_eq!(fake.keys(STORE).len(), 2);
}

#[tokio::test]
async fn a_replay_finishes_queueing_an_order_an_earlier_attempt_saved() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    let body = order_body();
    let id = order_function::ids::order_id(Some("key-2"), None);
    let hash = request_hash(&parse_order(body.as_bytes()).unwrap().canonical_text());
    fake.put(STORE, &order_key(&id), json!({"id": id, "customer": "Ada", "items": [], "total": "37.80",
        "status": "accepted", "createdAt": "2026-01-01T00:00:00Z", "requestHash": hash, "queued": false}));
    let replay = handler.post("/api/orders", Some("key-2"), body).await;
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));
    assert_eq!(fake.messages(BINDING).len(), 1);
    assert_eq!(fake.value(STORE, &order_key(&id)).unwrap()["queued"], true);
}

#[tokio::test]
async fn a_failing_queue_gives_503_and_leaves_no_order_behind() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    fake.fail_bindings(true);
    let refused = handler
        .post("/api/orders", Some("key-3"), order_body())
        .await;
    assert_eq!(refused.status, 503);
    assert_eq!(header(&refused, "retry-after"), Some("1"));
    assert_eq!(refused.body["error"]["code"], "ServiceUnavailable");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("orders-queue") && message.ends_with("; retry"),
        "{message}"
    );
    assert!(
        fake.keys(STORE).is_empty(),
        "the order was undone: {:?}",
        fake.keys(STORE)
    );

    fake.fail_bindings(false);
    let retried = handler
        .post("/api/orders", Some("key-3"), order_body())
        .await;
    assert_eq!(retried.status, 201);
    assert_eq!(header(&retried, "idempotent-replayed"), None);
    assert_eq!(fake.messages(BINDING).len(), 1);
}

#[tokio::test]
async fn a_failing_store_gives_503() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    fake.fail_state(true);
    let refused = handler.post("/api/orders", None, order_body()).await;
    assert_eq!(refused.status, 503);
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("orders-state"));
    let read = handler
        .get("/api/orders/0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(read.status, 503);
    assert!(fake.messages(BINDING).is_empty());
}

#[tokio::test]
async fn a_missing_sidecar_gives_503_within_the_budget() {
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
    let handler = start(nowhere, Duration::from_millis(1500)).await;
    let started = Instant::now();
    let refused = handler.post("/api/orders", None, order_body()).await;
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(refused.status, 503);
    assert_eq!(header(&refused, "retry-after"), Some("1"));
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
}

#[tokio::test]
async fn a_slow_sidecar_gives_503_within_the_budget_and_no_order_is_left_unqueued() {
    let fake = FakeDapr::start().await;
    fake.set_delay(Duration::from_millis(400));
    let handler = start(fake.settings(), Duration::from_millis(600)).await;
    let started = Instant::now();
    let refused = handler
        .post("/api/orders", Some("key-4"), order_body())
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    assert_eq!(refused.status, 503, "{}", refused.body);
    // The save took 400 ms of the 600; the binding call gets the 200 left, times out, and the
    // background work undoes the save (its own calls are slow too, so wait for it).
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(fake.keys(STORE).is_empty(), "{:?}", fake.keys(STORE));
}

#[tokio::test]
async fn invalid_orders_get_400_naming_the_field() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    for (body, expected) in [
        (json!({"items": []}).to_string(), "customer is required"),
        (
            json!({"customer": "A", "items": [{"sku": "s", "quantity": 1, "unitPrice": 12.5}]})
                .to_string(),
            "items[0].unitPrice must be a string",
        ),
        ("{".to_owned(), "the body is not JSON"),
        (
            format!("{{\"customer\":\"A\",\"pad\":\"{}\"}}", "x".repeat(70_000)),
            "the body is larger than 65536 bytes",
        ),
    ] {
        let refused = handler.post("/api/orders", None, body).await;
        assert_eq!(refused.status, 400);
        assert_eq!(refused.body["error"]["code"], "InvalidOrder");
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(expected), "{message}");
    }
    let empty_key = handler.post("/api/orders", Some(" "), order_body()).await;
    assert_eq!(empty_key.status, 400);
    assert!(fake.keys(STORE).is_empty());
}

#[tokio::test]
async fn the_envelope_form_works_as_the_documented_host_sends_it() {
    let fake = FakeDapr::start().await;
    let handler = start(fake.settings(), Duration::from_secs(4)).await;
    // The shape of the documented HTTP trigger request (functions-custom-handlers, "Function
    // with bindings"), with our route and body.
    let invocation = json!({
        "Data": {"req": {
            "Url": "http://localhost:7071/api/orders",
            "Method": "POST",
            "Query": "{}",
            "Headers": {"Content-Type": ["application/json"], "Idempotency-Key": ["env-1"]},
            "Params": {},
            "Body": order_body()
        }},
        "Metadata": {}
    });
    let answer = handler
        .post("/CreateOrder", None, invocation.to_string())
        .await;
    assert_eq!(answer.status, 200);
    let res = &answer.body["Outputs"]["res"];
    assert_eq!(res["statusCode"], 201);
    assert_eq!(res["headers"]["Content-Type"], "application/json");
    let order: Value = serde_json::from_str(res["body"].as_str().unwrap()).unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(id, order_function::ids::order_id(Some("env-1"), None));
    assert_eq!(res["headers"]["Location"], format!("/api/orders/{id}"));
    assert_eq!(answer.body["Logs"], json!(["201"]));
    assert_eq!(answer.body["ReturnValue"], Value::Null);

    let get = json!({"Data": {"req": {"Url": format!("http://localhost:7071/api/orders/{id}"),
        "Method": "GET", "Query": "{}", "Headers": {}, "Params": {"id": id}, "Body": null}}, "Metadata": {}});
    let answer = handler.post("/GetOrder", None, get.to_string()).await;
    assert_eq!(answer.body["Outputs"]["res"]["statusCode"], 200);
    let read: Value =
        serde_json::from_str(answer.body["Outputs"]["res"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(read, order);

    let unknown = json!({"Data": {"req": {"Url": "http://localhost:7071/api/orders/ffffffffffffffffffffffffffffffff",
        "Method": "GET", "Headers": {}, "Params": {}}}, "Metadata": {}});
    let answer = handler.post("/GetOrder", None, unknown.to_string()).await;
    assert_eq!(answer.body["Outputs"]["res"]["statusCode"], 404);
    assert_eq!(answer.body["Logs"], json!(["404 OrderNotFound"]));

    let broken = handler
        .post("/CreateOrder", None, "not an invocation")
        .await;
    assert_eq!(broken.status, 400);
}
