//! Panther's own Python path, measured in the same run as the rest: the seed
//! rule's original Python, its helpers and data models (panther-analysis's
//! files, under `bench/panther/upstream/`), run by panther_core's
//! `Rule.run` on the same events, in a virtual environment the bench sets
//! up with pip (`bench/panther/requirements.txt`, the versions
//! panther-analysis pins). It also checks that Python and rulec agree: the
//! same events alert, with the same titles and dedup strings, and the same
//! events make the rule raise.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rulec::{Detector, Parsed};
use serde::Deserialize;

use crate::corpus::Corpus;
use crate::measure::{time_floor, Figure};

/// The rule the Python path runs: the seed rule's upstream file stem.
const RULE_STEM: &str = "k8s_secret_access_denied";

/// What one run of `panther_path.py` printed.
#[derive(Debug, Clone, Deserialize)]
pub struct PythonRun {
    /// Events of the rule's log types.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
    /// How long the loop over the lines took.
    pub seconds: f64,
    /// The events that alert: line number (from 1), title, dedup string.
    pub matches: Vec<(u64, String, String)>,
    /// The line numbers of the events the rule raised on.
    pub raised: Vec<u64>,
}

/// `bench/panther/`.
fn panther_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/panther"))
}

/// What went wrong running `what`: its status and the end of its stderr.
fn failure(what: &str, output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let tail = lines
        .get(lines.len().saturating_sub(5)..)
        .unwrap_or_default();
    format!("{what} failed ({}): {}", output.status, tail.join(" / "))
}

/// Runs `command`, which must succeed; its output.
fn run(what: &str, command: &mut Command) -> Result<Output, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(failure(what, &output))
    }
}

/// The Python of a virtual environment under `work_dir` holding panther_core,
/// created (with the `python3` on `PATH`) and filled by pip the first time,
/// and again whenever `requirements.txt` changes.
pub fn environment(work_dir: &Path) -> Result<PathBuf, String> {
    let venv = work_dir.join("panther-venv");
    let python = venv.join("bin").join("python");
    let requirements_file = panther_dir().join("requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_file)
        .map_err(|e| format!("{}: {e}", requirements_file.display()))?;
    // What the environment was last filled from.
    let stamp = venv.join("rulec-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_ref() == Some(&requirements) {
        return Ok(python);
    }
    eprintln!(
        "rulec-bench: setting up Panther's Python path in {} (pip)...",
        venv.display()
    );
    run(
        "python3 -m venv",
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )?;
    run(
        "pip install -r bench/panther/requirements.txt",
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements_file),
    )?;
    std::fs::write(&stamp, &requirements).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}

/// One run of the seed rule's Python over `file`, its temporary files
/// (panther_core writes each loaded module to one) under `work_dir`.
fn run_once(python: &Path, file: &Path, work_dir: &Path) -> Result<PythonRun, String> {
    let dir = panther_dir();
    let temporary = work_dir.join("panther-tmp");
    std::fs::create_dir_all(&temporary).map_err(|e| format!("{}: {e}", temporary.display()))?;
    let output = run(
        "panther_path.py",
        Command::new(python)
            .env("TMPDIR", &temporary)
            .arg(dir.join("panther_path.py"))
            .arg(dir.join("upstream"))
            .arg(RULE_STEM)
            .arg(file),
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim())
        .map_err(|e| format!("panther_path.py printed {:?}: {e}", stdout.trim()))
}

/// The seed rule in rulec's fast path over `corpus`, as `panther_path.py`
/// reports it: each match (line number, title, dedup string) and the line
/// numbers of the events the rule raises on.
fn rulec_outcomes(detector: &Detector, corpus: &Corpus) -> (Vec<(u64, String, String)>, Vec<u64>) {
    let mut scratch = Parsed::new();
    let (mut matches, mut raised) = (Vec::new(), Vec::new());
    for (number, line) in (1..).zip(corpus.lines()) {
        let Ok(outcome) = detector.evaluate_line(&mut scratch, line) else {
            continue;
        };
        for found in &outcome.evaluation.matches {
            let detection = &found.detection;
            matches.push((number, detection.title.clone(), detection.dedup.clone()));
        }
        if !outcome.evaluation.errors.is_empty() {
            raised.push(number);
        }
    }
    (matches, raised)
}

