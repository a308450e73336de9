//! Hostile log lines through `detect`: each sits between normal events that
//! match, and is either evaluated or reported (`input:line: skipped: reason`,
//! counted, exit code 2), while the events around it give the same matches
//! and alerts as without it. Duplicate keys keep the last value (as Python's
//! `json.loads`) on the fast path, on the `Value` path and in AKS's embedded
//! `properties.log`, with any number of threads.

mod common;

use common::{aks_with_log, denied, denied_aks, ndjson, run};
use serde_json::{json, Value};

const EKS: &str = "Amazon.EKS.Audit";
const RULE: &str = "Kubernetes.Secret.AccessDenied";
/// The line limit of the runs here.
const MAX_LINE: usize = 1_000_000;

/// What should become of a hostile line.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Reported as skipped, the reason containing this text.
    Skipped(&'static str),
    /// Evaluated (or a blank line), with this many matches.
    Evaluated(usize),
}

struct Case {
    name: &'static str,
    line: Vec<u8>,
    expect: Expect,
}

fn case(name: &'static str, line: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name,
        line: line.into(),
        expect,
    }
}

/// The deepest nesting `serde_json` accepts for `{"x": [[...]]}` (its limit
/// is 128 levels, the object counted).
fn deepest_accepted() -> usize {
    (1..1000)
        .take_while(|depth| serde_json::from_str::<Value>(&nested_object(*depth)).is_ok())
        .last()
        .unwrap_or(0)
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_object(depth: usize) -> String {
    format!("{{\"p_log_type\": \"{EKS}\", \"x\": {}}}", nested(depth))
}

/// A denied read by `dup@example.com` (its own dedup string) with `field`
/// set to the raw JSON `raw`.
fn denied_with(field: &str, raw: &str) -> Vec<u8> {
    let text = denied("dup@example.com", "prod", 1000).to_string();
    let open = text.len() - 1;
    format!("{},\"{field}\":{raw}}}", &text[..open]).into_bytes()
}

/// An event of `text` with its `verb` member written raw.
fn eks_raw(members: &str) -> Vec<u8> {
    format!(
        "{{\"p_log_type\":\"{EKS}\",\"user\":{{\"username\":\"dup@example.com\"}},\"objectRef\":{{\"resource\":\"secrets\",\"namespace\":\"prod\"}},\"responseStatus\":{{\"code\":403}},{members}}}"
    )
    .into_bytes()
}

fn cases() -> Vec<Case> {
    use Expect::{Evaluated, Skipped};
    let depth = deepest_accepted();
    assert!(depth > 100, "serde_json's nesting limit moved: {depth}");
    let matching_deep = denied_with("deep", &nested(depth - 1));
    let pad = |n: usize| {
        format!(
            "{{\"p_log_type\": \"{EKS}\", \"pad\": \"{}\"}}",
            "x".repeat(n)
        )
    };
    let long_user = denied(&"u".repeat(500_000), "prod", 1000).to_string();
    let deep_log = {
        let text = denied("dup@example.com", "prod", 0).to_string();
        format!("{},\"deep\":{}}}", &text[..text.len() - 1], nested(200))
    };
    let dup_log = |first: &str, last: &str| {
        let text = denied("dup@example.com", "prod", 0).to_string();
        format!(
            "{{\"verb\":\"{first}\",{},\"verb\":\"{last}\"}}",
            &text[1..text.len() - 1]
        )
    };
    let huge_log = {
        let text = denied("dup@example.com", "prod", 0).to_string();
        format!(
            "{},\"pad\":\"{}\"}}",
            &text[..text.len() - 1],
            "y".repeat(800_000)
        )
    };
    let aks = |log: String| aks_with_log(log, 1000).to_string();
    vec![
        case("nesting beyond serde_json's limit", nested_object(depth + 1), Skipped("recursion limit exceeded")),
        case("nesting at serde_json's limit", nested_object(depth), Evaluated(0)),
        case("a matching event nested just under the limit", matching_deep, Evaluated(1)),
        case("a long line under --max-line-bytes", pad(MAX_LINE - 100), Evaluated(0)),
        case("a long line over --max-line-bytes", pad(MAX_LINE + 100), Skipped("longer than --max-line-bytes")),
        case("a very long string a rule reads", long_user, Evaluated(1)),
        case("invalid UTF-8 in a string value", b"{\"p_log_type\":\"Amazon.EKS.Audit\",\"verb\":\"g\xffet\"}".to_vec(), Skipped("not UTF-8 (invalid byte at offset 42)")),
        case("invalid UTF-8 in a key", b"{\"p_log_type\":\"Amazon.EKS.Audit\",\"v\xc3rb\":\"get\"}".to_vec(), Skipped("not UTF-8")),
        case("a duplicate key, the last value matching", eks_raw("\"verb\":\"list\",\"verb\":\"get\""), Evaluated(1)),
        case("a duplicate key, the last value not matching", eks_raw("\"verb\":\"get\",\"verb\":\"list\""), Evaluated(0)),
        case("a duplicate object, the last one matching", eks_raw("\"verb\":\"get\",\"objectRef\":{\"resource\":\"pods\"},\"objectRef\":{\"resource\":\"secrets\"}"), Evaluated(1)),
        case("1e400", denied_with("size", "1e400"), Skipped("number out of range")),
        case("-1e400", denied_with("size", "-1e400"), Skipped("number out of range")),
        case("1e400 where a rule reads", eks_raw("\"verb\":\"get\",\"responseStatus\":{\"code\":1e400}"), Skipped("number out of range")),
        case("a 30-digit integer", denied_with("size", "123456789012345678901234567890"), Evaluated(1)),
        case("a 30-digit integer where a rule reads", eks_raw("\"verb\":\"get\",\"responseStatus\":{\"code\":403000000000000000000000000000}"), Evaluated(0)),
        case("NaN", denied_with("size", "NaN"), Skipped("expected value")),
        case("Infinity", denied_with("size", "Infinity"), Skipped("expected value")),
        case("-Infinity", denied_with("size", "-Infinity"), Skipped("invalid number")),
        case("a byte-order mark opening a line", [b"\xef\xbb\xbf".as_slice(), &denied_with("n", "1")].concat(), Skipped("expected value at line 1 column 1")),
        case("a CRLF line end", [denied_with("n", "1").as_slice(), b"\r"].concat(), Evaluated(1)),
        case("an empty line", b"".to_vec(), Evaluated(0)),
        case("a whitespace-only line", b" \t \r".to_vec(), Evaluated(0)),
        case("a lone surrogate escape", denied_with("note", "\"\\ud800\""), Skipped("unexpected end of hex escape")),
        case("a lone trailing surrogate where a rule reads", eks_raw("\"verb\":\"g\\udc00\""), Skipped("lone leading surrogate in hex escape")),
        case("a surrogate pair", denied_with("note", "\"\\ud83d\\ude00\""), Evaluated(1)),
        case("a raw NUL in a string", denied_with("note", "\"a\u{0}b\""), Skipped("control character")),
        case("a raw NUL between members", [b"{\"p_log_type\":\"Amazon.EKS.Audit\",\x00\"verb\":1}".as_slice()].concat(), Skipped("key must be a string")),
        case("an escaped NUL", denied_with("note", "\"a\\u0000b\""), Evaluated(1)),
        case("AKS: a matching event", denied_aks("dup@example.com", "prod", 1000).to_string(), Evaluated(1)),
        case("AKS: a huge properties.log", aks(huge_log), Evaluated(1)),
        case("AKS: properties.log nested beyond the limit (not decoded)", aks(deep_log), Evaluated(0)),
        case("AKS: properties.log not JSON", aks("not json".to_owned()), Evaluated(0)),
        case("AKS: properties.log an array", aks("[1, 2]".to_owned()), Evaluated(0)),
        case("AKS: properties.log a number", aks("5".to_owned()), Evaluated(0)),
        case("AKS: properties.log with NaN", aks("{\"verb\": NaN}".to_owned()), Evaluated(0)),
        case("AKS: duplicate keys in properties.log, the last matching", aks(dup_log("list", "get")), Evaluated(1)),
        case("AKS: duplicate keys in properties.log, the last not matching", aks(dup_log("get", "list")), Evaluated(0)),
    ]
}

/// The normal event at `index`: a denied read by alice, 5 s apart, so that
/// all of them make one alert.
fn good(index: usize) -> Value {
    denied("alice@example.com", "prod", index as i64 * 5_000)
}

/// Normal events with `hostile[i]` between the i-th and the next.
fn sandwich(hostile: &[&[u8]]) -> Vec<u8> {
    let mut input = Vec::new();
    for (i, line) in hostile.iter().enumerate() {
        input.extend_from_slice(format!("{}\n", good(i)).as_bytes());
        input.extend_from_slice(line);
        input.push(b'\n');
    }
    input.extend_from_slice(format!("{}\n", good(hostile.len())).as_bytes());
    input
}

fn without_line(value: &Value) -> Value {
    let mut value = value.clone();
    value["line"] = json!(0);
    value
}

#[test]
fn hostile_lines_are_evaluated_or_reported_and_their_neighbours_unaffected() {
    let cases = cases();
    let hostile: Vec<&[u8]> = cases.iter().map(|c| c.line.as_slice()).collect();
    let input = sandwich(&hostile);
    let baseline_input = sandwich(&vec![&b""[..]; cases.len()]);
    let max = MAX_LINE.to_string();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.expect, Expect::Skipped(_)))
        .count();
    for threads in ["1", "2"] {
        let args = [
            "--emit",
            "matches",
            "--max-line-bytes",
            &max,
            "--threads",
            threads,
        ];
        let baseline = run(&args, &baseline_input);
        assert_eq!(baseline.code, 0, "{}", baseline.stderr);
        let out = run(&args, &input);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("bad lines: {skipped}\n")),
            "{}",
            out.stderr
        );
        // The normal events (odd lines) match exactly as without the hostile lines.
        let good_lines = |lines: &[Value]| -> Vec<Value> {
            lines
                .iter()
                .filter(|l| l["line"].as_u64().is_some_and(|n| n % 2 == 1))
                .map(without_line)
                .collect()
        };
        assert_eq!(good_lines(&out.lines), good_lines(&baseline.lines));
        assert_eq!(good_lines(&out.lines).len(), cases.len() + 1);
        let mut failures = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let line = 2 * i as u64 + 2;
            let report = format!("-:{line}: skipped: ");
            let reported = out.stderr.lines().find(|l| l.contains(&report));
            let found: Vec<&Value> = out.lines.iter().filter(|l| l["line"] == line).collect();
            let ok = match case.expect {
                Expect::Skipped(reason) => {
                    reported.is_some_and(|r| r.contains(reason)) && found.is_empty()
                }
                Expect::Evaluated(expected) => {
                    reported.is_none()
                        && found.len() == expected
                        && found.iter().all(|m| m["rule_id"] == RULE)
                }
            };
            if !ok {
                failures.push(format!(
                    "{} (threads {threads}): expected {:?}, got report {reported:?} and {} matches",
                    case.name,
                    case.expect,
                    found.len()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
    // Alerts: alice's events make one alert, as without the hostile lines.
    let args = ["--max-line-bytes", max.as_str()];
    let out = run(&args, &input);
    let baseline = run(&args, &baseline_input);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let alice = |lines: &[Value]| -> Vec<Value> {
        lines
            .iter()
            .filter(|a| a["dedup"] == "k8s_secret_denied_alice@example.com_prod")
            .cloned()
            .collect()
    };
    assert_eq!(alice(&out.lines), alice(&baseline.lines));
    assert_eq!(alice(&out.lines).len(), 1);
    assert_eq!(alice(&out.lines)[0]["event_count"], cases.len() + 1);
}

#[test]
fn a_byte_order_mark_opening_the_input_is_dropped() {
    let events = ndjson(&[good(0), good(1)]);
    let with_bom = [b"\xef\xbb\xbf".as_slice(), events.as_bytes()].concat();
    let plain = run(&["--emit", "matches"], events.as_bytes());
    let out = run(&["--emit", "matches"], &with_bom);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, plain.stdout);
    assert_eq!(out.lines.len(), 2);
}

#[test]
fn crlf_line_ends_give_the_same_output() {
    let events = ndjson(&[good(0), good(1), good(2)]);
    let crlf = events.replace('\n', "\r\n");
    for mode in ["matches", "alerts"] {
        let plain = run(&["--emit", mode], events.as_bytes());
        let out = run(&["--emit", mode], crlf.as_bytes());
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, plain.stdout, "{mode}");
    }
}

