//! Helpers shared by the `detect` end-to-end tests: sample events and a way
//! to run the binary on bytes.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

/// 2024-06-01T10:00:00Z.
pub const T0: i64 = 1_717_236_000;

/// RFC 3339 time `millis` after [`T0`].
pub fn rfc3339(millis_after_t0: i64) -> String {
    let ts = rulec::Timestamp::from_millisecond(T0 * 1000 + millis_after_t0)
        .unwrap_or(rulec::Timestamp::UNIX_EPOCH);
    ts.to_string()
}

/// An EKS event of a denied secret read by `user` in `namespace`, at
/// `millis` after 10:00:00 (matches `Kubernetes.Secret.AccessDenied`).
pub fn denied(user: &str, namespace: &str, millis: i64) -> Value {
    json!({
        "kind": "Event",
        "verb": "get",
        "user": {"username": user},
        "objectRef": {"resource": "secrets", "namespace": namespace, "name": "db-password"},
        "responseStatus": {"code": 403},
        "requestReceivedTimestamp": rfc3339(millis),
        "p_log_type": "Amazon.EKS.Audit",
        "p_source_label": "eks-test",
    })
}

/// The same denied read as an AKS event: the audit event is a JSON string in
/// `properties.log`.
pub fn denied_aks(user: &str, namespace: &str, millis: i64) -> Value {
    aks_with_log(denied(user, namespace, millis).to_string(), millis)
}

/// An AKS event whose `properties.log` is `log`, verbatim.
pub fn aks_with_log(log: String, millis: i64) -> Value {
    json!({
        "time": rfc3339(millis),
        "category": "kube-audit",
        "properties": {"log": log, "stream": "stdout"},
        "p_log_type": "Azure.MonitorActivity",
        "p_source_label": "aks-test",
    })
}

/// Events as NDJSON.
pub fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// The `detect` binary.
pub fn detect() -> Command {
    match Command::cargo_bin("detect") {
        Ok(command) => command,
        Err(e) => panic!("the detect binary is not built: {e}"),
    }
}

/// What a run gave.
pub struct Output {
    /// The exit code (-1 when ended by a signal).
    pub code: i32,
    /// stdout, raw.
    pub stdout: Vec<u8>,
    /// stdout's lines, each parsed as JSON.
    pub lines: Vec<Value>,
    /// stderr.
    pub stderr: String,
}

/// Runs `detect` with `args`, `stdin` piped in.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = detect()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("detect starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("detect runs");
    let _ = writer.join();
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        lines,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
