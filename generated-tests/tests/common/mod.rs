//! Shared helpers: the rule set's IR, loaded by the compiler from `rules/`.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;

use rulec_compiler::ir::{RuleIr, TestBody};
use rulec_compiler::project::{compile_rule, compile_shared, Layout};
use rulec_runtime::CompiledRule;

/// The rules crate's directory.
pub fn rules_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// The IR of the rule file `relative` (under `rules/`), compiled without errors.
pub fn rule_ir(relative: &str) -> RuleIr {
    let layout = Layout::standard(rules_root());
    let shared = compile_shared(&layout);
    let compiled = compile_rule(&layout, &shared, relative);
    match compiled.rule {
        Some(rule) => rule,
        None => panic!("{relative} does not compile:\n{}", compiled.diagnostics),
    }
}

/// Every compiled rule with its IR.
pub fn all_rules() -> Vec<(&'static CompiledRule, RuleIr)> {
    rulec_rules::RULES
        .iter()
        .map(|rule| (*rule, rule_ir(rule.meta.source_file)))
        .collect()
}

/// Every test event of a rule, single-event tests and threshold steps alike:
/// `(test name, log type, event)`.
pub fn test_events(ir: &RuleIr) -> Vec<(String, String, serde_json::Value)> {
    let parse = |json: &str| -> serde_json::Value {
        serde_json::from_str(json).expect("test logs are JSON")
    };
    ir.tests
        .iter()
        .flat_map(|case| match &case.body {
            TestBody::Event(test) => {
                vec![(
                    case.name.clone(),
                    test.log_type.clone(),
                    parse(&test.log_json),
                )]
            }
            TestBody::Sequence(test) => test
                .steps
                .iter()
                .map(|step| {
                    (
                        case.name.clone(),
                        step.log_type.clone(),
                        parse(&step.log_json),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Checks every test event of every rule (compiled from `dir`, relative to
/// this crate) with the reference interpreter: it must agree with the
/// generated code on the match and every output, and with the expected result.
pub fn interpreter_agrees(rules: &[&'static CompiledRule], dir: &str) {
    let layout = Layout::standard(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir));
    let shared = compile_shared(&layout);
    let mut checked = 0;
    for rule in rules {
        let compiled = compile_rule(&layout, &shared, rule.meta.source_file);
        let Some(ir) = compiled.rule else {
            panic!(
                "{} does not compile:\n{}",
                rule.meta.source_file, compiled.diagnostics
            );
        };
        for case in &ir.tests {
            let TestBody::Event(test) = &case.body else {
                continue;
            };
            let event: serde_json::Value =
                serde_json::from_str(&test.log_json).expect("test logs are JSON");
            let lt = test.log_type.as_str();
            let what = format!("{} / {}", rule.meta.id, case.name);
            let interpreted = rulec_compiler::interp::matches(&ir, lt, &event);
            assert_eq!(interpreted, (rule.matches)(lt, &event), "match: {what}");
            assert_eq!(interpreted, Ok(test.expected), "expected result: {what}");
            assert_eq!(
                rulec_compiler::interp::title(&ir, lt, &event),
                (rule.title)(lt, &event),
                "title: {what}"
            );
            assert_eq!(
                rulec_compiler::interp::dedup(&ir, lt, &event),
                (rule.dedup)(lt, &event),
                "dedup: {what}"
            );
            assert_eq!(
                rulec_compiler::interp::severity(&ir, lt, &event),
                (rule.severity)(lt, &event),
                "severity: {what}"
            );
            assert_eq!(
                rulec_compiler::interp::alert_context(&ir, lt, &event),
                (rule.alert_context)(lt, &event),
                "alert context: {what}"
            );
            assert_eq!(
                rulec_compiler::interp::texts(&ir, lt, &event),
                (rule.texts)(lt, &event),
                "texts: {what}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no test case was checked");
}

/// The events to vary in differential tests: each single-event test's log
/// and the first step of each threshold test (later steps repeat the first
/// with other values), without repeats.
pub fn events_to_vary(ir: &RuleIr) -> Vec<(String, serde_json::Value)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for case in &ir.tests {
        let (log_type, json) = match &case.body {
            TestBody::Event(test) => (&test.log_type, &test.log_json),
            TestBody::Sequence(test) => match test.steps.first() {
                Some(step) => (&step.log_type, &step.log_json),
                None => continue,
            },
        };
        if seen.insert(json.clone()) {
            let event = serde_json::from_str(json).expect("test logs are JSON");
            out.push((log_type.clone(), event));
        }
    }
    out
}
