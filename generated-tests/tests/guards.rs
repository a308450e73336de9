//! The guards the code generator derives for this project's rules
//! (`rulec_runtime::guard`): on the bundled sample they rule out most
//! matcher calls, never one whose rule would give anything but `Ok(false)`,
//! and rules that test a field alike share its read.

use rulec_runtime::guard::Probes;
use rulec_runtime::projection::Parsed;
use rulec_runtime::{Detector, Node};

#[test]
fn guards_rule_out_most_calls_on_the_sample_and_never_one_that_could_match() {
    let detector = Detector::new(rulec_rules::RULES.iter().copied());
    let sample = include_str!("../../examples/k8s_audit_sample.ndjson");
    let mut scratch = Parsed::new();
    let (mut calls, mut ruled_out, mut matched) = (0usize, 0usize, 0usize);
    for line in sample.lines() {
        scratch
            .parse(line, detector.projection())
            .expect("the sample is JSON");
        let root = scratch.root(line);
        let log_type = root
            .get("p_log_type")
            .and_then(Node::as_str)
            .expect("the sample names its log types");
        let plan = detector
            .guard_plan(log_type)
            .expect("rules read every log type of the sample");
        let mut probes = Probes::new();
        for (index, rule) in detector.rules_for(log_type).iter().enumerate() {
            let admitted = plan.admits(index, root, &mut probes);
            let result = (rule.matches_projected)(log_type, root);
            if !admitted {
                assert_eq!(result, Ok(false), "{} ruled out: {line}", rule.meta.id);
                ruled_out += 1;
            }
            matched += usize::from(result == Ok(true));
            calls += 1;
        }
    }
    eprintln!("guards: {ruled_out} of {calls} matcher calls ruled out, {matched} matches");
    assert!(
        matched > 0,
        "no rule matched the sample: the check proves little"
    );
    assert!(
        ruled_out * 4 >= calls * 3,
        "guards ruled out {ruled_out} of {calls} matcher calls, expected three in four"
    );
}

#[test]
fn rules_testing_a_field_alike_share_its_read() {
    let detector = Detector::new(rulec_rules::RULES.iter().copied());
    for log_type in ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"] {
        let plan = detector.guard_plan(log_type).expect("rules read it");
        let rules = detector.rules_for(log_type);
        let checks: usize = (0..rules.len()).map(|rule| plan.checks_of(rule)).sum();
        // The seed rule: `verb` is `get`, `resource` is `secrets`; no other
        // rule tests its next condition (the request failed) after those,
        // so that one is left to the rule.
        let seed = rules
            .iter()
            .position(|rule| rule.meta.id == "Kubernetes.Secret.AccessDenied")
            .expect("the seed rule reads every log type");
        assert_eq!(plan.checks_of(seed), 2, "{log_type}");
        assert!(
            plan.readers() * 2 <= checks,
            "{log_type}: {} reads for {checks} guards",
            plan.readers()
        );
    }
}
