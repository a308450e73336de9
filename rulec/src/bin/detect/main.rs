//! `detect`: streams NDJSON logs through the compiled rules and writes
//! Panther's alerts (threshold and dedup on event time), or every match.
//!
//! Exit code: 0 when every line parsed, 2 when malformed lines were skipped
//! (or `--max-errors` stopped the run), 1 on fatal errors (bad arguments, an
//! unreadable input, an output that cannot be written), 130 after SIGINT and
//! 143 after SIGTERM (the lines read before the signal are finished, open
//! alerts flushed, the output completed and the summary printed).

mod feed;
mod input;
mod output;
mod ranges;
mod signal;
mod summary;
mod work;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rulec::{Alert, AlertStream, Detector, Parsed};

use crate::feed::{Feed, Next};
use crate::input::Input;
use crate::output::{MatchLine, Sink, WriteError};
use crate::ranges::{FileRanges, RANGE_BYTES};
use crate::signal::Interrupt;
use crate::summary::Counters;
use crate::work::{Done, Job, Outcome, Pool};

/// mimalloc: the alerts' outputs (titles, dedup strings, alert contexts as
/// JSON maps) are many small allocations, freed a chunk later, often by
/// another thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// One line per alert, after Threshold and DedupPeriodMinutes.
    Alerts,
    /// One line per (event, matching rule), before thresholds.
    Matches,
}

/// Streams NDJSON logs (files, `.gz` files, or `-` for stdin) through the
/// compiled rules and writes alerts or matches as JSON lines.
#[derive(Debug, Parser)]
#[command(name = "detect", version)]
struct Cli {
    /// NDJSON inputs, one JSON object per line with `p_log_type`; gzip is
    /// decompressed transparently; `-` is stdin (the default).
    #[arg(value_name = "INPUT")]
    inputs: Vec<String>,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Emit::Alerts)]
    emit: Emit,
    /// Run only this rule (repeatable); a named rule runs even when disabled.
    #[arg(long = "rule", value_name = "RULE_ID")]
    rules: Vec<String>,
    /// Run disabled rules too (without `--rule`, every rule of the pack;
    /// `--filter Enabled=false` then selects the disabled ones).
    #[arg(long)]
    include_disabled: bool,
    /// Only rules whose KEY is one of the values (`Severity=High,Critical`),
    /// or with `!=` none of them; repeat to AND several.
    #[arg(long = "filter", value_name = "KEY=V1,V2")]
    filters: Vec<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<String>,
    /// Stop after this many malformed lines.
    #[arg(long, value_name = "N")]
    max_errors: Option<u64>,
    /// Longest line accepted, in bytes; longer lines are skipped as malformed
    /// without being held in memory.
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    max_line_bytes: usize,
    /// No summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Threads evaluating events (default: every core). With more than one,
    /// chunks of lines are matched in parallel; output and alerting stay in
    /// input order, exactly as with one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

/// Inputs at least this large (in all) get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 32 * 1024 * 1024;

/// How long the main thread waits for lines before looking for a signal.
const SIGNAL_POLL: Duration = Duration::from_millis(20);

enum Stop {
    /// The run ended normally (or the reader closed the pipe).
    Done,
    /// `--max-errors` was reached.
    TooManyErrors,
    /// SIGINT or SIGTERM: the lines read before it were finished.
    Interrupted,
    /// A fatal error, already reported.
    Fatal,
}

/// Where one input's reading stands: jobs handed to the workers and
/// consumed, lines numbered, bytes consumed.
#[derive(Default)]
struct Numbering {
    submitted: u64,
    done: u64,
    line_no: u64,
    bytes: u64,
}

struct Run {
    emit: Emit,
    max_errors: Option<u64>,
    max_line_bytes: usize,
    stream: AlertStream,
    sink: Sink,
    counters: Counters,
    /// Set by SIGINT/SIGTERM.
    interrupt: Interrupt,
    /// The fast path's buffers, for lines evaluated on this thread.
    scratch: Parsed,
    progress: ProgressBar,
    /// Bytes of inputs finished, for the progress bar.
    progress_base: u64,
}

fn report_write_error(error: WriteError) -> Stop {
    match error {
        WriteError::Closed => Stop::Done,
        WriteError::Failed(e) => {
            eprintln!("detect: cannot write the output: {e}");
            Stop::Fatal
        }
    }
}

