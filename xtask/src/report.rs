//! Renders `cargo xtask test` results: panther_analysis_tool's text layout
//! (coloured on a terminal, plain otherwise or with NO_COLOR), JSON, or JUnit
//! XML.

use std::io::Write as _;

use anstyle::{AnsiColor, Style};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde_json::{json, Value};

use crate::snapshots::SnapshotStatus;
use crate::test_cmd::{CaseView, Results, RuleView};

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();

fn status(passed: bool) -> String {
    if passed {
        format!("[{GREEN}PASS{GREEN:#}]")
    } else {
        format!("[{RED}FAIL{RED:#}]")
    }
}

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Rules whose tests all pass.
    pub rules_passed: usize,
    /// Rules with a failing test or too few tests.
    pub rules_failed: usize,
    /// Rules skipped (`--skip-disabled-tests`).
    pub rules_skipped: usize,
    /// Rule files that do not compile.
    pub rules_invalid: usize,
    /// Test cases that pass.
    pub tests_passed: usize,
    /// Test cases that fail.
    pub tests_failed: usize,
}

/// The summary counts of a run.
pub fn summary(results: &Results) -> Summary {
    let cases = || results.rules.iter().flat_map(|r| &r.cases);
    Summary {
        rules_passed: results.rules.iter().filter(|r| r.passed()).count(),
        rules_failed: results.rules.iter().filter(|r| !r.passed()).count(),
        rules_skipped: results.skipped.len(),
        rules_invalid: results.invalid.len(),
        tests_passed: cases().filter(|c| c.passed()).count(),
        tests_failed: cases().filter(|c| !c.passed()).count(),
    }
}

fn case_text(case: &CaseView, out: &mut String) {
    let result = &case.result;
    out.push_str(&format!("\t{} {}\n", status(case.passed()), result.name));
    for line in &result.lines {
        out.push_str(&format!(
            "\t\t{} [{}] {}\n",
            status(line.passed),
            line.function,
            line.value
        ));
    }
    for failure in &result.failures {
        out.push_str(&format!("\t\t{RED}- {failure}{RED:#}\n"));
    }
    match &case.snapshot {
        SnapshotStatus::Matches => {}
        SnapshotStatus::Missing { path } => out.push_str(&format!(
            "\t\t{YELLOW}[SNAPSHOT]{YELLOW:#} no snapshot yet ({path})\n"
        )),
        SnapshotStatus::Unreadable { path, error } => out.push_str(&format!(
            "\t\t{RED}[SNAPSHOT]{RED:#} cannot read {path}: {error}\n"
        )),
        SnapshotStatus::Differs { path, diff } => {
            out.push_str(&format!(
                "\t\t{RED}[SNAPSHOT]{RED:#} the output differs from {path}:\n"
            ));
            for line in diff.lines() {
                let style = match line.chars().next() {
                    Some('-') => RED,
                    Some('+') => GREEN,
                    _ => Style::new(),
                };
                out.push_str(&format!("\t\t\t{style}{line}{style:#}\n"));
            }
        }
    }
}

fn rule_text(rule: &RuleView, failures_only: bool, out: &mut String) {
    out.push_str(&rule.report.rule_id);
    out.push('\n');
    for problem in &rule.problems {
        out.push_str(&format!("\t{} {problem}\n", status(false)));
    }
    for case in &rule.cases {
        if !failures_only || !case.passed() {
            case_text(case, out);
        }
    }
    out.push('\n');
}

