//! Embedding the compiled rule set in a program of your own: evaluate events
//! one at a time, and run Panther's alerting over a stream of them.
//!
//! ```text
//! cargo run -p rulec --example embed -- examples/k8s_audit_sample.ndjson
//! ```

use std::io::{BufRead, BufReader};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: embed <file.ndjson>");
        return ExitCode::from(1);
    };
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(1);
        }
    };

    // The rule set and its metadata.
    for rule in rulec::rules() {
        println!(
            "rule {} ({}, {}): {} log type(s), threshold {} in {} min",
            rule.meta.id,
            rule.meta.severity,
            if rule.meta.enabled {
                "enabled"
            } else {
                "disabled"
            },
            rule.meta.log_types.len(),
            rule.meta.threshold,
            rule.meta.dedup_period_minutes
        );
    }

    // Evaluate each line, and feed the matches to the alerting engine.
    let mut stream = rulec::AlertStream::new(rulec::detector());
    let mut alerts = Vec::new();
    let (mut events, mut matches, mut bad) = (0u64, 0u64, 0u64);
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let Ok(line) = line else {
            bad += 1;
            continue;
        };
        let event = match rulec::parse_event(line.as_bytes()) {
            Ok(event) => event,
            Err(e) => {
                eprintln!("{path}:{}: {e}", number + 1);
                bad += 1;
                continue;
            }
        };
        match stream.push(&event, &mut |alert| alerts.push(alert)) {
            Ok(evaluation) => {
                events += 1;
                matches += evaluation.matches.len() as u64;
            }
            Err(e) => {
                eprintln!("{path}:{}: {e}", number + 1);
                bad += 1;
            }
        }
    }
    stream.finish(&mut |alert| alerts.push(alert));

    println!(
        "{events} events, {matches} matches, {bad} bad lines, {} alerts",
        alerts.len()
    );
    for alert in &alerts {
        println!(
            "alert {} x{}: {}",
            alert.rule_id, alert.event_count, alert.title
        );
    }
    ExitCode::SUCCESS
}
