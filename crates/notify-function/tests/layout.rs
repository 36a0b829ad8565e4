//! The Functions app layout beside the crate (app/) and its Dockerfile agree with each other,
//! with the repository, and with the contract in docs/functions.md.

#[path = "../../custom-handler/tests/support/layout.rs"]
mod layout;

use layout::{binding, check_dockerfile, read_json, repo_root};

#[test]
fn the_dockerfile_copies_what_exists_and_installs_the_binary_host_json_runs() {
    let root = repo_root(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        check_dockerfile(&root, "crates/notify-function", "notify-function"),
        "notify-handler"
    );
}

#[test]
fn host_json_and_function_json_declare_the_queue_trigger_of_the_contract() {
    let app = repo_root(env!("CARGO_MANIFEST_DIR")).join("crates/notify-function/app");
    let host = read_json(&app.join("host.json"));
    assert_eq!(host["version"], "2.0");
    let queues = &host["extensions"]["queues"];
    assert_eq!(
        queues["maxDequeueCount"], 5,
        "five failed deliveries, then orders-poison"
    );
    assert_eq!(
        queues["messageEncoding"], "base64",
        "what the orders-queue binding writes (encodeBase64)"
    );
    assert!(queues["visibilityTimeout"].is_string());
    // Forwarding is for HTTP-only functions; a queue trigger gets the invocation envelope.
    assert!(host["customHandler"]
        .get("enableForwardingHttpRequest")
        .is_none());

    let function = read_json(&app.join("NotifyOrder/function.json"));
    let trigger = binding(&function, "order");
    assert_eq!(trigger["type"], "queueTrigger");
    assert_eq!(trigger["direction"], "in");
    assert_eq!(trigger["queueName"], "orders");
    assert_eq!(trigger["connection"], "AzureWebJobsStorage");
    assert_eq!(
        function["bindings"].as_array().unwrap().len(),
        1,
        "no output bindings: Dapr writes state"
    );
}
