//! `detect` on generated audit logs, against expectations computed apart from
//! rulec: the generator's labels (what Panther's Python rule outputs for each
//! event, derived from the scenario it drew) for matches, titles and dedup
//! strings, and a plain re-statement of Panther's window rules for alerts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use rulec_samples::{generate, Config, Sample};
use serde_json::Value;

const SEED_RULE: &str = "Kubernetes.Secret.AccessDenied";

fn samples(seed: u64, events: usize) -> Vec<Sample> {
    generate(&Config {
        seed,
        events,
        ..Config::default()
    })
    .collect()
}

fn write_ndjson(samples: &[Sample]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    for sample in samples {
        writeln!(file, "{}", sample.event).expect("write");
    }
    file.flush().expect("flush");
    file
}

fn detect(args: &[&str]) -> (Vec<Value>, String) {
    let output = Command::cargo_bin("detect")
        .expect("the detect binary")
        .args(args)
        .output()
        .expect("detect runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    (lines, stderr)
}

#[test]
fn matches_titles_and_dedups_equal_the_python_rules_labels() {
    let samples = samples(7, 12_000);
    let file = write_ndjson(&samples);
    let path = file.path().to_str().unwrap_or_default();
    let (lines, _) = detect(&["--emit", "matches", "--rule", SEED_RULE, path]);
    let actual: BTreeMap<u64, &Value> = lines
        .iter()
        .map(|l| (l["line"].as_u64().unwrap_or(0), l))
        .collect();
    let mut expected_lines = BTreeSet::new();
    let mut scenarios = BTreeSet::new();
    for (i, sample) in samples.iter().enumerate() {
        let line = i as u64 + 1;
        scenarios.insert(sample.scenario.name());
        let got = actual.get(&line);
        if !sample.expected.matches_seed {
            assert!(
                got.is_none(),
                "line {line} ({}) matched but Python would not: {}",
                sample.scenario.name(),
                sample.event
            );
            continue;
        }
        expected_lines.insert(line);
        let Some(got) = got else {
            panic!(
                "line {line} ({}) did not match but Python would: {}",
                sample.scenario.name(),
                sample.event
            );
        };
        assert_eq!(
            got["title"].as_str(),
            sample.expected.title.as_deref(),
            "line {line}"
        );
        assert_eq!(
            got["dedup"].as_str(),
            sample.expected.dedup.as_deref(),
            "line {line}"
        );
        assert_eq!(got["log_type"], sample.log_type);
    }
    assert_eq!(actual.len(), expected_lines.len());
    assert!(
        expected_lines.len() > 200,
        "{} matches",
        expected_lines.len()
    );
    assert!(
        scenarios.len() > 15,
        "the mix covers the scenarios: {scenarios:?}"
    );
}

/// Panther's window rules, stated plainly over the labelled matches: per
/// dedup string, in input order, a window runs from its first event for the
/// dedup period; it alerts with at least `threshold` events.
fn expected_alerts(samples: &[Sample], threshold: u64, period_ms: i64) -> Vec<(String, u64)> {
    struct Window {
        start: i64,
        count: u64,
    }
    let time_of = |sample: &Sample| -> i64 {
        let event = &sample.event;
        let text = [
            "p_event_time",
            "requestReceivedTimestamp",
            "time",
            "timestamp",
        ]
        .iter()
        .find_map(|k| event.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
        let parsed = text.parse::<jiff::Timestamp>().ok().or_else(|| {
            let civil = text.parse::<jiff::civil::DateTime>().ok()?;
            jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
        });
        parsed.map_or(0, |t| t.as_millisecond())
    };
    let mut open: BTreeMap<String, Window> = BTreeMap::new();
    let mut alerts = Vec::new();
    let mut latest = i64::MIN;
    for sample in samples.iter().filter(|s| s.expected.matches_seed) {
        let time = time_of(sample);
        latest = latest.max(time);
        // Close every window that event time has passed.
        let closed: Vec<String> = open
            .iter()
            .filter(|(_, w)| w.start + period_ms <= latest)
            .map(|(k, _)| k.clone())
            .collect();
        for key in closed {
            if let Some(w) = open.remove(&key) {
                if w.count >= threshold {
                    alerts.push((key, w.count));
                }
            }
        }
        let dedup = sample.expected.dedup.clone().unwrap_or_default();
        open.entry(dedup)
            .and_modify(|w| w.count += 1)
            .or_insert(Window {
                start: time,
                count: 1,
            });
    }
    alerts.extend(
        open.into_iter()
            .filter(|(_, w)| w.count >= threshold)
            .map(|(k, w)| (k, w.count)),
    );
    alerts.sort();
    alerts
}

#[test]
fn alerts_equal_the_window_rules_over_the_labels() {
    let samples = samples(11, 20_000);
    let file = write_ndjson(&samples);
    let path = file.path().to_str().unwrap_or_default();
    let (lines, stderr) = detect(&["--rule", SEED_RULE, path]);
    let mut actual: Vec<(String, u64)> = lines
        .iter()
        .map(|a| {
            (
                a["dedup"].as_str().unwrap_or_default().to_owned(),
                a["event_count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    actual.sort();
    let expected = expected_alerts(&samples, 20, 15 * 60 * 1000);
    assert!(
        !expected.is_empty(),
        "the generated bursts cross the threshold"
    );
    assert_eq!(actual, expected, "{stderr}");
}
