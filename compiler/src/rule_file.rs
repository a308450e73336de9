//! Reads rule files (`AnalysisType: rule`) into IR, validating them as
//! panther_analysis_tool does.

use std::collections::BTreeSet;

use rulec_runtime::Severity;
use yaml_serde::Value;

use crate::condition::read_conditions;
use crate::diag::{did_you_mean, Diagnostic};
use crate::expr_parse::{
    parse_definitions, parse_expr_list, parse_field_spec, parse_value_expr, Scope,
};
use crate::ir::{
    ContextValue, DataModelIr, Expr, FieldRef, RuleIr, RuleMetaIr, Seg, SeverityRule, Template,
    TemplatePart, TextTemplates, ValueExpr,
};
use crate::predicate::PredicateSet;
use crate::template::{parse_template, RawPart};
use crate::tests_block::parse_tests;
use crate::yaml::{member, Reader, SourceFile, YNode};

/// Every key of Panther's rule format, plus rulec's `AlertDedup`, `Detection`
/// and `Condition` (catalog conditions).
pub const RULE_KEYS: [&str; 32] = [
    "AnalysisType",
    "Enabled",
    "RuleID",
    "LogTypes",
    "Severity",
    "Detection",
    "Condition",
    "Definitions",
    "Filename",
    "DisplayName",
    "Description",
    "Status",
    "Tags",
    "Reports",
    "Reference",
    "Runbook",
    "DedupPeriodMinutes",
    "Threshold",
    "SummaryAttributes",
    "Tests",
    "InlineFilters",
    "AlertTitle",
    "AlertDedup",
    "Unique",
    "AlertContext",
    "GroupBy",
    "DynamicSeverities",
    "OutputIds",
    "CreatedBy",
    "CreateAlert",
    "OnlyUseBaseRiskScore",
    "ScheduledQueries",
];

const RULE_ID_FORBIDDEN: [char; 5] = ['<', '>', '&', '"', '%'];

/// What a rule may refer to besides itself.
pub struct Library<'l> {
    /// Every enabled data model.
    pub data_models: &'l [DataModelIr],
    /// Every predicate.
    pub predicates: &'l PredicateSet,
}

/// Parses and validates one rule file. `None` when it has errors.
pub fn parse_rule(file: &SourceFile, library: &Library<'_>) -> (Option<RuleIr>, Vec<Diagnostic>) {
    let mut reader = Reader::new(file);
    let rule = reader
        .parse()
        .and_then(|value| read_rule(&mut reader, &YNode::root(&value), library));
    let ok = !reader.has_errors();
    (rule.filter(|_| ok), reader.finish())
}

