//! Tests of the `gen-k8s-audit` binary: event and byte limits, label files,
//! determinism and a reader that hangs up early.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gen-k8s-audit"))
}

fn run(args: &[&str]) -> Vec<u8> {
    let output = bin().args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("gen-k8s-audit-{}-{name}", std::process::id()))
}

#[test]
fn events_and_labels_line_up() {
    let labels = temp_path("labels.ndjson");
    let out = run(&[
        "--seed",
        "3",
        "--events",
        "300",
        "--labels",
        labels.to_str().unwrap(),
    ]);
    let events: Vec<Value> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(events.len(), 300);
    let label_text = std::fs::read_to_string(&labels).unwrap();
    std::fs::remove_file(&labels).unwrap();
    let labels: Vec<Value> = label_text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(labels.len(), 300);
    for (index, (event, label)) in events.iter().zip(&labels).enumerate() {
        assert!(event.get("p_log_type").is_some());
        assert_eq!(label["line"], index as u64 + 1);
        assert!(label["scenario"].is_string());
        let matches = label["matches_seed"].as_bool().unwrap();
        assert_eq!(label["title"].is_string(), matches);
        assert_eq!(label["dedup"].is_string(), matches);
    }
    // One compact object per line.
    let text = String::from_utf8(out).unwrap();
    assert!(text
        .lines()
        .all(|l| l.starts_with('{') && !l.contains("\n")));
    assert!(text.ends_with('\n'));
}

#[test]
fn same_seed_same_bytes() {
    let a = run(&["--seed", "11", "--events", "500"]);
    let b = run(&["--seed", "11", "--events", "500"]);
    let c = run(&["--seed", "12", "--events", "500"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn byte_limit_stops_after_the_line_that_reaches_it() {
    let out = run(&["--bytes", "200000"]);
    assert!(out.len() >= 200_000);
    let last_line = out[..out.len() - 1]
        .rsplit(|&b| b == b'\n')
        .next()
        .unwrap()
        .len();
    assert!(out.len() - last_line - 1 < 200_000);
    assert_eq!(out.last(), Some(&b'\n'));
}

#[test]
fn events_and_bytes_conflict() {
    let output = bin()
        .args(["--events", "1", "--bytes", "1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = bin()
        .args(["--bytes", "200000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 4096];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
}
