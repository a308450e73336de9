//! Catalog conditions **(ours)**: one-line conditions as detection catalogs
//! print them, for example
//! `verb eq "get" and (responseStatus.code ge "400" or username is_null)`.
//!
//! [`parse`] reads one condition into a [`Cond`] (with byte spans), [`lower`]
//! turns it into the IR's [`Expr`], and [`read_conditions`] does both for a
//! rule's `Condition:` key, reporting errors at their line and column in the
//! YAML file.
//!
//! Grammar (whitespace is free between tokens):
//!
//! ```text
//! condition  := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" or ")" | comparison
//! comparison := field ( "is_null" | "is_not_null"
//!                     | ("in" | "not" "in") list
//!                     | ("eq" | "ne" | "gt" | "ge" | "lt" | "le" | "contains"
//!                        | "not" "contains" | "starts_with" | "ends_with") value )
//! field      := key ("." key | "[" digits "]")*
//! key        := [A-Za-z0-9_:@$/-]+ | "`" [^`]+ "`"
//! list       := "[" (value ("," value)* ","?)? "]"
//! value      := '"' (char | \" | \\)* '"' | "'" (char | \' | \\)* "'"
//!             | integer | float | "true" | "false" | "null"
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use winnow::combinator::{not, opt, peek};
use winnow::error::{ErrMode, ModalResult, ParserError};
use winnow::stream::{LocatingSlice, Location, Stateful};
use winnow::token::{any, one_of, take_till, take_while};
use winnow::Parser;
use yaml_serde::Value;

use crate::diag::did_you_mean;
use crate::expr_parse::Scope;
use crate::ir::{CmpOp, Expr, FieldRef, Lit, NumLit, Seg, Test};
use crate::yaml::{Reader, YNode};

/// The operators, as written.
pub const OPERATORS: [&str; 14] = [
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "in",
    "not in",
    "contains",
    "not contains",
    "starts_with",
    "ends_with",
    "is_null",
    "is_not_null",
];

/// How deeply parentheses and `not` may nest.
const MAX_DEPTH: usize = 64;

/// A condition that does not parse or lower, and where in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// Byte offset in the condition.
    pub offset: usize,
    /// The same place as a 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong (without the position).
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl ConditionError {
    fn new(offset: usize, message: impl Into<String>, help: Option<String>) -> Self {
        ConditionError {
            offset,
            column: 0,
            message: message.into(),
            help,
        }
    }

    /// Sets `column` from `offset` in `text`.
    fn located(mut self, text: &str) -> Self {
        self.column = column_of(text, self.offset);
        self
    }
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConditionError {}

/// The 1-based character column of byte `offset` in `text`.
fn column_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(offset, |before| before.chars().count())
        + 1
}

/// An operator of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
    /// `contains`.
    Contains,
    /// `not contains`.
    NotContains,
    /// `starts_with`.
    StartsWith,
    /// `ends_with`.
    EndsWith,
    /// `is_null`.
    IsNull,
    /// `is_not_null`.
    IsNotNull,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Contains => "contains",
            Op::NotContains => "not contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::IsNull => "is_null",
            Op::IsNotNull => "is_not_null",
        }
    }

    fn from_word(word: &str) -> Option<Op> {
        Some(match word {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "in" => Op::In,
            "contains" => Op::Contains,
            "starts_with" => Op::StartsWith,
            "ends_with" => Op::EndsWith,
            "is_null" => Op::IsNull,
            "is_not_null" => Op::IsNotNull,
            _ => return None,
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value with the byte range it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it is in the condition.
    pub span: Range<usize>,
}

/// What an operator compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// No value (`is_null`, `is_not_null`).
    None,
    /// One constant.
    Value(Spanned<Lit>),
    /// A list of constants (`in`, `not in`).
    List(Vec<Spanned<Lit>>),
}

/// A parsed condition, before its field names are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a and b and ...`.
    And(Vec<Cond>),
    /// `a or b or ...`.
    Or(Vec<Cond>),
    /// `not a`.
    Not(Box<Cond>),
    /// `field op value`.
    Compare {
        /// The field's path, as written (`a.b[0]`).
        field: Spanned<Vec<Seg>>,
        /// The operator.
        op: Spanned<Op>,
        /// Its value or list, if it takes one.
        operand: Operand,
    },
}

/// The parser's state: the whole text (for messages) and the nesting depth.
#[derive(Debug, Clone, Copy)]
struct State<'s> {
    text: &'s str,
    depth: usize,
}

type Input<'s> = Stateful<LocatingSlice<&'s str>, State<'s>>;
type PResult<T> = ModalResult<T, ConditionError>;

impl<'s> ParserError<Input<'s>> for ConditionError {
    type Inner = Self;

    fn from_input(input: &Input<'s>) -> Self {
        ConditionError::new(input.current_token_start(), "", None)
    }

    fn or(self, other: Self) -> Self {
        if other.offset >= self.offset {
            other
        } else {
            self
        }
    }

    fn into_inner(self) -> Result<Self, Self> {
        Ok(self)
    }
}

/// Parses one condition.
pub fn parse(text: &str) -> Result<Cond, ConditionError> {
    if text.trim().is_empty() {
        return Err(ConditionError::new(
            0,
            "the condition is empty",
            Some("write a condition such as `verb eq \"get\"`".to_owned()),
        )
        .located(text));
    }
    let mut input = Input {
        input: LocatingSlice::new(text),
        state: State { text, depth: 0 },
    };
    condition(&mut input).map_err(|e| {
        let error = match e {
            ErrMode::Backtrack(e) | ErrMode::Cut(e) => e,
            ErrMode::Incomplete(_) => ConditionError::new(text.len(), "", None),
        };
        let error = if error.message.is_empty() {
            // A primitive failed where no specific message was given.
            let at = error.offset;
            ConditionError::new(
                at,
                format!("unexpected {}", describe(text.get(at..).unwrap_or(""))),
                None,
            )
        } else {
            error
        };
        error.located(text)
    })
}

fn fail<T>(offset: usize, message: impl Into<String>, help: Option<String>) -> PResult<T> {
    Err(ErrMode::Cut(ConditionError::new(offset, message, help)))
}

fn rest<'s>(i: &Input<'s>) -> &'s str {
    *i.input
}

fn column(i: &Input<'_>, offset: usize) -> usize {
    column_of(i.state.text, offset)
}

/// A short description of what starts `rest`, for "found ..." in messages.
fn describe(rest: &str) -> String {
    match rest.chars().next() {
        None => "the end of the condition".to_owned(),
        Some('"' | '\'') => "a string".to_owned(),
        Some(c) if c.is_whitespace() => "a space".to_owned(),
        Some(c) if is_key_char(c) => {
            let word: String = rest.chars().take_while(|c| is_key_char(*c)).collect();
            format!("`{word}`")
        }
        Some(c) => format!("`{c}`"),
    }
}

fn found(i: &Input<'_>) -> String {
    describe(rest(i))
}

/// Characters of an unquoted key.
fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '@' | '$' | '/')
}

/// Characters that continue a field name (so a keyword must not be followed by one).
fn continues_word(c: char) -> bool {
    is_key_char(c) || matches!(c, '.' | '[' | '`')
}

fn ws(i: &mut Input<'_>) -> PResult<()> {
    take_while(0.., char::is_whitespace).void().parse_next(i)
}

