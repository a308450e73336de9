//! Runs one entry of a rule's `Tests` block with panther_analysis_tool's rules.
//!
//! An `ExpectedResult: true` case passes when the rule matched and every output
//! (title, dedup, severity, alert context) evaluated without error; a `false`
//! case passes when the rule did not match (output errors are ignored); a rule
//! that raises fails either way.

use std::fmt::Write;

use crate::rule::{truncate_output, CompiledRule, Severity};
use crate::RuleError;

/// What a rule produced for one test event.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    /// The matcher's answer.
    pub matched: Result<bool, RuleError>,
    /// The title.
    pub title: Result<String, RuleError>,
    /// The dedup string (Panther's default when the rule defines none).
    pub dedup: Result<String, RuleError>,
    /// The severity.
    pub severity: Result<Severity, RuleError>,
    /// The alert context.
    pub alert_context: Result<serde_json::Map<String, serde_json::Value>, RuleError>,
}

impl CaseOutcome {
    /// Evaluates every output of `rule` on `event`, as PAT does in tests.
    pub fn evaluate(rule: &CompiledRule, log_type: &str, event: &serde_json::Value) -> Self {
        let title = (rule.title)(log_type, event).map(truncate_output);
        let dedup = (rule.dedup)(log_type, event).map(|dedup| {
            if dedup.is_empty() {
                crate::rule::default_dedup(rule.meta.id, title.as_deref().unwrap_or(""))
            } else {
                truncate_output(dedup)
            }
        });
        CaseOutcome {
            matched: (rule.matches)(log_type, event),
            title,
            dedup,
            severity: (rule.severity)(log_type, event),
            alert_context: (rule.alert_context)(log_type, event),
        }
    }

    /// The first output function that raised, by Panther's name for it.
    pub fn output_error(&self) -> Option<(&'static str, &RuleError)> {
        [
            ("title", self.title.as_ref().err()),
            ("dedup", self.dedup.as_ref().err()),
            ("severity", self.severity.as_ref().err()),
            ("alertContext", self.alert_context.as_ref().err()),
        ]
        .into_iter()
        .find_map(|(name, error)| error.map(|e| (name, e)))
    }

    /// Whether the case passes with this expectation.
    pub fn passes(&self, expected: bool) -> bool {
        match self.matched {
            Err(_) => false,
            Ok(matched) if matched != expected => false,
            Ok(_) => !expected || self.output_error().is_none(),
        }
    }

    /// A readable account of the outcome, for failure messages and reports.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let show = |r: Result<String, &RuleError>| match r {
            Ok(v) => v,
            Err(e) => format!("error: {e}"),
        };
        let _ = writeln!(
            out,
            "  matched:      {}",
            show(self.matched.as_ref().map(ToString::to_string))
        );
        let _ = writeln!(
            out,
            "  title:        {}",
            show(self.title.as_ref().cloned())
        );
        let _ = writeln!(
            out,
            "  dedup:        {}",
            show(self.dedup.as_ref().cloned())
        );
        let _ = writeln!(
            out,
            "  severity:     {}",
            show(self.severity.as_ref().map(ToString::to_string))
        );
        let context = self
            .alert_context
            .as_ref()
            .map(|c| serde_json::Value::Object(c.clone()).to_string());
        let _ = writeln!(out, "  alertContext: {}", show(context));
        out
    }
}

/// Runs one test case and panics with a readable message when it fails.
/// Used by the `#[test]` functions the rule macro generates.
pub fn run_case(rule: &CompiledRule, name: &str, expected: bool, log_type: &str, log_json: &str) {
    let event: serde_json::Value = match serde_json::from_str(log_json) {
        Ok(event) => event,
        Err(error) => panic!(
            "test `{name}` of {}: the test log is not JSON: {error}",
            rule.meta.id
        ),
    };
    let outcome = CaseOutcome::evaluate(rule, log_type, &event);
    if !outcome.passes(expected) {
        let reason = match (&outcome.matched, outcome.output_error()) {
            (Err(e), _) => format!("the rule raised an error: {e}"),
            (Ok(m), _) if *m != expected => format!("expected {expected}, got {m}"),
            (_, Some((function, e))) => format!("the rule matched but `{function}` raised: {e}"),
            _ => "failed".to_owned(),
        };
        panic!(
            "[FAIL] {name} ({} in {}): {reason}\n  expected:     {expected}\n{}",
            rule.meta.id,
            rule.meta.source_file,
            outcome.describe()
        );
    }
}
