//! Catalog conditions **(ours)**: one-line conditions as detection catalogs
//! print them, for example
//! `verb eq "get" and (responseStatus.code ge "400" or username is_null)`.
//!
//! [`parse`] reads one condition into a [`Cond`] (with byte spans), [`lower`]
//! turns it into the IR's [`Expr`], and [`read_conditions`] does both for a
//! rule's `Condition:` key, reporting errors at their line and column in the
//! YAML file.
//!
//! Grammar (whitespace is free between tokens; docs/rule-format.md lists the
//! operators, forms and transforms):
//!
//! ```text
//! condition  := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" or ")" | "true" | "false" | form | comparison
//! form       := ("one_of" | "none_of") "(" (or ("," or)*)? ")"
//!             | quantifier "(" subject "," or ")" | "guard" "(" or "," string "," or ")"
//! comparison := subject ( unary_op | ("in" | "not" "in") list
//!                       | binary_op (value | "{" subject "}") )
//! subject    := field | call                 (a call: a value transform)
//! field      := "@" | "."? key ("." key | "[" digits "]" | "[*]")*
//! key        := [A-Za-z0-9_:@$/-]+ | "`" [^`]+ "`"
//! list       := "[" (value ("," value)* ","?)? "]"
//! value      := '"' (char | \" | \\)* '"' | "'" (char | \' | \\)* "'"
//!             | integer | float | "true" | "false" | "null"
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use rulec_runtime::PyType;
use winnow::combinator::{not, opt, peek};
use winnow::error::{ErrMode, ModalResult, ParserError};
use winnow::stream::{LocatingSlice, Location, Stateful};
use winnow::token::{any, one_of, take, take_till, take_while};
use winnow::Parser;
use yaml_serde::Value;

use crate::diag::did_you_mean;
use crate::expr_parse::Scope;
use crate::ir::{CmpOp, Expr, FieldRef, Lit, NumLit, PairOp, Quantifier, Seg, Test, ValueExpr};
use crate::yaml::{Reader, YNode};

/// The operators, as written.
pub const OPERATORS: [&str; 34] = [
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
    "ieq",
    "icontains",
    "istarts_with",
    "iends_with",
    "matches",
    "in_cidr",
    "exists",
    "is_null_or_empty",
    "is_truthy",
    "is_integer",
    "is_number",
    "is_string",
    "is_boolean",
    "is_object",
    "is_array",
    "is_ip",
    "is_ipv4",
    "is_ipv6",
    "is_ip_public",
    "is_ip_private",
];

/// The condition forms written like calls (`one_of(a, b)`), as opposed to the
/// value transforms in [`FUNCTIONS`].
pub const FORMS: [&str; 7] = [
    "one_of",
    "none_of",
    "any_element",
    "all_elements",
    "no_element",
    "one_element",
    "guard",
];

/// The value transforms, written like calls (`lower(verb)`).
pub const FUNCTIONS: [&str; 31] = [
    "computed",
    "missing",
    "lower",
    "join",
    "url_decode",
    "const",
    "object",
    "keys",
    "distinct",
    "sort",
    "flatten",
    "each",
    "path",
    "get",
    "doc_path",
    "doc_get",
    "dict_get",
    "text",
    "split",
    "after_last",
    "concat",
    "first_truthy",
    "first_present",
    "list_of_truthy",
    "if",
    "deep_walk",
    "url_query",
    "query_params",
    "split_pairs",
    "after",
    "element",
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
    /// `ieq`: equal ignoring case.
    IEq,
    /// `icontains`.
    IContains,
    /// `istarts_with`.
    IStartsWith,
    /// `iends_with`.
    IEndsWith,
    /// `matches`: a regular expression finds a match.
    Matches,
    /// `in_cidr`: an IP address inside a network.
    InCidr,
    /// `exists`: the key is present.
    Exists,
    /// `is_null_or_empty`.
    IsNullOrEmpty,
    /// `is_truthy`.
    IsTruthy,
    /// `is_integer`.
    IsInteger,
    /// `is_number`.
    IsNumber,
    /// `is_string`.
    IsString,
    /// `is_boolean`.
    IsBoolean,
    /// `is_object`.
    IsObject,
    /// `is_array`.
    IsArray,
    /// `is_ip`.
    IsIp,
    /// `is_ipv4`.
    IsIpv4,
    /// `is_ipv6`.
    IsIpv6,
    /// `is_ip_public`.
    IsIpPublic,
    /// `is_ip_private`.
    IsIpPrivate,
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
            Op::IEq => "ieq",
            Op::IContains => "icontains",
            Op::IStartsWith => "istarts_with",
            Op::IEndsWith => "iends_with",
            Op::Matches => "matches",
            Op::InCidr => "in_cidr",
            Op::Exists => "exists",
            Op::IsNullOrEmpty => "is_null_or_empty",
            Op::IsTruthy => "is_truthy",
            Op::IsInteger => "is_integer",
            Op::IsNumber => "is_number",
            Op::IsString => "is_string",
            Op::IsBoolean => "is_boolean",
            Op::IsObject => "is_object",
            Op::IsArray => "is_array",
            Op::IsIp => "is_ip",
            Op::IsIpv4 => "is_ipv4",
            Op::IsIpv6 => "is_ipv6",
            Op::IsIpPublic => "is_ip_public",
            Op::IsIpPrivate => "is_ip_private",
        }
    }

    /// Whether the operator takes no value (`is_null`, `exists`, `is_ip`...).
    pub fn takes_no_value(self) -> bool {
        match self {
            Op::IsNull
            | Op::IsNotNull
            | Op::Exists
            | Op::IsNullOrEmpty
            | Op::IsTruthy
            | Op::IsInteger
            | Op::IsNumber
            | Op::IsString
            | Op::IsBoolean
            | Op::IsObject
            | Op::IsArray
            | Op::IsIp
            | Op::IsIpv4
            | Op::IsIpv6
            | Op::IsIpPublic
            | Op::IsIpPrivate => true,
            Op::Eq
            | Op::Ne
            | Op::Gt
            | Op::Ge
            | Op::Lt
            | Op::Le
            | Op::In
            | Op::NotIn
            | Op::Contains
            | Op::NotContains
            | Op::StartsWith
            | Op::EndsWith
            | Op::IEq
            | Op::IContains
            | Op::IStartsWith
            | Op::IEndsWith
            | Op::Matches
            | Op::InCidr => false,
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
            "ieq" => Op::IEq,
            "icontains" => Op::IContains,
            "istarts_with" => Op::IStartsWith,
            "iends_with" => Op::IEndsWith,
            "matches" => Op::Matches,
            "in_cidr" => Op::InCidr,
            "exists" => Op::Exists,
            "is_null_or_empty" => Op::IsNullOrEmpty,
            "is_truthy" => Op::IsTruthy,
            "is_integer" => Op::IsInteger,
            "is_number" => Op::IsNumber,
            "is_string" => Op::IsString,
            "is_boolean" => Op::IsBoolean,
            "is_object" => Op::IsObject,
            "is_array" => Op::IsArray,
            "is_ip" => Op::IsIp,
            "is_ipv4" => Op::IsIpv4,
            "is_ipv6" => Op::IsIpv6,
            "is_ip_public" => Op::IsIpPublic,
            "is_ip_private" => Op::IsIpPrivate,
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
    /// No value (`is_null`, `is_not_null`, `exists`...).
    None,
    /// One constant.
    Value(Spanned<Lit>),
    /// A list of constants (`in`, `not in`).
    List(Vec<Spanned<Lit>>),
    /// Another field, in braces (`ne {recipientAccountId}`): a multi-key comparison.
    Field(Spanned<Subject>),
}

/// What a comparison reads, before names are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// A field's path, as written (`a.b[0]`); `raw` when it starts with `.`
    /// (a raw key even where a data-model field has the same name).
    Path {
        /// The path; empty for `@`, the current value.
        path: Vec<Seg>,
        /// Written with a leading `.`.
        raw: bool,
    },
    /// A computed value: a transform (`lower(verb)`) or `computed(...)`.
    Value(Box<ValueAst>),
}

