//! The catalog's facts about each rule, taken from its compiled IR: metadata,
//! the condition in catalog syntax, exclusions, indicators with their counts
//! across the catalog, and output fields with their sources per log type.

use std::collections::{BTreeMap, BTreeSet};

use rulec_compiler::condition_render::{
    render, render_field, render_lines, render_lit, render_test, render_value,
};
use rulec_compiler::ir::{
    ContextValue, Expr, FieldRef, PairOp, Quantifier, RuleIr, Template, TemplatePart, Test,
    ValueExpr,
};
use rulec_compiler::template::{parse_template, RawPart};
use yaml_serde::Value;

use super::mitre::{self, Attack};

/// The shown value of an operator that takes none.
pub const NO_VALUE: &str = "(no value)";

/// One rule's page.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePage {
    /// `RuleID`.
    pub id: String,
    /// `DisplayName`, else the RuleID.
    pub title: String,
    /// The rule file, relative to `rules/`.
    pub file: String,
    /// `Enabled`.
    pub enabled: bool,
    /// `Status`.
    pub status: Option<String>,
    /// `Severity`.
    pub severity: String,
    /// The fields alerts are grouped by (`GroupBy`, or the fields of `AlertDedup`).
    pub group_by: Vec<String>,
    /// `LogTypes`.
    pub log_types: Vec<String>,
    /// `Tags`.
    pub tags: Vec<String>,
    /// `Reference`.
    pub reference: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Runbook`.
    pub runbook: Option<String>,
    /// `Threshold`.
    pub threshold: u32,
    /// `DedupPeriodMinutes` (after Panther's floor).
    pub dedup_minutes: u32,
    /// `Reports: MITRE ATT&CK`.
    pub attack: Vec<Attack>,
    /// Other `Reports` frameworks, as written.
    pub other_reports: Vec<(String, Vec<String>)>,
    /// The rule file as written.
    pub body: String,
    /// The detection logic, one catalog condition per top-level conjunct.
    pub condition: Vec<String>,
    /// What the rule suppresses, field by field.
    pub exclusions: Vec<Row>,
    /// What the rule looks for, with counts across the catalog.
    pub indicators: Vec<Indicator>,
    /// The fields its alerts carry.
    pub outputs: Vec<Output>,
}

/// One (field, operator) of a rule with its values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    /// The field, in catalog syntax (`username`, `.verb`, `lower(verb)`).
    pub field: String,
    /// The operator (`in`, `starts_with`, `not contains`, `is_truthy`).
    pub kind: String,
    /// The values, sorted, without repeats ([`NO_VALUE`] for operators without one).
    pub values: Vec<String>,
}

/// An indicator row: values with the number of other rules that match the
/// same field, operator and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The field.
    pub field: String,
    /// The operator.
    pub kind: String,
    /// Each value and its count in other rules.
    pub values: Vec<(String, usize)>,
}

/// One output field of a rule's alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its name: the `AlertContext` key, or the field named in a template.
    pub name: String,
    /// Where it appears: `title`, `dedup`, `context`.
    pub used_in: Vec<&'static str>,
    /// Where its value comes from, per log type (one entry for all log types
    /// when they agree: `"*"`).
    pub sources: Vec<(String, String)>,
}

/// A (field, operator, value) the rule tests, and whether the value is negated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Atom {
    field: String,
    kind: String,
    value: String,
}

/// Builds every rule's page; `bodies` are the rule files' texts, in the same order.
pub fn build(rules: &[(RuleIr, String)]) -> Vec<RulePage> {
    let atoms: Vec<(Vec<Atom>, Vec<Atom>)> = rules.iter().map(|(r, _)| split(r)).collect();
    // For each indicator triple, the rules that look for it.
    let mut seen: BTreeMap<&Atom, BTreeSet<usize>> = BTreeMap::new();
    for (i, (_, positive)) in atoms.iter().enumerate() {
        for atom in positive {
            seen.entry(atom).or_default().insert(i);
        }
    }
    rules
        .iter()
        .enumerate()
        .map(|(i, (rule, body))| {
            let (excluded, positive) = &atoms[i];
            let indicators = group(positive)
                .into_iter()
                .map(|row| Indicator {
                    values: row
                        .values
                        .iter()
                        .map(|v| {
                            let key = Atom {
                                field: row.field.clone(),
                                kind: row.kind.clone(),
                                value: v.clone(),
                            };
                            let others = seen.get(&key).map_or(0, |s| s.len().saturating_sub(1));
                            (v.clone(), others)
                        })
                        .collect(),
                    field: row.field,
                    kind: row.kind,
                })
                .collect();
            page(rule, body, group(excluded), indicators)
        })
        .collect()
}

fn page(rule: &RuleIr, body: &str, exclusions: Vec<Row>, indicators: Vec<Indicator>) -> RulePage {
    let meta = &rule.meta;
    let names = udm_names(rule);
    let yaml: Option<Value> = yaml_serde::from_str(body).ok();
    let raw = |key: &str| yaml.as_ref().and_then(|y| y.get(key));
    let (attack, other_reports) = mitre::split_reports(&meta.reports);
    let condition = render_lines(&rule.condition, &names)
        .unwrap_or_else(|e| vec![format!("(cannot be written as a catalog condition: {e})")]);
    let dedup_names = match (raw("AlertDedup"), raw("GroupBy")) {
        (Some(Value::String(text)), _) => template_names(text),
        (_, Some(Value::Sequence(items))) => items.iter().map(group_by_name).collect(),
        _ => Vec::new(),
    };
    let title_names = match raw("AlertTitle") {
        Some(Value::String(text)) => template_names(text),
        _ => Vec::new(),
    };
    let mut group_by: Vec<String> = Vec::new();
    for name in &dedup_names {
        if !group_by.contains(name) {
            group_by.push(name.clone());
        }
    }
    let mut outputs: Vec<Output> = Vec::new();
    let mut add = |name: String, used: &'static str, sources: Vec<(String, String)>| match outputs
        .iter_mut()
        .find(|o| o.name == name)
    {
        Some(o) => {
            if !o.used_in.contains(&used) {
                o.used_in.push(used);
            }
        }
        None => outputs.push(Output {
            name,
            used_in: vec![used],
            sources,
        }),
    };
    for (template, names_written, used) in [
        (&rule.title, &title_names, "title"),
        (&rule.dedup, &dedup_names, "dedup"),
    ] {
        for (n, field) in template_fields(template.as_ref()).into_iter().enumerate() {
            let name = names_written
                .get(n)
                .cloned()
                .unwrap_or_else(|| subject(field, &names));
            add(name, used, sources(rule, field, &names));
        }
    }
    for (key, value) in &rule.alert_context {
        let sources = match value {
            ContextValue::Field { field, default } => {
                let mut s = sources(rule, field, &names);
                if let Some(d) = default {
                    for (_, text) in &mut s {
                        text.push_str(&format!(" (default {d})"));
                    }
                }
                s
            }
            ContextValue::Const(json) => vec![("*".to_owned(), format!("constant {json}"))],
        };
        add(key.clone(), "context", sources);
    }
    RulePage {
        id: meta.id.clone(),
        title: rule.default_title().to_owned(),
        file: meta.source_file.clone(),
        enabled: meta.enabled,
        status: meta.status.clone(),
        severity: meta.severity.as_str().to_owned(),
        group_by,
        log_types: meta.log_types.clone(),
        tags: meta.tags.clone(),
        reference: meta.reference.clone(),
        description: meta.description.clone(),
        runbook: meta.runbook.clone(),
        threshold: meta.threshold,
        dedup_minutes: meta.dedup_period_minutes,
        attack,
        other_reports,
        body: body.to_owned(),
        condition,
        exclusions,
        indicators,
        outputs,
    }
}

/// The data-model names of a rule's log types.
pub fn udm_names(rule: &RuleIr) -> BTreeSet<String> {
    rule.data_models
        .iter()
        .flat_map(|m| m.mappings.iter().map(|(n, _)| n.clone()))
        .collect()
}

fn subject(field: &FieldRef, names: &BTreeSet<String>) -> String {
    render_field(field, names).unwrap_or_else(|e| format!("({e})"))
}

/// The names written in a template's `{...}` fields, in order.
fn template_names(text: &str) -> Vec<String> {
    let Ok(parts) = parse_template(text) else {
        return Vec::new();
    };
    parts
        .iter()
        .filter_map(|p| match p {
            RawPart::Field(f) => Some(render_field(
                &FieldRef::Event(f.path.clone()),
                &BTreeSet::new(),
            )),
            RawPart::Text(_) => None,
        })
        .map(|r| r.unwrap_or_default())
        .collect()
}

/// The name a `GroupBy` entry gives (`{DataModel: username}` gives `username`).
fn group_by_name(item: &Value) -> String {
    let Value::Mapping(map) = item else {
        return String::new();
    };
    map.iter()
        .next()
        .map(|(_, v)| match v {
            Value::String(s) => s.clone(),
            Value::Sequence(steps) => steps
                .iter()
                .map(|s| match s {
                    Value::String(k) => k.clone(),
                    Value::Number(n) => format!("[{n}]"),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join("."),
            _ => String::new(),
        })
        .unwrap_or_default()
}

fn template_fields(template: Option<&Template>) -> Vec<&FieldRef> {
    template
        .map(|t| {
            t.parts
                .iter()
                .filter_map(|p| match p {
                    TemplatePart::Field { field, .. } => Some(field),
                    TemplatePart::Text(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where a field's value comes from, per log type; `"*"` when every log
/// type reads it the same way.
fn sources(rule: &RuleIr, field: &FieldRef, names: &BTreeSet<String>) -> Vec<(String, String)> {
    let FieldRef::Udm { name, rest } = field else {
        return vec![("*".to_owned(), subject(field, names))];
    };
    // The path below the field: `.code`, `[0]`.
    let below = match subject(&FieldRef::Event(rest.clone()), &BTreeSet::new()).as_str() {
        "@" => String::new(),
        path if path.starts_with('.') => path.to_owned(),
        path => format!(".{path}"),
    };
    let per_type: Vec<(String, String)> = rule
        .meta
        .log_types
        .iter()
        .map(|log_type| {
            let text = match rule.data_model(log_type).and_then(|m| m.mapping(name)) {
                Some(mapping) => format!("{}{below}", describe_mapping(mapping, names)),
                None => format!("not mapped: p_udm.{name}, else the raw key{below}"),
            };
            (log_type.clone(), text)
        })
        .collect();
    let first = per_type.first().map(|(_, t)| t.clone());
    if per_type.len() > 1 && per_type.iter().all(|(_, t)| Some(t) == first.as_ref()) {
        return vec![("*".to_owned(), first.unwrap_or_default())];
    }
    per_type
}

/// A data-model mapping: a path as `$.a.b` (exact) or `a.b` (`deep_get`),
/// any other transform in catalog syntax.
fn describe_mapping(mapping: &ValueExpr, names: &BTreeSet<String>) -> String {
    match mapping {
        ValueExpr::EventPath {
            keys,
            case_insensitive: false,
        } => format!("$.{}", keys.join(".")),
        ValueExpr::EventPath {
            keys,
            case_insensitive: true,
        } => keys.join("."),
        other => render_value(other, names).unwrap_or_else(|e| format!("({e})")),
    }
}

/// The atoms of a rule: those of its exclusions (top-level negated
/// conjuncts) and its indicators (every other conjunct).
fn split(rule: &RuleIr) -> (Vec<Atom>, Vec<Atom>) {
    let names = udm_names(rule);
    let top = match &rule.condition {
        Expr::All(items) => items.iter().collect::<Vec<_>>(),
        other => vec![other],
    };
    let (mut excluded, mut positive) = (Vec::new(), Vec::new());
    for expr in flat_all(top) {
        match expr {
            Expr::Not(inner) => atoms(inner, false, &names, &mut excluded),
            Expr::NoneOf(items) => {
                for item in items {
                    atoms(item, false, &names, &mut excluded);
                }
            }
            other => atoms(other, false, &names, &mut positive),
        }
    }
    (excluded, positive)
}

/// Top-level conjuncts, nested `All`s spliced (inlined predicates).
fn flat_all(items: Vec<&Expr>) -> Vec<&Expr> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Expr::All(inner) => out.extend(flat_all(inner.iter().collect())),
            Expr::Guarded { body, .. } if matches!(**body, Expr::All(_)) => {
                out.extend(flat_all(vec![body]))
            }
            other => out.push(other),
        }
    }
    out
}

/// Collects the comparisons under `expr`; `negated` under an odd number of `not`s.
fn atoms(expr: &Expr, negated: bool, names: &BTreeSet<String>, out: &mut Vec<Atom>) {
    let mut push =
        |field: String, kind: String, value: String| out.push(Atom { field, kind, value });
    match expr {
        Expr::Const(_) => {}
        Expr::All(items) | Expr::Any(items) | Expr::OnlyOne(items) | Expr::NoneOf(items) => {
            let flip = matches!(expr, Expr::NoneOf(_));
            for item in items {
                atoms(item, negated ^ flip, names, out);
            }
        }
        Expr::Not(inner) => atoms(inner, !negated, names, out),
        // The precondition is not what the rule looks for.
        Expr::Guarded { body, .. } => atoms(body, negated, names, out),
        Expr::Pair { left, op, right } => {
            let op = match op {
                PairOp::Equals => "eq",
                PairOp::IEquals => "ieq",
                PairOp::StartsWith => "starts_with",
                PairOp::IStartsWith => "istarts_with",
                PairOp::EndsWith => "ends_with",
                PairOp::IEndsWith => "iends_with",
                PairOp::Contains => "contains",
                PairOp::IContains => "icontains",
                PairOp::Compare(_) => "compare",
            };
            let kind = match (negated, op) {
                (true, "eq") => "ne".to_owned(),
                (true, "contains") => "not contains".to_owned(),
                (true, other) => format!("not {other}"),
                (false, other) => other.to_owned(),
            };
            push(
                subject(left, names),
                kind,
                format!("{{{}}}", subject(right, names)),
            );
        }
        Expr::Each {
            list,
            quantifier,
            body,
        } => {
            let q = match quantifier {
                Quantifier::Any => "any_element",
                Quantifier::All => "all_elements",
                Quantifier::None => "no_element",
                Quantifier::OnlyOne => "one_element",
            };
            let kind = if negated {
                format!("not {q}")
            } else {
                q.to_owned()
            };
            let body = render(body, &BTreeSet::new()).unwrap_or_else(|e| format!("({e})"));
            push(subject(list, names), kind, body);
        }
        Expr::Test { field, test } => {
            let field = subject(field, names);
            match test {
                Test::IsIn(items) => {
                    let kind = if negated { "not in" } else { "in" };
                    for item in items {
                        push(
                            field.clone(),
                            kind.to_owned(),
                            render_lit(item).unwrap_or_default(),
                        );
                    }
                }
                other => {
                    let rendered = render_test(other).unwrap_or_else(|e| format!("({e})"));
                    let (op, value) = match rendered.split_once(' ') {
                        Some((op, value)) => (op.to_owned(), value.to_owned()),
                        None => (rendered.clone(), NO_VALUE.to_owned()),
                    };
                    let kind = match (negated, op.as_str()) {
                        (false, _) => op,
                        (true, "eq") => "ne".to_owned(),
                        (true, "contains") => "not contains".to_owned(),
                        (true, "is_null") => "is_not_null".to_owned(),
                        (true, _) => format!("not {op}"),
                    };
                    push(field, kind, value);
                }
            }
        }
    }
}

/// Rows of one (field, operator) each, values sorted; rows sorted.
fn group(atoms: &[Atom]) -> Vec<Row> {
    let mut rows: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for atom in atoms {
        rows.entry((atom.field.clone(), atom.kind.clone()))
            .or_default()
            .insert(atom.value.clone());
    }
    rows.into_iter()
        .map(|((field, kind), values)| Row {
            field,
            kind,
            values: values.into_iter().collect(),
        })
        .collect()
}
