//! The `$filter` subset Azure Table accepts: `eq ne gt ge lt le`, `and or not`, parentheses,
//! property names and typed literals (see [`crate::filter_lex`]).
//!
//! Semantics (documented choices where Azure's are not specified):
//! - Int32, Int64 and Double compare numerically with each other (SDKs send `5` for an Int64
//!   property holding 5). Any other type mismatch makes the comparison false, `ne` included.
//! - A comparison with a missing property is false, `ne` included; `not` inverts the result.
//! - Strings and binaries compare by bytes (UTF-8 order, the store's index order); Guids
//!   case-insensitively; DateTimes as instants; NaN compares like IEEE (only `ne` is true).
//! - Malformed input is 400 `InvalidInput`; nesting deeper than [`MAX_DEPTH`] is refused.

use std::cmp::Ordering;

use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::filter_lex::{tokenize, Token};
use crate::model::{EdmValue, Properties, ValueRef};

/// Nesting bound, so hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn from_word(w: &str) -> Option<CmpOp> {
        Some(match w {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    /// The operator with its operands swapped: `'a' lt X` is `X gt 'a'`.
    fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            other => other,
        }
    }

    fn holds(self, ord: Option<Ordering>) -> bool {
        match (self, ord) {
            (CmpOp::Ne, None) => true,
            (_, None) => false,
            (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
            (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
            (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
            (CmpOp::Ge, Some(o)) => o != Ordering::Less,
            (CmpOp::Lt, Some(o)) => o == Ordering::Less,
            (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Property(String),
    Literal(EdmValue),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, CmpOp, Operand),
    /// A lone boolean literal or property.
    Truth(Operand),
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: Expr,
}

/// Key bounds implied by a filter; every matching entity lies inside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub pk_eq: Option<String>,
    /// `(value, inclusive)`.
    pub pk_lower: Option<(String, bool)>,
    pub pk_upper: Option<(String, bool)>,
    /// RowKey bounds; only meaningful together with `pk_eq`.
    pub rk_lower: Option<(String, bool)>,
    pub rk_upper: Option<(String, bool)>,
}

fn invalid(message: impl Into<String>) -> AzureError {
    AzureError::new(ErrorCode::InvalidInput).message(message)
}

pub fn parse_filter(text: &str) -> Result<Filter, AzureError> {
    let tokens = tokenize(text).map_err(invalid)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let root = p.or_expr()?;
    if p.pos != p.tokens.len() {
        return Err(invalid(format!(
            "Unexpected token {:?} in $filter.",
            p.tokens[p.pos]
        )));
    }
    Ok(Filter { root })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w == word)
    }

    fn enter(&mut self) -> Result<(), AzureError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid("The $filter expression is nested too deeply."));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, AzureError> {
        self.enter()?;
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, AzureError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, AzureError> {
        if self.peek_word("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, AzureError> {
        if self.tokens.get(self.pos) == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or_expr()?;
            if self.tokens.get(self.pos) != Some(&Token::Close) {
                return Err(invalid("Missing ')' in $filter."));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        let op = match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => CmpOp::from_word(w),
            _ => None,
        };
        let Some(op) = op else {
            return match &left {
                Operand::Literal(EdmValue::Boolean(_)) | Operand::Property(_) => {
                    Ok(Expr::Truth(left))
                }
                Operand::Literal(v) => {
                    Err(invalid(format!("A {} is not a condition.", v.type_name())))
                }
            };
        };
        self.pos += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, AzureError> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match token {
            Some(Token::Literal(v)) => Ok(Operand::Literal(v)),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Ok(Operand::Literal(EdmValue::Boolean(true))),
                "false" => Ok(Operand::Literal(EdmValue::Boolean(false))),
                "and" | "or" | "not" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" => Err(invalid(
                    format!("Operator '{w}' where a value was expected in $filter."),
                )),
                _ => Ok(Operand::Property(w)),
            },
            Some(other) => Err(invalid(format!("Unexpected {other:?} in $filter."))),
            None => Err(invalid("The $filter expression ends too early.")),
        }
    }
}