/// A value transform as written, before names are resolved: the catalog
/// form of the IR's [`ValueExpr`].
#[derive(Debug, Clone, PartialEq)]
pub enum ValueAst {
    /// A field (`verb`, `.verb`, `@`).
    Field(Spanned<Subject>),
    /// A constant string.
    Literal(String),
    /// `computed(v)` as an argument: the field whose value is computed by `v`.
    Computed(Box<ValueAst>),
    /// `missing()`.
    Missing,
    /// `lower(v)`.
    Lower(Box<ValueAst>),
    /// `join(v, "sep")`.
    Join(Box<ValueAst>, Spanned<String>),
    /// `url_decode(v)`.
    UrlDecode(Box<ValueAst>),
    /// `const(<JSON>)`.
    Const(serde_json::Value),
    /// `object("key": v, ...)`.
    Object(Vec<(String, ValueAst)>),
    /// `keys(v)`.
    Keys(Box<ValueAst>),
    /// `distinct(v)`.
    Distinct(Box<ValueAst>),
    /// `sort(v)`.
    Sort(Box<ValueAst>),
    /// `flatten(v)`.
    Flatten(Box<ValueAst>),
    /// `each(list, where cond, to v)`.
    Each {
        /// The list.
        list: Box<ValueAst>,
        /// `where`.
        filter: Option<Box<Cond>>,
        /// `to`.
        to: Option<Box<ValueAst>>,
    },
    /// `path("a", "b")` (exact keys) or `get("a", "b")` (Python's `deep_get`).
    EventPath {
        /// The keys.
        keys: Vec<String>,
        /// `get`.
        case_insensitive: bool,
    },
    /// `doc_path("doc", "a", "b")`.
    DocPath(Spanned<String>, Vec<String>),
    /// `doc_get("doc", "key")`.
    DocGet(Spanned<String>, String),
    /// `dict_get(v, "key")`.
    DictGet(Box<ValueAst>, String),
    /// `text(v)`.
    Text(Box<ValueAst>),
    /// `split(v, "sep", index)` or `split(v, "sep", index, max_split)`.
    Split(Box<ValueAst>, Spanned<String>, usize, Option<usize>),
    /// `deep_walk("a", "b")`.
    DeepWalk(Vec<String>),
    /// `url_query(v)`.
    UrlQuery(Box<ValueAst>),
    /// `query_params(v)`.
    QueryParams(Box<ValueAst>),
    /// `split_pairs(v, "sep", "assign")`.
    SplitPairs(Box<ValueAst>, Spanned<String>, Spanned<String>),
    /// `after(list, where cond)`.
    After(Box<ValueAst>, Box<Cond>),
    /// `element(v, index)` (a negative index counts from the end).
    Element(Box<ValueAst>, i64),
    /// `after_last(v, "sep")`.
    AfterLast(Box<ValueAst>, Spanned<String>),
    /// `concat(v, ...)`.
    Concat(Vec<ValueAst>),
    /// `first_truthy(v, ...)`.
    FirstTruthy(Vec<ValueAst>),
    /// `first_present(v, ...)`.
    FirstPresent(Vec<ValueAst>),
    /// `list_of_truthy(v)`.
    ListOfTruthy(Box<ValueAst>),
    /// `if(cond, then, else)`.
    If(Box<Cond>, Box<ValueAst>, Box<ValueAst>),
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
    /// `true` / `false`.
    Const(bool),
    /// `one_of(a, b, ...)`: exactly one holds.
    OnlyOne(Vec<Cond>),
    /// `none_of(a, b, ...)`: none holds.
    NoneOf(Vec<Cond>),
    /// `any_element(list, cond)` and the other quantifiers.
    Each {
        /// The list.
        list: Spanned<Subject>,
        /// How the elements are counted.
        quantifier: Quantifier,
        /// The condition on each element (its keys read from the element).
        body: Box<Cond>,
    },
    /// `guard(requires, "message", body)`: raises `message` when `requires`
    /// is false, else `body` decides.
    Guard {
        /// The precondition.
        requires: Box<Cond>,
        /// The error.
        message: String,
        /// The condition.
        body: Box<Cond>,
    },
    /// `field op value`.
    Compare {
        /// The field, as written.
        field: Spanned<Subject>,
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

/// Stack for parsing one condition. Each level of nesting takes tens of
/// kilobytes of stack in a debug build (a transform call, the deepest, about
/// 32 KiB), so [`MAX_DEPTH`] levels would overflow a 2 MiB thread (a test's,
/// or a tool's worker); the parser runs on a thread of its own with this much.
const PARSE_STACK_BYTES: usize = 32 << 20;

/// Parses one condition (on a thread with [`PARSE_STACK_BYTES`] of stack, so
/// the deepest condition [`MAX_DEPTH`] allows parses whatever the caller's stack).
pub fn parse(text: &str) -> Result<Cond, ConditionError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("rulec-condition-parser".to_owned())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(scope, || parse_here(text))
            .ok()
            .and_then(|handle| handle.join().ok())
    })
    .unwrap_or_else(|| parse_here(text))
}

