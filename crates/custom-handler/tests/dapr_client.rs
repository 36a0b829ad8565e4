//! The Dapr client against the fake sidecar (tests/support/fake_dapr.rs), and against no
//! sidecar at all.

#[path = "support/fake_dapr.rs"]
mod fake_dapr;

use std::sync::Arc;
use std::time::{Duration, Instant};

use custom_handler::{Concurrency, DaprClient, DaprError, DaprSettings, Update};
use fake_dapr::FakeDapr;
use serde_json::{json, Value};

const STORE: &str = "orders-state";

fn client(fake: &FakeDapr) -> DaprClient {
    DaprClient::new(&fake.settings(), Duration::from_secs(5))
}

#[tokio::test]
async fn a_missing_key_reads_as_none_and_a_saved_one_with_its_etag() {
    let fake = FakeDapr::start().await;
    let dapr = client(&fake);
    assert_eq!(dapr.get_state(STORE, "order-a").await.unwrap(), None);
    dapr.save_state(
        STORE,
        "order-a",
        &json!({"n": 1}),
        None,
        Concurrency::FirstWrite,
    )
    .await
    .unwrap();
    let entry = dapr.get_state(STORE, "order-a").await.unwrap().unwrap();
    assert_eq!(entry.value, json!({"n": 1}));
    assert!(entry.etag.is_some());
}

#[tokio::test]
async fn first_write_never_overwrites_and_a_stale_etag_is_a_conflict() {
    let fake = FakeDapr::start().await;
    let dapr = client(&fake);
    dapr.save_state(STORE, "k", &json!(1), None, Concurrency::FirstWrite)
        .await
        .unwrap();
    let err = dapr
        .save_state(STORE, "k", &json!(2), None, Concurrency::FirstWrite)
        .await
        .unwrap_err();
    assert!(matches!(err, DaprError::Conflict { .. }), "{err:?}");
    assert_eq!(fake.value(STORE, "k"), Some(json!(1)));

    let etag = dapr
        .get_state(STORE, "k")
        .await
        .unwrap()
        .unwrap()
        .etag
        .unwrap();
    dapr.save_state(STORE, "k", &json!(3), Some(&etag), Concurrency::FirstWrite)
        .await
        .unwrap();
    let err = dapr
        .save_state(STORE, "k", &json!(4), Some(&etag), Concurrency::FirstWrite)
        .await
        .unwrap_err();
    assert!(matches!(err, DaprError::Conflict { .. }), "{err:?}");
    let err = dapr
        .delete_state(STORE, "k", Some(&etag))
        .await
        .unwrap_err();
    assert!(matches!(err, DaprError::Conflict { .. }), "{err:?}");
    assert_eq!(fake.value(STORE, "k"), Some(json!(3)));

    let etag = dapr
        .get_state(STORE, "k")
        .await
        .unwrap()
        .unwrap()
        .etag
        .unwrap();
    dapr.delete_state(STORE, "k", Some(&etag)).await.unwrap();
    assert_eq!(fake.value(STORE, "k"), None);
}

#[tokio::test]
async fn twenty_concurrent_read_modify_writes_lose_nothing() {
    let fake = FakeDapr::start().await;
    let dapr = Arc::new(client(&fake));
    fake.put(STORE, "counter", json!({"seen": []}));
    let mut tasks = Vec::new();
    for i in 0..20u64 {
        let dapr = dapr.clone();
        tasks.push(tokio::spawn(async move {
            dapr.update_state(STORE, "counter", 20, |v| {
                v["seen"].as_array_mut().unwrap().push(json!(i));
                true
            })
            .await
        }));
    }
    for task in tasks {
        assert!(matches!(task.await.unwrap().unwrap(), Update::Saved(_)));
    }
    let mut seen: Vec<u64> = fake.value(STORE, "counter").unwrap()["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    seen.sort();
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_update_that_changes_nothing_writes_nothing_and_a_missing_key_is_not_found() {
    let fake = FakeDapr::start().await;
    let dapr = client(&fake);
    fake.put(STORE, "k", json!({"status": "notified"}));
    let saves = fake.saves();
    let outcome = dapr.update_state(STORE, "k", 3, |_| false).await.unwrap();
    assert_eq!(outcome, Update::Unchanged(json!({"status": "notified"})));
    assert_eq!(fake.saves(), saves);
    let err = dapr
        .update_state(STORE, "absent", 3, |_| true)
        .await
        .unwrap_err();
    assert!(matches!(err, DaprError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn bindings_carry_data_and_operation_and_their_failure_is_unavailable() {
    let fake = FakeDapr::start().await;
    let dapr = client(&fake);
    dapr.invoke_binding("orders-queue", "create", &json!({"orderId": "x"}))
        .await
        .unwrap();
    assert_eq!(fake.messages("orders-queue"), vec![json!({"orderId": "x"})]);
    fake.fail_bindings(true);
    match dapr
        .invoke_binding("orders-queue", "create", &json!({}))
        .await
        .unwrap_err()
    {
        DaprError::Unavailable { reason } => {
            assert!(reason.contains("ERR_INVOKE_OUTPUT_BINDING"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_failing_store_is_unavailable() {
    let fake = FakeDapr::start().await;
    let dapr = client(&fake);
    fake.fail_state(true);
    let err = dapr.get_state(STORE, "k").await.unwrap_err();
    assert!(matches!(err, DaprError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_sidecar_is_unavailable_within_the_timeout() {
    let fake = FakeDapr::start().await;
    fake.set_delay(Duration::from_secs(10));
    let dapr = DaprClient::new(&fake.settings(), Duration::from_millis(300));
    let started = Instant::now();
    let err = dapr.get_state(STORE, "k").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match err {
        DaprError::Unavailable { reason } => {
            assert!(reason.contains("no answer within 300 ms"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_sidecar_is_unavailable_at_once() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = DaprSettings {
        host: "127.0.0.1".into(),
        http_port: port,
        api_token: None,
    };
    let dapr = DaprClient::new(&settings, Duration::from_secs(3));
    let started = Instant::now();
    let err = dapr
        .save_state(STORE, "k", &Value::Null, None, Concurrency::LastWrite)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    match err {
        DaprError::Unavailable { reason } => assert!(reason.contains("cannot connect"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