fn read_rule(reader: &mut Reader<'_>, root: &YNode<'_>, library: &Library<'_>) -> Option<RuleIr> {
    let members = reader.mapping(root, "a rule file")?;
    reader.unknown_keys(root, &members, &RULE_KEYS, "a rule");
    let get = |key: &str| member(&members, key);
    let optional_text = |reader: &mut Reader<'_>, key: &str| {
        get(key).and_then(|n| reader.scalar_text(&n, &format!("`{key}`")))
    };

    if let Some(kind) = reader.required(root, &members, "AnalysisType", "rule") {
        if let Some(kind_text) = reader.string(&kind, "`AnalysisType`") {
            if kind_text != "rule" {
                reader.error(
                    &kind.path,
                    format!("`AnalysisType: {kind_text}` is not a rule"),
                    Some("rule files say `AnalysisType: rule`".to_owned()),
                );
            }
        }
    }
    let enabled = reader
        .required(root, &members, "Enabled", "rule")
        .and_then(|n| reader.boolean(&n, "`Enabled`"));
    let id = reader
        .required(root, &members, "RuleID", "rule")
        .and_then(|n| {
            let id = reader.string(&n, "`RuleID`")?;
            if id.is_empty() || id.contains(RULE_ID_FORBIDDEN) {
                reader.error(
                    &n.path,
                    format!("`RuleID` `{id}` is empty or contains one of < > & \" %"),
                    Some("use letters, digits, dots, dashes and underscores".to_owned()),
                );
                return None;
            }
            Some(id)
        });
    let log_types = reader
        .required(root, &members, "LogTypes", "rule")
        .and_then(|n| {
            let types = reader.unique_strings(&n, "`LogTypes`", false)?;
            if types.is_empty() {
                reader.error(
                    &n.path,
                    "`LogTypes` is empty",
                    Some("list the log types the rule reads".to_owned()),
                );
                return None;
            }
            Some(types)
        });
    let severity = reader
        .required(root, &members, "Severity", "rule")
        .and_then(|n| parse_severity(reader, &n, false))
        .flatten();
    if let Some(filename) = get("Filename") {
        reader.key_error(
            &filename.path,
            "`Filename` points to a Python detection, which rulec does not run",
            Some("express the logic as YAML under `Detection:` and remove `Filename`".to_owned()),
        );
    }
    let tags = match get("Tags") {
        Some(n) => reader.unique_strings(&n, "`Tags`", true),
        None => Some(Vec::new()),
    };
    let summary_attributes = match get("SummaryAttributes") {
        Some(n) => reader.unique_strings(&n, "`SummaryAttributes`", false),
        None => Some(Vec::new()),
    };
    if let Some(n) = get("OutputIds") {
        reader.unique_strings(&n, "`OutputIds`", false);
    }
    let reports = get("Reports").map_or(Some(Vec::new()), |n| parse_reports(reader, &n));
    let dedup_period_minutes = match get("DedupPeriodMinutes") {
        Some(n) => reader
            .integer(&n, "`DedupPeriodMinutes`", 0..=1440)
            .map(|m| m.max(5) as u32),
        None => Some(60),
    };
    let threshold = match get("Threshold") {
        Some(n) => reader
            .integer(&n, "`Threshold`", 1..=1_000_000)
            .map(|t| t as u32),
        None => Some(1),
    };
    let create_alert = match get("CreateAlert") {
        Some(n) => reader.boolean(&n, "`CreateAlert`"),
        None => Some(true),
    };
    if let Some(n) = get("OnlyUseBaseRiskScore") {
        reader.boolean(&n, "`OnlyUseBaseRiskScore`");
    }

    // Data models and names the logic may use.
    let data_models: Vec<DataModelIr> = log_types
        .iter()
        .flatten()
        .filter_map(|t| {
            library
                .data_models
                .iter()
                .find(|m| m.log_types.contains(t))
                .cloned()
        })
        .fold(Vec::new(), |mut acc, m| {
            if !acc.iter().any(|seen: &DataModelIr| seen.id == m.id) {
                acc.push(m);
            }
            acc
        });
    let udm_names: BTreeSet<String> = data_models
        .iter()
        .flat_map(|m| m.mappings.iter().map(|(n, _)| n.clone()))
        .collect();
    let definitions = match get("Definitions") {
        Some(n) => parse_definitions(reader, &n, Some(&udm_names), &[]),
        None => Some(Vec::new()),
    };
    let definitions = definitions.unwrap_or_default();
    let scope = Scope {
        udm_names: Some(&udm_names),
        allow_computed: true,
        documents: &[],
        definitions: &definitions,
    };
    let mut predicates = library.predicates;

    let inline_filters = match get("InlineFilters") {
        Some(n) => parse_expr_list(reader, &n, &scope, &mut predicates, "`InlineFilters`")
            .map(|filters| Some(filters.into_iter().map(absent_passes).collect::<Vec<_>>())),
        None => Some(None),
    };
    let detection = match get("Detection") {
        Some(n) => parse_expr_list(reader, &n, &scope, &mut predicates, "`Detection`"),
        None if get("Condition").is_some() => Some(Vec::new()),
        None => {
            reader.error(
                &root.path,
                "a rule needs `Detection` or `Condition`",
                Some("add `Detection:` (match expressions) or `Condition:` (catalog conditions such as `verb eq \"get\"`)".to_owned()),
            );
            None
        }
    };
    let dynamic_severities = match get("DynamicSeverities") {
        Some(n) => parse_dynamic_severities(reader, &n, &scope, library.predicates),
        None => Some(Vec::new()),
    };

    let tests = get("Tests").map_or(Some(Vec::new()), |n| {
        parse_tests(reader, &n, log_types.as_deref().unwrap_or(&[]))
    });
    // Top-level keys of the test events, read from the YAML (templates may name them).
    let test_keys: BTreeSet<String> = match get("Tests").map(|n| n.value) {
        Some(Value::Sequence(cases)) => cases
            .iter()
            .flat_map(|case| {
                let steps = case.get("Events").and_then(Value::as_sequence);
                case.get("Log")
                    .into_iter()
                    .chain(steps.into_iter().flatten().filter_map(|s| s.get("Log")))
            })
            .filter_map(Value::as_mapping)
            .flat_map(|log| log.keys().filter_map(Value::as_str).map(str::to_owned))
            .collect(),
        _ => BTreeSet::new(),
    };
    let resolver = FieldResolver {
        udm_names: &udm_names,
        test_keys: &test_keys,
        definitions: &definitions,
    };
    let title =
        get("AlertTitle").map(|n| parse_output_template(reader, &n, "`AlertTitle`", &resolver));
    let dedup = match (get("AlertDedup"), get("GroupBy")) {
        (Some(_), Some(group_by)) => {
            reader.key_error(
                &group_by.path,
                "`GroupBy` and `AlertDedup` both set the dedup string",
                Some("keep one of them".to_owned()),
            );
            Some(None)
        }
        (Some(n), None) => Some(parse_output_template(reader, &n, "`AlertDedup`", &resolver)),
        (None, Some(n)) => Some(parse_group_by(reader, &n, &scope)),
        (None, None) => None,
    };
    let unique = get("Unique").map(|n| parse_value_expr(reader, &n, &scope));
    let alert_context = get("AlertContext").map_or(Some(Vec::new()), |n| {
        parse_alert_context(reader, &n, &scope)
    });

    // `Condition` (catalog conditions, ours): ANDed after `Detection`.
    let conditions = get("Condition").map_or(Some(Vec::new()), |n| {
        read_conditions(reader, &n, &scope, Some(&test_keys))
    });
    let detection = detection
        .zip(conditions)
        .map(|(mut detection, conditions)| {
            detection.extend(conditions);
            detection
        });
    let condition = match inline_filters? {
        Some(mut filters) => {
            filters.extend(detection?);
            Expr::All(filters)
        }
        None => Expr::All(detection?),
    };
    if !reader.check_measure(
        &root.path,
        "the rule's logic",
        crate::limits::expr_measure_in(&condition, &data_models),
    ) {
        return None;
    }
    let meta = RuleMetaIr {
        id: id?,
        display_name: optional_text(reader, "DisplayName"),
        enabled: enabled?,
        status: optional_text(reader, "Status"),
        severity: severity?,
        log_types: log_types?,
        tags: tags?,
        reports: reports?,
        description: optional_text(reader, "Description"),
        runbook: optional_text(reader, "Runbook"),
        reference: optional_text(reader, "Reference"),
        dedup_period_minutes: dedup_period_minutes?,
        threshold: threshold?,
        summary_attributes: summary_attributes?,
        create_alert: create_alert?,
        source_file: reader.file().name.clone(),
    };
    let text_template = |key: &str| match get(key).map(|n| n.value) {
        Some(Value::String(text)) => text_template(text, &resolver),
        _ => None,
    };
    let texts = TextTemplates {
        description: text_template("Description"),
        runbook: text_template("Runbook"),
        reference: text_template("Reference"),
    };
    Some(RuleIr {
        meta,
        condition,
        texts,
        title: match title {
            Some(parsed) => Some(parsed?),
            None => None,
        },
        dedup: match dedup {
            Some(parsed) => Some(parsed?),
            None => None,
        },
        unique: match unique {
            Some(parsed) => Some(parsed?),
            None => None,
        },
        alert_context: alert_context?,
        dynamic_severities: dynamic_severities?,
        tests: tests?,
        data_models,
    })
}

