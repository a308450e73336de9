//! `cargo xtask new <RuleID> --log-types ...`: writes a new rule file with a
//! detection to edit, one test that matches and one that does not, then
//! regenerates the rule list so the rule compiles and its tests run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rulec_compiler::names::rule_module_name;
use rulec_compiler::project::{compile_shared, Layout};
use rulec_runtime::Severity;

use crate::workspace::{self, RuleSet};

/// Options of `cargo xtask new`.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The RuleID (`Kubernetes.Pod.Exec`).
    pub rule_id: String,
    /// The log types the rule reads (comma separated or repeated).
    #[arg(long = "log-types", value_delimiter = ',', required = true, num_args = 1..)]
    pub log_types: Vec<String>,
    /// The severity.
    #[arg(long, default_value = "Medium")]
    pub severity: String,
    /// The file to write, relative to `rules/` (default:
    /// `<first part of the RuleID>/<rule_id>.yml`).
    #[arg(long)]
    pub file: Option<String>,
}

/// The default file of a RuleID: `Kubernetes.Pod.Exec` gives
/// `kubernetes/kubernetes_pod_exec.yml`.
fn default_file(rule_id: &str) -> String {
    let module = rule_module_name(rule_id);
    let dir = rule_module_name(rule_id.split('.').next().unwrap_or(rule_id));
    format!("{dir}/{module}.yml")
}

