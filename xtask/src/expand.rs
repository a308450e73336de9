//! `cargo xtask expand <RuleID or file>`: prints the Rust generated for one
//! rule, formatted with prettyplease, for review.

use std::process::ExitCode;

use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::project::{compile_rule, compile_shared, discover_rule_files, Layout};

use crate::workspace;

/// Runs `cargo xtask expand`.
pub fn run(rule: &str) -> ExitCode {
    let layout = Layout::standard(workspace::rules_dir());
    let shared = compile_shared(&layout);
    let files = discover_rule_files(&layout);
    let file = files.iter().find(|f| *f == rule).cloned().or_else(|| {
        files
            .iter()
            .find(|f| {
                compile_rule(&layout, &shared, f)
                    .rule
                    .is_some_and(|r| r.meta.id == rule)
            })
            .cloned()
    });
    let Some(file) = file else {
        eprintln!(
            "error: no rule file or RuleID `{rule}` under {}",
            layout.root.display()
        );
        return ExitCode::FAILURE;
    };
    let compiled = compile_rule(&layout, &shared, &file);
    let Some(ir) = compiled.rule else {
        eprintln!("{}", compiled.diagnostics);
        return ExitCode::FAILURE;
    };
    let tokens = generate_rule(
        &ir,
        &Options {
            tracked_files: Vec::new(),
            with_tests: true,
        },
    );
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => {
            println!("{}", prettyplease::unparse(&file));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: generated code does not parse: {error}");
            ExitCode::FAILURE
        }
    }
}
