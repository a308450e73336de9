//! What `detect` writes: one JSON line per match or per alert, to stdout or a
//! file (replaced atomically, only when the run succeeds).

use std::fs::{File, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rulec::json_line::write_json_line;
use rulec::{AlertStream, CompiledRule, Severity};
use serde::Serialize;
use tempfile::NamedTempFile;

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
    pub alert_context: &'a rulec::AlertContext,
}

/// Where the bytes go.
enum Destination {
    Stdout(io::Stdout),
    /// A file that is not a regular file (a device, a FIFO): written in place.
    InPlace(File),
    /// A temporary file beside the target, renamed onto it at the end.
    Temporary {
        file: NamedTempFile,
        target: PathBuf,
    },
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::InPlace(file) => file.write(buf),
            Destination::Temporary { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::InPlace(file) => file.flush(),
            Destination::Temporary { file, .. } => file.flush(),
        }
    }
}

/// Where lines go: stdout, or a file written atomically (a temporary file
/// in the same directory, renamed onto the path only by [`Sink::finish`]
/// with `keep`, so a failed run leaves any earlier file as it was).
pub struct Sink {
    writer: BufWriter<Destination>,
    /// The line being written, reused.
    line: Vec<u8>,
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

/// A temporary file in the directory of `target`, with the permissions a
/// new file would get (or those of the file it will replace).
fn temporary_beside(target: &Path, replaced: Option<&Metadata>) -> io::Result<NamedTempFile> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".detect-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // As `File::create`: 0o666 less the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(dir)?;
    if let Some(replaced) = replaced {
        file.as_file().set_permissions(replaced.permissions())?;
    }
    Ok(file)
}

impl Sink {
    /// stdout (for `None` or `-`), or the file at `path`: a regular file (or
    /// a new one) is written to a temporary file beside it; anything else (a
    /// device, a FIFO) is written in place.
    pub fn open(path: Option<&str>) -> io::Result<Sink> {
        let destination = match path {
            Some(path) if path != "-" => match std::fs::metadata(path) {
                Ok(metadata) if metadata.is_file() => {
                    // Through symbolic links: the file they name is replaced.
                    let target = std::fs::canonicalize(path)?;
                    let file = temporary_beside(&target, Some(&metadata))?;
                    Destination::Temporary { file, target }
                }
                Ok(_) => Destination::InPlace(File::create(path)?),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let target = PathBuf::from(path);
                    let file = temporary_beside(&target, None)?;
                    Destination::Temporary { file, target }
                }
                Err(e) => return Err(e),
            },
            _ => Destination::Stdout(io::stdout()),
        };
        Ok(Sink {
            writer: BufWriter::with_capacity(256 * 1024, destination),
            line: Vec::new(),
        })
    }

    /// Writes one value as a JSON line.
    pub fn line<T: Serialize>(&mut self, value: &T) -> Result<(), WriteError> {
        self.line.clear();
        write_json_line(&mut self.line, value)
            .map_err(|e| WriteError::Failed(io::Error::other(e)))?;
        self.writer.write_all(&self.line)?;
        Ok(())
    }

    /// Ends the output. With `keep`, flushes it and, for a file, syncs the
    /// temporary file to disk and renames it onto the path. Without, a
    /// temporary file is removed (stdout and in-place files are flushed).
    pub fn finish(self, keep: bool) -> Result<(), WriteError> {
        let destination = self.writer.into_inner().map_err(|e| e.into_error())?;
        match destination {
            Destination::Temporary { file, target } if keep => {
                file.as_file().sync_all()?;
                file.persist(&target).map_err(|e| e.error)?;
                Ok(())
            }
            // Dropped: the temporary file is removed.
            Destination::Temporary { .. } => Ok(()),
            mut other => Ok(other.flush()?),
        }
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
