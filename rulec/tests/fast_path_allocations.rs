//! The fast path allocates nothing for an event a rule does not match: a
//! counting allocator (the whole test binary's) watches each rule's matcher
//! over the projection of every non-matching event (EKS, AKS, GKE) of the bundled
//! sample, and `Detector::evaluate_line` over the seed rule, once the scratch
//! buffers have grown, on every log type and on lines with escaped strings;
//! and over the whole pack, whose rules' guards are read once per event.
//!
//! Three rules build lists in their match logic, as their Python does, and
//! allocate on some events; the test names them, so a new allocating rule
//! (or one that stops allocating) fails it. AKS's embedded audit log
//! (`properties.log`) is decoded into buffers reused from event to event.

use std::sync::{Mutex, MutexGuard, PoisonError};

use rulec::{detector, rule, Detector, Parsed, Projected};
use rulec_runtime::Node;

/// One test at a time. The counter counts the current thread's allocations,
/// but a parse sizes its tables for every key path and data-model field with
/// an id so far, process-wide: a test that runs rules for the first time
/// while another measures would grow the other's tables (once) inside its
/// measured window.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

const SAMPLE: &str = include_str!("../../examples/k8s_audit_sample.ndjson");

/// Rules whose match logic computes lists, and why.
const ALLOCATING: [(&str, &str); 3] = [
    (
        "GCP.GKE.Kubernetes.Cron.Job.Created.Or.Modified",
        "the authorizationInfo loop is a computed list of M/X markers, joined",
    ),
    (
        "Kubernetes.API.Multiple403.PublicIP",
        "GKE's sourceIPs is a one-element list the data model builds",
    ),
    (
        "Kubernetes.System.Principal.PublicIP",
        "the IPinfo ASN lookup builds lists; GKE's sourceIPs is built",
    ),
];

fn log_type(root: Projected<'_>) -> &str {
    root.get("p_log_type").and_then(Node::as_str).unwrap_or("")
}

#[test]
fn matchers_allocate_nothing_on_non_matching_events() {
    let _one_at_a_time = one_at_a_time();
    let detector = detector();
    let mut parsed = Parsed::new();
    let lines: Vec<&str> = SAMPLE
        .lines()
        .filter(|line| line.contains("\"p_log_type\""))
        .collect();
    assert!(lines.len() > 800, "{} lines", lines.len());
    let mut allocating = Vec::new();
    let mut evaluated = 0usize;
    for rule in detector.rules() {
        let mut allocations = 0u64;
        for line in &lines {
            if parsed.parse(line, detector.projection()).is_err() {
                continue;
            }
            let root = parsed.root(line);
            let log_type = log_type(root).to_owned();
            if !rule.meta.handles(&log_type) {
                continue;
            }
            // Once to grow what grows (IP tables, regexes), then counted on
            // a fresh parse, which remembers nothing the first call computed.
            if (rule.matches_projected)(&log_type, root) != Ok(false) {
                continue;
            }
            if parsed.parse(line, detector.projection()).is_err() {
                continue;
            }
            let root = parsed.root(line);
            let info = allocation_counter::measure(|| {
                let _ = (rule.matches_projected)(&log_type, root);
            });
            allocations += info.count_total;
            evaluated += 1;
        }
        if allocations > 0 {
            allocating.push(rule.meta.id);
        }
    }
    assert!(evaluated > 5000, "{evaluated} rule evaluations");
    let expected: Vec<&str> = ALLOCATING.iter().map(|(id, _)| *id).collect();
    allocating.sort_unstable();
    assert_eq!(
        allocating, expected,
        "rules that allocate on non-matching events"
    );
}

/// A line without escaped strings: the sample line with its annotations
/// (whose reasons quote names, `\"`) removed.
fn without_escapes(line: &str) -> Option<String> {
    let mut event: rulec::serde_json::Value = rulec::serde_json::from_str(line).ok()?;
    if let Some(map) = event.as_object_mut() {
        map.remove("annotations");
        if let Some(payload) = map.get_mut("protoPayload").and_then(|p| p.as_object_mut()) {
            payload.remove("authorizationInfo");
        }
    }
    let text = event.to_string();
    (!text.contains('\\')).then_some(text)
}

