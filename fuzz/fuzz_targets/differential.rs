//! `differential`: structure-aware events (see `rulec_fuzz::events`) through
//! the three implementations of every rule in the pack, compared as
//! `generated-tests/tests/differential.rs` compares them:
//!
//! - the fast path: `Detector::evaluate_line` over every rule (enabled or
//!   not) against `Detector::evaluate_bytes` (the generated matchers over
//!   `serde_json::Value`): the same refusal, or the same matches with the
//!   same outputs (title, dedup, severity, alert context, texts, unique) and
//!   the same rules raising; and each rule's `matches_projected` over a
//!   projection of only its own reads against its matcher over `Value`;
//! - the generated matchers over `Value` against the reference interpreter
//!   (`rulec_compiler::interp`), for every rule and every log type it reads
//!   (whatever `p_log_type` says): the same match and the same outputs,
//!   errors included.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rulec_compiler::interp;
use rulec_compiler::ir::RuleIr;
use rulec_fuzz::events::{event, write_line};
use rulec_fuzz::pack;
use rulec_runtime::projection::{Parsed, Projection};
use rulec_runtime::testing::CaseOutcome;
use rulec_runtime::{CompiledRule, Detector, Evaluation, RuleMeta};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(event) = event(&mut u) else {
        return;
    };
    let mut line = String::new();
    if write_line(&mut u, &event, &mut line).is_err() {
        line = event.to_string();
    }
    check_line(&line);
});

/// Every rule of the pack, enabled or not, and each rule's own projection.
struct Setup {
    detector: Detector,
    projections: Vec<Projection>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| Setup {
        detector: Detector::new(pack().compiled.iter().map(|(rule, _)| *rule)),
        projections: pack()
            .compiled
            .iter()
            .map(|(rule, _)| Projection::new(rule.meta.reads.iter().copied()))
            .collect(),
    })
}

fn check_line(line: &str) {
    let setup = setup();
    let mut scratch = Parsed::new();
    let full = setup.detector.evaluate_bytes(line.as_bytes());
    let fast = setup.detector.evaluate_line(&mut scratch, line);
    let value = match (full, fast) {
        (Ok((value, full)), Ok(fast)) => {
            assert_eq!(
                summary(&full),
                summary(&fast.evaluation),
                "fast path and full parse disagree:\n{line}"
            );
            let full_time = full
                .matches
                .first()
                .and_then(|m| (m.rule.event_time)(fast.log_type, &value));
            assert_eq!(fast.event_time, full_time, "{line}");
            value
        }
        (Err(full), Err(fast)) => {
            assert_eq!(full, fast, "{line}");
            return;
        }
        (full, fast) => panic!(
            "one path refuses the line:\n{line}\nfull: {:?}\nfast: {:?}",
            full.map(|_| ()),
            fast.map(|_| ())
        ),
    };
    for ((compiled, ir), projection) in pack().compiled.iter().zip(&setup.projections) {
        for log_type in compiled.meta.log_types {
            compare(compiled, ir, projection, log_type, &value, line);
        }
    }
}

/// The matches (rule and outputs) and the rules that raised.
fn summary(evaluation: &Evaluation) -> (Vec<(&'static str, String)>, Vec<&'static str>) {
    (
        evaluation
            .matches
            .iter()
            .map(|m| (m.rule.meta.id, format!("{:?}", m.detection)))
            .collect(),
        evaluation.errors.iter().map(|r| r.meta.id).collect(),
    )
}

fn compare(
    compiled: &CompiledRule,
    ir: &RuleIr,
    projection: &Projection,
    log_type: &str,
    event: &Value,
    line: &str,
) {
    let generated = CaseOutcome::evaluate(compiled, log_type, event);
    let reference = interpreted(compiled.meta, ir, log_type, event);
    assert_eq!(
        generated, reference,
        "{}: generated code and interpreter disagree as {log_type}:\n{line}",
        ir.meta.id
    );
    let mut parsed = Parsed::new();
    if let Err(e) = parsed.parse(line, projection) {
        panic!(
            "{}: the rule's projection refuses the line: {e}\n{line}",
            ir.meta.id
        );
    }
    assert_eq!(
        (compiled.matches_projected)(log_type, parsed.root(line)),
        generated.matched,
        "{}: the fast path and the full parse disagree as {log_type}:\n{line}",
        ir.meta.id
    );
}

fn interpreted(meta: &RuleMeta, rule: &RuleIr, log_type: &str, event: &Value) -> CaseOutcome {
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
