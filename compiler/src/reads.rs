//! The key paths a rule reads: what the fast path must keep of each event.
//!
//! The match logic (`InlineFilters`, `Detection`, `Condition`) is read from
//! every event; the outputs (title, dedup string, `Unique`, dynamic
//! severities, templated texts, alert context, and the event time) only
//! from the events that match, in a second, narrower parse. A path lists
//! object keys from the event's root; list steps are left out (the fast
//! path keeps every element of a list it passes through), and the value at
//! the end of a path is kept whole. A transform that reads relative to
//! list elements (`Each`'s `Where`/`To`, `After`'s `Where`, a list
//! comprehension's `Expressions`) reads inside its list, which is kept whole
//! already.

use std::collections::BTreeSet;

use crate::ir::{
    ContextValue, DataModelIr, Expr, FieldRef, RuleIr, Seg, Template, TemplatePart, ValueExpr,
};

/// The key paths `rule`'s matcher reads, for every log type it handles,
/// sorted and without repeats. An empty path means the whole event.
pub fn read_paths(rule: &RuleIr) -> Vec<Vec<String>> {
    outermost(collect(rule).paths)
}

/// The key paths `rule`'s matcher reads inside the JSON documents its data
/// models decode from a field (AKS's `properties.log`), from each
/// document's root, as [`read_paths`] gives them. Empty when it decodes none.
pub fn document_read_paths(rule: &RuleIr) -> Vec<Vec<String>> {
    outermost(collect(rule).documents)
}

/// The key paths `rule`'s outputs read, for every log type it handles, as
/// [`read_paths`] gives them: its title, dedup string, `Unique`, dynamic
/// severities, templated texts and alert context, and the event time
/// (`p_event_time` and each data model's `EventTime`).
pub fn output_read_paths(rule: &RuleIr) -> Vec<Vec<String>> {
    outermost(collect_outputs(rule).paths)
}

/// The key paths `rule`'s outputs read inside decoded documents, as
/// [`document_read_paths`] gives them.
pub fn output_document_read_paths(rule: &RuleIr) -> Vec<Vec<String>> {
    outermost(collect_outputs(rule).documents)
}

fn collect(rule: &RuleIr) -> Reads {
    let mut reads = Reads::default();
    with_scope(rule, |scope| reads.expr(&rule.condition, scope, None));
    reads
}

fn collect_outputs(rule: &RuleIr) -> Reads {
    let mut reads = Reads::default();
    with_scope(rule, |scope| {
        let templates = [
            &rule.title,
            &rule.dedup,
            &rule.texts.description,
            &rule.texts.runbook,
            &rule.texts.reference,
        ];
        for template in templates.into_iter().flatten() {
            reads.template(template, scope);
        }
        if let Some(unique) = &rule.unique {
            reads.value(unique, scope, None);
        }
        for entry in &rule.dynamic_severities {
            reads.expr(&entry.condition, scope, None);
        }
        for (_, value) in &rule.alert_context {
            if let ContextValue::Field { field, .. } = value {
                reads.field(field, scope, None);
            }
        }
    });
    reads.add([rulec_runtime::event_time::P_EVENT_TIME.to_owned()]);
    for model in &rule.data_models {
        if let Some(path) = &model.event_time {
            reads.add(path.iter().cloned());
        }
    }
    reads
}

/// Runs `read` in the scope of `rule`'s data models.
fn with_scope(rule: &RuleIr, read: impl FnOnce(&Scope<'_>)) {
    let unmodelled = rule
        .meta
        .log_types
        .iter()
        .any(|log_type| rule.data_model(log_type).is_none());
    let models: Vec<&DataModelIr> = rule.data_models.iter().collect();
    read(&Scope {
        models: &models,
        unmodelled,
    });
}

/// The paths no other path is a prefix of: a path that another path's
/// prefix keeps whole adds nothing.
fn outermost(paths: BTreeSet<Vec<String>>) -> Vec<Vec<String>> {
    let all: Vec<Vec<String>> = paths.into_iter().collect();
    all.iter()
        .filter(|path| {
            !all.iter()
                .any(|other| other.len() < path.len() && path.starts_with(other))
        })
        .cloned()
        .collect()
}

/// Where reads resolve: the data models of the rule's log types.
struct Scope<'m> {
    models: &'m [&'m DataModelIr],
    /// Some log type of the rule has no data model (Panther's `udm()`
    /// fallback then reads `p_udm.<name>` and the raw key).
    unmodelled: bool,
}

