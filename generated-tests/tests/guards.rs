//! The guards the code generator derives for this project's rules
//! (`rulec_runtime::guard`): on the bundled sample the detector's plan
//! answers most rules without calling them, always as each rule's own
//! matcher over the same parse answers, and rules that test a field alike
//! share its read.

use rulec_runtime::guard::{Decision, Probes};
use rulec_runtime::projection::Parsed;
use rulec_runtime::{Detector, Node};

#[test]
fn the_plan_answers_most_rules_on_the_sample_as_each_rule_does() {
    let detector = Detector::new(rulec_rules::RULES.iter().copied());
    let sample = include_str!("../../examples/k8s_audit_sample.ndjson");
    let mut scratch = Parsed::new();
    let (mut calls, mut answered, mut matched) = (0usize, 0usize, 0usize);
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
            let own = (rule.matches_projected)(log_type, root).map_err(drop);
            let decided = plan.decide(index, root, &mut probes);
            let guarded = match decided {
                Decision::NoMatch => Ok(false),
                Decision::Raises => Err(()),
                Decision::Rest(rest) => rest(root).map_err(drop),
                Decision::Whole => own,
            };
            assert_eq!(guarded, own, "{}: {line}", rule.meta.id);
            answered += usize::from(matches!(decided, Decision::NoMatch | Decision::Raises));
            matched += usize::from(own == Ok(true));
            calls += 1;
        }
    }
    eprintln!("guards: {answered} of {calls} rules answered without a call, {matched} matches");
    assert!(
        matched > 0,
        "no rule matched the sample: the check proves little"
    );
    assert!(
        answered * 4 >= calls * 3,
        "guards answered {answered} of {calls} rules, expected three in four"
    );
}

#[test]
fn rules_testing_a_field_alike_share_its_read() {
    let detector = Detector::new(rulec_rules::RULES.iter().copied());
    for log_type in ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"] {
        let plan = detector.guard_plan(log_type).expect("rules read it");
        let rules = detector.rules_for(log_type);
        let checks: usize = (0..rules.len()).map(|rule| plan.checks_of(rule)).sum();
        // The seed rule: `verb` is `get`, `resource` is `secrets`, the
        // request failed, and neither the namespace nor the principal is a
        // system one.
        let seed = rules
            .iter()
            .position(|rule| rule.meta.id == "Kubernetes.Secret.AccessDenied")
            .expect("the seed rule reads every log type");
        assert_eq!(plan.checks_of(seed), 4, "{log_type}");
        assert!(
            plan.readers() * 2 <= checks,
            "{log_type}: {} reads for {checks} guards",
            plan.readers()
        );
    }
}
