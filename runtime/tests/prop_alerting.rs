//! Property tests of the alerting engine (`AlertEngine`): against a plain
//! reference model of Panther's dedup windows on time-ordered input, and
//! invariants that hold in any input order: however the events are split
//! into calls the alerts are the same, no alert groups events further apart
//! than its dedup period, every alert reached its threshold, and rules that
//! share a dedup string never share a window.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rulec_runtime::alerting::{Alert, AlertEngine};
use rulec_runtime::rule::{AlertContext, AlertTexts, Detection, RuleMeta, Severity};
use rulec_runtime::Timestamp;

const fn meta(id: &'static str, dedup_period_minutes: u32, threshold: u32) -> RuleMeta {
    RuleMeta {
        id,
        display_name: None,
        enabled: true,
        status: None,
        severity: Severity::Medium,
        log_types: &["Test.Log"],
        tags: &[],
        reports: &[],
        description: None,
        runbook: None,
        reference: None,
        dedup_period_minutes,
        threshold,
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
    }
}

/// Three rules with different periods and thresholds; they share dedup strings.
static RULES: [RuleMeta; 3] = [
    meta("Rule.A", 15, 3),
    meta("Rule.B", 5, 1),
    meta("Rule.C", 60, 2),
];

const DEDUPS: [&str; 3] = ["alice", "bob", "carol"];

/// One match: which rule, which dedup string, at which second.
#[derive(Debug, Clone, Copy)]
struct Event {
    /// Its place in the generated input (titles name it).
    id: usize,
    rule: usize,
    dedup: usize,
    second: i64,
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_717_236_000 + second).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn detection(event: &Event) -> Detection {
    Detection {
        title: format!("event {}", event.id),
        dedup: DEDUPS[event.dedup].to_owned(),
        severity: Severity::Medium,
        alert_context: AlertContext::new(),
        texts: AlertTexts::default(),
        unique: None,
    }
}

/// What an alert says, for comparisons.
type Summary = (&'static str, String, String, u64, Timestamp, Timestamp);

fn summary(alert: &Alert) -> Summary {
    (
        alert.rule_id,
        alert.dedup.clone(),
        alert.title.clone(),
        alert.event_count,
        alert.first_event_time,
        alert.last_event_time,
    )
}

fn sorted(mut alerts: Vec<Summary>) -> Vec<Summary> {
    alerts.sort();
    alerts
}

/// Feeds `events` to one engine, split into calls at `cuts` (alerts
/// collected across the calls), then finishes.
fn run_split(events: &[Event], cuts: &[usize]) -> Vec<Summary> {
    let mut engine = AlertEngine::new();
    let mut alerts = Vec::new();
    let mut start = 0;
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (events.len() + 1)).collect();
    bounds.sort_unstable();
    bounds.push(events.len());
    for end in bounds {
        let mut chunk = Vec::new();
        for event in events.iter().take(end).skip(start) {
            engine.observe(
                &RULES[event.rule],
                at(event.second),
                detection(event),
                &mut |a| chunk.push(summary(&a)),
            );
        }
        alerts.extend(chunk);
        start = start.max(end);
    }
    engine.finish(&mut |a| alerts.push(summary(&a)));
    alerts
}

fn run(events: &[Event]) -> Vec<Summary> {
    run_split(events, &[])
}

/// The reference: Panther's windows computed per (rule, dedup) key on
/// time-ordered input. A window opens at an event and lasts the period;
/// events before its end join it; it alerts at `Threshold` events.
fn model(events: &[Event]) -> Vec<Summary> {
    struct Open {
        end: i64,
        count: u64,
        title: String,
        first: i64,
        last: i64,
    }
    let mut open: BTreeMap<(usize, usize), Open> = BTreeMap::new();
    let mut alerts = Vec::new();
    let close = |key: (usize, usize), window: Open, alerts: &mut Vec<Summary>| {
        if window.count >= u64::from(RULES[key.0].threshold) {
            alerts.push((
                RULES[key.0].id,
                DEDUPS[key.1].to_owned(),
                window.title,
                window.count,
                at(window.first),
                at(window.last),
            ));
        }
    };
    for event in events {
        let key = (event.rule, event.dedup);
        let period = i64::from(RULES[event.rule].dedup_period_minutes) * 60;
        match open.get_mut(&key) {
            Some(window) if event.second < window.end => {
                window.count += 1;
                window.last = event.second;
            }
            _ => {
                if let Some(window) = open.remove(&key) {
                    close(key, window, &mut alerts);
                }
                open.insert(
                    key,
                    Open {
                        end: event.second + period,
                        count: 1,
                        title: format!("event {}", event.id),
                        first: event.second,
                        last: event.second,
                    },
                );
            }
        }
    }
    for (key, window) in open {
        close(key, window, &mut alerts);
    }
    alerts
}

fn event() -> impl Strategy<Value = Event> {
    // Whole minutes mostly, so events often fall exactly on a window's end.
    let second = prop_oneof![3 => (0i64..240).prop_map(|m| m * 60), 1 => 0i64..4 * 3600];
    (0..RULES.len(), 0..DEDUPS.len(), second).prop_map(|(rule, dedup, second)| Event {
        id: 0,
        rule,
        dedup,
        second,
    })
}

/// Events in the generated order, each named by its place.
fn events() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec(event(), 0..80).prop_map(|mut events| {
        for (id, event) in events.iter_mut().enumerate() {
            event.id = id;
        }
        events
    })
}

/// Events in time order (the order `detect` sees a replayed log in).
fn ordered_events() -> impl Strategy<Value = Vec<Event>> {
    events().prop_map(|mut events| {
        events.sort_by_key(|e| e.second);
        events
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ordered_input_gives_the_reference_alerts(events in ordered_events()) {
        prop_assert_eq!(sorted(run(&events)), sorted(model(&events)));
    }

    #[test]
    fn any_split_into_calls_gives_the_same_alerts(
        events in events(),
        cuts in prop::collection::vec(0usize..100, 0..6),
    ) {
        prop_assert_eq!(run_split(&events, &cuts), run(&events));
    }

    #[test]
    fn alerts_respect_period_and_threshold(events in events()) {
        let alerts = run(&events);
        let mut counted: BTreeMap<(&str, String), u64> = BTreeMap::new();
        for (rule_id, dedup, _, count, first, last) in &alerts {
            let rule = RULES.iter().find(|r| r.id == *rule_id).expect("a known rule");
            let period = i64::from(rule.dedup_period_minutes) * 60;
            let spread = last.as_second() - first.as_second();
            prop_assert!(spread >= 0 && spread < period, "{rule_id} {dedup}: {spread}s apart, period {period}s");
            prop_assert!(*count >= u64::from(rule.threshold), "{rule_id} {dedup}: {count} events");
            *counted.entry((*rule_id, dedup.clone())).or_default() += count;
        }
        // No event is counted twice.
        for ((rule_id, dedup), count) in counted {
            let sent = events
                .iter()
                .filter(|e| RULES[e.rule].id == rule_id && DEDUPS[e.dedup] == dedup)
                .count() as u64;
            prop_assert!(count <= sent, "{rule_id} {dedup}: {count} counted of {sent}");
        }
    }

    #[test]
    fn rules_sharing_a_dedup_string_do_not_mix(events in ordered_events()) {
        let all = sorted(run(&events));
        let mut separately = Vec::new();
        for rule in 0..RULES.len() {
            let own: Vec<Event> = events.iter().copied().filter(|e| e.rule == rule).collect();
            separately.extend(run(&own));
        }
        prop_assert_eq!(all, sorted(separately));
    }
}
