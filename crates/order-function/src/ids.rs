//! Order ids: derived from the client's idempotency key when there is one, so that a retried
//! request lands on the same state key; random otherwise. Always 32 lowercase hex digits.

use sha2::{Digest, Sha256};

/// The `Idempotency-Key` header wins over the body's `clientOrderId`; each is hashed with its
/// own prefix so that the same text used as both names two different orders.
pub fn order_id(idempotency_key: Option<&str>, client_order_id: Option<&str>) -> String {
    match (idempotency_key, client_order_id) {
        (Some(key), _) => hex_sha256(&format!("idempotency-key:{key}"))[..32].to_owned(),
        (None, Some(id)) => hex_sha256(&format!("client-order-id:{id}"))[..32].to_owned(),
        (None, None) => uuid::Uuid::new_v4().simple().to_string(),
    }
}

/// The fingerprint of a request's normalised content, kept with the order.
pub fn request_hash(canonical_text: &str) -> String {
    hex_sha256(canonical_text)
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use custom_handler::is_order_id;

    #[test]
    fn ids_follow_the_contract() {
        // sha256("idempotency-key:abc") and sha256("client-order-id:abc"), first 32 hex digits
        // (computed independently with `printf %s ... | sha256sum`).
        assert_eq!(order_id(Some("abc"), None), IDEMPOTENCY_ABC);
        assert_eq!(order_id(Some("abc"), Some("other")), IDEMPOTENCY_ABC);
        assert_eq!(order_id(None, Some("abc")), CLIENT_ORDER_ABC);
        let random = order_id(None, None);
        assert!(is_order_id(&random), "{random}");
        assert_ne!(random, order_id(None, None));
        for id in [IDEMPOTENCY_ABC, CLIENT_ORDER_ABC] {
            assert!(is_order_id(id));
        }
    }

    const IDEMPOTENCY_ABC: &str = "0995056036656d61814c38392ece0f64";
    const CLIENT_ORDER_ABC: &str = "b1d82fc58e0731107e454b41cdb166de";
}
