//! Renders the IR back to catalog conditions (the syntax [`crate::condition`]
//! parses), so a rule's logic can be printed on one line per conjunct.
//!
//! The renderer writes the canonical form of an expression ([`canonical`]):
//! nested `and` / `or` chains are spliced, one-item chains are their item and
//! empty ones the constants `true` / `false`. Parsing and lowering a rendered
//! condition gives back exactly the canonical IR; the catalog's round-trip
//! test checks this for every rule.

use std::collections::BTreeSet;
use std::fmt;

use rulec_runtime::PyType;

use crate::ir::{CmpOp, Expr, FieldRef, Lit, NumLit, PairOp, Quantifier, Seg, Test, ValueExpr};

/// A piece of IR that has no catalog syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// What cannot be written.
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderError {}

type Result<T> = std::result::Result<T, RenderError>;

fn error<T>(message: impl Into<String>) -> Result<T> {
    Err(RenderError {
        message: message.into(),
    })
}

/// Binding strength: what a position accepts without parentheses.
const OR: u8 = 0;
const AND: u8 = 1;
const UNARY: u8 = 2;

/// The canonical form of an expression: `All` / `Any` chains spliced into
/// their parent chain of the same kind, one-item chains replaced by the item,
/// empty `All` / `Any` replaced by `Const(true)` / `Const(false)`. The lists
/// of match expressions under list quantifiers, `If` and `Each`'s `Where`
/// stay [`Expr::All`] (spliced inside). The meaning does not change.
pub fn canonical(expr: &Expr) -> Expr {
    match expr {
        Expr::Const(value) => Expr::Const(*value),
        Expr::All(items) => chain(items, true),
        Expr::Any(items) => chain(items, false),
        Expr::OnlyOne(items) => Expr::OnlyOne(items.iter().map(canonical).collect()),
        Expr::NoneOf(items) => Expr::NoneOf(items.iter().map(canonical).collect()),
        Expr::Not(inner) => Expr::Not(Box::new(canonical(inner))),
        Expr::Pair { left, op, right } => Expr::Pair {
            left: canonical_field(left),
            op: *op,
            right: canonical_field(right),
        },
        Expr::Each {
            list,
            quantifier,
            body,
        } => Expr::Each {
            list: canonical_field(list),
            quantifier: *quantifier,
            body: Box::new(canonical_list(body)),
        },
        Expr::Test { field, test } => Expr::Test {
            field: canonical_field(field),
            test: test.clone(),
        },
        Expr::Guarded {
            requires,
            message,
            body,
        } => Expr::Guarded {
            requires: Box::new(canonical(requires)),
            message: message.clone(),
            body: Box::new(canonical(body)),
        },
    }
}

