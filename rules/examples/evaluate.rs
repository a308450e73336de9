//! Evaluates NDJSON events (one JSON object per line, from files or `-` for
//! stdin) against every compiled rule, printing one JSON line per match and a
//! summary on stderr. Malformed lines are reported with their line number,
//! counted and skipped.
//!
//! ```text
//! cargo run -p rulec-rules --example evaluate -- examples/k8s_audit_sample.ndjson
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use rulec_runtime::serde_json::{self, json, Value};

fn main() -> ExitCode {
    let inputs: Vec<String> = std::env::args().skip(1).collect();
    if inputs.is_empty() {
        eprintln!("usage: evaluate <file.ndjson>... (`-` reads stdin)");
        return ExitCode::from(1);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut events, mut bad, mut matches) = (0usize, 0usize, 0usize);
    let mut per_rule = std::collections::BTreeMap::<&str, usize>::new();
    for input in &inputs {
        let reader: Box<dyn BufRead> = if input == "-" {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            match std::fs::File::open(input) {
                Ok(file) => Box::new(BufReader::new(file)),
                Err(error) => {
                    eprintln!("error: cannot read {input}: {error}");
                    return ExitCode::from(1);
                }
            }
        };
        for (index, line) in reader.split(b'\n').enumerate() {
            let number = index + 1;
            let line = match line {
                Ok(line) => line,
                Err(error) => {
                    eprintln!("error: {input}: {error}");
                    return ExitCode::from(1);
                }
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let event: Value = match serde_json::from_slice(&line) {
                Ok(event @ Value::Object(_)) => event,
                Ok(_) => {
                    bad += 1;
                    eprintln!("{input}:{number}: skipped: not a JSON object");
                    continue;
                }
                Err(error) => {
                    bad += 1;
                    eprintln!("{input}:{number}: skipped: invalid JSON: {error}");
                    continue;
                }
            };
            let Some(log_type) = event.get("p_log_type").and_then(Value::as_str) else {
                bad += 1;
                eprintln!("{input}:{number}: skipped: no string `p_log_type`");
                continue;
            };
            events += 1;
            for rule in rulec_rules::RULES
                .iter()
                .filter(|r| r.meta.enabled && r.meta.handles(log_type))
            {
                if !rule.matches_event(log_type, &event) {
                    continue;
                }
                matches += 1;
                *per_rule.entry(rule.meta.id).or_default() += 1;
                let detection = rule.detect(log_type, &event);
                let record = json!({
                    "rule_id": rule.meta.id,
                    "input": input,
                    "line": number,
                    "log_type": log_type,
                    "severity": detection.severity,
                    "title": detection.title,
                    "dedup": detection.dedup,
                    "alert_context": detection.alert_context,
                });
                if writeln!(out, "{record}").is_err() {
                    return ExitCode::SUCCESS;
                }
            }
        }
    }
    eprintln!("events: {events}, matches: {matches}, bad lines: {bad}");
    for (rule, count) in per_rule {
        eprintln!("  {rule}: {count} matches");
    }
    if bad > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