fn display_name(rule_id: &str) -> String {
    rule_id
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scaffold's text.
fn scaffold(args: &NewArgs, severity: Severity, model_fields: &[(String, Vec<String>)]) -> String {
    let id = &args.rule_id;
    let name = display_name(id);
    let log_types: String = args
        .log_types
        .iter()
        .map(|t| format!("  - {t}\n"))
        .collect();
    let first = &args.log_types[0];
    let mut fields_note = String::new();
    for (log_type, names) in model_fields {
        fields_note.push_str(&format!(
            "# Data-model fields of {log_type} (use them with `DataModel: <name>`):\n#   {}\n",
            names.join(", ")
        ));
    }
    format!(
        r#"AnalysisType: rule
RuleID: "{id}"
DisplayName: "{name}"
Enabled: true
LogTypes:
{log_types}Severity: {severity}
Description: >
  What this rule detects and why it matters.
Runbook: |
  1. What to check first when this alert fires.
Reference: https://docs.panther.com/detections/rules/writing-simple-detections
DedupPeriodMinutes: 60
Threshold: 1
Tags:
  - {tag}
# The detection: every expression must hold (see docs/rule-format.md).
{fields_note}Detection:
  - KeyPath: eventName
    Condition: Equals
    Value: ExampleEvent
AlertTitle: '{name}: {{eventName}} by {{actor or "<UNKNOWN_ACTOR>"}}'
AlertContext:
  - KeyName: actor
    KeyValue: {{KeyPath: actor}}
Tests:
  - Name: The example event matches
    ExpectedResult: true
    ExpectedTitle: "{name}: ExampleEvent by alice"
    Log:
      p_log_type: {first}
      eventName: ExampleEvent
      actor: alice
  - Name: Another event does not match
    ExpectedResult: false
    Log:
      p_log_type: {first}
      eventName: OtherEvent
      actor: alice
"#,
        tag = id.split('.').next().unwrap_or(id),
    )
}

/// Runs `cargo xtask new`.
pub fn run(args: &NewArgs) -> ExitCode {
    let id = args.rule_id.trim();
    if id.is_empty() || id.contains(['<', '>', '&', '"', '%']) || id.contains(char::is_whitespace) {
        eprintln!("error: `{id}` is not a valid RuleID: use letters, digits and dots, without spaces or <>&\"%");
        return ExitCode::from(2);
    }
    let Some(severity) = Severity::parse(&args.severity) else {
        eprintln!(
            "error: unknown severity `{}`; use one of {}",
            args.severity,
            Severity::ALL.map(Severity::as_str).join(", ")
        );
        return ExitCode::from(2);
    };
    let rules_dir = workspace::rules_dir();
    let before = RuleSet::load(&rules_dir);
    if let Some(existing) = before
        .valid
        .iter()
        .find(|r| rule_module_name(&r.ir.meta.id) == rule_module_name(id))
    {
        eprintln!(
            "error: RuleID `{id}` is taken by {} (`{}`)",
            existing.file, existing.ir.meta.id
        );
        return ExitCode::FAILURE;
    }
    let file = args.file.clone().unwrap_or_else(|| default_file(id));
    let path: PathBuf = rules_dir.join(&file);
    if path.exists() {
        eprintln!("error: rules/{file} exists already");
        return ExitCode::FAILURE;
    }
    let shared = compile_shared(&Layout::standard(&rules_dir));
    let model_fields: Vec<(String, Vec<String>)> = args
        .log_types
        .iter()
        .filter_map(|t| {
            let model = shared
                .data_models
                .iter()
                .find(|m| m.log_types.contains(t))?;
            Some((
                t.clone(),
                model.mappings.iter().map(|(n, _)| n.clone()).collect(),
            ))
        })
        .collect();
    if let Some(parent) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(parent) {
            eprintln!("error: cannot create {}: {e}", parent.display());
            return ExitCode::FAILURE;
        }
    }
    let text = scaffold(
        &NewArgs {
            rule_id: id.to_owned(),
            ..args.clone()
        },
        severity,
        &model_fields,
    );
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote rules/{file}");
    let code = crate::regen::run();
    if code == ExitCode::SUCCESS {
        eprintln!(
            "next: edit rules/{file}, then `cargo xtask test --filter RuleID={id}`; \
             accept the new snapshots with `cargo xtask test --accept-snapshots` once the outputs look right"
        );
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulec_compiler::yaml::SourceFile;

    #[test]
    fn file_names_follow_the_rule_id() {
        assert_eq!(
            default_file("Kubernetes.Pod.Exec"),
            "kubernetes/kubernetes_pod_exec.yml"
        );
        assert_eq!(
            display_name("AWS.CloudTrail.Stopped"),
            "AWS CloudTrail Stopped"
        );
    }

    /// The scaffold compiles, with a true and a false test.
    #[test]
    fn the_scaffold_compiles() {
        let args = NewArgs {
            rule_id: "Test.Scaffold".to_owned(),
            log_types: vec!["Amazon.EKS.Audit".to_owned()],
            severity: "High".to_owned(),
            file: None,
        };
        let text = scaffold(
            &args,
            Severity::High,
            &[("Amazon.EKS.Audit".to_owned(), vec!["verb".to_owned()])],
        );
        let layout = Layout::standard(workspace::rules_dir());
        let shared = compile_shared(&layout);
        let library = rulec_compiler::rule_file::Library {
            data_models: &shared.data_models,
            predicates: &shared.predicates,
        };
        let source = SourceFile {
            name: "scaffold.yml".to_owned(),
            text,
        };
        let (rule, diagnostics) = rulec_compiler::rule_file::parse_rule(&source, &library);
        let Some(rule) = rule else {
            panic!(
                "the scaffold does not compile:\n{}",
                rulec_compiler::diag::Diagnostics(diagnostics)
            );
        };
        assert_eq!(rule.tests.len(), 2);
        assert_eq!(rule.meta.severity, Severity::High);
        // Its tests pass, judged by the reference interpreter.
        for case in &rule.tests {
            let rulec_compiler::ir::TestBody::Event(test) = &case.body else {
                panic!("the scaffold has only event tests");
            };
            let event: serde_json::Value = serde_json::from_str(&test.log_json).unwrap_or_default();
            let matched = rulec_compiler::interp::matches(&rule, &test.log_type, &event);
            assert_eq!(matched, Ok(test.expected), "{}", case.name);
            if let Some(expected) = &test.expect.title {
                let title = rulec_compiler::interp::title(&rule, &test.log_type, &event);
                assert_eq!(title.as_deref(), Ok(expected.as_str()));
            }
        }
    }
}
