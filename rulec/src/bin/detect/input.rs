//! Reading inputs: files or stdin, gzip decompressed transparently (by its
//! magic bytes), split into lines without ever holding more than the line
//! limit in memory (the splitting is `rulec::ndjson::Lines`, in the library).
//! A plain file can also be read in ranges by the workers ([`crate::ranges`]).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
pub use rulec::ndjson::{Line, Lines};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

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
    /// The file, when it is a regular file and not gzip: worker threads
    /// may read it in ranges ([`crate::ranges`]).
    plain: Option<Arc<File>>,
}

impl Input {
    /// Opens `-` (stdin) or a file; gzip is detected by its magic bytes.
    pub fn open(name: &str) -> io::Result<Input> {
        let consumed = Arc::new(AtomicU64::new(0));
        let (raw, size, mut plain): (Box<dyn Read + Send>, Option<u64>, _) = if name == "-" {
            (Box::new(io::stdin()), None, None)
        } else {
            let file = File::open(name)?;
            let metadata = file.metadata().ok();
            let size = metadata.as_ref().map(|m| m.len());
            // A second handle on the file: positional reads leave the
            // stream's offset alone.
            let plain = match metadata {
                Some(m) if m.is_file() => file.try_clone().ok().map(Arc::new),
                _ => None,
            };
            (Box::new(file), size, plain)
        };
        let mut buffered = BufReader::with_capacity(
            1024 * 1024,
            Box::new(Counting {
                inner: raw,
                count: Arc::clone(&consumed),
            }) as Box<dyn Read + Send>,
        );
        let is_gzip = buffered.fill_buf()?.starts_with(&GZIP_MAGIC);
        if is_gzip {
            plain = None;
        }
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
            plain,
        })
    }

    /// The file and its size when opened, when worker threads may read it
    /// in ranges: a regular file, not gzip.
    pub fn plain_file(&self) -> Option<(Arc<File>, u64)> {
        Some((Arc::clone(self.plain.as_ref()?), self.size?))
    }

    /// A line reader over the input.
    pub fn lines(self, max_line_bytes: usize) -> Lines {
        Lines::new(self.reader, max_line_bytes)
    }
}
