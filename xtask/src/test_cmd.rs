//! `cargo xtask test`: validates every rule file, builds and runs the rules'
//! tests, compares each case's output with its snapshot, and prints a report
//! in panther_analysis_tool's layout (or JSON, or JUnit XML).

use std::process::{Command, ExitCode};

use clap::{Args, ValueEnum};
use rulec_runtime::filter::RuleFilter;
use rulec_runtime::testing::{CaseResult, RuleReport, SuiteRequest};

use crate::regen::{generated_files, stale_files};
use crate::report;
use crate::runner::{self, Build};
use crate::snapshots::{self, SnapshotStatus};
use crate::workspace::{self, InvalidRule, RuleSet};

/// The report's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// panther_analysis_tool's layout.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

/// Options of `cargo xtask test`, like panther_analysis_tool's.
#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Only rules whose KEY is one of the values (`RuleID=A,B`), or with `!=`
    /// none of them; repeat to AND several. Keys: RuleID, LogTypes, Tags,
    /// Severity, Status, Enabled, DisplayName, Reports, Threshold,
    /// DedupPeriodMinutes, CreateAlert, Filename, AnalysisType.
    #[arg(long = "filter", value_name = "KEY=V1,V2")]
    pub filters: Vec<String>,
    /// Only the tests with these names.
    #[arg(long = "test-names", num_args = 1.., value_name = "NAME")]
    pub test_names: Vec<String>,
    /// Print only failing rules and tests.
    #[arg(long)]
    pub show_failures_only: bool,
    /// Fail rules with fewer tests; above 1, also require one true and one false test.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub minimum_tests: usize,
    /// Skip rules with `Enabled: false`.
    #[arg(long)]
    pub skip_disabled_tests: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write every case's current output as its snapshot (after reviewing the
    /// diffs), then report.
    #[arg(long)]
    pub accept_snapshots: bool,
}

/// One case with its snapshot comparison.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// What the runner reported.
    pub result: CaseResult,
    /// How the output compares with the committed snapshot.
    pub snapshot: SnapshotStatus,
}

impl CaseView {
    /// Whether the case passes: its assertions hold and its output equals
    /// its snapshot.
    pub fn passed(&self) -> bool {
        self.result.passed && self.snapshot == SnapshotStatus::Matches
    }
}

/// One rule's results.
#[derive(Debug, Clone)]
pub struct RuleView {
    /// What the runner reported.
    pub report: RuleReport,
    /// Its cases.
    pub cases: Vec<CaseView>,
    /// Why the rule fails besides its cases (`--minimum-tests`).
    pub problems: Vec<String>,
}

impl RuleView {
    /// Whether the rule passes.
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.cases.iter().all(CaseView::passed)
    }
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Results {
    /// The rules directory, as shown.
    pub path: String,
    /// Rules run.
    pub rules: Vec<RuleView>,
    /// Rule files that do not compile.
    pub invalid: Vec<InvalidRule>,
    /// RuleIDs skipped (`--skip-disabled-tests`).
    pub skipped: Vec<String>,
    /// A note for the user (the runner was built from a scratch crate).
    pub notes: Vec<String>,
}

impl Results {
    /// Whether anything failed or is invalid.
    pub fn failed(&self) -> bool {
        !self.invalid.is_empty() || self.rules.iter().any(|r| !r.passed())
    }

    /// Whether any snapshot is missing or differs.
    pub fn snapshot_trouble(&self) -> bool {
        self.rules
            .iter()
            .flat_map(|r| &r.cases)
            .any(|c| c.snapshot != SnapshotStatus::Matches)
    }
}

fn coverage_problems(report: &RuleReport, minimum: usize) -> Vec<String> {
    let mut out = Vec::new();
    if minimum == 0 {
        return out;
    }
    if report.tests_total < minimum {
        out.push(format!(
            "Insufficient test coverage: {minimum} tests required, {} found",
            report.tests_total
        ));
    }
    if minimum > 1 && (report.expected_true == 0 || report.expected_false == 0) {
        out.push(format!(
            "Insufficient test coverage: at least one true and one false test required ({} true, {} false)",
            report.expected_true, report.expected_false
        ));
    }
    out
}

