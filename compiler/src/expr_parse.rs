//! Parses Panther's YAML match expressions (and rulec's value transforms) into IR.

use std::collections::BTreeSet;

use rulec_runtime::PyType;
use yaml_serde::Value;

use crate::diag::did_you_mean;
use crate::ir::{CmpOp, Expr, FieldRef, Lit, NumLit, PairOp, Quantifier, Seg, Test, ValueExpr};
use crate::keypath::parse_key_path;
use crate::yaml::{member, type_name, Reader, YNode};

/// How a predicate reference resolved.
pub enum PredicateLookup {
    /// The predicate's expression, ready to inline.
    Found(Expr),
    /// No predicate has that ID; the closest one, if any.
    Unknown(Option<String>),
    /// The predicate refers back to itself.
    Cycle(Vec<String>),
    /// The predicate exists but has errors of its own (already reported).
    Invalid,
}

/// Resolves `Predicate:` references.
pub trait PredicateResolver {
    /// Looks up (and if needed compiles) predicate `id`.
    fn resolve(&mut self, id: &str) -> PredicateLookup;
}

/// Predicates cannot be used here.
pub struct NoPredicates;

impl PredicateResolver for NoPredicates {
    fn resolve(&mut self, _: &str) -> PredicateLookup {
        PredicateLookup::Unknown(None)
    }
}

/// What the expressions being parsed may refer to.
pub struct Scope<'s> {
    /// Data-model names the `DataModel` key may name; `None` where the key is not allowed.
    pub udm_names: Option<&'s BTreeSet<String>>,
    /// Whether `Computed` (a value transform) may be used as a key (data models only).
    pub allow_computed: bool,
    /// Embedded documents `From:` may name (data models only).
    pub documents: &'s [String],
    /// Named transforms `Use:` may name (data models only).
    pub definitions: &'s [(String, ValueExpr)],
}

const COMBINATORS: [&str; 4] = ["All", "Any", "OnlyOne", "None"];
const KEY_SPECIFIERS: [&str; 6] = [
    "Key",
    "DeepKey",
    "KeyPath",
    "DataModel",
    "Computed",
    "Enrichment",
];
const QUANTIFIERS: [&str; 4] = ["AnyElement", "AllElements", "NoElement", "OnlyOneElement"];
const EXPRESSION_KEYS: [&str; 15] = [
    "All",
    "Any",
    "OnlyOne",
    "None",
    "Predicate",
    "Key",
    "DeepKey",
    "KeyPath",
    "DataModel",
    "Computed",
    "Enrichment",
    "Condition",
    "Value",
    "Values",
    "Expressions",
];

/// Condition names this version of rulec compiles.
pub const CONDITIONS: &[&str] = &[
    "Equals",
    "DoesNotEqual",
    "IEquals",
    "IDoesNotEqual",
    "StartsWith",
    "DoesNotStartWith",
    "IStartsWith",
    "IDoesNotStartWith",
    "EndsWith",
    "DoesNotEndWith",
    "IEndsWith",
    "IDoesNotEndWith",
    "Contains",
    "DoesNotContain",
    "IContains",
    "IDoesNotContain",
    "IsIn",
    "IsNotIn",
    "IsGreaterThan",
    "IsGreaterThanOrEquals",
    "IsGreaterThanOrEqual",
    "IsLessThan",
    "IsLessThanOrEquals",
    "IsLessThanOrEqual",
    "Exists",
    "DoesNotExist",
    "IsNull",
    "IsNotNull",
    "IsNullOrEmpty",
    "IsNotNullOrEmpty",
    "AlwaysTrue",
    "AlwaysFalse",
    "IsTruthy",
    "IsFalsy",
    "IsString",
    "IsInteger",
    "IsNumber",
    "IsBoolean",
    "IsObject",
    "IsArray",
    "IsIPAddress",
    "IsIPv4Address",
    "IsIPv6Address",
    "IsIPAddressPublic",
    "IsIPAddressPrivate",
    "IsIPAddressInCIDR",
    "IsIPAddressNotInCIDR",
    "Has",
    "DoesNotHave",
    "Matches",
    "DoesNotMatch",
    "AnyElement",
    "AllElements",
    "NoElement",
    "OnlyOneElement",
];

/// Panther conditions rulec knows of but does not compile yet.
const PLANNED_CONDITIONS: &[&str] = &["CIDRContainsIPAddresses", "CIDRDoesNotContainIPAddresses"];

/// Conditions a multi-key expression (`Values: [{Key: a}, {Key: b}]`) takes.
const PAIR_CONDITIONS: [&str; 22] = [
    "Equals",
    "DoesNotEqual",
    "IEquals",
    "IDoesNotEqual",
    "StartsWith",
    "DoesNotStartWith",
    "IStartsWith",
    "IDoesNotStartWith",
    "EndsWith",
    "DoesNotEndWith",
    "IEndsWith",
    "IDoesNotEndWith",
    "Contains",
    "DoesNotContain",
    "IContains",
    "IDoesNotContain",
    "IsGreaterThan",
    "IsGreaterThanOrEquals",
    "IsGreaterThanOrEqual",
    "IsLessThan",
    "IsLessThanOrEquals",
    "IsLessThanOrEqual",
];

/// Parses a `Detection`-style list of match expressions (implicitly ANDed).
pub fn parse_expr_list(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
    predicates: &mut dyn PredicateResolver,
    what: &str,
) -> Option<Vec<Expr>> {
    parse_list(reader, node, scope, predicates, what, false)
}

