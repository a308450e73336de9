//! `cargo xtask check`: compiles every rule file under `rules/` and prints
//! its diagnostics, errors and warnings, without building Rust.

use std::process::ExitCode;

use rulec_compiler::project::{compile_rule, compile_shared, discover_rule_files, Layout};

use crate::workspace;

/// Runs `cargo xtask check`.
pub fn run() -> ExitCode {
    let layout = Layout::standard(workspace::rules_dir());
    let shared = compile_shared(&layout);
    for diagnostic in &shared.diagnostics.0 {
        eprintln!("{diagnostic}");
    }
    let mut errors = shared.diagnostics.errors().count();
    for file in discover_rule_files(&layout) {
        let compiled = compile_rule(&layout, &shared, &file);
        let own: Vec<_> = compiled
            .diagnostics
            .0
            .iter()
            .filter(|d| d.file == file)
            .collect();
        for diagnostic in &own {
            eprintln!("{diagnostic}");
        }
        errors += own.iter().filter(|d| d.is_error()).count();
        match compiled.rule {
            Some(rule) => println!(
                "ok    {} ({file}, {} tests)",
                rule.meta.id,
                rule.tests.len()
            ),
            None => println!("error {file}"),
        }
    }
    if errors > 0 {
        eprintln!("{errors} error(s)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
