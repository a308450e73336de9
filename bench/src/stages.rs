//! What the benchmark measures: JSON-parsing floors, the reference
//! interpreter, the generated matchers over `serde_json::Value`, and the fast
//! path, each over the same corpus.

use rulec::{CompiledRule, Detector, Parsed};
use rulec_compiler::interp;
use rulec_compiler::ir::RuleIr;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::corpus::Corpus;
use crate::measure::{measure, Figure};

/// The rule set a stage runs: compiled rules and their IR.
pub struct RuleSet {
    /// Its name in the table.
    pub name: &'static str,
    /// The compiled rules.
    pub rules: Vec<&'static CompiledRule>,
    /// Their IR, for the interpreter.
    pub irs: Vec<RuleIr>,
}

impl RuleSet {
    /// The rules of `log_type`, with their IR.
    fn of(&self, log_type: &str) -> impl Iterator<Item = (&'static CompiledRule, &RuleIr)> {
        let log_type = log_type.to_owned();
        self.rules
            .iter()
            .zip(&self.irs)
            .filter(move |(rule, _)| rule.meta.handles(&log_type))
            .map(|(rule, ir)| (*rule, ir))
    }
}

fn log_type(event: &Value) -> &str {
    event
        .get("p_log_type")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Splitting the input into lines.
pub fn lines(corpus: &Corpus, runs: usize) -> Figure {
    measure("floor: split lines", corpus, runs, || {
        memchr::memchr_iter(b'\n', corpus.text.as_bytes()).count() as u64
    })
}

/// `serde_json` into `T`, per line: the number of lines that parse.
fn parse_each<T: serde::de::DeserializeOwned>(corpus: &Corpus) -> u64 {
    corpus
        .lines()
        .filter(|line| serde_json::from_str::<T>(line).is_ok())
        .count() as u64
}

// Each stage's pass over the corpus is a function of its own, never inlined,
// so that callgrind can count one stage's instructions alone
// (`--collect-atstart=no --toggle-collect=rulec_bench::stages::<name>`).

/// One pass of `serde_json` into `IgnoredAny`.
#[inline(never)]
pub fn ignored_any_pass(corpus: &Corpus) -> u64 {
    parse_each::<IgnoredAny>(corpus)
}

/// One pass of `serde_json` into `Value`.
#[inline(never)]
pub fn value_pass(corpus: &Corpus) -> u64 {
    parse_each::<Value>(corpus)
}

/// One pass of `sonic-rs` (a SIMD JSON parser) into `IgnoredAny`.
#[inline(never)]
pub fn sonic_ignored_any_pass(corpus: &Corpus) -> u64 {
    corpus
        .lines()
        .filter(|line| sonic_rs::from_str::<IgnoredAny>(line).is_ok())
        .count() as u64
}

/// One pass of `sonic-rs` into its own `Value`.
#[inline(never)]
pub fn sonic_value_pass(corpus: &Corpus) -> u64 {
    corpus
        .lines()
        .filter(|line| sonic_rs::from_str::<sonic_rs::Value>(line).is_ok())
        .count() as u64
}

/// One pass of the fast path (`Detector::evaluate_line`): the matches.
#[inline(never)]
pub fn fast_pass(detector: &Detector, scratch: &mut Parsed, corpus: &Corpus) -> u64 {
    let mut matched = 0u64;
    for line in corpus.lines() {
        if let Ok(outcome) = detector.evaluate_line(scratch, line) {
            matched += outcome.evaluation.matches.len() as u64;
        }
    }
    matched
}

/// One pass of the fast path's parse alone: the lines that parse.
#[inline(never)]
pub fn projection_parse_pass(detector: &Detector, scratch: &mut Parsed, corpus: &Corpus) -> u64 {
    corpus
        .lines()
        .filter(|line| scratch.parse(line, detector.projection()).is_ok())
        .count() as u64
}

/// `serde_json` into `IgnoredAny`, per line.
pub fn ignored_any(corpus: &Corpus, runs: usize) -> Figure {
    measure("floor: serde_json -> IgnoredAny", corpus, runs, || {
        ignored_any_pass(corpus)
    })
}

/// `serde_json` into `Value`, per line.
pub fn value(corpus: &Corpus, runs: usize) -> Figure {
    measure("floor: serde_json -> Value", corpus, runs, || {
        value_pass(corpus)
    })
}

/// `sonic-rs` into `IgnoredAny`, per line: a reference, not a floor (the
/// SIMD parser the issue suggests, validating each line as the floor does).
pub fn sonic_ignored_any(corpus: &Corpus, runs: usize) -> Figure {
    measure("reference: sonic-rs -> IgnoredAny", corpus, runs, || {
        sonic_ignored_any_pass(corpus)
    })
}

/// `sonic-rs` into its `Value`, per line: a reference, the SIMD parser
/// building a whole document.
pub fn sonic_value(corpus: &Corpus, runs: usize) -> Figure {
    measure(
        "reference: sonic-rs -> sonic_rs::Value",
        corpus,
        runs,
        || sonic_value_pass(corpus),
    )
}

/// simdjson's first stage on each line ([`crate::structural`]): a
/// reference, not a floor; its result is the index entries found.
pub fn structural_index(corpus: &Corpus, runs: usize) -> Figure {
    measure(
        "reference: structural index, no validation",
        corpus,
        runs,
        || structural_pass(corpus),
    )
}

/// One pass of [`structural_index`]: the index entries of every line.
#[inline(never)]
pub fn structural_pass(corpus: &Corpus) -> u64 {
    corpus
        .lines()
        .map(|line| u64::from(crate::structural::structural_count(line.as_bytes())))
        .sum()
}

/// Parses each line into a `Value` and counts the rules of its log type
/// for which `matches` holds.
fn over_value(
    stage: String,
    corpus: &Corpus,
    set: &RuleSet,
    runs: usize,
    matches: impl Fn(&'static CompiledRule, &RuleIr, &str, &Value) -> bool,
) -> Figure {
    measure(stage, corpus, runs, || {
        let mut matched = 0u64;
        for line in corpus.lines() {
            let Ok(event) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let log_type = log_type(&event);
            for (rule, ir) in set.of(log_type) {
                matched += u64::from(matches(rule, ir, log_type, &event));
            }
        }
        matched
    })
}

/// The reference interpreter over `Value`: parse, then every rule of the
/// event's log type.
pub fn interpreter(corpus: &Corpus, set: &RuleSet, runs: usize) -> Figure {
    over_value(
        format!("interpreter over Value, {}", set.name),
        corpus,
        set,
        runs,
        |_, ir, log_type, event| interp::matches(ir, log_type, event) == Ok(true),
    )
}

/// The generated matchers over `Value`: parse, then every rule of the
/// event's log type.
pub fn generated(corpus: &Corpus, set: &RuleSet, runs: usize) -> Figure {
    over_value(
        format!("generated over Value, {}", set.name),
        corpus,
        set,
        runs,
        |rule, _, log_type, event| (rule.matches)(log_type, event) == Ok(true),
    )
}

/// The fast path in process: `Detector::evaluate_line` (outputs built for
/// matches).
pub fn fast(corpus: &Corpus, set: &RuleSet, runs: usize) -> Figure {
    let detector = Detector::new(set.rules.iter().copied());
    let mut scratch = Parsed::new();
    measure(
        format!("fast path (in process), {}", set.name),
        corpus,
        runs,
        || fast_pass(&detector, &mut scratch, corpus),
    )
}

/// The fast path's parse alone (no matcher runs): the projection of the
/// rule set's reads, or with no rules only `p_log_type`.
pub fn projection_parse(corpus: &Corpus, set: Option<&RuleSet>, runs: usize) -> Figure {
    let detector = Detector::new(set.map_or(&[][..], |s| &s.rules[..]).iter().copied());
    let mut scratch = Parsed::new();
    measure(
        format!(
            "fast path parse only, {}",
            set.map_or("p_log_type only", |s| s.name)
        ),
        corpus,
        runs,
        || projection_parse_pass(&detector, &mut scratch, corpus),
    )
}
