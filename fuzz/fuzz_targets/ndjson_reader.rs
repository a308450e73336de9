//! `ndjson_reader`: arbitrary bytes as an NDJSON input through `detect`'s
//! reading logic (`rulec::ndjson`: line splitting with a line limit, then
//! each line classified and evaluated on the fast path) and the alerting of
//! `--emit alerts`, over every rule of the pack (enabled or not).
//!
//! The first byte picks the line limit (16 bytes, 256 bytes or detect's
//! 64 MiB) and the read buffer's size (1 to 64 bytes, or 8 KiB), so lines
//! cross buffer boundaries and the limit; the rest is the input.
//!
//! Invariants: no panic; the reader yields exactly the input's lines
//! (counted here on `\n`, a last line without one included), each with its
//! length, the bytes adding up to the input; every line is either blank,
//! evaluated as an event, or reported as malformed (blank + events + bad ==
//! lines); a complete line's bytes are the line without `\n` / `\r\n`; a
//! line reported too long is longer than the limit; the fast path and the
//! full parse (`evaluate_bytes`) agree on every line.

#![no_main]

use std::io::{BufReader, Cursor};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rulec::ndjson::{evaluate, Line, Lines, Outcome};
use rulec::{AlertStream, Detector, Parsed};

fuzz_target!(|data: &[u8]| {
    let Some((&config, input)) = data.split_first() else {
        return;
    };
    let max_line_bytes = match config % 3 {
        0 => 16,
        1 => 256,
        _ => 64 << 20,
    };
    let capacity = match (config / 3) % 5 {
        4 => 8192,
        n => 1 + usize::from(n) * 16 + usize::from(config / 15),
    };
    let expected: Vec<&[u8]> = {
        let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        if input.is_empty() || input.ends_with(b"\n") {
            lines.pop();
        }
        lines
    };

    let detector = detector();
    let mut stream = AlertStream::new(detector.clone());
    let mut lines = Lines::new(
        BufReader::with_capacity(capacity, Box::new(Cursor::new(input.to_vec()))),
        max_line_bytes,
    );
    let mut scratch = Parsed::new();
    let mut buf = Vec::new();
    let (mut blank, mut events, mut bad, mut read, mut bytes) = (0usize, 0usize, 0usize, 0, 0u64);
    let mut alerts = 0usize;
    loop {
        let (line, length) = match lines.next_line(&mut buf) {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => panic!("reading from memory failed: {e}"),
        };
        let Some(raw) = expected.get(read) else {
            panic!("more lines than the input has ({})", expected.len());
        };
        read += 1;
        let end = bytes as usize + raw.len();
        let newline = u64::from(input.get(end) == Some(&b'\n'));
        assert_eq!(length, raw.len() as u64 + newline, "line {read}'s length");
        bytes += length;
        let outcome = match line {
            Line::TooLong { length: too_long } => {
                assert_eq!(too_long, length);
                assert!(raw.len() > max_line_bytes, "line {read} is not too long");
                Outcome::Bad("too long".to_owned())
            }
            Line::Complete => {
                let text = raw.strip_suffix(b"\r").unwrap_or(raw);
                assert_eq!(buf.as_slice(), text, "line {read}'s bytes");
                assert!(raw.len() <= max_line_bytes, "line {read} is too long");
                evaluate(&detector, &mut scratch, &buf)
            }
        };
        match outcome {
            Outcome::Blank => {
                assert!(buf.iter().all(u8::is_ascii_whitespace));
                blank += 1;
            }
            Outcome::Bad(reason) => {
                assert!(!reason.is_empty());
                if matches!(line, Line::Complete) {
                    assert!(
                        detector.evaluate_bytes(&buf).is_err(),
                        "line {read} refused on the fast path ({reason}) but not by the full parse"
                    );
                }
                bad += 1;
            }
            Outcome::Event {
                log_type,
                evaluation,
                event_time,
            } => {
                events += 1;
                let full = detector.evaluate_bytes(&buf);
                let Ok((value, full)) = full else {
                    panic!("line {read} evaluated on the fast path, refused by the full parse");
                };
                let ids = |e: &rulec::Evaluation| {
                    (
                        e.matches
                            .iter()
                            .map(|m| (m.rule.meta.id, m.detection.clone()))
                            .collect::<Vec<_>>(),
                        e.errors.iter().map(|r| r.meta.id).collect::<Vec<_>>(),
                    )
                };
                assert_eq!(ids(&evaluation), ids(&full), "line {read}");
                // The event time read on the fast path is the full parse's.
                let full_time = full
                    .matches
                    .first()
                    .and_then(|m| (m.rule.event_time)(&log_type, &value));
                assert_eq!(event_time, full_time, "line {read}");
                stream.observe_at(event_time, &evaluation, &mut |_| alerts += 1);
            }
        }
    }
    assert_eq!(read, expected.len(), "lines read");
    assert_eq!(bytes, input.len() as u64, "bytes read");
    assert_eq!(blank + events + bad, expected.len());
    stream.finish(&mut |_| alerts += 1);
});

/// Every rule of the pack, enabled or not.
fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(rulec::rules().iter().copied()))
}
