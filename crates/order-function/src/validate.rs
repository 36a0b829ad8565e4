//! An order request body, checked field by field: every refusal names the field
//! (`items[2].quantity`) and says why. Unknown fields are ignored.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::money::{format_amount, line_total, parse_price};

pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_ITEMS: usize = 100;
const MAX_TEXT_CHARS: usize = 200;

/// A valid order request, amounts computed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub customer: String,
    pub items: Vec<OrderLine>,
    pub total: Decimal,
    pub client_order_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: u64,
    pub unit_price: Decimal,
    pub line_total: Decimal,
}

impl NewOrder {
    /// The items as stored and answered: amounts as two-place strings.
    pub fn items_json(&self) -> Value {
        Value::Array(
            self.items
                .iter()
                .map(|line| {
                    json!({
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unitPrice": format_amount(line.unit_price),
                        "lineTotal": format_amount(line.line_total),
                    })
                })
                .collect(),
        )
    }

    /// What makes two requests "the same order" for idempotency: the normalised content
    /// ("12.5" and "12.50" are the same price), not the bytes of the body.
    pub fn canonical_text(&self) -> String {
        json!({
            "customer": self.customer,
            "items": self.items_json(),
            "clientOrderId": self.client_order_id,
        })
        .to_string()
    }
}

/// Parses and checks a body; the error is the message of the 400.
pub fn parse_order(body: &[u8]) -> Result<NewOrder, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!(
            "the body is {} bytes; at most {MAX_BODY_BYTES} (64 KiB) are accepted",
            body.len()
        ));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(order) = value else {
        return Err("the body must be a JSON object".to_owned());
    };
    let customer = required_text(&order, "customer", "customer")?;
    let client_order_id = match order.get("clientOrderId") {
        None | Some(Value::Null) => None,
        Some(_) => Some(required_text(&order, "clientOrderId", "clientOrderId")?),
    };
    let items = match order.get("items") {
        None | Some(Value::Null) => return Err("items is required".to_owned()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("items must be an array".to_owned()),
    };
    if items.is_empty() {
        return Err("items must contain at least one item".to_owned());
    }
    if items.len() > MAX_ITEMS {
        return Err(format!(
            "items has {} entries; at most {MAX_ITEMS} are accepted",
            items.len()
        ));
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut total = Decimal::ZERO;
    for (i, item) in items.iter().enumerate() {
        let line = parse_line(item, i)?;
        total = total
            .checked_add(line.line_total)
            .ok_or_else(|| "the order total is too large".to_owned())?;
        lines.push(line);
    }
    Ok(NewOrder {
        customer,
        items: lines,
        total,
        client_order_id,
    })
}

fn parse_line(item: &Value, i: usize) -> Result<OrderLine, String> {
    let Value::Object(item) = item else {
        return Err(format!("items[{i}] must be an object"));
    };
    let sku = required_text(item, "sku", &format!("items[{i}].sku"))?;
    let field = format!("items[{i}].quantity");
    let quantity = match item.get("quantity") {
        None | Some(Value::Null) => return Err(format!("{field} is required")),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(q) if q > 0 => q,
            _ => return Err(format!("{field} must be a positive integer (got {n})")),
        },
        Some(other) => {
            return Err(format!(
                "{field} must be a positive integer, not {}",
                kind(other)
            ))
        }
    };
    let field = format!("items[{i}].unitPrice");
    let unit_price = match item.get("unitPrice") {
        None | Some(Value::Null) => return Err(format!("{field} is required")),
        Some(Value::String(text)) => parse_price(text).map_err(|why| format!("{field} {why}"))?,
        Some(Value::Number(n)) => {
            return Err(format!(
                "{field} must be a string such as \"12.50\", not the JSON number {n} (numbers are binary floats to most clients, and cents get lost)"
            ))
        }
        Some(other) => return Err(format!("{field} must be a string such as \"12.50\", not {}", kind(other))),
    };
    let line_total = line_total(unit_price, quantity)
        .ok_or_else(|| format!("items[{i}]: quantity x unitPrice is too large"))?;
    Ok(OrderLine {
        sku,
        quantity,
        unit_price,
        line_total,
    })
}