/// Consumes the keyword `kw` when it is next, as a whole word.
fn keyword(i: &mut Input<'_>, kw: &'static str) -> PResult<bool> {
    opt((kw, not(one_of(continues_word))))
        .map(|o| o.is_some())
        .parse_next(i)
}

/// A word of letters, digits and underscores (an operator or a keyword).
fn word<'s>(i: &mut Input<'s>) -> PResult<Option<&'s str>> {
    opt(take_while(1.., |c: char| c.is_alphanumeric() || c == '_')).parse_next(i)
}

fn enter(i: &mut Input<'_>, at: usize) -> PResult<()> {
    i.state.depth += 1;
    if i.state.depth > MAX_DEPTH {
        return fail(
            at,
            format!("the condition nests more than {MAX_DEPTH} levels deep"),
            Some("split it into several conditions".to_owned()),
        );
    }
    Ok(())
}

fn leave(i: &mut Input<'_>) {
    i.state.depth = i.state.depth.saturating_sub(1);
}

/// Help for a misspelled `and` / `or`.
fn connective_help(i: &Input<'_>) -> Option<String> {
    let next: String = rest(i).chars().take_while(|c| is_key_char(*c)).collect();
    if next.is_empty() {
        return None;
    }
    Some(match did_you_mean(&next, ["and", "or"]) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "join conditions with `and` or `or`".to_owned(),
    })
}

fn condition(i: &mut Input<'_>) -> PResult<Cond> {
    let cond = or_expr(i)?;
    ws(i)?;
    if !rest(i).is_empty() {
        let at = i.current_token_start();
        if rest(i).starts_with(')') {
            return fail(
                at,
                "unmatched `)`",
                Some("remove it or add the `(` it closes".to_owned()),
            );
        }
        return fail(
            at,
            format!(
                "expected `and`, `or` or the end of the condition, found {}",
                found(i)
            ),
            connective_help(i),
        );
    }
    Ok(cond)
}

fn or_expr(i: &mut Input<'_>) -> PResult<Cond> {
    let mut items = vec![and_expr(i)?];
    loop {
        ws(i)?;
        if !keyword(i, "or")? {
            break;
        }
        items.push(and_expr(i)?);
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        Cond::Or(items)
    })
}

fn and_expr(i: &mut Input<'_>) -> PResult<Cond> {
    let mut items = vec![unary(i)?];
    loop {
        ws(i)?;
        if !keyword(i, "and")? {
            break;
        }
        items.push(unary(i)?);
    }
    Ok(if items.len() == 1 {
        items.remove(0)
    } else {
        Cond::And(items)
    })
}

fn unary(i: &mut Input<'_>) -> PResult<Cond> {
    ws(i)?;
    let start = i.current_token_start();
    if keyword(i, "not")? {
        enter(i, start)?;
        let inner = unary(i)?;
        leave(i);
        return Ok(Cond::Not(Box::new(inner)));
    }
    if opt('(').parse_next(i)?.is_some() {
        enter(i, start)?;
        let inner = or_expr(i)?;
        ws(i)?;
        if opt(')').parse_next(i)?.is_none() {
            let at = i.current_token_start();
            let (what, help) = if rest(i).is_empty() {
                ("unclosed `(`", Some("add the missing `)`".to_owned()))
            } else {
                ("expected `and`, `or` or `)`", connective_help(i))
            };
            return fail(
                at,
                format!(
                    "{what}: the `(` at column {} is not closed, found {}",
                    column(i, start),
                    found(i)
                ),
                help,
            );
        }
        leave(i);
        return Ok(inner);
    }
    comparison(i)
}

fn comparison(i: &mut Input<'_>) -> PResult<Cond> {
    let field = field(i)?;
    let field_text = i
        .state
        .text
        .get(field.span.clone())
        .unwrap_or("")
        .to_owned();
    ws(i)?;
    let op = operator(i, &field_text)?;
    let operand = match op.value {
        Op::IsNull | Op::IsNotNull => {
            ws(i)?;
            let at = i.current_token_start();
            let next = rest(i);
            let takes_value = next.starts_with(['"', '\'', '[', '-'])
                || next.starts_with(|c: char| c.is_ascii_digit())
                || ["true", "false", "null"].iter().any(|w| {
                    next.strip_prefix(w)
                        .is_some_and(|after| !after.starts_with(continues_word))
                });
            if takes_value {
                return fail(
                    at,
                    format!("`{}` takes no value", op.value),
                    Some("remove the value".to_owned()),
                );
            }
            Operand::None
        }
        Op::In | Op::NotIn => Operand::List(list(i, op.value)?),
        other => {
            ws(i)?;
            let at = i.current_token_start();
            if rest(i).starts_with('[') {
                return fail(
                    at,
                    format!("`{other}` takes one value, not a list"),
                    Some("use `in` to test membership in a list".to_owned()),
                );
            }
            Operand::Value(value(i, &format!("a value after `{other}`"))?)
        }
    };
    Ok(Cond::Compare { field, op, operand })
}

fn field(i: &mut Input<'_>) -> PResult<Spanned<Vec<Seg>>> {
    let start = i.current_token_start();
    let Some((first, quoted)) = key(i)? else {
        let help = if rest(i).starts_with(['"', '\'']) {
            "field names are not quoted; write a key with spaces or dots in backquotes: `my key`"
        } else {
            "a condition is `field operator value`, `not ...` or `( ... )`"
        };
        return fail(
            start,
            format!("expected a field name, found {}", found(i)),
            Some(help.to_owned()),
        );
    };
    if !quoted && (first == "and" || first == "or") {
        return fail(
            start,
            format!("expected a field name, found `{first}`"),
            Some("a field is missing before it; write a field named so in backquotes".to_owned()),
        );
    }
    let mut path = vec![Seg::Key(first)];
    loop {
        let at = i.current_token_start();
        if opt('.').parse_next(i)?.is_some() {
            match key(i)? {
                Some((k, _)) => path.push(Seg::Key(k)),
                None => {
                    return fail(
                        at + 1,
                        format!("expected a key after `.`, found {}", found(i)),
                        None,
                    )
                }
            }
        } else if opt('[').parse_next(i)?.is_some() {
            let index = opt(take_while(1.., |c: char| c.is_ascii_digit())).parse_next(i)?;
            let closed = opt(']').parse_next(i)?.is_some();
            match index.map(str::parse::<usize>) {
                Some(Ok(n)) if closed => path.push(Seg::Index(n)),
                _ => {
                    return fail(
                        at,
                        "expected a list index such as `[0]`",
                        Some("write other keys after a dot, or in backquotes".to_owned()),
                    )
                }
            }
        } else {
            break;
        }
    }
    let end = i.current_token_start();
    Ok(Spanned {
        value: path,
        span: start..end,
    })
}

/// One key: bare, or in backquotes (then `true`).
fn key(i: &mut Input<'_>) -> PResult<Option<(String, bool)>> {
    let start = i.current_token_start();
    if opt('`').parse_next(i)?.is_some() {
        let inner: &str = take_till(0.., '`').parse_next(i)?;
        if opt('`').parse_next(i)?.is_none() {
            return fail(
                start,
                "unclosed backquoted key",
                Some("add the closing backquote".to_owned()),
            );
        }
        if inner.is_empty() {
            return fail(start, "empty backquoted key", None);
        }
        return Ok(Some((inner.to_owned(), true)));
    }
    Ok(opt(take_while(1.., is_key_char))
        .parse_next(i)?
        .map(|k: &str| (k.to_owned(), false)))
}