pub(crate) fn parse_severity(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    allow_default: bool,
) -> Option<Option<Severity>> {
    let text = reader.string(node, "`Severity`")?;
    if allow_default && text == "DEFAULT" {
        return Some(None);
    }
    match Severity::parse(&text) {
        Some(s) => Some(Some(s)),
        None => {
            let names = Severity::ALL.map(Severity::as_str);
            let help = match did_you_mean(&text, names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("use one of {}", names.join(", ")),
            };
            reader.error(&node.path, format!("unknown severity `{text}`"), Some(help));
            None
        }
    }
}

fn parse_reports(reader: &mut Reader<'_>, node: &YNode<'_>) -> Option<Vec<(String, Vec<String>)>> {
    let members = reader.mapping(node, "`Reports`")?;
    let mut out = Vec::new();
    for (framework, list) in members {
        let entries = reader.unique_strings(&list, &format!("`Reports.{framework}`"), false)?;
        out.push((framework.to_owned(), entries));
    }
    Some(out)
}

fn parse_dynamic_severities(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
    predicates: &PredicateSet,
) -> Option<Vec<SeverityRule>> {
    let mut out = Vec::new();
    let mut predicates = predicates;
    for item in reader.sequence(node, "`DynamicSeverities`")? {
        let entry = reader.mapping(&item, "a dynamic severity")?;
        reader.unknown_keys(
            &item,
            &entry,
            &["ChangeTo", "Conditions"],
            "a dynamic severity",
        );
        let find = |key: &str| member(&entry, key);
        let (Some(change_to), Some(conditions)) = (find("ChangeTo"), find("Conditions")) else {
            reader.error(
                &item.path,
                "a dynamic severity needs `ChangeTo` and `Conditions`",
                None,
            );
            return None;
        };
        let change_to = parse_severity(reader, &change_to, true)?;
        let condition = Expr::All(parse_expr_list(
            reader,
            &conditions,
            scope,
            &mut predicates,
            "`Conditions`",
        )?);
        out.push(SeverityRule {
            change_to,
            condition,
        });
    }
    Some(out)
}

