//! MITRE ATT&CK: the 14 Enterprise tactics, and the `Reports` entries
//! (`TA0006:T1552.007`) rules map to them.

/// The Enterprise tactics, in the matrix's order: ID and name.
pub const TACTICS: [(&str, &str); 14] = [
    ("TA0043", "Reconnaissance"),
    ("TA0042", "Resource Development"),
    ("TA0001", "Initial Access"),
    ("TA0002", "Execution"),
    ("TA0003", "Persistence"),
    ("TA0004", "Privilege Escalation"),
    ("TA0005", "Defense Evasion"),
    ("TA0006", "Credential Access"),
    ("TA0007", "Discovery"),
    ("TA0008", "Lateral Movement"),
    ("TA0009", "Collection"),
    ("TA0011", "Command and Control"),
    ("TA0010", "Exfiltration"),
    ("TA0040", "Impact"),
];

/// The `Reports` framework holding ATT&CK entries.
pub const FRAMEWORK: &str = "MITRE ATT&CK";

/// One ATT&CK entry of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attack {
    /// The tactic ID (`TA0006`).
    pub tactic: String,
    /// The technique ID (`T1552.007`); empty when the entry names only a tactic.
    pub technique: String,
}

impl Attack {
    /// Reads `TA0006:T1552.007` (or a bare `TA0006`).
    pub fn parse(entry: &str) -> Option<Attack> {
        let (tactic, technique) = match entry.split_once(':') {
            Some((t, tech)) => (t.trim(), tech.trim()),
            None => (entry.trim(), ""),
        };
        let id_ok = |s: &str, prefix: &str| {
            s.strip_prefix(prefix)
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit() || c == '.'))
        };
        (id_ok(tactic, "TA") && (technique.is_empty() || id_ok(technique, "T"))).then(|| Attack {
            tactic: tactic.to_owned(),
            technique: technique.to_owned(),
        })
    }

    /// The tactic's name, if it is one of the 14.
    pub fn tactic_name(&self) -> Option<&'static str> {
        tactic_name(&self.tactic)
    }

    /// The technique's page on attack.mitre.org (`T1552.007` is `T1552/007`).
    pub fn technique_url(&self) -> String {
        format!(
            "https://attack.mitre.org/techniques/{}/",
            self.technique.replace('.', "/")
        )
    }
}

/// The name of a tactic ID.
pub fn tactic_name(id: &str) -> Option<&'static str> {
    TACTICS.iter().find(|(t, _)| *t == id).map(|(_, n)| *n)
}

/// Splits `Reports` into ATT&CK entries (sorted) and the other entries as
/// written (ATT&CK entries that do not read as IDs included).
pub fn split_reports(
    reports: &[(String, Vec<String>)],
) -> (Vec<Attack>, Vec<(String, Vec<String>)>) {
    let mut attack = Vec::new();
    let mut other = Vec::new();
    for (framework, entries) in reports {
        if framework != FRAMEWORK {
            other.push((framework.clone(), entries.clone()));
            continue;
        }
        let mut unread = Vec::new();
        for entry in entries {
            match Attack::parse(entry) {
                Some(a) => attack.push(a),
                None => unread.push(entry.clone()),
            }
        }
        if !unread.is_empty() {
            other.push((framework.clone(), unread));
        }
    }
    attack.sort();
    attack.dedup();
    (attack, other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_tactics_have_names() {
        let a = Attack::parse("TA0006:T1552.007");
        assert_eq!(
            a,
            Some(Attack {
                tactic: "TA0006".to_owned(),
                technique: "T1552.007".to_owned()
            })
        );
        let a = a.unwrap_or_else(|| panic!("parsed above"));
        assert_eq!(a.tactic_name(), Some("Credential Access"));
        assert_eq!(
            a.technique_url(),
            "https://attack.mitre.org/techniques/T1552/007/"
        );
        assert_eq!(Attack::parse("Credential Access"), None);
        assert_eq!(
            Attack::parse("TA0007").map(|a| a.technique),
            Some(String::new())
        );
        let ids: std::collections::BTreeSet<&str> = TACTICS.iter().map(|(t, _)| *t).collect();
        assert_eq!(ids.len(), 14);
    }
}