fn operator(i: &mut Input<'_>, field: &str) -> PResult<Spanned<Op>> {
    let start = i.current_token_start();
    let Some(first) = word(i)? else {
        let symbols = [
            ("==", "eq"),
            ("!=", "ne"),
            (">=", "ge"),
            ("<=", "le"),
            (">", "gt"),
            ("<", "lt"),
            ("=", "eq"),
        ];
        let help = match symbols.iter().find(|(s, _)| rest(i).starts_with(s)) {
            Some((symbol, op)) => format!("write `{op}` instead of `{symbol}`"),
            None => format!("the operators are: {}", OPERATORS.join(", ")),
        };
        return fail(
            start,
            format!("expected an operator after `{field}`, found {}", found(i)),
            Some(help),
        );
    };
    let op = if first == "not" {
        ws(i)?;
        let second_at = i.current_token_start();
        match word(i)? {
            Some("in") => Op::NotIn,
            Some("contains") => Op::NotContains,
            other => {
                let help = match other {
                    Some("starts_with" | "ends_with" | "eq") => {
                        format!("write `not ({field} {} ...)`", other.unwrap_or_default())
                    }
                    _ => "the negated operators are `not in` and `not contains`".to_owned(),
                };
                let what = other.map_or_else(|| found(i), |w| format!("`{w}`"));
                return fail(
                    second_at,
                    format!("expected `in` or `contains` after `not`, found {what}"),
                    Some(help),
                );
            }
        }
    } else {
        match Op::from_word(first) {
            Some(op) => op,
            None => {
                let help = match did_you_mean(first, OPERATORS) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the operators are: {}", OPERATORS.join(", ")),
                };
                return fail(start, format!("unknown operator `{first}`"), Some(help));
            }
        }
    };
    Ok(Spanned {
        value: op,
        span: start..i.current_token_start(),
    })
}

fn list(i: &mut Input<'_>, op: Op) -> PResult<Vec<Spanned<Lit>>> {
    ws(i)?;
    let start = i.current_token_start();
    if opt('[').parse_next(i)?.is_none() {
        return fail(
            start,
            format!("`{op}` takes a list, found {}", found(i)),
            Some("write the values in brackets: `[\"a\", \"b\"]`".to_owned()),
        );
    }
    let mut items = Vec::new();
    loop {
        ws(i)?;
        if opt(']').parse_next(i)?.is_some() {
            break;
        }
        let at = i.current_token_start();
        if rest(i).starts_with('[') {
            return fail(
                at,
                "a list holds strings, numbers, booleans and null, not lists",
                None,
            );
        }
        if rest(i).is_empty() {
            return fail(
                at,
                format!(
                    "unclosed list: the `[` at column {} is not closed",
                    column(i, start)
                ),
                Some("add the missing `]`".to_owned()),
            );
        }
        items.push(value(i, "a value or `]` in the list")?);
        ws(i)?;
        if opt(',').parse_next(i)?.is_some() {
            continue;
        }
        if opt(']').parse_next(i)?.is_some() {
            break;
        }
        let at = i.current_token_start();
        let problem = if rest(i).is_empty() {
            format!(
                "unclosed list: the `[` at column {} is not closed",
                column(i, start)
            )
        } else {
            format!("expected `,` or `]` in the list, found {}", found(i))
        };
        return fail(at, problem, Some("separate values with commas".to_owned()));
    }
    Ok(items)
}

/// One constant; `expected` names what was wanted, for the error.
fn value(i: &mut Input<'_>, expected: &str) -> PResult<Spanned<Lit>> {
    let start = i.current_token_start();
    let lit = match peek(opt(any)).parse_next(i)? {
        Some(quote @ ('"' | '\'')) => Lit::Str(quoted(i, quote)?),
        Some(c) if c == '-' || c.is_ascii_digit() => number(i)?,
        Some(c) if is_key_char(c) => {
            let bare: &str = take_while(1.., continues_word).parse_next(i)?;
            match bare {
                "true" => Lit::Bool(true),
                "false" => Lit::Bool(false),
                "null" => Lit::Null,
                other => {
                    return fail(
                        start,
                        format!("expected {expected}, found `{other}`"),
                        Some(format!("quote text: `\"{other}\"`")),
                    )
                }
            }
        }
        _ => {
            return fail(
                start,
                format!("expected {expected}, found {}", found(i)),
                Some("a value is a quoted string, a number, true, false or null".to_owned()),
            )
        }
    };
    Ok(Spanned {
        value: lit,
        span: start..i.current_token_start(),
    })
}

fn quoted(i: &mut Input<'_>, quote: char) -> PResult<String> {
    let start = i.current_token_start();
    any.parse_next(i)?;
    let mut out = String::new();
    loop {
        let at = i.current_token_start();
        match opt(any).parse_next(i)? {
            None => {
                return fail(
                    start,
                    format!("unclosed string: the `{quote}` here has no closing `{quote}`"),
                    Some(format!("add the closing `{quote}`")),
                )
            }
            Some(c) if c == quote => return Ok(out),
            Some('\\') => match opt(any).parse_next(i)? {
                Some(c) if c == quote || c == '\\' => out.push(c),
                other => {
                    let shown = other.map(String::from).unwrap_or_default();
                    return fail(
                        at,
                        format!("unknown escape `\\{shown}` in a string"),
                        Some(format!(
                            "the escapes are `\\{quote}` and `\\\\` (a backslash)"
                        )),
                    );
                }
            },
            Some(c) => out.push(c),
        }
    }
}

fn number(i: &mut Input<'_>) -> PResult<Lit> {
    let start = i.current_token_start();
    fn digits<'s>(i: &mut Input<'s>) -> PResult<&'s str> {
        take_while(1.., |c: char| c.is_ascii_digit()).parse_next(i)
    }
    let text: &str = (
        opt('-'),
        digits,
        opt(('.', digits)),
        opt((one_of(['e', 'E']), opt(one_of(['+', '-'])), digits)),
    )
        .take()
        .parse_next(i)
        .map_err(|_: ErrMode<ConditionError>| {
            ErrMode::Cut(ConditionError::new(start, "invalid number", None))
        })?;
    if rest(i).starts_with(continues_word) {
        let tail: String = rest(i).chars().take_while(|c| continues_word(*c)).collect();
        return fail(
            start,
            format!("invalid number `{text}{tail}`"),
            Some("quote text: `\"...\"`".to_owned()),
        );
    }
    if text.contains(['.', 'e', 'E']) {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Lit::Float(f)),
            _ => fail(start, format!("number `{text}` is out of range"), None),
        }
    } else {
        match text.parse::<i64>() {
            Ok(n) => Ok(Lit::Int(n)),
            Err(_) => fail(
                start,
                format!("integer `{text}` is out of the 64-bit range"),
                None,
            ),
        }
    }
}

/// The number a comparison bound reads as: a number, or a string holding one
/// (catalogs quote numbers: `ge "400"`).
fn numeric(lit: &Lit) -> Option<NumLit> {
    match lit {
        Lit::Int(n) => Some(NumLit::Int(*n)),
        Lit::Float(f) => Some(NumLit::Float(*f)),
        Lit::Str(s) => {
            let s = s.trim();
            let looks_numeric = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                && s.chars().any(|c| c.is_ascii_digit());
            if !looks_numeric {
                return None;
            }
            s.parse::<i64>().map(NumLit::Int).ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(NumLit::Float)
            })
        }
        Lit::Null | Lit::Bool(_) => None,
    }
}

