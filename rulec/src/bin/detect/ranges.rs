//! Reading a plain file on the worker threads, a byte range each: with more
//! than one thread, the copy of the file out of the kernel is shared by the
//! workers instead of falling to one reader thread, which then took a core's
//! share from them.
//!
//! A range owns the lines that start in it: its worker reads on past the
//! range's end to finish its last line, and a worker whose range starts
//! inside a line skips to the next line start (the line belongs to an
//! earlier range). So the ranges' lines, one after the other, are the
//! file's lines, split as [`Lines`] splits the whole file (line limit,
//! `\r\n`, a byte-order mark on the first line only), wherever the ranges
//! fall. Reads are positional (`pread`), so a file that shrinks while it is
//! read only ends early, as a read from a stream would.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use rulec::{Detector, Parsed};

use crate::input::{Line, Lines};
use crate::work::{evaluate, Done, Outcome};

/// Bytes of a file per range: about a chunk's worth of lines.
pub const RANGE_BYTES: u64 = 1 << 20;

/// Bytes read at a time within a range.
const READ_BYTES: usize = RANGE_BYTES as usize + TAIL_READ;

/// Bytes read at a time past a range's end, to finish its last line: audit
/// events are a few kilobytes.
const TAIL_READ: usize = 16 * 1024;

/// A plain file cut into byte ranges, handed out in order.
pub struct FileRanges {
    file: Arc<File>,
    /// How many ranges: the last runs to the end of the file, however long
    /// it has grown.
    count: u64,
    range_bytes: u64,
    next: u64,
    max_line_bytes: usize,
}

impl FileRanges {
    /// Cuts `file`, `size` bytes long when opened, into ranges of
    /// `range_bytes`.
    pub fn new(file: Arc<File>, size: u64, range_bytes: u64, max_line_bytes: usize) -> FileRanges {
        let range_bytes = range_bytes.max(1);
        FileRanges {
            file,
            count: size.div_ceil(range_bytes).max(1),
            range_bytes,
            next: 0,
            max_line_bytes,
        }
    }
}

impl Iterator for FileRanges {
    type Item = Range;

    fn next(&mut self) -> Option<Range> {
        if self.next == self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        Some(Range {
            index,
            file: Arc::clone(&self.file),
            start: index * self.range_bytes,
            end: (self.next < self.count).then_some(self.next * self.range_bytes),
            max_line_bytes: self.max_line_bytes,
        })
    }
}

/// The lines starting between two offsets of a file.
pub struct Range {
    /// Its place among the file's ranges, counted from 0.
    pub index: u64,
    file: Arc<File>,
    start: u64,
    /// `None`: to the end of the file.
    end: Option<u64>,
    max_line_bytes: usize,
}

impl Range {
    /// Reads the range's lines, with `reading`'s buffers, handing each to
    /// `visit`: its bytes, or why it was refused while reading. Returns
    /// the bytes of input the lines took, and the error that stopped the
    /// reading, if one did (after the lines visited).
    pub fn each_line(
        &self,
        reading: &mut RangeReader,
        mut visit: impl FnMut(Result<&[u8], String>),
    ) -> (u64, Option<io::Error>) {
        let end = self.end.unwrap_or(u64::MAX);
        let from = self.start.saturating_sub(1);
        let RangeReader { reader, spill, .. } = reading;
        let reader = match reader_at(reader, &self.file, from, end) {
            Ok(reader) => reader,
            Err(error) => return (0, Some(error)),
        };
        let (mut lines, mut at) = if self.start == 0 {
            (Lines::new(reader, self.max_line_bytes), 0)
        } else {
            // The byte before the range says whether a line starts at its
            // first byte; otherwise the first line start is past the next
            // line end, if that is in the range.
            match line_start(reader, from, end) {
                Ok(Some(at)) => (Lines::resuming(reader, self.max_line_bytes), at),
                Ok(None) => return (0, None),
                Err(error) => return (0, Some(error)),
            }
        };
        let start = at;
        while at < end {
            let read = lines.visit_line(spill, |line, text| match line {
                Line::Complete => visit(Ok(text)),
                Line::TooLong { length } => {
                    visit(Err(crate::feed::too_long_reason(
                        length,
                        self.max_line_bytes,
                    )));
                }
            });
            match read {
                Ok(Some(((), length))) => at += length,
                Ok(None) => break,
                Err(error) => return (at - start, Some(error)),
            }
        }
        (at - start, None)
    }

