//! Evaluating lines, on this thread or on worker threads (which may read
//! them too, [`crate::ranges`]): each line becomes
//! an [`Outcome`] that the main thread consumes in input order, so output and
//! alerting are the same with any number of threads.

use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc;

use rulec::{Detector, Parsed};

use crate::ranges::{Range, RangeReader};

pub use rulec::ndjson::{evaluate, Outcome};

/// A run of consecutive lines handed to a worker.
pub struct Chunk {
    /// Its place in the input, counted from 0.
    pub index: u64,
    /// The lines' bytes, one after the other.
    pub data: Vec<u8>,
    /// Where each line ends in `data`; `None` for a line already refused
    /// (too long), whose outcome is in `refused`.
    pub ends: Vec<Option<usize>>,
    /// The reasons of the lines refused while reading, by position.
    pub refused: Vec<(usize, String)>,
    /// Bytes of input the lines took (line ends included).
    pub bytes: u64,
}

impl Chunk {
    /// An empty chunk.
    pub fn new(index: u64) -> Chunk {
        Chunk {
            index,
            data: Vec::with_capacity(CHUNK_BYTES + 64 * 1024),
            ends: Vec::new(),
            refused: Vec::new(),
            bytes: 0,
        }
    }

    /// Records a line of `length` bytes of input that was just appended to
    /// `data` (read straight into it), or the reason it was refused (and
    /// nothing appended).
    pub fn appended(&mut self, refused: Option<String>, length: u64) {
        self.bytes += length;
        match refused {
            None => self.ends.push(Some(self.data.len())),
            Some(reason) => {
                self.refused.push((self.ends.len(), reason));
                self.ends.push(None);
            }
        }
    }

    /// Whether the chunk is full enough to hand over.
    pub fn is_full(&self) -> bool {
        self.data.len() >= CHUNK_BYTES || self.ends.len() >= CHUNK_LINES
    }

    /// Evaluates every line, in order (the reasons of refused lines move
    /// to their outcomes).
    pub fn evaluate(&mut self, detector: &Detector, scratch: &mut Parsed) -> Vec<Outcome> {
        let mut refused = self.refused.drain(..).peekable();
        let mut start = 0;
        let mut out = Vec::with_capacity(self.ends.len());
        for (position, end) in self.ends.iter().enumerate() {
            match end {
                Some(end) => {
                    out.push(evaluate(detector, scratch, &self.data[start..*end]));
                    start = *end;
                }
                None => {
                    let reason = match refused.next_if(|(p, _)| *p == position) {
                        Some((_, reason)) => reason,
                        None => "refused while reading".to_owned(),
                    };
                    out.push(Outcome::Bad(reason));
                }
            }
        }
        out
    }
}

/// About this many bytes of lines per chunk.
const CHUNK_BYTES: usize = 1 << 20;
/// At most this many lines per chunk.
const CHUNK_LINES: usize = 8192;

/// What a worker is handed: lines read, or a range of a file to read.
pub enum Job {
    /// Lines the reader thread read.
    Lines(Chunk),
    /// Lines the worker reads itself.
    Range(Range),
}

impl Job {
    /// Its place in the input, counted from 0.
    fn index(&self) -> u64 {
        match self {
            Job::Lines(chunk) => chunk.index,
            Job::Range(range) => range.index,
        }
    }

    /// Reads the job's lines if they are still to read (with `reading`'s
    /// buffers), and evaluates them.
    fn run(self, detector: &Detector, scratch: &mut Parsed, reading: &mut RangeReader) -> Done {
        match self {
            Job::Lines(mut chunk) => Done {
                outcomes: chunk.evaluate(detector, scratch),
                bytes: chunk.bytes,
                error: None,
            },
            Job::Range(range) => range.evaluate(reading, detector, scratch),
        }
    }
}

/// A job's lines, evaluated.
pub struct Done {
    /// Each line's outcome, in order.
    pub outcomes: Vec<Outcome>,
    /// Bytes of input the lines took.
    pub bytes: u64,
    /// The error that stopped reading a range after these lines.
    pub error: Option<io::Error>,
}

/// Worker threads evaluating chunks, and the results put back in order.
pub struct Pool<'s> {
    work: Option<mpsc::SyncSender<Job>>,
    results: mpsc::Receiver<(u64, Done)>,
    /// Results that arrived ahead of their turn.
    pending: BTreeMap<u64, Done>,
    /// The next chunk to hand out in order.
    next: u64,
    _scope: std::marker::PhantomData<&'s ()>,
}

impl<'s> Pool<'s> {
    /// Starts `threads` workers in `scope`, each with its own scratch buffers.
    pub fn start<'env>(
        scope: &'s std::thread::Scope<'s, 'env>,
        detector: &'s Detector,
        threads: usize,
    ) -> Pool<'s> {
        let (work_tx, work_rx) = mpsc::sync_channel::<Job>(threads * 2);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (result_tx, results) = mpsc::channel();
        for _ in 0..threads {
            let work_rx = std::sync::Arc::clone(&work_rx);
            let result_tx = result_tx.clone();
            scope.spawn(move || {
                let mut scratch = Parsed::new();
                let mut reading = RangeReader::default();
                loop {
                    let job = match work_rx.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else {
                        return;
                    };
                    let index = job.index();
                    let done = job.run(detector, &mut scratch, &mut reading);
                    if result_tx.send((index, done)).is_err() {
                        return;
                    }
                }
            });
        }
        Pool {
            work: Some(work_tx),
            results,
            pending: BTreeMap::new(),
            next: 0,
            _scope: std::marker::PhantomData,
        }
    }

    /// Hands a job to the workers (waits while they are busy).
    pub fn submit(&mut self, job: Job) {
        if let Some(work) = &self.work {
            // A send fails only when every worker is gone (it panicked):
            // the job's lines are then never reported, which `next_ready`
            // turns into an error below.
            let _ = work.send(job);
        }
    }

    /// The next job's lines in input order, when ready; with `wait`,
    /// blocks until they are. `None` when nothing more will come.
    pub fn next_ready(&mut self, wait: bool) -> Option<Done> {
        loop {
            if let Some(done) = self.pending.remove(&self.next) {
                self.next += 1;
                return Some(done);
            }
            let received = if wait {
                self.results.recv().ok()
            } else {
                self.results.try_recv().ok()
            };
            let (index, done) = received?;
            self.pending.insert(index, done);
        }
    }

    /// No more chunks: the workers stop once they have finished theirs.
    pub fn close(&mut self) {
        self.work = None;
    }
}
