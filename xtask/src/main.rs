//! `cargo xtask`: rulec's developer commands.
//!
//! - `cargo xtask test`: runs every rule's tests, Panther-style report.
//! - `cargo xtask regen`: rewrites the generated files from `rules/`.
//! - `cargo xtask new <RuleID> --log-types ...`: scaffolds a rule file.
//! - `cargo xtask check`: compiles every rule file and prints diagnostics,
//!   without building Rust.
//! - `cargo xtask expand <RuleID or rule file>`: prints the Rust generated
//!   for one rule, formatted, for review.
//! - `cargo xtask catalog --out DIR [--check-browser]`: writes the rule
//!   catalog (HTML and Markdown), optionally checked in headless Chromium.
//! - `cargo xtask bench [--compile-time 100,1000]`: the performance table
//!   (and the rules crate's build time for synthetic rule sets).
//! - `cargo xtask fuzz [TARGET]... --seconds N [--cmin]`: the cargo-fuzz
//!   targets of `fuzz/`, each for N seconds (cargo-fuzz installed if missing).
//! - `cargo xtask pgo`: `detect` and `rulec-bench` built with profile-guided
//!   optimisation, in `target/pgo/optimized/dist/`.

mod bench;
mod catalog;
mod check;
mod expand;
mod fuzz;
mod pgo;
mod regen;
mod report;
mod runner;
mod scaffold;
mod snapshots;
mod test_cmd;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "rulec's developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every rule's tests and print a report in panther_analysis_tool's layout.
    Test(test_cmd::TestArgs),
    /// Rewrite the generated files (rule list, snapshot tests) from rules/.
    Regen,
    /// Scaffold a rule file with a matching and a non-matching test.
    New(scaffold::NewArgs),
    /// Compile every rule under rules/ (or --rules-dir) and print diagnostics.
    Check {
        /// Check the rule files under this directory instead (data models
        /// and predicates still come from rules/).
        #[arg(long, value_name = "DIR")]
        rules_dir: Option<std::path::PathBuf>,
        /// Print only the files that fail, and the totals.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print the generated Rust for one rule (by RuleID or file path under rules/).
    Expand {
        /// A RuleID (`Kubernetes.Secret.AccessDenied`) or a rule file (`kubernetes/k8s_secret_access_denied.yml`).
        rule: String,
    },
    /// Write the rule catalog: one page per rule, an index, ATT&CK and log-type coverage (HTML and Markdown).
    Catalog(catalog::CatalogArgs),
    /// Benchmark the matchers against JSON-parsing floors (and, with
    /// `--compile-time 100,1000`, the rules crate's build time).
    Bench(bench::BenchArgs),
    /// Run the cargo-fuzz targets of fuzz/ (nightly; installs cargo-fuzz if
    /// missing), each for --seconds, and print libFuzzer's figures.
    Fuzz(fuzz::FuzzArgs),
    /// Build `detect` and `rulec-bench` with profile-guided optimisation
    /// (trained on generated events; installs rustup's llvm-tools if missing).
    Pgo(pgo::PgoArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Test(args) => test_cmd::run(&args),
        Command::Regen => regen::run(),
        Command::New(args) => scaffold::run(&args),
        Command::Check { rules_dir, quiet } => check::run(rules_dir, quiet),
        Command::Expand { rule } => expand::run(&rule),
        Command::Catalog(args) => catalog::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Pgo(args) => pgo::run(&args),
    }
}
