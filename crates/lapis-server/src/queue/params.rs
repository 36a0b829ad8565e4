//! The Queue service's query parameters, with Azure's limits and errors: a value that is not a
//! number is `InvalidQueryParameterValue`, a number outside the limits
//! `OutOfRangeQueryParameterValue` naming them.

use lapis_wire::{AzureError, ErrorCode};

use crate::error::{ApiError, ApiResult};
use crate::request::Query;

/// Seven days, the longest visibility timeout (and, before 2017-07-29, time to live).
pub const SEVEN_DAYS: i64 = 7 * 24 * 3600;

fn invalid(name: &str, value: &str, reason: &str) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::InvalidQueryParameterValue)
            .detail("QueryParameterName", name)
            .detail("QueryParameterValue", value)
            .detail("Reason", reason),
    )
}

fn out_of_range(name: &str, value: &str, min: i64, max: i64) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::OutOfRangeQueryParameterValue)
            .detail("QueryParameterName", name)
            .detail("QueryParameterValue", value)
            .detail("MinimumAllowed", min.to_string())
            .detail("MaximumAllowed", max.to_string()),
    )
}

fn missing(name: &str) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::MissingRequiredQueryParameter)
            .detail("QueryParameterName", name),
    )
}

/// An integer parameter within `min..=max`; `default` when absent (`None`: required).
pub fn integer(
    query: &Query,
    name: &str,
    min: i64,
    max: i64,
    default: Option<i64>,
) -> ApiResult<i64> {
    let Some(value) = query.get(name) else {
        return default.ok_or_else(|| missing(name));
    };
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, "The value is not an integer."))?;
    if n < min || n > max {
        return Err(out_of_range(name, value, min, max));
    }
    Ok(n)
}

/// `peekonly`: `true` makes Get Messages a Peek Messages.
pub fn peek_only(query: &Query) -> ApiResult<bool> {
    match query.get("peekonly") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(invalid("peekonly", v, "The value is not a boolean.")),
    }
}

/// `numofmessages`: 1 to 32, one when absent.
pub fn number_of_messages(query: &Query) -> ApiResult<u32> {
    Ok(integer(query, "numofmessages", 1, 32, Some(1))? as u32)
}

/// `messagettl` in seconds: any positive number, or -1 for a message that never expires
/// (`None`); seven days when absent.
pub fn time_to_live(query: &Query) -> ApiResult<Option<i64>> {
    let ttl = integer(
        query,
        "messagettl",
        -1,
        i64::from(i32::MAX),
        Some(SEVEN_DAYS),
    )?;
    match ttl {
        -1 => Ok(None),
        0 => Err(out_of_range(
            "messagettl",
            query.get("messagettl").unwrap_or_default(),
            1,
            i64::from(i32::MAX),
        )),
        n => Ok(Some(n)),
    }
}

/// `popreceipt`, required by Delete and Update Message. Pop receipts are base64 (Lapis gives out
/// the URL-safe alphabet); anything else cannot be one.
pub fn pop_receipt(query: &Query) -> ApiResult<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let value = query
        .get("popreceipt")
        .ok_or_else(|| missing("popreceipt"))?;
    let base64 = URL_SAFE_NO_PAD.decode(value).is_ok() || STANDARD.decode(value).is_ok();
    if value.is_empty() || !base64 {
        return Err(invalid("popreceipt", value, "Invalid pop receipt format."));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(Some(s))
    }

    fn code<T: std::fmt::Debug>(r: ApiResult<T>) -> ErrorCode {
        r.unwrap_err().0.code
    }

    #[test]
    fn integers_keep_to_their_limits() {
        assert_eq!(number_of_messages(&q("")).unwrap(), 1);
        assert_eq!(number_of_messages(&q("numofmessages=32")).unwrap(), 32);
        assert_eq!(
            code(number_of_messages(&q("numofmessages=33"))),
            ErrorCode::OutOfRangeQueryParameterValue
        );
        assert_eq!(
            code(number_of_messages(&q("numofmessages=0"))),
            ErrorCode::OutOfRangeQueryParameterValue
        );
        assert_eq!(
            code(number_of_messages(&q("numofmessages=two"))),
            ErrorCode::InvalidQueryParameterValue
        );
        let err = number_of_messages(&q("numofmessages=33")).unwrap_err().0;
        assert!(err
            .to_xml("r", time::OffsetDateTime::UNIX_EPOCH)
            .contains("<MaximumAllowed>32</MaximumAllowed>"));
    }

    #[test]
    fn time_to_live_is_positive_or_minus_one() {
        assert_eq!(time_to_live(&q("")).unwrap(), Some(SEVEN_DAYS));
        assert_eq!(time_to_live(&q("messagettl=-1")).unwrap(), None);
        assert_eq!(
            time_to_live(&q("messagettl=31536000")).unwrap(),
            Some(31_536_000)
        );
        for bad in ["messagettl=0", "messagettl=-2"] {
            assert_eq!(
                code(time_to_live(&q(bad))),
                ErrorCode::OutOfRangeQueryParameterValue,
                "{bad}"
            );
        }
    }

    #[test]
    fn pop_receipts_are_required_base64() {
        assert_eq!(pop_receipt(&q("popreceipt=AAAA")).unwrap(), "AAAA");
        assert_eq!(pop_receipt(&q("popreceipt=a-_b")).unwrap(), "a-_b");
        assert_eq!(
            pop_receipt(&q("popreceipt=ab%2B%2FAA%3D%3D")).unwrap(),
            "ab+/AA=="
        );
        assert_eq!(
            code(pop_receipt(&q(""))),
            ErrorCode::MissingRequiredQueryParameter
        );
        assert_eq!(
            code(pop_receipt(&q("popreceipt=%21%21"))),
            ErrorCode::InvalidQueryParameterValue
        );
        assert_eq!(
            code(peek_only(&q("peekonly=yes"))),
            ErrorCode::InvalidQueryParameterValue
        );
    }
}
