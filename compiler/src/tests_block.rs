//! Reads a rule's `Tests` block: Panther's event tests (`Log` and
//! `ExpectedResult`), rulec's value assertions on them, and rulec's threshold
//! sequences (`Events` and `ExpectedAlerts`).

use rulec_runtime::event_time::{parse_step, parse_timestamp};
use yaml_serde::Value;

use crate::ir::{
    EventTest, ExpectedAlert, SequenceStep, SequenceTest, TestBody, TestCase, ValueExpectations,
};
use crate::names::test_fn_names;
use crate::rule_file::parse_severity;
use crate::yaml::{member, type_name, Reader, YNode};

/// Keys of a test case.
const TEST_KEYS: [&str; 10] = [
    "Name",
    "ExpectedResult",
    "Log",
    "Mocks",
    "ExpectedTitle",
    "ExpectedDedup",
    "ExpectedSeverity",
    "ExpectedAlertContext",
    "Events",
    "ExpectedAlerts",
];

/// Keys only an event test (`Log`) takes.
const EVENT_ONLY: [&str; 6] = [
    "ExpectedResult",
    "Log",
    "ExpectedTitle",
    "ExpectedDedup",
    "ExpectedSeverity",
    "ExpectedAlertContext",
];

const STEP_KEYS: [&str; 4] = ["Log", "Time", "Repeat", "Every"];
const EXPECTED_ALERT_KEYS: [&str; 4] = ["Title", "Dedup", "Severity", "EventCount"];

/// The most copies one step may make: a test is not a load generator.
const MAX_REPEAT: i64 = 100_000;

/// Parses the `Tests` block. `None` when any case has errors.
pub fn parse_tests(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    log_types: &[String],
) -> Option<Vec<TestCase>> {
    let items = reader.sequence(node, "`Tests`")?;
    let mut cases = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in &items {
        match parse_case(reader, item, log_types) {
            Some(case) => cases.push(case),
            None => ok = false,
        }
    }
    let names: Vec<String> = cases.iter().map(|c: &TestCase| c.name.clone()).collect();
    for (case, fn_name) in cases.iter_mut().zip(test_fn_names(&names)) {
        case.fn_name = fn_name;
    }
    ok.then_some(cases)
}

fn parse_case(reader: &mut Reader<'_>, item: &YNode<'_>, log_types: &[String]) -> Option<TestCase> {
    let entry = reader.mapping(item, "a test")?;
    reader.unknown_keys(item, &entry, &TEST_KEYS, "a test");
    let find = |key: &str| member(&entry, key);
    let name = match find("Name") {
        Some(n) => reader.scalar_text(&n, "a test's `Name`"),
        None => {
            reader.error(&item.path, "test without `Name`", None);
            None
        }
    };
    if let Some(mocks) = find("Mocks") {
        if !matches!(mocks.value, Value::Sequence(s) if s.is_empty()) {
            reader.error(
                &mocks.path,
                "`Mocks` replace Python functions, which YAML detections do not call",
                Some("remove `Mocks`".to_owned()),
            );
        }
    }
    let body = match find("Events") {
        Some(events) => {
            for key in EVENT_ONLY {
                if let Some(n) = find(key) {
                    reader.key_error(
                        &n.path,
                        format!("`{key}` belongs to a single-event test, and this test has `Events`"),
                        Some("a threshold test states its outcome with `ExpectedAlerts`; move the event under `Events:`".to_owned()),
                    );
                }
            }
            parse_sequence(reader, item, &events, find("ExpectedAlerts"), log_types)
                .map(TestBody::Sequence)
        }
        None => {
            if let Some(n) = find("ExpectedAlerts") {
                reader.key_error(
                    &n.path,
                    "`ExpectedAlerts` needs `Events`, the sequence of events to alert on",
                    Some("give the events under `Events:` (each with `Log`, and optionally `Time`, `Repeat`, `Every`)".to_owned()),
                );
            }
            parse_event_test(reader, item, &entry, log_types).map(TestBody::Event)
        }
    };
    Some(TestCase {
        name: name?,
        fn_name: String::new(),
        body: body?,
    })
}

