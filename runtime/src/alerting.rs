//! Panther's alerting: thresholds and dedup windows over matching events,
//! measured on event time so that a replay gives the same alerts.
//!
//! Matches of one rule with the same dedup string share a window that opens
//! at the first of them and lasts `DedupPeriodMinutes`. An event whose time is
//! before the window's end joins it; one at or after the end closes it and
//! opens the next. An event that arrives out of order joins the window when
//! the window still spans less than the period with it (which then starts
//! at that event); one too early for it closes it and opens the next, so no
//! window groups events a period or more apart. The window becomes an alert
//! when it holds `Threshold` events; later events inside it join that alert.
//! A window closes when event time (the latest seen) passes its end, or at
//! the end of input: an alerted window is emitted then, with its final event
//! count, and one that never reached the threshold is dropped. State is
//! bounded by the open windows.
//!
//! A rule with `Unique` (Python's `unique()`) counts distinct values instead:
//! its window becomes an alert when it holds `Threshold` distinct `Unique`
//! values (an event without one joins the window but adds no value). Panther
//! estimates the count; rulec counts exactly.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::event_time::{add, Timestamp};
use crate::rule::{AlertContext, Detection, RuleMeta, Severity};

/// One alert: a dedup window of one rule that reached its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `RuleID`.
    pub rule_id: &'static str,
    /// The first event's severity.
    pub severity: Severity,
    /// The first event's title.
    pub title: String,
    /// The dedup string the events share.
    pub dedup: String,
    /// The first event's alert context.
    pub alert_context: AlertContext,
    /// How many matching events the alert holds.
    pub event_count: u64,
    /// For a rule with `Unique`: how many distinct values the alert holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_count: Option<u64>,
    /// Event time of the first event.
    #[serde(serialize_with = "display")]
    pub first_event_time: Timestamp,
    /// Event time of the last event.
    #[serde(serialize_with = "display")]
    pub last_event_time: Timestamp,
    /// The rule's `Runbook` (its substitutions from the first event).
    pub runbook: Option<Cow<'static, str>>,
    /// The rule's `Reference` (its substitutions from the first event).
    pub reference: Option<Cow<'static, str>>,
    /// The rule's `Tags`.
    pub tags: &'static [&'static str],
    /// The rule's `Reports`, as a map from framework to entries.
    #[serde(serialize_with = "reports_map")]
    pub reports: &'static [(&'static str, &'static [&'static str])],
}

fn display<S: Serializer>(value: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn reports_map<S: Serializer>(
    reports: &&'static [(&'static str, &'static [&'static str])],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(reports.len()))?;
    for (framework, entries) in reports.iter() {
        map.serialize_entry(framework, entries)?;
    }
    map.end()
}

/// A dedup window of one rule and dedup string.
#[derive(Debug)]
struct Window {
    rule: &'static RuleMeta,
    /// The first event's outputs.
    first: Detection,
    first_time: Timestamp,
    last_time: Timestamp,
    end: Timestamp,
    count: u64,
    /// The distinct `Unique` values (rules with `Unique` only).
    uniques: HashSet<String>,
    /// When the window reached its threshold: the order alerts opened in.
    opened: Option<u64>,
    /// Distinguishes this window from an earlier one under the same key.
    generation: u64,
}

impl Window {
    /// What the threshold measures: events, or distinct `Unique` values.
    fn level(&self) -> u64 {
        if self.rule.defines_unique {
            self.uniques.len() as u64
        } else {
            self.count
        }
    }

    /// Whether the window holds enough to alert.
    fn reached_threshold(&self) -> bool {
        self.level() >= u64::from(self.rule.threshold.max(1))
    }

