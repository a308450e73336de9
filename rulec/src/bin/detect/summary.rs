//! The run's counters, and the summary printed on stderr at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Counters of one run.
#[derive(Debug, Default)]
pub struct Counters {
    /// Inputs read.
    pub inputs: usize,
    /// Events evaluated (lines that parsed).
    pub events: u64,
    /// Bytes of input, uncompressed.
    pub bytes: u64,
    /// Events per `p_log_type`.
    pub per_log_type: BTreeMap<String, u64>,
    /// Matches per RuleID.
    pub matches: BTreeMap<&'static str, u64>,
    /// Alerts per RuleID.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Events a rule raised on (Python would raise: no match), per RuleID.
    pub rule_errors: BTreeMap<&'static str, u64>,
    /// Lines skipped as malformed.
    pub bad_lines: u64,
    /// Blank lines (skipped, not counted as bad).
    pub blank_lines: u64,
    /// Matching events without an event time.
    pub untimed: u64,
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl Counters {
    /// The summary text.
    pub fn summary(
        &self,
        rule_ids: &[&'static str],
        elapsed: Duration,
        alerts_mode: bool,
    ) -> String {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "detect: {} events ({}) from {} input(s) in {:.3} s: {:.0} events/s, {}/s",
            self.events,
            human_bytes(self.bytes),
            self.inputs,
            elapsed.as_secs_f64(),
            self.events as f64 / seconds,
            human_bytes((self.bytes as f64 / seconds) as u64),
        );
        if !self.per_log_type.is_empty() {
            let parts: Vec<String> = self
                .per_log_type
                .iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            let _ = writeln!(out, "  events by log type: {}", parts.join(", "));
        }
        for id in rule_ids {
            let matches = self.matches.get(id).copied().unwrap_or(0);
            let _ = write!(out, "  {id}: {matches} matches");
            if alerts_mode {
                let _ = write!(
                    out,
                    ", {} alerts",
                    self.alerts.get(id).copied().unwrap_or(0)
                );
            }
            if let Some(errors) = self.rule_errors.get(id) {
                let _ = write!(out, ", raised on {errors} events (no match)");
            }
            out.push('\n');
        }
        let _ = writeln!(out, "  bad lines: {}", self.bad_lines);
        if self.untimed > 0 {
            let _ = writeln!(
                out,
                "  matching events without an event time: {} (placed at the latest event time)",
                self.untimed
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
