//! Tokens of the `$filter` language.

use crate::datetime::parse_datetime;
use crate::json_in::is_guid;
use crate::model::EdmValue;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Open,
    Close,
    /// A bare word: an operator (`eq`, `and`, ...), `true`/`false`, or a property name.
    Word(String),
    Literal(EdmValue),
}

/// Splits `text` into tokens; `Err` carries the message of the InvalidInput error.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push(Token::Open);
            i += 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            i += 1;
        } else if c == '\'' {
            let (s, next) = quoted(&chars, i)?;
            tokens.push(Token::Literal(EdmValue::String(s)));
            i = next;
        } else if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token::Literal(number(&word)?));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'\'') {
                let (body, next) = quoted(&chars, i)?;
                tokens.push(Token::Literal(typed_literal(&word, &body)?));
                i = next;
            } else {
                tokens.push(Token::Word(word));
            }
        } else {
            return Err(format!("Unexpected character '{c}' at position {i}."));
        }
    }
    Ok(tokens)
}

/// A `'...'` string starting at `chars[open]`, with `''` as an escaped quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => return Err(format!("Unterminated string literal at position {open}.")),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(&c) => {
                s.push(c);
                i += 1;
            }
        }
    }
}

/// `123` (Int32, or Int64 past i32), `123L` (Int64), `1.5`, `1e10`, `2.0D` (Double).
fn number(word: &str) -> Result<EdmValue, String> {
    let bad = || format!("Invalid numeric literal '{word}'.");
    if let Some(digits) = word.strip_suffix(['L', 'l']) {
        return digits.parse().map(EdmValue::Int64).map_err(|_| bad());
    }
    let double_suffix = word.strip_suffix(['D', 'd']);
    let body = double_suffix.unwrap_or(word);
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Err(bad());
    }
    let is_integer = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-'));
    if is_integer && double_suffix.is_none() {
        return match body.parse::<i64>() {
            Ok(v) => Ok(i32::try_from(v).map_or(EdmValue::Int64(v), EdmValue::Int32)),
            Err(_) => Err(bad()),
        };
    }
    match body.parse::<f64>() {
        Ok(d) if d.is_finite() => Ok(EdmValue::Double(d)),
        _ => Err(bad()),
    }
}

/// `datetime'…'`, `guid'…'`, `X'…'` / `binary'…'` (hex).
fn typed_literal(prefix: &str, body: &str) -> Result<EdmValue, String> {
    let bad = || format!("Invalid {prefix} literal '{body}'.");
    match prefix {
        "datetime" => parse_datetime(body).map(EdmValue::DateTime).ok_or_else(bad),
        "guid" if is_guid(body) => Ok(EdmValue::Guid(body.to_owned())),
        "X" | "binary" => {
            if !body.len().is_multiple_of(2) {
                return Err(bad());
            }
            (0..body.len())
                .step_by(2)
                .map(|i| {
                    body.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .map(EdmValue::Binary)
                .ok_or_else(bad)
        }
        _ => Err(format!("Unknown literal type '{prefix}'.")),
    }
}
