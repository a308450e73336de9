//! The reference interpreter: evaluates a rule's IR over a `serde_json::Value`.
//!
//! It is the specification the generated code is tested against: simple,
//! direct, and written without sharing the code generator's structure.

use std::borrow::Cow;
use std::cell::OnceCell;

use rulec_runtime::ops::{self, Lit as RtLit};
use rulec_runtime::query;
use rulec_runtime::text::{push_default, push_or, push_str_of};
use rulec_runtime::transform::{self, Step};
use rulec_runtime::{AlertContext, Number, RuleError, Severity, Val};
use serde_json::Value;

use crate::ir::{
    CmpOp, DataModelIr, Expr, Fallback, FieldRef, Lit, NumLit, PairOp, Quantifier, RuleIr, Seg,
    Template, TemplatePart, Test, ValueExpr,
};

type V<'c> = Val<'c, &'c Value>;

/// Evaluation state for one event: the event, its data model, and the
/// embedded documents decoded so far.
struct Ctx<'c> {
    event: &'c Value,
    model: Option<&'c DataModelIr>,
    documents: Vec<OnceCell<Option<Value>>>,
}

impl<'c> Ctx<'c> {
    fn new(rule: &'c RuleIr, log_type: &str, event: &'c Value) -> Self {
        let model = rule.data_model(log_type);
        let documents = model.map_or(0, |m| m.documents.len());
        Ctx {
            event,
            model,
            documents: (0..documents).map(|_| OnceCell::new()).collect(),
        }
    }

    fn document(&'c self, name: &str) -> Result<Option<&'c Value>, RuleError> {
        let model = self
            .model
            .ok_or_else(|| RuleError::new("internal: document without a data model"))?;
        let index = model
            .documents
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| RuleError::new("internal: unknown document"))?;
        if let Some(done) = self.documents[index].get() {
            return Ok(done.as_ref());
        }
        let spec = &model.documents[index];
        let applies = match &spec.when {
            Some(when) => self.expr(when)?,
            None => true,
        };
        let decoded = if applies {
            transform::decode_json(&self.value(&spec.source)?)
        } else {
            None
        };
        Ok(self.documents[index].get_or_init(|| decoded).as_ref())
    }

    fn expr(&'c self, expr: &Expr) -> Result<bool, RuleError> {
        Ok(match expr {
            Expr::Const(b) => *b,
            Expr::All(items) => {
                for item in items {
                    if !self.expr(item)? {
                        return Ok(false);
                    }
                }
                true
            }
            Expr::Any(items) => {
                for item in items {
                    if self.expr(item)? {
                        return Ok(true);
                    }
                }
                false
            }
            Expr::NoneOf(items) => {
                for item in items {
                    if self.expr(item)? {
                        return Ok(false);
                    }
                }
                true
            }
            Expr::OnlyOne(items) => {
                let mut count = 0;
                for item in items {
                    if count < 2 && self.expr(item)? {
                        count += 1;
                    }
                }
                count == 1
            }
            Expr::Not(inner) => !self.expr(inner)?,
            Expr::Guarded {
                requires,
                message,
                body,
            } => {
                if !self.expr(requires)? {
                    return Err(RuleError::new(message.clone()));
                }
                self.expr(body)?
            }
            Expr::Test { field, test } => test_value(&self.field(field)?, test),
            Expr::Pair { left, op, right } => {
                pair_value(&self.field(left)?, *op, &self.field(right)?)
            }
            Expr::Each {
                list,
                quantifier,
                body,
            } => {
                let list = self.field(list)?;
                let owned: Vec<Value>;
                let elements: Vec<&Value> = if let Some(nodes) = list.node_elements() {
                    nodes
                } else if let Some(json) = list.json_elements() {
                    owned = json;
                    owned.iter().collect()
                } else {
                    // Not a list: positive quantifiers fail, `NoElement` holds.
                    return Ok(*quantifier == Quantifier::None);
                };
                let mut passing = 0usize;
                for element in elements {
                    // The element is the event the body reads (no data model).
                    let inner = Ctx {
                        event: element,
                        model: None,
                        documents: Vec::new(),
                    };
                    if inner.expr(body)? {
                        passing += 1;
                    } else if *quantifier == Quantifier::All {
                        return Ok(false);
                    }
                    if passing > 1 && *quantifier != Quantifier::All {
                        break;
                    }
                }
                match quantifier {
                    Quantifier::Any => passing > 0,
                    Quantifier::All => true,
                    Quantifier::None => passing == 0,
                    Quantifier::OnlyOne => passing == 1,
                }
            }
        })
    }

