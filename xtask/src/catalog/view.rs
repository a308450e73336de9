//! What the Markdown and HTML catalogs share: section names, page names,
//! and the coverage views (the ATT&CK matrix, rules per log type).

use std::collections::{BTreeMap, BTreeSet};

use super::mitre::TACTICS;
use super::model::RulePage;

/// A rule page's sections after its metadata: HTML id and heading.
pub const SECTIONS: [(&str, &str); 7] = [
    ("description", "Description"),
    ("attack", "MITRE ATT&CK coverage"),
    ("body", "Rule body"),
    ("logic", "Detection logic"),
    ("exclusions", "Exclusions"),
    ("indicators", "Indicators"),
    ("outputs", "Output fields"),
];

/// The file name (without extension) of a rule's page.
pub fn page_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One tactic of the matrix: its techniques, each with the rules mapped to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TacticColumn {
    /// `TA0006`.
    pub tactic: String,
    /// `Credential Access`.
    pub name: String,
    /// Technique ID (empty for a tactic-only entry) to RuleIDs.
    pub techniques: BTreeMap<String, BTreeSet<String>>,
    /// Distinct rules in the column.
    pub rule_count: usize,
}

/// The 14 Enterprise tactics in order, then any other tactic IDs the rules use.
pub fn attack_matrix(pages: &[RulePage]) -> Vec<TacticColumn> {
    let mut columns: Vec<TacticColumn> = TACTICS
        .iter()
        .map(|(id, name)| TacticColumn {
            tactic: (*id).to_owned(),
            name: (*name).to_owned(),
            techniques: BTreeMap::new(),
            rule_count: 0,
        })
        .collect();
    for page in pages {
        for a in &page.attack {
            let at = match columns.iter().position(|c| c.tactic == a.tactic) {
                Some(at) => at,
                None => {
                    columns.push(TacticColumn {
                        tactic: a.tactic.clone(),
                        name: "(not an Enterprise tactic)".to_owned(),
                        techniques: BTreeMap::new(),
                        rule_count: 0,
                    });
                    columns.len() - 1
                }
            };
            columns[at]
                .techniques
                .entry(a.technique.clone())
                .or_default()
                .insert(page.id.clone());
        }
    }
    for column in &mut columns {
        let rules: BTreeSet<&String> = column.techniques.values().flatten().collect();
        column.rule_count = rules.len();
    }
    columns
}

/// Each log type with its rules (RuleID, title), sorted.
pub fn by_log_type(pages: &[RulePage]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for page in pages {
        for log_type in &page.log_types {
            out.entry(log_type.clone())
                .or_default()
                .push((page.id.clone(), page.title.clone()));
        }
    }
    for rules in out.values_mut() {
        rules.sort();
    }
    out
}
