//! Tests of the generated stream: determinism, the scenario mix, probe
//! bursts, time fields and labels.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;

use super::*;

fn config(seed: u64, events: usize) -> Config {
    Config {
        seed,
        events,
        ..Config::default()
    }
}

fn bytes(config: &Config) -> Vec<u8> {
    let mut out = Vec::new();
    for sample in generate(config) {
        serde_json::to_writer(&mut out, &sample.event).unwrap();
        out.push(b'\n');
    }
    out
}

fn text<'a>(event: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(event, |node, key| node.get(key))
        .and_then(Value::as_str)
}

/// The event's own time field, parsed.
fn event_time(sample: &Sample) -> Timestamp {
    let field = match sample.log_type {
        "Amazon.EKS.Audit" => "requestReceivedTimestamp",
        "Azure.MonitorActivity" => "time",
        "GCP.AuditLog" => "timestamp",
        other => panic!("log type {other}"),
    };
    text(&sample.event, &[field])
        .unwrap_or_else(|| panic!("no {field}: {}", sample.event))
        .parse()
        .unwrap()
}

/// Parses `p_event_time` (`2024-06-01 00:00:01.123456000`, UTC).
fn p_event_time(sample: &Sample) -> Option<Timestamp> {
    let text = text(&sample.event, &["p_event_time"])?;
    assert_eq!(text.len(), "2024-06-01 00:00:01.123456789".len(), "{text}");
    let civil: jiff::civil::DateTime = text.parse().unwrap();
    Some(jiff::tz::Offset::UTC.to_timestamp(civil).unwrap())
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let a = bytes(&config(42, 3_000));
    let b = bytes(&config(42, 3_000));
    let c = bytes(&config(43, 3_000));
    assert_eq!(a, b);
    assert_ne!(a, c);
    // A shorter run is a prefix of a longer one.
    let short = bytes(&config(42, 1_000));
    assert!(a.starts_with(&short));
}

#[test]
fn output_is_pinned() {
    // The stream must not change across platforms or dependency updates:
    // pin a digest of the first events (FNV-1a over the bytes).
    let data = bytes(&config(1, 500));
    let digest = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    assert_eq!(digest, PINNED_DIGEST, "digest {digest:#018x}");
}

/// The digest of `bytes(&config(1, 500))`; update it only on purpose.
const PINNED_DIGEST: u64 = 0xf0c1_7029_16ba_7681;

#[test]
fn mix_covers_every_scenario_with_a_few_percent_of_matches() {
    let mut counts: BTreeMap<Scenario, usize> = BTreeMap::new();
    let mut matches = 0usize;
    let total = 20_000;
    for sample in generate(&config(1, total)) {
        *counts.entry(sample.scenario).or_default() += 1;
        assert_eq!(
            sample.expected.matches_seed,
            sample.scenario.matches_seed(),
            "{:?}",
            sample
        );
        if sample.expected.matches_seed {
            matches += 1;
        }
    }
    for scenario in Scenario::ALL {
        assert!(counts.contains_key(&scenario), "{scenario} never appears");
    }
    let share = matches as f64 / total as f64;
    assert!((0.02..=0.10).contains(&share), "match share {share}");
    // Most traffic is routine.
    let routine = counts[&Scenario::RoutineRead] + counts[&Scenario::RoutineWrite];
    assert!(routine > total / 2, "{routine}");
}

#[test]
fn two_thousand_events_hold_a_probe_burst_over_the_threshold() {
    let mut bursts: BTreeMap<String, Vec<Timestamp>> = BTreeMap::new();
    for sample in generate(&config(1, 2_000)) {
        if sample.scenario == Scenario::ProbeBurst {
            let dedup = sample.expected.dedup.clone().unwrap();
            bursts.entry(dedup).or_default().push(event_time(&sample));
        }
    }
    let full: Vec<_> = bursts
        .iter()
        .filter(|(_, times)| times.len() >= 20)
        .collect();
    assert!(!full.is_empty(), "{bursts:?}");
    for (dedup, times) in full {
        let first = times.iter().min().unwrap();
        let last = times.iter().max().unwrap();
        let span = last.duration_since(*first);
        assert!(span.as_secs() <= 6 * 60, "{dedup}: {span:?}");
    }
}

#[test]
fn every_seed_has_a_burst_early() {
    for seed in 0..20 {
        let probes = generate(&config(seed, 2_000))
            .filter(|s| s.scenario == Scenario::ProbeBurst)
            .count();
        assert!(probes >= 20, "seed {seed}: {probes}");
    }
}

