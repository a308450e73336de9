//! `detect` writes its lines with `rulec::json_line` (through `sonic-rs`):
//! they must be byte for byte what `serde_json` writes, for every output of
//! the bundled and generated samples and for generated values (escapes of
//! every kind, non-ASCII text, numbers of every JSON kind).

use proptest::prelude::*;
use rulec::json_line::write_json_line;
use rulec::serde_json::{self, Map, Number, Value};

const SAMPLE: &str = include_str!("../../examples/k8s_audit_sample.ndjson");

/// The bundled sample, then generated events (more matches, and every
/// scenario of the generator).
fn events() -> impl Iterator<Item = Value> {
    let sample = SAMPLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("the sample is JSON"));
    let generated = rulec_samples::generate(&rulec_samples::Config {
        seed: 7,
        events: 4_000,
        ..rulec_samples::Config::default()
    })
    .map(|sample| sample.event);
    sample.chain(generated)
}

fn serde_json_line<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).expect("serde_json writes it");
    out.push(b'\n');
    out
}

fn both_write<T: serde::Serialize + ?Sized>(value: &T) -> (String, String) {
    let mut ours = Vec::new();
    write_json_line(&mut ours, value).expect("json_line writes it");
    (
        String::from_utf8_lossy(&ours).into_owned(),
        String::from_utf8_lossy(&serde_json_line(value)).into_owned(),
    )
}

#[test]
fn every_output_of_the_samples_is_written_as_serde_json_writes_it() {
    let mut stream = rulec::AlertStream::new(rulec::detector());
    let mut alerts = Vec::new();
    let mut detections = 0;
    for event in events() {
        let evaluation = stream
            .push(&event, &mut |alert| alerts.push(alert))
            .expect("the sample's events name their log type");
        for m in &evaluation.matches {
            let d = &m.detection;
            let (ours, theirs) = both_write(&(&d.title, &d.dedup, d.severity, &d.alert_context));
            assert_eq!(ours, theirs, "{}", m.rule.meta.id);
            detections += 1;
        }
        let (ours, theirs) = both_write(&event);
        assert_eq!(ours, theirs);
    }
    stream.finish(&mut |alert| alerts.push(alert));
    for alert in &alerts {
        let (ours, theirs) = both_write(alert);
        assert_eq!(ours, theirs, "{}", alert.rule_id);
    }
    assert!(detections > 200, "{detections} detections");
    assert!(alerts.len() >= 5, "{} alerts", alerts.len());
}

#[test]
fn every_escape_is_written_alike() {
    // Each byte below 0x80 alone, and within runs that cross the 32-byte
    // blocks the fast escaper reads.
    for byte in 0u8..0x80 {
        let one = char::from(byte).to_string();
        let (ours, theirs) = both_write(&one);
        assert_eq!(ours, theirs, "byte {byte:#04x}");
        for at in [0, 15, 31, 32, 33, 63, 64] {
            let mut text = "é".repeat(3) + &"x".repeat(70);
            text.insert(at + 6, char::from(byte));
            let (ours, theirs) = both_write(&text);
            assert_eq!(ours, theirs, "byte {byte:#04x} at {at}");
        }
    }
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        prop::sample::select(vec![0.0, -0.0, 1e16, 1e-7, 0.1, 1.5e300, 5e-324, 123456.0])
            .prop_filter_map("finite", Number::from_f64),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x7f]{0,80}",
        "[a-z\"\\\\\\n\\t\\x01\\x1f\\x7fé😀]{0,80}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #[test]
    fn generated_values_are_written_alike(value in value()) {
        let (ours, theirs) = both_write(&value);
        prop_assert_eq!(ours, theirs);
    }
}