/// A chain's canonical items, nested chains of the same kind spliced in.
fn spliced(items: &[Expr], all: bool) -> Vec<Expr> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match canonical(item) {
            Expr::All(inner) if all => out.extend(inner),
            Expr::Any(inner) if !all => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

fn chain(items: &[Expr], all: bool) -> Expr {
    let mut items = spliced(items, all);
    match items.len() {
        0 => Expr::Const(all),
        1 => items.remove(0),
        _ if all => Expr::All(items),
        _ => Expr::Any(items),
    }
}

/// A list of match expressions: always an `All`, its items canonical.
fn canonical_list(expr: &Expr) -> Expr {
    match expr {
        Expr::All(items) => Expr::All(spliced(items, true)),
        other => Expr::All(spliced(std::slice::from_ref(other), true)),
    }
}

fn canonical_field(field: &FieldRef) -> FieldRef {
    match field {
        FieldRef::Event(path) => FieldRef::Event(path.clone()),
        FieldRef::Udm { name, rest } => FieldRef::Udm {
            name: name.clone(),
            rest: rest.clone(),
        },
        FieldRef::Computed(value) => FieldRef::Computed(Box::new(canonical_value(value))),
    }
}

fn canonical_value(value: &ValueExpr) -> ValueExpr {
    let sub = |v: &ValueExpr| Box::new(canonical_value(v));
    let all = |items: &[ValueExpr]| items.iter().map(canonical_value).collect();
    match value {
        ValueExpr::Missing => ValueExpr::Missing,
        ValueExpr::Literal(text) => ValueExpr::Literal(text.clone()),
        ValueExpr::Field(field) => ValueExpr::Field(canonical_field(field)),
        ValueExpr::Lower(v) => ValueExpr::Lower(sub(v)),
        ValueExpr::Join { of, separator } => ValueExpr::Join {
            of: sub(of),
            separator: separator.clone(),
        },
        ValueExpr::UrlDecode(v) => ValueExpr::UrlDecode(sub(v)),
        ValueExpr::Const(json) => ValueExpr::Const(json.clone()),
        ValueExpr::Object(entries) => ValueExpr::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), canonical_value(v)))
                .collect(),
        ),
        ValueExpr::Keys(v) => ValueExpr::Keys(sub(v)),
        ValueExpr::Distinct(v) => ValueExpr::Distinct(sub(v)),
        ValueExpr::Sort(v) => ValueExpr::Sort(sub(v)),
        ValueExpr::Flatten(v) => ValueExpr::Flatten(sub(v)),
        ValueExpr::Each { list, filter, to } => ValueExpr::Each {
            list: sub(list),
            filter: filter.as_ref().map(|f| Box::new(canonical_list(f))),
            to: to.as_ref().map(|t| sub(t)),
        },
        ValueExpr::EventPath {
            keys,
            case_insensitive,
        } => ValueExpr::EventPath {
            keys: keys.clone(),
            case_insensitive: *case_insensitive,
        },
        ValueExpr::DocPath { doc, keys } => ValueExpr::DocPath {
            doc: doc.clone(),
            keys: keys.clone(),
        },
        ValueExpr::DocGet { doc, key } => ValueExpr::DocGet {
            doc: doc.clone(),
            key: key.clone(),
        },
        ValueExpr::DictGet { of, key } => ValueExpr::DictGet {
            of: sub(of),
            key: key.clone(),
        },
        ValueExpr::Text(v) => ValueExpr::Text(sub(v)),
        ValueExpr::SplitPart {
            of,
            separator,
            index,
            max_split,
        } => ValueExpr::SplitPart {
            of: sub(of),
            separator: separator.clone(),
            index: *index,
            max_split: *max_split,
        },
        ValueExpr::DeepWalk(keys) => ValueExpr::DeepWalk(keys.clone()),
        ValueExpr::UrlQuery(v) => ValueExpr::UrlQuery(sub(v)),
        ValueExpr::QueryParams(v) => ValueExpr::QueryParams(sub(v)),
        ValueExpr::SplitPairs {
            of,
            separator,
            assign,
        } => ValueExpr::SplitPairs {
            of: sub(of),
            separator: separator.clone(),
            assign: assign.clone(),
        },
        ValueExpr::After { list, filter } => ValueExpr::After {
            list: sub(list),
            filter: Box::new(canonical_list(filter)),
        },
        ValueExpr::Element { of, index } => ValueExpr::Element {
            of: sub(of),
            index: *index,
        },
        ValueExpr::AfterLast { of, separator } => ValueExpr::AfterLast {
            of: sub(of),
            separator: separator.clone(),
        },
        ValueExpr::Concat(items) => ValueExpr::Concat(all(items)),
        ValueExpr::FirstTruthy(items) => ValueExpr::FirstTruthy(all(items)),
        ValueExpr::FirstPresent(items) => ValueExpr::FirstPresent(all(items)),
        ValueExpr::ListOfTruthy(v) => ValueExpr::ListOfTruthy(sub(v)),
        ValueExpr::If {
            condition,
            then,
            otherwise,
        } => ValueExpr::If {
            condition: Box::new(canonical_list(condition)),
            then: sub(then),
            otherwise: sub(otherwise),
        },
    }
}

/// Renders an expression as one catalog condition. `udm_names` are the
/// data-model fields of the rule's log types: a raw key of the same name is
/// written with a leading `.` so that it does not read the data model.
pub fn render(expr: &Expr, udm_names: &BTreeSet<String>) -> Result<String> {
    Renderer {
        names: Some(udm_names),
    }
    .expr(&canonical(expr), OR)
}