#[test]
fn bursts_are_rare_and_each_has_its_own_window() {
    let mut runs: Vec<(String, usize)> = Vec::new();
    let mut last_line: BTreeMap<String, usize> = BTreeMap::new();
    for (line, sample) in generate(&config(5, 30_000)).enumerate() {
        if sample.scenario != Scenario::ProbeBurst {
            continue;
        }
        let dedup = sample.expected.dedup.clone().unwrap();
        let continues = last_line.get(&dedup).is_some_and(|&l| line - l <= 25)
            && runs.last().is_some_and(|(d, _)| *d == dedup);
        if continues {
            if let Some(run) = runs.last_mut() {
                run.1 += 1;
            }
        } else {
            runs.push((dedup.clone(), 1));
        }
        last_line.insert(dedup, line);
    }
    assert!((3..=15).contains(&runs.len()), "{runs:?}");
    for (dedup, count) in &runs {
        assert!((20..=30).contains(count), "{dedup}: {count}");
    }
    for pair in runs.windows(2) {
        assert_ne!(pair[0].0, pair[1].0);
    }
}

#[test]
fn every_event_has_its_log_type_source_and_time() {
    let mut previous: Option<Timestamp> = None;
    let (mut with_p_time, mut out_of_order, mut total) = (0usize, 0usize, 0usize);
    let start = Config::default().start;
    for sample in generate(&config(9, 20_000)) {
        total += 1;
        let event = &sample.event;
        assert!(event.is_object());
        assert_eq!(text(event, &["p_log_type"]), Some(sample.log_type));
        let label = text(event, &["p_source_label"]).unwrap();
        assert!(label.starts_with("prod-"), "{label}");
        let time = event_time(&sample);
        assert!(time > start);
        if let Some(p_time) = p_event_time(&sample) {
            assert_eq!(p_time, time, "{event}");
            with_p_time += 1;
        }
        if sample.log_type == "Amazon.EKS.Audit" {
            let stage: Timestamp = text(event, &["stageTimestamp"]).unwrap().parse().unwrap();
            assert!(stage >= time);
        }
        if let Some(previous) = previous {
            if time < previous {
                out_of_order += 1;
                assert!(previous.duration_since(time).as_secs() <= 31);
            } else {
                let step = time.duration_since(previous);
                assert!(step.as_millis() <= 31_000, "{step:?}");
            }
        }
        previous = Some(time);
    }
    let share = with_p_time as f64 / total as f64;
    assert!((0.45..=0.55).contains(&share), "p_event_time share {share}");
    let late = out_of_order as f64 / total as f64;
    assert!((0.004..=0.02).contains(&late), "out-of-order share {late}");
}