    /// Reads and evaluates the range's lines, each straight from the read
    /// buffer (a line that straddles two reads is gathered first).
    pub fn evaluate(
        &self,
        reading: &mut RangeReader,
        detector: &Detector,
        scratch: &mut Parsed,
    ) -> Done {
        // About as many lines as the last range had: one allocation, not a
        // dozen growing ones (each on fresh pages the kernel must zero).
        let mut outcomes = Vec::with_capacity(reading.lines_per_range);
        let (bytes, error) = self.each_line(reading, |line| {
            outcomes.push(match line {
                Ok(text) => evaluate(detector, scratch, text),
                Err(reason) => Outcome::Bad(reason),
            });
        });
        reading.lines_per_range = reading.lines_per_range.max(outcomes.len());
        Done {
            outcomes,
            bytes,
            error,
        }
    }
}

/// The first line start after `from` and before `end`, read from `reader`
/// (at `from`, and left at that start): `None` when no line ends there,
/// so that a range inside a long line owns nothing, and reads no more than
/// itself to know it (a line of a gigabyte is read once by the range where
/// it starts, not once more by every range it covers).
fn line_start(reader: &mut impl BufRead, from: u64, end: u64) -> io::Result<Option<u64>> {
    let mut at = from;
    while at < end {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buffer.is_empty() {
            return Ok(None);
        }
        let limit = usize::try_from(end - at).map_or(buffer.len(), |left| left.min(buffer.len()));
        if let Some(newline) = memchr::memchr(b'\n', &buffer[..limit]) {
            reader.consume(newline + 1);
            return Ok(Some(at + newline as u64 + 1));
        }
        reader.consume(limit);
        at += limit as u64;
    }
    Ok(None)
}

/// A worker's buffers for reading ranges, kept from one range to the next:
/// a buffer of a megabyte is allocated and zeroed once, not once a range.
#[derive(Default)]
pub struct RangeReader {
    reader: Option<BufReader<At>>,
    /// Where a line that straddles two reads is gathered.
    spill: Vec<u8>,
    /// The most lines a range had so far.
    lines_per_range: usize,
}

impl RangeReader {
    /// Bytes read from files so far.
    #[cfg(test)]
    fn bytes_read(&self) -> u64 {
        self.reader
            .as_ref()
            .map_or(0, |reader| reader.get_ref().read)
    }
}

/// The buffered reader kept in `reader`, reading `file` from `from`, as
/// much as asked up to `end` (nothing buffered from an earlier range).
fn reader_at<'r>(
    reader: &'r mut Option<BufReader<At>>,
    file: &Arc<File>,
    from: u64,
    end: u64,
) -> io::Result<&'r mut BufReader<At>> {
    let reader = reader.get_or_insert_with(|| {
        let at = At {
            file: Arc::clone(file),
            position: from,
            end,
            read: 0,
        };
        BufReader::with_capacity(READ_BYTES, at)
    });
    let at = reader.get_mut();
    at.file = Arc::clone(file);
    at.end = end;
    // Seeking empties the buffer (and keeps its bytes zeroed).
    reader.seek(SeekFrom::Start(from))?;
    Ok(reader)
}

/// Reads a file from a position, without moving the file's own offset:
/// as much as asked up to `end`, then [`TAIL_READ`] at a time.
struct At {
    file: Arc<File>,
    position: u64,
    end: u64,
    /// Bytes read so far, for every range this reader served.
    read: u64,
}

impl Read for At {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = match usize::try_from(self.end.saturating_sub(self.position)) {
            Ok(0) => TAIL_READ,
            Ok(left) => left,
            Err(_) => buf.len(),
        };
        let len = want.min(buf.len());
        let read = self.file.read_at(&mut buf[..len], self.position)?;
        self.position += read as u64;
        self.read += read as u64;
        Ok(read)
    }
}

