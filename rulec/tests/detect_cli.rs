//! The `detect` binary end to end: thresholds and dedup windows at their
//! edges, event time, bad input, gzip, stdin, output files, broken pipes and
//! exit codes.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::{json, Value};

mod common;

use common::{denied, detect, ndjson, run};

fn alerts(events: &[Value]) -> Vec<Value> {
    let out = run(&["-"], ndjson(events).as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.lines
}

/// `n` denied reads by one user, `step_ms` apart from 10:00:00.
fn burst(n: i64, step_ms: i64) -> Vec<Value> {
    (0..n)
        .map(|i| denied("mallory@example.com", "prod", i * step_ms))
        .collect()
}

#[test]
fn nineteen_events_make_no_alert_and_twenty_make_one() {
    assert!(alerts(&burst(19, 30_000)).is_empty());
    let twenty = alerts(&burst(20, 30_000));
    assert_eq!(twenty.len(), 1);
    let alert = &twenty[0];
    assert_eq!(alert["rule_id"], "Kubernetes.Secret.AccessDenied");
    assert_eq!(alert["event_count"], 20);
    assert_eq!(alert["dedup"], "k8s_secret_denied_mallory@example.com_prod");
    assert_eq!(alert["first_event_time"], "2024-06-01T10:00:00Z");
    assert_eq!(alert["last_event_time"], "2024-06-01T10:09:30Z");
    assert_eq!(alert["severity"], "Medium");
    assert_eq!(alert["alert_context"]["username"], "mallory@example.com");
    assert_eq!(alert["tags"][0], "Kubernetes");
    assert_eq!(alert["reports"]["MITRE ATT&CK"][0], "TA0006:T1552.007");
    assert!(alert["runbook"]
        .as_str()
        .is_some_and(|r| r.contains("15-minute")));
    assert!(alert["reference"].as_str().is_some());
    let keys: Vec<&str> = alert
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "rule_id",
            "severity",
            "title",
            "dedup",
            "alert_context",
            "event_count",
            "first_event_time",
            "last_event_time",
            "runbook",
            "reference",
            "tags",
            "reports"
        ]
    );
}

#[test]
fn the_twentieth_event_just_inside_and_just_outside_fifteen_minutes() {
    let fifteen_minutes = 15 * 60 * 1000;
    let mut events = burst(19, 1_000);
    events.push(denied("mallory@example.com", "prod", fifteen_minutes - 1));
    let inside = alerts(&events);
    assert_eq!(inside.len(), 1, "{inside:?}");
    assert_eq!(inside[0]["event_count"], 20);
    assert_eq!(inside[0]["last_event_time"], "2024-06-01T10:14:59.999Z");

    let mut events = burst(19, 1_000);
    events.push(denied("mallory@example.com", "prod", fifteen_minutes));
    assert!(
        alerts(&events).is_empty(),
        "at exactly 15 minutes the window has ended"
    );
}

#[test]
fn later_events_join_the_alert_and_the_next_window_starts_afresh() {
    let mut events = burst(25, 20_000);
    events.extend((0..20).map(|i| denied("mallory@example.com", "prod", 20 * 60_000 + i * 10_000)));
    let out = alerts(&events);
    let counts: Vec<&Value> = out.iter().map(|a| &a["event_count"]).collect();
    assert_eq!(counts, [&json!(25), &json!(20)]);
}

#[test]
fn dedup_strings_are_counted_apart() {
    let mut events = Vec::new();
    for i in 0..15 {
        events.push(denied("alice@example.com", "prod", i * 1000));
        events.push(denied("bob@example.com", "prod", i * 1000 + 500));
    }
    assert!(alerts(&events).is_empty(), "15 each, not 30 together");
    for i in 15..20 {
        events.push(denied("bob@example.com", "prod", i * 1000 + 500));
    }
    let out = alerts(&events);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["dedup"], "k8s_secret_denied_bob@example.com_prod");
}