/// Parses a list of match expressions; `allow_empty` for combinators, whose
/// empty forms are Panther's no-ops (`All: []` is true, `Any: []` false).
fn parse_list(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
    predicates: &mut dyn PredicateResolver,
    what: &str,
    allow_empty: bool,
) -> Option<Vec<Expr>> {
    let items = reader.sequence(node, what)?;
    if items.is_empty() && !allow_empty {
        reader.error(
            &node.path,
            format!("{what} is empty"),
            Some("give at least one match expression".to_owned()),
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in &items {
        match parse_expr(reader, item, scope, predicates) {
            Some(expr) => out.push(expr),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Parses one match expression.
pub fn parse_expr(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
    predicates: &mut dyn PredicateResolver,
) -> Option<Expr> {
    let members = reader.mapping(node, "a match expression")?;
    let has = |key: &str| members.iter().any(|(k, _)| *k == key);
    let get = |key: &str| member(&members, key);

    if let Some(combinator) = COMBINATORS.iter().find(|c| has(c)) {
        if members.len() != 1 {
            reader.error(
                &node.path,
                format!("`{combinator}` must be the only key of its match expression"),
                Some(format!(
                    "move the other keys into the list under `{combinator}`"
                )),
            );
            return None;
        }
        let list_node = get(combinator)?;
        let children = parse_list(
            reader,
            &list_node,
            scope,
            predicates,
            &format!("`{combinator}`"),
            true,
        )?;
        return Some(match *combinator {
            "All" => Expr::All(children),
            "Any" => Expr::Any(children),
            "OnlyOne" => Expr::OnlyOne(children),
            _ => Expr::NoneOf(children),
        });
    }

    if let Some(id_node) = get("Predicate") {
        if members.len() != 1 {
            reader.error(
                &node.path,
                "`Predicate` must be the only key of its match expression",
                None,
            );
            return None;
        }
        let id = reader.string(&id_node, "`Predicate`")?;
        return match predicates.resolve(&id) {
            PredicateLookup::Found(expr) => {
                let measure = crate::limits::expr_measure(&expr);
                reader
                    .charge_inlined(&id_node.path, "`Predicate`", measure)
                    .then_some(expr)
            }
            PredicateLookup::Invalid => None,
            PredicateLookup::Unknown(suggestion) => {
                let help = suggestion
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        "predicates are defined in the files under `predicates/`".to_owned()
                    });
                reader.error(
                    &id_node.path,
                    format!("unknown predicate `{id}`"),
                    Some(help),
                );
                None
            }
            PredicateLookup::Cycle(chain) => {
                reader.error(
                    &id_node.path,
                    format!("predicate `{id}` refers to itself: {}", chain.join(" -> ")),
                    Some("break the cycle".to_owned()),
                );
                None
            }
        };
    }

    reader.unknown_keys(node, &members, &EXPRESSION_KEYS, "a match expression");

    let Some(condition_node) = get("Condition") else {
        let help = if members.iter().any(|(k, _)| KEY_SPECIFIERS.contains(k)) {
            "add `Condition:` (for example `Equals`) and `Value:`".to_owned()
        } else {
            "a match expression is a key with a `Condition`, a combinator (`All`, `Any`, `OnlyOne`, `None`) or a `Predicate`".to_owned()
        };
        reader.error(
            &node.path,
            "match expression without a `Condition`",
            Some(help),
        );
        return None;
    };
    let condition = reader.string(&condition_node, "`Condition`")?;

    if condition == "AlwaysTrue" || condition == "AlwaysFalse" {
        return Some(Expr::Const(condition == "AlwaysTrue"));
    }
    if !CONDITIONS.contains(&condition.as_str()) {
        if PLANNED_CONDITIONS.contains(&condition.as_str()) {
            reader.error(
                &condition_node.path,
                format!("condition `{condition}` is not supported by this version of rulec"),
                Some("see the rule-format reference for the supported conditions".to_owned()),
            );
        } else {
            let help = match did_you_mean(&condition, CONDITIONS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "see the rule-format reference for the list of conditions".to_owned(),
            };
            reader.error(
                &condition_node.path,
                format!("unknown condition `{condition}`"),
                Some(help),
            );
        }
        return None;
    }

    if QUANTIFIERS.contains(&condition.as_str()) {
        return parse_comprehension(reader, node, &members, &condition, scope);
    }
    if let Some(values) = get("Values") {
        let has_specifier = members.iter().any(|(k, _)| KEY_SPECIFIERS.contains(k));
        let of_keys = matches!(values.value, Value::Sequence(items) if !items.is_empty() && items.iter().all(Value::is_mapping));
        if !has_specifier && of_keys {
            return parse_multi_key(reader, &condition, &condition_node, &values, scope);
        }
    }
    if get("Expressions").is_some() {
        reader.key_error(
            &node.key_path("Expressions"),
            format!("`Expressions` belongs to a list comprehension, and `{condition}` is not one"),
            Some(
                "use `Condition: AnyElement`, `AllElements`, `NoElement` or `OnlyOneElement`"
                    .to_owned(),
            ),
        );
        return None;
    }

    let field = parse_key_specifier(reader, node, &members, scope)?;
    let test = parse_test(
        reader,
        node,
        &condition,
        &condition_node,
        get("Value"),
        get("Values"),
    )?;
    Some(test(field))
}

/// `AnyElement` / `AllElements` / `NoElement` / `OnlyOneElement`: the key
/// names a list, and `Expressions` (ANDed) are read relative to each element.
fn parse_comprehension(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    members: &[(&str, YNode<'_>)],
    condition: &str,
    scope: &Scope<'_>,
) -> Option<Expr> {
    for key in ["Value", "Values"] {
        if let Some(extra) = member(members, key) {
            reader.key_error(
                &extra.path,
                format!("`{condition}` takes `Expressions`, not `{key}`"),
                Some("list the element's conditions under `Expressions:`".to_owned()),
            );
            return None;
        }
    }
    let list = parse_key_specifier(reader, node, members, scope)?;
    let Some(expressions) = member(members, "Expressions") else {
        reader.error(
            &node.path,
            format!(
                "`{condition}` needs `Expressions`, the conditions each element is checked against"
            ),
            Some(
                "add `Expressions:` with match expressions whose keys are relative to the element"
                    .to_owned(),
            ),
        );
        return None;
    };
    // Keys inside `Expressions` are relative to the element: raw keys only.
    let element_scope = Scope {
        udm_names: None,
        allow_computed: false,
        documents: &[],
        definitions: &[],
    };
    let body = parse_expr_list(
        reader,
        &expressions,
        &element_scope,
        &mut NoPredicates,
        "`Expressions`",
    )?;
    let quantifier = match condition {
        "AnyElement" => Quantifier::Any,
        "AllElements" => Quantifier::All,
        "NoElement" => Quantifier::None,
        _ => Quantifier::OnlyOne,
    };
    Some(Expr::Each {
        list,
        quantifier,
        body: Box::new(Expr::All(body)),
    })
}

/// A multi-key expression: `Condition` between two keys of the event
/// (`Values: [{KeyPath: a}, {KeyPath: b}]`), the first in the role of the
/// event value and the second in the role of the constant.
fn parse_multi_key(
    reader: &mut Reader<'_>,
    condition: &str,
    condition_node: &YNode<'_>,
    values: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<Expr> {
    if !PAIR_CONDITIONS.contains(&condition) {
        reader.error(
            &condition_node.path,
            format!("`{condition}` cannot compare two keys"),
            Some(format!(
                "a multi-key expression takes one of: {}",
                PAIR_CONDITIONS.join(", ")
            )),
        );
        return None;
    }
    let items = reader.sequence(values, "`Values`")?;
    if items.len() != 2 {
        reader.error(
            &values.path,
            format!(
                "a multi-key expression compares exactly two keys, found {}",
                items.len()
            ),
            Some("list two key specifiers under `Values`".to_owned()),
        );
        return None;
    }
    let mut fields = Vec::with_capacity(2);
    for item in &items {
        let entry = reader.mapping(item, "a key of a multi-key expression")?;
        reader.unknown_keys(
            item,
            &entry,
            &KEY_SPECIFIERS,
            "a key of a multi-key expression",
        );
        fields.push(parse_key_specifier(reader, item, &entry, scope)?);
    }
    let right = fields.pop()?;
    let left = fields.pop()?;
    let (op, negated) = match condition {
        "Equals" => (PairOp::Equals, false),
        "DoesNotEqual" => (PairOp::Equals, true),
        "IEquals" => (PairOp::IEquals, false),
        "IDoesNotEqual" => (PairOp::IEquals, true),
        "StartsWith" => (PairOp::StartsWith, false),
        "DoesNotStartWith" => (PairOp::StartsWith, true),
        "IStartsWith" => (PairOp::IStartsWith, false),
        "IDoesNotStartWith" => (PairOp::IStartsWith, true),
        "EndsWith" => (PairOp::EndsWith, false),
        "DoesNotEndWith" => (PairOp::EndsWith, true),
        "IEndsWith" => (PairOp::IEndsWith, false),
        "IDoesNotEndWith" => (PairOp::IEndsWith, true),
        "Contains" => (PairOp::Contains, false),
        "DoesNotContain" => (PairOp::Contains, true),
        "IContains" => (PairOp::IContains, false),
        "IDoesNotContain" => (PairOp::IContains, true),
        "IsGreaterThan" => (PairOp::Compare(CmpOp::Gt), false),
        "IsGreaterThanOrEquals" | "IsGreaterThanOrEqual" => (PairOp::Compare(CmpOp::Ge), false),
        "IsLessThan" => (PairOp::Compare(CmpOp::Lt), false),
        _ => (PairOp::Compare(CmpOp::Le), false),
    };
    let pair = Expr::Pair { left, op, right };
    Some(if negated {
        Expr::Not(Box::new(pair))
    } else {
        pair
    })
}

type TestBuilder = Box<dyn FnOnce(FieldRef) -> Expr>;

fn parse_test(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    condition: &str,
    condition_node: &YNode<'_>,
    value: Option<YNode<'_>>,
    values: Option<YNode<'_>>,
) -> Option<TestBuilder> {
    let positive =
        |test: Test| -> TestBuilder { Box::new(move |field| Expr::Test { field, test }) };
    let negative = |test: Test| -> TestBuilder {
        Box::new(move |field| Expr::Not(Box::new(Expr::Test { field, test })))
    };

    let takes_no_value = matches!(
        condition,
        "Exists"
            | "DoesNotExist"
            | "IsNull"
            | "IsNotNull"
            | "IsNullOrEmpty"
            | "IsNotNullOrEmpty"
            | "IsTruthy"
            | "IsFalsy"
            | "IsString"
            | "IsInteger"
            | "IsNumber"
            | "IsBoolean"
            | "IsObject"
            | "IsArray"
            | "IsIPAddress"
            | "IsIPv4Address"
            | "IsIPv6Address"
            | "IsIPAddressPublic"
            | "IsIPAddressPrivate"
    );
    let takes_list = matches!(condition, "IsIn" | "IsNotIn");
    if takes_no_value {
        if let Some(extra) = value.as_ref().or(values.as_ref()) {
            reader.error(
                &extra.path,
                format!("`{condition}` takes no value"),
                Some("remove `Value`".to_owned()),
            );
            return None;
        }
        return Some(match condition {
            "Exists" => positive(Test::Exists),
            "DoesNotExist" => negative(Test::Exists),
            "IsNull" => positive(Test::IsNull),
            "IsNotNull" => negative(Test::IsNull),
            "IsNullOrEmpty" => positive(Test::IsNullOrEmpty),
            "IsNotNullOrEmpty" => negative(Test::IsNullOrEmpty),
            "IsTruthy" => positive(Test::IsTruthy),
            "IsFalsy" => negative(Test::IsTruthy),
            "IsString" => positive(Test::HasType(PyType::Str)),
            "IsInteger" => positive(Test::IsInteger),
            "IsNumber" => positive(Test::IsNumber),
            "IsBoolean" => positive(Test::HasType(PyType::Bool)),
            "IsObject" => positive(Test::HasType(PyType::Dict)),
            "IsIPAddress" => positive(Test::IsIp),
            "IsIPv4Address" => positive(Test::IsIpv4),
            "IsIPv6Address" => positive(Test::IsIpv6),
            "IsIPAddressPublic" => positive(Test::IsIpPublic),
            "IsIPAddressPrivate" => positive(Test::IsIpPrivate),
            _ => positive(Test::HasType(PyType::List)),
        });
    }
    if takes_list {
        if value.is_some() && values.is_none() {
            let at = value.as_ref().map(|v| v.path.clone()).unwrap_or_default();
            reader.key_error(
                &at,
                format!("`{condition}` takes `Values:` (a list), not `Value:`"),
                Some("rename `Value` to `Values`".to_owned()),
            );
            return None;
        }
        let Some(values) = values else {
            reader.error(
                &node.path,
                format!("`{condition}` needs `Values:` (a list of constants)"),
                None,
            );
            return None;
        };
        let items = reader.sequence(&values, "`Values`")?;
        let mut lits = Vec::with_capacity(items.len());
        for item in &items {
            lits.push(parse_lit(reader, item)?);
        }
        return Some(if condition == "IsIn" {
            positive(Test::IsIn(lits))
        } else {
            negative(Test::IsIn(lits))
        });
    }
    if let Some(values) = &values {
        reader.key_error(
            &values.path,
            format!("`{condition}` takes `Value:`, not `Values:`"),
            None,
        );
        return None;
    }
    let Some(value) = value else {
        reader.error(
            &condition_node.path,
            format!("`{condition}` needs a `Value:`"),
            None,
        );
        return None;
    };
    let text = |reader: &mut Reader<'_>| {
        reader.scalar_text(&value, &format!("the `Value` of `{condition}`"))
    };
    Some(match condition {
        "Equals" => positive(Test::Equals(parse_lit(reader, &value)?)),
        "DoesNotEqual" => negative(Test::Equals(parse_lit(reader, &value)?)),
        "IEquals" => positive(Test::IEquals(text(reader)?.to_lowercase())),
        "IDoesNotEqual" => negative(Test::IEquals(text(reader)?.to_lowercase())),
        "StartsWith" => positive(Test::StartsWith(text(reader)?)),
        "DoesNotStartWith" => negative(Test::StartsWith(text(reader)?)),
        "IStartsWith" => positive(Test::IStartsWith(text(reader)?.to_lowercase())),
        "IDoesNotStartWith" => negative(Test::IStartsWith(text(reader)?.to_lowercase())),
        "EndsWith" => positive(Test::EndsWith(text(reader)?)),
        "DoesNotEndWith" => negative(Test::EndsWith(text(reader)?)),
        "IEndsWith" => positive(Test::IEndsWith(text(reader)?.to_lowercase())),
        "IDoesNotEndWith" => negative(Test::IEndsWith(text(reader)?.to_lowercase())),
        "Contains" | "Has" => positive(Test::Contains(text(reader)?)),
        "DoesNotContain" | "DoesNotHave" => negative(Test::Contains(text(reader)?)),
        "IContains" => positive(Test::IContains(text(reader)?.to_lowercase())),
        "IDoesNotContain" => negative(Test::IContains(text(reader)?.to_lowercase())),
        "Matches" | "DoesNotMatch" => {
            let pattern = text(reader)?;
            if let Err(e) = rulec_runtime::pattern::compile_regex(&pattern) {
                let (message, help) = rulec_runtime::pattern::explain_regex_error(&e);
                reader.error(
                    &value.path,
                    format!("`{pattern}` is not a regular expression: {message}"),
                    Some(help.to_owned()),
                );
                return None;
            }
            if condition == "Matches" {
                positive(Test::Matches(pattern))
            } else {
                negative(Test::Matches(pattern))
            }
        }
        "IsIPAddressInCIDR" | "IsIPAddressNotInCIDR" => {
            let cidr = text(reader)?;
            let Some(net) = rulec_runtime::ip::Cidr::parse(&cidr) else {
                reader.error(
                    &value.path,
                    format!("`{cidr}` is not a network in CIDR notation"),
                    Some("write an address and a prefix length, e.g. `10.0.0.0/8` or `2001:db8::/32`".to_owned()),
                );
                return None;
            };
            if condition == "IsIPAddressInCIDR" {
                positive(Test::InCidr(net))
            } else {
                negative(Test::InCidr(net))
            }
        }
        comparison => {
            let op = match comparison {
                "IsGreaterThan" => CmpOp::Gt,
                "IsGreaterThanOrEquals" | "IsGreaterThanOrEqual" => CmpOp::Ge,
                "IsLessThan" => CmpOp::Lt,
                _ => CmpOp::Le,
            };
            positive(Test::Compare(op, parse_number(reader, &value, condition)?))
        }
    })
}

/// A constant of a condition.
pub fn parse_lit(reader: &mut Reader<'_>, node: &YNode<'_>) -> Option<Lit> {
    match node.value {
        Value::Null => Some(Lit::Null),
        Value::Bool(b) => Some(Lit::Bool(*b)),
        Value::String(s) => Some(Lit::Str(s.clone())),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Lit::Int(i))
            } else if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                Some(Lit::Float(f))
            } else {
                reader.error(&node.path, "integer constant out of the 64-bit range", None);
                None
            }
        }
        other => {
            reader.error(
                &node.path,
                format!(
                    "a condition's value must be a string, number, boolean or null, found {}",
                    type_name(other)
                ),
                None,
            );
            None
        }
    }
}

fn parse_number(reader: &mut Reader<'_>, node: &YNode<'_>, condition: &str) -> Option<NumLit> {
    let parsed = match node.value {
        Value::Number(n) => n
            .as_i64()
            .map(NumLit::Int)
            .or_else(|| n.as_f64().map(NumLit::Float)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(NumLit::Int)
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(NumLit::Float)),
        _ => None,
    };
    if parsed.is_none() {
        reader.error(
            &node.path,
            format!(
                "`{condition}` compares numbers, but its `Value` is {}",
                type_name(node.value)
            ),
            Some("write a number, for example `Value: 400`".to_owned()),
        );
    }
    parsed
}

fn parse_key_specifier(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    members: &[(&str, YNode<'_>)],
    scope: &Scope<'_>,
) -> Option<FieldRef> {
    let specifiers: Vec<&(&str, YNode<'_>)> = members
        .iter()
        .filter(|(k, _)| KEY_SPECIFIERS.contains(k))
        .collect();
    let [(kind, spec)] = specifiers.as_slice() else {
        if specifiers.is_empty() {
            reader.error(
                &node.path,
                "match expression without a key",
                Some("add one of `Key`, `DeepKey`, `KeyPath` or `DataModel`".to_owned()),
            );
        } else {
            reader.error(
                &node.path,
                "match expression with more than one key specifier",
                Some("keep exactly one".to_owned()),
            );
        }
        return None;
    };
    parse_field_spec(reader, node, kind, spec, scope)
}

/// Parses one key specifier (`Key`, `DeepKey`, `KeyPath`, `DataModel`, or
/// `Computed` where the scope allows it) of the mapping `node`.
pub fn parse_field_spec(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    kind: &str,
    spec: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<FieldRef> {
    match kind {
        "Key" => Some(FieldRef::Event(vec![Seg::Key(
            reader.scalar_text(spec, "`Key`")?,
        )])),
        "DeepKey" => {
            let items = reader.sequence(spec, "`DeepKey`")?;
            let mut segs = Vec::with_capacity(items.len());
            for item in &items {
                match item.value {
                    Value::String(key) => segs.push(Seg::Key(key.clone())),
                    Value::Number(n) if n.as_u64().is_some() => {
                        segs.push(Seg::Index(n.as_u64().unwrap_or(0) as usize))
                    }
                    other => {
                        reader.error(
                            &item.path,
                            format!(
                                "a `DeepKey` step must be a key or a list index, found {}",
                                type_name(other)
                            ),
                            None,
                        );
                        return None;
                    }
                }
            }
            if segs.is_empty() {
                reader.error(&spec.path, "`DeepKey` is empty", None);
                return None;
            }
            Some(FieldRef::Event(segs))
        }
        "Enrichment" => {
            let entry = reader.mapping(spec, "`Enrichment`")?;
            reader.unknown_keys(
                spec,
                &entry,
                &["Table", "Selector", "FieldPath"],
                "`Enrichment`",
            );
            let mut part = |key: &str| {
                reader
                    .required(spec, &entry, key, "`Enrichment`")
                    .and_then(|n| reader.scalar_text(&n, &format!("`{key}`")))
            };
            let (table, selector, field_path) =
                (part("Table"), part("Selector"), part("FieldPath"));
            let (table, selector, field_path) = (table?, selector?, field_path?);
            let rest = match parse_key_path(&field_path) {
                Ok(segs) => segs,
                Err(problem) => {
                    reader.error(
                        &spec.path,
                        format!("invalid `FieldPath` `{field_path}`: {problem}"),
                        None,
                    );
                    return None;
                }
            };
            let mut path = vec![
                Seg::Key("p_enrichment".to_owned()),
                Seg::Key(table),
                Seg::Key(selector),
            ];
            path.extend(rest);
            Some(FieldRef::Event(path))
        }
        "KeyPath" => {
            let text = reader.scalar_text(spec, "`KeyPath`")?;
            match parse_key_path(&text) {
                Ok(segs) => Some(FieldRef::Event(segs)),
                Err(problem) => {
                    reader.error(
                        &spec.path,
                        format!("invalid `KeyPath` `{text}`: {problem}"),
                        Some("write keys separated by dots, list indexes as `[0]`".to_owned()),
                    );
                    None
                }
            }
        }
        "DataModel" => {
            let Some(names) = scope.udm_names else {
                reader.key_error(
                    &node.key_path("DataModel"),
                    "`DataModel` cannot be used here",
                    Some("data models read raw keys: use `KeyPath`".to_owned()),
                );
                return None;
            };
            let text = reader.scalar_text(spec, "`DataModel`")?;
            let segs = match parse_key_path(&text) {
                Ok(segs) => segs,
                Err(problem) => {
                    reader.error(
                        &spec.path,
                        format!("invalid `DataModel` field `{text}`: {problem}"),
                        None,
                    );
                    return None;
                }
            };
            let (Some(Seg::Key(name)), rest) = (segs.first(), &segs[1..]) else {
                reader.error(
                    &spec.path,
                    format!("`DataModel` field `{text}` must start with a field name"),
                    None,
                );
                return None;
            };
            if !names.contains(name) {
                let help = match did_you_mean(name, names.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => {
                        "no data model covers this rule's log types; use `KeyPath` for raw keys"
                            .to_owned()
                    }
                    None => format!(
                        "the data models of this rule's log types define: {}",
                        names.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                reader.error(
                    &spec.path,
                    format!("no data model of this rule's log types defines the field `{name}`"),
                    Some(help),
                );
                return None;
            }
            Some(FieldRef::Udm {
                name: name.clone(),
                rest: rest.to_vec(),
            })
        }
        _ => {
            if !scope.allow_computed {
                reader.key_error(
                    &node.key_path("Computed"),
                    "`Computed` can only be used in data models",
                    None,
                );
                return None;
            }
            Some(FieldRef::Computed(Box::new(parse_value_expr(
                reader, spec, scope,
            )?)))
        }
    }
}

const VALUE_FORMS: [&str; 31] = [
    "DeepWalk",
    "UrlQuery",
    "QueryParams",
    "SplitPairs",
    "After",
    "Element",
    "Distinct",
    "Sort",
    "Flatten",
    "Const",
    "Object",
    "Each",
    "Keys",
    "KeyPath",
    "DataModel",
    "Lower",
    "Join",
    "UrlDecode",
    "Path",
    "Get",
    "DictGet",
    "Text",
    "Split",
    "AfterLast",
    "Concat",
    "FirstTruthy",
    "FirstPresent",
    "ListOfTruthy",
    "If",
    "Use",
    "Missing",
];

/// Parses a `Definitions` list: named value transforms, each able to `Use`
/// the ones before it. `udm_names` and `documents` are what the transforms
/// may read (a rule's data-model fields, a data model's documents). A name
/// defined twice is an error. `None` when any entry has errors.
pub fn parse_definitions(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    udm_names: Option<&BTreeSet<String>>,
    documents: &[String],
) -> Option<Vec<(String, ValueExpr)>> {
    let mut definitions: Vec<(String, ValueExpr)> = Vec::new();
    let mut ok = true;
    for item in reader.sequence(node, "`Definitions`")? {
        let Some(entry) = reader.mapping(&item, "a definition") else {
            ok = false;
            continue;
        };
        reader.unknown_keys(&item, &entry, &["Name", "Value"], "a definition");
        let name = reader
            .required(&item, &entry, "Name", "definition")
            .and_then(|n| reader.string(&n, "`Name`"));
        let scope = Scope {
            udm_names,
            allow_computed: true,
            documents,
            definitions: &definitions,
        };
        let value = reader
            .required(&item, &entry, "Value", "definition")
            .and_then(|v| parse_value_expr(reader, &v, &scope));
        let value = value.filter(|v| {
            reader.check_measure(
                &item.path,
                "the definition",
                crate::limits::value_measure(v),
            )
        });
        match (name, value) {
            (Some(name), Some(value)) => {
                if definitions.iter().any(|(n, _)| *n == name) {
                    reader.error(&item.path, format!("`{name}` is defined twice"), None);
                    ok = false;
                }
                definitions.push((name, value));
            }
            _ => ok = false,
        }
    }
    ok.then_some(definitions)
}

/// The scope of `Where` and `To`: each element of a list read as the event.
fn element_scope() -> Scope<'static> {
    Scope {
        udm_names: None,
        allow_computed: true,
        documents: &[],
        definitions: &[],
    }
}

/// Parses a data-model value transform.
pub fn parse_value_expr(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<ValueExpr> {
    match node.value {
        Value::String(text) => return Some(ValueExpr::Literal(text.clone())),
        Value::Null => return Some(ValueExpr::Missing),
        Value::Mapping(_) => {}
        other => {
            reader.error(
                &node.path,
                format!(
                    "a value transform must be a string, null or a mapping, found {}",
                    type_name(other)
                ),
                None,
            );
            return None;
        }
    }
    let members = reader.mapping(node, "a value transform")?;
    let get = |key: &str| member(&members, key);
    let Some((form, operand)) = members
        .iter()
        .find(|(k, _)| VALUE_FORMS.contains(k))
        .cloned()
    else {
        let first = members.first().map(|(k, _)| *k).unwrap_or("");
        let help = match did_you_mean(first, VALUE_FORMS.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("a transform is one of: {}", VALUE_FORMS.join(", ")),
        };
        reader.error(
            &node.path,
            "value transform without an operation",
            Some(help),
        );
        return None;
    };
    let allowed: &[&str] = match form {
        "Get" => &["Get", "From"],
        "DictGet" => &["DictGet", "Of", "From"],
        "Split" => &["Split", "Separator", "Index", "MaxSplit"],
        "SplitPairs" => &["SplitPairs", "Separator", "Assign"],
        "After" => &["After", "Where"],
        "Element" => &["Element", "Index"],
        "AfterLast" => &["AfterLast", "Separator"],
        "Join" => &["Join", "Separator"],
        "Each" => &["Each", "Where", "To"],
        "If" => &["If", "Then", "Else"],
        other => &[other][..],
    };
    let allowed: Vec<&str> = allowed.to_vec();
    reader.unknown_keys(node, &members, &allowed, &format!("a `{form}` transform"));
    let separator = |reader: &mut Reader<'_>| -> Option<String> {
        let Some(sep) = get("Separator") else {
            reader.error(&node.path, format!("`{form}` needs a `Separator`"), None);
            return None;
        };
        let text = reader.string(&sep, "`Separator`")?;
        if text.is_empty() {
            reader.error(&sep.path, "`Separator` is empty", None);
            return None;
        }
        Some(text)
    };
    let list = |reader: &mut Reader<'_>| -> Option<Vec<ValueExpr>> {
        let items = reader.sequence(&operand, &format!("`{form}`"))?;
        let mut out = Vec::new();
        for item in &items {
            out.push(parse_value_expr(reader, item, scope)?);
        }
        Some(out)
    };
    let keys = |reader: &mut Reader<'_>, text: &str| -> Option<Vec<String>> {
        let path = text.strip_prefix("$.").unwrap_or(text);
        match parse_key_path(path) {
            Ok(segs) if segs.iter().all(|s| matches!(s, Seg::Key(_))) => Some(
                segs.into_iter()
                    .filter_map(|s| if let Seg::Key(k) = s { Some(k) } else { None })
                    .collect(),
            ),
            Ok(_) => {
                reader.error(
                    &operand.path,
                    "list indexes are not supported in data-model paths",
                    None,
                );
                None
            }
            Err(problem) => {
                reader.error(
                    &operand.path,
                    format!("invalid path `{text}`: {problem}"),
                    None,
                );
                None
            }
        }
    };
    let document = |reader: &mut Reader<'_>| -> Option<Option<String>> {
        let Some(from) = get("From") else {
            return Some(None);
        };
        let name = reader.string(&from, "`From`")?;
        if !scope.documents.contains(&name) {
            let help = match did_you_mean(&name, scope.documents.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it under `Documents:`".to_owned(),
            };
            reader.error(&from.path, format!("unknown document `{name}`"), Some(help));
            return None;
        }
        Some(Some(name))
    };
    Some(match form {
        "Missing" => ValueExpr::Missing,
        "KeyPath" | "DataModel" => {
            ValueExpr::Field(parse_field_spec(reader, node, form, &operand, scope)?)
        }
        "Const" => match serde_json::to_value(operand.value) {
            Ok(value) => ValueExpr::Const(value),
            Err(e) => {
                reader.error(
                    &operand.path,
                    format!("`Const` cannot be read as JSON: {e}"),
                    None,
                );
                return None;
            }
        },
        "DeepWalk" => {
            let text = reader.string(&operand, "`DeepWalk`")?;
            ValueExpr::DeepWalk(keys(reader, &text)?)
        }
        "UrlQuery" => ValueExpr::UrlQuery(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "QueryParams" => {
            ValueExpr::QueryParams(Box::new(parse_value_expr(reader, &operand, scope)?))
        }
        "SplitPairs" => {
            let of = parse_value_expr(reader, &operand, scope)?;
            let separator = separator(reader)?;
            let Some(assign_node) = get("Assign") else {
                reader.error(
                    &node.path,
                    "`SplitPairs` needs an `Assign` (e.g. \"=\")",
                    None,
                );
                return None;
            };
            let assign = reader.string(&assign_node, "`Assign`")?;
            if assign.is_empty() {
                reader.error(&assign_node.path, "`Assign` is empty", None);
                return None;
            }
            ValueExpr::SplitPairs {
                of: Box::new(of),
                separator,
                assign,
            }
        }
        "After" => {
            let list = parse_value_expr(reader, &operand, scope)?;
            let Some(filter) = get("Where") else {
                reader.error(
                    &node.path,
                    "`After` needs a `Where` (the element to look for)",
                    None,
                );
                return None;
            };
            let filter = parse_expr_list(
                reader,
                &filter,
                &element_scope(),
                &mut NoPredicates,
                "`Where`",
            )?;
            ValueExpr::After {
                list: Box::new(list),
                filter: Box::new(Expr::All(filter)),
            }
        }
        "Element" => {
            let of = parse_value_expr(reader, &operand, scope)?;
            let Some(index_node) = get("Index") else {
                reader.error(&node.path, "`Element` needs an `Index`", None);
                return None;
            };
            let index = reader.integer(&index_node, "`Index`", -1_000_000..=1_000_000)?;
            ValueExpr::Element {
                of: Box::new(of),
                index,
            }
        }
        "Keys" => ValueExpr::Keys(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "Distinct" => ValueExpr::Distinct(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "Sort" => ValueExpr::Sort(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "Flatten" => ValueExpr::Flatten(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "Object" => {
            let entries = reader.mapping(&operand, "`Object`")?;
            let mut out = Vec::with_capacity(entries.len());
            for (key, value) in &entries {
                out.push(((*key).to_owned(), parse_value_expr(reader, value, scope)?));
            }
            ValueExpr::Object(out)
        }
        "Each" => {
            let list = parse_value_expr(reader, &operand, scope)?;
            // `Where` and `To` read each element as the event.
            let element_scope = element_scope();
            let filter = match get("Where") {
                Some(n) => Some(Box::new(Expr::All(parse_expr_list(
                    reader,
                    &n,
                    &element_scope,
                    &mut NoPredicates,
                    "`Where`",
                )?))),
                None => None,
            };
            let to = match get("To") {
                Some(n) => Some(Box::new(parse_value_expr(reader, &n, &element_scope)?)),
                None => None,
            };
            ValueExpr::Each {
                list: Box::new(list),
                filter,
                to,
            }
        }
        "Lower" => ValueExpr::Lower(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "UrlDecode" => ValueExpr::UrlDecode(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "Join" => {
            let of = parse_value_expr(reader, &operand, scope)?;
            ValueExpr::Join {
                of: Box::new(of),
                separator: separator(reader)?,
            }
        }
        "Path" => {
            let text = reader.string(&operand, "`Path`")?;
            ValueExpr::EventPath {
                keys: keys(reader, &text)?,
                case_insensitive: false,
            }
        }
        "Get" => {
            let text = reader.string(&operand, "`Get`")?;
            let keys = keys(reader, &text)?;
            match document(reader)? {
                Some(doc) => ValueExpr::DocPath { doc, keys },
                None => ValueExpr::EventPath {
                    keys,
                    case_insensitive: true,
                },
            }
        }
        "DictGet" => {
            let key = reader.string(&operand, "`DictGet`")?;
            match (document(reader)?, get("Of")) {
                (Some(doc), None) => ValueExpr::DocGet { doc, key },
                (None, Some(of)) => ValueExpr::DictGet {
                    of: Box::new(parse_value_expr(reader, &of, scope)?),
                    key,
                },
                _ => {
                    reader.error(
                        &node.path,
                        "`DictGet` needs exactly one of `From` (a document) or `Of` (a value)",
                        None,
                    );
                    return None;
                }
            }
        }
        "Text" => ValueExpr::Text(Box::new(parse_value_expr(reader, &operand, scope)?)),
        "Split" => {
            let of = parse_value_expr(reader, &operand, scope)?;
            let separator = separator(reader)?;
            let Some(index_node) = get("Index") else {
                reader.error(&node.path, "`Split` needs an `Index`", None);
                return None;
            };
            let index = reader.integer(&index_node, "`Index`", 0..=1_000_000)? as usize;
            let max_split = match get("MaxSplit") {
                Some(n) => Some(reader.integer(&n, "`MaxSplit`", 0..=1_000_000)? as usize),
                None => None,
            };
            ValueExpr::SplitPart {
                of: Box::new(of),
                separator,
                index,
                max_split,
            }
        }
        "AfterLast" => {
            let of = parse_value_expr(reader, &operand, scope)?;
            ValueExpr::AfterLast {
                of: Box::new(of),
                separator: separator(reader)?,
            }
        }
        "Concat" => ValueExpr::Concat(list(reader)?),
        "FirstTruthy" => ValueExpr::FirstTruthy(list(reader)?),
        "FirstPresent" => ValueExpr::FirstPresent(list(reader)?),
        "ListOfTruthy" => {
            ValueExpr::ListOfTruthy(Box::new(parse_value_expr(reader, &operand, scope)?))
        }
        "Use" => {
            let name = reader.string(&operand, "`Use`")?;
            match scope.definitions.iter().find(|(n, _)| *n == name) {
                Some((_, expr)) => {
                    let measure = crate::limits::value_measure(expr);
                    if !reader.charge_inlined(&operand.path, "`Use`", measure) {
                        return None;
                    }
                    expr.clone()
                }
                None => {
                    if reader.is_full() {
                        return None;
                    }
                    let help = match did_you_mean(
                        &name,
                        scope.definitions.iter().map(|(n, _)| n.as_str()),
                    ) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "declare it under `Definitions:` before its use".to_owned(),
                    };
                    reader.error(
                        &operand.path,
                        format!("unknown definition `{name}`"),
                        Some(help),
                    );
                    return None;
                }
            }
        }
        _ => {
            let condition = parse_expr_list(reader, &operand, scope, &mut NoPredicates, "`If`")?;
            let (Some(then), Some(otherwise)) = (get("Then"), get("Else")) else {
                reader.error(&node.path, "`If` needs `Then` and `Else`", None);
                return None;
            };
            ValueExpr::If {
                condition: Box::new(Expr::All(condition)),
                then: Box::new(parse_value_expr(reader, &then, scope)?),
                otherwise: Box::new(parse_value_expr(reader, &otherwise, scope)?),
            }
        }
    })
}