fn parse_here(text: &str) -> Result<Cond, ConditionError> {
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
    if let Some(value) = constant(i)? {
        return Ok(Cond::Const(value));
    }
    if let Some(name) = call_name(i) {
        if let Some(cond) = form(i, &name)? {
            return Ok(cond);
        }
    }
    comparison(i)
}

fn comparison(i: &mut Input<'_>) -> PResult<Cond> {
    let field = subject(i)?;
    let field_text = i
        .state
        .text
        .get(field.span.clone())
        .unwrap_or("")
        .to_owned();
    ws(i)?;
    let op = operator(i, &field_text)?;
    let operand = match op.value {
        op_value if op_value.takes_no_value() => {
            ws(i)?;
            let at = i.current_token_start();
            let next = rest(i);
            let takes_value = next.starts_with(['"', '\'', '[', '-', '{'])
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
            if opt('{').parse_next(i)?.is_some() {
                ws(i)?;
                let inner = subject(i)?;
                ws(i)?;
                if opt('}').parse_next(i)?.is_none() {
                    return fail(
                        i.current_token_start(),
                        format!("expected `}}` after the field, found {}", found(i)),
                        Some("a field operand is written `{field}`".to_owned()),
                    );
                }
                Operand::Field(inner)
            } else {
                Operand::Value(value(i, &format!("a value after `{other}`"))?)
            }
        }
    };
    Ok(Cond::Compare { field, op, operand })
}

/// The name of a call (`one_of(`, `lower(`) when one starts here: a word
/// directly followed by `(`.
fn call_name(i: &Input<'_>) -> Option<String> {
    let text = rest(i);
    let len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (len > 0 && text[len..].starts_with('(')).then(|| text[..len].to_owned())
}