#[test]
fn time_formats_are_the_shapes_own() {
    let mut seen = BTreeSet::new();
    for sample in generate(&config(2, 200)) {
        let (field, digits) = match sample.log_type {
            "Amazon.EKS.Audit" => ("requestReceivedTimestamp", 6),
            "Azure.MonitorActivity" => ("time", 7),
            _ => ("timestamp", 9),
        };
        let value = text(&sample.event, &[field]).unwrap();
        let fraction = value.split('.').nth(1).unwrap();
        assert_eq!(fraction.len(), digits + 1, "{value}");
        assert!(fraction.ends_with('Z'));
        seen.insert(sample.log_type);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn p_event_time_ratio_is_honoured() {
    let none = Config {
        p_event_time_ratio: 0.0,
        ..config(3, 500)
    };
    assert!(generate(&none).all(|s| s.event.get("p_event_time").is_none()));
    let all = Config {
        p_event_time_ratio: 1.0,
        ..config(3, 500)
    };
    assert!(generate(&all).all(|s| s.event.get("p_event_time").is_some()));
}

/// What the event carries, read per shape, for the title checks below.
struct Seen {
    user: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    code: Option<Value>,
}

fn seen(sample: &Sample) -> Seen {
    let get = |v: &Value, path: &[&str]| text(v, path).map(str::to_string);
    match sample.log_type {
        "GCP.AuditLog" => {
            let payload = &sample.event["protoPayload"];
            let resource = text(payload, &["resourceName"]).unwrap();
            let parts: Vec<&str> = resource.split('/').collect();
            let namespace = (parts.len() >= 4 && parts[2] == "namespaces").then(|| parts[3]);
            let name = if parts.len() >= 6 { parts[5] } else { parts[3] };
            Seen {
                user: get(payload, &["authenticationInfo", "principalEmail"]),
                namespace: namespace.map(str::to_string),
                name: Some(name.to_string()),
                code: payload.get("status").and_then(|s| s.get("code")).cloned(),
            }
        }
        log_type => {
            let audit = if log_type == "Azure.MonitorActivity" {
                serde_json::from_str(text(&sample.event, &["properties", "log"]).unwrap()).unwrap()
            } else {
                sample.event.clone()
            };
            Seen {
                user: get(&audit, &["user", "username"]),
                namespace: get(&audit, &["objectRef", "namespace"]),
                name: get(&audit, &["objectRef", "name"]),
                code: audit
                    .get("responseStatus")
                    .and_then(|s| s.get("code"))
                    .cloned(),
            }
        }
    }
}

#[test]
fn match_labels_show_what_the_event_carries() {
    let mut checked = BTreeSet::new();
    for sample in generate(&config(1, 20_000)) {
        if !sample.expected.matches_seed {
            assert_eq!(sample.expected.title, None);
            assert_eq!(sample.expected.dedup, None);
            continue;
        }
        let seen = seen(&sample);
        let gke = sample.log_type == "GCP.AuditLog";
        let unknown_user = if gke {
            "<UNKNOWN ACTOR USER>"
        } else {
            "<UNKNOWN_USER>"
        };
        let user = seen
            .user
            .filter(|u| !u.is_empty())
            .unwrap_or(unknown_user.into());
        let namespace = seen
            .namespace
            .filter(|n| !n.is_empty())
            .unwrap_or("<UNKNOWN_NAMESPACE>".into());
        let name = seen
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or("<UNKNOWN_SECRET>".into());
        let code = match seen.code {
            Some(Value::Bool(true)) => "True".to_string(),
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            other => panic!("a match with code {other:?}: {}", sample.event),
        };
        let expected = Expected::seed_match(&user, &namespace, &name, &code);
        assert_eq!(sample.expected, expected, "{:?}", sample.scenario);
        checked.insert(sample.scenario);
    }
    let matching: BTreeSet<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|s| s.matches_seed())
        .collect();
    assert_eq!(checked, matching);
}

fn first(seed: u64, scenario: Scenario) -> Sample {
    generate(&config(seed, 50_000))
        .find(|s| s.scenario == scenario)
        .unwrap_or_else(|| panic!("no {scenario}"))
}

#[test]
fn hand_picked_labels() {
    // A person's denied read on EKS/AKS/GKE.
    let probe = first(1, Scenario::HumanSecretProbe);
    assert_eq!(probe.expected.title.as_deref(), Some(HUMAN_PROBE_TITLE));
    assert_eq!(probe.expected.dedup.as_deref(), Some(HUMAN_PROBE_DEDUP));

    // `code: true` is the int 1 to Python: a match shown as `True`.
    let odd_bool = first(1, Scenario::OddCodeAsBool);
    assert!(odd_bool.expected.matches_seed);
    assert!(odd_bool
        .expected
        .title
        .as_deref()
        .unwrap()
        .ends_with("(response: True)"));

    // GKE without authentication info.
    let gke = first(1, Scenario::GkeNoAuthenticationInfo);
    assert_eq!(gke.log_type, "GCP.AuditLog");
    let title = gke.expected.title.as_deref().unwrap();
    assert!(title.starts_with("[<UNKNOWN ACTOR USER>] failed secret enumeration attempt in ["));
    assert!(title.ends_with("(response: 7)") || title.ends_with("(response: 16)"));
    assert!(gke
        .expected
        .dedup
        .as_deref()
        .unwrap()
        .starts_with("k8s_secret_denied_<UNKNOWN ACTOR USER>_"));

    let user = first(1, Scenario::OddMissingUser);
    assert!(user
        .expected
        .title
        .as_deref()
        .unwrap()
        .starts_with("[<UNKNOWN_USER>] "));
    let namespace = first(1, Scenario::OddMissingNamespace);
    assert!(namespace
        .expected
        .dedup
        .as_deref()
        .unwrap()
        .ends_with("_<UNKNOWN_NAMESPACE>"));
    let name = first(1, Scenario::OddMissingSecretName);
    assert!(name
        .expected
        .title
        .as_deref()
        .unwrap()
        .contains("/<UNKNOWN_SECRET>] (response: "));

    // Odd records that do not match.
    for scenario in [
        Scenario::OddCodeAsString,
        Scenario::OddCodeAsFloat,
        Scenario::OddNullResponseStatus,
        Scenario::OddMissingObjectRef,
        Scenario::AksMalformedLog,
        Scenario::AksLogIsArray,
        Scenario::AksEmptyLog,
    ] {
        assert_eq!(
            first(1, scenario).expected,
            Expected::no_match(),
            "{scenario}"
        );
    }
}

/// The first `HumanSecretProbe` of seed 1.
const HUMAN_PROBE_TITLE: &str =
    "[mia@example.org] failed secret enumeration attempt in [checkout/aws-credentials] (response: 5)";
/// See [`HUMAN_PROBE_TITLE`].
const HUMAN_PROBE_DEDUP: &str = "k8s_secret_denied_mia@example.org_checkout";

#[test]
fn odd_records_have_the_odd_parts_they_claim() {
    for sample in generate(&config(4, 40_000)) {
        let event = &sample.event;
        let aks_log = || text(event, &["properties", "log"]).map(str::to_string);
        let audit_code = || -> Option<Value> {
            let audit: Value = match sample.log_type {
                "Azure.MonitorActivity" => serde_json::from_str(&aks_log()?).ok()?,
                "GCP.AuditLog" => return event["protoPayload"]["status"].get("code").cloned(),
                _ => event.clone(),
            };
            audit["responseStatus"].get("code").cloned()
        };
        match sample.scenario {
            Scenario::OddCodeAsString => assert!(audit_code().unwrap().is_string()),
            Scenario::OddCodeAsFloat => {
                let code = audit_code().unwrap();
                assert!(code.is_f64(), "{code}");
            }
            Scenario::OddCodeAsBool => assert_eq!(audit_code(), Some(Value::Bool(true))),
            Scenario::AksMalformedLog => {
                let log = aks_log().unwrap();
                assert!(!log.is_empty());
                assert!(serde_json::from_str::<Value>(&log).is_err(), "{log}");
            }
            Scenario::AksLogIsArray => {
                let log: Value = serde_json::from_str(&aks_log().unwrap()).unwrap();
                assert!(log.is_array());
            }
            Scenario::AksEmptyLog => {
                assert!(["", "null", "{}"].contains(&aks_log().unwrap().as_str()));
            }
            Scenario::AksNonAuditCategory => {
                let category = text(event, &["category"]).unwrap();
                assert!(!category.starts_with("kube-audit"), "{category}");
            }
            Scenario::GkeNonK8sService => {
                assert_ne!(
                    text(event, &["protoPayload", "serviceName"]),
                    Some("k8s.io")
                );
            }
            Scenario::GkeNoAuthenticationInfo => {
                let info = event["protoPayload"].get("authenticationInfo");
                assert!(info
                    .and_then(|i| i.get("principalEmail"))
                    .and_then(Value::as_str)
                    .is_none());
            }
            _ => {}
        }
        if sample.log_type == "Azure.MonitorActivity"
            && text(event, &["category"]).is_some_and(|c| c.starts_with("kube-audit"))
            && !matches!(
                sample.scenario,
                Scenario::AksMalformedLog | Scenario::AksLogIsArray | Scenario::AksEmptyLog
            )
        {
            let log: Value = serde_json::from_str(&aks_log().unwrap()).unwrap();
            assert_eq!(log["kind"], "Event");
        }
    }
}

#[test]
fn label_lines_have_the_documented_keys() {
    let sample = first(1, Scenario::HumanSecretProbe);
    let label = sample.label(7);
    let keys: Vec<&str> = label
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["line", "scenario", "matches_seed", "title", "dedup"]);
    assert_eq!(label["line"], 7);
    assert_eq!(label["scenario"], "HumanSecretProbe");
    assert_eq!(label["matches_seed"], true);
    let routine = first(1, Scenario::RoutineRead).label(1);
    assert_eq!(routine["title"], Value::Null);
    assert_eq!(routine["dedup"], Value::Null);
}

#[test]
fn default_config() {
    let config = Config::default();
    assert_eq!(config.start.to_string(), "2024-06-01T00:00:00Z");
    assert_eq!(config.p_event_time_ratio, 0.5);
    assert_eq!(generate(&config).size_hint(), (10_000, Some(10_000)));
}