#[derive(Default)]
struct Reads {
    paths: BTreeSet<Vec<String>>,
    /// Paths inside decoded documents.
    documents: BTreeSet<Vec<String>>,
}

impl Reads {
    fn add(&mut self, keys: impl IntoIterator<Item = String>) {
        self.paths.insert(keys.into_iter().collect());
    }

    fn template(&mut self, template: &Template, scope: &Scope<'_>) {
        for part in &template.parts {
            if let TemplatePart::Field { field, .. } = part {
                self.field(field, scope, None);
            }
        }
    }

    fn expr(&mut self, expr: &Expr, scope: &Scope<'_>, model: Option<&DataModelIr>) {
        match expr {
            Expr::Const(_) => {}
            Expr::All(items) | Expr::Any(items) | Expr::OnlyOne(items) | Expr::NoneOf(items) => {
                for item in items {
                    self.expr(item, scope, model);
                }
            }
            Expr::Not(inner) => self.expr(inner, scope, model),
            Expr::Pair { left, right, .. } => {
                self.field(left, scope, model);
                self.field(right, scope, model);
            }
            // The body reads each element of the list, kept whole.
            Expr::Each { list, .. } => self.field(list, scope, model),
            Expr::Test { field, .. } => self.field(field, scope, model),
            Expr::Guarded { requires, body, .. } => {
                self.expr(requires, scope, model);
                self.expr(body, scope, model);
            }
        }
    }

    fn field(&mut self, field: &FieldRef, scope: &Scope<'_>, model: Option<&DataModelIr>) {
        match field {
            FieldRef::Event(path) => self.add(keys(path)),
            FieldRef::Computed(value) => self.value(value, scope, model),
            FieldRef::Udm { name, .. } => {
                let mut unmapped = scope.unmodelled;
                for model in scope.models {
                    match model.mapping(name) {
                        Some(mapping) => self.value(mapping, scope, Some(model)),
                        None => unmapped = true,
                    }
                }
                if unmapped {
                    self.add(["p_udm".to_owned(), name.clone()]);
                    self.add([name.clone()]);
                }
            }
        }
    }

    /// Reads of a value transform; `model` is the data model it belongs to
    /// (for its documents), `None` in a rule.
    fn value(&mut self, value: &ValueExpr, scope: &Scope<'_>, model: Option<&DataModelIr>) {
        match value {
            ValueExpr::Missing | ValueExpr::Literal(_) | ValueExpr::Const(_) => {}
            ValueExpr::Field(field) => self.field(field, scope, model),
            ValueExpr::Lower(of)
            | ValueExpr::UrlDecode(of)
            | ValueExpr::Keys(of)
            | ValueExpr::Distinct(of)
            | ValueExpr::Sort(of)
            | ValueExpr::Flatten(of)
            | ValueExpr::Text(of)
            | ValueExpr::ListOfTruthy(of)
            | ValueExpr::UrlQuery(of)
            | ValueExpr::QueryParams(of)
            | ValueExpr::Join { of, .. }
            | ValueExpr::SplitPart { of, .. }
            | ValueExpr::AfterLast { of, .. }
            | ValueExpr::SplitPairs { of, .. }
            | ValueExpr::Element { of, .. }
            | ValueExpr::DictGet { of, .. } => self.value(of, scope, model),
            // `Where` and `To` read inside the list's elements.
            ValueExpr::Each { list, .. } | ValueExpr::After { list, .. } => {
                self.value(list, scope, model)
            }
            ValueExpr::Object(entries) => {
                for (_, entry) in entries {
                    self.value(entry, scope, model);
                }
            }
            ValueExpr::Concat(items)
            | ValueExpr::FirstTruthy(items)
            | ValueExpr::FirstPresent(items) => {
                for item in items {
                    self.value(item, scope, model);
                }
            }
            ValueExpr::If {
                condition,
                then,
                otherwise,
            } => {
                self.expr(condition, scope, model);
                self.value(then, scope, model);
                self.value(otherwise, scope, model);
            }
            ValueExpr::EventPath { keys, .. } | ValueExpr::DeepWalk(keys) => {
                self.add(keys.iter().cloned())
            }
            ValueExpr::DocPath { doc, .. } | ValueExpr::DocGet { doc, .. } => {
                match value {
                    ValueExpr::DocPath { keys, .. } => {
                        self.documents.insert(keys.clone());
                    }
                    ValueExpr::DocGet { key, .. } => {
                        self.documents.insert(vec![key.clone()]);
                    }
                    _ => {}
                }
                // A document is decoded from a field of the event: keep that field.
                let Some(document) = model.and_then(|m| m.document(doc)) else {
                    // Unknown here: keep the whole event rather than miss a read.
                    self.add([]);
                    return;
                };
                self.value(&document.source, scope, model);
                if let Some(when) = &document.when {
                    self.expr(when, scope, model);
                }
            }
        }
    }
}