/// `true` / `false` standing alone as a condition (not a field named so):
/// followed by the end, `)`, `,`, `and` or `or`.
fn constant(i: &mut Input<'_>) -> PResult<Option<bool>> {
    for (word, value) in [("true", true), ("false", false)] {
        let Some(after) = rest(i).strip_prefix(word) else {
            continue;
        };
        if after.starts_with(continues_word) {
            continue;
        }
        let next = after.trim_start();
        let is_word = |w: &str| {
            next.strip_prefix(w)
                .is_some_and(|a| !a.starts_with(continues_word))
        };
        if next.is_empty() || next.starts_with([')', ',']) || is_word("and") || is_word("or") {
            take(word.len()).void().parse_next(i)?;
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// Consumes `(`, `,` or `)` (after spaces), or fails naming what `what` expected.
fn punct(i: &mut Input<'_>, c: char, what: &str) -> PResult<()> {
    ws(i)?;
    if opt(c).parse_next(i)?.is_none() {
        return fail(
            i.current_token_start(),
            format!("expected `{c}` {what}, found {}", found(i)),
            None,
        );
    }
    Ok(())
}

/// A condition form written as a call: `one_of(...)`, `none_of(...)`, the
/// list quantifiers and `guard(...)`. `None` when `name` is not one.
fn form(i: &mut Input<'_>, name: &str) -> PResult<Option<Cond>> {
    let quantifier = match name {
        "any_element" => Some(Quantifier::Any),
        "all_elements" => Some(Quantifier::All),
        "no_element" => Some(Quantifier::None),
        "one_element" => Some(Quantifier::OnlyOne),
        "one_of" | "none_of" | "guard" => None,
        _ => return Ok(None),
    };
    let start = i.current_token_start();
    enter(i, start)?;
    take(name.len() + 1).void().parse_next(i)?;
    let what = format!("in `{name}(...)`");
    let cond = if let Some(quantifier) = quantifier {
        ws(i)?;
        let list = subject(i)?;
        punct(i, ',', &format!("after the list {what}"))?;
        let body = or_expr(i)?;
        punct(i, ')', &format!("to close `{name}(`"))?;
        Cond::Each {
            list,
            quantifier,
            body: Box::new(body),
        }
    } else if name == "guard" {
        let requires = or_expr(i)?;
        punct(i, ',', &format!("after the precondition {what}"))?;
        ws(i)?;
        let message = match peek(opt(any)).parse_next(i)? {
            Some(q @ ('"' | '\'')) => quoted(i, q)?,
            _ => {
                return fail(
                    i.current_token_start(),
                    format!(
                        "expected the error message (a string) {what}, found {}",
                        found(i)
                    ),
                    None,
                )
            }
        };
        punct(i, ',', &format!("after the message {what}"))?;
        let body = or_expr(i)?;
        punct(i, ')', &format!("to close `{name}(`"))?;
        Cond::Guard {
            requires: Box::new(requires),
            message,
            body: Box::new(body),
        }
    } else {
        let mut items = Vec::new();
        ws(i)?;
        if opt(')').parse_next(i)?.is_none() {
            loop {
                items.push(or_expr(i)?);
                ws(i)?;
                if opt(',').parse_next(i)?.is_some() {
                    continue;
                }
                punct(i, ')', &format!("or `,` {what}"))?;
                break;
            }
        }
        if name == "one_of" {
            Cond::OnlyOne(items)
        } else {
            Cond::NoneOf(items)
        }
    };
    leave(i);
    Ok(Some(cond))
}

/// What a comparison reads: a field (`a.b`, `.a`, `@`), a transform call
/// (`lower(a)`) or `computed(...)`.
fn subject(i: &mut Input<'_>) -> PResult<Spanned<Subject>> {
    let start = i.current_token_start();
    if let Some(name) = call_name(i) {
        let value = call(i, &name)?;
        let value = match value {
            ValueAst::Computed(inner) => *inner,
            other => other,
        };
        return Ok(Spanned {
            value: Subject::Value(Box::new(value)),
            span: start..i.current_token_start(),
        });
    }
    let raw = rest(i).starts_with('.')
        && rest(i)[1..].starts_with(|c: char| is_key_char(c) || c == '`' || c == '[');
    if raw {
        take(1usize).void().parse_next(i)?;
    }
    let path = field(i, raw)?;
    Ok(Spanned {
        value: Subject::Path {
            path: path.value,
            raw,
        },
        span: start..path.span.end,
    })
}

/// A transform argument: a call, a string, or a field.
fn value_arg(i: &mut Input<'_>) -> PResult<ValueAst> {
    ws(i)?;
    if let Some(name) = call_name(i) {
        return call(i, &name);
    }
    if let Some(q @ ('"' | '\'')) = peek(opt(any)).parse_next(i)? {
        return Ok(ValueAst::Literal(quoted(i, q)?));
    }
    Ok(ValueAst::Field(subject(i)?))
}

/// A string argument, with its span.
fn string_arg(i: &mut Input<'_>, what: &str) -> PResult<Spanned<String>> {
    ws(i)?;
    let start = i.current_token_start();
    match peek(opt(any)).parse_next(i)? {
        Some(q @ ('"' | '\'')) => {
            let value = quoted(i, q)?;
            Ok(Spanned {
                value,
                span: start..i.current_token_start(),
            })
        }
        _ => fail(
            start,
            format!("expected {what} (a quoted string), found {}", found(i)),
            None,
        ),
    }
}

/// A JSON value, up to the `)` or `,` that ends it.
fn json_arg(i: &mut Input<'_>) -> PResult<serde_json::Value> {
    ws(i)?;
    let start = i.current_token_start();
    let text = rest(i);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut end = text.len();
    for (at, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            ')' | ',' if depth == 0 => {
                end = at;
                break;
            }
            _ => {}
        }
    }
    let json = text[..end].trim_end();
    match serde_json::from_str(json) {
        Ok(value) => {
            take(json.len()).void().parse_next(i)?;
            Ok(value)
        }
        Err(e) => fail(start, format!("`const` takes a JSON value: {e}"), None),
    }
}

/// Comma-separated transform arguments up to `)`; at least `min`.
fn value_args(i: &mut Input<'_>, name: &str, min: usize) -> PResult<Vec<ValueAst>> {
    let mut out = Vec::new();
    ws(i)?;
    if min == 0 && opt(')').parse_next(i)?.is_some() {
        return Ok(out);
    }
    loop {
        out.push(value_arg(i)?);
        ws(i)?;
        if opt(',').parse_next(i)?.is_some() {
            continue;
        }
        punct(i, ')', &format!("or `,` in `{name}(...)`"))?;
        break;
    }
    if out.len() < min {
        return fail(
            i.current_token_start(),
            format!("`{name}` takes at least {min} values"),
            None,
        );
    }
    Ok(out)
}

/// Comma-separated string arguments up to `)`.
fn string_args(i: &mut Input<'_>, name: &str) -> PResult<Vec<String>> {
    let mut out = Vec::new();
    loop {
        out.push(string_arg(i, &format!("a key in `{name}(...)`"))?.value);
        ws(i)?;
        if opt(',').parse_next(i)?.is_some() {
            continue;
        }
        punct(i, ')', &format!("or `,` in `{name}(...)`"))?;
        return Ok(out);
    }
}

/// A transform call; the name is next, then `(`.
fn call(i: &mut Input<'_>, name: &str) -> PResult<ValueAst> {
    let start = i.current_token_start();
    if FORMS.contains(&name) {
        return fail(
            start,
            format!("`{name}(...)` is a condition, not a value"),
            None,
        );
    }
    if !FUNCTIONS.contains(&name) {
        let help = match did_you_mean(name, FUNCTIONS.iter().copied().chain(FORMS)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the functions are: {}", FUNCTIONS.join(", ")),
        };
        return fail(start, format!("unknown function `{name}`"), Some(help));
    }
    enter(i, start)?;
    take(name.len() + 1).void().parse_next(i)?;
    let close = |i: &mut Input<'_>| punct(i, ')', &format!("to close `{name}(`"));
    let comma = |i: &mut Input<'_>| punct(i, ',', &format!("in `{name}(...)`"));
    let one = |i: &mut Input<'_>| -> PResult<Box<ValueAst>> {
        let v = value_arg(i)?;
        Ok(Box::new(v))
    };
    let value = match name {
        "missing" => {
            close(i)?;
            ValueAst::Missing
        }
        "computed" => {
            let v = one(i)?;
            close(i)?;
            ValueAst::Computed(v)
        }
        "const" => {
            let v = json_arg(i)?;
            close(i)?;
            ValueAst::Const(v)
        }
        "lower" | "url_decode" | "keys" | "distinct" | "sort" | "flatten" | "text"
        | "list_of_truthy" | "url_query" | "query_params" => {
            let v = one(i)?;
            close(i)?;
            match name {
                "url_query" => ValueAst::UrlQuery(v),
                "query_params" => ValueAst::QueryParams(v),
                "lower" => ValueAst::Lower(v),
                "url_decode" => ValueAst::UrlDecode(v),
                "keys" => ValueAst::Keys(v),
                "distinct" => ValueAst::Distinct(v),
                "sort" => ValueAst::Sort(v),
                "flatten" => ValueAst::Flatten(v),
                "text" => ValueAst::Text(v),
                _ => ValueAst::ListOfTruthy(v),
            }
        }
        "join" | "after_last" => {
            let v = one(i)?;
            comma(i)?;
            let sep = string_arg(i, "the separator")?;
            close(i)?;
            if name == "join" {
                ValueAst::Join(v, sep)
            } else {
                ValueAst::AfterLast(v, sep)
            }
        }
        "split" => {
            let v = one(i)?;
            comma(i)?;
            let sep = string_arg(i, "the separator")?;
            comma(i)?;
            ws(i)?;
            let at = i.current_token_start();
            let index = opt(take_while(1.., |c: char| c.is_ascii_digit()))
                .parse_next(i)?
                .and_then(|d: &str| d.parse::<usize>().ok())
                .filter(|n| *n <= 1_000_000);
            let Some(index) = index else {
                return fail(
                    at,
                    format!(
                        "expected the part's index (0 to 1000000), found {}",
                        found(i)
                    ),
                    None,
                );
            };
            ws(i)?;
            let max_split = if opt(',').parse_next(i)?.is_some() {
                ws(i)?;
                let at = i.current_token_start();
                let max = opt(take_while(1.., |c: char| c.is_ascii_digit()))
                    .parse_next(i)?
                    .and_then(|d: &str| d.parse::<usize>().ok())
                    .filter(|n| *n <= 1_000_000);
                match max {
                    Some(max) => Some(max),
                    None => {
                        return fail(
                            at,
                            format!(
                                "expected the most splits (0 to 1000000), found {}",
                                found(i)
                            ),
                            None,
                        )
                    }
                }
            } else {
                None
            };
            close(i)?;
            ValueAst::Split(v, sep, index, max_split)
        }
        "element" => {
            let v = one(i)?;
            comma(i)?;
            ws(i)?;
            let at = i.current_token_start();
            let index = opt((opt('-'), take_while(1.., |c: char| c.is_ascii_digit())).take())
                .parse_next(i)?
                .and_then(|d: &str| d.parse::<i64>().ok())
                .filter(|n| n.unsigned_abs() <= 1_000_000);
            let Some(index) = index else {
                return fail(
                    at,
                    format!(
                        "expected the element's index (-1000000 to 1000000), found {}",
                        found(i)
                    ),
                    None,
                );
            };
            close(i)?;
            ValueAst::Element(v, index)
        }
        "split_pairs" => {
            let v = one(i)?;
            comma(i)?;
            let sep = string_arg(i, "the separator")?;
            comma(i)?;
            let assign = string_arg(i, "the key-value separator")?;
            close(i)?;
            ValueAst::SplitPairs(v, sep, assign)
        }
        "deep_walk" => ValueAst::DeepWalk(string_args(i, name)?),
        "after" => {
            let list = one(i)?;
            comma(i)?;
            ws(i)?;
            if !keyword(i, "where")? {
                return fail(
                    i.current_token_start(),
                    format!("expected `where` in `after(...)`, found {}", found(i)),
                    Some("write `after(list, where condition)`".to_owned()),
                );
            }
            let filter = Box::new(or_expr(i)?);
            close(i)?;
            ValueAst::After(list, filter)
        }
        "dict_get" => {
            let v = one(i)?;
            comma(i)?;
            let key = string_arg(i, "the key")?.value;
            close(i)?;
            ValueAst::DictGet(v, key)
        }
        "doc_get" => {
            let doc = string_arg(i, "the document's name")?;
            comma(i)?;
            let key = string_arg(i, "the key")?.value;
            close(i)?;
            ValueAst::DocGet(doc, key)
        }
        "doc_path" => {
            let doc = string_arg(i, "the document's name")?;
            comma(i)?;
            ValueAst::DocPath(doc, string_args(i, name)?)
        }
        "path" | "get" => ValueAst::EventPath {
            keys: string_args(i, name)?,
            case_insensitive: name == "get",
        },
        "concat" | "first_truthy" | "first_present" => {
            let items = value_args(i, name, 1)?;
            match name {
                "concat" => ValueAst::Concat(items),
                "first_truthy" => ValueAst::FirstTruthy(items),
                _ => ValueAst::FirstPresent(items),
            }
        }
        "object" => {
            let mut entries = Vec::new();
            ws(i)?;
            if opt(')').parse_next(i)?.is_none() {
                loop {
                    let key = string_arg(i, "a key in `object(...)`")?.value;
                    punct(i, ':', "after the key in `object(...)`")?;
                    entries.push((key, value_arg(i)?));
                    ws(i)?;
                    if opt(',').parse_next(i)?.is_some() {
                        continue;
                    }
                    close(i)?;
                    break;
                }
            }
            ValueAst::Object(entries)
        }
        "each" => {
            let list = one(i)?;
            let (mut filter, mut to) = (None, None);
            loop {
                ws(i)?;
                if opt(')').parse_next(i)?.is_some() {
                    break;
                }
                comma(i)?;
                ws(i)?;
                if filter.is_none() && to.is_none() && keyword(i, "where")? {
                    filter = Some(Box::new(or_expr(i)?));
                } else if to.is_none() && keyword(i, "to")? {
                    to = Some(one(i)?);
                } else {
                    return fail(
                        i.current_token_start(),
                        format!(
                            "expected `where` or `to` in `each(...)`, found {}",
                            found(i)
                        ),
                        Some("write `each(list, where condition, to value)`".to_owned()),
                    );
                }
            }
            ValueAst::Each { list, filter, to }
        }
        _ => {
            // "if"
            let condition = or_expr(i)?;
            comma(i)?;
            let then = one(i)?;
            comma(i)?;
            let otherwise = one(i)?;
            close(i)?;
            ValueAst::If(Box::new(condition), then, otherwise)
        }
    };
    leave(i);
    Ok(value)
}

