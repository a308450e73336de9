//! Threshold tests: a sequence of events run through the alerting engine, and
//! the alerts it makes compared with the ones expected.

use std::time::Duration;

use crate::alerting::{Alert, AlertEngine};
use crate::event_time::{add, parse_timestamp};
use crate::rule::CompiledRule;
use crate::testing::case::{ExpectedAlert, SequenceTest};

/// What a sequence of events made.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceOutcome {
    /// Events fed to the rule (repeats counted).
    pub events: u64,
    /// How many of them matched.
    pub matches: u64,
    /// The alerts, ordered by their first event's time.
    pub alerts: Vec<Alert>,
    /// Problems that make the case fail whatever it expects: an event that
    /// is not JSON or has no event time, a rule that raised.
    pub errors: Vec<String>,
}

impl SequenceOutcome {
    /// Why the case fails, one reason per line; empty when it passes.
    pub fn failures(&self, test: &SequenceTest) -> Vec<String> {
        let mut out = self.errors.clone();
        if self.alerts.len() != test.expected_alerts.len() {
            out.push(format!(
                "expected {} alert(s), got {} from {} matching event(s) of {}",
                test.expected_alerts.len(),
                self.alerts.len(),
                self.matches,
                self.events
            ));
            return out;
        }
        for (i, (alert, expected)) in self.alerts.iter().zip(test.expected_alerts).enumerate() {
            out.extend(alert_failures(i + 1, alert, expected));
        }
        out
    }
}

fn alert_failures(number: usize, alert: &Alert, expected: &ExpectedAlert) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |field: &str, want: Option<String>, got: String| {
        if let Some(want) = want {
            if want != got {
                out.push(format!(
                    "alert {number}: {field} expected {want:?}, got {got:?}"
                ));
            }
        }
    };
    compare(
        "Title",
        expected.title.map(str::to_owned),
        alert.title.clone(),
    );
    compare(
        "Dedup",
        expected.dedup.map(str::to_owned),
        alert.dedup.clone(),
    );
    compare(
        "Severity",
        expected.severity.map(|s| s.as_str().to_owned()),
        alert.severity.as_str().to_owned(),
    );
    compare(
        "EventCount",
        expected.event_count.map(|n| n.to_string()),
        alert.event_count.to_string(),
    );
    out
}

/// Runs a sequence test: each step's event is evaluated once and fed to the
/// alerting engine `repeat` times, `every` apart in event time.
pub fn run_sequence(rule: &CompiledRule, test: &SequenceTest) -> SequenceOutcome {
    let mut engine = AlertEngine::new();
    let mut outcome = SequenceOutcome {
        events: 0,
        matches: 0,
        alerts: Vec::new(),
        errors: Vec::new(),
    };
    let mut alerts = Vec::new();
    for (index, step) in test.steps.iter().enumerate() {
        let number = index + 1;
        outcome.events += u64::from(step.repeat);
        let event: serde_json::Value = match serde_json::from_str(step.log_json) {
            Ok(event) => event,
            Err(e) => {
                outcome
                    .errors
                    .push(format!("event {number}: the log is not JSON: {e}"));
                continue;
            }
        };
        match (rule.matches)(step.log_type, &event) {
            Err(e) => {
                outcome
                    .errors
                    .push(format!("event {number}: the rule raised an error: {e}"));
                continue;
            }
            Ok(false) => continue,
            Ok(true) => {}
        }
        let start = match step.time {
            Some(text) => parse_timestamp(text),
            None => (rule.event_time)(step.log_type, &event),
        };
        let Some(start) = start else {
            outcome.errors.push(format!(
                "event {number}: no event time (give the step a `Time:`, or the event `p_event_time` or its log type's event-time field)"
            ));
            continue;
        };
        let detection = rule.detect(step.log_type, &event);
        for copy in 0..step.repeat {
            let offset = Duration::from_millis(step.every_millis.saturating_mul(u64::from(copy)));
            engine.observe(rule.meta, add(start, offset), detection.clone(), &mut |a| {
                alerts.push(a)
            });
            outcome.matches += 1;
        }
    }
    engine.finish(&mut |a| alerts.push(a));
    // Alerts leave the engine as their windows close; list them by first event.
    alerts.sort_by_key(|a| a.first_event_time);
    outcome.alerts = alerts;
    outcome
}