    fn field(&'c self, field: &FieldRef) -> Result<V<'c>, RuleError> {
        match field {
            FieldRef::Event(path) => Ok(transform::follow_ci(self.event, &steps(path))),
            FieldRef::Computed(value) => self.value(value),
            FieldRef::Udm { name, rest } => {
                let base = match self.model.and_then(|m| m.mapping(name)) {
                    Some(mapping) => self.value(mapping)?,
                    None => transform::udm_fallback(self.event, name),
                };
                Ok(transform::descend(base, &steps(rest)))
            }
        }
    }

    fn value(&'c self, value: &ValueExpr) -> Result<V<'c>, RuleError> {
        Ok(match value {
            ValueExpr::Missing => Val::Missing,
            ValueExpr::Literal(text) => Val::Str(text.clone().into()),
            ValueExpr::Field(field) => self.field(field)?,
            ValueExpr::Const(value) => Val::json(value.clone()),
            ValueExpr::Object(entries) => {
                let mut map = serde_json::Map::new();
                for (key, value) in entries {
                    map.insert(key.clone(), self.value(value)?.to_json());
                }
                Val::json(Value::Object(map))
            }
            ValueExpr::Keys(of) => transform::keys(&self.value(of)?),
            ValueExpr::DeepWalk(keys) => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                rulec_runtime::deep_walk::deep_walk(self.event, &keys)?
            }
            ValueExpr::UrlQuery(of) => query::url_query(&self.value(of)?),
            ValueExpr::QueryParams(of) => query::query_params(&self.value(of)?),
            ValueExpr::SplitPairs {
                of,
                separator,
                assign,
            } => query::split_pairs(&self.value(of)?, separator, assign),
            ValueExpr::Element { of, index } => transform::element(&self.value(of)?, *index),
            ValueExpr::After { list, filter } => {
                let list = self.value(list)?;
                let elements: Option<Vec<Value>> = match list.node_elements() {
                    Some(nodes) => Some(nodes.into_iter().cloned().collect()),
                    None => list.json_elements(),
                };
                match elements {
                    Some(elements) => {
                        let mut out = Vec::new();
                        let mut found = false;
                        for element in &elements {
                            if found {
                                out.push(Val::json(element.clone()));
                            } else {
                                let inner = Ctx {
                                    event: element,
                                    model: None,
                                    documents: Vec::new(),
                                };
                                found = inner.expr(filter)?;
                            }
                        }
                        Val::list(out)
                    }
                    None => Val::Missing,
                }
            }
            ValueExpr::Distinct(of) => transform::distinct(&self.value(of)?),
            ValueExpr::Sort(of) => transform::sort(&self.value(of)?)?,
            ValueExpr::Flatten(of) => transform::flatten(&self.value(of)?),
            ValueExpr::Each { list, filter, to } => {
                let list = self.value(list)?;
                if list.is_none() {
                    Val::list(Vec::new())
                } else {
                    let owned: Vec<Value>;
                    let elements: Option<Vec<&Value>> = match list.node_elements() {
                        Some(nodes) => Some(nodes),
                        None => match list.json_elements() {
                            Some(json) => {
                                owned = json;
                                Some(owned.iter().collect())
                            }
                            None => None,
                        },
                    };
                    match elements {
                        Some(elements) => {
                            let mut out = Vec::new();
                            for element in elements {
                                let inner = Ctx {
                                    event: element,
                                    model: None,
                                    documents: Vec::new(),
                                };
                                let keep = match filter {
                                    Some(f) => inner.expr(f)?,
                                    None => true,
                                };
                                if keep {
                                    let value = match to {
                                        Some(to) => inner.value(to)?.to_json(),
                                        None => element.clone(),
                                    };
                                    out.push(Val::json(value));
                                }
                            }
                            Val::list(out)
                        }
                        None => Val::Missing,
                    }
                }
            }
            ValueExpr::Lower(of) => transform::lower(self.value(of)?),
            ValueExpr::UrlDecode(of) => transform::url_decode(self.value(of)?),
            ValueExpr::Join { of, separator } => transform::join(&self.value(of)?, separator),
            ValueExpr::EventPath {
                keys,
                case_insensitive,
            } => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                if *case_insensitive {
                    transform::get_ci(self.event, &keys)
                } else {
                    transform::get_exact(self.event, &keys)
                }
            }
            ValueExpr::DocPath { doc, keys } => match self.document(doc)? {
                Some(document) => {
                    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                    transform::get_exact(document, &keys)
                }
                None => Val::Missing,
            },
            ValueExpr::DocGet { doc, key } => match self.document(doc)? {
                Some(document) => transform::dict_get(&Val::Node(document), key, false)?,
                None => Val::Missing,
            },
            ValueExpr::DictGet { of, key } => transform::dict_get(&self.value(of)?, key, true)?,
            ValueExpr::Text(of) => Val::Str(transform::text_or_empty(&self.value(of)?)),
            ValueExpr::SplitPart {
                of,
                separator,
                index,
                max_split,
            } => transform::split_part(
                &transform::text_or_empty(&self.value(of)?),
                separator,
                *index,
                *max_split,
            ),
            ValueExpr::AfterLast { of, separator } => {
                transform::after_last(&transform::text_or_empty(&self.value(of)?), separator)
            }
            ValueExpr::Concat(parts) => {
                let mut out = String::new();
                for part in parts {
                    push_str_of(&mut out, &self.value(part)?);
                }
                Val::Str(out.into())
            }
            ValueExpr::FirstTruthy(items) => {
                let mut last = Val::Missing;
                for item in items {
                    last = self.value(item)?;
                    if last.truthy() {
                        break;
                    }
                }
                last
            }
            ValueExpr::FirstPresent(items) => {
                for item in items {
                    let v = self.value(item)?;
                    if !matches!(v, Val::Missing) {
                        return Ok(v);
                    }
                }
                Val::Missing
            }
            ValueExpr::ListOfTruthy(of) => transform::list_of_truthy(self.value(of)?),
            ValueExpr::If {
                condition,
                then,
                otherwise,
            } => {
                if self.expr(condition)? {
                    self.value(then)?
                } else {
                    self.value(otherwise)?
                }
            }
        })
    }

