//! `order-handler`: the process the Functions host starts (host.json `defaultExecutablePath`).

use custom_handler::{log, DaprClient};
use order_function::routes::router;
use order_function::service::OrderService;
use order_function::OrderSettings;
use serde_json::{json, Map};

#[tokio::main]
async fn main() {
    let settings = match OrderSettings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("order-handler: {err}");
            std::process::exit(2);
        }
    };
    let dapr = DaprClient::new(&settings.handler.dapr, settings.request_timeout);
    let service = OrderService::new(
        dapr,
        settings.handler.state_store.clone(),
        settings.queue_binding.clone(),
        settings.request_timeout,
    );
    let listener = match tokio::net::TcpListener::bind(settings.handler.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "order-handler: cannot listen on {}: {err}",
                settings.handler.listen
            );
            std::process::exit(1);
        }
    };
    let mut fields = Map::new();
    fields.insert("listen".into(), json!(settings.handler.listen.to_string()));
    fields.insert("dapr".into(), json!(settings.handler.dapr.base_url()));
    fields.insert("stateStore".into(), json!(settings.handler.state_store));
    fields.insert("queueBinding".into(), json!(settings.queue_binding));
    fields.insert(
        "requestTimeoutMs".into(),
        json!(settings.request_timeout.as_millis() as u64),
    );
    log::emit("info", "order", "handler.started", &fields);
    if let Err(err) = axum::serve(listener, router(service)).await {
        eprintln!("order-handler: {err}");
        std::process::exit(1);
    }
}
