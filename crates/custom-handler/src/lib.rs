//! What the two Functions apps of issue 16 (Order and Notify) share: the custom-handler
//! protocol, their settings, a Dapr HTTP client, JSON log lines, and the state keys both read.
//! The contract between them is written down in docs/functions.md.

pub mod dapr;
pub mod envelope;
pub mod log;
pub mod settings;

pub use dapr::{Concurrency, DaprClient, DaprError, StateEntry, Update};
pub use envelope::{
    HttpResponseOutput, HttpTriggerRequest, InvocationRequest, InvocationResponse,
    QueueTriggerMetadata, SysMetadata,
};
pub use settings::{DaprSettings, HandlerSettings, SettingsError};

/// The state key of an order (before Dapr's own prefix).
pub fn order_key(order_id: &str) -> String {
    format!("order-{order_id}")
}

/// The state key of an order's notification record.
pub fn notification_key(order_id: &str) -> String {
    format!("notification-{order_id}")
}

/// An order id as both apps make and accept it: 32 lowercase hex digits. Anything else cannot
/// name an order (and cannot smuggle Dapr's `||` key separator into a key).
pub fn is_order_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ids() {
        assert_eq!(
            order_key("0123456789abcdef0123456789abcdef"),
            "order-0123456789abcdef0123456789abcdef"
        );
        assert_eq!(notification_key("ff"), "notification-ff");
        assert!(is_order_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_order_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_order_id("0123456789abcdef0123456789abcde"));
        assert!(!is_order_id("0123456789abcdef0123456789abcdeg"));
        assert!(!is_order_id("x||0123456789abcdef0123456789abc"));
    }
}