    fn into_alert(self, dedup: String) -> Alert {
        Alert {
            rule_id: self.rule.id,
            severity: self.first.severity,
            title: self.first.title,
            dedup,
            alert_context: self.first.alert_context,
            event_count: self.count,
            unique_count: self
                .rule
                .defines_unique
                .then_some(self.uniques.len() as u64),
            first_event_time: self.first_time,
            last_event_time: self.last_time,
            runbook: self.first.texts.runbook,
            reference: self.first.texts.reference,
            tags: self.rule.tags,
            reports: self.rule.reports,
        }
    }
}

type WindowKey = (&'static str, String);

/// A rule's dedup period.
fn period_of(rule: &RuleMeta) -> Duration {
    Duration::from_secs(u64::from(rule.dedup_period_minutes) * 60)
}

/// Groups matches into alerts with Panther's threshold and dedup semantics.
///
/// Feed it matches in input order with [`AlertEngine::observe`]; it hands
/// over each alert when its window closes. [`AlertEngine::finish`] flushes the
/// windows still open at the end of input.
#[derive(Debug, Default)]
pub struct AlertEngine {
    windows: HashMap<WindowKey, Window>,
    /// Window ends, earliest first, for expiry.
    expiries: BinaryHeap<Reverse<(Timestamp, u64, WindowKey)>>,
    /// The latest event time seen.
    watermark: Option<Timestamp>,
    generations: u64,
    alerts_opened: u64,
}

impl AlertEngine {
    /// An engine with no open windows.
    pub fn new() -> Self {
        AlertEngine::default()
    }

    /// How many dedup windows are open (alerted or not).
    pub fn open_windows(&self) -> usize {
        self.windows.len()
    }

    /// Records one matching event of `rule` at event time `time`, with its
    /// outputs. Alerts whose windows close as event time moves on are passed
    /// to `emit`, earliest window end first.
    pub fn observe(
        &mut self,
        rule: &'static RuleMeta,
        time: Timestamp,
        detection: Detection,
        emit: &mut impl FnMut(Alert),
    ) {
        if self.watermark.is_none_or(|w| time > w) {
            self.watermark = Some(time);
            self.expire(time, emit);
        }
        let key: WindowKey = (rule.id, detection.dedup.clone());
        let period = period_of(rule);
        if let Some(window) = self.windows.get_mut(&key) {
            // An event joins when the window still spans less than the period
            // with it: before the window's end, and, when it arrives out of
            // order (before the window's first event), less than a period
            // before its last one. The window then starts at that event.
            if time < window.end && add(time, period) > window.last_time {
                window.count += 1;
                if time < window.first_time {
                    window.first_time = time;
                    let end = add(time, period);
                    if end < window.end {
                        window.end = end;
                        self.expiries
                            .push(Reverse((end, window.generation, key.clone())));
                    }
                }
                window.last_time = window.last_time.max(time);
                if let Some(value) = detection.unique {
                    window.uniques.insert(value);
                }
                if window.opened.is_none() && window.reached_threshold() {
                    window.opened = Some(self.alerts_opened);
                    self.alerts_opened += 1;
                }
                return;
            }
            // Past the window's end (expiry has normally closed it already),
            // or too early for it: it closes, and the event opens the next.
            if let Some(old) = self.windows.remove(&key) {
                if old.opened.is_some() {
                    emit(old.into_alert(key.1.clone()));
                }
            }
        }
        self.open(rule, time, detection, key);
    }

    fn open(
        &mut self,
        rule: &'static RuleMeta,
        time: Timestamp,
        detection: Detection,
        key: WindowKey,
    ) {
        let end = add(time, period_of(rule));
        let generation = self.generations;
        self.generations += 1;
        self.expiries
            .push(Reverse((end, generation, (key.0, key.1.clone()))));
        let mut window = Window {
            rule,
            uniques: detection.unique.iter().cloned().collect(),
            first: detection,
            first_time: time,
            last_time: time,
            end,
            count: 1,
            opened: None,
            generation,
        };
        if window.reached_threshold() {
            window.opened = Some(self.alerts_opened);
            self.alerts_opened += 1;
        }
        self.windows.insert(key, window);
    }

    /// Closes every window whose end is at or before `now`.
    fn expire(&mut self, now: Timestamp, emit: &mut impl FnMut(Alert)) {
        while let Some(Reverse((end, generation, _))) = self.expiries.peek() {
            if *end > now {
                break;
            }
            let generation = *generation;
            let Some(Reverse((_, _, key))) = self.expiries.pop() else {
                break;
            };
            let current = self
                .windows
                .get(&key)
                .is_some_and(|w| w.generation == generation);
            if current {
                if let Some(window) = self.windows.remove(&key) {
                    if window.opened.is_some() {
                        emit(window.into_alert(key.1));
                    }
                }
            }
        }
    }

    /// Ends the input: emits every alert still open, in the order the alerts
    /// opened, and drops windows below their threshold.
    pub fn finish(self, emit: &mut impl FnMut(Alert)) {
        let mut open: Vec<(u64, String, Window)> = self
            .windows
            .into_iter()
            .filter_map(|((_, dedup), w)| w.opened.map(|order| (order, dedup, w)))
            .collect();
        open.sort_by_key(|(order, _, _)| *order);
        for (_, dedup, window) in open {
            emit(window.into_alert(dedup));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static META: RuleMeta = RuleMeta {
        id: "Test.Rule",
        display_name: None,
        enabled: true,
        status: None,
        severity: Severity::Medium,
        log_types: &["Test.Log"],
        tags: &["T"],
        reports: &[("MITRE ATT&CK", &["TA0006:T1552.007"])],
        description: None,
        runbook: Some("look"),
        reference: None,
        dedup_period_minutes: 15,
        threshold: 3,
        summary_attributes: &[],
        create_alert: true,
        defines_dedup: true,
        defines_unique: false,
        reads: &[],
        document_reads: &[],
        output_reads: &[],
        output_document_reads: &[],
        templated_texts: false,
        source_file: "test.yml",
    };

    static UNIQUE_META: RuleMeta = RuleMeta {
        id: "Test.Unique",
        defines_unique: true,
        ..META
    };

    fn detection(dedup: &str, title: &str) -> Detection {
        Detection {
            title: title.to_owned(),
            dedup: dedup.to_owned(),
            severity: Severity::Medium,
            alert_context: AlertContext::new(),
            texts: crate::rule::AlertTexts::default(),
            unique: None,
        }
    }

    /// Runs `(minute, unique value)` matches of [`UNIQUE_META`] (threshold 3) under one dedup string.
    fn run_unique(events: &[(i64, Option<&str>)]) -> Vec<Alert> {
        let mut engine = AlertEngine::new();
        let mut alerts = Vec::new();
        for (minute, unique) in events {
            let mut d = detection("user", "t");
            d.unique = unique.map(str::to_owned);
            engine.observe(&UNIQUE_META, at(*minute), d, &mut |a| alerts.push(a));
        }
        engine.finish(&mut |a| alerts.push(a));
        alerts
    }

    #[test]
    fn unique_counts_distinct_values_not_events() {
        // Ten reads of two secrets: two distinct values, below 3.
        let same: Vec<(i64, Option<&str>)> = (0..10)
            .map(|i| (i, Some(if i % 2 == 0 { "a" } else { "b" })))
            .collect();
        assert!(run_unique(&same).is_empty());
        // Events without a value join but add nothing.
        assert!(run_unique(&[(0, Some("a")), (1, None), (2, None), (3, Some("b"))]).is_empty());
        // The third distinct value opens the alert; later events join it.
        let alerts = run_unique(&[
            (0, Some("a")),
            (1, Some("a")),
            (2, Some("b")),
            (3, Some("c")),
            (4, Some("a")),
        ]);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].event_count, 5);
        assert_eq!(alerts[0].unique_count, Some(3));
        // Distinct values are counted per window: 15 minutes apart they do not add up.
        assert!(run_unique(&[(0, Some("a")), (1, Some("b")), (16, Some("c"))]).is_empty());
    }

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_717_236_000 + minutes * 60).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn run(events: &[(i64, &str)]) -> Vec<Alert> {
        let mut engine = AlertEngine::new();
        let mut alerts = Vec::new();
        for (i, (minute, dedup)) in events.iter().enumerate() {
            engine.observe(
                &META,
                at(*minute),
                detection(dedup, &format!("event {i}")),
                &mut |a| alerts.push(a),
            );
        }
        engine.finish(&mut |a| alerts.push(a));
        alerts
    }

    #[test]
    fn below_threshold_makes_no_alert() {
        assert!(run(&[(0, "a"), (1, "a")]).is_empty());
    }

    #[test]
    fn threshold_inside_the_window_makes_one_alert_with_later_events_joined() {
        let alerts = run(&[(0, "a"), (5, "a"), (10, "a"), (14, "a")]);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].event_count, 4);
        assert_eq!(alerts[0].title, "event 0");
        assert_eq!(alerts[0].first_event_time, at(0));
        assert_eq!(alerts[0].last_event_time, at(14));
    }

    #[test]
    fn the_window_is_measured_from_its_first_event() {
        // The third event comes exactly 15 minutes after the first: a new window.
        assert!(run(&[(0, "a"), (1, "a"), (15, "a")]).is_empty());
        let alerts = run(&[(0, "a"), (1, "a"), (15, "a"), (16, "a"), (17, "a")]);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].first_event_time, at(15));
    }

    #[test]
    fn late_events_join_only_within_the_period() {
        // Threshold 3, period 15: an event 4 minutes early joins, and the window starts there.
        let alerts = run(&[(10, "a"), (12, "a"), (6, "a")]);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].first_event_time, at(6));
        assert_eq!(alerts[0].last_event_time, at(12));
        // The window now ends at minute 21: an event then opens the next one.
        let alerts = run(&[(10, "a"), (12, "a"), (6, "a"), (21, "a")]);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].event_count, 3);
        // An event 15 minutes or more before the window's last one does not
        // join it (it used to: an alert spanning 16 minutes).
        assert!(run(&[(20, "a"), (21, "a"), (5, "a")]).is_empty());
    }

    #[test]
    fn dedup_strings_count_separately() {
        assert!(run(&[(0, "a"), (1, "b"), (2, "a"), (3, "b")]).is_empty());
        let alerts = run(&[(0, "a"), (1, "b"), (2, "a"), (3, "b"), (4, "b"), (5, "a")]);
        let dedups: Vec<&str> = alerts.iter().map(|a| a.dedup.as_str()).collect();
        assert_eq!(dedups, ["b", "a"]);
    }

    #[test]
    fn expired_windows_are_emitted_and_dropped_as_time_moves_on() {
        let mut engine = AlertEngine::new();
        let mut alerts = Vec::new();
        for minute in [0, 1, 2] {
            engine.observe(&META, at(minute), detection("a", "t"), &mut |a| {
                alerts.push(a)
            });
        }
        engine.observe(&META, at(3), detection("b", "t"), &mut |a| alerts.push(a));
        assert_eq!(engine.open_windows(), 2);
        assert!(alerts.is_empty());
        engine.observe(&META, at(60), detection("c", "t"), &mut |a| alerts.push(a));
        assert_eq!(alerts.len(), 1, "the alerted window closes, `b` is dropped");
        assert_eq!(engine.open_windows(), 1);
    }

    #[test]
    fn alerts_serialize_with_reports_as_a_map() {
        let alerts = run(&[(0, "a"), (1, "a"), (2, "a")]);
        let json = serde_json::to_value(&alerts[0]).unwrap_or_default();
        assert_eq!(json["reports"]["MITRE ATT&CK"][0], "TA0006:T1552.007");
        assert_eq!(json["first_event_time"], "2024-06-01T10:00:00Z");
        assert_eq!(json["event_count"], 3);
    }
}