fn required_text(object: &Map<String, Value>, name: &str, field: &str) -> Result<String, String> {
    match object.get(name) {
        None | Some(Value::Null) => Err(format!("{field} is required")),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Err(format!("{field} must not be empty"))
        }
        Some(Value::String(text)) if text.chars().count() > MAX_TEXT_CHARS => Err(format!(
            "{field} is longer than {MAX_TEXT_CHARS} characters"
        )),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(format!("{field} must be a string, not {}", kind(other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: Value) -> String {
        parse_order(body.to_string().as_bytes()).unwrap_err()
    }

    fn item(quantity: Value, price: Value) -> Value {
        json!({"sku": "SKU-1", "quantity": quantity, "unitPrice": price})
    }

    #[test]
    fn a_valid_order_gets_exact_totals_and_keeps_unknown_fields_out() {
        let body = json!({
            "customer": "Ada",
            "items": [item(json!(3), json!("0.10")), item(json!(2), json!("12.5"))],
            "note": "ignored"
        });
        let order = parse_order(body.to_string().as_bytes()).unwrap();
        assert_eq!(order.customer, "Ada");
        assert_eq!(format_amount(order.total), "25.30");
        assert_eq!(
            order.items_json(),
            json!([
                {"sku": "SKU-1", "quantity": 3, "unitPrice": "0.10", "lineTotal": "0.30"},
                {"sku": "SKU-1", "quantity": 2, "unitPrice": "12.50", "lineTotal": "25.00"}
            ])
        );
        assert_eq!(order.client_order_id, None);
    }

    #[test]
    fn the_same_content_is_the_same_request() {
        let a = parse_order(
            br#"{"customer":"A","items":[{"sku":"s","quantity":1,"unitPrice":"12.5"}]}"#,
        )
        .unwrap();
        let b = parse_order(
            br#"{ "items":[{"unitPrice":"12.50","sku":"s","quantity":1}], "customer":"A"}"#,
        )
        .unwrap();
        let c = parse_order(
            br#"{"customer":"A","items":[{"sku":"s","quantity":2,"unitPrice":"12.5"}]}"#,
        )
        .unwrap();
        assert_eq!(a.canonical_text(), b.canonical_text());
        assert_ne!(a.canonical_text(), c.canonical_text());
    }

    #[test]
    fn every_refusal_names_the_field_and_the_reason() {
        let ok = item(json!(1), json!("1.00"));
        for (body, expected) in [
            (json!({"items": [ok]}), "customer is required"),
            (
                json!({"customer": "  ", "items": [ok]}),
                "customer must not be empty",
            ),
            (
                json!({"customer": 7, "items": [ok]}),
                "customer must be a string, not a number",
            ),
            (
                json!({"customer": "x".repeat(201), "items": [ok]}),
                "customer is longer than 200",
            ),
            (json!({"customer": "A"}), "items is required"),
            (
                json!({"customer": "A", "items": {}}),
                "items must be an array",
            ),
            (
                json!({"customer": "A", "items": []}),
                "items must contain at least one item",
            ),
            (
                json!({"customer": "A", "items": vec![ok.clone(); 101]}),
                "items has 101 entries; at most 100",
            ),
            (
                json!({"customer": "A", "items": [ok, 5]}),
                "items[1] must be an object",
            ),
            (
                json!({"customer": "A", "items": [{"quantity": 1, "unitPrice": "1"}]}),
                "items[0].sku is required",
            ),
            (
                json!({"customer": "A", "items": [{"sku": "", "quantity": 1, "unitPrice": "1"}]}),
                "items[0].sku must not be empty",
            ),
            (
                json!({"customer": "A", "items": [ok, item(json!(0), json!("1"))]}),
                "items[1].quantity must be a positive integer (got 0)",
            ),
            (
                json!({"customer": "A", "items": [item(json!(-2), json!("1"))]}),
                "items[0].quantity must be a positive integer (got -2)",
            ),
            (
                json!({"customer": "A", "items": [item(json!(1.5), json!("1"))]}),
                "items[0].quantity must be a positive integer (got 1.5)",
            ),
            (
                json!({"customer": "A", "items": [item(json!("2"), json!("1"))]}),
                "items[0].quantity must be a positive integer, not a string",
            ),
            (
                json!({"customer": "A", "items": [{"sku": "s", "unitPrice": "1"}]}),
                "items[0].quantity is required",
            ),
            (
                json!({"customer": "A", "items": [{"sku": "s", "quantity": 1}]}),
                "items[0].unitPrice is required",
            ),
            (
                json!({"customer": "A", "items": [item(json!(1), json!(12.5))]}),
                "items[0].unitPrice must be a string such as \"12.50\", not the JSON number 12.5",
            ),
            (
                json!({"customer": "A", "items": [item(json!(1), json!("12.505"))]}),
                "items[0].unitPrice has more than two decimal places",
            ),
            (
                json!({"customer": "A", "items": [item(json!(1), json!("-1.00"))]}),
                "items[0].unitPrice must not be negative",
            ),
            (
                json!({"customer": "A", "items": [item(json!(1), json!("1e3"))]}),
                "items[0].unitPrice must be a decimal string",
            ),
            (
                json!({"customer": "A", "clientOrderId": 5, "items": [ok]}),
                "clientOrderId must be a string",
            ),
            (json!([1]), "the body must be a JSON object"),
        ] {
            let err = refused(body.clone());
            assert!(err.starts_with(expected), "{body}: {err}");
        }
    }

    #[test]
    fn bodies_that_are_not_json_or_too_large_are_refused() {
        assert!(parse_order(b"customer=A")
            .unwrap_err()
            .starts_with("the body is not JSON"));
        assert!(parse_order(b"")
            .unwrap_err()
            .starts_with("the body is not JSON"));
        let mut big =
            br#"{"customer":"A","items":[{"sku":"s","quantity":1,"unitPrice":"1"}],"pad":""#
                .to_vec();
        big.resize(MAX_BODY_BYTES + 1 - 2, b'x');
        big.extend_from_slice(b"\"}");
        assert_eq!(big.len(), MAX_BODY_BYTES + 1);
        assert!(parse_order(&big)
            .unwrap_err()
            .contains("at most 65536 (64 KiB)"));
        big.truncate(MAX_BODY_BYTES - 2);
        big.extend_from_slice(b"\"}");
        assert!(parse_order(&big).is_ok(), "exactly 64 KiB is accepted");
    }
}