/// Renders a rule's condition as its top-level conjuncts, one condition each
/// (the lines of a `Condition:` list).
pub fn render_lines(expr: &Expr, udm_names: &BTreeSet<String>) -> Result<Vec<String>> {
    let renderer = Renderer {
        names: Some(udm_names),
    };
    match canonical(expr) {
        Expr::All(items) => items.iter().map(|e| renderer.expr(e, OR)).collect(),
        other => Ok(vec![renderer.expr(&other, OR)?]),
    }
}

/// Renders what a field reference reads, as a comparison's subject
/// (`responseStatus.code`, `.verb`, `lower(verb)`).
pub fn render_field(field: &FieldRef, udm_names: &BTreeSet<String>) -> Result<String> {
    Renderer {
        names: Some(udm_names),
    }
    .subject(field)
}

/// Renders a value transform as a catalog transform (`first_truthy(a, "x")`).
pub fn render_value(value: &ValueExpr, udm_names: &BTreeSet<String>) -> Result<String> {
    Renderer {
        names: Some(udm_names),
    }
    .value(value)
}

/// A quoted string with `\"` and `\\` escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A constant as the condition syntax writes it.
pub fn render_lit(lit: &Lit) -> Result<String> {
    Ok(match lit {
        Lit::Null => "null".to_owned(),
        Lit::Bool(b) => b.to_string(),
        Lit::Int(n) => n.to_string(),
        Lit::Float(f) => float(*f)?,
        Lit::Str(s) => quote(s),
    })
}

fn float(f: f64) -> Result<String> {
    if f.is_finite() {
        // Debug keeps a `.` or an exponent, so it reads back as a float.
        Ok(format!("{f:?}"))
    } else {
        error(format!("the number {f} has no catalog syntax"))
    }
}

fn num(n: &NumLit) -> Result<String> {
    match n {
        NumLit::Int(i) => Ok(i.to_string()),
        NumLit::Float(f) => float(*f),
    }
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => "gt",
        CmpOp::Ge => "ge",
        CmpOp::Lt => "lt",
        CmpOp::Le => "le",
    }
}

/// The operator and operand of a test, as written after the field
/// (`eq "get"`, `in ["a", "b"]`, `is_truthy`).
pub fn render_test(test: &Test) -> Result<String> {
    let with = |op: &str, s: &str| format!("{op} {}", quote(s));
    Ok(match test {
        Test::Equals(lit) => format!("eq {}", render_lit(lit)?),
        Test::IsIn(items) => format!("in {}", list(items)?),
        Test::StartsWith(s) => with("starts_with", s),
        Test::EndsWith(s) => with("ends_with", s),
        Test::Contains(s) => with("contains", s),
        Test::IEquals(s) => with("ieq", s),
        Test::IStartsWith(s) => with("istarts_with", s),
        Test::IEndsWith(s) => with("iends_with", s),
        Test::IContains(s) => with("icontains", s),
        Test::Compare(op, n) => format!("{} {}", cmp(*op), num(n)?),
        Test::Exists => "exists".to_owned(),
        Test::IsNull => "is_null".to_owned(),
        Test::IsNullOrEmpty => "is_null_or_empty".to_owned(),
        Test::IsTruthy => "is_truthy".to_owned(),
        Test::IsInteger => "is_integer".to_owned(),
        Test::IsNumber => "is_number".to_owned(),
        Test::HasType(ty) => match ty {
            PyType::Str => "is_string".to_owned(),
            PyType::Bool => "is_boolean".to_owned(),
            PyType::Dict => "is_object".to_owned(),
            PyType::List => "is_array".to_owned(),
            PyType::None | PyType::Int | PyType::Float => {
                return error(format!(
                "the exact type test {ty:?} has no catalog syntax (rules cannot write it either)"
            ))
            }
        },
        Test::IsIp => "is_ip".to_owned(),
        Test::IsIpv4 => "is_ipv4".to_owned(),
        Test::IsIpv6 => "is_ipv6".to_owned(),
        Test::IsIpPublic => "is_ip_public".to_owned(),
        Test::IsIpPrivate => "is_ip_private".to_owned(),
        Test::InCidr(net) => with("in_cidr", &format!("{}/{}", net.addr, net.prefix)),
        Test::Matches(pattern) => with("matches", pattern),
    })
}