fn describe_lit(lit: &Lit) -> String {
    match lit {
        Lit::Null => "null".to_owned(),
        Lit::Bool(b) => format!("the boolean `{b}`"),
        Lit::Int(n) => format!("the number `{n}`"),
        Lit::Float(f) => format!("the number `{f}`"),
        Lit::Str(s) => format!("the string `\"{s}\"`"),
    }
}

/// Lowers a parsed condition to the IR. Field names resolve to data-model
/// fields first (when the first key is one of `scope.udm_names`), else to raw
/// event keys. With `known_keys` (the raw keys the rule's tests use), a raw
/// key that none of them is but that is close to a data-model name is
/// reported as a misspelling. Errors carry offsets but no column: [`compile`]
/// sets it.
pub fn lower(
    cond: &Cond,
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
) -> Result<Expr, ConditionError> {
    Ok(match cond {
        Cond::And(items) => Expr::All(flatten(items, scope, known_keys, true)?),
        Cond::Or(items) => Expr::Any(flatten(items, scope, known_keys, false)?),
        Cond::Not(inner) => Expr::Not(Box::new(lower(inner, scope, known_keys)?)),
        Cond::Compare { field, op, operand } => {
            let field = resolve(field, scope, known_keys)?;
            let test = |test: Test| Expr::Test {
                field: field.clone(),
                test,
            };
            let negate = |expr: Expr| Expr::Not(Box::new(expr));
            let string = |lit: &Spanned<Lit>| match &lit.value {
                Lit::Str(s) => Ok(s.clone()),
                other => Err(ConditionError::new(
                    lit.span.start,
                    format!(
                        "`{}` takes a string, found {}",
                        op.value,
                        describe_lit(other)
                    ),
                    Some("quote it".to_owned()),
                )),
            };
            match (op.value, operand) {
                (Op::IsNull, _) => test(Test::IsNull),
                (Op::IsNotNull, _) => negate(test(Test::IsNull)),
                (Op::In | Op::NotIn, Operand::List(items)) => {
                    let lits = items.iter().map(|l| l.value.clone()).collect();
                    let positive = test(Test::IsIn(lits));
                    if op.value == Op::In {
                        positive
                    } else {
                        negate(positive)
                    }
                }
                (Op::Eq, Operand::Value(lit)) => test(Test::Equals(lit.value.clone())),
                (Op::Ne, Operand::Value(lit)) => negate(test(Test::Equals(lit.value.clone()))),
                (Op::Contains, Operand::Value(lit)) => test(Test::Contains(string(lit)?)),
                (Op::NotContains, Operand::Value(lit)) => {
                    negate(test(Test::Contains(string(lit)?)))
                }
                (Op::StartsWith, Operand::Value(lit)) => test(Test::StartsWith(string(lit)?)),
                (Op::EndsWith, Operand::Value(lit)) => test(Test::EndsWith(string(lit)?)),
                (cmp @ (Op::Gt | Op::Ge | Op::Lt | Op::Le), Operand::Value(lit)) => {
                    let Some(bound) = numeric(&lit.value) else {
                        return Err(ConditionError::new(
                            lit.span.start,
                            format!(
                                "`{cmp}` compares numbers, but {} is not a number",
                                describe_lit(&lit.value)
                            ),
                            Some("write a number, for example `ge 400` or `ge \"400\"`".to_owned()),
                        ));
                    };
                    let op = match cmp {
                        Op::Gt => CmpOp::Gt,
                        Op::Ge => CmpOp::Ge,
                        Op::Lt => CmpOp::Lt,
                        _ => CmpOp::Le,
                    };
                    test(Test::Compare(op, bound))
                }
                (other, _) => {
                    return Err(ConditionError::new(
                        op.span.start,
                        format!("`{other}` is missing its value"),
                        None,
                    ))
                }
            }
        }
    })
}

/// Lowers the children of `and` (`all`) or `or`, splicing nested chains of the same kind.
fn flatten(
    items: &[Cond],
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
    all: bool,
) -> Result<Vec<Expr>, ConditionError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match lower(item, scope, known_keys)? {
            Expr::All(children) if all => out.extend(children),
            Expr::Any(children) if !all => out.extend(children),
            other => out.push(other),
        }
    }
    Ok(out)
}

fn resolve(
    field: &Spanned<Vec<Seg>>,
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
) -> Result<FieldRef, ConditionError> {
    let path = &field.value;
    let (Some(Seg::Key(first)), Some(names)) = (path.first(), scope.udm_names) else {
        return Ok(FieldRef::Event(path.clone()));
    };
    if names.contains(first) {
        return Ok(FieldRef::Udm {
            name: first.clone(),
            rest: path[1..].to_vec(),
        });
    }
    if let Some(keys) = known_keys {
        if !keys.contains(first) && !first.starts_with("p_") {
            if let Some(near) = did_you_mean(first, names.iter().map(String::as_str)) {
                return Err(ConditionError::new(
                    field.span.start,
                    format!("unknown field `{first}`: no data model of this rule defines it and no test event has it"),
                    Some(format!("did you mean `{near}`?")),
                ));
            }
        }
    }
    Ok(FieldRef::Event(path.clone()))
}

/// Parses and lowers one condition (see [`lower`] for `known_keys`).
pub fn compile(
    text: &str,
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
) -> Result<Expr, ConditionError> {
    let cond = parse(text)?;
    lower(&cond, scope, known_keys).map_err(|e| e.located(text))
}

