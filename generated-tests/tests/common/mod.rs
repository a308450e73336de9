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