impl Run {
    fn bad_line(&mut self, input: &str, line: u64, reason: &str) -> Option<Stop> {
        self.counters.bad_lines += 1;
        self.progress
            .suspend(|| eprintln!("detect: {input}:{line}: skipped: {reason}"));
        match self.max_errors {
            Some(max) if self.counters.bad_lines >= max => {
                self.progress.suspend(|| {
                    eprintln!("detect: stopping after {max} malformed line(s) (--max-errors)")
                });
                Some(Stop::TooManyErrors)
            }
            _ => None,
        }
    }

    fn write_alert(
        sink: &mut Sink,
        counters: &mut Counters,
        alert: &Alert,
        failed: &mut Option<WriteError>,
    ) {
        if failed.is_some() {
            return;
        }
        *counters.alerts.entry(alert.rule_id).or_default() += 1;
        if let Err(e) = sink.line(alert) {
            *failed = Some(e);
        }
    }

    /// Consumes one line's outcome, in input order: counters, output, alerting.
    fn consume(&mut self, name: &str, line_no: u64, outcome: Outcome) -> Option<Stop> {
        let (log_type, evaluation, event_time) = match outcome {
            Outcome::Blank => {
                self.counters.blank_lines += 1;
                return None;
            }
            Outcome::Bad(reason) => return self.bad_line(name, line_no, &reason),
            Outcome::Event {
                log_type,
                evaluation,
                event_time,
            } => (log_type, evaluation, event_time),
        };
        self.counters.events += 1;
        match self.counters.per_log_type.get_mut(log_type.as_ref()) {
            Some(n) => *n += 1,
            None => {
                self.counters.per_log_type.insert(log_type.to_string(), 1);
            }
        }
        for rule in &evaluation.errors {
            *self.counters.rule_errors.entry(rule.meta.id).or_default() += 1;
        }
        for m in &evaluation.matches {
            *self.counters.matches.entry(m.rule.meta.id).or_default() += 1;
        }
        match self.emit {
            Emit::Matches => {
                for m in &evaluation.matches {
                    let line = MatchLine {
                        rule_id: m.rule.meta.id,
                        input: name,
                        line: line_no,
                        log_type: &log_type,
                        severity: m.detection.severity,
                        title: &m.detection.title,
                        dedup: &m.detection.dedup,
                        alert_context: &m.detection.alert_context,
                    };
                    if let Err(e) = self.sink.line(&line) {
                        return Some(report_write_error(e));
                    }
                }
            }
            Emit::Alerts => {
                let (sink, counters) = (&mut self.sink, &mut self.counters);
                let mut failed = None;
                self.stream
                    .observe_at(event_time, &evaluation, &mut |alert| {
                        Run::write_alert(sink, counters, &alert, &mut failed)
                    });
                if let Some(e) = failed {
                    return Some(report_write_error(e));
                }
            }
        }
        None
    }

    /// Reads one input and evaluates its lines: on this thread, or with
    /// `threads` above 1 on worker threads, their outcomes consumed here in
    /// input order. A plain file is then read by the workers themselves, a
    /// range each; anything else on a reader thread. On a signal, reading
    /// stops and the lines already read are finished.
    fn process(&mut self, input: Input, detector: &Detector, threads: usize) -> Option<Stop> {
        // A file of one range is read as a stream: nothing to share (and a
        // file that says it is empty, as those of `/proc` do, may not allow
        // positional reads).
        if let Some((file, size)) = input.plain_file().filter(|(_, size)| *size > RANGE_BYTES) {
            if threads > 1 {
                let ranges = FileRanges::new(file, size, RANGE_BYTES, self.max_line_bytes);
                return self.process_ranges(&input.name, ranges, detector, threads);
            }
        }
        self.process_feed(input, detector, threads)
    }

