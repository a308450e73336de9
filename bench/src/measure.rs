//! Timing: each stage runs a few times and keeps its fastest run, each run
//! right after a run of the floor (`serde_json` into `IgnoredAny`) over the
//! same bytes, so that a stage's ratio to the floor compares runs made at
//! the same moment: on a shared machine whose speed drifts by a third
//! within a minute, a floor measured once, earlier, skews every ratio.

use std::time::{Duration, Instant};

use crate::corpus::Corpus;

/// One stage's result.
#[derive(Clone)]
pub struct Figure {
    /// What was measured.
    pub stage: String,
    /// Bytes processed per run.
    pub bytes: usize,
    /// Events processed per run.
    pub events: usize,
    /// The fastest run.
    pub best: Duration,
    /// The fastest run of the floor over the same bytes, each run of it
    /// made just before one of this stage's.
    pub floor: Duration,
    /// A number the stage computed (lines parsed, matches found), printed so
    /// that the work cannot be optimised away and stages can be compared:
    /// the interpreter, the generated matchers and the fast path find the
    /// same matches on the same lines.
    pub checksum: u64,
}

impl Figure {
    /// Megabytes (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.best.as_secs_f64().max(1e-9)
    }

    /// Events per second.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.best.as_secs_f64().max(1e-9)
    }

    /// Throughput as a fraction of the floor's, measured alongside.
    pub fn floor_ratio(&self) -> f64 {
        self.floor.as_secs_f64() / self.best.as_secs_f64().max(1e-9)
    }
}

/// One run of the floor over `corpus`: how long it took.
pub fn time_floor(corpus: &Corpus) -> Duration {
    let start = Instant::now();
    std::hint::black_box(crate::stages::ignored_any_pass(corpus));
    start.elapsed()
}

/// Runs `work` over `corpus` `runs` times (at least once), each time after a
/// run of the floor, and keeps the fastest of each.
pub fn measure(
    stage: impl Into<String>,
    corpus: &Corpus,
    runs: usize,
    mut work: impl FnMut() -> u64,
) -> Figure {
    let mut best = Duration::MAX;
    let mut floor = Duration::MAX;
    let mut checksum = 0;
    for _ in 0..runs.max(1) {
        floor = floor.min(time_floor(corpus));
        let start = Instant::now();
        checksum = std::hint::black_box(work());
        best = best.min(start.elapsed());
    }
    Figure {
        stage: stage.into(),
        bytes: corpus.text.len(),
        events: corpus.lines.len(),
        best,
        floor,
        checksum,
    }
}