fn list(items: &[Lit]) -> Result<String> {
    let items: Vec<String> = items.iter().map(render_lit).collect::<Result<_>>()?;
    Ok(format!("[{}]", items.join(", ")))
}

fn pair_op(op: PairOp) -> &'static str {
    match op {
        PairOp::Equals => "eq",
        PairOp::IEquals => "ieq",
        PairOp::StartsWith => "starts_with",
        PairOp::IStartsWith => "istarts_with",
        PairOp::EndsWith => "ends_with",
        PairOp::IEndsWith => "iends_with",
        PairOp::Contains => "contains",
        PairOp::IContains => "icontains",
        PairOp::Compare(op) => cmp(op),
    }
}

fn quantifier(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Any => "any_element",
        Quantifier::All => "all_elements",
        Quantifier::None => "no_element",
        Quantifier::OnlyOne => "one_element",
    }
}

/// Whether a key can be written without backquotes.
fn bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '@' | '$' | '/'))
}

fn key(key: &str, first: bool) -> Result<String> {
    let reserved = first && matches!(key, "and" | "or" | "not" | "@");
    if bare_key(key) && !reserved {
        Ok(key.to_owned())
    } else if key.is_empty() || key.contains('`') {
        error(format!(
            "the key {} cannot be written in a catalog condition",
            quote(key)
        ))
    } else {
        Ok(format!("`{key}`"))
    }
}

/// The rest of a path after its first step.
fn rest(path: &[Seg]) -> Result<String> {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                out.push('.');
                out.push_str(&key(k, false)?);
            }
            Seg::Index(n) => out.push_str(&format!("[{n}]")),
            Seg::Each => out.push_str("[*]"),
        }
    }
    Ok(out)
}

struct Renderer<'n> {
    /// The data-model names in scope; `None` inside a list element.
    names: Option<&'n BTreeSet<String>>,
}