    /// [`Run::process`] for an input read on a reader thread.
    fn process_feed(&mut self, input: Input, detector: &Detector, threads: usize) -> Option<Stop> {
        let name = input.name.clone();
        let consumed = Arc::clone(&input.consumed);
        let feed = match Feed::start(input, self.max_line_bytes) {
            Ok(feed) => feed,
            Err(e) => {
                eprintln!("detect: {name}: cannot start reading: {e}");
                return Some(Stop::Fatal);
            }
        };
        let stop = std::thread::scope(|scope| {
            let mut pool = (threads > 1).then(|| Pool::start(scope, detector, threads));
            let mut position = Numbering::default();
            let mut stop = None;
            while stop.is_none() {
                if self.interrupted(&name) {
                    stop = Some(Stop::Interrupted);
                    break;
                }
                let mut chunk = match feed.next(SIGNAL_POLL) {
                    Next::Chunk(chunk) => chunk,
                    Next::Idle => continue,
                    Next::End => break,
                    Next::Failed { error, after_line } => {
                        self.progress.suspend(|| {
                            eprintln!(
                                "detect: {name}: cannot read after line {after_line}: {error}"
                            )
                        });
                        stop = Some(Stop::Fatal);
                        break;
                    }
                    Next::Lost => {
                        self.progress
                            .suspend(|| eprintln!("detect: {name}: the reader thread stopped"));
                        stop = Some(Stop::Fatal);
                        break;
                    }
                };
                self.progress
                    .set_position(self.progress_base + consumed.load(Ordering::Relaxed));
                let Some(pool) = &mut pool else {
                    let bytes = chunk.bytes;
                    let outcomes = chunk.evaluate(self.stream.detector(), &mut self.scratch);
                    let done = Done {
                        outcomes,
                        bytes,
                        error: None,
                    };
                    stop = self.consume_done(&name, &mut position, done);
                    continue;
                };
                chunk.index = position.submitted;
                pool.submit(Job::Lines(chunk));
                position.submitted += 1;
                stop = self.consume_ready(&name, pool, &mut position);
            }
            match &mut pool {
                Some(pool) => self.finish_pool(&name, pool, &mut position, stop),
                None => stop,
            }
        });
        self.progress_base += consumed.load(Ordering::Relaxed);
        stop
    }

    /// [`Run::process`] for a plain file the workers read, a range each.
    fn process_ranges(
        &mut self,
        name: &str,
        mut ranges: FileRanges,
        detector: &Detector,
        threads: usize,
    ) -> Option<Stop> {
        let base = self.progress_base;
        let (stop, bytes) = std::thread::scope(|scope| {
            let mut pool = Pool::start(scope, detector, threads);
            let mut position = Numbering::default();
            let mut stop = None;
            while stop.is_none() {
                if self.interrupted(name) {
                    stop = Some(Stop::Interrupted);
                    break;
                }
                let Some(range) = ranges.next() else {
                    break;
                };
                pool.submit(Job::Range(range));
                position.submitted += 1;
                stop = self.consume_ready(name, &mut pool, &mut position);
                self.progress.set_position(base + position.bytes);
            }
            let stop = self.finish_pool(name, &mut pool, &mut position, stop);
            (stop, position.bytes)
        });
        self.progress_base = base + bytes;
        stop
    }

    /// Whether a signal asked the run to stop (said once, here).
    fn interrupted(&mut self, name: &str) -> bool {
        if !self.interrupt.requested() {
            return false;
        }
        let signal = self.interrupt.name();
        self.progress.suspend(|| {
            eprintln!("detect: {signal}: stopped reading {name}; finishing the lines already read")
        });
        true
    }

    /// Consumes the jobs' lines that are ready, in order, without waiting.
    fn consume_ready(
        &mut self,
        name: &str,
        pool: &mut Pool,
        position: &mut Numbering,
    ) -> Option<Stop> {
        while position.done < position.submitted {
            let done = pool.next_ready(false)?;
            position.done += 1;
            if let Some(stop) = self.consume_done(name, position, done) {
                return Some(stop);
            }
        }
        None
    }

    /// No more jobs: the lines handed to the workers were read, so they are
    /// finished (also after a signal).
    fn finish_pool(
        &mut self,
        name: &str,
        pool: &mut Pool,
        position: &mut Numbering,
        mut stop: Option<Stop>,
    ) -> Option<Stop> {
        pool.close();
        while matches!(stop, None | Some(Stop::Interrupted)) && position.done < position.submitted {
            let Some(done) = pool.next_ready(true) else {
                let line_no = position.line_no;
                self.progress.suspend(|| {
                    eprintln!("detect: {name}: a worker thread stopped; lines after {line_no} were not evaluated")
                });
                return Some(Stop::Fatal);
            };
            position.done += 1;
            if let Some(next) = self.consume_done(name, position, done) {
                stop = Some(next);
            }
        }
        stop
    }

    /// Consumes a job's lines in order, numbering them, then the error that
    /// stopped its reading, if one did.
    fn consume_done(&mut self, name: &str, position: &mut Numbering, done: Done) -> Option<Stop> {
        self.counters.bytes += done.bytes;
        position.bytes += done.bytes;
        for outcome in done.outcomes {
            position.line_no += 1;
            if let Some(stop) = self.consume(name, position.line_no, outcome) {
                return Some(stop);
            }
        }
        let error = done.error?;
        let after_line = position.line_no;
        self.progress
            .suspend(|| eprintln!("detect: {name}: cannot read after line {after_line}: {error}"));
        Some(Stop::Fatal)
    }

