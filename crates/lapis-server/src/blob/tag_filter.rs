//! The tag expression grammar of Find Blobs by Tags (`where=`) and of `x-ms-if-tags`.
//!
//! A comparison is `"key" op 'value'` (a key may also be written bare when it is a plain
//! word); values compare as strings. Find Blobs by Tags joins comparisons with `AND` only, takes
//! `=`, `>`, `>=`, `<`, `<=`, and `@container = 'name'` to search one container. A condition
//! also takes `<>`, `OR` and parentheses, and no `@container`. Keywords are case-insensitive.

use lapis_store::{TagCondition, TagOp, TagQuery, TagTerm};
use lapis_wire::tags::{is_tag_char, MAX_KEY_CHARS, MAX_VALUE_CHARS};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A key: quoted, or a bare word.
    Key(String),
    Value(String),
    Container,
    And,
    Or,
    Op(TagOp),
    Open,
    Close,
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quoted = |i: usize, q: char| -> Result<(String, usize), String> {
            let end = chars[i + 1..]
                .iter()
                .position(|&x| x == q)
                .ok_or_else(|| format!("unterminated {q}"))?;
            Ok((chars[i + 1..i + 1 + end].iter().collect(), i + end + 2))
        };
        match c {
            c if c.is_whitespace() => i += 1,
            '"' => {
                let (key, next) = quoted(i, '"')?;
                out.push(Token::Key(key));
                i = next;
            }
            '\'' => {
                let (value, next) = quoted(i, '\'')?;
                out.push(Token::Value(value));
                i = next;
            }
            '(' | ')' => {
                out.push(if c == '(' { Token::Open } else { Token::Close });
                i += 1;
            }
            '=' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (TagOp::Ne, 2),
                    ('<', Some('=')) => (TagOp::Le, 2),
                    ('>', Some('=')) => (TagOp::Ge, 2),
                    ('<', _) => (TagOp::Lt, 1),
                    ('>', _) => (TagOp::Gt, 1),
                    _ => (TagOp::Eq, 1),
                };
                out.push(Token::Op(op));
                i += len;
            }
            c if c == '@' || c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i] == '@' || chars[i].is_alphanumeric() || chars[i] == '_')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.to_ascii_lowercase().as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "@container" => Token::Container,
                    _ if word.starts_with('@') => return Err(format!("unknown {word}")),
                    _ => Token::Key(word),
                });
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// `key op 'value'`, the key and value within Azure's limits.
    fn term(&mut self, key: String) -> Result<TagTerm, String> {
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            _ => return Err(format!("an operator must follow \"{key}\"")),
        };
        let value = match self.next() {
            Some(Token::Value(v)) => v,
            _ => return Err(format!("a quoted value must follow \"{key}\"")),
        };
        let fits = |s: &str, max: usize| s.chars().count() <= max && s.chars().all(is_tag_char);
        if key.is_empty() || !fits(&key, MAX_KEY_CHARS) || !fits(&value, MAX_VALUE_CHARS) {
            return Err(format!(
                "\"{key}\" {op:?} '{value}' is not a valid tag comparison"
            ));
        }
        Ok(TagTerm { key, op, value })
    }

    fn condition_or(&mut self) -> Result<TagCondition, String> {
        let mut left = self.condition_and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = TagCondition::Or(Box::new(left), Box::new(self.condition_and()?));
        }
        Ok(left)
    }

    fn condition_and(&mut self) -> Result<TagCondition, String> {
        let mut left = self.condition_primary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = TagCondition::And(Box::new(left), Box::new(self.condition_primary()?));
        }
        Ok(left)
    }

    fn condition_primary(&mut self) -> Result<TagCondition, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.condition_or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("unbalanced parentheses".into()),
                }
            }
            Some(Token::Key(key)) => Ok(TagCondition::Term(self.term(key)?)),
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// An `x-ms-if-tags` condition.
pub fn parse_condition(s: &str) -> Result<TagCondition, String> {
    let mut p = Parser {
        tokens: tokens(s)?,
        at: 0,
    };
    let condition = p.condition_or()?;
    match p.peek() {
        None => Ok(condition),
        Some(t) => Err(format!("unexpected {t:?}")),
    }
}

