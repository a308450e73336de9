//! The generated matchers and the reference interpreter agree: on every test
//! event of every rule, and on thousands of variations of them (each field
//! removed or replaced by values of other types, AKS audit logs mutated inside
//! their JSON string), they give the same match, title, dedup, severity and
//! alert context, errors included. The fast path (the matchers over a
//! projection keeping only the rule's reads) gives the same match, errors
//! included; and `Detector::evaluate_line` gives what `evaluate_bytes` gives
//! on the bundled sample and on every variation.

mod common;

use rulec_compiler::interp;
use rulec_compiler::ir::RuleIr;
use rulec_runtime::projection::{Parsed, Projection};
use rulec_runtime::testing::CaseOutcome;
use rulec_runtime::{CompiledRule, Detector, RuleError};
use serde_json::{json, Value};

fn replacements() -> Vec<Option<Value>> {
    let mut out = vec![None];
    for v in [
        json!(null),
        json!(""),
        json!(0),
        json!(1),
        json!(true),
        json!(false),
        json!("403"),
        json!(403),
        json!(403.0),
        json!(7),
        json!(16),
        json!(17),
        json!(-1),
        json!(400),
        json!("get"),
        json!("list"),
        json!("secrets"),
        json!("kube-system"),
        json!("Kube-System"),
        json!("system:node:x"),
        json!("system:serviceaccount:a:b"),
        json!("eks:x"),
        json!("aksService"),
        json!([]),
        json!({}),
        json!(["x"]),
        json!({"code": 403}),
        json!({"Code": 401, "Message": "m"}),
        json!("core/v1/namespaces/p/secrets/s/sub"),
        json!("a/b"),
        json!("io.k8s.core.v1.secrets.get"),
        json!("k8s.io"),
        json!("{\"verb\":\"get\"}"),
        json!("[1]"),
        json!("NaN"),
        json!(18446744073709551615u64),
        json!(1.5e300),
    ] {
        out.push(Some(v));
    }
    out
}

/// Every path to an object member in the event (leaves and inner nodes).
fn member_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(map) = value {
        for (key, child) in map {
            prefix.push(key.clone());
            out.push(prefix.clone());
            member_paths(child, prefix, out);
            prefix.pop();
        }
    }
}

fn with_replacement(event: &Value, path: &[String], replacement: &Option<Value>) -> Value {
    let mut copy = event.clone();
    let mut node = &mut copy;
    for key in &path[..path.len() - 1] {
        node = &mut node[key.as_str()];
    }
    if let Value::Object(map) = node {
        let last = &path[path.len() - 1];
        match replacement {
            Some(v) => {
                map.insert(last.clone(), v.clone());
            }
            None => {
                map.shift_remove(last);
            }
        }
    }
    copy
}

/// Variations of one event: every member replaced by each replacement, and
/// the same inside an embedded JSON audit log (AKS `properties.log`).
fn variations(event: &Value) -> Vec<Value> {
    let mut paths = Vec::new();
    member_paths(event, &mut Vec::new(), &mut paths);
    let replacements = replacements();
    let mut out = vec![event.clone()];
    for path in &paths {
        if path.len() == 1 && path[0] == "p_log_type" {
            continue;
        }
        for replacement in &replacements {
            out.push(with_replacement(event, path, replacement));
        }
    }
    if let Some(Value::String(log)) = event.pointer("/properties/log") {
        if let Ok(inner) = serde_json::from_str::<Value>(log) {
            let mut inner_paths = Vec::new();
            member_paths(&inner, &mut Vec::new(), &mut inner_paths);
            for path in &inner_paths {
                for replacement in &replacements {
                    let mutated = with_replacement(&inner, path, replacement);
                    let mut copy = event.clone();
                    copy["properties"]["log"] = Value::String(mutated.to_string());
                    out.push(copy);
                }
            }
        }
    }
    out
}

fn interpreted(
    meta: &rulec_runtime::RuleMeta,
    rule: &RuleIr,
    log_type: &str,
    event: &Value,
) -> CaseOutcome {
    let title = interp::title(rule, log_type, event).map(rulec_runtime::rule::truncate_output);
    let dedup = rulec_runtime::rule::resolve_dedup(
        meta,
        interp::dedup(rule, log_type, event),
        title.as_deref().unwrap_or(""),
    );
    CaseOutcome {
        matched: interp::matches(rule, log_type, event),
        title,
        dedup,
        severity: interp::severity(rule, log_type, event),
        alert_context: interp::alert_context(rule, log_type, event),
        texts: interp::texts(rule, log_type, event),
    }
}