/// Writes the current outputs of the named snapshot-test modules as their
/// snapshots (insta's `INSTA_UPDATE=always`).
fn accept_snapshots(modules: &[String]) -> Result<(), String> {
    if modules.is_empty() {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace::root())
        .args([
            "test",
            "--quiet",
            "--package",
            "generated-tests",
            "--test",
            "alert_outputs",
            "--",
        ])
        .args(modules)
        .env("INSTA_UPDATE", "always")
        .env_remove("INSTA_FORCE_PASS")
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the snapshot tests did not build or run; see the output above".to_owned())
    }
}

/// Runs `cargo xtask test`.
pub fn run(args: &TestArgs) -> ExitCode {
    for filter in &args.filters {
        if let Err(e) = RuleFilter::parse(filter) {
            eprintln!("error: --filter {filter}: {e}");
            return ExitCode::from(2);
        }
    }
    let root = workspace::root();
    let set = RuleSet::load(&workspace::rules_dir());
    let mut notes = Vec::new();
    let fresh = set.invalid.is_empty()
        && generated_files(&set).is_ok_and(|files| {
            stale_files(&root, &files)
                .iter()
                .all(|p| !p.starts_with("rules"))
        });
    let build = if fresh {
        Build::RulesCrate
    } else {
        if set.invalid.is_empty() {
            notes.push(
                "rules/src/rule_set.rs is stale: run `cargo xtask regen` so that `cargo test` and the rules crate see every rule".to_owned(),
            );
        }
        Build::Scratch
    };
    if args.accept_snapshots && !fresh {
        eprintln!("error: --accept-snapshots needs every rule valid and the generated files fresh; run `cargo xtask regen` first");
        return ExitCode::FAILURE;
    }
    let request = SuiteRequest {
        filters: args.filters.clone(),
        test_names: args.test_names.clone(),
        skip_disabled: args.skip_disabled_tests,
    };
    let suite = if set.valid.is_empty() {
        Ok(Default::default())
    } else {
        runner::run(build, &set.valid, &request)
    };
    let suite = match suite {
        Ok(suite) => suite,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.accept_snapshots {
        // Only the rules the filters selected.
        let modules: Vec<String> = suite
            .rules
            .iter()
            .filter_map(|r| set.valid.iter().find(|v| v.ir.meta.id == r.rule_id))
            .map(|v| format!("{}::", v.module))
            .collect();
        if let Err(e) = accept_snapshots(&modules) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let rules = suite
        .rules
        .into_iter()
        .map(|report| {
            let module = set
                .valid
                .iter()
                .find(|v| v.ir.meta.id == report.rule_id)
                .map(|v| v.module.clone())
                .unwrap_or_default();
            let cases = report
                .cases
                .iter()
                .map(|result| CaseView {
                    snapshot: snapshots::compare(&root, &module, &result.fn_name, &result.snapshot),
                    result: result.clone(),
                })
                .collect();
            RuleView {
                problems: coverage_problems(&report, args.minimum_tests),
                report,
                cases,
            }
        })
        .collect();
    let results = Results {
        path: "rules".to_owned(),
        rules,
        invalid: set.invalid,
        skipped: suite.skipped_disabled,
        notes,
    };
    let rendered = match args.format {
        Format::Text => {
            report::print_text(&results, args.show_failures_only);
            Ok(())
        }
        Format::Json => report::json(&results).map(|text| println!("{text}")),
        Format::Junit => report::junit(&results).map(|text| println!("{text}")),
    };
    if let Err(e) = rendered {
        eprintln!("error: cannot write the report: {e}");
        return ExitCode::FAILURE;
    }
    if results.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
