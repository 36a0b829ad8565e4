//! `$select` and `$top` query options of Query Entities / Query Tables.

use lapis_wire::{AzureError, ErrorCode};

/// Azure's page size limit, also the largest `$top`.
pub const MAX_TOP: u32 = 1000;

/// Comma-separated property names, trimmed; `*` selects everything (render treats a list
/// containing `*` as no selection). Duplicates are dropped, order kept.
pub fn parse_select(s: &str) -> Result<Vec<String>, AzureError> {
    let mut names: Vec<String> = Vec::new();
    for raw in s.split(',') {
        let name = raw.trim();
        let valid = name == "*"
            || (name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_'));
        if !valid {
            return Err(AzureError::new(ErrorCode::InvalidInput)
                .message(format!("'{name}' is not a valid property name in $select.")));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// `$top`: an integer in 1..=1000, otherwise 400 InvalidInput.
pub fn parse_top(s: &str) -> Result<u32, AzureError> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_TOP).contains(&n) => Ok(n),
        _ => Err(AzureError::new(ErrorCode::InvalidInput).message(format!(
            "The $top value '{s}' is not an integer between 1 and {MAX_TOP}."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_and_top() {
        assert_eq!(parse_select(" a, RowKey ,a").expect("ok"), ["a", "RowKey"]);
        assert_eq!(parse_select("*").expect("ok"), ["*"]);
        for bad in ["", "a,,b", "a b", "1a"] {
            assert_eq!(
                parse_select(bad).expect_err(bad).code,
                ErrorCode::InvalidInput
            );
        }
        assert_eq!(parse_top("1").expect("ok"), 1);
        assert_eq!(parse_top("1000").expect("ok"), 1000);
        for bad in ["0", "1001", "-1", "x", ""] {
            assert_eq!(parse_top(bad).expect_err(bad).code, ErrorCode::InvalidInput);
        }
    }
}
