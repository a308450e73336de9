//! Reading NDJSON the way `detect` does: splitting an input into lines
//! without ever holding more than the line limit in memory ([`Lines`]), and
//! classifying each line as blank, malformed (with the reason) or an event
//! evaluated on the fast path ([`evaluate`]).
//!
//! ```
//! use rulec::ndjson::{evaluate, Line, Lines, Outcome};
//!
//! let input = "{\"p_log_type\":\"Amazon.EKS.Audit\",\"verb\":\"get\"}\n\nnot json\n";
//! let detector = rulec::detector();
//! let mut scratch = rulec::Parsed::new();
//! let mut lines = Lines::new(std::io::BufReader::new(Box::new(input.as_bytes())), 1 << 20);
//! let mut buf = Vec::new();
//! let mut kinds = Vec::new();
//! while let Ok(Some((Line::Complete, _))) = lines.next_line(&mut buf) {
//!     kinds.push(match evaluate(&detector, &mut scratch, &buf) {
//!         Outcome::Blank => "blank",
//!         Outcome::Bad(_) => "bad",
//!         Outcome::Event { .. } => "event",
//!     });
//! }
//! assert_eq!(kinds, ["event", "blank", "bad"]);
//! ```

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read};

use rulec_runtime::engine::{event_text, Detector, Evaluation, LineEvaluation};
use rulec_runtime::projection::Parsed;
use rulec_runtime::Timestamp;

/// A UTF-8 byte-order mark: dropped at the start of an input (RFC 8259 lets a
/// parser ignore it there), refused anywhere else.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes are in the buffer (without `\n` or `\r\n`).
    Complete,
    /// The line was longer than the limit; its bytes were skipped.
    TooLong {
        /// Its length in bytes.
        length: u64,
    },
}

/// Splits an input into lines, each at most `max_line_bytes` long; longer
/// lines are skipped without buffering them.
pub struct Lines<R = BufReader<Box<dyn Read + Send>>> {
    reader: R,
    max_line_bytes: usize,
    done: bool,
    /// No line was read yet (a byte-order mark may open it).
    first: bool,
}

impl<R: BufRead> Lines<R> {
    /// A line reader over `reader`; lines longer than `max_line_bytes`
    /// (without their `\n`) are reported as [`Line::TooLong`]. A UTF-8
    /// byte-order mark opening the input is dropped.
    pub fn new(reader: R, max_line_bytes: usize) -> Lines<R> {
        Lines {
            reader,
            max_line_bytes,
            done: false,
            first: true,
        }
    }

    /// A line reader over `reader` positioned at the start of a line inside
    /// an input (not its first byte): as [`Lines::new`], except that a
    /// byte-order mark opening the first line read is kept, as it would be
    /// there (it is refused as malformed JSON).
    pub fn resuming(reader: R, max_line_bytes: usize) -> Lines<R> {
        Lines {
            first: false,
            ..Lines::new(reader, max_line_bytes)
        }
    }

