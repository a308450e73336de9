//! Reading inputs: files or stdin, gzip decompressed transparently (by its
//! magic bytes), split into lines without ever holding more than the line
//! limit in memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// A UTF-8 byte-order mark: dropped at the start of an input (RFC 8259 lets a
/// parser ignore it there), refused anywhere else.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Counts the bytes read from the underlying file, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input.
pub struct Input {
    /// Its name: the path, or `-` for stdin.
    pub name: String,
    /// Its size on disk, when it is a file.
    pub size: Option<u64>,
    /// Bytes read from it so far (compressed, for gzip).
    pub consumed: Arc<AtomicU64>,
    reader: BufReader<Box<dyn Read + Send>>,
}

impl Input {
    /// Opens `-` (stdin) or a file; gzip is detected by its magic bytes.
    pub fn open(name: &str) -> io::Result<Input> {
        let consumed = Arc::new(AtomicU64::new(0));
        let (raw, size): (Box<dyn Read + Send>, Option<u64>) = if name == "-" {
            (Box::new(io::stdin()), None)
        } else {
            let file = File::open(name)?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        };
        let mut buffered = BufReader::with_capacity(
            1024 * 1024,
            Box::new(Counting {
                inner: raw,
                count: Arc::clone(&consumed),
            }) as Box<dyn Read + Send>,
        );
        let is_gzip = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
        let reader = if is_gzip {
            BufReader::with_capacity(
                1024 * 1024,
                Box::new(MultiGzDecoder::new(buffered)) as Box<dyn Read + Send>,
            )
        } else {
            buffered
        };
        Ok(Input {
            name: name.to_owned(),
            size,
            consumed,
            reader,
        })
    }

    /// A line reader over the input.
    pub fn lines(self, max_line_bytes: usize) -> Lines {
        Lines {
            reader: self.reader,
            max_line_bytes,
            done: false,
            first: true,
        }
    }
}

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
pub struct Lines {
    reader: BufReader<Box<dyn Read + Send>>,
    max_line_bytes: usize,
    done: bool,
    /// No line was read yet (a byte-order mark may open it).
    first: bool,
}

impl Lines {
    /// Whether the next line needs a read from the input, which may wait
    /// (nothing of it is buffered).
    pub fn needs_read(&self) -> bool {
        !self.done && self.reader.buffer().is_empty()
    }

    /// Reads the next line into `buf` (cleared first). `Ok(None)` at the end
    /// of input; the second value is the number of bytes the line took.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<(Line, u64)>> {
        buf.clear();
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
                if buf.len() + take > self.max_line_bytes {
                    too_long = true;
                    buf.clear();
                    buf.shrink_to(self.max_line_bytes.min(1 << 20));
                } else {
                    buf.extend_from_slice(&chunk[..take]);
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
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if first && buf.starts_with(BOM) {
            buf.drain(..BOM.len());
        }
        Ok(Some((Line::Complete, length)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        let mut lines = Lines {
            reader: BufReader::with_capacity(4, Box::new(io::Cursor::new(text.to_vec()))),
            max_line_bytes: max,
            done: false,
            first: true,
        };
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Ok(Some((line, _))) = lines.next_line(&mut buf) {
            out.push((line, buf.clone()));
        }
        out
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
