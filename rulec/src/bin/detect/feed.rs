//! Reading on a thread of its own: an input's lines, in chunks, handed to the
//! main thread over a bounded channel, so that the main thread notices a
//! signal even while a read waits (a quiet pipe, a terminal).

use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use crate::input::{Input, Line};
use crate::work::Chunk;

/// What the reader sends.
enum Message {
    Chunk(Chunk),
    /// Reading failed after this many lines (all of them sent before).
    Failed(io::Error, u64),
    End,
}

/// What [`Feed::next`] gives.
pub enum Next {
    /// Lines read, in order.
    Chunk(Chunk),
    /// Nothing arrived in time; ask again.
    Idle,
    /// The input ended and every line was handed over.
    End,
    /// Reading failed after `after_line` lines (all of them handed over).
    Failed {
        /// The error.
        error: io::Error,
        /// Lines read before it.
        after_line: u64,
    },
    /// The reader thread stopped without a word (it panicked).
    Lost,
}

/// An input being read on its own thread. Dropping it lets the reader stop
/// at its next hand-over; a reader waiting on a read that never returns
/// ends with the process.
pub struct Feed {
    receiver: Receiver<Message>,
}

impl Feed {
    /// Starts reading `input` on a new thread.
    pub fn start(input: Input, max_line_bytes: usize) -> io::Result<Feed> {
        let (sender, receiver) = mpsc::sync_channel(2);
        std::thread::Builder::new()
            .name("detect-reader".to_owned())
            .spawn(move || read(input, max_line_bytes, &sender))?;
        Ok(Feed { receiver })
    }

    /// The next chunk, waiting at most `wait`.
    pub fn next(&self, wait: Duration) -> Next {
        match self.receiver.recv_timeout(wait) {
            Ok(Message::Chunk(chunk)) => Next::Chunk(chunk),
            Ok(Message::Failed(error, after_line)) => Next::Failed { error, after_line },
            Ok(Message::End) => Next::End,
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::Lost,
        }
    }
}

/// Why a line longer than the limit is skipped.
pub(crate) fn too_long_reason(length: u64, max_line_bytes: usize) -> String {
    format!("line of {length} bytes is longer than --max-line-bytes {max_line_bytes}")
}

/// The reader thread: cuts lines into chunks; a chunk is handed over when it
/// is full, or when the next line needs a read that may wait, so that lines
/// already read are never held back by a quiet input. Returns when the input
/// ends, reading fails, or the main thread stopped listening.
fn read(input: Input, max_line_bytes: usize, sender: &SyncSender<Message>) {
    let mut lines = input.lines(max_line_bytes);
    let mut chunk = Chunk::new(0);
    let mut read_lines: u64 = 0;
    loop {
        if !chunk.ends.is_empty() && (chunk.is_full() || lines.needs_read()) {
            let full = std::mem::replace(&mut chunk, Chunk::new(0));
            if sender.send(Message::Chunk(full)).is_err() {
                return;
            }
        }
        match lines.append_line(&mut chunk.data) {
            Ok(Some((line, length))) => {
                read_lines += 1;
                let refused = match line {
                    Line::Complete => None,
                    Line::TooLong { length } => Some(too_long_reason(length, max_line_bytes)),
                };
                chunk.appended(refused, length);
            }
            Ok(None) => break,
            Err(error) => {
                if !chunk.ends.is_empty() && sender.send(Message::Chunk(chunk)).is_err() {
                    return;
                }
                let _ = sender.send(Message::Failed(error, read_lines));
                return;
            }
        }
    }
    if !chunk.ends.is_empty() && sender.send(Message::Chunk(chunk)).is_err() {
        return;
    }
    let _ = sender.send(Message::End);
}