    /// Reads the next line into `buf` (cleared first). `Ok(None)` at the end
    /// of input; the second value is the number of bytes the line took.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<(Line, u64)>> {
        buf.clear();
        let line = self.append_line(buf)?;
        if let Some((Line::TooLong { .. }, _)) = line {
            // The skipped line may have grown the buffer to the limit.
            buf.shrink_to(self.max_line_bytes.min(1 << 20));
        }
        Ok(line)
    }

    /// Appends the next line to `out`, after what it holds (so that lines
    /// can be gathered in one buffer without a copy each). As
    /// [`Lines::next_line`], except that a [`Line::TooLong`] leaves `out` as
    /// it was.
    pub fn append_line(&mut self, out: &mut Vec<u8>) -> io::Result<Option<(Line, u64)>> {
        let start = out.len();
        if self.done {
            return Ok(None);
        }
        let first = std::mem::take(&mut self.first);
        let mut length: u64 = 0;
        let mut too_long = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                self.done = true;
                if length == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, end_of_line) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            length += take as u64;
            if !too_long {
                if out.len() - start + take > self.max_line_bytes {
                    too_long = true;
                    out.truncate(start);
                } else {
                    out.extend_from_slice(&chunk[..take]);
                }
            }
            let consumed = if end_of_line { take + 1 } else { take };
            self.reader.consume(consumed);
            if end_of_line {
                length += 1;
                break;
            }
        }
        if too_long {
            return Ok(Some((Line::TooLong { length }, length)));
        }
        if out.len() > start && out.last() == Some(&b'\r') {
            out.pop();
        }
        if first && out[start..].starts_with(BOM) {
            out.drain(start..start + BOM.len());
        }
        Ok(Some((Line::Complete, length)))
    }

    /// Reads the next line and hands it to `visit` with its bytes (empty for
    /// a [`Line::TooLong`]): straight from the reader's buffer when the
    /// whole line is there, else gathered in `spill` as
    /// [`Lines::next_line`] gathers it. The same lines as
    /// [`Lines::next_line`], without copying most of them. `Ok(None)` at
    /// the end of input; the second value is the number of bytes the line
    /// took.
    pub fn visit_line<T>(
        &mut self,
        spill: &mut Vec<u8>,
        visit: impl FnOnce(Line, &[u8]) -> T,
    ) -> io::Result<Option<(T, u64)>> {
        if self.done {
            return Ok(None);
        }
        let buffer = loop {
            match self.reader.fill_buf() {
                Ok(buffer) => break buffer,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let Some(newline) = memchr::memchr(b'\n', buffer).filter(|&at| at <= self.max_line_bytes)
        else {
            // Not all buffered, the end of input, or too long: the general way.
            let line = self.next_line(spill)?;
            return Ok(line.map(|(line, length)| (visit(line, spill), length)));
        };
        let mut line = &buffer[..newline];
        if let Some(without_cr) = line.strip_suffix(b"\r") {
            line = without_cr;
        }
        if std::mem::take(&mut self.first) {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        let visited = visit(Line::Complete, line);
        self.reader.consume(newline + 1);
        Ok(Some((visited, newline as u64 + 1)))
    }
}

impl<T: Read> Lines<BufReader<T>> {
    /// Whether the next line needs a read from the input, which may wait
    /// (nothing of it is buffered).
    pub fn needs_read(&self) -> bool {
        !self.done && self.reader.buffer().is_empty()
    }
}

/// What one line gave.
pub enum Outcome {
    /// Only whitespace.
    Blank,
    /// Refused, with the reason.
    Bad(String),
    /// An event of `log_type`, evaluated.
    Event {
        /// Its `p_log_type` (borrowed from the rules when one of them reads it).
        log_type: Cow<'static, str>,
        /// Matches and rule errors.
        evaluation: Evaluation,
        /// The event's time, read when a rule matched.
        event_time: Option<Timestamp>,
    },
}

/// Evaluates one line (without its line ending) on the fast path.
pub fn evaluate(detector: &Detector, scratch: &mut Parsed, line: &[u8]) -> Outcome {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Outcome::Blank;
    }
    let text = match event_text(line) {
        Ok(text) => text,
        Err(reason) => return Outcome::Bad(reason.to_string()),
    };
    match detector.evaluate_line(scratch, text) {
        Ok(LineEvaluation {
            log_type,
            known_log_type,
            evaluation,
            event_time,
        }) => Outcome::Event {
            log_type: known_log_type.map_or_else(|| Cow::Owned(log_type.to_owned()), Cow::Borrowed),
            evaluation,
            event_time,
        },
        Err(e) => Outcome::Bad(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        let mut lines = Lines::new(
            BufReader::with_capacity(4, Box::new(io::Cursor::new(text.to_vec()))),
            max,
        );
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Ok(Some((line, _))) = lines.next_line(&mut buf) {
            out.push((line, buf.clone()));
        }
        out
    }

    #[test]
    fn appended_lines_are_the_lines_read_one_by_one() {
        let text = b"\xef\xbb\xbf{}\r\nxxxxxxxxxxxxxxxxxxxxxxxx\n\nab\r\nxxxxxxxxxxxx\r\nlast";
        let one_by_one = lines_of(text, 10);
        let mut lines = Lines::new(
            BufReader::with_capacity(4, Box::new(io::Cursor::new(text.to_vec()))),
            10,
        );
        let mut gathered = b"held".to_vec();
        let mut appended = Vec::new();
        loop {
            let start = gathered.len();
            match lines.append_line(&mut gathered) {
                Ok(Some((line, _))) => appended.push((line, gathered[start..].to_vec())),
                Ok(None) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(appended, one_by_one);
        assert_eq!(gathered, b"held{}ablast".to_vec());
        assert!(matches!(appended[1].0, Line::TooLong { length: 25 }));
    }

    #[test]
    fn visited_lines_are_the_lines_read_one_by_one_whatever_the_buffer() {
        let text = b"\xef\xbb\xbf{}\r\nxxxxxxxxxxxxxxxxxxxxxxxx\n\nab\r\n\r\nxxxxxxxxxx\r\nxxxxxxxxxx\n\xef\xbb\xbf\nlast";
        let one_by_one = lines_of(text, 10);
        assert_eq!(one_by_one.len(), 9, "{one_by_one:?}");
        for capacity in 1..=text.len() + 1 {
            let mut lines = Lines::new(
                BufReader::with_capacity(capacity, Box::new(io::Cursor::new(text.to_vec()))),
                10,
            );
            let mut spill = Vec::new();
            let mut visited = Vec::new();
            let mut bytes = 0;
            while let Some((line, length)) = lines
                .visit_line(&mut spill, |line, text| (line, text.to_vec()))
                .expect("reads")
            {
                visited.push(line);
                bytes += length;
            }
            assert_eq!(visited, one_by_one, "capacity {capacity}");
            assert_eq!(bytes, text.len() as u64, "capacity {capacity}");
        }
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let lines = lines_of(b"a\r\nbb\n\nccc", 10);
        let texts: Vec<&[u8]> = lines.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(texts, [&b"a"[..], b"bb", b"", b"ccc"]);
    }

    #[test]
    fn a_byte_order_mark_is_dropped_only_at_the_start() {
        let lines = lines_of(b"\xef\xbb\xbf{}\r\n\xef\xbb\xbf{}\n", 10);
        let texts: Vec<&[u8]> = lines.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(texts, [&b"{}"[..], b"\xef\xbb\xbf{}"]);
    }

    #[test]
    fn long_lines_are_skipped_not_buffered() {
        let mut text = vec![b'x'; 100];
        text.extend_from_slice(b"\nok\n");
        let lines = lines_of(&text, 10);
        assert_eq!(lines[0].0, Line::TooLong { length: 101 });
        assert!(lines[0].1.is_empty());
        assert_eq!(lines[1], (Line::Complete, b"ok".to_vec()));
        assert_eq!(lines.len(), 2);
    }
}
