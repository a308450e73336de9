//! Running test cases: one at a time for the generated `#[test]`s, or a whole
//! rule set for `cargo xtask test`, whose report this module defines.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use crate::filter::{matches_all, RuleFilter};
use crate::rule::CompiledRule;
use crate::testing::case::{EventTest, SequenceTest, TestBody, TestCase};
use crate::testing::outcome::CaseOutcome;
use crate::testing::sequence::run_sequence;
use crate::testing::snapshot::render;
use crate::RuleError;

/// Which rules and tests to run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteRequest {
    /// `KEY=V1,V2` / `KEY!=V` filters, all of which a rule must pass.
    pub filters: Vec<String>,
    /// Only the tests with these names (all when empty).
    pub test_names: Vec<String>,
    /// Skip rules with `Enabled: false`.
    pub skip_disabled: bool,
}

/// The results of a rule set's tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// Rules that passed the filters, in the rule set's order.
    pub rules: Vec<RuleReport>,
    /// RuleIDs left out by `skip_disabled`.
    pub skipped_disabled: Vec<String>,
}

/// The results of one rule's tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleReport {
    /// `RuleID`.
    pub rule_id: String,
    /// The rule file, relative to the rules crate.
    pub source_file: String,
    /// `Enabled`.
    pub enabled: bool,
    /// How many test cases the rule has (before `test_names`).
    pub tests_total: usize,
    /// How many of its event tests expect `true`.
    pub expected_true: usize,
    /// How many of its event tests expect `false`.
    pub expected_false: usize,
    /// The cases run.
    pub cases: Vec<CaseResult>,
}

/// The result of one test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// `Name`.
    pub name: String,
    /// The generated test function's name.
    pub fn_name: String,
    /// Whether it passed.
    pub passed: bool,
    /// One line per output, as panther_analysis_tool prints them.
    pub lines: Vec<OutputLine>,
    /// Why it failed.
    pub failures: Vec<String>,
    /// Its snapshot text.
    pub snapshot: String,
}

/// One output of a case: `[PASS] [title] <value>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputLine {
    /// `rule`, `title`, `dedup`, `severity`, `alertContext`, `alerts`, `alert N`.
    pub function: String,
    /// Whether it passed.
    pub passed: bool,
    /// The value (or the error).
    pub value: String,
}

fn line(function: &str, passed: bool, value: String) -> OutputLine {
    OutputLine {
        function: function.to_owned(),
        passed,
        value,
    }
}

fn shown<T>(result: &Result<T, RuleError>, show: impl Fn(&T) -> String) -> String {
    match result {
        Ok(value) => show(value),
        Err(e) => format!("error: {e}"),
    }
}

fn event_lines(test: &EventTest, outcome: &CaseOutcome) -> Vec<OutputLine> {
    let rule_ok = matches!(outcome.matched, Ok(m) if m == test.expected);
    let mut lines = vec![line(
        "rule",
        rule_ok,
        shown(&outcome.matched, ToString::to_string),
    )];
    if !test.expected {
        return lines;
    }
    let expect = &test.expect;
    let text_ok = |actual: &Result<String, RuleError>, expected: Option<&str>| match actual {
        Ok(v) => expected.is_none_or(|e| e == v),
        Err(_) => false,
    };
    lines.push(line(
        "title",
        text_ok(&outcome.title, expect.title),
        shown(&outcome.title, Clone::clone),
    ));
    lines.push(line(
        "dedup",
        text_ok(&outcome.dedup, expect.dedup),
        shown(&outcome.dedup, Clone::clone),
    ));
    lines.push(line(
        "severity",
        matches!(outcome.severity, Ok(s) if expect.severity.is_none_or(|e| e == s)),
        shown(&outcome.severity, ToString::to_string),
    ));
    let context_ok = outcome.alert_context.is_ok()
        && outcome
            .value_failures(expect)
            .iter()
            .all(|f| !f.starts_with("ExpectedAlertContext"));
    lines.push(line(
        "alertContext",
        context_ok,
        shown(&outcome.alert_context, |c| {
            serde_json::Value::from(c.clone()).to_string()
        }),
    ));
    lines
}

fn run_event(rule: &CompiledRule, case: &TestCase, test: &EventTest) -> CaseResult {
    let snapshot = render(rule, &case.body);
    let event: serde_json::Value = match serde_json::from_str(test.log_json) {
        Ok(event) => event,
        Err(e) => {
            return CaseResult {
                name: case.name.to_owned(),
                fn_name: case.fn_name.to_owned(),
                passed: false,
                lines: Vec::new(),
                failures: vec![format!("the test log is not JSON: {e}")],
                snapshot,
            }
        }
    };
    let outcome = CaseOutcome::evaluate(rule, test.log_type, &event);
    let failures = outcome.failures(test);
    let passed = failures.is_empty();
    CaseResult {
        name: case.name.to_owned(),
        fn_name: case.fn_name.to_owned(),
        passed,
        lines: event_lines(test, &outcome),
        failures,
        snapshot,
    }
}

