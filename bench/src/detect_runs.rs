//! End-to-end runs of the `detect` binary on the corpus file: the fast path
//! as users run it (reading, splitting, matching, writing).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::corpus::Corpus;
use crate::measure::{time_floor, Figure};

/// `detect` next to this binary (both built by `cargo xtask bench`, with the
/// same profile).
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("detect")))
        .unwrap_or_else(|| PathBuf::from("detect"))
}

/// The fastest of `runs` runs of `detect`, and of the floor over `corpus`
/// (the file's contents) run in process before each.
fn time_detect(
    detect: &Path,
    args: &[&str],
    corpus: &Corpus,
    runs: usize,
) -> Result<(Duration, Duration), String> {
    let mut best = Duration::MAX;
    let mut floor = Duration::MAX;
    for _ in 0..runs.max(1) {
        floor = floor.min(time_floor(corpus));
        best = best.min(run_detect(detect, args)?);
    }
    Ok((best, floor))
}

/// One run of `detect`, which must succeed (0: clean; 2 would mean
/// malformed lines skipped, and the corpus has none): how long it took.
fn run_detect(detect: &Path, args: &[&str]) -> Result<Duration, String> {
    let start = Instant::now();
    let status = Command::new(detect)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", detect.display()))?;
    let elapsed = start.elapsed();
    if status.success() {
        Ok(elapsed)
    } else {
        Err(format!("{} {args:?} failed: {status}", detect.display()))
    }
}

/// `detect` over `file` (holding `corpus`) with `--emit matches` and
/// `--emit alerts`, for the seed rule alone and for every rule (disabled
/// ones included, as in the in-process stages), one thread and two.
pub fn end_to_end(
    detect: &Path,
    file: &Path,
    corpus: &Corpus,
    seed: &str,
    runs: usize,
) -> Result<Vec<Figure>, String> {
    let file = file.to_string_lossy().into_owned();
    let mut figures = Vec::new();
    let cases: [(&str, Vec<&str>); 6] = [
        (
            "detect --emit matches, seed rule, 1 thread",
            vec!["--emit", "matches", "--rule", seed, "--threads", "1"],
        ),
        (
            "detect --emit matches, all rules, 1 thread",
            vec!["--emit", "matches", "--include-disabled", "--threads", "1"],
        ),
        (
            "detect --emit alerts, seed rule, 1 thread",
            vec!["--emit", "alerts", "--rule", seed, "--threads", "1"],
        ),
        (
            "detect --emit alerts, all rules, 1 thread",
            vec!["--emit", "alerts", "--include-disabled", "--threads", "1"],
        ),
        (
            "detect --emit matches, all rules, 2 threads",
            vec!["--emit", "matches", "--include-disabled", "--threads", "2"],
        ),
        (
            "detect --emit alerts, all rules, 2 threads",
            vec!["--emit", "alerts", "--include-disabled", "--threads", "2"],
        ),
    ];
    let written = Path::new(&file).with_extension("detect-output.ndjson");
    let written_name = written.to_string_lossy().into_owned();
    for (stage, args) in cases {
        let mut timed = args.clone();
        timed.extend(["-q", "-o", "/dev/null", file.as_str()]);
        let (best, floor) = time_detect(detect, &timed, corpus, runs)?;
        // One more run, untimed, into a file: its lines are the row's result
        // (the seed rule's matches equal the in-process fast path's).
        let mut counted = args;
        counted.extend(["-q", "-o", written_name.as_str(), file.as_str()]);
        run_detect(detect, &counted)?;
        let lines = std::fs::read(&written)
            .map_err(|e| format!("cannot read {written_name}: {e}"))?
            .iter()
            .filter(|byte| **byte == b'\n')
            .count();
        figures.push(Figure {
            stage: stage.to_owned(),
            bytes: corpus.text.len(),
            events: corpus.lines.len(),
            best,
            floor,
            checksum: lines as u64,
        });
    }
    let _ = std::fs::remove_file(&written);
    Ok(figures)
}