/// A Find Blobs by Tags expression: at least one tag comparison, all joined by AND.
pub fn parse_query(s: &str) -> Result<TagQuery, String> {
    let mut p = Parser {
        tokens: tokens(s)?,
        at: 0,
    };
    let mut query = TagQuery::default();
    loop {
        match p.next() {
            Some(Token::Container) => {
                if p.next() != Some(Token::Op(TagOp::Eq)) {
                    return Err("@container takes = only".into());
                }
                let Some(Token::Value(name)) = p.next() else {
                    return Err("a quoted container name must follow @container =".into());
                };
                if query.container.replace(name).is_some() {
                    return Err("@container is given twice".into());
                }
            }
            Some(Token::Key(key)) => {
                let term = p.term(key)?;
                if term.op == TagOp::Ne {
                    return Err("<> is not supported by Find Blobs by Tags".into());
                }
                query.terms.push(term);
            }
            other => return Err(format!("unexpected {other:?}")),
        }
        match p.next() {
            None => break,
            Some(Token::And) => continue,
            Some(other) => return Err(format!("only AND may join comparisons, not {other:?}")),
        }
    }
    if query.terms.is_empty() {
        return Err("at least one tag comparison is needed".into());
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(key: &str, op: TagOp, value: &str) -> TagTerm {
        TagTerm {
            key: key.into(),
            op,
            value: value.into(),
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn find_expressions() {
        let q = parse_query("\"Date\" >= '2020-04-20' AND \"Date\" < '2020-04-25'").unwrap();
        assert_eq!(
            q.terms,
            [
                term("Date", TagOp::Ge, "2020-04-20"),
                term("Date", TagOp::Lt, "2020-04-25")
            ]
        );
        assert_eq!(q.container, None);
        let q = parse_query("@container='logs' and Project = 'Contoso' AND \"a b\"<='z'").unwrap();
        assert_eq!(q.container.as_deref(), Some("logs"));
        assert_eq!(
            q.terms,
            [
                term("Project", TagOp::Eq, "Contoso"),
                term("a b", TagOp::Le, "z")
            ]
        );
        assert_eq!(
            parse_query("\"k\">'v'").unwrap().terms,
            [term("k", TagOp::Gt, "v")]
        );
    }

    #[test]
    fn find_refuses_what_azure_refuses() {
        for bad in [
            "",
            "@container = 'c'",
            "\"a\" = 'b' OR \"c\" = 'd'",
            "\"a\" <> 'b'",
            "(\"a\" = 'b')",
            "\"a\" = b",
            "\"a\" 'b'",
            "\"a\" = 'b' AND",
            "\"a\" = 'b",
            "@container > 'c' AND \"a\" = 'b'",
            "@container = 'c' AND @container = 'd' AND \"a\" = 'b'",
            "@other = 'c'",
            "\"\" = 'b'",
            "\"a\" = 'b&c'",
            "\"a\" = 'b' \"c\" = 'd'",
        ] {
            assert!(parse_query(bad).is_err(), "{bad}");
        }
        let long = format!("\"{}\" = 'v'", "k".repeat(129));
        assert!(parse_query(&long).is_err());
    }

    #[test]
    fn conditions_take_or_not_equal_and_parentheses() {
        let c = parse_condition("\"a\" = '1' OR (\"b\" <> '2' AND \"c\" > '3')").unwrap();
        assert!(c.holds(&tags(&[("a", "1")])));
        assert!(c.holds(&tags(&[("b", "x"), ("c", "4")])));
        assert!(!c.holds(&tags(&[("b", "2"), ("c", "4")])));
        assert!(
            !c.holds(&tags(&[("c", "4")])),
            "a missing key holds no comparison"
        );
        // AND binds tighter than OR.
        let c = parse_condition("\"a\" = '1' OR \"b\" = '2' AND \"c\" = '3'").unwrap();
        assert!(c.holds(&tags(&[("a", "1")])));
        assert!(!c.holds(&tags(&[("b", "2")])));
        for bad in [
            "",
            "@container = 'c'",
            "(\"a\" = '1'",
            "\"a\" = '1')",
            "\"a\" = '1' AND",
        ] {
            assert!(parse_condition(bad).is_err(), "{bad}");
        }
    }
}