/// Prints the text report on stdout; anstream drops the colours when stdout
/// is not a terminal or NO_COLOR is set.
pub fn print_text(results: &Results, failures_only: bool) {
    let out = text(results, failures_only);
    let mut stdout = anstream::stdout();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

/// The text report, with ANSI colours.
pub fn text(results: &Results, failures_only: bool) -> String {
    let mut out = String::new();
    for rule in &results.rules {
        if !failures_only || !rule.passed() {
            rule_text(rule, failures_only, &mut out);
        }
    }
    for invalid in &results.invalid {
        out.push_str(&format!("{RED}[INVALID]{RED:#} {}\n", invalid.file));
        for diagnostic in &invalid.diagnostics.0 {
            for line in diagnostic.to_string().lines() {
                out.push_str(&format!("\t{line}\n"));
            }
        }
        out.push('\n');
    }
    let s = summary(results);
    out.push_str("--------------------------\nTest Summary\n");
    out.push_str(&format!("\tPath: {}\n", results.path));
    out.push_str(&format!("\tPassed: {}\n", s.rules_passed));
    out.push_str(&format!("\tSkipped: {}\n", s.rules_skipped));
    out.push_str(&format!("\tFailed: {}\n", s.rules_failed));
    out.push_str(&format!("\tInvalid: {}\n", s.rules_invalid));
    out.push_str(&format!(
        "\tTests: {} passed, {} failed\n",
        s.tests_passed, s.tests_failed
    ));
    for skipped in &results.skipped {
        out.push_str(&format!("\tskipped (disabled): {skipped}\n"));
    }
    for note in &results.notes {
        out.push_str(&format!("\n{YELLOW}note:{YELLOW:#} {note}\n"));
    }
    if results.snapshot_trouble() {
        out.push_str(&format!(
            "\n{YELLOW}note:{YELLOW:#} alert outputs differ from their snapshots. Review them with \
             `cargo insta test --review -p generated-tests` (cargo-insta), or, once reviewed above, \
             accept them all with `cargo xtask test --accept-snapshots`.\n"
        ));
    }
    out
}

fn snapshot_json(status: &SnapshotStatus) -> Value {
    match status {
        SnapshotStatus::Matches => json!({"status": "matches"}),
        SnapshotStatus::Missing { path } => json!({"status": "missing", "path": path}),
        SnapshotStatus::Differs { path, diff } => {
            json!({"status": "differs", "path": path, "diff": diff})
        }
        SnapshotStatus::Unreadable { path, error } => {
            json!({"status": "unreadable", "path": path, "error": error})
        }
    }
}

/// The JSON report.
pub fn json(results: &Results) -> Result<String, String> {
    let s = summary(results);
    let rules: Vec<Value> = results
        .rules
        .iter()
        .map(|rule| {
            let tests: Vec<Value> = rule
                .cases
                .iter()
                .map(|case| {
                    json!({
                        "name": case.result.name,
                        "passed": case.passed(),
                        "failures": case.result.failures,
                        "outputs": case.result.lines,
                        "snapshot": snapshot_json(&case.snapshot),
                    })
                })
                .collect();
            json!({
                "rule_id": rule.report.rule_id,
                "file": rule.report.source_file,
                "passed": rule.passed(),
                "problems": rule.problems,
                "tests": tests,
            })
        })
        .collect();
    let invalid: Vec<Value> = results
        .invalid
        .iter()
        .map(|i| {
            json!({
                "file": i.file,
                "errors": i.diagnostics.0.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    let report = json!({
        "path": results.path,
        "passed": !results.failed(),
        "rules": rules,
        "invalid": invalid,
        "skipped": results.skipped,
        "notes": results.notes,
        "summary": {
            "rules": {
                "passed": s.rules_passed,
                "failed": s.rules_failed,
                "skipped": s.rules_skipped,
                "invalid": s.rules_invalid,
            },
            "tests": {"passed": s.tests_passed, "failed": s.tests_failed},
        },
    });
    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())
}

fn case_failure_text(case: &CaseView) -> String {
    let mut text = String::new();
    for failure in &case.result.failures {
        text.push_str(failure);
        text.push('\n');
    }
    for line in &case.result.lines {
        let mark = if line.passed { "PASS" } else { "FAIL" };
        text.push_str(&format!("[{mark}] [{}] {}\n", line.function, line.value));
    }
    match &case.snapshot {
        SnapshotStatus::Matches => {}
        SnapshotStatus::Missing { path } => text.push_str(&format!("no snapshot yet ({path})\n")),
        SnapshotStatus::Unreadable { path, error } => {
            text.push_str(&format!("cannot read {path}: {error}\n"));
        }
        SnapshotStatus::Differs { path, diff } => {
            text.push_str(&format!("the output differs from {path}:\n{diff}"));
        }
    }
    text
}

fn case_failure_message(case: &CaseView) -> String {
    if let Some(first) = case.result.failures.first() {
        return first.clone();
    }
    match &case.snapshot {
        SnapshotStatus::Missing { .. } => "no snapshot yet".to_owned(),
        SnapshotStatus::Differs { .. } => "the alert output differs from its snapshot".to_owned(),
        SnapshotStatus::Unreadable { .. } => "the snapshot cannot be read".to_owned(),
        SnapshotStatus::Matches => "failed".to_owned(),
    }
}

type XmlResult = Result<(), std::io::Error>;

fn write_case(w: &mut Writer<Vec<u8>>, rule: &RuleView, case: &CaseView) -> XmlResult {
    let mut start = BytesStart::new("testcase");
    start.push_attribute(("name", case.result.name.as_str()));
    start.push_attribute(("classname", rule.report.rule_id.as_str()));
    start.push_attribute((
        "file",
        format!("rules/{}", rule.report.source_file).as_str(),
    ));
    if case.passed() {
        w.write_event(Event::Empty(start))?;
        return Ok(());
    }
    w.write_event(Event::Start(start))?;
    let mut failure = BytesStart::new("failure");
    failure.push_attribute(("message", case_failure_message(case).as_str()));
    failure.push_attribute(("type", "AssertionError"));
    w.write_event(Event::Start(failure))?;
    w.write_event(Event::Text(BytesText::new(&case_failure_text(case))))?;
    w.write_event(Event::End(BytesEnd::new("failure")))?;
    w.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}

fn write_junit(w: &mut Writer<Vec<u8>>, results: &Results) -> XmlResult {
    let s = summary(results);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "rulec"));
    suites.push_attribute((
        "tests",
        (s.tests_passed + s.tests_failed + s.rules_invalid)
            .to_string()
            .as_str(),
    ));
    suites.push_attribute(("failures", s.tests_failed.to_string().as_str()));
    suites.push_attribute(("errors", s.rules_invalid.to_string().as_str()));
    w.write_event(Event::Start(suites))?;
    for rule in &results.rules {
        let failures = rule.cases.iter().filter(|c| !c.passed()).count();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", rule.report.rule_id.as_str()));
        suite.push_attribute((
            "tests",
            (rule.cases.len() + rule.problems.len())
                .to_string()
                .as_str(),
        ));
        suite.push_attribute((
            "failures",
            (failures + rule.problems.len()).to_string().as_str(),
        ));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("skipped", "0"));
        suite.push_attribute((
            "file",
            format!("rules/{}", rule.report.source_file).as_str(),
        ));
        w.write_event(Event::Start(suite))?;
        for problem in &rule.problems {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("name", "test coverage"));
            case.push_attribute(("classname", rule.report.rule_id.as_str()));
            w.write_event(Event::Start(case))?;
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", problem.as_str()));
            w.write_event(Event::Empty(failure))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        for case in &rule.cases {
            write_case(w, rule, case)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    for invalid in &results.invalid {
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", invalid.file.as_str()));
        suite.push_attribute(("tests", "1"));
        suite.push_attribute(("failures", "0"));
        suite.push_attribute(("errors", "1"));
        suite.push_attribute(("file", format!("rules/{}", invalid.file).as_str()));
        w.write_event(Event::Start(suite))?;
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("name", "compile"));
        case.push_attribute(("classname", invalid.file.as_str()));
        w.write_event(Event::Start(case))?;
        let text = invalid.diagnostics.to_string();
        let mut error = BytesStart::new("error");
        error.push_attribute((
            "message",
            text.lines().next().unwrap_or("invalid rule file"),
        ));
        error.push_attribute(("type", "InvalidRule"));
        w.write_event(Event::Start(error))?;
        w.write_event(Event::Text(BytesText::new(&text)))?;
        w.write_event(Event::End(BytesEnd::new("error")))?;
        w.write_event(Event::End(BytesEnd::new("testcase")))?;
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

/// The JUnit XML report.
pub fn junit(results: &Results) -> Result<String, String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_junit(&mut writer, results).map_err(|e| e.to_string())?;
    String::from_utf8(writer.into_inner()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::InvalidRule;
    use rulec_compiler::diag::{Diagnostic, Diagnostics, Level, Location};
    use rulec_runtime::testing::{CaseResult, OutputLine, RuleReport};

    fn case(name: &str, passed: bool, snapshot: SnapshotStatus) -> CaseView {
        CaseView {
            result: CaseResult {
                name: name.to_owned(),
                fn_name: name.to_lowercase().replace(' ', "_"),
                passed,
                lines: vec![OutputLine {
                    function: "rule".to_owned(),
                    passed,
                    value: "true".to_owned(),
                }],
                failures: if passed {
                    Vec::new()
                } else {
                    vec!["expected true, got false".to_owned()]
                },
                snapshot: "{}".to_owned(),
            },
            snapshot,
        }
    }

    fn results() -> Results {
        let report = |id: &str| RuleReport {
            rule_id: id.to_owned(),
            source_file: "x/rule.yml".to_owned(),
            enabled: true,
            tests_total: 2,
            expected_true: 1,
            expected_false: 1,
            cases: Vec::new(),
        };
        Results {
            path: "rules".to_owned(),
            rules: vec![
                RuleView {
                    report: report("Good.Rule"),
                    cases: vec![case("A <&> \"quoted\"", true, SnapshotStatus::Matches)],
                    problems: Vec::new(),
                },
                RuleView {
                    report: report("Bad.Rule"),
                    cases: vec![
                        case("Fails", false, SnapshotStatus::Matches),
                        case(
                            "Snapshot changed",
                            true,
                            SnapshotStatus::Differs {
                                path: "s.snap".to_owned(),
                                diff: "-old\n+new\n".to_owned(),
                            },
                        ),
                    ],
                    problems: Vec::new(),
                },
            ],
            invalid: vec![InvalidRule {
                file: "x/broken.yml".to_owned(),
                diagnostics: Diagnostics(vec![Diagnostic {
                    level: Level::Error,
                    file: "x/broken.yml".to_owned(),
                    location: Some(Location {
                        line: 5,
                        column: 11,
                    }),
                    message: "unknown severity `Hihg`".to_owned(),
                    help: Some("did you mean `High`?".to_owned()),
                }]),
            }],
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn text_follows_pat_layout() {
        let plain = anstream::adapter::strip_str(&text(&results(), false)).to_string();
        assert!(
            plain.starts_with("Good.Rule\n\t[PASS] A <&> \"quoted\"\n\t\t[PASS] [rule] true\n"),
            "{plain}"
        );
        assert!(plain.contains("\t[FAIL] Fails\n"), "{plain}");
        assert!(
            plain.contains("\t\t- expected true, got false\n"),
            "{plain}"
        );
        assert!(
            plain.contains("[SNAPSHOT] the output differs from s.snap:\n\t\t\t-old\n\t\t\t+new\n"),
            "{plain}"
        );
        assert!(
            plain.contains(
                "[INVALID] x/broken.yml\n\tx/broken.yml:5:11: error: unknown severity `Hihg`"
            ),
            "{plain}"
        );
        assert!(plain.contains("\tPassed: 1\n\tSkipped: 0\n\tFailed: 1\n\tInvalid: 1\n\tTests: 1 passed, 2 failed\n"), "{plain}");
    }

    #[test]
    fn failures_only_hides_passing_rules_and_cases() {
        let plain = anstream::adapter::strip_str(&text(&results(), true)).to_string();
        assert!(!plain.contains("Good.Rule"), "{plain}");
        assert!(plain.contains("Bad.Rule\n\t[FAIL] Fails"), "{plain}");
    }

    #[test]
    fn junit_is_well_formed_and_counts_failures() {
        let xml = junit(&results()).unwrap_or_default();
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut failures = 0;
        let mut errors = 0;
        let mut names = Vec::new();
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(Event::Start(e) | Event::Empty(e)) => match e.name().as_ref() {
                    b"failure" => failures += 1,
                    b"error" => errors += 1,
                    b"testcase" => {
                        if let Some(Ok(a)) = e
                            .attributes()
                            .find(|a| a.as_ref().is_ok_and(|a| a.key.as_ref() == b"name"))
                        {
                            names.push(
                                a.unescape_value()
                                    .map(|v| v.into_owned())
                                    .unwrap_or_default(),
                            );
                        }
                    }
                    _ => {}
                },
                Ok(_) => {}
                Err(e) => panic!("invalid XML at {}: {e}\n{xml}", reader.buffer_position()),
            }
        }
        assert_eq!((failures, errors), (2, 1), "{xml}");
        assert!(names.contains(&"A <&> \"quoted\"".to_owned()), "{names:?}");
        assert!(
            xml.contains("<testsuites name=\"rulec\" tests=\"4\" failures=\"2\" errors=\"1\">"),
            "{xml}"
        );
    }

    #[test]
    fn json_summarises() {
        let json: Value =
            serde_json::from_str(&json(&results()).unwrap_or_default()).unwrap_or_default();
        assert_eq!(json["passed"], false);
        assert_eq!(json["summary"]["rules"]["invalid"], 1);
        assert_eq!(json["summary"]["tests"]["failed"], 2);
        assert_eq!(
            json["rules"][1]["tests"][1]["snapshot"]["status"],
            "differs"
        );
    }
}
