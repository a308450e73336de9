//! rulec's rule set as a library: every rule under `rules/`, compiled to
//! Rust, ready to evaluate events and to run Panther's alerting over a stream.
//!
//! ```
//! use rulec::serde_json::json;
//!
//! let detector = rulec::detector();
//! let event = json!({
//!     "p_log_type": "Amazon.EKS.Audit",
//!     "verb": "get",
//!     "user": {"username": "mallory@example.com"},
//!     "objectRef": {"resource": "secrets", "namespace": "prod", "name": "db-password"},
//!     "responseStatus": {"code": 403},
//! });
//! let evaluation = detector.evaluate(&event).expect("the event names its log type");
//! assert_eq!(evaluation.matches.len(), 1);
//! let m = &evaluation.matches[0];
//! assert_eq!(m.rule.meta.id, "Kubernetes.Secret.AccessDenied");
//! assert_eq!(m.detection.dedup, "k8s_secret_denied_mallory@example.com_prod");
//! ```
//!
//! Over a stream, [`AlertStream`] groups matches into alerts with the
//! rules' `Threshold` and `DedupPeriodMinutes`, on event time:
//!
//! ```
//! # use rulec::serde_json::json;
//! let mut stream = rulec::AlertStream::new(rulec::detector());
//! let mut alerts = Vec::new();
//! # let events: Vec<rulec::serde_json::Value> = Vec::new();
//! for event in &events {
//!     stream.push(event, &mut |alert| alerts.push(alert)).ok();
//! }
//! stream.finish(&mut |alert| alerts.push(alert));
//! ```

#![warn(missing_docs)]

pub mod json_line;
pub mod ndjson;

pub use rulec_runtime::alerting::{Alert, AlertEngine};
pub use rulec_runtime::engine::{
    log_type_of, parse_event, AlertStream, Detector, Evaluation, EventError, LineEvaluation, Match,
};
pub use rulec_runtime::filter::{FilterError, RuleFilter};
pub use rulec_runtime::projection::{Parsed, Projected, Projection};
pub use rulec_runtime::{
    serde_json, AlertContext, CompiledRule, Detection, RuleMeta, Severity, Timestamp,
};

/// Every compiled rule, enabled or not, in file order.
pub fn rules() -> &'static [&'static CompiledRule] {
    rulec_rules::RULES
}

/// The rule with this RuleID.
pub fn rule(rule_id: &str) -> Option<&'static CompiledRule> {
    rules().iter().copied().find(|r| r.meta.id == rule_id)
}

/// A detector over every enabled rule.
pub fn detector() -> Detector {
    Detector::new(rules().iter().copied().filter(|r| r.meta.enabled))
}

/// Why a rule selection is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionError {
    /// A `--rule` names no rule.
    UnknownRule(String),
    /// A filter does not parse.
    Filter(FilterError),
}

impl std::fmt::Display for SelectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectionError::UnknownRule(id) => {
                let known: Vec<&str> = rules().iter().map(|r| r.meta.id).collect();
                write!(
                    f,
                    "no rule has RuleID `{id}`; the rules are {}",
                    known.join(", ")
                )
            }
            SelectionError::Filter(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SelectionError {}

/// Whether [`select_from`] starts from every rule or from the enabled ones,
/// when no RuleID is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disabled {
    /// Disabled rules do not run unless named (Panther's behaviour).
    Skipped,
    /// Every rule runs, disabled ones too (`detect --include-disabled`).
    Included,
}

/// Selects rules: the ones named in `rule_ids` (all enabled rules when it is
/// empty; a named rule runs even when disabled), then those passing every
/// `KEY=V1,V2` / `KEY!=V` filter.
pub fn select(
    rule_ids: &[String],
    filters: &[String],
) -> Result<Vec<&'static CompiledRule>, SelectionError> {
    select_from(rule_ids, filters, Disabled::Skipped)
}

/// [`select`], with disabled rules among those it starts from when `disabled`
/// is [`Disabled::Included`] and no RuleID is named.
pub fn select_from(
    rule_ids: &[String],
    filters: &[String],
    disabled: Disabled,
) -> Result<Vec<&'static CompiledRule>, SelectionError> {
    let filters = filters
        .iter()
        .map(|f| RuleFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(SelectionError::Filter)?;
    let chosen: Vec<&'static CompiledRule> = if rule_ids.is_empty() {
        rules()
            .iter()
            .copied()
            .filter(|r| r.meta.enabled || disabled == Disabled::Included)
            .collect()
    } else {
        rule_ids
            .iter()
            .map(|id| rule(id).ok_or_else(|| SelectionError::UnknownRule(id.clone())))
            .collect::<Result<_, _>>()?
    };
    Ok(chosen
        .into_iter()
        .filter(|r| rulec_runtime::filter::matches_all(&filters, r.meta))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection() {
        let all = select(&[], &[]).unwrap_or_default();
        assert!(all
            .iter()
            .any(|r| r.meta.id == "Kubernetes.Secret.AccessDenied"));
        let none = select(&[], &["Severity=Critical".to_owned()]).unwrap_or_default();
        assert!(none.iter().all(|r| r.meta.severity == Severity::Critical));
        assert_eq!(
            select(&["No.Such.Rule".to_owned()], &[]).map(|r| r.len()),
            Err(SelectionError::UnknownRule("No.Such.Rule".to_owned()))
        );
        assert!(select(&[], &["Bogus=1".to_owned()]).is_err());
        let every = select_from(&[], &[], Disabled::Included).unwrap_or_default();
        assert_eq!(every.len(), rules().len());
        assert!(every.len() > all.len(), "the pack has disabled rules");
        let disabled_only = ["Enabled=false".to_owned()];
        let disabled = select_from(&[], &disabled_only, Disabled::Included).unwrap_or_default();
        assert_eq!(disabled.len(), every.len() - all.len());
        assert!(disabled.iter().all(|r| !r.meta.enabled));
    }
}
