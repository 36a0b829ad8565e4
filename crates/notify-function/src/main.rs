//! `notify-handler`: the process the Functions host starts (host.json `defaultExecutablePath`).

use custom_handler::{log, DaprClient, HandlerSettings};
use notify_function::routes::router;
use notify_function::{NotifyService, DAPR_TIMEOUT};
use serde_json::{json, Map};

#[tokio::main]
async fn main() {
    let settings = match HandlerSettings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("notify-handler: {err}");
            std::process::exit(2);
        }
    };
    let dapr = DaprClient::new(&settings.dapr, DAPR_TIMEOUT);
    let service = NotifyService::new(dapr, settings.state_store.clone());
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "notify-handler: cannot listen on {}: {err}",
                settings.listen
            );
            std::process::exit(1);
        }
    };
    let mut fields = Map::new();
    fields.insert("listen".into(), json!(settings.listen.to_string()));
    fields.insert("dapr".into(), json!(settings.dapr.base_url()));
    fields.insert("stateStore".into(), json!(settings.state_store));
    log::emit("info", "notify", "handler.started", &fields);
    if let Err(err) = axum::serve(listener, router(service)).await {
        eprintln!("notify-handler: {err}");
        std::process::exit(1);
    }
}
