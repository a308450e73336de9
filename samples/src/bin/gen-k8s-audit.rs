//! `gen-k8s-audit`: writes deterministic, labelled Kubernetes audit events
//! (EKS, AKS, GKE) as NDJSON to stdout, optionally with a label file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rulec_samples::{generate, Config};

/// Writes deterministic Kubernetes audit events (EKS, AKS, GKE) as NDJSON to
/// stdout: one compact JSON object per line, labelled with what Panther's
/// "Kubernetes Secret Access Denied" rule outputs for it.
#[derive(Debug, Parser)]
#[command(name = "gen-k8s-audit", version)]
struct Args {
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many events (default 10000).
    #[arg(long, conflicts_with = "bytes")]
    events: Option<usize>,
    /// Stop once at least this many bytes of events were written.
    #[arg(long)]
    bytes: Option<u64>,
    /// Also write one label line per event to FILE:
    /// {"line", "scenario", "matches_seed", "title", "dedup"}.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// The time events start from (RFC 3339).
    #[arg(long, default_value = "2024-06-01T00:00:00Z")]
    start: jiff::Timestamp,
    /// The share of events that carry Panther's `p_event_time`.
    #[arg(long, default_value_t = 0.5)]
    p_event_time_ratio: f64,
}

/// Why writing stopped early.
enum Failure {
    /// stdout was closed by the reader: not an error.
    BrokenPipe,
    /// Anything else, with what was being written.
    Io(String, io::Error),
}

fn run(args: &Args) -> Result<(), Failure> {
    let events = match (args.events, args.bytes) {
        (Some(n), _) => n,
        (None, Some(_)) => usize::MAX,
        (None, None) => 10_000,
    };
    let config = Config {
        seed: args.seed,
        events,
        start: args.start,
        p_event_time_ratio: args.p_event_time_ratio,
    };
    let stdout_error = |err: io::Error| {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Io("stdout".into(), err)
        }
    };
    let mut labels = match &args.labels {
        Some(path) => {
            let file =
                File::create(path).map_err(|err| Failure::Io(path.display().to_string(), err))?;
            Some((path, BufWriter::new(file)))
        }
        None => None,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut written: u64 = 0;
    let mut line_buf = Vec::with_capacity(4096);
    for (index, sample) in generate(&config).enumerate() {
        if args.bytes.is_some_and(|limit| written >= limit) {
            break;
        }
        line_buf.clear();
        serde_json::to_writer(&mut line_buf, &sample.event)
            .map_err(|err| Failure::Io("stdout".into(), err.into()))?;
        line_buf.push(b'\n');
        out.write_all(&line_buf).map_err(stdout_error)?;
        written += line_buf.len() as u64;
        if let Some((path, file)) = labels.as_mut() {
            let label = sample.label(index as u64 + 1);
            serde_json::to_writer(&mut *file, &label)
                .map_err(|err| Failure::Io(path.display().to_string(), err.into()))?;
            file.write_all(b"\n")
                .map_err(|err| Failure::Io(path.display().to_string(), err))?;
        }
    }
    out.flush().map_err(stdout_error)?;
    if let Some((path, mut file)) = labels {
        file.flush()
            .map_err(|err| Failure::Io(path.display().to_string(), err))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Io(what, err)) => {
            eprintln!("gen-k8s-audit: writing {what}: {err}");
            ExitCode::FAILURE
        }
    }
}