impl Renderer<'_> {
    fn element(&self) -> Renderer<'static> {
        Renderer { names: None }
    }

    fn expr(&self, expr: &Expr, prec: u8) -> Result<String> {
        let wrap = |text: String, own: u8| {
            if prec > own {
                format!("({text})")
            } else {
                text
            }
        };
        Ok(match expr {
            Expr::Const(value) => value.to_string(),
            Expr::All(items) => match items.as_slice() {
                [] => "true".to_owned(),
                [only] => self.expr(only, prec)?,
                _ => wrap(self.join(items, " and ", AND)?, AND),
            },
            Expr::Any(items) => match items.as_slice() {
                [] => "false".to_owned(),
                [only] => self.expr(only, prec)?,
                _ => wrap(self.join(items, " or ", OR)?, OR),
            },
            Expr::OnlyOne(items) => format!("one_of({})", self.join(items, ", ", OR)?),
            Expr::NoneOf(items) => format!("none_of({})", self.join(items, ", ", OR)?),
            Expr::Not(inner) => self.negated(inner)?,
            Expr::Pair { left, op, right } => format!(
                "{} {} {{{}}}",
                self.subject(left)?,
                pair_op(*op),
                self.subject(right)?
            ),
            Expr::Each {
                list,
                quantifier: q,
                body,
            } => format!(
                "{}({}, {})",
                quantifier(*q),
                self.subject(list)?,
                self.element().expr(body, OR)?
            ),
            Expr::Test { field, test } => {
                format!("{} {}", self.subject(field)?, render_test(test)?)
            }
            Expr::Guarded {
                requires,
                message,
                body,
            } => format!(
                "guard({}, {}, {})",
                self.expr(requires, OR)?,
                quote(message),
                self.expr(body, OR)?
            ),
        })
    }

    fn join(&self, items: &[Expr], sep: &str, prec: u8) -> Result<String> {
        let parts: Vec<String> = items
            .iter()
            .map(|e| self.expr(e, prec))
            .collect::<Result<_>>()?;
        Ok(parts.join(sep))
    }

    /// `not x`, with the negated operators where they exist (`ne`, `not in`,
    /// `not contains`, `is_not_null`).
    fn negated(&self, inner: &Expr) -> Result<String> {
        if let Expr::Test { field, test } = inner {
            let negated = match test {
                Test::Equals(lit) => Some(format!("ne {}", render_lit(lit)?)),
                Test::IsIn(items) => Some(format!("not in {}", list(items)?)),
                Test::Contains(s) => Some(format!("not contains {}", quote(s))),
                Test::IsNull => Some("is_not_null".to_owned()),
                _ => None,
            };
            if let Some(op) = negated {
                return Ok(format!("{} {op}", self.subject(field)?));
            }
        }
        if let Expr::Pair { left, op, right } = inner {
            let negated = match op {
                PairOp::Equals => Some("ne"),
                PairOp::Contains => Some("not contains"),
                _ => None,
            };
            if let Some(op) = negated {
                return Ok(format!(
                    "{} {op} {{{}}}",
                    self.subject(left)?,
                    self.subject(right)?
                ));
            }
        }
        Ok(format!("not {}", self.expr(inner, UNARY)?))
    }

    /// A field reference in a comparison's place.
    fn subject(&self, field: &FieldRef) -> Result<String> {
        match field {
            FieldRef::Computed(value) => match value.as_ref() {
                ValueExpr::Field(_) | ValueExpr::Literal(_) => {
                    Ok(format!("computed({})", self.value(value)?))
                }
                other => self.value(other),
            },
            FieldRef::Event(path) => self.event_path(path),
            FieldRef::Udm { name, rest: below } => {
                Ok(format!("{}{}", key(name, true)?, rest(below)?))
            }
        }
    }

    fn event_path(&self, path: &[Seg]) -> Result<String> {
        match path.split_first() {
            None => Ok("@".to_owned()),
            Some((Seg::Key(first), below)) => {
                let shadowed = self.names.is_some_and(|n| n.contains(first));
                let dot = if shadowed { "." } else { "" };
                Ok(format!("{dot}{}{}", key(first, true)?, rest(below)?))
            }
            Some((Seg::Index(_) | Seg::Each, _)) => {
                Ok(format!(".{}", rest(path)?.trim_start_matches('.')))
            }
        }
    }

    /// A transform in an argument's place.
    fn value(&self, value: &ValueExpr) -> Result<String> {
        let call = |name: &str, args: Vec<String>| format!("{name}({})", args.join(", "));
        let one =
            |name: &str, v: &ValueExpr| -> Result<String> { Ok(call(name, vec![self.value(v)?])) };
        let many = |name: &str, items: &[ValueExpr]| -> Result<String> {
            Ok(call(
                name,
                items.iter().map(|v| self.value(v)).collect::<Result<_>>()?,
            ))
        };
        let strings = |items: &[String]| items.iter().map(|s| quote(s)).collect::<Vec<_>>();
        Ok(match value {
            ValueExpr::Missing => "missing()".to_owned(),
            ValueExpr::Literal(text) => quote(text),
            ValueExpr::Field(FieldRef::Computed(inner)) => one("computed", inner)?,
            ValueExpr::Field(field) => self.subject(field)?,
            ValueExpr::Lower(v) => one("lower", v)?,
            ValueExpr::Join { of, separator } => {
                call("join", vec![self.value(of)?, quote(separator)])
            }
            ValueExpr::UrlDecode(v) => one("url_decode", v)?,
            ValueExpr::Const(json) => format!(
                "const({})",
                serde_json::to_string(json).map_err(|e| RenderError {
                    message: format!("a constant cannot be written as JSON: {e}"),
                })?
            ),
            ValueExpr::Object(entries) => call(
                "object",
                entries
                    .iter()
                    .map(|(k, v)| Ok(format!("{}: {}", quote(k), self.value(v)?)))
                    .collect::<Result<_>>()?,
            ),
            ValueExpr::Keys(v) => one("keys", v)?,
            ValueExpr::Distinct(v) => one("distinct", v)?,
            ValueExpr::Sort(v) => one("sort", v)?,
            ValueExpr::Flatten(v) => one("flatten", v)?,
            ValueExpr::Each { list, filter, to } => {
                let element = self.element();
                let mut args = vec![self.value(list)?];
                if let Some(filter) = filter {
                    args.push(format!("where {}", element.expr(filter, OR)?));
                }
                if let Some(to) = to {
                    args.push(format!("to {}", element.value(to)?));
                }
                call("each", args)
            }
            ValueExpr::EventPath {
                keys,
                case_insensitive,
            } => call(
                if *case_insensitive { "get" } else { "path" },
                strings(keys),
            ),
            ValueExpr::DocPath { doc, keys } => {
                let mut args = vec![quote(doc)];
                args.extend(strings(keys));
                call("doc_path", args)
            }
            ValueExpr::DocGet { doc, key } => call("doc_get", vec![quote(doc), quote(key)]),
            ValueExpr::DictGet { of, key } => call("dict_get", vec![self.value(of)?, quote(key)]),
            ValueExpr::Text(v) => one("text", v)?,
            ValueExpr::SplitPart {
                of,
                separator,
                index,
                max_split,
            } => {
                let mut args = vec![self.value(of)?, quote(separator), index.to_string()];
                if let Some(max) = max_split {
                    args.push(max.to_string());
                }
                call("split", args)
            }
            ValueExpr::DeepWalk(keys) => call("deep_walk", strings(keys)),
            ValueExpr::UrlQuery(v) => one("url_query", v)?,
            ValueExpr::QueryParams(v) => one("query_params", v)?,
            ValueExpr::SplitPairs {
                of,
                separator,
                assign,
            } => call(
                "split_pairs",
                vec![self.value(of)?, quote(separator), quote(assign)],
            ),
            ValueExpr::After { list, filter } => {
                let element = self.element();
                call(
                    "after",
                    vec![
                        self.value(list)?,
                        format!("where {}", element.expr(filter, OR)?),
                    ],
                )
            }
            ValueExpr::Element { of, index } => {
                call("element", vec![self.value(of)?, index.to_string()])
            }
            ValueExpr::AfterLast { of, separator } => {
                call("after_last", vec![self.value(of)?, quote(separator)])
            }
            ValueExpr::Concat(items) => many("concat", items)?,
            ValueExpr::FirstTruthy(items) => many("first_truthy", items)?,
            ValueExpr::FirstPresent(items) => many("first_present", items)?,
            ValueExpr::ListOfTruthy(v) => one("list_of_truthy", v)?,
            ValueExpr::If {
                condition,
                then,
                otherwise,
            } => call(
                "if",
                vec![
                    self.expr(condition, OR)?,
                    self.value(then)?,
                    self.value(otherwise)?,
                ],
            ),
        })
    }
}