    /// Flushes open alerts and ends the output: kept (a file renamed into
    /// place) unless the run failed (`fatal`).
    fn finish(self, fatal: bool) -> (Counters, Option<Stop>, Vec<&'static str>) {
        let Run {
            emit,
            stream,
            mut sink,
            mut counters,
            progress,
            ..
        } = self;
        progress.finish_and_clear();
        let rule_ids = output::rule_ids(&stream);
        counters.untimed = stream.untimed();
        let mut failed = None;
        if emit == Emit::Alerts {
            stream.finish(&mut |alert| {
                Run::write_alert(&mut sink, &mut counters, &alert, &mut failed)
            });
        }
        let keep = !fatal && failed.is_none();
        let finished = sink.finish(keep);
        let stop = match failed {
            Some(e) => Some(report_write_error(e)),
            None if fatal => None,
            None => finished.err().map(report_write_error),
        };
        (counters, stop, rule_ids)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let disabled = if cli.include_disabled {
        rulec::Disabled::Included
    } else {
        rulec::Disabled::Skipped
    };
    let rules = match rulec::select_from(&cli.rules, &cli.filters, disabled) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("detect: {e}");
            return ExitCode::from(1);
        }
    };
    if rules.is_empty() {
        eprintln!("detect: no rule is selected (check --rule and --filter)");
        return ExitCode::from(1);
    }
    let names = if cli.inputs.is_empty() {
        vec!["-".to_owned()]
    } else {
        cli.inputs.clone()
    };
    // Open every input first, so a typo fails before any output.
    let mut inputs = Vec::with_capacity(names.len());
    for name in &names {
        match Input::open(name) {
            Ok(input) => inputs.push(input),
            Err(e) => {
                eprintln!("detect: cannot read {name}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let interrupt = match Interrupt::install() {
        Ok(interrupt) => interrupt,
        Err(e) => {
            eprintln!("detect: cannot handle SIGINT/SIGTERM: {e}");
            return ExitCode::from(1);
        }
    };
    let sink = match Sink::open(cli.output.as_deref()) {
        Ok(sink) => sink,
        Err(e) => {
            eprintln!(
                "detect: cannot write {}: {e}",
                cli.output.as_deref().unwrap_or("stdout")
            );
            return ExitCode::from(1);
        }
    };
    let total: Option<u64> = inputs.iter().map(|i| i.size).sum();
    let progress = match total {
        Some(total) if total >= PROGRESS_MIN_BYTES => {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        _ => ProgressBar::hidden(),
    };
    let started = Instant::now();
    let mut run = Run {
        emit: cli.emit,
        max_errors: cli.max_errors,
        max_line_bytes: cli.max_line_bytes,
        stream: AlertStream::new(Detector::new(rules)),
        sink,
        counters: Counters::default(),
        interrupt: interrupt.clone(),
        scratch: Parsed::new(),
        progress,
        progress_base: 0,
    };
    let threads = cli.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    // The workers' own copy of the rule set (the stream's is borrowed mutably).
    let detector = run.stream.detector().clone();
    let mut stop = None;
    for input in inputs {
        run.counters.inputs += 1;
        stop = run.process(input, &detector, threads);
        if stop.is_some() {
            break;
        }
    }
    let fatal = matches!(stop, Some(Stop::Fatal));
    let (counters, finish_stop, rule_ids) = run.finish(fatal);
    // A failure to complete the output outranks how reading ended.
    let stop = match (stop, finish_stop) {
        (_, Some(Stop::Fatal)) => Stop::Fatal,
        (Some(stop), _) | (None, Some(stop)) => stop,
        (None, None) => Stop::Done,
    };
    if !cli.quiet && !matches!(stop, Stop::Fatal) {
        eprint!(
            "{}",
            counters.summary(&rule_ids, started.elapsed(), cli.emit == Emit::Alerts)
        );
    }
    match stop {
        Stop::Fatal => ExitCode::from(1),
        Stop::Interrupted => ExitCode::from(interrupt.exit_code().unwrap_or(signal::EXIT_SIGINT)),
        Stop::TooManyErrors => ExitCode::from(2),
        Stop::Done if counters.bad_lines > 0 => ExitCode::from(2),
        Stop::Done => ExitCode::SUCCESS,
    }
}
