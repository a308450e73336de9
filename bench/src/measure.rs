//! Timing: each stage runs a few times and keeps its fastest run.

use std::time::{Duration, Instant};

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
}

/// Runs `work` `runs` times (at least once) and keeps the fastest.
pub fn measure(
    stage: impl Into<String>,
    bytes: usize,
    events: usize,
    runs: usize,
    mut work: impl FnMut() -> u64,
) -> Figure {
    let mut best = Duration::MAX;
    let mut checksum = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        checksum = std::hint::black_box(work());
        best = best.min(start.elapsed());
    }
    Figure {
        stage: stage.into(),
        bytes,
        events,
        best,
        checksum,
    }
}
