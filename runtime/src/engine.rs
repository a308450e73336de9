//! Evaluating events against a rule set: dispatch by `p_log_type` to the
//! rules of that log type, the matches with their outputs, and the alerting
//! engine run over a stream of events.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use crate::alerting::{Alert, AlertEngine};
use crate::event_time::Timestamp;
use crate::guard::{Decision, GuardPlan, Probes};
use crate::node::{Kind, Node};
use crate::projection::{Parsed, Projected, Projection};
use crate::rule::{CompiledRule, Detection};

/// Panther's field naming an event's log type.
pub const P_LOG_TYPE: &str = "p_log_type";

/// Why an event cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The bytes are not UTF-8 (at this byte offset).
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The text is not JSON.
    NotJson(String),
    /// The JSON is not an object.
    NotAnObject(&'static str),
    /// The object has no string `p_log_type`.
    NoLogType,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::NotUtf8 { offset } => {
                write!(f, "not UTF-8 (invalid byte at offset {offset})")
            }
            EventError::NotJson(e) => write!(f, "not JSON: {e}"),
            EventError::NotAnObject(kind) => write!(f, "not a JSON object but {kind}"),
            EventError::NoLogType => f.write_str("no `p_log_type` string"),
        }
    }
}

impl std::error::Error for EventError {}

fn kind_name(value: &Value) -> &'static str {
    kind_name_of(value.kind())
}

/// An event's bytes as text, or where they stop being UTF-8. Every line is
/// checked with `simdutf8`, thirty-two bytes at a time; only a line that
/// fails is checked again by `std`, for the offset.
pub fn event_text(bytes: &[u8]) -> Result<&str, EventError> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(bytes).map_err(|e| EventError::NotUtf8 {
            offset: e.valid_up_to(),
        }),
    }
}

/// Parses one event from bytes: UTF-8, JSON, an object.
pub fn parse_event(bytes: &[u8]) -> Result<Value, EventError> {
    let text = event_text(bytes)?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| EventError::NotJson(e.to_string()))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(EventError::NotAnObject(kind_name(&value)))
    }
}

/// [`kind_name`] for a node kind.
fn kind_name_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Bool => "a boolean",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::Array => "an array",
        Kind::Object => "an object",
    }
}

/// The log type an event names in `p_log_type`.
pub fn log_type_of(event: &Value) -> Result<&str, EventError> {
    event
        .get(P_LOG_TYPE)
        .and_then(Value::as_str)
        .ok_or(EventError::NoLogType)
}

/// One rule matching one event, with the outputs Panther attaches.
#[derive(Debug, Clone)]
pub struct Match {
    /// The rule.
    pub rule: &'static CompiledRule,
    /// Its outputs for the event (after Panther's production fallbacks).
    pub detection: Detection,
}

/// What evaluating one event gave.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// The rules that matched, in rule-set order.
    pub matches: Vec<Match>,
    /// The rules that raised (Python would have raised): they do not match.
    pub errors: Vec<&'static CompiledRule>,
}

/// A rule set ready to evaluate events: rules grouped by log type.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: Vec<&'static CompiledRule>,
    /// The rules of each log type, sorted by [`by_length_then_bytes`]: a
    /// binary search finds an event's log type in a few comparisons of
    /// short strings, where a `HashMap` hashed it (1% of the seed rule's
    /// fast path in callgrind).
    by_log_type: Vec<(&'static str, Vec<&'static CompiledRule>)>,
    /// The guards of each log type's rules, in the order of `by_log_type`:
    /// the fast path reads each field they test once per event and calls a
    /// rule only when its guards are all true.
    guard_plans: Vec<GuardPlan>,
    /// What the fast path keeps of each event: every path the rules read.
    projection: Projection,
    /// What it keeps of an event that matched, to compute the outputs:
    /// every path the rules' outputs read.
    outputs: Projection,
}