fn run_sequence_case(rule: &CompiledRule, case: &TestCase, test: &SequenceTest) -> CaseResult {
    let outcome = run_sequence(rule, test);
    let failures = outcome.failures(test);
    let count_ok = outcome.alerts.len() == test.expected_alerts.len() && outcome.errors.is_empty();
    let mut lines = vec![line(
        "alerts",
        count_ok,
        format!(
            "{} alert(s) from {} matching event(s) of {}",
            outcome.alerts.len(),
            outcome.matches,
            outcome.events
        ),
    )];
    for (i, alert) in outcome.alerts.iter().enumerate() {
        let tag = format!("alert {}", i + 1);
        let prefix = format!("{tag}:");
        lines.push(line(
            &tag,
            count_ok && !failures.iter().any(|f| f.starts_with(&prefix)),
            format!(
                "{} event(s) from {} to {}, dedup {}",
                alert.event_count, alert.first_event_time, alert.last_event_time, alert.dedup
            ),
        ));
    }
    CaseResult {
        name: case.name.to_owned(),
        fn_name: case.fn_name.to_owned(),
        passed: failures.is_empty(),
        lines,
        failures,
        snapshot: render(rule, &case.body),
    }
}

/// Runs one test case.
pub fn evaluate_case(rule: &CompiledRule, case: &TestCase) -> CaseResult {
    match &case.body {
        TestBody::Event(test) => run_event(rule, case, test),
        TestBody::Sequence(test) => run_sequence_case(rule, case, test),
    }
}

/// Runs the rule's test case whose function name is `fn_name` and panics with
/// a readable report when it fails. The generated `#[test]`s call this.
pub fn run_case(rule: &CompiledRule, fn_name: &str) {
    let Some(case) = rule.tests.iter().find(|case| case.fn_name == fn_name) else {
        panic!("rule {} has no test `{fn_name}`", rule.meta.id);
    };
    let result = evaluate_case(rule, case);
    if result.passed {
        return;
    }
    let mut text = format!(
        "[FAIL] {} ({} in {})\n",
        case.name, rule.meta.id, rule.meta.source_file
    );
    for failure in &result.failures {
        text.push_str(&format!("  - {failure}\n"));
    }
    for l in &result.lines {
        let status = if l.passed { "PASS" } else { "FAIL" };
        text.push_str(&format!("  [{status}] [{}] {}\n", l.function, l.value));
    }
    panic!("{text}");
}

/// Runs the tests of every rule that passes the request's filters.
pub fn run_suite(
    rules: &[&CompiledRule],
    request: &SuiteRequest,
) -> Result<SuiteReport, crate::filter::FilterError> {
    let filters = request
        .filters
        .iter()
        .map(|f| RuleFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = SuiteReport::default();
    for rule in rules {
        if !matches_all(&filters, rule.meta) {
            continue;
        }
        if request.skip_disabled && !rule.meta.enabled {
            report.skipped_disabled.push(rule.meta.id.to_owned());
            continue;
        }
        let expected = |want: bool| {
            rule.tests
                .iter()
                .filter(|c| matches!(c.body, TestBody::Event(t) if t.expected == want))
                .count()
        };
        let cases: Vec<CaseResult> = rule
            .tests
            .iter()
            .filter(|case| {
                request.test_names.is_empty() || request.test_names.iter().any(|n| n == case.name)
            })
            .map(|case| evaluate_case(rule, case))
            .collect();
        if cases.is_empty() && !request.test_names.is_empty() {
            // None of the named tests is this rule's.
            continue;
        }
        report.rules.push(RuleReport {
            rule_id: rule.meta.id.to_owned(),
            source_file: rule.meta.source_file.to_owned(),
            enabled: rule.meta.enabled,
            tests_total: rule.tests.len(),
            expected_true: expected(true),
            expected_false: expected(false),
            cases,
        });
    }
    Ok(report)
}

/// The main function of a test-runner binary: reads a [`SuiteRequest`] as
/// JSON from the first argument (all rules and tests without one), runs the
/// rule set's tests and prints the [`SuiteReport`] as JSON on stdout.
/// `cargo xtask test` builds and runs such a binary and prints the report.
pub fn suite_main(rules: &[&CompiledRule]) -> ExitCode {
    let request = match std::env::args().nth(1) {
        Some(json) => match serde_json::from_str::<SuiteRequest>(&json) {
            Ok(request) => request,
            Err(e) => {
                eprintln!("error: the test request is not valid JSON: {e}");
                return ExitCode::from(2);
            }
        },
        None => SuiteRequest::default(),
    };
    let report = match run_suite(rules, &request) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match serde_json::to_string(&report) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}