/// The rule's matcher on the fast path: the event as a line, parsed keeping
/// only what this rule reads.
fn projected(compiled: &CompiledRule, log_type: &str, event: &Value) -> Result<bool, RuleError> {
    let line = event.to_string();
    let projection = Projection::new(compiled.meta.reads.iter().copied());
    let mut parsed = Parsed::new();
    if let Err(e) = parsed.parse(&line, &projection) {
        panic!("a JSON event does not parse on the fast path: {e}\n{line}");
    }
    (compiled.matches_projected)(log_type, parsed.root(&line))
}

fn compare(compiled: &CompiledRule, ir: &RuleIr, log_type: &str, event: &Value) -> bool {
    let generated = CaseOutcome::evaluate(compiled, log_type, event);
    let reference = interpreted(compiled.meta, ir, log_type, event);
    assert_eq!(
        generated, reference,
        "{}: generated code and interpreter disagree on a {log_type} event:\n{event}",
        ir.meta.id
    );
    assert_eq!(
        projected(compiled, log_type, event),
        generated.matched,
        "{}: the fast path and the full parse disagree on a {log_type} event:\n{event}",
        ir.meta.id
    );
    generated.matched == Ok(true)
}

/// What a detector found on one line, comparable across the two paths.
fn summary(
    evaluation: &rulec_runtime::Evaluation,
) -> (Vec<(&'static str, String)>, Vec<&'static str>) {
    (
        evaluation
            .matches
            .iter()
            .map(|m| (m.rule.meta.id, format!("{:?}", m.detection)))
            .collect(),
        evaluation.errors.iter().map(|r| r.meta.id).collect(),
    )
}

#[test]
fn the_fast_path_agrees_with_the_full_parse_on_the_sample_and_every_variation() {
    let detector = Detector::new(rulec_rules::RULES.iter().copied());
    let sample = include_str!("../../examples/k8s_audit_sample.ndjson");
    let mut lines: Vec<String> = sample.lines().map(str::to_owned).collect();
    for (_, ir) in common::all_rules() {
        for (log_type, mut event) in common::events_to_vary(&ir) {
            if let Value::Object(map) = &mut event {
                map.entry("p_log_type")
                    .or_insert_with(|| Value::String(log_type.clone()));
            }
            // Every variation is already checked rule by rule above; here
            // every fifth, through the whole rule set.
            lines.push(event.to_string());
            lines.extend(variations(&event).iter().step_by(5).map(Value::to_string));
        }
    }
    let mut scratch = Parsed::new();
    let (mut checked, mut matched) = (0usize, 0usize);
    for line in &lines {
        let full = detector.evaluate_bytes(line.as_bytes());
        let fast = detector.evaluate_line(&mut scratch, line);
        match (full, fast) {
            (Ok((_, full)), Ok(fast)) => {
                assert_eq!(summary(&full), summary(&fast.evaluation), "{line}");
                // The event time too, through either representation.
                let event: Value = serde_json::from_str(line).expect("parsed above");
                let full_time = full
                    .matches
                    .first()
                    .and_then(|m| (m.rule.event_time)(fast.log_type, &event));
                assert_eq!(fast.event_time, full_time, "{line}");
                matched += usize::from(!full.matches.is_empty());
            }
            (Err(full), Err(fast)) => assert_eq!(full, fast, "{line}"),
            (full, fast) => panic!(
                "{line}\nfull: {:?}\nfast: {:?}",
                full.map(|_| ()),
                fast.map(|_| ())
            ),
        }
        checked += 1;
    }
    eprintln!("fast path: {checked} lines, {matched} with matches");
    assert!(
        checked > 5000 && matched > 500,
        "{checked} lines, {matched} matched"
    );
    assert!(
        matched < checked,
        "every line matched: the comparison proves little"
    );
}

#[test]
fn generated_code_agrees_with_the_interpreter() {
    let mut checked = 0usize;
    let mut matched = 0usize;
    for (compiled, ir) in common::all_rules() {
        for (index, (own_log_type, event)) in common::events_to_vary(&ir).into_iter().enumerate() {
            // Each event as its own log type; the first also as the others.
            let log_types: Vec<&String> = if index == 0 {
                ir.meta.log_types.iter().collect()
            } else {
                vec![&own_log_type]
            };
            for variant in variations(&event) {
                for log_type in &log_types {
                    checked += 1;
                    matched += usize::from(compare(compiled, &ir, log_type, &variant));
                }
            }
        }
    }
    eprintln!("differential: {checked} comparisons, {matched} matched");
    // The variations must exercise both outcomes, or the comparison proves little.
    assert!(checked > 3000, "only {checked} comparisons");
    assert!(
        matched > 100 && matched < checked / 2,
        "{matched} of {checked} matched"
    );
}

#[test]
fn test_cases_agree_on_their_own_log_type() {
    for (compiled, ir) in common::all_rules() {
        for (_, log_type, event) in common::test_events(&ir) {
            // Whether each case passes is the rule's own generated test; here
            // only agreement counts.
            compare(compiled, &ir, &log_type, &event);
        }
    }
}