/// The first difference between Python's outcomes and rulec's, described.
fn first_difference(
    python: &PythonRun,
    rulec: &(Vec<(u64, String, String)>, Vec<u64>),
) -> Option<String> {
    let (matches, raised) = rulec;
    if let Some((ours, theirs)) = matches
        .iter()
        .zip(&python.matches)
        .find(|(ours, theirs)| ours != theirs)
    {
        return Some(format!("rulec {ours:?}, Python {theirs:?}"));
    }
    if matches.len() != python.matches.len() {
        return Some(format!(
            "rulec {} matches, Python {}",
            matches.len(),
            python.matches.len()
        ));
    }
    if let Some((ours, theirs)) = raised.iter().zip(&python.raised).find(|(a, b)| a != b) {
        return Some(format!(
            "rulec raised on line {ours}, Python on line {theirs}"
        ));
    }
    (raised.len() != python.raised.len()).then(|| {
        format!(
            "rulec raised on {} events, Python on {}",
            raised.len(),
            python.raised.len()
        )
    })
}

/// Panther's Python path on `file` (holding `corpus`; its temporary files
/// under `work_dir`): the fastest of `runs` runs, each after a run of the
/// floor over the same bytes. An error when it does not agree with rulec's
/// fast path for `detector` (the seed rule alone) on the events that match
/// or raise.
pub fn panther_python(
    python: &Path,
    work_dir: &Path,
    file: &Path,
    corpus: &Corpus,
    detector: &Detector,
    runs: usize,
) -> Result<Figure, String> {
    let mut best = Duration::MAX;
    let mut floor = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        floor = floor.min(time_floor(corpus));
        let outcome = run_once(python, file, work_dir)?;
        let seconds = Duration::try_from_secs_f64(outcome.seconds)
            .map_err(|e| format!("panther_path.py timed {} s: {e}", outcome.seconds))?;
        best = best.min(seconds);
        last = Some(outcome);
    }
    let outcome = last.ok_or("no run of panther_path.py")?;
    if let Some(difference) = first_difference(&outcome, &rulec_outcomes(detector, corpus)) {
        return Err(format!(
            "Panther's Python path and rulec disagree on the seed rule over {}: {difference}",
            file.display()
        ));
    }
    // Every event of the corpus is of one of the seed rule's log types.
    if (outcome.events, outcome.bytes) != (corpus.lines.len() as u64, corpus.text.len() as u64) {
        return Err(format!(
            "panther_path.py ran the rule on {} events ({} bytes) of {}, which holds {} ({} bytes)",
            outcome.events,
            outcome.bytes,
            file.display(),
            corpus.lines.len(),
            corpus.text.len()
        ));
    }
    Ok(Figure {
        stage: "reference: Panther's Python path, seed rule".to_owned(),
        bytes: corpus.text.len(),
        events: corpus.lines.len(),
        best,
        floor,
        checksum: outcome.matches.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(matches: &[(u64, &str, &str)], raised: &[u64]) -> PythonRun {
        PythonRun {
            events: 10,
            bytes: 100,
            seconds: 1.0,
            matches: matches
                .iter()
                .map(|(line, title, dedup)| (*line, (*title).to_owned(), (*dedup).to_owned()))
                .collect(),
            raised: raised.to_vec(),
        }
    }

    fn rulec(
        matches: &[(u64, &str, &str)],
        raised: &[u64],
    ) -> (Vec<(u64, String, String)>, Vec<u64>) {
        let run = python(matches, raised);
        (run.matches, run.raised)
    }

    #[test]
    fn the_same_outcomes_agree() {
        let both = [(3, "title", "dedup"), (7, "other", "dedup")];
        assert_eq!(
            first_difference(&python(&both, &[5]), &rulec(&both, &[5])),
            None
        );
    }

    #[test]
    fn a_title_a_missing_match_or_a_raise_differ() {
        let ours = [(3, "title", "dedup")];
        let other_title = [(3, "Title", "dedup")];
        assert!(first_difference(&python(&other_title, &[]), &rulec(&ours, &[])).is_some());
        assert!(first_difference(&python(&[], &[]), &rulec(&ours, &[])).is_some());
        assert!(first_difference(&python(&ours, &[4]), &rulec(&ours, &[])).is_some());
        assert!(first_difference(&python(&ours, &[4]), &rulec(&ours, &[6])).is_some());
    }
}