fn field(i: &mut Input<'_>, raw: bool) -> PResult<Spanned<Vec<Seg>>> {
    let start = i.current_token_start();
    let mut path = Vec::new();
    // After a leading `.`, the path may start with an index: `.[0]`.
    if !(raw && rest(i).starts_with('[')) {
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
        if !quoted && !raw && (first == "and" || first == "or") {
            return fail(
                start,
                format!("expected a field name, found `{first}`"),
                Some(
                    "a field is missing before it; write a field named so in backquotes".to_owned(),
                ),
            );
        }
        // A lone `@` is the current value (the element in a quantifier).
        let current = !quoted && first == "@" && !rest(i).starts_with(['.', '[']);
        if !current {
            path.push(Seg::Key(first));
        }
    }
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
            if opt(('*', ']')).parse_next(i)?.is_some() {
                path.push(Seg::Each);
                continue;
            }
            let index = opt(take_while(1.., |c: char| c.is_ascii_digit())).parse_next(i)?;
            let closed = opt(']').parse_next(i)?.is_some();
            match index.map(str::parse::<usize>) {
                Some(Ok(n)) if closed => path.push(Seg::Index(n)),
                _ => {
                    return fail(
                        at,
                        "expected a list index such as `[0]` or `[*]`",
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
                    Some(w) if Op::from_word(w).is_some_and(Op::takes_no_value) => {
                        format!("write `not {field} {w}`")
                    }
                    Some(w) if Op::from_word(w).is_some() => {
                        format!("write `not ({field} {w} ...)`")
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
    let each = |items: &[Cond]| -> Result<Vec<Expr>, ConditionError> {
        items.iter().map(|c| lower(c, scope, known_keys)).collect()
    };
    Ok(match cond {
        Cond::And(items) => Expr::All(flatten(items, scope, known_keys, true)?),
        Cond::Or(items) => Expr::Any(flatten(items, scope, known_keys, false)?),
        Cond::Not(inner) => Expr::Not(Box::new(lower(inner, scope, known_keys)?)),
        Cond::Const(value) => Expr::Const(*value),
        Cond::OnlyOne(items) => Expr::OnlyOne(each(items)?),
        Cond::NoneOf(items) => Expr::NoneOf(each(items)?),
        Cond::Each {
            list,
            quantifier,
            body,
        } => Expr::Each {
            list: resolve_subject(list, scope, known_keys)?,
            quantifier: *quantifier,
            body: Box::new(as_list(lower(body, &element_scope(), None)?)),
        },
        Cond::Guard {
            requires,
            message,
            body,
        } => Expr::Guarded {
            requires: Box::new(lower(requires, scope, known_keys)?),
            message: message.clone(),
            body: Box::new(lower(body, scope, known_keys)?),
        },
        Cond::Compare { field, op, operand } => {
            let field = resolve_subject(field, scope, known_keys)?;
            if let Operand::Field(other) = operand {
                return lower_pair(field, op, resolve_subject(other, scope, known_keys)?);
            }
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
                (Op::Exists, _) => test(Test::Exists),
                (Op::IsNullOrEmpty, _) => test(Test::IsNullOrEmpty),
                (Op::IsTruthy, _) => test(Test::IsTruthy),
                (Op::IsInteger, _) => test(Test::IsInteger),
                (Op::IsNumber, _) => test(Test::IsNumber),
                (Op::IsString, _) => test(Test::HasType(PyType::Str)),
                (Op::IsBoolean, _) => test(Test::HasType(PyType::Bool)),
                (Op::IsObject, _) => test(Test::HasType(PyType::Dict)),
                (Op::IsArray, _) => test(Test::HasType(PyType::List)),
                (Op::IsIp, _) => test(Test::IsIp),
                (Op::IsIpv4, _) => test(Test::IsIpv4),
                (Op::IsIpv6, _) => test(Test::IsIpv6),
                (Op::IsIpPublic, _) => test(Test::IsIpPublic),
                (Op::IsIpPrivate, _) => test(Test::IsIpPrivate),
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
                (Op::IEq, Operand::Value(lit)) => test(Test::IEquals(string(lit)?.to_lowercase())),
                (Op::IContains, Operand::Value(lit)) => {
                    test(Test::IContains(string(lit)?.to_lowercase()))
                }
                (Op::IStartsWith, Operand::Value(lit)) => {
                    test(Test::IStartsWith(string(lit)?.to_lowercase()))
                }
                (Op::IEndsWith, Operand::Value(lit)) => {
                    test(Test::IEndsWith(string(lit)?.to_lowercase()))
                }
                (Op::Matches, Operand::Value(lit)) => {
                    let pattern = string(lit)?;
                    if let Err(e) = rulec_runtime::pattern::compile_regex(&pattern) {
                        let (message, help) = rulec_runtime::pattern::explain_regex_error(&e);
                        return Err(ConditionError::new(
                            lit.span.start,
                            format!("`{pattern}` is not a regular expression: {message}"),
                            Some(help.to_owned()),
                        ));
                    }
                    test(Test::Matches(pattern))
                }
                (Op::InCidr, Operand::Value(lit)) => {
                    let text = string(lit)?;
                    let Some(net) = rulec_runtime::ip::Cidr::parse(&text) else {
                        return Err(ConditionError::new(
                            lit.span.start,
                            format!("`{text}` is not a network in CIDR notation"),
                            Some(
                                "write an address and a prefix length, e.g. `10.0.0.0/8`"
                                    .to_owned(),
                            ),
                        ));
                    };
                    test(Test::InCidr(net))
                }
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
                    test(Test::Compare(cmp_op(cmp), bound))
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

/// The comparison of `gt`, `ge`, `lt`, `le` (`le` for any other operator).
fn cmp_op(op: Op) -> CmpOp {
    match op {
        Op::Gt => CmpOp::Gt,
        Op::Ge => CmpOp::Ge,
        Op::Lt => CmpOp::Lt,
        _ => CmpOp::Le,
    }
}

/// A multi-key comparison `field op {other}`.
fn lower_pair(left: FieldRef, op: &Spanned<Op>, right: FieldRef) -> Result<Expr, ConditionError> {
    let (pair, negated) = match op.value {
        Op::Eq => (PairOp::Equals, false),
        Op::Ne => (PairOp::Equals, true),
        Op::IEq => (PairOp::IEquals, false),
        Op::StartsWith => (PairOp::StartsWith, false),
        Op::IStartsWith => (PairOp::IStartsWith, false),
        Op::EndsWith => (PairOp::EndsWith, false),
        Op::IEndsWith => (PairOp::IEndsWith, false),
        Op::Contains => (PairOp::Contains, false),
        Op::NotContains => (PairOp::Contains, true),
        Op::IContains => (PairOp::IContains, false),
        cmp @ (Op::Gt | Op::Ge | Op::Lt | Op::Le) => (PairOp::Compare(cmp_op(cmp)), false),
        other => {
            return Err(ConditionError::new(
                op.span.start,
                format!("`{other}` does not compare two fields"),
                Some("a `{field}` operand goes with eq, ne, ieq, the string operators and the comparisons".to_owned()),
            ))
        }
    };
    let expr = Expr::Pair {
        left,
        op: pair,
        right,
    };
    Ok(if negated {
        Expr::Not(Box::new(expr))
    } else {
        expr
    })
}

/// Where keys are read from a list element: raw keys only.
fn element_scope() -> Scope<'static> {
    Scope {
        udm_names: None,
        allow_computed: true,
        documents: &[],
        definitions: &[],
    }
}

/// The IR's form of a condition that stands for a list of match expressions
/// (`Expressions`, `Where`, `If`): always an [`Expr::All`].
fn as_list(expr: Expr) -> Expr {
    match expr {
        Expr::All(items) => Expr::All(items),
        other => Expr::All(vec![other]),
    }
}

/// Resolves what a comparison reads.
fn resolve_subject(
    subject: &Spanned<Subject>,
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
) -> Result<FieldRef, ConditionError> {
    match &subject.value {
        Subject::Path { path, raw: true } => Ok(FieldRef::Event(path.clone())),
        Subject::Path { path, raw: false } => resolve(
            &Spanned {
                value: path.clone(),
                span: subject.span.clone(),
            },
            scope,
            known_keys,
        ),
        Subject::Value(value) => Ok(FieldRef::Computed(Box::new(lower_value(
            value, scope, known_keys,
        )?))),
    }
}

/// Lowers a transform.
fn lower_value(
    value: &ValueAst,
    scope: &Scope<'_>,
    known_keys: Option<&BTreeSet<String>>,
) -> Result<ValueExpr, ConditionError> {
    let sub = |v: &ValueAst| lower_value(v, scope, known_keys).map(Box::new);
    let all = |items: &[ValueAst]| -> Result<Vec<ValueExpr>, ConditionError> {
        items
            .iter()
            .map(|v| lower_value(v, scope, known_keys))
            .collect()
    };
    let separator = |sep: &Spanned<String>| {
        if sep.value.is_empty() {
            Err(ConditionError::new(
                sep.span.start,
                "the separator is empty",
                None,
            ))
        } else {
            Ok(sep.value.clone())
        }
    };
    let document = |doc: &Spanned<String>| {
        if scope.documents.contains(&doc.value) {
            Ok(doc.value.clone())
        } else {
            Err(ConditionError::new(
                doc.span.start,
                format!("unknown document `{}`", doc.value),
                Some("documents are declared by data models".to_owned()),
            ))
        }
    };
    Ok(match value {
        ValueAst::Field(subject) => ValueExpr::Field(resolve_subject(subject, scope, known_keys)?),
        ValueAst::Literal(text) => ValueExpr::Literal(text.clone()),
        ValueAst::Computed(inner) => ValueExpr::Field(FieldRef::Computed(sub(inner)?)),
        ValueAst::Missing => ValueExpr::Missing,
        ValueAst::Lower(v) => ValueExpr::Lower(sub(v)?),
        ValueAst::Join(v, sep) => ValueExpr::Join {
            of: sub(v)?,
            separator: separator(sep)?,
        },
        ValueAst::UrlDecode(v) => ValueExpr::UrlDecode(sub(v)?),
        ValueAst::Const(json) => ValueExpr::Const(json.clone()),
        ValueAst::Object(entries) => ValueExpr::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), lower_value(v, scope, known_keys)?)))
                .collect::<Result<_, ConditionError>>()?,
        ),
        ValueAst::Keys(v) => ValueExpr::Keys(sub(v)?),
        ValueAst::Distinct(v) => ValueExpr::Distinct(sub(v)?),
        ValueAst::Sort(v) => ValueExpr::Sort(sub(v)?),
        ValueAst::Flatten(v) => ValueExpr::Flatten(sub(v)?),
        ValueAst::Each { list, filter, to } => {
            let element = element_scope();
            ValueExpr::Each {
                list: sub(list)?,
                filter: match filter {
                    Some(c) => Some(Box::new(as_list(lower(c, &element, None)?))),
                    None => None,
                },
                to: match to {
                    Some(v) => Some(Box::new(lower_value(v, &element, None)?)),
                    None => None,
                },
            }
        }
        ValueAst::EventPath {
            keys,
            case_insensitive,
        } => ValueExpr::EventPath {
            keys: keys.clone(),
            case_insensitive: *case_insensitive,
        },
        ValueAst::DocPath(doc, keys) => ValueExpr::DocPath {
            doc: document(doc)?,
            keys: keys.clone(),
        },
        ValueAst::DocGet(doc, key) => ValueExpr::DocGet {
            doc: document(doc)?,
            key: key.clone(),
        },
        ValueAst::DictGet(v, key) => ValueExpr::DictGet {
            of: sub(v)?,
            key: key.clone(),
        },
        ValueAst::Text(v) => ValueExpr::Text(sub(v)?),
        ValueAst::Split(v, sep, index, max_split) => ValueExpr::SplitPart {
            of: sub(v)?,
            separator: separator(sep)?,
            index: *index,
            max_split: *max_split,
        },
        ValueAst::DeepWalk(keys) => ValueExpr::DeepWalk(keys.clone()),
        ValueAst::UrlQuery(v) => ValueExpr::UrlQuery(sub(v)?),
        ValueAst::QueryParams(v) => ValueExpr::QueryParams(sub(v)?),
        ValueAst::SplitPairs(v, sep, assign) => ValueExpr::SplitPairs {
            of: sub(v)?,
            separator: separator(sep)?,
            assign: separator(assign)?,
        },
        ValueAst::After(list, filter) => ValueExpr::After {
            list: sub(list)?,
            filter: Box::new(as_list(lower(filter, &element_scope(), None)?)),
        },
        ValueAst::Element(v, index) => ValueExpr::Element {
            of: sub(v)?,
            index: *index,
        },
        ValueAst::AfterLast(v, sep) => ValueExpr::AfterLast {
            of: sub(v)?,
            separator: separator(sep)?,
        },
        ValueAst::Concat(items) => ValueExpr::Concat(all(items)?),
        ValueAst::FirstTruthy(items) => ValueExpr::FirstTruthy(all(items)?),
        ValueAst::FirstPresent(items) => ValueExpr::FirstPresent(all(items)?),
        ValueAst::ListOfTruthy(v) => ValueExpr::ListOfTruthy(sub(v)?),
        ValueAst::If(condition, then, otherwise) => ValueExpr::If {
            condition: Box::new(as_list(lower(condition, scope, known_keys)?)),
            then: sub(then)?,
            otherwise: sub(otherwise)?,
        },
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
            ("a ieq \"X\"", t(a(), Test::IEquals("x".to_owned()))),
            ("a icontains \"X\"", t(a(), Test::IContains("x".to_owned()))),
            (
                "a istarts_with \"X\"",
                t(a(), Test::IStartsWith("x".to_owned())),
            ),
            (
                "a iends_with \"X\"",
                t(a(), Test::IEndsWith("x".to_owned())),
            ),
            ("a matches \"^x\"", t(a(), Test::Matches("^x".to_owned()))),
            (
                "a in_cidr \"10.0.0.0/8\"",
                t(
                    a(),
                    Test::InCidr(
                        rulec_runtime::ip::Cidr::parse("10.0.0.0/8")
                            .unwrap_or_else(|| panic!("a valid network")),
                    ),
                ),
            ),
            ("a exists", t(a(), Test::Exists)),
            ("a is_null_or_empty", t(a(), Test::IsNullOrEmpty)),
            ("a is_truthy", t(a(), Test::IsTruthy)),
            ("a is_integer", t(a(), Test::IsInteger)),
            ("a is_number", t(a(), Test::IsNumber)),
            ("a is_string", t(a(), Test::HasType(PyType::Str))),
            ("a is_boolean", t(a(), Test::HasType(PyType::Bool))),
            ("a is_object", t(a(), Test::HasType(PyType::Dict))),
            ("a is_array", t(a(), Test::HasType(PyType::List))),
            ("a is_ip", t(a(), Test::IsIp)),
            ("a is_ipv4", t(a(), Test::IsIpv4)),
            ("a is_ipv6", t(a(), Test::IsIpv6)),
            ("a is_ip_public", t(a(), Test::IsIpPublic)),
            ("a is_ip_private", t(a(), Test::IsIpPrivate)),
        ];
        for (text, expected) in cases {
            assert_eq!(lowered(text), expected, "{text}");
        }
        // Every operator of the table is exercised above.
        assert_eq!(OPERATORS.len(), 34);
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
            (2, "expected a list index such as `[0]` or `[*]`".to_owned())
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