/// The order of [`Detector`]'s log types: by length, then bytes (lengths
/// differ more often than first bytes, and are compared at once).
fn by_length_then_bytes(a: &str, b: &str) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// One line through the fast path ([`Detector::evaluate_line`]).
#[derive(Debug)]
pub struct LineEvaluation<'l> {
    /// The event's `p_log_type`.
    pub log_type: &'l str,
    /// The same name as the rule set spells it, when some rule reads that
    /// log type (so callers can keep it without copying).
    pub known_log_type: Option<&'static str>,
    /// Matches (with their outputs) and rules that raised.
    pub evaluation: Evaluation,
    /// The event's time (see [`CompiledRule::event_time`]), read only when
    /// some rule matched; `None` otherwise or when the event has none.
    pub event_time: Option<Timestamp>,
}

impl Detector {
    /// A detector over these rules (all of them, enabled or not; filter
    /// first with [`crate::filter`] or `rule.meta.enabled`).
    pub fn new(rules: impl IntoIterator<Item = &'static CompiledRule>) -> Detector {
        let rules: Vec<&'static CompiledRule> = rules.into_iter().collect();
        let mut by_log_type: Vec<(&'static str, Vec<&'static CompiledRule>)> = Vec::new();
        for rule in &rules {
            for log_type in rule.meta.log_types {
                match by_log_type.binary_search_by(|(name, _)| by_length_then_bytes(name, log_type))
                {
                    Ok(at) => by_log_type[at].1.push(rule),
                    Err(at) => by_log_type.insert(at, (log_type, vec![*rule])),
                }
            }
        }
        let guard_plans = by_log_type
            .iter()
            .map(|(log_type, rules)| GuardPlan::new(log_type, rules.iter().map(|rule| rule.guards)))
            .collect();
        let projection = Projection::new(
            rules
                .iter()
                .flat_map(|rule| rule.meta.reads.iter().copied()),
        )
        .with_documents(
            rules
                .iter()
                .flat_map(|rule| rule.meta.document_reads.iter().copied()),
        );
        let outputs = Projection::new(
            rules
                .iter()
                .flat_map(|rule| rule.meta.output_reads.iter().copied()),
        )
        .with_documents(
            rules
                .iter()
                .flat_map(|rule| rule.meta.output_document_reads.iter().copied()),
        );
        Detector {
            rules,
            by_log_type,
            guard_plans,
            projection,
            outputs,
        }
    }

    /// Where `log_type` is in `by_log_type` and `guard_plans`.
    fn log_type_index(&self, log_type: &str) -> Option<usize> {
        self.by_log_type
            .binary_search_by(|(name, _)| by_length_then_bytes(name, log_type))
            .ok()
    }

    /// The rule set's name for `log_type`, and its rules.
    fn log_type_entry(
        &self,
        log_type: &str,
    ) -> Option<&(&'static str, Vec<&'static CompiledRule>)> {
        self.by_log_type.get(self.log_type_index(log_type)?)
    }

    /// The guards of `log_type`'s rules, as the fast path tests them.
    pub fn guard_plan(&self, log_type: &str) -> Option<&GuardPlan> {
        self.guard_plans.get(self.log_type_index(log_type)?)
    }

