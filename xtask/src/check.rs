//! `cargo xtask check`: compiles every rule file under `rules/` (or another
//! directory) and prints its diagnostics, errors and warnings, without
//! building Rust.

use std::path::PathBuf;
use std::process::ExitCode;

use rulec_compiler::project::{compile_rule, compile_shared, discover_rule_files, Layout};

use crate::workspace;

/// Runs `cargo xtask check`: the rule files under `rules_dir` (default
/// `rules/`), with the data models and predicates of `rules/`. With `quiet`,
/// only failing files and the totals are printed.
pub fn run(rules_dir: Option<PathBuf>, quiet: bool) -> ExitCode {
    let shared = compile_shared(&Layout::standard(workspace::rules_dir()));
    let layout = match rules_dir {
        Some(dir) => Layout {
            root: dir,
            ..Layout::standard(workspace::rules_dir())
        },
        None => Layout::standard(workspace::rules_dir()),
    };
    for diagnostic in &shared.diagnostics.0 {
        eprintln!("{diagnostic}");
    }
    let mut errors = shared.diagnostics.errors().count();
    let (mut good, mut bad) = (0usize, 0usize);
    for file in discover_rule_files(&layout) {
        let compiled = compile_rule(&layout, &shared, &file);
        let own: Vec<_> = compiled
            .diagnostics
            .0
            .iter()
            .filter(|d| d.file == file)
            .collect();
        let failed = compiled.rule.is_none();
        for diagnostic in &own {
            if !quiet || failed {
                eprintln!("{diagnostic}");
            }
        }
        errors += own.iter().filter(|d| d.is_error()).count();
        match compiled.rule {
            Some(rule) => {
                good += 1;
                if !quiet {
                    println!(
                        "ok    {} ({file}, {} tests)",
                        rule.meta.id,
                        rule.tests.len()
                    );
                }
            }
            None => {
                bad += 1;
                println!("error {file}");
            }
        }
    }
    println!("{good} rule file(s) compile, {bad} do not");
    if errors > 0 {
        eprintln!("{errors} error(s)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