/// A row's user properties, owned, borrowed or still encoded: evaluation reads each without
/// copying.
#[derive(Clone, Copy)]
enum RowProps<'a> {
    Owned(&'a Properties),
    Borrowed(&'a [(&'a str, ValueRef<'a>)]),
    Encoded(&'a [u8]),
}

impl<'a> RowProps<'a> {
    fn get(self, name: &str) -> Option<ValueRef<'a>> {
        match self {
            RowProps::Owned(props) => props
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_value_ref()),
            RowProps::Borrowed(props) => props.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
            RowProps::Encoded(bytes) => crate::codec::find_property_ref(bytes, name),
        }
    }
}

/// The entity a filter is evaluated against.
struct Row<'a> {
    partition_key: &'a str,
    row_key: &'a str,
    timestamp: OffsetDateTime,
    props: RowProps<'a>,
}

impl Row<'_> {
    /// Literals borrow from the filter, everything else from the row.
    fn value<'v>(&'v self, operand: &'v Operand) -> Option<ValueRef<'v>> {
        match operand {
            Operand::Literal(v) => Some(v.as_value_ref()),
            Operand::Property(name) => match name.as_str() {
                "PartitionKey" => Some(ValueRef::String(self.partition_key)),
                "RowKey" => Some(ValueRef::String(self.row_key)),
                "Timestamp" => Some(ValueRef::DateTime(self.timestamp)),
                _ => self.props.get(name),
            },
        }
    }
}

/// `None` when the values are not comparable (type mismatch, NaN).
fn compare<'a>(a: ValueRef<'a>, b: ValueRef<'a>) -> Option<Ordering> {
    use ValueRef::*;
    let numeric = |v: ValueRef| match v {
        Int32(i) => Some(f64::from(i)),
        Int64(i) => Some(i as f64),
        Double(d) => Some(d),
        _ => None,
    };
    match (a, b) {
        (String(x), String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Boolean(x), Boolean(y)) => Some(x.cmp(&y)),
        (DateTime(x), DateTime(y)) => Some(x.cmp(&y)),
        // Byte-wise on the ASCII-lowercased texts, as comparing lowercased copies would.
        (Guid(x), Guid(y)) => {
            let lower = |s: &'a str| s.bytes().map(|b| b.to_ascii_lowercase());
            Some(lower(x).cmp(lower(y)))
        }
        (Binary(x), Binary(y)) => Some(x.cmp(y)),
        // Exact for integers (Int64 beyond 2^53 would lose precision through f64).
        (Int32(_) | Int64(_), Int32(_) | Int64(_)) => Some(as_i64(a)?.cmp(&as_i64(b)?)),
        _ => numeric(a)?.partial_cmp(&numeric(b)?),
    }
}

fn as_i64(v: ValueRef) -> Option<i64> {
    match v {
        ValueRef::Int32(i) => Some(i64::from(i)),
        ValueRef::Int64(i) => Some(i),
        _ => None,
    }
}

fn eval(expr: &Expr, row: &Row) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, row) && eval(b, row),
        Expr::Or(a, b) => eval(a, row) || eval(b, row),
        Expr::Not(a) => !eval(a, row),
        Expr::Truth(o) => row.value(o) == Some(ValueRef::Boolean(true)),
        Expr::Compare(l, op, r) => match (row.value(l), row.value(r)) {
            (Some(a), Some(b)) => {
                let ord = compare(a, b);
                let comparable_types = ord.is_some() || is_nan_pair(a, b);
                comparable_types && op.holds(ord)
            }
            _ => false,
        },
    }
}

/// A NaN makes an ordering undefined but is still a Double: `ne` holds, the rest do not.
fn is_nan_pair(a: ValueRef, b: ValueRef) -> bool {
    let num = |v: ValueRef| {
        matches!(
            v,
            ValueRef::Int32(_) | ValueRef::Int64(_) | ValueRef::Double(_)
        )
    };
    num(a) && num(b)
}

impl Filter {
    pub fn matches(
        &self,
        partition_key: &str,
        row_key: &str,
        timestamp: OffsetDateTime,
        props: &Properties,
    ) -> bool {
        self.eval(partition_key, row_key, timestamp, RowProps::Owned(props))
    }