    /// What the fast path keeps of each event.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// The fast path: parses `line` once, keeping only what the rules read
    /// (into `scratch`, reused from line to line), runs the matchers on that,
    /// and parses the event again only when a rule matched, keeping what the
    /// outputs read.
    /// The results are those of [`Detector::evaluate_bytes`]; a line is
    /// refused for the same reasons with the same messages.
    pub fn evaluate_line<'l>(
        &self,
        scratch: &'l mut Parsed,
        line: &'l str,
    ) -> Result<LineEvaluation<'l>, EventError> {
        if let Err(error) = scratch.parse(line, &self.projection) {
            return Err(EventError::NotJson(error.to_string()));
        }
        let (known_log_type, matched, mut evaluation) = self.match_projected(scratch.root(line))?;
        let (Some(first), Some(known)) = (matched.first(), known_log_type) else {
            // No match: the log type as the line spells it (checked above),
            // which is the rule set's name for it when it has one.
            let scratch: &'l Parsed = scratch;
            let log_type = match known_log_type {
                Some(known) => known,
                None => scratch
                    .root(line)
                    .get(P_LOG_TYPE)
                    .and_then(Node::as_str)
                    .ok_or(EventError::NoLogType)?,
            };
            return Ok(LineEvaluation {
                log_type,
                known_log_type,
                evaluation,
                event_time: None,
            });
        };
        // Outputs read other fields: parse the line again, into the same
        // buffers (the rules have done with the projection), keeping what
        // the outputs read. It parsed once, so it parses again; the log type
        // is the rule set's own name.
        if let Err(error) = scratch.parse(line, &self.outputs) {
            return Err(EventError::NotJson(error.to_string()));
        }
        let scratch: &'l Parsed = scratch;
        let root = scratch.root(line);
        for rule in matched.iter().copied() {
            evaluation.matches.push(Match {
                rule,
                detection: (rule.detect_projected)(known, root),
            });
        }
        Ok(LineEvaluation {
            log_type: known,
            known_log_type,
            evaluation,
            event_time: (first.event_time_projected)(known, root),
        })
    }

    /// Runs the matchers of the event's log type on its projection: the
    /// rule set's name for the log type (when a rule reads it), the rules
    /// that matched, and an evaluation holding the rules that raised.
    #[allow(clippy::type_complexity)]
    fn match_projected(
        &self,
        root: Projected<'_>,
    ) -> Result<(Option<&'static str>, Vec<&'static CompiledRule>, Evaluation), EventError> {
        if root.kind() != Kind::Object {
            return Err(EventError::NotAnObject(kind_name_of(root.kind())));
        }
        let log_type = root
            .get(P_LOG_TYPE)
            .and_then(Node::as_str)
            .ok_or(EventError::NoLogType)?;
        let Some(at) = self.log_type_index(log_type) else {
            return Ok((None, Vec::new(), Evaluation::default()));
        };
        let (name, rules) = &self.by_log_type[at];
        let plan = &self.guard_plans[at];
        let mut probes = Probes::new();
        let mut matched = Vec::new();
        let mut evaluation = Evaluation::default();
        for (index, rule) in rules.iter().enumerate() {
            // Its guards answer for its leading conditions; the rest of the
            // rule for the others.
            let result = match plan.decide(index, root, &mut probes) {
                Decision::NoMatch => continue,
                Decision::Raises => Err(()),
                Decision::Rest(rest) => rest(root).map_err(drop),
                Decision::Whole => (rule.matches_projected)(log_type, root).map_err(drop),
            };
            match result {
                Ok(true) => matched.push(*rule),
                Ok(false) => {}
                Err(_) => evaluation.errors.push(*rule),
            }
        }
        Ok((Some(*name), matched, evaluation))
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[&'static CompiledRule] {
        &self.rules
    }

    /// The rules that read events of `log_type`.
    pub fn rules_for(&self, log_type: &str) -> &[&'static CompiledRule] {
        self.log_type_entry(log_type)
            .map_or(&[], |(_, rules)| rules.as_slice())
    }

    /// Evaluates an event as `log_type`: every rule of that log type, and the
    /// outputs of those that match.
    pub fn evaluate_as(&self, log_type: &str, event: &Value) -> Evaluation {
        let mut evaluation = Evaluation::default();
        for rule in self.rules_for(log_type) {
            match (rule.matches)(log_type, event) {
                Ok(true) => evaluation.matches.push(Match {
                    rule,
                    detection: rule.detect(log_type, event),
                }),
                Ok(false) => {}
                Err(_) => evaluation.errors.push(rule),
            }
        }
        evaluation
    }

    /// Evaluates an event as the log type its `p_log_type` names.
    pub fn evaluate(&self, event: &Value) -> Result<Evaluation, EventError> {
        let log_type = log_type_of(event)?;
        Ok(self.evaluate_as(log_type, event))
    }

    /// Parses an event from bytes (one NDJSON line) and evaluates it.
    pub fn evaluate_bytes(&self, bytes: &[u8]) -> Result<(Value, Evaluation), EventError> {
        let event = parse_event(bytes)?;
        let evaluation = self.evaluate(&event)?;
        Ok((event, evaluation))
    }
}

/// The alerting engine over a stream of events: evaluates each event and
/// feeds its matches, at the event's time, to an [`AlertEngine`].
///
/// An event without an event time (no `p_event_time`, no data-model
/// `EventTime` field) is placed at the latest event time seen so far (the
/// Unix epoch before any), and counted in [`AlertStream::untimed`].
#[derive(Debug)]
pub struct AlertStream {
    detector: Detector,
    engine: AlertEngine,
    latest: Option<Timestamp>,
    untimed: u64,
}

