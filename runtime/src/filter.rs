//! Rule selection by metadata: panther_analysis_tool's `--filter KEY=V1,V2`
//! and `KEY!=V`, shared by the test runner and the `detect` CLI.

use std::fmt;

use crate::rule::RuleMeta;

/// The rule keys a filter can name.
pub const FILTER_KEYS: [&str; 13] = [
    "AnalysisType",
    "RuleID",
    "DisplayName",
    "Enabled",
    "Status",
    "Severity",
    "LogTypes",
    "Tags",
    "Reports",
    "DedupPeriodMinutes",
    "Threshold",
    "CreateAlert",
    "Filename",
];

/// One `KEY=V1,V2` (the rule's value is one of them) or `KEY!=V1,V2` (it is
/// none of them). For list keys (`LogTypes`, `Tags`, `Reports`) one element
/// matching is enough. Values compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFilter {
    key: &'static str,
    negated: bool,
    values: Vec<String>,
}

/// A filter that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

impl RuleFilter {
    /// Parses `KEY=V1,V2` or `KEY!=V1,V2`. The key is matched
    /// case-insensitively against [`FILTER_KEYS`].
    pub fn parse(spec: &str) -> Result<RuleFilter, FilterError> {
        let (key, negated, values) = match (spec.find("!="), spec.find('=')) {
            (Some(i), Some(j)) if i < j => (&spec[..i], true, &spec[i + 2..]),
            (_, Some(j)) => (&spec[..j], false, &spec[j + 1..]),
            _ => {
                return Err(FilterError(format!(
                    "filter `{spec}` has no `=`: write KEY=V1,V2 or KEY!=V"
                )))
            }
        };
        let key = key.trim();
        let Some(known) = FILTER_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key))
            .copied()
        else {
            return Err(FilterError(format!(
                "unknown filter key `{key}`; the keys are {}",
                FILTER_KEYS.join(", ")
            )));
        };
        let values: Vec<String> = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        if values.is_empty() {
            return Err(FilterError(format!("filter `{spec}` gives no value")));
        }
        Ok(RuleFilter {
            key: known,
            negated,
            values,
        })
    }

    /// Whether a rule passes the filter.
    pub fn matches(&self, meta: &RuleMeta) -> bool {
        let hit = |candidate: &str| {
            self.values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(candidate))
        };
        let found = match self.key {
            "AnalysisType" => hit("rule"),
            "RuleID" => hit(meta.id),
            "DisplayName" => meta.display_name.is_some_and(hit),
            "Enabled" => hit(if meta.enabled { "true" } else { "false" }),
            "Status" => meta.status.is_some_and(hit),
            "Severity" => hit(meta.severity.as_str()),
            "LogTypes" => meta.log_types.iter().any(|t| hit(t)),
            "Tags" => meta.tags.iter().any(|t| hit(t)),
            "Reports" => meta
                .reports
                .iter()
                .any(|(framework, entries)| hit(framework) || entries.iter().any(|e| hit(e))),
            "DedupPeriodMinutes" => hit(&meta.dedup_period_minutes.to_string()),
            "Threshold" => hit(&meta.threshold.to_string()),
            "CreateAlert" => hit(if meta.create_alert { "true" } else { "false" }),
            "Filename" => hit(meta.source_file),
            _ => false,
        };
        found != self.negated
    }
}

/// Whether a rule passes every filter (filters are ANDed).
pub fn matches_all(filters: &[RuleFilter], meta: &RuleMeta) -> bool {
    filters.iter().all(|f| f.matches(meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Severity;

    static META: RuleMeta = RuleMeta {
        id: "Kubernetes.Secret.AccessDenied",
        display_name: Some("Kubernetes Secret Access Denied"),
        enabled: true,
        status: Some("Experimental"),
        severity: Severity::Medium,
        log_types: &["Amazon.EKS.Audit", "GCP.AuditLog"],
        tags: &["Kubernetes", "Credential Access"],
        reports: &[("MITRE ATT&CK", &["TA0006:T1552.007"])],
        description: None,
        runbook: None,
        reference: None,
        dedup_period_minutes: 15,
        threshold: 20,
        summary_attributes: &[],
        create_alert: true,
        defines_dedup: true,
        defines_unique: false,
        reads: &[],
        document_reads: &[],
        output_reads: &[],
        output_document_reads: &[],
        templated_texts: false,
        source_file: "kubernetes/k8s_secret_access_denied.yml",
    };

    fn check(spec: &str) -> bool {
        match RuleFilter::parse(spec) {
            Ok(filter) => filter.matches(&META),
            Err(e) => panic!("{spec}: {e}"),
        }
    }

    #[test]
    fn equality_and_lists() {
        assert!(check("RuleID=Kubernetes.Secret.AccessDenied"));
        assert!(check("RuleID=Other,Kubernetes.Secret.AccessDenied"));
        assert!(!check("RuleID=Other"));
        assert!(check("LogTypes=GCP.AuditLog"));
        assert!(check("Tags=credential access"));
        assert!(check("Severity=medium"));
        assert!(check("Enabled=true"));
        assert!(check("Threshold=20"));
        assert!(check("Reports=TA0006:T1552.007"));
        assert!(check("Status=Experimental"));
    }

    #[test]
    fn negation() {
        assert!(!check("Severity!=Medium"));
        assert!(check("Severity!=High,Critical"));
        assert!(!check("Tags!=Kubernetes"));
        assert!(check("Status!=Deprecated"));
    }

    #[test]
    fn bad_filters_are_errors() {
        assert!(RuleFilter::parse("RuleID").is_err());
        assert!(RuleFilter::parse("Colour=red").is_err());
        assert!(RuleFilter::parse("RuleID=").is_err());
        assert!(RuleFilter::parse("ruleid=x").is_ok());
    }
}