impl Seek for At {
    /// Only to a position from the start (what [`RangeReader`] asks).
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match to {
            SeekFrom::Start(position) => {
                self.position = position;
                Ok(position)
            }
            SeekFrom::Current(_) | SeekFrom::End(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a file range seeks only from the start",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::work::Chunk;

    /// Lines as read: each one's refusal (or `None`) and bytes.
    type LinesRead = Vec<(Option<String>, Vec<u8>)>;

    /// The lines of a whole input (each one's refusal and bytes), read as
    /// `Lines` reads a stream.
    fn lines_of_stream(text: &[u8], max: usize) -> LinesRead {
        let reader: Box<dyn Read + Send> = Box::new(io::Cursor::new(text.to_vec()));
        let mut lines = Lines::new(BufReader::with_capacity(7, reader), max);
        let mut chunk = Chunk::new(0);
        while let Ok(Some((line, length))) = lines.append_line(&mut chunk.data) {
            let refused = match line {
                Line::Complete => None,
                Line::TooLong { length } => Some(crate::feed::too_long_reason(length, max)),
            };
            chunk.appended(refused, length);
        }
        chunk_lines(&chunk)
    }

    /// A chunk's lines: each one's refusal and bytes.
    fn chunk_lines(chunk: &Chunk) -> LinesRead {
        let mut start = 0;
        let mut refused = chunk.refused.iter();
        let mut out = Vec::new();
        for end in &chunk.ends {
            match end {
                Some(end) => {
                    out.push((None, chunk.data[start..*end].to_vec()));
                    start = *end;
                }
                None => {
                    let reason = refused.next().map(|(_, reason)| reason.clone());
                    out.push((reason, Vec::new()));
                }
            }
        }
        out
    }

    /// A range's lines (each one's refusal and bytes), the bytes they took,
    /// and the error that stopped the reading.
    fn range_lines(
        range: &Range,
        reading: &mut RangeReader,
    ) -> (LinesRead, u64, Option<io::Error>) {
        let mut lines = Vec::new();
        let (bytes, error) = range.each_line(reading, |line| {
            lines.push(match line {
                Ok(text) => (None, text.to_vec()),
                Err(reason) => (Some(reason), Vec::new()),
            });
        });
        (lines, bytes, error)
    }

    /// A temporary file holding `text`.
    fn file_holding(text: &[u8]) -> Arc<File> {
        let mut file = tempfile::tempfile().expect("a temporary file");
        file.write_all(text).expect("write it");
        Arc::new(file)
    }

    /// The texts of the lines of `ranges`, read one after the other.
    fn texts_of(ranges: &[Range]) -> Vec<Vec<u8>> {
        let mut reading = RangeReader::default();
        ranges
            .iter()
            .flat_map(|range| range_lines(range, &mut reading).0)
            .map(|(_, text)| text)
            .collect()
    }

    #[test]
    fn ranges_of_any_size_give_the_lines_of_the_whole_file() {
        let text: &[u8] =
            b"\xef\xbb\xbf{\"a\":1}\r\n\n\xef\xbb\xbf{}\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\r\n{\"b\":\"\\n\"}\nlast";
        let file = file_holding(text);
        let max = 12;
        let expected = lines_of_stream(text, max);
        assert_eq!(expected.len(), 7, "{expected:?}");
        for range_bytes in 1..=text.len() as u64 + 2 {
            let ranges = FileRanges::new(Arc::clone(&file), text.len() as u64, range_bytes, max);
            let mut lines = Vec::new();
            let mut bytes = 0;
            let mut reading = RangeReader::default();
            for (index, range) in ranges.enumerate() {
                assert_eq!(range.index, index as u64);
                let (range_lines, range_bytes_taken, error) = range_lines(&range, &mut reading);
                assert!(error.is_none(), "range bytes {range_bytes}: {error:?}");
                bytes += range_bytes_taken;
                lines.extend(range_lines);
            }
            assert_eq!(lines, expected, "range bytes {range_bytes}");
            assert_eq!(bytes, text.len() as u64, "range bytes {range_bytes}");
        }
    }

    #[test]
    fn ranges_inside_a_long_line_own_nothing_and_read_only_themselves() {
        let mut text = vec![b'x'; 20_000];
        text.extend_from_slice(b"\n{}\n");
        let file = file_holding(&text);
        let ranges = FileRanges::new(Arc::clone(&file), text.len() as u64, 100, 1_000);
        let mut reading = RangeReader::default();
        let mut lines = Vec::new();
        for range in ranges {
            let (range_lines, _, error) = range_lines(&range, &mut reading);
            assert!(error.is_none(), "{error:?}");
            lines.extend(range_lines);
        }
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].0.is_some(), "the long line is refused");
        assert_eq!(lines[1], (None, b"{}".to_vec()));
        // The range where the line starts reads it all, every other range
        // its own bytes: linear, where ranges reading on to the line's end
        // would read about a hundred times the file.
        let read = reading.bytes_read();
        let bound = 3 * text.len() as u64;
        assert!(
            read <= bound,
            "{read} bytes read for {} (bound {bound})",
            text.len()
        );
    }

    #[test]
    fn the_last_range_reads_what_the_file_grew_by_and_a_shrunk_file_ends_early() {
        let file = file_holding(b"{}\n{}\n");
        // Opened at 6 bytes, in ranges of 4; it grows before the reading.
        let ranges: Vec<Range> = FileRanges::new(Arc::clone(&file), 6, 4, 100).collect();
        assert_eq!(ranges.len(), 2);
        (&*file).write_all(b"{\"grown\":1}\n").expect("grow it");
        assert_eq!(texts_of(&ranges), [&b"{}"[..], b"{}", b"{\"grown\":1}"]);
        file.set_len(2).expect("shrink it");
        assert_eq!(texts_of(&ranges), [&b"{}"[..]]);
    }
}