/// Reads a rule's `Condition:`, a string or a list of strings (ANDed), into
/// one expression per string. Errors are reported at their character in the
/// YAML file where the string is on one line, else at the string's start.
pub fn read_conditions(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
) -> Option<Vec<Expr>> {
    let (items, what) = match node.value {
        Value::Sequence(_) => (
            reader.sequence(node, "`Condition`")?,
            "each entry of `Condition`",
        ),
        _ => (vec![node.clone()], "`Condition`"),
    };
    if items.is_empty() {
        reader.error(
            &node.path,
            "`Condition` is empty",
            Some("give at least one condition, for example `verb eq \"get\"`".to_owned()),
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in &items {
        let Some(text) = reader.string(item, what) else {
            ok = false;
            continue;
        };
        match compile(&text, scope, known_keys) {
            Ok(expr) => out.push(expr),
            Err(e) => {
                reader.error_in_string(&item.path, &text, e.offset, "condition", e.message, e.help);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, Location};
    use crate::ir::{RuleIr, TestBody};
    use crate::project::{compile_rule_file, compile_shared, Layout};
    use crate::rule_file::{parse_rule, Library};
    use crate::yaml::SourceFile;

    fn names() -> BTreeSet<String> {
        [
            "verb",
            "resource",
            "responseStatus",
            "namespace",
            "username",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect()
    }

    fn scope(names: &BTreeSet<String>) -> Scope<'_> {
        Scope {
            udm_names: Some(names),
            allow_computed: false,
            documents: &[],
            definitions: &[],
        }
    }

    fn lowered(text: &str) -> Expr {
        let names = names();
        match compile(text, &scope(&names), None) {
            Ok(expr) => expr,
            Err(e) => panic!("`{text}` failed: {e}"),
        }
    }

    fn error(text: &str) -> ConditionError {
        let names = names();
        match compile(text, &scope(&names), None) {
            Ok(expr) => panic!("`{text}` should fail, got {expr:?}"),
            Err(e) => e,
        }
    }

    fn k(key: &str) -> Seg {
        Seg::Key(key.to_owned())
    }

    fn s(text: &str) -> Lit {
        Lit::Str(text.to_owned())
    }

    fn ev(path: &[&str]) -> FieldRef {
        FieldRef::Event(path.iter().map(|p| k(p)).collect())
    }

    fn udm(name: &str, rest: &[&str]) -> FieldRef {
        FieldRef::Udm {
            name: name.to_owned(),
            rest: rest.iter().map(|p| k(p)).collect(),
        }
    }

    fn t(field: FieldRef, test: Test) -> Expr {
        Expr::Test { field, test }
    }

    fn not(expr: Expr) -> Expr {
        Expr::Not(Box::new(expr))
    }

    #[test]
    fn each_operator_lowers_to_the_ir() {
        let a = || ev(&["a"]);
        let cases = [
            ("a eq \"x\"", t(a(), Test::Equals(s("x")))),
            ("a ne \"x\"", not(t(a(), Test::Equals(s("x"))))),
            ("a gt 1", t(a(), Test::Compare(CmpOp::Gt, NumLit::Int(1)))),
            ("a ge 1", t(a(), Test::Compare(CmpOp::Ge, NumLit::Int(1)))),
            (
                "a lt 1.5",
                t(a(), Test::Compare(CmpOp::Lt, NumLit::Float(1.5))),
            ),
            ("a le -2", t(a(), Test::Compare(CmpOp::Le, NumLit::Int(-2)))),
            (
                "a in [\"x\", 1]",
                t(a(), Test::IsIn(vec![s("x"), Lit::Int(1)])),
            ),
            ("a not in [\"x\"]", not(t(a(), Test::IsIn(vec![s("x")])))),
            ("a contains \"x\"", t(a(), Test::Contains("x".to_owned()))),
            (
                "a not contains \"x\"",
                not(t(a(), Test::Contains("x".to_owned()))),
            ),
            (
                "a starts_with \"x\"",
                t(a(), Test::StartsWith("x".to_owned())),
            ),
            ("a ends_with \"x\"", t(a(), Test::EndsWith("x".to_owned()))),
            ("a is_null", t(a(), Test::IsNull)),
            ("a is_not_null", not(t(a(), Test::IsNull))),
        ];
        for (text, expected) in cases {
            assert_eq!(lowered(text), expected, "{text}");
        }
        // Every operator of the table is exercised above.
        assert_eq!(OPERATORS.len(), 14);
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        let f = |name: &str, n: i64| t(ev(&[name]), Test::Equals(Lit::Int(n)));
        assert_eq!(
            lowered("a eq 1 or b eq 2 and not c eq 3"),
            Expr::Any(vec![f("a", 1), Expr::All(vec![f("b", 2), not(f("c", 3))])])
        );
        assert_eq!(
            lowered("not a eq 1 and b eq 2"),
            Expr::All(vec![not(f("a", 1)), f("b", 2)])
        );
        assert_eq!(
            lowered("not (a eq 1 and b eq 2)"),
            not(Expr::All(vec![f("a", 1), f("b", 2)]))
        );
        assert_eq!(
            lowered("(a eq 1 or b eq 2) and c eq 3"),
            Expr::All(vec![Expr::Any(vec![f("a", 1), f("b", 2)]), f("c", 3)])
        );
        assert_eq!(lowered("not not a eq 1"), not(not(f("a", 1))));
        // Nested chains of the same kind are flattened.
        assert_eq!(
            lowered("a eq 1 and (b eq 2 and (c eq 3))"),
            Expr::All(vec![f("a", 1), f("b", 2), f("c", 3)])
        );
        assert_eq!(
            lowered("((a eq 1 or b eq 2)) or c eq 3"),
            Expr::Any(vec![f("a", 1), f("b", 2), f("c", 3)])
        );
        // Keywords are whole words: these are fields.
        assert_eq!(
            lowered("notes eq 1 and order eq 2 or android eq 3"),
            Expr::Any(vec![
                Expr::All(vec![f("notes", 1), f("order", 2)]),
                f("android", 3)
            ])
        );
        // Whitespace is free around parentheses.
        assert_eq!(lowered("not(a eq 1)"), not(f("a", 1)));
        assert_eq!(lowered("  ( a eq 1 )  "), f("a", 1));
    }

    #[test]
    fn literals() {
        let eq = |text: &str| match lowered(&format!("a eq {text}")) {
            Expr::Test {
                test: Test::Equals(lit),
                ..
            } => lit,
            other => panic!("{other:?}"),
        };
        assert_eq!(eq(r#""say \"hi\" \\ bye""#), s(r#"say "hi" \ bye"#));
        assert_eq!(eq(r"'it\'s \\'"), s(r"it's \"));
        assert_eq!(
            eq(r#"'with "double" quotes'"#),
            s(r#"with "double" quotes"#)
        );
        assert_eq!(eq("\"\""), s(""));
        assert_eq!(eq("\"ünïcode\""), s("ünïcode"));
        assert_eq!(eq("42"), Lit::Int(42));
        assert_eq!(eq("-7"), Lit::Int(-7));
        assert_eq!(eq("2.5"), Lit::Float(2.5));
        assert_eq!(eq("1e3"), Lit::Float(1000.0));
        assert_eq!(eq("-1.5E-2"), Lit::Float(-0.015));
        assert_eq!(eq("true"), Lit::Bool(true));
        assert_eq!(eq("false"), Lit::Bool(false));
        assert_eq!(eq("null"), Lit::Null);
        assert_eq!(
            lowered("a in [ \"x\" , 'y', 3, 4.5, true, null, ]"),
            t(
                ev(&["a"]),
                Test::IsIn(vec![
                    s("x"),
                    s("y"),
                    Lit::Int(3),
                    Lit::Float(4.5),
                    Lit::Bool(true),
                    Lit::Null
                ])
            )
        );
        assert_eq!(lowered("a in []"), t(ev(&["a"]), Test::IsIn(vec![])));
    }

    #[test]
    fn field_names_resolve_data_model_fields_first() {
        let field = |text: &str| match lowered(&format!("{text} is_null")) {
            Expr::Test { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field("verb"), udm("verb", &[]));
        assert_eq!(
            field("responseStatus.code"),
            udm("responseStatus", &["code"])
        );
        assert_eq!(
            field("a.b[0].c"),
            FieldRef::Event(vec![k("a"), k("b"), Seg::Index(0), k("c")])
        );
        assert_eq!(
            field("a[0][12]"),
            FieldRef::Event(vec![k("a"), Seg::Index(0), Seg::Index(12)])
        );
        assert_eq!(
            field("kube-proxy:role@x.p_any"),
            ev(&["kube-proxy:role@x", "p_any"])
        );
        assert_eq!(
            field("annotations.`authorization.k8s.io/decision`"),
            ev(&["annotations", "authorization.k8s.io/decision"])
        );
        assert_eq!(
            field("`weird key.with dots`[1]"),
            FieldRef::Event(vec![k("weird key.with dots"), Seg::Index(1)])
        );
        // A backquoted data-model name is still the data-model field; `and` is a field in backquotes.
        assert_eq!(field("`verb`"), udm("verb", &[]));
        assert_eq!(field("`and`"), ev(&["and"]));
        // Data-model names match exactly.
        assert_eq!(field("Verb"), ev(&["Verb"]));
        // Without data models every name is a raw key.
        let none = Scope {
            udm_names: None,
            allow_computed: false,
            documents: &[],
            definitions: &[],
        };
        assert_eq!(
            compile("verb is_null", &none, None),
            Ok(t(ev(&["verb"]), Test::IsNull))
        );
    }

    #[test]
    fn seed_catalog_lines_lower_to_the_expected_shape() {
        let [l1, l2, l3, l4] = SEED_LINES.map(lowered);
        let eq = |field: FieldRef, v: &str| t(field, Test::Equals(s(v)));
        assert_eq!(
            l1,
            not(Expr::Any(vec![
                not(eq(udm("verb", &[]), "get")),
                not(eq(udm("resource", &[]), "secrets")),
            ]))
        );
        assert_eq!(l2, not(t(udm("responseStatus", &[]), Test::IsNull)));
        let code = || udm("responseStatus", &["code"]);
        assert_eq!(
            l3,
            Expr::Any(vec![
                t(code(), Test::Compare(CmpOp::Ge, NumLit::Int(400))),
                Expr::All(vec![
                    t(code(), Test::Compare(CmpOp::Ge, NumLit::Int(1))),
                    t(code(), Test::Compare(CmpOp::Le, NumLit::Int(16))),
                ]),
            ])
        );
        let ns = || udm("namespace", &[]);
        let user = || udm("username", &[]);
        assert_eq!(
            l4,
            not(Expr::Any(vec![
                Expr::All(vec![
                    not(t(ns(), Test::IsNull)),
                    t(
                        ns(),
                        Test::IsIn(vec![
                            s("kube-system"),
                            s("gke-system"),
                            s("kube-node-lease"),
                            s("kube-public")
                        ])
                    ),
                ]),
                Expr::All(vec![
                    not(t(user(), Test::IsNull)),
                    Expr::Any(vec![
                        t(user(), Test::IsIn(vec![s("masterclient"), s("aksService")])),
                        Expr::All(vec![
                            t(user(), Test::StartsWith("system:".to_owned())),
                            not(t(user(), Test::Contains("serviceaccount".to_owned()))),
                        ]),
                    ]),
                ]),
            ]))
        );
    }

    #[test]
    fn numeric_strings_compare_as_numbers() {
        let bound = |text: &str| match lowered(text) {
            Expr::Test {
                test: Test::Compare(_, n),
                ..
            } => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(bound("a ge \"400\""), NumLit::Int(400));
        assert_eq!(bound("a gt ' 16 '"), NumLit::Int(16));
        assert_eq!(bound("a lt \"-3\""), NumLit::Int(-3));
        assert_eq!(bound("a le \"1.5\""), NumLit::Float(1.5));
        assert_eq!(bound("a le \"2e2\""), NumLit::Float(200.0));
        assert_eq!(bound("a ge 400"), NumLit::Int(400));
        let e = error("a ge \"abc\"");
        assert_eq!((e.offset, e.column), (5, 6));
        assert_eq!(
            e.message,
            "`ge` compares numbers, but the string `\"abc\"` is not a number"
        );
        for text in [
            "a gt \"inf\"",
            "a gt \"NaN\"",
            "a gt \"\"",
            "a gt true",
            "a gt null",
        ] {
            assert!(error(text).message.contains("is not a number"), "{text}");
        }
        // Equality keeps Python's types: "400" is not 400.
        assert_eq!(
            lowered("a eq \"400\""),
            t(ev(&["a"]), Test::Equals(s("400")))
        );
    }

    #[test]
    fn unknown_operator_points_at_it_and_suggests() {
        let e = error("verb eqq \"get\"");
        assert_eq!((e.offset, e.column), (5, 6));
        assert_eq!(e.message, "unknown operator `eqq`");
        assert_eq!(e.help.as_deref(), Some("did you mean `eq`?"));
        assert_eq!(
            e.to_string(),
            "unknown operator `eqq` at column 6 (did you mean `eq`?)"
        );
        let suggest = |text: &str| error(text).help;
        assert_eq!(
            suggest("a startswith \"x\"").as_deref(),
            Some("did you mean `starts_with`?")
        );
        assert_eq!(
            suggest("a notin [1]").as_deref(),
            Some("did you mean `not in`?")
        );
        assert_eq!(suggest("a EQ 1").as_deref(), Some("did you mean `eq`?"));
        assert_eq!(
            suggest("a isnull").as_deref(),
            Some("did you mean `is_null`?")
        );
        assert!(
            suggest("a frobnicate 1").is_some_and(|h| h.starts_with("the operators are: eq, ne"))
        );
        let e = error("a == 1");
        assert_eq!(
            (e.column, e.message.as_str()),
            (3, "expected an operator after `a`, found `=`")
        );
        assert_eq!(e.help.as_deref(), Some("write `eq` instead of `==`"));
        assert_eq!(
            error("a >= 1").help.as_deref(),
            Some("write `ge` instead of `>=`")
        );
        let e = error("a not starts_with \"x\"");
        assert_eq!(e.column, 7);
        assert_eq!(e.help.as_deref(), Some("write `not (a starts_with ...)`"));
        let e = error("verb");
        assert_eq!(
            (e.column, e.message.as_str()),
            (
                5,
                "expected an operator after `verb`, found the end of the condition"
            )
        );
        // Columns count characters, not bytes.
        let e = error("naïve eqq 1");
        assert_eq!((e.offset, e.column), (7, 7));
    }

    #[test]
    fn unclosed_and_unmatched_parentheses() {
        let e = error("(a eq 1 and (b eq 2)");
        assert_eq!((e.offset, e.column), (20, 21));
        assert_eq!(
            e.message,
            "unclosed `(`: the `(` at column 1 is not closed, found the end of the condition"
        );
        let e = error("(a eq 1 b eq 2)");
        assert_eq!(e.column, 9);
        assert!(
            e.message.starts_with("expected `and`, `or` or `)`"),
            "{}",
            e.message
        );
        let e = error("a eq 1)");
        assert_eq!((e.column, e.message.as_str()), (7, "unmatched `)`"));
        let e = error("()");
        assert_eq!(
            (e.column, e.message.as_str()),
            (2, "expected a field name, found `)`")
        );
    }

    #[test]
    fn bad_lists() {
        let e = error("a in [\"x\" \"y\"]");
        assert_eq!(
            (e.column, e.message.as_str()),
            (11, "expected `,` or `]` in the list, found a string")
        );
        let e = error("a in [\"x\", \"y\"");
        assert_eq!(
            (e.column, e.message.as_str()),
            (15, "unclosed list: the `[` at column 6 is not closed")
        );
        let e = error("a in [\"x\",");
        assert_eq!(e.column, 11);
        assert!(e.message.starts_with("unclosed list"));
        let e = error("a in \"x\"");
        assert_eq!(
            (e.column, e.message.as_str()),
            (6, "`in` takes a list, found a string")
        );
        let e = error("a in [[1]]");
        assert_eq!(e.column, 7);
        assert!(e.message.contains("not lists"));
        let e = error("a in [kube-system]");
        assert_eq!(
            (e.column, e.message.as_str()),
            (
                7,
                "expected a value or `]` in the list, found `kube-system`"
            )
        );
        assert_eq!(e.help.as_deref(), Some("quote text: `\"kube-system\"`"));
        let e = error("a in [,]");
        assert_eq!(e.column, 7);
        let e = error("a eq [1]");
        assert_eq!(
            (e.column, e.message.as_str()),
            (6, "`eq` takes one value, not a list")
        );
    }

    #[test]
    fn other_errors_point_at_the_problem() {
        let at = |text: &str| {
            let e = error(text);
            (e.column, e.message)
        };
        assert_eq!(at(""), (1, "the condition is empty".to_owned()));
        assert_eq!(
            at("a eq \"open"),
            (
                6,
                "unclosed string: the `\"` here has no closing `\"`".to_owned()
            )
        );
        assert_eq!(
            at("a eq \"x\\ny\""),
            (8, "unknown escape `\\n` in a string".to_owned())
        );
        assert_eq!(
            at("a eq get"),
            (6, "expected a value after `eq`, found `get`".to_owned())
        );
        assert_eq!(at("a eq 12ab"), (6, "invalid number `12ab`".to_owned()));
        assert_eq!(
            at("a eq 99999999999999999999"),
            (
                6,
                "integer `99999999999999999999` is out of the 64-bit range".to_owned()
            )
        );
        assert_eq!(
            at("a eq"),
            (
                5,
                "expected a value after `eq`, found the end of the condition".to_owned()
            )
        );
        assert_eq!(
            at("a is_null \"x\""),
            (11, "`is_null` takes no value".to_owned())
        );
        assert_eq!(
            at("a contains 5"),
            (
                12,
                "`contains` takes a string, found the number `5`".to_owned()
            )
        );
        assert_eq!(
            at("a eq 1 AND b eq 2"),
            (
                8,
                "expected `and`, `or` or the end of the condition, found `AND`".to_owned()
            )
        );
        assert_eq!(
            error("a eq 1 AND b eq 2").help.as_deref(),
            Some("did you mean `and`?")
        );
        assert_eq!(
            at("a eq 1 and and b eq 2"),
            (12, "expected a field name, found `and`".to_owned())
        );
        assert_eq!(
            at("\"verb\" eq 1"),
            (1, "expected a field name, found a string".to_owned())
        );
        assert_eq!(
            at("a. eq 1"),
            (3, "expected a key after `.`, found a space".to_owned())
        );
        assert_eq!(
            at("a[x] eq 1"),
            (2, "expected a list index such as `[0]`".to_owned())
        );
        assert_eq!(at("`a eq 1"), (1, "unclosed backquoted key".to_owned()));
        let deep = format!("{}a eq 1{}", "(".repeat(100), ")".repeat(100));
        assert!(error(&deep).message.contains("nests more than 64 levels"));
        let nots = format!("{}a eq 1", "not ".repeat(100));
        assert!(error(&nots).message.contains("nests more than 64 levels"));
        assert!(compile(
            &format!("{}a eq 1{}", "(".repeat(60), ")".repeat(60)),
            &scope(&names()),
            None
        )
        .is_ok());
    }

    #[test]
    fn misspelled_fields_are_caught_when_test_keys_are_known() {
        let names = names();
        let keys: BTreeSet<String> = ["kind".to_owned()].into();
        let e = compile(
            "kind eq 1 and usernme eq \"x\"",
            &scope(&names),
            Some(&keys),
        );
        let e = e.err().map(|e| (e.column, e.message, e.help));
        assert_eq!(
            e,
            Some((
                15,
                "unknown field `usernme`: no data model of this rule defines it and no test event has it".to_owned(),
                Some("did you mean `username`?".to_owned())
            ))
        );
        // Raw keys that no name is close to, and `p_` fields, are fine.
        assert!(compile(
            "objectRef.name eq 1 and p_log_type eq 1",
            &scope(&names),
            Some(&keys)
        )
        .is_ok());
    }

    // --- Rule files ---

    const SEED_LINES: [&str; 4] = [
        r#"not (verb ne "get" or resource ne "secrets")"#,
        "responseStatus is_not_null",
        r#"responseStatus.code ge "400" or (responseStatus.code ge "1" and responseStatus.code le "16")"#,
        r#"not ((namespace is_not_null and namespace in ["kube-system", "gke-system", "kube-node-lease", "kube-public"]) or (username is_not_null and (username in ["masterclient", "aksService"] or (username starts_with "system:" and username not contains "serviceaccount"))))"#,
    ];

    const RULES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");

    const HEADER: &str = "AnalysisType: rule\nRuleID: Test.Condition\nEnabled: true\nLogTypes: [Amazon.EKS.Audit]\nSeverity: Low\n";

    fn compile_text(text: &str) -> (Option<RuleIr>, Vec<Diagnostic>) {
        let shared = compile_shared(&Layout::standard(RULES_DIR));
        let library = Library {
            data_models: &shared.data_models,
            predicates: &shared.predicates,
        };
        parse_rule(
            &SourceFile {
                name: "test.yml".to_owned(),
                text: text.to_owned(),
            },
            &library,
        )
    }

    /// The only diagnostic of a rule: its line, column, message and help.
    fn only_error(body: &str) -> (usize, usize, String, Option<String>) {
        let (rule, diagnostics) = compile_text(&format!("{HEADER}{body}"));
        assert!(rule.is_none());
        let [d] = diagnostics.as_slice() else {
            panic!("expected one diagnostic, got {diagnostics:#?}");
        };
        let Some(Location { line, column }) = d.location else {
            panic!("no location: {d}");
        };
        (line, column, d.message.clone(), d.help.clone())
    }

    /// The 1-based column of `needle` on line `line` of the rule (header included).
    fn column_in(body: &str, line: usize, needle: &str) -> usize {
        let text = format!("{HEADER}{body}");
        let source = text.lines().nth(line - 1).unwrap_or_default();
        let byte = source
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not on line {line}"));
        source[..byte].chars().count() + 1
    }

    #[test]
    fn rule_errors_point_inside_one_line_strings() {
        // Plain, in a list: line 7 is `  - verb eqq "get"`.
        let body = "Condition:\n  - verb eq \"get\"\n  - verb eqq \"get\"\n";
        let (line, column, message, help) = only_error(body);
        assert_eq!((line, column), (8, 10));
        assert_eq!(column, column_in(body, 8, "eqq"));
        assert_eq!(message, "unknown operator `eqq`");
        assert_eq!(help.as_deref(), Some("did you mean `eq`?"));

        // Double-quoted with escapes before the error.
        let body = "Condition:\n  - \"verb eq \\\"get\\\" and x eqq 1\"\n";
        let (line, column, ..) = only_error(body);
        assert_eq!((line, column), (7, column_in(body, 7, "eqq")));

        // Single-quoted with a doubled quote before the error.
        let body = "Condition:\n  - 'verb eq ''get'' and x eqq 1'\n";
        let (line, column, ..) = only_error(body);
        assert_eq!((line, column), (7, column_in(body, 7, "eqq")));

        // A single string, and a flow list; non-ASCII text before the error.
        let body = "Condition: verb eq \"ünï\" and x eqq 1\n";
        let (line, column, ..) = only_error(body);
        assert_eq!((line, column), (6, column_in(body, 6, "eqq")));
        let body = "Condition: [\"verb eq 'get'\", \"x eqq 1\"]\n";
        let (line, column, ..) = only_error(body);
        assert_eq!((line, column), (6, column_in(body, 6, "eqq")));

        // An error at the very end of a quoted string points at its closing quote.
        let body = "Condition: \"(verb eq 'get'\"\n";
        let (line, column, message, _) = only_error(body);
        assert_eq!((line, column), (6, 27));
        assert!(message.starts_with("unclosed `(`"), "{message}");

        // Errors found while lowering point the same way.
        let body = "Condition:\n  - responseStatus.code ge \"four\"\n";
        let (line, column, message, _) = only_error(body);
        assert_eq!((line, column), (7, column_in(body, 7, "\"four\"")));
        assert!(message.contains("is not a number"));
    }

    #[test]
    fn rule_errors_in_block_or_multi_line_strings_name_the_column() {
        let body = "Condition: |\n  verb eqq \"get\"\n";
        let (line, column, message, _) = only_error(body);
        assert_eq!((line, column), (6, 12));
        assert_eq!(
            message,
            "unknown operator `eqq` at column 6 of the condition"
        );

        let body = "Condition:\n  - verb eq \"get\" and\n    verb eqq \"x\"\n";
        let (line, column, message, _) = only_error(body);
        assert_eq!((line, column), (7, 5));
        assert_eq!(
            message,
            "unknown operator `eqq` at column 24 of the condition"
        );
    }

    #[test]
    fn rules_need_detection_or_condition() {
        let (line, column, message, _) = only_error("");
        assert_eq!((line, column), (1, 1));
        assert_eq!(message, "a rule needs `Detection` or `Condition`");

        let (_, _, message, _) = only_error("Condition: []\n");
        assert_eq!(message, "`Condition` is empty");
        let (_, _, message, _) = only_error("Condition: [verb eq \"get\", 5]\n");
        assert_eq!(
            message,
            "each entry of `Condition` must be a string, found an integer"
        );

        // Detection first, then the conditions.
        let body = "Detection:\n  - {DataModel: verb, Condition: Equals, Value: get}\nCondition: resource eq \"secrets\"\n";
        let (rule, diagnostics) = compile_text(&format!("{HEADER}{body}"));
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        let condition = rule.map(|r| r.condition);
        assert_eq!(
            condition,
            Some(Expr::All(vec![
                t(udm("verb", &[]), Test::Equals(s("get"))),
                t(udm("resource", &[]), Test::Equals(s("secrets"))),
            ]))
        );
    }

    /// The seed rule with its `Detection` replaced by the catalog's four lines.
    fn seed_as_catalog(seed: &str) -> String {
        let start = seed.find("\nDetection:\n").map(|i| i + 1);
        let end = seed.find("\nAlertTitle:").map(|i| i + 1);
        let (Some(start), Some(end)) = (start, end) else {
            panic!("the seed rule changed shape");
        };
        let lines: String = SEED_LINES.iter().map(|l| format!("  - {l}\n")).collect();
        format!("{}Condition:\n{lines}{}", &seed[..start], &seed[end..])
    }

    fn eks_event(username: &str, namespace: &str) -> serde_json::Value {
        serde_json::json!({
            "kind": "Event",
            "verb": "get",
            "user": {"username": username},
            "objectRef": {"resource": "secrets", "namespace": namespace, "name": "token"},
            "responseStatus": {"code": 403},
            "p_log_type": "Amazon.EKS.Audit"
        })
    }

    #[test]
    fn seed_catalog_condition_agrees_with_the_seed_detection() {
        let layout = Layout::standard(RULES_DIR);
        let relative = "kubernetes/k8s_secret_access_denied.yml";
        let seed_compiled = compile_rule_file(&layout, relative);
        let Some(seed) = seed_compiled.rule else {
            panic!(
                "the seed rule does not compile: {}",
                seed_compiled.diagnostics
            );
        };
        let text = std::fs::read_to_string(format!("{RULES_DIR}/{relative}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let (catalog, diagnostics) = compile_text(&seed_as_catalog(&text));
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        let Some(catalog) = catalog else {
            panic!("the catalog version does not compile");
        };
        assert_eq!(catalog.tests, seed.tests);
        assert_ne!(catalog.condition, seed.condition);

        let run = |rule: &RuleIr, log_type: &str, event: &serde_json::Value| {
            crate::interp::matches(rule, log_type, event)
                .unwrap_or_else(|e| panic!("{} raised {e:?}", rule.meta.source_file))
        };
        // Every event test of the seed: (name, seed's result, catalog's result).
        let mut results = Vec::new();
        for case in &seed.tests {
            let TestBody::Event(test) = &case.body else {
                continue;
            };
            let event: serde_json::Value =
                serde_json::from_str(&test.log_json).unwrap_or_else(|e| panic!("{e}"));
            let seed_result = run(&seed, &test.log_type, &event);
            assert_eq!(seed_result, test.expected, "{}", case.name);
            results.push((
                case.name.as_str(),
                seed_result,
                run(&catalog, &test.log_type, &event),
            ));
        }
        assert_eq!(
            results,
            [
                ("EKS failed secret get (403 Forbidden)", true, true),
                ("EKS failed secret get (404 Not Found)", true, true),
                ("AKS failed secret get (401 Unauthorized)", true, true),
                ("GKE failed secret get", true, true),
                ("Service account failed to get secret", true, true),
                ("Successful secret get", false, false),
                ("System service account failed get (excluded)", false, false),
                ("Failed get on non-secret resource", false, false),
                ("List secrets operation (not get)", false, false),
            ]
        );
        // The sequence tests repeat the first event: same answer.
        let sequence_logs: Vec<&str> = seed
            .tests
            .iter()
            .filter_map(|c| match &c.body {
                TestBody::Sequence(s) => Some(s.steps.iter().map(|s| s.log_json.as_str())),
                TestBody::Event(_) => None,
            })
            .flatten()
            .collect();
        assert_eq!(sequence_logs.len(), 5);
        for log in sequence_logs {
            let event: serde_json::Value =
                serde_json::from_str(log).unwrap_or_else(|e| panic!("{e}"));
            assert!(run(&seed, "Amazon.EKS.Audit", &event));
            assert!(run(&catalog, "Amazon.EKS.Audit", &event));
        }

        // Where they differ: the prefixes of Kubernetes.SystemPrincipal that the
        // catalog's exclusion list omits (`eks:`, `gke-`, `azure-`,
        // `system:serviceaccount:kube-system:`, and `masterclient` as a prefix).
        let probes = [
            ("eks:node-manager", "production", false, true),
            ("gke-node-pool@example.iam", "production", false, true),
            ("azure-arc-agent", "production", false, true),
            (
                "system:serviceaccount:kube-system:ctrl",
                "production",
                false,
                true,
            ),
            ("masterclient-proxy", "production", false, true),
            // Excluded by both: the lists the catalog does have.
            ("masterclient", "production", false, false),
            ("aksService", "production", false, false),
            ("system:kube-scheduler", "production", false, false),
            ("attacker@example.com", "kube-public", false, false),
            // Matched by both.
            (
                "system:serviceaccount:default:app",
                "production",
                true,
                true,
            ),
            ("dev@example.com", "production", true, true),
        ];
        for (username, namespace, seed_expected, catalog_expected) in probes {
            let event = eks_event(username, namespace);
            assert_eq!(
                (
                    run(&seed, "Amazon.EKS.Audit", &event),
                    run(&catalog, "Amazon.EKS.Audit", &event)
                ),
                (seed_expected, catalog_expected),
                "{username} in {namespace}"
            );
        }
    }
}
