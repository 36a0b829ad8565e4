//! The payloads of the Azure Functions custom handler documentation, parsed and answered.
//!
//! Fixtures: the JSON documents of learn.microsoft.com/azure/azure-functions/functions-custom-handlers
//! (source: MicrosoftDocs/azure-docs, articles/azure-functions/functions-custom-handlers.md, at
//! commit 03e5750a): "Request payload" (a queue trigger), "Response payload", and the
//! "Function with bindings" example's request to the handler (an HTTP trigger) and its answer.
//! They are reproduced byte for byte, including the docs' own quirks: `Query` as a JSON-encoded
//! string, `Logs: null`, a message text that is not JSON.

use custom_handler::{HttpResponseOutput, InvocationRequest, InvocationResponse};
use serde_json::{json, Value};

const QUEUE_TRIGGER_REQUEST: &str = r#"{
  "Data": {
    "myQueueItem": "{ message: \"Message sent\" }"
  },
  "Metadata": {
    "DequeueCount": 1,
    "ExpirationTime": "2019-10-16T17:58:31+00:00",
    "Id": "800ae4b3-bdd2-4c08-badd-f08e5a34b865",
    "InsertionTime": "2019-10-09T17:58:31+00:00",
    "NextVisibleTime": "2019-10-09T18:08:32+00:00",
    "PopReceipt": "AgAAAAMAAAAAAAAAAgtnj8x+1QE=",
    "sys": {
      "MethodName": "QueueTrigger",
      "UtcNow": "2019-10-09T17:58:32.2205399Z",
      "RandGuid": "24ad4c06-24ad-4e5b-8294-3da9714877e9"
    }
  }
}"#;

const RESPONSE_PAYLOAD: &str = r#"{
  "Outputs": {
    "res": {
      "body": "Message enqueued"
    },
    "myQueueOutput": [
      "queue message 1",
      "queue message 2"
    ]
  },
  "Logs": [
    "Log message 1",
    "Log message 2"
  ],
  "ReturnValue": "{\"hello\":\"world\"}"
}"#;

const HTTP_TRIGGER_REQUEST: &str = r#"{
  "Data": {
    "req": {
      "Url": "http://localhost:7071/api/order",
      "Method": "POST",
      "Query": "{}",
      "Headers": {
        "Content-Type": [
          "application/json"
        ]
      },
      "Params": {},
      "Body": "{\"id\":1005,\"quantity\":2,\"color\":\"black\"}"
    }
  },
  "Metadata": {
  }
}"#;

const HTTP_TRIGGER_RESPONSE: &str = r#"{
  "Outputs": {
    "message": "{\"id\":1005,\"quantity\":2,\"color\":\"black\"}",
    "res": {
      "body": "Order enqueued"
    }
  },
  "Logs": null,
  "ReturnValue": null
}"#;

#[test]
fn the_documented_queue_trigger_request_parses() {
    let request: InvocationRequest = serde_json::from_str(QUEUE_TRIGGER_REQUEST).unwrap();
    assert_eq!(
        request.data["myQueueItem"],
        json!("{ message: \"Message sent\" }")
    );
    let meta = request.queue_metadata().unwrap();
    assert_eq!(meta.dequeue_count, 1);
    assert_eq!(meta.id, "800ae4b3-bdd2-4c08-badd-f08e5a34b865");
    assert_eq!(
        meta.expiration_time.as_deref(),
        Some("2019-10-16T17:58:31+00:00")
    );
    assert_eq!(
        meta.insertion_time.as_deref(),
        Some("2019-10-09T17:58:31+00:00")
    );
    assert_eq!(
        meta.next_visible_time.as_deref(),
        Some("2019-10-09T18:08:32+00:00")
    );
    assert_eq!(
        meta.pop_receipt.as_deref(),
        Some("AgAAAAMAAAAAAAAAAgtnj8x+1QE=")
    );
    let sys = meta.sys.unwrap();
    assert_eq!(sys.method_name, "QueueTrigger");
    assert_eq!(sys.utc_now, "2019-10-09T17:58:32.2205399Z");
    assert_eq!(sys.rand_guid, "24ad4c06-24ad-4e5b-8294-3da9714877e9");
}

#[test]
fn the_documented_http_trigger_request_parses() {
    let request: InvocationRequest = serde_json::from_str(HTTP_TRIGGER_REQUEST).unwrap();
    assert!(request.metadata.is_empty());
    let req = request.http_request("req").unwrap();
    assert_eq!(req.url, "http://localhost:7071/api/order");
    assert_eq!(req.method, "POST");
    assert_eq!(req.query, json!("{}"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert!(req.params.is_empty());
    assert_eq!(req.param("id"), None);
    let body: Value = serde_json::from_str(&req.body_text()).unwrap();
    assert_eq!(body, json!({"id": 1005, "quantity": 2, "color": "black"}));
}

#[test]
fn the_documented_responses_parse_and_ours_have_their_shape() {
    let documented: InvocationResponse = serde_json::from_str(RESPONSE_PAYLOAD).unwrap();
    assert_eq!(documented.logs, ["Log message 1", "Log message 2"]);
    assert_eq!(documented.return_value, json!("{\"hello\":\"world\"}"));
    assert_eq!(documented.outputs["res"]["body"], "Message enqueued");
    assert_eq!(
        documented.outputs["myQueueOutput"],
        json!(["queue message 1", "queue message 2"])
    );

    let documented: InvocationResponse = serde_json::from_str(HTTP_TRIGGER_RESPONSE).unwrap();
    assert!(documented.logs.is_empty());
    assert_eq!(documented.return_value, Value::Null);
    let res: HttpResponseOutput =
        serde_json::from_value(documented.outputs["res"].clone()).unwrap();
    assert_eq!(res.status_code, None);
    assert_eq!(res.body, json!("Order enqueued"));

    // Ours, written out: the same member names, `res` with camelCase `statusCode`.
    let res = HttpResponseOutput {
        status_code: Some(201),
        headers: [("Location".to_owned(), "/api/orders/ab".to_owned())].into(),
        body: json!("{}"),
    };
    let ours = InvocationResponse::http("res", res, vec!["created".to_owned()]);
    assert_eq!(
        serde_json::to_value(&ours).unwrap(),
        json!({
            "Outputs": {"res": {"statusCode": 201, "headers": {"Location": "/api/orders/ab"}, "body": "{}"}},
            "Logs": ["created"],
            "ReturnValue": null
        })
    );
    let none = InvocationResponse::logs_only(vec![]);
    assert_eq!(
        serde_json::to_string(&none).unwrap(),
        r#"{"Outputs":{},"Logs":[],"ReturnValue":null}"#
    );
}

#[test]
fn headers_route_params_and_json_bodies_from_other_host_versions_are_read() {
    let request: InvocationRequest = serde_json::from_value(json!({
        "Data": {"req": {
            "Url": "http://localhost:7071/api/orders/0123",
            "Method": "GET",
            "Query": {"verbose": "1"},
            "Headers": {"idempotency-key": ["k1", "k2"]},
            "Params": {"id": "0123"},
            "Identities": [{"AuthenticationType": null}],
            "Body": {"a": 1}
        }},
        "Metadata": {}
    }))
    .unwrap();
    let req = request.http_request("req").unwrap();
    assert_eq!(req.header("Idempotency-Key"), Some("k1"));
    assert_eq!(req.param("id").as_deref(), Some("0123"));
    assert_eq!(req.body_text(), r#"{"a":1}"#);
    assert!(
        request.http_request("missing").is_err(),
        "an absent binding is not a request"
    );
}