#[test]
fn out_of_order_events_join_their_window() {
    // Twenty events over ten minutes, arriving in a scrambled order.
    let mut events = burst(20, 30_000);
    let len = events.len();
    for i in 0..len / 2 {
        events.swap(i, (i * 7 + 3) % len);
    }
    events.reverse();
    let out = alerts(&events);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["event_count"], 20);
    assert_eq!(out[0]["first_event_time"], "2024-06-01T10:00:00Z");
    assert_eq!(out[0]["last_event_time"], "2024-06-01T10:09:30Z");
}

#[test]
fn p_event_time_wins_over_the_data_model_field() {
    // The EKS field says the events are an hour apart; p_event_time says seconds.
    let events: Vec<Value> = (0..20)
        .map(|i| {
            let mut event = denied("mallory@example.com", "prod", i * 3_600_000);
            event["p_event_time"] = json!(format!("2024-06-01 10:00:{i:02}.000000000"));
            event
        })
        .collect();
    let out = alerts(&events);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["last_event_time"], "2024-06-01T10:00:19Z");
}

#[test]
fn matches_are_one_line_per_event_and_rule() {
    let events = [
        denied("alice@example.com", "prod", 0),
        json!({"p_log_type": "Amazon.EKS.Audit", "verb": "list"}),
        denied("bob@example.com", "dev", 1000),
    ];
    let out = run(&["--emit", "matches"], ndjson(&events).as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.lines.len(), 2);
    let first = &out.lines[0];
    let keys: Vec<&str> = first
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "rule_id",
            "input",
            "line",
            "log_type",
            "severity",
            "title",
            "dedup",
            "alert_context"
        ]
    );
    assert_eq!(first["input"], "-");
    assert_eq!(first["line"], 1);
    assert_eq!(out.lines[1]["line"], 3);
    assert_eq!(
        out.lines[1]["title"],
        "[bob@example.com] failed secret enumeration attempt in [dev/db-password] (response: 403)"
    );
    let context_keys: Vec<&str> = first["alert_context"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(context_keys[..3], ["username", "sourceIPs", "userAgent"]);
    assert!(
        out.stderr
            .contains("Kubernetes.Secret.AccessDenied: 2 matches"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_lines_are_reported_counted_and_skipped() {
    let good = denied("alice@example.com", "prod", 0).to_string();
    let mut input = Vec::new();
    input.extend_from_slice(format!("{good}\n").as_bytes());
    input.extend_from_slice(b"{not json\n");
    input.extend_from_slice(b"[1, 2]\n");
    input.extend_from_slice(b"{\"no\": \"log type\"}\n");
    input.extend_from_slice(b"\xff\xfe{}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice("[".repeat(100_000).as_bytes());
    input.extend_from_slice(b"\n");
    input.extend_from_slice(format!("{good}\n").as_bytes());
    let out = run(&["--emit", "matches"], &input);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.lines.len(), 2, "both good lines still match");
    assert_eq!(out.lines[1]["line"], 8);
    for expected in [
        "-:2: skipped: not JSON",
        "-:3: skipped: not a JSON object but an array",
        "-:4: skipped: no `p_log_type` string",
        "-:5: skipped: not UTF-8",
        "-:7: skipped: not JSON: recursion limit exceeded",
        "bad lines: 5",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing {expected:?} in\n{}",
            out.stderr
        );
    }
}

#[test]
fn max_errors_stops_early() {
    let input = b"x\ny\nz\n";
    let out = run(&["--max-errors", "2"], input);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("-:2: skipped"), "{}", out.stderr);
    assert!(!out.stderr.contains("-:3:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("stopping after 2 malformed line(s)"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_oversized_line_is_skipped_without_being_held() {
    let good = denied("alice@example.com", "prod", 0).to_string();
    let big = format!(
        "{{\"p_log_type\": \"Amazon.EKS.Audit\", \"pad\": \"{}\"}}",
        "x".repeat(5_000_000)
    );
    let input = format!("{big}\n{good}\n");
    let out = run(
        &["--emit", "matches", "--max-line-bytes", "1000000"],
        input.as_bytes(),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("-:1: skipped: line of 5000"),
        "{}",
        out.stderr
    );
    assert_eq!(out.lines.len(), 1);
    assert_eq!(out.lines[0]["line"], 2);
}

#[test]
fn gzip_files_stdin_and_output_files_give_the_same_lines() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = ndjson(&burst(25, 10_000));
    let plain = dir.path().join("events.ndjson");
    std::fs::write(&plain, &text).expect("write");
    let gz = dir.path().join("events.ndjson.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("compress");
    std::fs::write(&gz, encoder.finish().expect("compress")).expect("write");

    let from_stdin = run(&["--emit", "matches"], text.as_bytes());
    let from_gz = run(&["--emit", "matches", gz.to_str().unwrap_or_default()], b"");
    assert_eq!(from_gz.code, 0, "{}", from_gz.stderr);
    assert_eq!(from_stdin.lines.len(), 25);
    let strip = |lines: &[Value]| -> Vec<Value> {
        lines
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l["input"] = json!("");
                l
            })
            .collect()
    };
    assert_eq!(strip(&from_stdin.lines), strip(&from_gz.lines));
    assert_eq!(from_gz.lines[0]["input"], gz.to_str().unwrap_or_default());

    let out_file = dir.path().join("alerts.ndjson");
    let written = run(
        &[
            "-o",
            out_file.to_str().unwrap_or_default(),
            plain.to_str().unwrap_or_default(),
        ],
        b"",
    );
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert!(written.lines.is_empty(), "nothing on stdout");
    let alerts = std::fs::read_to_string(&out_file).expect("the output file");
    assert_eq!(alerts.lines().count(), 1);
}

#[test]
fn fatal_errors_exit_1() {
    let missing = run(&["/no/such/file.ndjson"], b"");
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("cannot read /no/such/file.ndjson"),
        "{}",
        missing.stderr
    );
    assert_eq!(run(&["--emit", "everything"], b"").code, 1);
    let unknown = run(&["--rule", "No.Such.Rule"], b"");
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("no rule has RuleID `No.Such.Rule`"),
        "{}",
        unknown.stderr
    );
    assert_eq!(run(&["--filter", "Colour=red"], b"").code, 1);
    let help = detect().arg("--help").output().expect("detect runs");
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--emit"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("many.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for i in 0..50_000 {
        writeln!(
            file,
            "{}",
            denied(&format!("user{i}@example.com"), "prod", i)
        )
        .expect("write");
    }
    drop(file);
    let mut child = detect()
        .args(["--emit", "matches", path.to_str().unwrap_or_default()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("detect starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("one line");
    // The reader is dropped here: the pipe closes.
    let output = child.wait_with_output().expect("detect ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(first.contains("Kubernetes.Secret.AccessDenied"));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn rule_selection() {
    let events = ndjson(&burst(1, 0));
    let none = run(&["--filter", "Tags=No Such Tag"], events.as_bytes());
    assert_eq!(none.code, 1, "no rule selected is an error");
    let one = run(
        &[
            "--emit",
            "matches",
            "--rule",
            "Kubernetes.Secret.AccessDenied",
        ],
        events.as_bytes(),
    );
    assert_eq!(one.lines.len(), 1);
    let filtered = run(
        &["--emit", "matches", "--filter", "Tags=Kubernetes"],
        events.as_bytes(),
    );
    assert_eq!(filtered.lines.len(), 1);
    // The denied secret read also matches a disabled rule, which runs only
    // with --include-disabled (and then --filter Enabled=false selects it).
    let every = run(
        &["--emit", "matches", "--include-disabled"],
        events.as_bytes(),
    );
    let rule_ids: Vec<&str> = every
        .lines
        .iter()
        .filter_map(|line| line["rule_id"].as_str())
        .collect();
    assert_eq!(
        rule_ids,
        [
            "Kubernetes.Secret.AccessDenied",
            "Kubernetes.BulkSecretAccess"
        ]
    );
    let disabled = run(
        &[
            "--emit",
            "matches",
            "--include-disabled",
            "--filter",
            "Enabled=false",
        ],
        events.as_bytes(),
    );
    assert_eq!(disabled.lines.len(), 1);
    assert_eq!(disabled.lines[0]["rule_id"], "Kubernetes.BulkSecretAccess");
}
