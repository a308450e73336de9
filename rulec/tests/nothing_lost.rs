//! Nothing lost: `detect` flushes open alert windows at the end of input and
//! on SIGINT/SIGTERM (stopping reading, finishing what it read, printing the
//! summary, exiting 130/143), writes `--output` files atomically, and reports
//! a failed write as an error.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{denied, detect, ndjson, run};
use serde_json::Value;

/// `n` denied reads: `per_user` events by each user, 10 s apart, so each
/// user's 20th event raises an alert and some windows are still open at the
/// end.
fn events(n: usize, per_user: usize) -> String {
    let events: Vec<Value> = (0..n)
        .map(|i| {
            let user = format!("user{}@example.com", i / per_user);
            denied(&user, "prod", i as i64 * 10_000)
        })
        .collect();
    ndjson(&events)
}

#[test]
fn open_windows_are_flushed_at_the_end_of_input() {
    // 25 events by one user in 4 minutes: the window is still open at the end.
    let out = run(&[], events(25, 25).as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.lines.len(), 1);
    assert_eq!(out.lines[0]["event_count"], 25);
    assert!(out.stderr.contains("1 alerts"), "{}", out.stderr);
}

/// Waits for `child` to end, at most `limit`; kills it and fails past that.
fn wait_for(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                panic!("detect did not stop: {what}");
            }
        }
    }
}

fn send(signal: &str, child: &Child) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal}");
}

/// Starts `detect args` on a stdin pipe, writes `first` (larger than a pipe
/// holds, so that once written detect is reading), sends `signal` while
/// stdin stays open and quiet, and checks that detect stops on its own with
/// `code`, the summary printed, and an output equal to an uninterrupted run
/// over the lines it reported as read.
fn interrupt_mid_stream(args: &[&str], first: &str, signal: &str, code: i32) {
    let mut child = detect()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("detect starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    stdin
        .write_all(first.as_bytes())
        .expect("detect reads its input");
    stdin.flush().expect("flush");
    // Quiet for a moment, as a quiet stream is: detect looks for a signal
    // between chunks, so a signal sent while the first chunk is still on its
    // way from the reader thread would stop it before any line (on a loaded
    // machine, one run in many).
    std::thread::sleep(Duration::from_millis(300));
    send(signal, &child);
    // stdin is still open: detect must stop without waiting for more input.
    let status = wait_for(&mut child, Duration::from_secs(20), "after the signal");
    drop(stdin);
    let output = out_reader.join().expect("stdout read");
    let stderr = err_reader.join().expect("stderr read");
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(&format!("detect: SIG{signal}: stopped reading -")),
        "{stderr}"
    );
    // The summary is printed; it says how many events were read.
    let events: usize = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("detect: ")?
                .split_once(" events (")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    assert!(events > 0, "{stderr}");
    let text = String::from_utf8_lossy(&output);
    for line in text.lines() {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "an incomplete output line: {line}");
    }
    assert!(output.is_empty() || output.ends_with(b"\n"));
    // Exactly what an uninterrupted run over those lines writes.
    let prefix: String = first
        .lines()
        .take(events)
        .map(|l| format!("{l}\n"))
        .collect();
    let reference = run(args, prefix.as_bytes());
    assert_eq!(reference.code, 0, "{}", reference.stderr);
    assert_eq!(
        String::from_utf8_lossy(&output),
        String::from_utf8_lossy(&reference.stdout)
    );
}

#[test]
fn sigint_on_a_quiet_stream_finishes_what_was_read() {
    let input = events(1_000, 30);
    interrupt_mid_stream(&["--emit", "matches", "--threads", "1"], &input, "INT", 130);
    interrupt_mid_stream(&["--threads", "2"], &input, "INT", 130);
}

#[test]
fn sigterm_on_a_quiet_stream_flushes_open_alerts() {
    let input = events(1_000, 30);
    interrupt_mid_stream(&["--threads", "1"], &input, "TERM", 143);
    interrupt_mid_stream(
        &["--emit", "matches", "--threads", "2"],
        &input,
        "TERM",
        143,
    );
}

/// `n` events, every 50th a denied read (the others are listed, no match).
fn sparse(n: usize) -> String {
    let template = denied("USER", "prod", 0).to_string();
    let listed = template.replace("\"get\"", "\"list\"");
    let mut out = String::with_capacity(n * (template.len() + 8));
    for i in 0..n {
        let line = if i % 50 == 49 { &template } else { &listed };
        out.push_str(&line.replace("USER", &format!("user{}", i / 1000)));
        out.push('\n');
    }
    out
}

