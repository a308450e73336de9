//! `rulec-bench` (run by `cargo xtask bench`): measures rulec's matchers on a
//! generated corpus against JSON-parsing floors measured in the same run, and
//! prints each figure as MB/s, events/s and a ratio to the `serde_json` →
//! `IgnoredAny` floor.

mod corpus;
mod detect_runs;
mod measure;
mod python_path;
mod stages;
mod structural;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rulec_compiler::project::{compile_rule, compile_shared, Layout};

use crate::corpus::Corpus;
use crate::measure::Figure;
use crate::stages::RuleSet;

/// The allocator `detect` uses, so that the in-process stages measure what
/// `detect` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: &str = "Kubernetes.Secret.AccessDenied";
const LOG_TYPES: [&str; 3] = ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"];

/// The rule sets of `--fast-only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FastOnly {
    Seed,
    All,
    Both,
}

/// Benchmarks rulec against JSON-parsing floors.
#[derive(Debug, Parser)]
#[command(name = "rulec-bench")]
struct Cli {
    /// Corpus size in MB (10^6 bytes) for the main table.
    #[arg(long, default_value_t = 120)]
    mb: usize,
    /// Corpus size in MB for the slow stages (the interpreter, the generated
    /// matchers over `Value`) and each per-log-type corpus.
    #[arg(long, default_value_t = 30)]
    slow_mb: usize,
    /// Runs per stage (the fastest is kept).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The `detect` binary for the end-to-end runs (default: the one next to
    /// this binary, built with the same profile).
    #[arg(long)]
    detect: Option<PathBuf>,
    /// Where to write the corpus file for `detect`.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// Skip the end-to-end `detect` runs.
    #[arg(long)]
    no_detect: bool,
    /// Skip Panther's Python path (the seed rule's original Python run by
    /// panther_core, in a virtual environment the bench sets up with pip).
    #[arg(long)]
    no_python: bool,
    /// Only the floor and the fast path on the main corpus, for the seed
    /// rule, all rules, or both (quick iterations, or a profiler attached to
    /// this process).
    #[arg(long, value_name = "SET")]
    fast_only: Option<FastOnly>,
    /// The sample generator's seed for every corpus. The tables in the
    /// README use the default; `cargo xtask pgo` trains on another seed, so
    /// the profile-guided build is not measured on the events it was
    /// trained on.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// With `--fast-only`: only events of this log type (its `p_log_type`).
    #[arg(long, requires = "fast_only", value_parser = clap::builder::PossibleValuesParser::new(LOG_TYPES))]
    log_type: Option<String>,
}