/// Resolves template names: the rule's definitions, then data-model fields,
/// else raw keys.
struct FieldResolver<'r> {
    udm_names: &'r BTreeSet<String>,
    test_keys: &'r BTreeSet<String>,
    definitions: &'r [(String, ValueExpr)],
}

impl FieldResolver<'_> {
    fn resolve(&self, path: Vec<Seg>) -> Result<FieldRef, String> {
        if let [Seg::Key(name)] = path.as_slice() {
            if let Some((_, value)) = self.definitions.iter().find(|(n, _)| n == name) {
                return Ok(FieldRef::Computed(Box::new(value.clone())));
            }
        }
        if let Some(Seg::Key(first)) = path.first() {
            if self.udm_names.contains(first) {
                return Ok(FieldRef::Udm {
                    name: first.clone(),
                    rest: path[1..].to_vec(),
                });
            }
            if !self.test_keys.contains(first) && !first.starts_with("p_") {
                if let Some(near) = did_you_mean(first, self.udm_names.iter().map(String::as_str)) {
                    return Err(format!("unknown field `{first}`: no data model of this rule defines it and no test event has it; did you mean `{near}`?"));
                }
            }
        }
        Ok(FieldRef::Event(path))
    }
}

fn parse_output_template(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    what: &str,
    resolver: &FieldResolver<'_>,
) -> Option<Template> {
    let text = reader.string(node, what)?;
    let raw = match parse_template(&text) {
        Ok(raw) => raw,
        Err(problem) => {
            reader.error(
                &node.path,
                format!("invalid template in {what}: {problem}"),
                Some("write fields as `{field}` or `{field or \"default\"}`".to_owned()),
            );
            return None;
        }
    };
    let mut parts = Vec::with_capacity(raw.len());
    for part in raw {
        match part {
            RawPart::Text(text) => parts.push(TemplatePart::Text(text)),
            RawPart::Field(field) => match resolver.resolve(field.path) {
                Ok(resolved) => parts.push(TemplatePart::Field {
                    field: resolved,
                    fallback: field.fallback,
                }),
                Err(problem) => {
                    reader.error(&node.path, format!("{what}: {problem}"), None);
                    return None;
                }
            },
        }
    }
    Some(Template { parts })
}

