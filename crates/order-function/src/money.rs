//! Amounts: decimal strings with at most two places in, two places out, exact arithmetic
//! (rust_decimal) in between. Never floats: 3 x 0.10 is 0.30, not 0.30000000000000004.

use rust_decimal::Decimal;

/// More integer digits than this cannot be a price (and keeps every total far inside
/// `Decimal`'s 28 digits).
const MAX_INTEGER_DIGITS: usize = 12;

/// Why a price was refused, to be prefixed with the field's name.
pub fn parse_price(text: &str) -> Result<Decimal, String> {
    const EXAMPLE: &str = "a decimal string with at most two places, like \"12.50\"";
    if text.starts_with('-') {
        return Err(format!("must not be negative (got {text:?})"));
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(format!("must be {EXAMPLE} (got {text:?})"));
    }
    if fraction.is_some_and(|f| f.len() > 2) {
        return Err(format!("has more than two decimal places (got {text:?})"));
    }
    if whole.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
        return Err(format!(
            "is too large: at most {MAX_INTEGER_DIGITS} digits before the point (got {text:?})"
        ));
    }
    let mut value: Decimal = text
        .parse()
        .map_err(|_| format!("must be {EXAMPLE} (got {text:?})"))?;
    value.rescale(2);
    Ok(value)
}

/// `quantity` x `unit_price`, or `None` when it does not fit.
pub fn line_total(unit_price: Decimal, quantity: u64) -> Option<Decimal> {
    unit_price.checked_mul(Decimal::from(quantity))
}

/// Two places, always: "37.50", "0.30", "0.00".
pub fn format_amount(amount: Decimal) -> String {
    let mut amount = amount;
    amount.rescale(2);
    amount.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(lines: &[(&str, u64)]) -> String {
        let sum = lines.iter().fold(Decimal::ZERO, |sum, (price, quantity)| {
            sum + line_total(parse_price(price).unwrap(), *quantity).unwrap()
        });
        format_amount(sum)
    }

    #[test]
    fn totals_are_exact() {
        assert_eq!(total(&[("0.10", 3)]), "0.30");
        assert_eq!(total(&[("0.10", 1), ("0.20", 1)]), "0.30");
        assert_eq!(total(&[("12.50", 3)]), "37.50");
        assert_eq!(total(&[("12.5", 1)]), "12.50");
        assert_eq!(total(&[("0", 5)]), "0.00");
        assert_eq!(total(&[("0.01", 1_000_000_007)]), "10000000.07");
        assert_eq!(
            total(&[("999999999999.99", 1_000_000_000)]),
            "999999999999990000000.00"
        );
        assert_eq!(total(&[("0.01", u64::MAX)]), "184467440737095516.15");
        // Past Decimal's 28 digits the product is refused, never wrapped or rounded.
        assert_eq!(
            line_total(parse_price("999999999999.99").unwrap(), u64::MAX),
            None
        );
    }

    #[test]
    fn prices_are_normalised_to_two_places() {
        assert_eq!(format_amount(parse_price("12.5").unwrap()), "12.50");
        assert_eq!(format_amount(parse_price("12").unwrap()), "12.00");
        assert_eq!(format_amount(parse_price("007.05").unwrap()), "7.05");
    }

    #[test]
    fn malformed_prices_are_refused_with_the_reason() {
        for (text, reason) in [
            ("12.505", "more than two decimal places"),
            ("-1.00", "must not be negative"),
            ("1e3", "like \"12.50\""),
            ("", "like \"12.50\""),
            (".5", "like \"12.50\""),
            ("12.", "like \"12.50\""),
            (" 12.50", "like \"12.50\""),
            ("+1", "like \"12.50\""),
            ("1,50", "like \"12.50\""),
            ("NaN", "like \"12.50\""),
            ("1234567890123.00", "too large"),
        ] {
            let err = parse_price(text).unwrap_err();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
    }
}
