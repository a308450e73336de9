//! What `detect` writes: one JSON line per match or per alert, to stdout or a
//! file.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use rulec::{AlertStream, CompiledRule, Severity};
use serde::Serialize;

/// One line of `--emit matches`.
#[derive(Debug, Serialize)]
pub struct MatchLine<'a> {
    /// `RuleID`.
    pub rule_id: &'a str,
    /// The input's name (`-` for stdin).
    pub input: &'a str,
    /// The 1-based line number.
    pub line: u64,
    /// The event's `p_log_type`.
    pub log_type: &'a str,
    /// The severity.
    pub severity: Severity,
    /// The title.
    pub title: &'a str,
    /// The dedup string.
    pub dedup: &'a str,
    /// The alert context, keys in the rule's order.
    pub alert_context: &'a serde_json::Map<String, serde_json::Value>,
}

/// Where lines go.
pub struct Sink {
    writer: BufWriter<Box<dyn Write>>,
}

/// A failed write: the reader went away (a closed pipe), or a real error.
pub enum WriteError {
    /// The pipe closed: stop quietly.
    Closed,
    /// Anything else.
    Failed(io::Error),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            WriteError::Closed
        } else {
            WriteError::Failed(e)
        }
    }
}

impl Sink {
    /// stdout, or the file at `path` (created or truncated).
    pub fn open(path: Option<&str>) -> io::Result<Sink> {
        let out: Box<dyn Write> = match path {
            Some(path) if path != "-" => Box::new(File::create(path)?),
            _ => Box::new(io::stdout()),
        };
        Ok(Sink {
            writer: BufWriter::with_capacity(256 * 1024, out),
        })
    }

    /// Writes one value as a JSON line.
    pub fn line<T: Serialize>(&mut self, value: &T) -> Result<(), WriteError> {
        serde_json::to_writer(&mut self.writer, value).map_err(|e| match e.io_error_kind() {
            Some(kind) => WriteError::from(io::Error::from(kind)),
            None => WriteError::Failed(io::Error::other(e)),
        })?;
        self.writer.write_all(b"\n")?;
        Ok(())
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<(), WriteError> {
        self.writer.flush()?;
        Ok(())
    }
}

/// The rules a stream evaluates, for the summary.
pub fn rule_ids(stream: &AlertStream) -> Vec<&'static str> {
    stream
        .detector()
        .rules()
        .iter()
        .map(|r: &&'static CompiledRule| r.meta.id)
        .collect()
}