fn parse_event_test(
    reader: &mut Reader<'_>,
    item: &YNode<'_>,
    entry: &[(&str, YNode<'_>)],
    log_types: &[String],
) -> Option<EventTest> {
    let find = |key: &str| member(entry, key);
    let expected = match find("ExpectedResult") {
        Some(n) => reader.boolean(&n, "`ExpectedResult`"),
        None => {
            reader.error(
                &item.path,
                "test without `ExpectedResult`",
                Some("add `ExpectedResult: true` or `false`".to_owned()),
            );
            None
        }
    };
    let log = match find("Log") {
        Some(n) => yaml_to_json(reader, &n),
        None => {
            reader.error(
                &item.path,
                "test without `Log`",
                Some("add the sample event under `Log:`".to_owned()),
            );
            None
        }
    };
    let expect = parse_expectations(reader, entry, expected);
    let log = log?;
    let log_type = log_type_of(reader, item, &log, log_types)?;
    Some(EventTest {
        expected: expected?,
        log_json: log.to_string(),
        log_type,
        expect: expect?,
    })
}

/// `ExpectedTitle`, `ExpectedDedup`, `ExpectedSeverity`, `ExpectedAlertContext`.
fn parse_expectations(
    reader: &mut Reader<'_>,
    entry: &[(&str, YNode<'_>)],
    expected: Option<bool>,
) -> Option<ValueExpectations> {
    let find = |key: &str| member(entry, key);
    let mut ok = true;
    let title = optional_text(reader, entry, "ExpectedTitle", &mut ok);
    let dedup = optional_text(reader, entry, "ExpectedDedup", &mut ok);
    let severity = match find("ExpectedSeverity") {
        Some(n) => match parse_severity(reader, &n, false) {
            Some(severity) => severity,
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let alert_context = match find("ExpectedAlertContext") {
        Some(n) if matches!(n.value, Value::Mapping(_)) => match serde_json::to_value(n.value) {
            Ok(json) => Some(json.to_string()),
            Err(e) => {
                reader.error(
                    &n.path,
                    format!("`ExpectedAlertContext` cannot be read as JSON: {e}"),
                    None,
                );
                ok = false;
                None
            }
        },
        Some(n) => {
            reader.error(
                &n.path,
                format!(
                    "`ExpectedAlertContext` must be a mapping of alert-context keys to values, found {}",
                    type_name(n.value)
                ),
                Some("list the keys to check, e.g. `ExpectedAlertContext: {username: alice}`".to_owned()),
            );
            ok = false;
            None
        }
        None => None,
    };
    let expect = ValueExpectations {
        title,
        dedup,
        severity,
        alert_context,
    };
    if expected == Some(false) {
        for key in [
            "ExpectedTitle",
            "ExpectedDedup",
            "ExpectedSeverity",
            "ExpectedAlertContext",
        ] {
            if let Some(n) = find(key) {
                reader.key_error(
                    &n.path,
                    format!("`{key}` asserts an alert output, and this test expects no match"),
                    Some(format!("remove `{key}`, or set `ExpectedResult: true`")),
                );
                ok = false;
            }
        }
    }
    ok.then_some(expect)
}

fn parse_sequence(
    reader: &mut Reader<'_>,
    item: &YNode<'_>,
    events: &YNode<'_>,
    expected_alerts: Option<YNode<'_>>,
    log_types: &[String],
) -> Option<SequenceTest> {
    let items = reader.sequence(events, "`Events`")?;
    if items.is_empty() {
        reader.error(
            &events.path,
            "`Events` is empty",
            Some("give at least one event (with `Log`)".to_owned()),
        );
        return None;
    }
    let mut steps = Vec::with_capacity(items.len());
    let mut ok = true;
    for step in &items {
        match parse_step_entry(reader, step, log_types) {
            Some(step) => steps.push(step),
            None => ok = false,
        }
    }
    let Some(expected_alerts) = expected_alerts else {
        reader.error(
            &item.path,
            "threshold test without `ExpectedAlerts`",
            Some("add `ExpectedAlerts: []` for no alert, or one entry per alert (with `Dedup`, `EventCount`, ...)".to_owned()),
        );
        return None;
    };
    let mut alerts = Vec::new();
    for alert in reader
        .sequence(&expected_alerts, "`ExpectedAlerts`")
        .unwrap_or_default()
    {
        match parse_expected_alert(reader, &alert) {
            Some(alert) => alerts.push(alert),
            None => ok = false,
        }
    }
    ok.then_some(SequenceTest {
        steps,
        expected_alerts: alerts,
    })
}

fn parse_step_entry(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    log_types: &[String],
) -> Option<SequenceStep> {
    let entry = reader.mapping(node, "an entry of `Events`")?;
    reader.unknown_keys(node, &entry, &STEP_KEYS, "an entry of `Events`");
    let find = |key: &str| member(&entry, key);
    let log = match find("Log") {
        Some(n) => yaml_to_json(reader, &n),
        None => {
            reader.error(
                &node.path,
                "an entry of `Events` without `Log`",
                Some("add the event under `Log:`".to_owned()),
            );
            None
        }
    };
    let time = match find("Time") {
        Some(n) => {
            let text = reader.scalar_text(&n, "`Time`")?;
            if parse_timestamp(&text).is_none() {
                reader.error(
                    &n.path,
                    format!("`Time` `{text}` is not a timestamp"),
                    Some("write RFC 3339, e.g. `2024-06-01T10:00:00Z`".to_owned()),
                );
                return None;
            }
            Some(text)
        }
        None => None,
    };
    let repeat = match find("Repeat") {
        Some(n) => u32::try_from(reader.integer(&n, "`Repeat`", 1..=MAX_REPEAT)?).ok()?,
        None => 1,
    };
    let every_millis = match find("Every") {
        Some(n) => {
            let text = reader.scalar_text(&n, "`Every`")?;
            match parse_step(&text) {
                Some(step) => u64::try_from(step.as_millis()).ok()?,
                None => {
                    reader.error(
                        &n.path,
                        format!("`Every` `{text}` is not a duration"),
                        Some(
                            "write a whole number with a unit: `250ms`, `30s`, `2m`, `1h`, `1d`"
                                .to_owned(),
                        ),
                    );
                    return None;
                }
            }
        }
        None => 0,
    };
    let log = log?;
    let log_type = log_type_of(reader, node, &log, log_types)?;
    Some(SequenceStep {
        log_type,
        log_json: log.to_string(),
        time,
        repeat,
        every_millis,
    })
}

fn parse_expected_alert(reader: &mut Reader<'_>, node: &YNode<'_>) -> Option<ExpectedAlert> {
    let entry = reader.mapping(node, "an expected alert")?;
    reader.unknown_keys(node, &entry, &EXPECTED_ALERT_KEYS, "an expected alert");
    let find = |key: &str| member(&entry, key);
    let mut ok = true;
    let title = optional_text(reader, &entry, "Title", &mut ok);
    let dedup = optional_text(reader, &entry, "Dedup", &mut ok);
    let severity = match find("Severity") {
        Some(n) => parse_severity(reader, &n, false)?,
        None => None,
    };
    let event_count = match find("EventCount") {
        Some(n) => Some(u64::try_from(reader.integer(&n, "`EventCount`", 1..=i64::MAX)?).ok()?),
        None => None,
    };
    ok.then_some(ExpectedAlert {
        title,
        dedup,
        severity,
        event_count,
    })
}

/// The text of an optional scalar key; a value that is not a scalar is
/// reported and clears `ok`.
fn optional_text(
    reader: &mut Reader<'_>,
    entry: &[(&str, YNode<'_>)],
    key: &str,
    ok: &mut bool,
) -> Option<String> {
    let node = member(entry, key)?;
    let value = reader.scalar_text(&node, &format!("`{key}`"));
    *ok &= value.is_some();
    value
}

/// The log type a test event is evaluated as: its `p_log_type`, else the
/// rule's first log type.
fn log_type_of(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    log: &serde_json::Value,
    log_types: &[String],
) -> Option<String> {
    match log.get("p_log_type") {
        Some(serde_json::Value::String(t)) => {
            if !log_types.contains(t) {
                reader.warning(
                    &node.path,
                    format!("the test's `p_log_type` `{t}` is not one of the rule's `LogTypes`; the rule does not run on it"),
                    None,
                );
            }
            Some(t.clone())
        }
        _ => log_types.first().cloned(),
    }
}

/// Converts a test's YAML `Log` into JSON; it must be a mapping.
fn yaml_to_json(reader: &mut Reader<'_>, node: &YNode<'_>) -> Option<serde_json::Value> {
    if !matches!(node.value, Value::Mapping(_)) {
        reader.error(
            &node.path,
            format!(
                "a test's `Log` must be a mapping (the event), found {}",
                type_name(node.value)
            ),
            None,
        );
        return None;
    }
    match serde_json::to_value(node.value) {
        Ok(json) => Some(json),
        Err(error) => {
            reader.error(
                &node.path,
                format!("the test's `Log` cannot be read as JSON: {error}"),
                Some("keys must be strings; values JSON types".to_owned()),
            );
            None
        }
    }
}
