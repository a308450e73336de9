//! `cargo xtask fuzz <target>... --seconds N`: runs the cargo-fuzz targets of
//! `fuzz/` (installing cargo-fuzz when it is missing), one after the other,
//! each for N seconds, niced, on nightly. The targets are built without a
//! sanitizer (the workspace forbids `unsafe`; safe Rust's failures are
//! panics) and with debug assertions (integer overflow panics).
//!
//! Each run reads the committed seeds (`fuzz/corpus/<target>`) and writes
//! what it finds to a working corpus (`fuzz/work/<target>`, not committed),
//! so the seeds stay small; crashes land in `fuzz/artifacts/<target>`.
//! `--cmin` then minimizes the working corpus and the seeds together back
//! into `fuzz/corpus/<target>`. libFuzzer's final line (`cov:`, `exec/s`)
//! and its `-print_final_stats` figures are printed per target at the end;
//! its whole output is in `fuzz/work/<target>.log`.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use clap::Args;

use crate::workspace::root;

/// The targets of `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 3] = ["front_end", "ndjson_reader", "differential"];

/// `cargo xtask fuzz` options.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Targets to run (`front_end`, `ndjson_reader`, `differential`); all of
    /// them when none is named.
    pub targets: Vec<String>,
    /// How long to run each target, in seconds.
    #[arg(long, default_value_t = 300)]
    pub seconds: u64,
    /// libFuzzer's memory limit, in MB.
    #[arg(long, default_value_t = 4096)]
    pub rss_limit_mb: u64,
    /// Minimize the seeds plus what the run found back into
    /// `fuzz/corpus/<target>` (after the run; with `--seconds 0`, only that).
    #[arg(long)]
    pub cmin: bool,
}

/// `cargo +nightly ...`, through rustup, whatever toolchain runs xtask.
fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command
        .arg("+nightly")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC");
    command
}

/// Installs cargo-fuzz when `cargo +nightly fuzz` does not run.
fn ensure_cargo_fuzz() -> bool {
    let present = nightly_cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return true;
    }
    eprintln!("xtask fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
    Command::new("nice")
        .args(["-n", "10", "cargo", "install", "cargo-fuzz", "--locked"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .status()
        .is_ok_and(|s| s.success())
}

/// `nice -n 10 cargo +nightly fuzz <args>` in the repository root.
fn fuzz_command(root: &Path, args: &[String]) -> Command {
    let mut command = Command::new("nice");
    command
        .args(["-n", "10", "cargo", "+nightly", "fuzz"])
        .args(args)
        .current_dir(root)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC");
    command
}

/// Runs `cargo xtask fuzz`.
pub fn run(args: &FuzzArgs) -> ExitCode {
    let targets: Vec<String> = if args.targets.is_empty() {
        TARGETS.iter().map(|t| (*t).to_owned()).collect()
    } else {
        args.targets.clone()
    };
    if let Some(unknown) = targets.iter().find(|t| !TARGETS.contains(&t.as_str())) {
        eprintln!(
            "xtask fuzz: no target `{unknown}`; the targets are {}",
            TARGETS.join(", ")
        );
        return ExitCode::FAILURE;
    }
    if !ensure_cargo_fuzz() {
        eprintln!("xtask fuzz: cargo-fuzz is missing and could not be installed");
        return ExitCode::FAILURE;
    }
    let root = root();
    let mut summaries = Vec::new();
    let mut failed = false;
    for target in &targets {
        let seeds = format!("fuzz/corpus/{target}");
        let work = format!("fuzz/work/{target}");
        if let Err(e) = std::fs::create_dir_all(root.join(&work)) {
            eprintln!("xtask fuzz: cannot create {work}: {e}");
            return ExitCode::FAILURE;
        }
        if args.seconds > 0 {
            eprintln!(
                "xtask fuzz: {target} for {} s (corpus {work}, seeds {seeds})",
                args.seconds
            );
            let run: Vec<String> = [
                "run",
                "--sanitizer",
                "none",
                "--debug-assertions",
                target,
                &work,
                &seeds,
                "--",
                &format!("-max_total_time={}", args.seconds),
                &format!("-rss_limit_mb={}", args.rss_limit_mb),
                "-print_final_stats=1",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            let log_path = root.join(format!("fuzz/work/{target}.log"));
            let log_file = match std::fs::File::create(&log_path) {
                Ok(file) => file,
                Err(e) => {
                    eprintln!("xtask fuzz: cannot write {}: {e}", log_path.display());
                    return ExitCode::FAILURE;
                }
            };
            eprintln!(
                "xtask fuzz: libFuzzer's output goes to {}",
                log_path.display()
            );
            let status = match fuzz_command(&root, &run).stderr(log_file).status() {
                Ok(status) => status,
                Err(e) => {
                    eprintln!("xtask fuzz: cannot run cargo fuzz: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let log = std::fs::read(&log_path).unwrap_or_default();
            let log = String::from_utf8_lossy(&log);
            let last_status = log
                .lines()
                .rev()
                .find(|l| l.contains(" cov: ") && l.contains("exec/s"))
                .unwrap_or("(no status line)")
                .to_owned();
            let stats: Vec<&str> = log.lines().filter(|l| l.starts_with("stat::")).collect();
            if !status.success() {
                failed = true;
                let tail: Vec<&str> = log.lines().rev().take(60).collect();
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
                eprintln!(
                    "xtask fuzz: {target} FAILED; the input is under fuzz/artifacts/{target}/"
                );
            }
            summaries.push(format!(
                "{target}: {}\n  {last_status}\n  {}",
                if status.success() { "ok" } else { "FAILED" },
                stats.join("\n  ")
            ));
        }
        if args.cmin && !failed {
            // cmin keeps the smallest inputs that reach every feature of
            // the seeds and the run's corpus together.
            let merged = format!("fuzz/work/{target}.cmin");
            let _ = std::fs::remove_dir_all(root.join(&merged));
            if let Err(e) = std::fs::create_dir_all(root.join(&merged)) {
                eprintln!("xtask fuzz: cannot create {merged}: {e}");
                return ExitCode::FAILURE;
            }
            let merge: Vec<String> = [
                "run",
                "--sanitizer",
                "none",
                "--debug-assertions",
                target,
                &merged,
                &seeds,
                &work,
                "--",
                "-merge=1",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            let ok = fuzz_command(&root, &merge)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("xtask fuzz: minimizing {target}'s corpus failed");
                return ExitCode::FAILURE;
            }
            let _ = std::fs::remove_dir_all(root.join(&seeds));
            if let Err(e) = std::fs::rename(root.join(&merged), root.join(&seeds)) {
                eprintln!("xtask fuzz: cannot move {merged} to {seeds}: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("xtask fuzz: {seeds} minimized");
        }
    }
    for summary in &summaries {
        println!("{summary}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