    fn template(&'c self, template: &Template) -> Result<String, RuleError> {
        let mut out = String::new();
        for part in &template.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::Field { field, fallback } => {
                    let value = self.field(field)?;
                    match fallback {
                        Fallback::None => push_str_of(&mut out, &value),
                        Fallback::Or(text) => push_or(&mut out, &value, text),
                        Fallback::Default(text) => push_default(&mut out, &value, text),
                        Fallback::IfNull(text) => {
                            rulec_runtime::text::push_if_null(&mut out, &value, text)
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn steps(path: &[Seg]) -> Vec<Step<'_>> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => Step::Key(k),
            Seg::Index(i) => Step::Index(*i),
            Seg::Each => Step::Each,
        })
        .collect()
}

fn rt_lit(lit: &Lit) -> RtLit<'_> {
    match lit {
        Lit::Null => RtLit::Null,
        Lit::Bool(b) => RtLit::Bool(*b),
        Lit::Int(i) => RtLit::Int(*i),
        Lit::Float(f) => RtLit::Float(*f),
        Lit::Str(s) => RtLit::Str(s),
    }
}

fn number(n: NumLit) -> Number {
    match n {
        NumLit::Int(i) => Number::Int(i),
        NumLit::Float(f) => Number::Float(f),
    }
}

fn pair_value(a: &V<'_>, op: PairOp, b: &V<'_>) -> bool {
    match op {
        PairOp::Equals => ops::eq_vals(a, b),
        PairOp::IEquals => ops::ieq_vals(a, b),
        PairOp::StartsWith => ops::starts_with_val(a, b),
        PairOp::IStartsWith => ops::istarts_with_val(a, b),
        PairOp::EndsWith => ops::ends_with_val(a, b),
        PairOp::IEndsWith => ops::iends_with_val(a, b),
        PairOp::Contains => ops::contains_val(a, b),
        PairOp::IContains => ops::icontains_val(a, b),
        PairOp::Compare(op) => {
            let order = ops::cmp_vals(a, b);
            match op {
                CmpOp::Gt => order == Some(std::cmp::Ordering::Greater),
                CmpOp::Ge => matches!(
                    order,
                    Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                ),
                CmpOp::Lt => order == Some(std::cmp::Ordering::Less),
                CmpOp::Le => matches!(
                    order,
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                ),
            }
        }
    }
}

fn test_value(value: &V<'_>, test: &Test) -> bool {
    match test {
        Test::Equals(lit) => ops::eq_lit(value, &rt_lit(lit)),
        Test::IsIn(lits) => ops::in_lits(value, &lits.iter().map(rt_lit).collect::<Vec<_>>()),
        Test::StartsWith(s) => ops::starts_with(value, s),
        Test::EndsWith(s) => ops::ends_with(value, s),
        Test::Contains(s) => ops::contains(value, s),
        Test::IEquals(s) => ops::ieq_str(value, s),
        Test::IStartsWith(s) => ops::istarts_with(value, s),
        Test::IEndsWith(s) => ops::iends_with(value, s),
        Test::IContains(s) => ops::icontains(value, s),
        Test::Compare(op, bound) => match op {
            CmpOp::Gt => ops::gt(value, number(*bound)),
            CmpOp::Ge => ops::ge(value, number(*bound)),
            CmpOp::Lt => ops::lt(value, number(*bound)),
            CmpOp::Le => ops::le(value, number(*bound)),
        },
        Test::Exists => ops::exists(value),
        Test::IsNull => ops::is_null(value),
        Test::IsNullOrEmpty => ops::is_null_or_empty(value),
        Test::IsTruthy => value.truthy(),
        Test::IsInteger => ops::is_py_int(value),
        Test::IsNumber => ops::is_py_number(value),
        Test::HasType(ty) => ops::has_type(value, *ty),
        Test::IsIp => ops::is_ip(value),
        Test::IsIpv4 => ops::is_ipv4(value),
        Test::IsIpv6 => ops::is_ipv6(value),
        Test::IsIpPublic => ops::is_ip_public(value),
        Test::IsIpPrivate => ops::is_ip_private(value),
        Test::InCidr(net) => ops::ip_in_cidr(value, net),
        Test::Matches(pattern) => rulec_runtime::pattern::compile_regex(pattern)
            .is_ok_and(|re| ops::matches_regex(value, &re)),
    }
}

/// Whether the rule matches the event (an event of a log type the rule does
/// not read never matches).
pub fn matches(rule: &RuleIr, log_type: &str, event: &Value) -> Result<bool, RuleError> {
    if !rule.meta.log_types.iter().any(|t| t == log_type) {
        return Ok(false);
    }
    Ctx::new(rule, log_type, event).expr(&rule.condition)
}

/// The alert title.
pub fn title(rule: &RuleIr, log_type: &str, event: &Value) -> Result<String, RuleError> {
    match &rule.title {
        Some(template) => Ctx::new(rule, log_type, event).template(template),
        None => Ok(rule.default_title().to_owned()),
    }
}

/// The dedup string the rule defines; empty when it defines none.
pub fn dedup(rule: &RuleIr, log_type: &str, event: &Value) -> Result<String, RuleError> {
    match &rule.dedup {
        Some(template) => Ctx::new(rule, log_type, event).template(template),
        None => Ok(String::new()),
    }
}

/// `str()` of the `Unique` value; `None` when the rule has none or it is absent or null.
pub fn unique(rule: &RuleIr, log_type: &str, event: &Value) -> Result<Option<String>, RuleError> {
    let Some(value) = &rule.unique else {
        return Ok(None);
    };
    if !rule.meta.log_types.iter().any(|t| t == log_type) {
        return Ok(None);
    }
    let ctx = Ctx::new(rule, log_type, event);
    let value = ctx.value(value)?;
    Ok((!value.is_none()).then(|| rulec_runtime::text::py_str(&value).into_owned()))
}

/// The severity: the first dynamic severity whose conditions hold, else the base.
pub fn severity(rule: &RuleIr, log_type: &str, event: &Value) -> Result<Severity, RuleError> {
    let ctx = Ctx::new(rule, log_type, event);
    for entry in &rule.dynamic_severities {
        if ctx.expr(&entry.condition)? {
            return Ok(entry.change_to.unwrap_or(rule.meta.severity));
        }
    }
    Ok(rule.meta.severity)
}

/// The alert context, keys in the rule's order, missing values as null.
pub fn alert_context(
    rule: &RuleIr,
    log_type: &str,
    event: &Value,
) -> Result<AlertContext, RuleError> {
    let ctx = Ctx::new(rule, log_type, event);
    let mut out = AlertContext::with_capacity(rule.alert_context.len());
    for (name, value) in &rule.alert_context {
        let json = match value {
            crate::ir::ContextValue::Const(constant) => constant.clone(),
            crate::ir::ContextValue::Field { field, default } => {
                let value = ctx.field(field)?;
                match default {
                    Some(default) if value.is_none() => default.clone(),
                    _ => value.to_json(),
                }
            }
        };
        out.insert(name.clone(), json);
    }
    Ok(out)
}

/// `Description`, `Runbook` and `Reference` for the event, with their
/// substitutions.
pub fn texts(
    rule: &RuleIr,
    log_type: &str,
    event: &Value,
) -> Result<rulec_runtime::AlertTexts, RuleError> {
    if !rule.meta.log_types.iter().any(|t| t == log_type) {
        return Ok(rulec_runtime::AlertTexts {
            description: rule.meta.description.clone().map(Cow::Owned),
            runbook: rule.meta.runbook.clone().map(Cow::Owned),
            reference: rule.meta.reference.clone().map(Cow::Owned),
        });
    }
    let ctx = Ctx::new(rule, log_type, event);
    let text = |template: &Option<Template>,
                fixed: &Option<String>|
     -> Result<Option<Cow<'static, str>>, RuleError> {
        match template {
            Some(template) => ctx.template(template).map(|text| Some(Cow::Owned(text))),
            None => Ok(fixed.clone().map(Cow::Owned)),
        }
    };
    Ok(rulec_runtime::AlertTexts {
        description: text(&rule.texts.description, &rule.meta.description)?,
        runbook: text(&rule.texts.runbook, &rule.meta.runbook)?,
        reference: text(&rule.texts.reference, &rule.meta.reference)?,
    })
}
