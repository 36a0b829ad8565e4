//! The Order function (issue 16): an HTTP-triggered Azure Functions custom handler that
//! validates orders, prices them exactly, keeps them in a Dapr state store and queues an
//! `order-accepted` message through a Dapr output binding.

pub mod ids;
pub mod money;
pub mod routes;
pub mod service;
pub mod validate;

use std::time::Duration;

use custom_handler::settings::{millis_or, non_empty};
use custom_handler::{HandlerSettings, SettingsError};

/// The Order app's environment: the shared settings plus its binding and time budget.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSettings {
    pub handler: HandlerSettings,
    /// `ORDER_QUEUE_BINDING`, default `orders-queue`.
    pub queue_binding: String,
    /// `ORDER_REQUEST_TIMEOUT_MS`, default 4000: the most one request waits for Dapr.
    pub request_timeout: Duration,
}

impl OrderSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let handler = HandlerSettings::from_lookup(&get)?;
        let queue_binding =
            non_empty(&get, "ORDER_QUEUE_BINDING").unwrap_or_else(|| "orders-queue".to_owned());
        let request_timeout = millis_or(&get, "ORDER_REQUEST_TIMEOUT_MS", 4000)?;
        Ok(OrderSettings {
            handler,
            queue_binding,
            request_timeout,
        })
    }
}