impl AlertStream {
    /// A stream over a detector's rules.
    pub fn new(detector: Detector) -> AlertStream {
        AlertStream {
            detector,
            engine: AlertEngine::new(),
            latest: None,
            untimed: 0,
        }
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Matched events that had no event time.
    pub fn untimed(&self) -> u64 {
        self.untimed
    }

    /// Dedup windows open now (bounded: expired ones are closed as event
    /// time moves on).
    pub fn open_windows(&self) -> usize {
        self.engine.open_windows()
    }

    /// Feeds an already evaluated event; alerts whose windows close are passed
    /// to `emit`.
    pub fn observe(
        &mut self,
        log_type: &str,
        event: &Value,
        evaluation: &Evaluation,
        emit: &mut impl FnMut(Alert),
    ) {
        let Some(first) = evaluation.matches.first() else {
            return;
        };
        // The event time is the log type's, the same for every rule.
        self.observe_at((first.rule.event_time)(log_type, event), evaluation, emit);
    }

    /// [`AlertStream::observe`] for an event whose time was read already
    /// (the fast path's [`LineEvaluation::event_time`]).
    pub fn observe_at(
        &mut self,
        event_time: Option<Timestamp>,
        evaluation: &Evaluation,
        emit: &mut impl FnMut(Alert),
    ) {
        if evaluation.matches.is_empty() {
            return;
        }
        let time = match event_time {
            Some(time) => time,
            None => {
                self.untimed += 1;
                self.latest.unwrap_or(Timestamp::UNIX_EPOCH)
            }
        };
        self.latest = Some(self.latest.map_or(time, |l| l.max(time)));
        for m in &evaluation.matches {
            self.engine
                .observe(m.rule.meta, time, m.detection.clone(), emit);
        }
    }

    /// Evaluates one event and feeds its matches; returns the evaluation.
    pub fn push(
        &mut self,
        event: &Value,
        emit: &mut impl FnMut(Alert),
    ) -> Result<Evaluation, EventError> {
        let log_type = log_type_of(event)?;
        let evaluation = self.detector.evaluate_as(log_type, event);
        self.observe(log_type, event, &evaluation, emit);
        Ok(evaluation)
    }

    /// Ends the stream: emits the alerts still open.
    pub fn finish(self, emit: &mut impl FnMut(Alert)) {
        self.engine.finish(emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(
            parse_event(b"\xff{}"),
            Err(EventError::NotUtf8 { offset: 0 })
        );
        assert!(matches!(parse_event(b"{"), Err(EventError::NotJson(_))));
        assert_eq!(
            parse_event(b"[1]"),
            Err(EventError::NotAnObject("an array"))
        );
        assert!(parse_event(br#"{"a":1}"#).is_ok());
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_event(deep.as_bytes()),
            Err(EventError::NotJson(_))
        ));
    }

    #[test]
    fn event_text_agrees_with_std_on_every_cut() {
        // A long ASCII run (the SIMD path's blocks), then multi-byte text,
        // cut at every length: valid prefixes pass, cut characters fail at
        // the offset `std` names.
        let mut text = "a".repeat(70);
        text.push_str("é€😀\"\\ z");
        let bytes = text.as_bytes();
        for end in 0..=bytes.len() {
            let cut = &bytes[..end];
            let expected = std::str::from_utf8(cut).map_err(|e| EventError::NotUtf8 {
                offset: e.valid_up_to(),
            });
            assert_eq!(event_text(cut), expected, "cut at {end}");
        }
        let mut bad = bytes.to_vec();
        bad[40] = 0xff;
        assert_eq!(event_text(&bad), Err(EventError::NotUtf8 { offset: 40 }));
    }

    #[test]
    fn log_type_must_be_a_string() {
        let event = serde_json::json!({"p_log_type": 3});
        assert_eq!(log_type_of(&event), Err(EventError::NoLogType));
        let detector = Detector::new([]);
        assert_eq!(
            detector
                .evaluate(&serde_json::json!({}))
                .map(|e| e.matches.len()),
            Err(EventError::NoLogType)
        );
    }
}
