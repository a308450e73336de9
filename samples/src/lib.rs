//! Deterministic, labelled Kubernetes audit events for exercising rulec at
//! scale: EKS (`Amazon.EKS.Audit`), AKS (`Azure.MonitorActivity`, the audit
//! event as a JSON string in `properties.log`) and GKE (`GCP.AuditLog`).
//!
//! [`generate`] streams [`Sample`]s lazily in constant memory. Each carries
//! the event, the [`Scenario`] it was drawn as, and what Panther's Python
//! rule *Kubernetes Secret Access Denied* outputs for it ([`Expected`]):
//! derived from the values the generator chose for that scenario, not by
//! running detection logic over the event. The same [`Config`] gives the
//! same events, byte for byte, on every platform.
//!
//! Traffic is mostly routine; about 5% of events match the rule, including
//! a few scheduled *probe bursts* (20 to 30 denied secret reads by one
//! attacker in one namespace within a few minutes) that cross the rule's
//! threshold of 20 events in 15 minutes.

#![warn(missing_docs)]

mod dice;
mod generator;
mod pools;
mod scenario;
mod shapes;
mod time;

use serde_json::{json, Value};

pub use scenario::Scenario;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The random seed: the same seed gives the same events.
    pub seed: u64,
    /// How many events [`generate`] yields.
    pub events: usize,
    /// The first event's time is 50 to 500 ms after this (read to whole
    /// microseconds). Default 2024-06-01T00:00:00Z.
    pub start: jiff::Timestamp,
    /// The share of events that also carry Panther's `p_event_time`
    /// (equal to the event's own time field). Default 0.5.
    pub p_event_time_ratio: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 1,
            events: 10_000,
            // 2024-06-01T00:00:00Z.
            start: jiff::Timestamp::from_second(1_717_200_000)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            p_event_time_ratio: 0.5,
        }
    }
}

/// One generated event and its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The event as Panther would hand it to a rule, `p_log_type` and
    /// `p_source_label` included (keys in a realistic order).
    pub event: Value,
    /// The event's log type: `Amazon.EKS.Audit`, `Azure.MonitorActivity` or
    /// `GCP.AuditLog` (also the event's `p_log_type`).
    pub log_type: &'static str,
    /// What the event is.
    pub scenario: Scenario,
    /// What the seed rule outputs for the event.
    pub expected: Expected,
}

impl Sample {
    /// The label line for this event as the `--labels` file of
    /// `gen-k8s-audit` writes it: `{"line", "scenario", "matches_seed",
    /// "title", "dedup"}`, `line` being the event's 1-based line number.
    pub fn label(&self, line: u64) -> Value {
        json!({
            "line": line,
            "scenario": self.scenario.name(),
            "matches_seed": self.expected.matches_seed,
            "title": self.expected.title,
            "dedup": self.expected.dedup,
        })
    }
}

/// What Panther's Python rule `Kubernetes.Secret.AccessDenied`
/// (k8s_secret_access_denied.py) outputs for an event: whether it matches
/// and, for a match, its title and dedup string (`None` otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Whether the rule matches the event.
    pub matches_seed: bool,
    /// The alert title of a match.
    pub title: Option<String>,
    /// The dedup string of a match.
    pub dedup: Option<String>,
}

impl Expected {
    /// The rule does not match.
    pub fn no_match() -> Expected {
        Expected {
            matches_seed: false,
            title: None,
            dedup: None,
        }
    }

    /// The rule matches, with the values its title shows: `username`,
    /// `namespace`, secret `name` (already replaced by `<UNKNOWN_USER>`,
    /// `<UNKNOWN_NAMESPACE>`, `<UNKNOWN_SECRET>` where missing) and the
    /// response `code` as Python's `str()` shows it (`403`, `7`, `True`).
    pub fn seed_match(username: &str, namespace: &str, name: &str, code: &str) -> Expected {
        Expected {
            matches_seed: true,
            title: Some(format!(
                "[{username}] failed secret enumeration attempt in [{namespace}/{name}] (response: {code})"
            )),
            dedup: Some(format!("k8s_secret_denied_{username}_{namespace}")),
        }
    }
}

/// The events of `config`, generated lazily: `config.events` samples, in
/// constant memory (pass `usize::MAX` and stop when you have enough).
pub fn generate(config: &Config) -> impl Iterator<Item = Sample> {
    generator::Generator::new(config)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests;