/// Parses and lowers rendered lines back to one expression, as a rule's
/// `Condition:` list would be (in a scope with these data-model names).
pub fn reparse(
    lines: &[String],
    udm_names: &BTreeSet<String>,
) -> std::result::Result<Expr, crate::condition::ConditionError> {
    let scope = crate::expr_parse::Scope {
        udm_names: Some(udm_names),
        allow_computed: true,
        documents: &[],
        definitions: &[],
    };
    let mut exprs = lines
        .iter()
        .map(|line| crate::condition::compile(line, &scope, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(if exprs.len() == 1 {
        exprs.remove(0)
    } else {
        Expr::All(exprs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{compile_rule, compile_shared, discover_rule_files, Layout};

    const RULES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Renders `text` after parsing it, and checks the rendering reads back
    /// to the same IR.
    fn round(text: &str, udm: &[&str]) -> String {
        let udm = names(udm);
        let parsed = reparse(&[text.to_owned()], &udm).unwrap_or_else(|e| panic!("{text}: {e}"));
        let rendered = render(&parsed, &udm).unwrap_or_else(|e| panic!("{text}: {e}"));
        let back = reparse(std::slice::from_ref(&rendered), &udm)
            .unwrap_or_else(|e| panic!("`{rendered}` does not parse: {e}"));
        assert_eq!(back, canonical(&parsed), "{text} -> {rendered}");
        rendered
    }

    #[test]
    fn every_rule_condition_renders_and_parses_back_to_the_same_ir() {
        let layout = Layout::standard(RULES_DIR);
        let shared = compile_shared(&layout);
        let files = discover_rule_files(&layout);
        assert!(files.len() >= 30, "{files:?}");
        let mut checked = 0;
        for file in &files {
            let compiled = compile_rule(&layout, &shared, file);
            let Some(rule) = compiled.rule else {
                panic!("{file} does not compile: {}", compiled.diagnostics);
            };
            let udm: BTreeSet<String> = rule
                .data_models
                .iter()
                .flat_map(|m| m.mappings.iter().map(|(n, _)| n.clone()))
                .collect();
            let lines = render_lines(&rule.condition, &udm)
                .unwrap_or_else(|e| panic!("{file}: cannot render: {e}"));
            let back = reparse(&lines, &udm)
                .unwrap_or_else(|e| panic!("{file}: {e}\n{}", lines.join("\n")));
            assert_eq!(
                back,
                canonical(&rule.condition),
                "{file}:\n{}",
                lines.join("\n")
            );
            // The canonical form is a fixed point.
            assert_eq!(canonical(&back), back, "{file}");
            checked += 1;
        }
        assert_eq!(checked, files.len());
    }

    #[test]
    fn query_and_list_transforms_round_trip() {
        for text in [
            r#"split_pairs(split(uri, "?", 1, 1), "&", "=") is_truthy"#,
            r#"dict_get(query_params(url_query(uri)), "command") contains "tar""#,
            r#"element(after(args, where @ eq "-"), -1) eq "/etc""#,
            r#"deep_walk("spec", "volumes", "hostPath", "path") in ["/etc"]"#,
        ] {
            assert_eq!(round(text, &[]), text);
        }
    }

    #[test]
    fn canonical_splices_chains_and_unwraps_singletons() {
        let t = |k: &str| Expr::Test {
            field: FieldRef::Event(vec![Seg::Key(k.to_owned())]),
            test: Test::Exists,
        };
        let nested = Expr::All(vec![
            t("a"),
            Expr::All(vec![t("b"), Expr::All(vec![t("c")])]),
            Expr::Any(vec![]),
            Expr::Any(vec![t("d")]),
        ]);
        assert_eq!(
            canonical(&nested),
            Expr::All(vec![t("a"), t("b"), t("c"), Expr::Const(false), t("d")])
        );
        assert_eq!(canonical(&Expr::All(vec![])), Expr::Const(true));
        assert_eq!(
            render(&nested, &BTreeSet::new()).as_deref(),
            Ok("a exists and b exists and c exists and false and d exists")
        );
    }

    #[test]
    fn operators_render_in_the_catalog_syntax() {
        let udm = ["verb", "username", "sourceIPs"];
        let cases = [
            // The seed catalog's lines keep their shape.
            (
                "not (verb ne \"get\" or resource ne \"secrets\")",
                "not (verb ne \"get\" or resource ne \"secrets\")",
            ),
            ("a ieq \"AbC\"", "a ieq \"abc\""),
            ("a in [1, 2.5, null, true, \"x\"]", "a in [1, 2.5, null, true, \"x\"]"),
            ("code ge \"400\"", "code ge 400"),
            ("not a exists", "not a exists"),
            ("a matches '^\\\\d+$'", "a matches \"^\\\\d+$\""),
            ("ip in_cidr \"10.1.2.3/8\"", "ip in_cidr \"10.0.0.0/8\""),
            ("a is_truthy and b is_array", "a is_truthy and b is_array"),
            (".verb eq \"get\" and verb eq \"get\"", ".verb eq \"get\" and verb eq \"get\""),
            ("a.b[*].c is_string", "a.b[*].c is_string"),
            ("`and`.`x.y` eq 1", "`and`.`x.y` eq 1"),
            ("a ne {b.c}", "a ne {b.c}"),
            ("a not contains {verb}", "a not contains {verb}"),
            ("not a istarts_with {b}", "not a istarts_with {b}"),
            (
                "any_element(sourceIPs, @ is_ip_public and @ ne \"1.1.1.1\")",
                "any_element(sourceIPs, @ is_ip_public and @ ne \"1.1.1.1\")",
            ),
            (
                "no_element(items, verb eq 1)",
                "no_element(items, verb eq 1)",
            ),
            ("one_of(a exists, b exists) or none_of()", "one_of(a exists, b exists) or none_of()"),
            (
                "guard(u is_string, \"TypeError: \\\"u\\\"\", u starts_with \"system:\")",
                "guard(u is_string, \"TypeError: \\\"u\\\"\", u starts_with \"system:\")",
            ),
            ("true and not false", "true and not false"),
            (
                "lower(first_truthy(verb, \"x\")) contains \"get\"",
                "lower(first_truthy(verb, \"x\")) contains \"get\"",
            ),
            ("computed(verb) is_truthy", "computed(verb) is_truthy"),
            (
                "dict_get(if(a is_array or a is_object, const({\"k\": [1, null]}), a), \"name\") exists",
                "dict_get(if(a is_array or a is_object, const({\"k\":[1,null]}), a), \"name\") exists",
            ),
            (
                "join(each(items, where kind eq \"x\" and verb exists, to object(\"n\": name, \"v\": concat(text(v), \"-\"))), \", \") ieq \"a\"",
                "join(each(items, where kind eq \"x\" and verb exists, to object(\"n\": name, \"v\": concat(text(v), \"-\"))), \", \") ieq \"a\"",
            ),
            (
                "split(get(\"a\", \"b\"), \"/\", 2) eq after_last(path(\"c\"), \":\") ",
                "",
            ),
        ];
        for (text, expected) in cases {
            if expected.is_empty() {
                // Not a comparison with a transform on the right: an error.
                assert!(reparse(&[text.to_owned()], &names(&udm)).is_err(), "{text}");
                continue;
            }
            assert_eq!(round(text, &udm), expected, "{text}");
        }
        assert_eq!(
            round(
                "sort(distinct(flatten(keys(list_of_truthy(url_decode(first_present(missing(), computed(a)))))))) eq 1",
                &udm
            ),
            "sort(distinct(flatten(keys(list_of_truthy(url_decode(first_present(missing(), computed(a)))))))) eq 1"
        );
    }

    #[test]
    fn new_forms_report_errors_with_columns() {
        let udm = names(&["verb"]);
        let err = |text: &str| match reparse(&[text.to_owned()], &udm) {
            Ok(e) => panic!("`{text}` should fail, got {e:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err("lowr(verb) eq \"x\""),
            "unknown function `lowr` at column 1 (did you mean `lower`?)"
        );
        assert_eq!(
            err("a matches \"(\""),
            "`(` is not a regular expression: regex parse error:\n    (\n    ^\nerror: unclosed group at column 11 (rulec uses the `regex` crate's syntax (no look-around or backreferences))"
        );
        assert_eq!(
            err("a in_cidr \"10.0.0.0/33\""),
            "`10.0.0.0/33` is not a network in CIDR notation at column 11 (write an address and a prefix length, e.g. `10.0.0.0/8`)"
        );
        assert_eq!(
            err("a exists \"x\""),
            "`exists` takes no value at column 10 (remove the value)"
        );
        assert_eq!(
            err("a in {b}"),
            "`in` takes a list, found `{` at column 6 (write the values in brackets: `[\"a\", \"b\"]`)"
        );
        assert_eq!(
            err("a is_null_or_empty and any_element(x, y eq 1"),
            "expected `)` to close `any_element(`, found the end of the condition at column 45"
        );
        assert_eq!(
            err("doc_get(\"log\", \"x\") exists"),
            "unknown document `log` at column 9 (documents are declared by data models)"
        );
        assert_eq!(
            err("a not exists"),
            "expected `in` or `contains` after `not`, found `exists` at column 7 (write `not a exists`)"
        );
        assert_eq!(
            err("a not matches \"x\""),
            "expected `in` or `contains` after `not`, found `matches` at column 7 (write `not (a matches ...)`)"
        );
        assert_eq!(
            err("a is_truthy {b}"),
            "`is_truthy` takes no value at column 13 (remove the value)"
        );
        assert_eq!(
            err("a matches {b}"),
            "`matches` does not compare two fields at column 3 (a `{field}` operand goes with eq, ne, ieq, the string operators and the comparisons)"
        );
    }
}
