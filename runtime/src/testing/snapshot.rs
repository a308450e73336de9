//! The snapshot of a test case: every output the rule produced for it, as
//! pretty JSON, for insta to keep and diff.

use serde_json::{json, Map, Value};

use crate::rule::CompiledRule;
use crate::testing::case::{EventTest, SequenceTest, TestBody};
use crate::testing::outcome::CaseOutcome;
use crate::testing::sequence::run_sequence;
use crate::RuleError;

/// The snapshot text of the rule's test case whose function name is
/// `fn_name`.
///
/// # Panics
/// When the rule has no such case: the generated snapshot tests are stale
/// (`cargo xtask regen` rewrites them).
pub fn snapshot(rule: &CompiledRule, fn_name: &str) -> String {
    match rule.tests.iter().find(|case| case.fn_name == fn_name) {
        Some(case) => render(rule, &case.body),
        None => panic!(
            "rule {} has no test `{fn_name}`: the generated tests are stale; run `cargo xtask regen`",
            rule.meta.id
        ),
    }
}

/// The snapshot text of one case.
pub(crate) fn render(rule: &CompiledRule, body: &TestBody) -> String {
    let value = match body {
        TestBody::Event(test) => event_snapshot(rule, test),
        TestBody::Sequence(test) => sequence_snapshot(rule, test),
    };
    serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("unserialisable: {e}"))
}

fn or_error<T>(result: &Result<T, RuleError>, to_value: impl Fn(&T) -> Value) -> Value {
    match result {
        Ok(value) => to_value(value),
        Err(e) => json!({ "error": e.message() }),
    }
}

fn event_snapshot(rule: &CompiledRule, test: &EventTest) -> Value {
    let event: Value = match serde_json::from_str(test.log_json) {
        Ok(event) => event,
        Err(e) => return json!({ "error": format!("the test log is not JSON: {e}") }),
    };
    let outcome = CaseOutcome::evaluate(rule, test.log_type, &event);
    let mut map = Map::new();
    map.insert("log_type".into(), json!(test.log_type));
    map.insert("matched".into(), or_error(&outcome.matched, |m| json!(m)));
    map.insert("title".into(), or_error(&outcome.title, |t| json!(t)));
    map.insert("dedup".into(), or_error(&outcome.dedup, |d| json!(d)));
    map.insert(
        "severity".into(),
        or_error(&outcome.severity, |s| json!(s.as_str())),
    );
    map.insert(
        "alert_context".into(),
        or_error(&outcome.alert_context, |c| Value::from(c.clone())),
    );
    if rule.meta.templated_texts {
        map.insert("texts".into(), or_error(&outcome.texts, |t| json!(t)));
    }
    map.insert("threshold".into(), json!(rule.meta.threshold));
    map.insert(
        "dedup_period_minutes".into(),
        json!(rule.meta.dedup_period_minutes),
    );
    Value::Object(map)
}

fn sequence_snapshot(rule: &CompiledRule, test: &SequenceTest) -> Value {
    let outcome = run_sequence(rule, test);
    let alerts: Vec<Value> = outcome
        .alerts
        .iter()
        .map(|a| {
            json!({
                "severity": a.severity.as_str(),
                "title": a.title,
                "dedup": a.dedup,
                "event_count": a.event_count,
                "first_event_time": a.first_event_time.to_string(),
                "last_event_time": a.last_event_time.to_string(),
                "alert_context": a.alert_context,
            })
        })
        .collect();
    let mut map = Map::new();
    map.insert("events".into(), json!(outcome.events));
    map.insert("matches".into(), json!(outcome.matches));
    map.insert("threshold".into(), json!(rule.meta.threshold));
    map.insert(
        "dedup_period_minutes".into(),
        json!(rule.meta.dedup_period_minutes),
    );
    map.insert("alerts".into(), Value::Array(alerts));
    if !outcome.errors.is_empty() {
        map.insert("errors".into(), json!(outcome.errors));
    }
    Value::Object(map)
}