/// `Description`, `Runbook` or `Reference` as a template (ours), when it
/// substitutes at least one field: a `{name...}` whose first name is a
/// data-model field, a `p_` field or a key of a test event. Other braces
/// (a GUID, a regex quantifier `{5,12}`) stay as written, and a text whose
/// braces do not parse as a template is plain text.
fn text_template(text: &str, resolver: &FieldResolver<'_>) -> Option<Template> {
    let raw = parse_template(text).ok()?;
    let mut parts = Vec::with_capacity(raw.len());
    let mut substitutes = false;
    for part in raw {
        match part {
            RawPart::Text(text) => parts.push(TemplatePart::Text(text)),
            RawPart::Field(field) => {
                let known = match field.path.first() {
                    Some(Seg::Key(first)) => {
                        resolver.udm_names.contains(first)
                            || resolver.definitions.iter().any(|(n, _)| n == first)
                            || resolver.test_keys.contains(first)
                            || first.starts_with("p_")
                    }
                    _ => false,
                };
                match resolver.resolve(field.path.clone()) {
                    Ok(resolved) if known => {
                        substitutes = true;
                        parts.push(TemplatePart::Field {
                            field: resolved,
                            fallback: field.fallback,
                        });
                    }
                    _ => parts.push(TemplatePart::Text(format!(
                        "{{{}}}",
                        crate::keypath::display_path(&field.path)
                    ))),
                }
            }
        }
    }
    substitutes.then_some(Template { parts })
}