#[test]
fn the_seed_rule_s_line_evaluation_allocates_nothing_for_a_non_match() {
    let _one_at_a_time = one_at_a_time();
    let seed = rule("Kubernetes.Secret.AccessDenied").expect("the seed rule");
    let detector = Detector::new([seed]);
    let mut scratch = Parsed::new();
    let quiet: Vec<String> = SAMPLE
        .lines()
        .filter(|line| !line.contains("Azure.MonitorActivity"))
        .filter_map(without_escapes)
        .filter(|line| {
            detector
                .evaluate_line(&mut scratch, line)
                .is_ok_and(|e| e.evaluation.matches.is_empty() && e.evaluation.errors.is_empty())
        })
        .collect();
    assert!(quiet.len() > 300, "{} quiet lines", quiet.len());
    let mut evaluated = 0usize;
    let info = allocation_counter::measure(|| {
        for line in &quiet {
            if detector.evaluate_line(&mut scratch, line).is_ok() {
                evaluated += 1;
            }
        }
    });
    assert_eq!(evaluated, quiet.len());
    assert_eq!(
        info.count_total,
        0,
        "{} allocations over {} lines",
        info.count_total,
        quiet.len()
    );
}

#[test]
fn escaped_strings_and_aks_events_allocate_nothing_either() {
    let _one_at_a_time = one_at_a_time();
    // The fast path's scanner decodes escaped strings into the parse's own
    // buffers, and AKS's embedded audit log into buffers reused from line
    // to line: once they have grown, such lines allocate nothing.
    let seed = rule("Kubernetes.Secret.AccessDenied").expect("the seed rule");
    let detector = Detector::new([seed]);
    let mut scratch = Parsed::new();
    let quiet = quiet_lines(&detector, &mut scratch, |line| line.contains('\\'));
    let aks = quiet
        .iter()
        .filter(|line| line.contains("Azure.MonitorActivity"))
        .count();
    assert!(
        quiet.len() > 300 && aks > 100,
        "{} quiet lines with escapes, {aks} of them AKS",
        quiet.len()
    );
    let allocations = allocations_once_grown(&detector, &mut scratch, &quiet);
    assert_eq!(
        allocations,
        0,
        "{allocations} allocations over {} lines",
        quiet.len()
    );
}

/// The sample's lines that `keep` selects and on which `detector` finds no
/// match and no error.
fn quiet_lines(
    detector: &Detector,
    scratch: &mut Parsed,
    keep: impl Fn(&str) -> bool,
) -> Vec<&'static str> {
    SAMPLE
        .lines()
        .filter(|line| keep(line))
        .filter(|line| {
            detector
                .evaluate_line(scratch, line)
                .is_ok_and(|e| e.evaluation.matches.is_empty() && e.evaluation.errors.is_empty())
        })
        .collect()
}

/// The allocations of `evaluate_line` over `lines`, after a first pass has
/// grown the buffers.
fn allocations_once_grown(detector: &Detector, scratch: &mut Parsed, lines: &[&str]) -> u64 {
    for line in lines {
        let _ = detector.evaluate_line(scratch, line);
    }
    allocation_counter::measure(|| {
        for line in lines {
            let _ = detector.evaluate_line(scratch, line);
        }
    })
    .count_total
}

#[test]
fn the_pack_s_line_evaluation_allocates_nothing_for_a_non_match() {
    let _one_at_a_time = one_at_a_time();
    // Every rule but those that build lists: the guards of thirty rules are
    // planned together and read once per event (`rulec_runtime::guard`).
    let pack = detector();
    let detector = Detector::new(
        pack.rules()
            .iter()
            .copied()
            .filter(|rule| ALLOCATING.iter().all(|(id, _)| *id != rule.meta.id)),
    );
    assert_eq!(
        detector.rules().len() + ALLOCATING.len(),
        pack.rules().len()
    );
    let mut scratch = Parsed::new();
    let quiet = quiet_lines(&detector, &mut scratch, |_| true);
    let log_types = ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"];
    for log_type in log_types {
        let count = quiet.iter().filter(|line| line.contains(log_type)).count();
        assert!(count > 100, "{count} quiet {log_type} lines");
    }
    let allocations = allocations_once_grown(&detector, &mut scratch, &quiet);
    assert_eq!(
        allocations,
        0,
        "{allocations} allocations over {} lines",
        quiet.len()
    );
}

#[test]
fn a_matching_event_allocates_its_outputs() {
    let _one_at_a_time = one_at_a_time();
    // The counter works: a match parses the whole event and builds outputs.
    let detector = detector();
    let mut scratch = Parsed::new();
    let matching = SAMPLE
        .lines()
        .find(|line| {
            detector
                .evaluate_line(&mut scratch, line)
                .is_ok_and(|e| !e.evaluation.matches.is_empty())
        })
        .expect("the sample has matches");
    let info = allocation_counter::measure(|| {
        let _ = detector.evaluate_line(&mut scratch, matching);
    });
    assert!(info.count_total > 10, "{} allocations", info.count_total);
}
