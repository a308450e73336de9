//! A compiled rule as other programs see it: metadata, matcher and outputs.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

pub use crate::alert_context::AlertContext;
use crate::error::RuleError;
use crate::event_time::Timestamp;
use crate::testing::TestCase;

/// Panther's severities, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// `Info`.
    Info,
    /// `Low`.
    Low,
    /// `Medium`.
    Medium,
    /// `High`.
    High,
    /// `Critical`.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The name as Panther writes it (`Medium`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// Parses Panther's spelling (`Medium`); also accepts upper case (`MEDIUM`).
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| {
            s.as_str() == text
                || s.as_str().eq_ignore_ascii_case(text)
                    && text.chars().all(|c| c.is_ascii_uppercase())
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a rule file says about a rule, besides its logic.
#[derive(Debug, Clone, Serialize)]
pub struct RuleMeta {
    /// `RuleID`.
    pub id: &'static str,
    /// `DisplayName`.
    pub display_name: Option<&'static str>,
    /// `Enabled`.
    pub enabled: bool,
    /// `Status` (free text).
    pub status: Option<&'static str>,
    /// `Severity`: the base severity.
    pub severity: Severity,
    /// `LogTypes`.
    pub log_types: &'static [&'static str],
    /// `Tags`.
    pub tags: &'static [&'static str],
    /// `Reports`: framework to entries, in file order.
    pub reports: &'static [(&'static str, &'static [&'static str])],
    /// `Description`.
    pub description: Option<&'static str>,
    /// `Runbook`.
    pub runbook: Option<&'static str>,
    /// `Reference`.
    pub reference: Option<&'static str>,
    /// `DedupPeriodMinutes`, after Panther's floor of 5.
    pub dedup_period_minutes: u32,
    /// `Threshold`.
    pub threshold: u32,
    /// `SummaryAttributes`.
    pub summary_attributes: &'static [&'static str],
    /// `CreateAlert`.
    pub create_alert: bool,
    /// Whether the rule defines its dedup string (`AlertDedup`); without
    /// one, Panther dedups on the title.
    pub defines_dedup: bool,
    /// Whether the rule defines `Unique` (ours): then `Threshold` counts the
    /// distinct `Unique` values of a window, not its events.
    pub defines_unique: bool,
    /// The key paths the matcher reads (the fast path keeps these of each
    /// event, each whole; see [`crate::projection`]). An empty path is the
    /// whole event.
    pub reads: &'static [&'static [&'static str]],
    /// The key paths the matcher reads inside the JSON documents its data
    /// models decode from a field (AKS's `properties.log`), from each
    /// document's root: the fast path keeps these of each decoded document.
    pub document_reads: &'static [&'static [&'static str]],
    /// The key paths its outputs read (title, dedup string, `Unique`,
    /// dynamic severities, templated texts, alert context and event time),
    /// as `reads` gives them: the fast path parses a matching event again,
    /// keeping these.
    pub output_reads: &'static [&'static [&'static str]],
    /// The key paths its outputs read inside decoded documents, as
    /// `document_reads` gives them.
    pub output_document_reads: &'static [&'static [&'static str]],
    /// Whether `Description`, `Runbook` or `Reference` substitute event
    /// fields (ours), so they are outputs of each event.
    pub templated_texts: bool,
    /// The rule file, relative to the rules crate.
    pub source_file: &'static str,
}

impl RuleMeta {
    /// Whether the rule reads events of this log type.
    pub fn handles(&self, log_type: &str) -> bool {
        self.log_types.contains(&log_type)
    }
}

/// A rule compiled into the binary, callable on `serde_json::Value` events.
///
/// Generated code also exposes generic functions per rule module (over any
/// [`crate::Node`]); this struct is the object-safe handle a rule set lists.
#[derive(Debug, Clone, Copy)]
pub struct CompiledRule {
    /// Metadata.
    pub meta: &'static RuleMeta,
    /// The matcher, for an event of the given log type.
    pub matches: fn(&str, &serde_json::Value) -> Result<bool, RuleError>,
    /// The same matcher over the fast path's projection of an event.
    pub matches_projected: fn(&str, crate::projection::Projected<'_>) -> Result<bool, RuleError>,
    /// The alert title.
    pub title: fn(&str, &serde_json::Value) -> Result<String, RuleError>,
    /// The dedup string the rule defines (before Panther's defaults).
    pub dedup: fn(&str, &serde_json::Value) -> Result<String, RuleError>,
    /// `str()` of the rule's `Unique` value (`None` without one, or when
    /// absent or null).
    pub unique: fn(&str, &serde_json::Value) -> Result<Option<String>, RuleError>,
    /// The severity for this event.
    pub severity: fn(&str, &serde_json::Value) -> Result<Severity, RuleError>,
    /// The alert context, keys in the rule's order.
    pub alert_context: fn(&str, &serde_json::Value) -> Result<AlertContext, RuleError>,
    /// `Description`, `Runbook` and `Reference` for this event (with their
    /// `{field}` substitutions; the static texts otherwise).
    pub texts: fn(&str, &serde_json::Value) -> Result<AlertTexts, RuleError>,
    /// The event's time: `p_event_time` when present, else the field its log
    /// type's data model declares as `EventTime`.
    pub event_time: fn(&str, &serde_json::Value) -> Option<Timestamp>,
    /// [`CompiledRule::detect`] over the fast path's parse of a whole event
    /// (embedded documents decoded once for every output).
    pub detect_projected: fn(&str, crate::projection::Projected<'_>) -> Detection,
    /// `event_time` over the fast path's parse of an event.
    pub event_time_projected: fn(&str, crate::projection::Projected<'_>) -> Option<Timestamp>,
    /// The rule's leading conditions, per log type, that the fast path tests
    /// itself, and the matcher of the conditions after them
    /// ([`crate::guard`]); a log type without an entry is matched whole
    /// with `matches_projected`.
    pub guards: &'static [crate::guard::LogTypeGuards],
    /// The rule file's `Tests`.
    pub tests: &'static [TestCase],
}

/// `Description`, `Runbook` and `Reference` as an alert shows them:
/// borrowed from the rule when written without substitutions (so a match
/// copies none of them), built for the event when they have some.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertTexts {
    /// `Description`.
    pub description: Option<Cow<'static, str>>,
    /// `Runbook`.
    pub runbook: Option<Cow<'static, str>>,
    /// `Reference`.
    pub reference: Option<Cow<'static, str>>,
}

impl AlertTexts {
    /// The rule's texts as written.
    pub fn of(meta: &RuleMeta) -> AlertTexts {
        AlertTexts {
            description: meta.description.map(Cow::Borrowed),
            runbook: meta.runbook.map(Cow::Borrowed),
            reference: meta.reference.map(Cow::Borrowed),
        }
    }
}

/// The outputs of one matching event, after Panther's production defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The title (the RuleID when the title raised).
    pub title: String,
    /// The dedup string.
    pub dedup: String,
    /// The severity.
    pub severity: Severity,
    /// The alert context (`{"_error": ...}` when it raised).
    pub alert_context: AlertContext,
    /// `Description`, `Runbook`, `Reference` (the texts as written when
    /// their substitutions raised).
    pub texts: AlertTexts,
    /// The `Unique` value (`None` without one, or when it is absent, null or raised).
    pub unique: Option<String>,
}

/// Longest title or dedup string Panther keeps.
pub const MAX_OUTPUT_LEN: usize = 1000;
const TRUNCATED_PREFIX_LEN: usize = 985;
const TRUNCATION_MARK: &str = "... (truncated)";

/// Cuts a title or dedup string longer than 1000 characters to 985 plus
/// `... (truncated)`, as Panther does.
pub fn truncate_output(text: String) -> String {
    // A text of at most 1000 bytes has at most 1000 characters: most are
    // decided without counting.
    if text.len() <= MAX_OUTPUT_LEN || text.chars().count() <= MAX_OUTPUT_LEN {
        return text;
    }
    let mut cut: String = text.chars().take(TRUNCATED_PREFIX_LEN).collect();
    cut.push_str(TRUNCATION_MARK);
    cut
}

impl CompiledRule {
    /// Whether the rule matches; an error counts as no match.
    pub fn matches_event(&self, log_type: &str, event: &serde_json::Value) -> bool {
        (self.matches)(log_type, event).unwrap_or(false)
    }

    /// The outputs Panther would attach to an alert for a matching event:
    /// the RuleID when the title raises; the title (or
    /// `defaultDedupString:<RuleID>` when it is empty) when the rule defines
    /// no dedup, and `defaultDedupString:<RuleID>` when its dedup raises or
    /// is empty;
    /// `{"_error": ...}` when the alert context raises, the base severity when
    /// the severity raises.
    pub fn detect(&self, log_type: &str, event: &serde_json::Value) -> Detection {
        RawOutputs {
            title: (self.title)(log_type, event),
            dedup: (self.dedup)(log_type, event),
            severity: (self.severity)(log_type, event),
            alert_context: (self.alert_context)(log_type, event),
            texts: (self.texts)(log_type, event),
            unique: (self.unique)(log_type, event),
        }
        .resolve(self.meta)
    }
}

/// A rule's outputs for one matching event as its code computed them, each
/// of which may have raised: [`RawOutputs::resolve`] applies Panther's
/// defaults.
#[derive(Debug)]
pub struct RawOutputs {
    /// The title.
    pub title: Result<String, RuleError>,
    /// The dedup string the rule defines.
    pub dedup: Result<String, RuleError>,
    /// The severity.
    pub severity: Result<Severity, RuleError>,
    /// The alert context.
    pub alert_context: Result<AlertContext, RuleError>,
    /// `Description`, `Runbook`, `Reference`.
    pub texts: Result<AlertTexts, RuleError>,
    /// The `Unique` value.
    pub unique: Result<Option<String>, RuleError>,
}

impl RawOutputs {
    /// The outputs Panther attaches (see [`CompiledRule::detect`]).
    pub fn resolve(self, meta: &RuleMeta) -> Detection {
        let title = truncate_output(self.title.unwrap_or_else(|_| meta.id.to_owned()));
        let dedup = resolve_dedup(meta, self.dedup, &title)
            .unwrap_or_else(|_| default_dedup_string(meta.id));
        let severity = self.severity.unwrap_or(meta.severity);
        let alert_context = self.alert_context.unwrap_or_else(|error| {
            let mut context = AlertContext::with_capacity(1);
            context.insert("_error", serde_json::Value::String(error.to_string()));
            context
        });
        let texts = self.texts.unwrap_or_else(|_| AlertTexts::of(meta));
        let unique = self.unique.unwrap_or(None);
        Detection {
            title,
            dedup,
            severity,
            alert_context,
            texts,
            unique,
        }
    }
}

/// `defaultDedupString:<RuleID>`.
pub fn default_dedup_string(rule_id: &str) -> String {
    format!("defaultDedupString:{rule_id}")
}

/// Panther's dedup string when the rule defines none: the title when it is
/// non-empty, else `defaultDedupString:<RuleID>`.
pub fn default_dedup(rule_id: &str, title: &str) -> String {
    if title.is_empty() {
        default_dedup_string(rule_id)
    } else {
        title.to_owned()
    }
}

/// The dedup string Panther keeps, from the rule's dedup output and title
/// (panther_core): without a dedup of its own, the title (or the default
/// string when the title is empty); with one, its value truncated, or the
/// default string when it is empty. An error passes through (in tests it
/// fails the case; in production the default string replaces it).
pub fn resolve_dedup(
    meta: &RuleMeta,
    dedup: Result<String, RuleError>,
    title: &str,
) -> Result<String, RuleError> {
    if !meta.defines_dedup {
        return Ok(default_dedup(meta.id, title));
    }
    let dedup = dedup?;
    Ok(if dedup.is_empty() {
        default_dedup_string(meta.id)
    } else {
        truncate_output(dedup)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_matches_panther() {
        let long = "x".repeat(1001);
        let cut = truncate_output(long);
        assert_eq!(cut.chars().count(), 985 + TRUNCATION_MARK.len());
        assert!(cut.ends_with("... (truncated)"));
        assert_eq!(truncate_output("y".repeat(1000)).len(), 1000);
        // Characters are counted, not bytes: 1000 two-byte characters stay.
        let wide = "é".repeat(1000);
        assert_eq!(truncate_output(wide.clone()), wide);
        let cut = truncate_output("é".repeat(1001));
        assert_eq!(cut.chars().count(), 985 + TRUNCATION_MARK.len());
    }

    #[test]
    fn severity_parses_panther_spellings() {
        assert_eq!(Severity::parse("Medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("MEDIUM"), Some(Severity::Medium));
        assert_eq!(Severity::parse("medium"), None);
    }
}