/// `GroupBy`: the dedup string made of the values of these keys, each as
/// Python's `str()` prints it (`None` when missing), joined by `:` (ours:
/// Panther does not document the separator).
fn parse_group_by(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<Template> {
    let mut parts = Vec::new();
    let items = reader.sequence(node, "`GroupBy`")?;
    if items.is_empty() {
        reader.error(
            &node.path,
            "`GroupBy` is empty",
            Some(
                "list the key specifiers the alerts are grouped by, or remove `GroupBy`".to_owned(),
            ),
        );
        return None;
    }
    for (i, item) in items.iter().enumerate() {
        let entry = reader.mapping(item, "a `GroupBy` key")?;
        reader.unknown_keys(
            item,
            &entry,
            &["Key", "DeepKey", "KeyPath", "DataModel"],
            "a `GroupBy` key",
        );
        let [(kind, spec)] = entry.as_slice() else {
            reader.error(
                &item.path,
                "a `GroupBy` entry needs exactly one of `Key`, `DeepKey`, `KeyPath` or `DataModel`",
                None,
            );
            return None;
        };
        let field = parse_field_spec(reader, item, kind, spec, scope)?;
        if i > 0 {
            parts.push(TemplatePart::Text(":".to_owned()));
        }
        parts.push(TemplatePart::Field {
            field,
            fallback: crate::ir::Fallback::None,
        });
    }
    Some(Template { parts })
}

/// Panther's rule for inline filters: a condition on a field the event does
/// not have passes. Each condition `c` on a field `f` becomes
/// `not exists(f) or c`; combinators are kept.
fn absent_passes(expr: Expr) -> Expr {
    let guard = |field: &FieldRef, expr: Expr| {
        Expr::Any(vec![
            Expr::Not(Box::new(Expr::Test {
                field: field.clone(),
                test: crate::ir::Test::Exists,
            })),
            expr,
        ])
    };
    match expr {
        Expr::Test { ref field, .. } => {
            let field = field.clone();
            guard(&field, expr)
        }
        Expr::Not(inner) => match *inner {
            Expr::Test { ref field, .. } => {
                let field = field.clone();
                guard(&field, Expr::Not(inner))
            }
            other => Expr::Not(Box::new(absent_passes(other))),
        },
        Expr::All(items) => Expr::All(items.into_iter().map(absent_passes).collect()),
        Expr::Any(items) => Expr::Any(items.into_iter().map(absent_passes).collect()),
        Expr::OnlyOne(items) => Expr::OnlyOne(items.into_iter().map(absent_passes).collect()),
        Expr::NoneOf(items) => Expr::NoneOf(items.into_iter().map(absent_passes).collect()),
        other => other,
    }
}

fn parse_alert_context(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<Vec<(String, ContextValue)>> {
    let mut out: Vec<(String, ContextValue)> = Vec::new();
    for item in reader.sequence(node, "`AlertContext`")? {
        let entry = reader.mapping(&item, "an alert-context entry")?;
        reader.unknown_keys(
            &item,
            &entry,
            &["KeyName", "KeyValue", "Default"],
            "an alert-context entry",
        );
        let find = |key: &str| member(&entry, key);
        let (Some(name_node), Some(value_node)) = (find("KeyName"), find("KeyValue")) else {
            reader.error(
                &item.path,
                "an alert-context entry needs `KeyName` and `KeyValue`",
                None,
            );
            return None;
        };
        let name = reader.scalar_text(&name_node, "`KeyName`")?;
        if out.iter().any(|(n, _)| *n == name) {
            reader.error(
                &name_node.path,
                format!("duplicate alert-context key `{name}`"),
                None,
            );
            return None;
        }
        let json =
            |reader: &mut Reader<'_>, node: &YNode<'_>, what: &str| match serde_json::to_value(
                node.value,
            ) {
                Ok(value) => Some(value),
                Err(e) => {
                    reader.error(
                        &node.path,
                        format!("{what} cannot be read as JSON: {e}"),
                        None,
                    );
                    None
                }
            };
        let default = match find("Default") {
            Some(n) => Some(json(reader, &n, "`Default`")?),
            None => None,
        };
        let spec = reader.mapping(&value_node, "`KeyValue`")?;
        reader.unknown_keys(
            &value_node,
            &spec,
            &[
                "Key",
                "DeepKey",
                "KeyPath",
                "DataModel",
                "Computed",
                "Value",
            ],
            "`KeyValue`",
        );
        let [(kind, spec_node)] = spec.as_slice() else {
            reader.error(
                &value_node.path,
                "`KeyValue` needs exactly one of `Key`, `DeepKey`, `KeyPath`, `DataModel` or `Value`",
                None,
            );
            return None;
        };
        let value = if *kind == "Value" {
            if default.is_some() {
                reader.error(
                    &item.path,
                    "a constant `KeyValue` takes no `Default`",
                    Some("remove `Default`".to_owned()),
                );
                return None;
            }
            ContextValue::Const(json(reader, spec_node, "the constant")?)
        } else {
            ContextValue::Field {
                field: parse_field_spec(reader, &value_node, kind, spec_node, scope)?,
                default,
            }
        };
        out.push((name, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predicate::PredicateSet;

    fn compile(text: &str) -> RuleIr {
        let library = Library {
            data_models: &[],
            predicates: &PredicateSet::default(),
        };
        let file = SourceFile {
            name: "t.yml".to_owned(),
            text: text.to_owned(),
        };
        let (rule, diagnostics) = parse_rule(&file, &library);
        match rule {
            Some(rule) => rule,
            None => panic!("{}", crate::diag::Diagnostics(diagnostics)),
        }
    }

    const RULE: &str = r#"
AnalysisType: rule
RuleID: T.Texts
Enabled: true
LogTypes: [Custom.Log]
Severity: Low
Description: "Seen {user} on {p_source_label}; CLSID {0AFACED1-E828} stays"
Runbook: "Quantifiers like {5,12} stay as written: {user}"
Reference: https://example.com/{user}
Detection:
  - Condition: AlwaysTrue
Tests:
  - Name: t
    ExpectedResult: true
    Log: {user: alice, p_source_label: prod}
"#;

    #[test]
    fn plain_texts_are_not_templates() {
        let rule = compile(
            &RULE
                .replace("{user}", "user")
                .replace("{p_source_label}", "x"),
        );
        assert!(!rule.texts.any());
    }

    #[test]
    fn texts_substitute_known_fields_only() {
        let rule = compile(RULE);
        assert!(rule.texts.description.is_some());
        assert!(rule.texts.runbook.is_some());
        let event = serde_json::json!({"user": "alice", "p_source_label": "prod"});
        let texts = crate::interp::texts(&rule, "Custom.Log", &event).unwrap_or_default();
        assert_eq!(
            texts.description.as_deref(),
            Some("Seen alice on prod; CLSID {0AFACED1-E828} stays")
        );
        assert_eq!(
            texts.runbook.as_deref(),
            Some("Quantifiers like {5,12} stay as written: alice")
        );
        assert_eq!(
            texts.reference.as_deref(),
            Some("https://example.com/alice")
        );
    }
}
