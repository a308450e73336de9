//! `cargo xtask`: rulec's developer commands.
//!
//! - `cargo xtask check`: compiles every rule file under `rules/` and prints
//!   its diagnostics (errors and warnings), without building Rust.
//! - `cargo xtask expand <RuleID or rule file>`: prints the Rust generated for
//!   one rule, formatted, for review.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::project::{compile_rule, compile_shared, Layout};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "rulec's developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile every rule under rules/ and print diagnostics.
    Check,
    /// Print the generated Rust for one rule (by RuleID or file path under rules/).
    Expand {
        /// A RuleID (`Kubernetes.Secret.AccessDenied`) or a rule file (`kubernetes/k8s_secret_access_denied.yml`).
        rule: String,
    },
}

fn rules_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("rules")
}

/// Rule files under the rules root (excluding data models and predicates), relative, sorted.
fn rule_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() {
                if !["data_models", "predicates", "src", "examples", "target"]
                    .contains(&relative.as_str())
                {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(relative);
            }
        }
    }
    out.sort();
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let layout = Layout::standard(rules_root());
    let shared = compile_shared(&layout);
    match cli.command {
        Command::Check => {
            let mut errors = 0;
            for diagnostic in &shared.diagnostics.0 {
                eprintln!("{diagnostic}");
            }
            errors += shared.diagnostics.errors().count();
            let files = rule_files(&layout.root);
            for file in &files {
                let compiled = compile_rule(&layout, &shared, file);
                let own: Vec<_> = compiled
                    .diagnostics
                    .0
                    .iter()
                    .filter(|d| d.file == *file)
                    .collect();
                for diagnostic in &own {
                    eprintln!("{diagnostic}");
                }
                errors += own.iter().filter(|d| d.is_error()).count();
                if let Some(rule) = compiled.rule {
                    println!(
                        "ok    {} ({file}, {} tests)",
                        rule.meta.id,
                        rule.tests.len()
                    );
                } else {
                    println!("error {file}");
                }
            }
            if errors > 0 {
                eprintln!("{errors} error(s)");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Expand { rule } => {
            let file = rule_files(&layout.root)
                .into_iter()
                .find(|f| *f == rule)
                .or_else(|| {
                    rule_files(&layout.root).into_iter().find(|f| {
                        compile_rule(&layout, &shared, f)
                            .rule
                            .is_some_and(|r| r.meta.id == rule)
                    })
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
    }
}
