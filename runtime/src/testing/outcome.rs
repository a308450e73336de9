//! Judges one event test with panther_analysis_tool's rules, and rulec's
//! value assertions.
//!
//! An `ExpectedResult: true` case passes when the rule matched and every output
//! (title, dedup, severity, alert context) evaluated without error; a `false`
//! case passes when the rule did not match (output errors are ignored); a rule
//! that raises fails either way. Value assertions apply to `true` cases.

use crate::rule::{truncate_output, AlertContext, CompiledRule, Severity};
use crate::testing::case::{EventTest, ValueExpectations};
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
    pub alert_context: Result<AlertContext, RuleError>,
    /// `Description`, `Runbook`, `Reference`.
    pub texts: Result<crate::rule::AlertTexts, RuleError>,
}

impl CaseOutcome {
    /// Evaluates every output of `rule` on `event`, as PAT does in tests.
    pub fn evaluate(rule: &CompiledRule, log_type: &str, event: &serde_json::Value) -> Self {
        let title = (rule.title)(log_type, event).map(truncate_output);
        let dedup = crate::rule::resolve_dedup(
            rule.meta,
            (rule.dedup)(log_type, event),
            title.as_deref().unwrap_or(""),
        );
        CaseOutcome {
            matched: (rule.matches)(log_type, event),
            title,
            dedup,
            severity: (rule.severity)(log_type, event),
            alert_context: (rule.alert_context)(log_type, event),
            texts: (rule.texts)(log_type, event),
        }
    }

    /// The first output function that raised, by Panther's name for it.
    pub fn output_error(&self) -> Option<(&'static str, &RuleError)> {
        [
            ("title", self.title.as_ref().err()),
            ("dedup", self.dedup.as_ref().err()),
            ("severity", self.severity.as_ref().err()),
            ("alertContext", self.alert_context.as_ref().err()),
            ("description/runbook/reference", self.texts.as_ref().err()),
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

    /// Why the case fails with this expectation, one reason per line; empty
    /// when it passes.
    pub fn failures(&self, test: &EventTest) -> Vec<String> {
        let mut out = Vec::new();
        match &self.matched {
            Err(e) => out.push(format!("the rule raised an error: {e}")),
            Ok(m) if *m != test.expected => {
                out.push(format!("expected {}, got {m}", test.expected));
            }
            Ok(_) if test.expected => {
                if let Some((function, e)) = self.output_error() {
                    out.push(format!("the rule matched but `{function}` raised: {e}"));
                }
                out.extend(self.value_failures(&test.expect));
            }
            Ok(_) => {}
        }
        out
    }

    /// Which value assertions the outputs miss.
    pub fn value_failures(&self, expect: &ValueExpectations) -> Vec<String> {
        let mut out = Vec::new();
        let mut compare = |name: &str, expected: Option<&str>, actual: Result<&str, &RuleError>| {
            if let (Some(expected), Ok(actual)) = (expected, actual) {
                if expected != actual {
                    out.push(format!("{name}: expected {expected:?}, got {actual:?}"));
                }
            }
        };
        compare("ExpectedTitle", expect.title, self.title.as_deref());
        compare("ExpectedDedup", expect.dedup, self.dedup.as_deref());
        compare(
            "ExpectedSeverity",
            expect.severity.map(Severity::as_str),
            self.severity.as_ref().map(|s| s.as_str()),
        );
        if let (Some(expected), Ok(actual)) = (expect.alert_context, &self.alert_context) {
            out.extend(context_failures(expected, actual));
        }
        out
    }
}

/// Compares an `ExpectedAlertContext` (a JSON object, as text) with the alert
/// context: every key it gives must be present with an equal value.
fn context_failures(expected_json: &str, actual: &AlertContext) -> Vec<String> {
    let expected: serde_json::Map<String, serde_json::Value> =
        match serde_json::from_str(expected_json) {
            Ok(map) => map,
            Err(e) => return vec![format!("ExpectedAlertContext is not a JSON object: {e}")],
        };
    expected
        .iter()
        .filter_map(|(key, want)| match actual.get(key) {
            None => Some(format!(
                "ExpectedAlertContext: key `{key}` is missing from the alert context"
            )),
            Some(got) if got != want => Some(format!(
                "ExpectedAlertContext: `{key}` expected {want}, got {got}"
            )),
            Some(_) => None,
        })
        .collect()
}