/// The object keys of a path (list steps left out).
fn keys(path: &[Seg]) -> Vec<String> {
    path.iter()
        .filter_map(|seg| match seg {
            Seg::Key(key) => Some(key.clone()),
            Seg::Index(_) | Seg::Each => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{compile_rule, compile_shared, discover_rule_files, Layout};

    const RULES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");

    fn reads_of(file_suffix: &str) -> Vec<Vec<String>> {
        read_paths(&rule_of(file_suffix))
    }

    fn document_reads_of(file_suffix: &str) -> Vec<Vec<String>> {
        document_read_paths(&rule_of(file_suffix))
    }

    fn rule_of(file_suffix: &str) -> RuleIr {
        let layout = Layout::standard(RULES_DIR);
        let shared = compile_shared(&layout);
        let file = discover_rule_files(&layout)
            .into_iter()
            .find(|f| f.ends_with(file_suffix))
            .unwrap_or_else(|| panic!("no rule file {file_suffix}"));
        let compiled = compile_rule(&layout, &shared, &file);
        compiled
            .rule
            .unwrap_or_else(|| panic!("{file}: {}", compiled.diagnostics))
    }

    fn strings(paths: &[&[&str]]) -> Vec<Vec<String>> {
        paths
            .iter()
            .map(|p| p.iter().map(|k| (*k).to_owned()).collect())
            .collect()
    }

    #[test]
    fn the_seed_reads_its_data_model_paths_and_the_aks_log() {
        let reads = reads_of("k8s_secret_access_denied.yml");
        // EKS paths, GKE's protoPayload fields, AKS's embedded log string.
        for expected in strings(&[
            &["verb"],
            &["objectRef", "resource"],
            &["responseStatus"],
            &["properties", "log"],
            &["protoPayload", "methodName"],
        ]) {
            assert!(reads.contains(&expected), "{expected:?} not in {reads:?}");
        }
        // Inside AKS's decoded audit log: the same fields, from its root.
        let documents = document_reads_of("k8s_secret_access_denied.yml");
        for expected in strings(&[&["verb"], &["objectRef", "resource"], &["responseStatus"]]) {
            assert!(
                documents.contains(&expected),
                "{expected:?} not in {documents:?}"
            );
        }
        assert!(!documents.contains(&strings(&[&["properties", "log"]])[0]));
        // Outputs are not match logic.
        assert!(!reads.contains(&strings(&[&["sourceIPs"]])[0]), "{reads:?}");
        // No path below another kept whole.
        for path in &reads {
            assert!(!reads
                .iter()
                .any(|other| other.len() < path.len() && path.starts_with(other)));
        }
    }

    #[test]
    fn the_seeds_outputs_read_their_fields_and_the_event_time() {
        let rule = rule_of("k8s_secret_access_denied.yml");
        let reads = output_read_paths(&rule);
        // The alert context and title (EKS paths, GKE's protoPayload), the
        // cluster label, the event time, and the AKS log holding the rest.
        for expected in strings(&[
            &["user", "username"],
            &["sourceIPs"],
            &["objectRef", "name"],
            &["p_source_label"],
            &["p_event_time"],
            &["protoPayload", "authenticationInfo"],
            &["requestReceivedTimestamp"],
            &["properties", "log"],
        ]) {
            assert!(reads.contains(&expected), "{expected:?} not in {reads:?}");
        }
        let documents = output_document_read_paths(&rule);
        for expected in strings(&[
            &["user", "username"],
            &["userAgent"],
            &["objectRef", "name"],
        ]) {
            assert!(
                documents.contains(&expected),
                "{expected:?} not in {documents:?}"
            );
        }
        // Only what the outputs read: not the whole event.
        assert!(!reads.contains(&Vec::new()), "{reads:?}");
        assert!(
            !reads.contains(&strings(&[&["requestObject"]])[0]),
            "{reads:?}"
        );
    }
}
