//! The benchmark corpus: generated sample events (EKS, AKS, GKE), one per line.

use std::path::Path;

use rulec_samples::{generate, Config};

/// A corpus in memory, with its line boundaries.
pub struct Corpus {
    /// What it holds.
    pub name: String,
    /// The NDJSON text.
    pub text: String,
    /// Each line (without its newline).
    pub lines: Vec<(usize, usize)>,
}

impl Corpus {
    /// Generates at least `bytes` of events with the sample generator
    /// (deterministic: the same `seed` gives the same events), keeping those
    /// of `log_type` when given.
    pub fn generate(bytes: usize, log_type: Option<&str>, seed: u64) -> Corpus {
        let config = Config {
            seed,
            events: usize::MAX,
            ..Config::default()
        };
        let mut text = String::with_capacity(bytes + 4096);
        for sample in generate(&config) {
            if log_type.is_some_and(|t| t != sample.log_type) {
                continue;
            }
            text.push_str(&sample.event.to_string());
            text.push('\n');
            if text.len() >= bytes {
                break;
            }
        }
        let name = log_type.unwrap_or("all log types").to_owned();
        Corpus::from_text(name, text)
    }

    /// A corpus over existing text.
    pub fn from_text(name: String, text: String) -> Corpus {
        let mut lines = Vec::new();
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
            lines.push((start, end));
            start = end + 1;
        }
        if start < text.len() {
            lines.push((start, text.len()));
        }
        Corpus { name, text, lines }
    }

    /// The lines.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .map(|(start, end)| self.text.get(*start..*end).unwrap_or(""))
    }

    /// The first lines holding about `bytes`, as a corpus of its own.
    pub fn prefix(&self, bytes: usize) -> Corpus {
        let end = self
            .lines
            .iter()
            .find(|(_, end)| *end >= bytes)
            .map_or(self.text.len(), |(_, end)| (*end + 1).min(self.text.len()));
        Corpus::from_text(
            self.name.clone(),
            self.text.get(..end).unwrap_or("").to_owned(),
        )
    }

    /// Writes the corpus to `path` (for runs of the `detect` binary).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.text)
    }
}