fn rule_set(name: &'static str, ids: Option<&[&str]>) -> Result<RuleSet, String> {
    let layout = Layout::standard(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules"));
    let shared = compile_shared(&layout);
    let mut rules = Vec::new();
    let mut irs = Vec::new();
    for rule in rulec::rules() {
        if ids.is_some_and(|ids| !ids.contains(&rule.meta.id)) {
            continue;
        }
        let compiled = compile_rule(&layout, &shared, rule.meta.source_file);
        let ir = compiled
            .rule
            .ok_or_else(|| format!("{}: {}", rule.meta.source_file, compiled.diagnostics))?;
        rules.push(*rule);
        irs.push(ir);
    }
    Ok(RuleSet { name, rules, irs })
}

fn print_table(title: &str, figures: &[Figure]) {
    println!("\n{title}");
    println!(
        "| {:<46} | {:>9} | {:>11} | {:>13} | {:>9} |",
        "stage", "MB/s", "events/s", "× IgnoredAny", "result"
    );
    println!(
        "|{:-<48}|{:->11}|{:->13}|{:->15}|{:->11}|",
        "", "", "", "", ""
    );
    for figure in figures {
        println!(
            "| {:<46} | {:>9.1} | {:>11.0} | {:>13.3} | {:>9} |",
            figure.stage,
            figure.mb_per_s(),
            figure.events_per_s(),
            figure.floor_ratio(),
            figure.checksum
        );
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    eprintln!("rulec-bench: generating {} MB of sample events...", cli.mb);
    let corpus = Corpus::generate(cli.mb * 1_000_000, cli.log_type.as_deref(), cli.seed);
    let slow = corpus.prefix(cli.slow_mb * 1_000_000);
    eprintln!(
        "rulec-bench: {} events, {:.1} MB ({:.0} bytes per event); compiling rule IR...",
        corpus.lines.len(),
        corpus.text.len() as f64 / 1e6,
        corpus.text.len() as f64 / corpus.lines.len().max(1) as f64
    );
    let seed = rule_set("seed rule", Some(&[SEED]))?;
    let all = rule_set("all rules", None)?;
    eprintln!("rulec-bench: {} rules; measuring...", all.rules.len());

    let runs = cli.runs;
    // Every stage's runs alternate with runs of the floor over its bytes;
    // the floor's own row, against itself, shows how much the machine's
    // speed drifts from one run to the next.
    let mut figures = vec![
        stages::lines(&corpus, runs),
        stages::ignored_any(&corpus, runs),
        stages::value(&corpus, runs),
        stages::sonic_ignored_any(&corpus, runs),
        stages::sonic_value(&corpus, runs),
        stages::structural_index(&corpus, runs),
    ];
    for set in [&seed, &all] {
        let wanted = match cli.fast_only {
            None | Some(FastOnly::Both) => true,
            Some(FastOnly::Seed) => std::ptr::eq(set, &seed),
            Some(FastOnly::All) => std::ptr::eq(set, &all),
        };
        if cli.fast_only.is_none() {
            figures.push(stages::interpreter(&slow, set, 1));
            figures.push(stages::generated(&slow, set, runs.min(2)));
        }
        if wanted {
            figures.push(stages::fast(&corpus, set, runs));
        }
    }
    if cli.fast_only.is_some() {
        figures.push(stages::projection_parse(&corpus, None, runs));
        figures.push(stages::projection_parse(&corpus, Some(&seed), runs));
        figures.push(stages::projection_parse(&corpus, Some(&all), runs));
        print_table("Fast path only", &figures);
        return Ok(());
    }
    if !cli.no_detect {
        let detect = cli
            .detect
            .clone()
            .unwrap_or_else(detect_runs::default_binary);
        std::fs::create_dir_all(&cli.work_dir).map_err(|e| e.to_string())?;
        let file = cli.work_dir.join("corpus.ndjson");
        corpus
            .write(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        figures.extend(detect_runs::end_to_end(
            &detect, &file, &corpus, SEED, runs,
        )?);
    }
    let python = if cli.no_python {
        None
    } else {
        python_reference(cli, &slow, &seed, runs)?
    };
    figures.extend(python.clone());
    print_table(
        &format!(
            "All log types: {} events, {:.1} MB (slow stages on the first {:.1} MB)",
            corpus.lines.len(),
            corpus.text.len() as f64 / 1e6,
            slow.text.len() as f64 / 1e6
        ),
        &figures,
    );
    if let Some(python) = &python {
        print_against_python(python, &figures);
    }

    for log_type in LOG_TYPES {
        let part = Corpus::generate(cli.slow_mb * 1_000_000, Some(log_type), cli.seed);
        let figures = vec![
            stages::ignored_any(&part, runs),
            stages::value(&part, runs),
            stages::generated(&part, &all, runs.min(2)),
            stages::fast(&part, &seed, runs),
            stages::fast(&part, &all, runs),
        ];
        print_table(
            &format!(
                "{log_type} only: {} events, {:.1} MB",
                part.lines.len(),
                part.text.len() as f64 / 1e6
            ),
            &figures,
        );
    }
    Ok(())
}

/// Panther's Python path on the slow corpus (written next to the main
/// corpus file); `None`, said on stderr, when Python cannot be set up here
/// (no `python3`, or pip cannot reach the package index). Python and rulec
/// disagreeing on the seed rule's matches is an error.
fn python_reference(
    cli: &Cli,
    slow: &Corpus,
    seed: &RuleSet,
    runs: usize,
) -> Result<Option<Figure>, String> {
    std::fs::create_dir_all(&cli.work_dir).map_err(|e| e.to_string())?;
    let python = match python_path::environment(&cli.work_dir) {
        Ok(python) => python,
        Err(reason) => {
            eprintln!("rulec-bench: Panther's Python path skipped: {reason}");
            return Ok(None);
        }
    };
    let file = cli.work_dir.join("python-corpus.ndjson");
    slow.write(&file)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let detector = rulec::Detector::new(seed.rules.iter().copied());
    let figure =
        python_path::panther_python(&python, &cli.work_dir, &file, slow, &detector, runs.min(2))?;
    let _ = std::fs::remove_file(&file);
    Ok(Some(figure))
}

/// How many times Panther's Python path's MB/s the seed rule's fast path
/// runs, in process and through `detect`.
fn print_against_python(python: &Figure, figures: &[Figure]) {
    println!(
        "\nPanther's Python path (the seed rule's own Python, panther_core's Rule.run): {:.1} MB/s, agreeing with rulec on each match (line, title, dedup string) and each raise ({} matches).",
        python.mb_per_s(),
        python.checksum
    );
    for stage in [
        "fast path (in process), seed rule",
        "detect --emit matches, seed rule, 1 thread",
    ] {
        if let Some(figure) = figures.iter().find(|figure| figure.stage == stage) {
            println!(
                "- {stage}: {:.0}× its MB/s ({:.0}× as shares of each one's floor)",
                figure.mb_per_s() / python.mb_per_s().max(1e-9),
                figure.floor_ratio() / python.floor_ratio().max(1e-12)
            );
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rulec-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
