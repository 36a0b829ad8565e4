//! The Functions app layout beside the crate (app/) and its Dockerfile agree with each other,
//! with the repository, and with the contract in docs/functions.md.

#[path = "../../custom-handler/tests/support/layout.rs"]
mod layout;

use layout::{binding, check_dockerfile, read_json, repo_root};
use serde_json::json;

#[test]
fn the_dockerfile_copies_what_exists_and_installs_the_binary_host_json_runs() {
    let root = repo_root(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        check_dockerfile(&root, "crates/order-function", "order-function"),
        "order-handler"
    );
}

#[test]
fn host_json_and_function_json_declare_the_contracts_functions() {
    let app = repo_root(env!("CARGO_MANIFEST_DIR")).join("crates/order-function/app");
    let host = read_json(&app.join("host.json"));
    assert_eq!(host["version"], "2.0");
    assert_eq!(host["customHandler"]["enableForwardingHttpRequest"], true);
    assert_eq!(
        host["extensionBundle"]["id"],
        "Microsoft.Azure.Functions.ExtensionBundle"
    );

    for (function, method, route) in [
        ("CreateOrder", "post", "orders"),
        ("GetOrder", "get", "orders/{id}"),
    ] {
        let f = read_json(&app.join(function).join("function.json"));
        let trigger = binding(&f, "req");
        assert_eq!(trigger["type"], "httpTrigger", "{function}");
        assert_eq!(trigger["direction"], "in");
        assert_eq!(trigger["authLevel"], "anonymous");
        assert_eq!(trigger["methods"], json!([method]));
        assert_eq!(trigger["route"], route);
        let res = binding(&f, "res");
        assert_eq!(
            (&res["type"], &res["direction"]),
            (&json!("http"), &json!("out"))
        );
        // Forwarding applies to HTTP-only functions: nothing but the trigger and `res`.
        assert_eq!(f["bindings"].as_array().unwrap().len(), 2, "{function}");
    }
}