#[test]
fn a_last_line_without_newline_is_evaluated_when_complete_and_reported_when_not() {
    let events = ndjson(&[good(0), good(1)]);
    let last = good(2).to_string();
    for threads in ["1", "2"] {
        let args = ["--emit", "matches", "--threads", threads];
        let complete = run(&args, format!("{events}{last}").as_bytes());
        assert_eq!(complete.code, 0, "{}", complete.stderr);
        assert_eq!(complete.lines.len(), 3);
        assert_eq!(complete.lines[2]["line"], 3);

        let cut = &last[..last.len() / 2];
        let incomplete = run(&args, format!("{events}{cut}").as_bytes());
        assert_eq!(incomplete.code, 2, "{}", incomplete.stderr);
        assert_eq!(incomplete.lines.len(), 2);
        assert!(
            incomplete
                .stderr
                .contains("-:3: skipped: not JSON: EOF while parsing"),
            "{}",
            incomplete.stderr
        );
        assert!(
            incomplete.stderr.contains("bad lines: 1"),
            "{}",
            incomplete.stderr
        );
    }
}

/// Twenty denied reads by one user whose `verb` is written twice: `first`
/// then `last`.
fn repeated_verb(first: &str, last: &str, aks: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..20 {
        let event = denied("dup@example.com", "prod", i * 10_000).to_string();
        let body = &event[1..event.len() - 1];
        let doubled = format!("{{\"verb\":\"{first}\",{body},\"verb\":\"{last}\"}}");
        let line = if aks {
            aks_with_log(doubled, i * 10_000).to_string()
        } else {
            doubled
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn duplicate_keys_keep_the_last_value_on_every_path() {
    let detector = rulec::detector();
    let mut scratch = rulec::Parsed::new();
    for aks in [false, true] {
        for (first, last, expected) in [("list", "get", 1), ("get", "list", 0)] {
            let input = repeated_verb(first, last, aks);
            let text = String::from_utf8_lossy(&input).into_owned();
            let line = text.lines().next().unwrap_or_default();
            // The Value path (serde_json's map keeps the last value)...
            let (_, full) = detector
                .evaluate_bytes(line.as_bytes())
                .expect("the line parses");
            // ...and the fast path (the projection).
            let fast = detector
                .evaluate_line(&mut scratch, line)
                .expect("the line parses")
                .evaluation;
            let ids = |e: &rulec::Evaluation| -> Vec<&str> {
                e.matches.iter().map(|m| m.rule.meta.id).collect()
            };
            let label = format!("aks {aks}, verb {first} then {last}");
            assert_eq!(
                ids(&full).iter().filter(|id| **id == RULE).count(),
                expected,
                "{label}"
            );
            assert_eq!(ids(&fast), ids(&full), "{label}");
            for threads in ["1", "2"] {
                let matches = run(&["--emit", "matches", "--threads", threads], &input);
                assert_eq!(matches.code, 0, "{}", matches.stderr);
                assert_eq!(
                    matches.lines.len(),
                    20 * expected,
                    "{label}, threads {threads}"
                );
                let alerts = run(&["--threads", threads], &input);
                assert_eq!(alerts.lines.len(), expected, "{label}, threads {threads}");
            }
        }
    }
    // A rule's output reads the last value too.
    let line = eks_raw("\"verb\":\"get\",\"user\":{\"username\":\"last@example.com\"}");
    let line = String::from_utf8_lossy(&line).into_owned();
    let evaluation = detector
        .evaluate_line(&mut scratch, &line)
        .expect("the line parses")
        .evaluation;
    assert_eq!(evaluation.matches.len(), 1);
    assert_eq!(
        evaluation.matches[0].detection.dedup,
        "k8s_secret_denied_last@example.com_prod"
    );
}

#[test]
fn match_lines_name_their_lines_alike_with_any_number_of_threads() {
    // More lines than a chunk holds (8,192), read from a file (chunks of
    // whole reads) and from stdin (chunks of what each pipe read gives),
    // with blank, malformed and too-long lines among matching events: every
    // match line names its event's line, and the outputs are the same.
    let mut input = Vec::new();
    let mut matching = Vec::new();
    let mut skipped = 0;
    for n in 0..20_000u32 {
        let line = match n % 11 {
            0 => Vec::new(),
            1 => {
                skipped += 1;
                b"{not json".to_vec()
            }
            2 if n % 3 == 0 => {
                skipped += 1;
                format!("{{\"pad\":\"{}\"}}", "x".repeat(5_000)).into_bytes()
            }
            3 | 7 => {
                matching.push(u64::from(n) + 1);
                denied("probe@example.com", "prod", i64::from(n))
                    .to_string()
                    .into_bytes()
            }
            _ => json!({"p_log_type": EKS, "verb": "list"})
                .to_string()
                .into_bytes(),
        };
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("mixed.ndjson");
    std::fs::write(&path, &input).expect("write the input");
    let path = path.to_string_lossy().into_owned();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "3"] {
        for source in [path.as_str(), "-"] {
            let args = [
                "--emit",
                "matches",
                "--rule",
                RULE,
                "--max-line-bytes",
                "4000",
                "--threads",
                threads,
                source,
            ];
            let out = run(&args, if source == "-" { &input } else { b"" });
            assert_eq!(out.code, 2, "{}", out.stderr);
            let lines: Vec<u64> = out
                .lines
                .iter()
                .filter_map(|line| line["line"].as_u64())
                .collect();
            assert_eq!(lines, matching, "threads {threads}, input {source}");
            let reports = out
                .stderr
                .lines()
                .filter(|l| l.contains(": skipped: "))
                .count();
            assert_eq!(reports, skipped, "threads {threads}, input {source}");
            outputs.push((source, out.stdout));
        }
    }
    for (source, stdout) in &outputs {
        let first = outputs.iter().find(|(s, _)| s == source).map(|(_, o)| o);
        assert_eq!(Some(stdout), first, "input {source}");
    }
}