#[test]
fn sigterm_while_busy_with_a_large_file_keeps_a_valid_prefix() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("big.ndjson");
    let total = 100_000;
    let input = sparse(total);
    std::fs::write(&path, &input).expect("write");
    let out_path = dir.path().join("matches.ndjson");
    let mut child = detect()
        .args(["--emit", "matches", "--threads", "2", "-o"])
        .args([&out_path, &path])
        .stderr(Stdio::piped())
        .spawn()
        .expect("detect starts");
    // Wait until detect has read some of the file, then stop it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while read_bytes(&child) < 2 << 20 {
        assert!(Instant::now() < deadline, "detect reads nothing");
        std::thread::sleep(Duration::from_millis(2));
    }
    send("TERM", &child);
    let status = wait_for(&mut child, Duration::from_secs(60), "after SIGTERM");
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    assert_eq!(status.code(), Some(143), "{stderr}");
    let events: usize = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("detect: ")?
                .split_once(" events (")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    assert!(events > 0 && events < total, "{events} events read");

    // The output file is in place, complete, and exactly what an
    // uninterrupted run over the lines read writes.
    let written = std::fs::read_to_string(&out_path).expect("the output is in place");
    let lines: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("complete JSON lines"))
        .collect();
    assert_eq!(lines.len(), events / 50);
    let prefix: String = input
        .lines()
        .take(events)
        .map(|l| format!("{l}\n"))
        .collect();
    let reference = run(&["--emit", "matches"], prefix.as_bytes());
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["input"] = Value::Null;
        v
    };
    let ours: Vec<Value> = lines.iter().map(strip).collect();
    let theirs: Vec<Value> = reference.lines.iter().map(strip).collect();
    assert_eq!(ours, theirs);
    // Nothing but the input and the output is left in the directory.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// Bytes a process has read (Linux's `/proc/PID/io`), 0 when unknown.
fn read_bytes(child: &Child) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/io", child.id()))
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("rchar: ")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn an_output_file_is_replaced_only_on_success() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("alerts.ndjson");
    let out_arg = out.to_str().unwrap_or_default();
    std::fs::write(&out, "previous\n").expect("write");
    // A fatal error once the output is open (a gzip input cut short, so
    // reading fails after some lines): the previous file stays, and no
    // temporary file is left.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(events(2_000, 25).as_bytes())
        .expect("compress");
    let gz = encoder.finish().expect("compress");
    let cut = dir.path().join("cut.ndjson.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).expect("write");
    let failed = run(&["-o", out_arg, cut.to_str().unwrap_or_default()], b"");
    assert!(
        failed.stderr.contains("cannot read after line"),
        "{}",
        failed.stderr
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert_eq!(
        std::fs::read_to_string(&out).ok().as_deref(),
        Some("previous\n")
    );
    let leftovers = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".detect-"))
        .count();
    assert_eq!(leftovers, 0);
    // Success (even with skipped lines) replaces it.
    let ok = run(
        &["-o", out_arg, "-"],
        format!("{}x\n", events(25, 25)).as_bytes(),
    );
    assert_eq!(ok.code, 2, "{}", ok.stderr);
    let written = std::fs::read_to_string(&out).expect("the output");
    assert_eq!(written.lines().count(), 1);
    assert!(written.contains("\"event_count\":25"), "{written}");
}

#[test]
fn write_failures_are_errors() {
    let input = events(25, 1);
    // A full device.
    let full = run(&["--emit", "matches", "-o", "/dev/full"], input.as_bytes());
    assert_eq!(full.code, 1, "{}", full.stderr);
    assert!(full.stderr.contains("cannot write"), "{}", full.stderr);
    // A directory that does not exist.
    let missing = run(&["-o", "/no/such/dir/out.ndjson"], input.as_bytes());
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("cannot write /no/such/dir/out.ndjson"),
        "{}",
        missing.stderr
    );
    // stdout on a full device.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let status = detect()
        .args(["--emit", "matches", "-q"])
        .stdin(Stdio::piped())
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(input.as_bytes());
            }
            child.wait_with_output()
        })
        .expect("detect runs");
    assert_eq!(
        status.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}