    /// [`Filter::matches`] on borrowed properties, as
    /// [`decode_property_refs`](crate::codec::decode_property_refs) gives them.
    pub fn matches_refs(
        &self,
        partition_key: &str,
        row_key: &str,
        timestamp: OffsetDateTime,
        props: &[(&str, ValueRef)],
    ) -> bool {
        self.eval(partition_key, row_key, timestamp, RowProps::Borrowed(props))
    }

    /// [`Filter::matches`] on properties as [`encode_properties`](crate::codec::encode_properties)
    /// stored them, decoding only the values the filter names: the query path, where most of
    /// the properties of a row, and often the row itself, are never needed. Corrupt bytes match
    /// nothing.
    pub fn matches_encoded(
        &self,
        partition_key: &str,
        row_key: &str,
        timestamp: OffsetDateTime,
        properties: &[u8],
    ) -> bool {
        self.eval(
            partition_key,
            row_key,
            timestamp,
            RowProps::Encoded(properties),
        )
    }

    fn eval(
        &self,
        partition_key: &str,
        row_key: &str,
        timestamp: OffsetDateTime,
        props: RowProps,
    ) -> bool {
        eval(
            &self.root,
            &Row {
                partition_key,
                row_key,
                timestamp,
                props,
            },
        )
    }

    pub fn key_range(&self) -> KeyRange {
        let mut range = KeyRange::default();
        let mut conjuncts = vec![&self.root];
        while let Some(e) = conjuncts.pop() {
            match e {
                Expr::And(a, b) => {
                    conjuncts.push(b);
                    conjuncts.push(a);
                }
                Expr::Compare(l, op, r) => {
                    let (name, op, value) = match (l, r) {
                        (Operand::Property(n), Operand::Literal(EdmValue::String(v))) => {
                            (n, *op, v)
                        }
                        (Operand::Literal(EdmValue::String(v)), Operand::Property(n)) => {
                            (n, op.flipped(), v)
                        }
                        _ => continue,
                    };
                    match name.as_str() {
                        "PartitionKey" => {
                            if op == CmpOp::Eq && range.pk_eq.is_none() {
                                range.pk_eq = Some(value.clone());
                            }
                            narrow(&mut range.pk_lower, &mut range.pk_upper, op, value);
                        }
                        "RowKey" => narrow(&mut range.rk_lower, &mut range.rk_upper, op, value),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        // `pk_eq` already pins the partition; equal bounds around it add nothing.
        if let Some(pk) = &range.pk_eq {
            let pinned = |b: &Option<(String, bool)>| b.as_ref() == Some(&(pk.clone(), true));
            if pinned(&range.pk_lower) && pinned(&range.pk_upper) {
                range.pk_lower = None;
                range.pk_upper = None;
            }
        }
        range
    }
}

/// Tightens `lower`/`upper` with one comparison; `eq` sets both inclusively, `ne` nothing.
fn narrow(
    lower: &mut Option<(String, bool)>,
    upper: &mut Option<(String, bool)>,
    op: CmpOp,
    v: &str,
) {
    let tighter_lower = |cur: &Option<(String, bool)>, inclusive: bool| match cur {
        None => true,
        Some((c, c_inc)) => v > c.as_str() || (v == c && *c_inc && !inclusive),
    };
    let tighter_upper = |cur: &Option<(String, bool)>, inclusive: bool| match cur {
        None => true,
        Some((c, c_inc)) => v < c.as_str() || (v == c && *c_inc && !inclusive),
    };
    let (lo, hi) = match op {
        CmpOp::Eq => (Some(true), Some(true)),
        CmpOp::Gt => (Some(false), None),
        CmpOp::Ge => (Some(true), None),
        CmpOp::Lt => (None, Some(false)),
        CmpOp::Le => (None, Some(true)),
        CmpOp::Ne => (None, None),
    };
    if let Some(inc) = lo {
        if tighter_lower(lower, inc) {
            *lower = Some((v.to_owned(), inc));
        }
    }
    if let Some(inc) = hi {
        if tighter_upper(upper, inc) {
            *upper = Some((v.to_owned(), inc));
        }
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
