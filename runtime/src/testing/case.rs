//! The test cases compiled into a rule: static data the generated code emits.

use crate::rule::Severity;

/// One entry of a rule's `Tests` block.
#[derive(Debug, Clone, Copy)]
pub struct TestCase {
    /// `Name`.
    pub name: &'static str,
    /// The generated `#[test]` function's name (snake case of `Name`).
    pub fn_name: &'static str,
    /// What the case runs and expects.
    pub body: TestBody,
}

/// The two kinds of test case.
#[derive(Debug, Clone, Copy)]
pub enum TestBody {
    /// Panther's kind: one event and the expected result.
    Event(EventTest),
    /// rulec's threshold test: a sequence of events and the alerts expected.
    Sequence(SequenceTest),
}

/// One event and what the rule should make of it.
#[derive(Debug, Clone, Copy)]
pub struct EventTest {
    /// `ExpectedResult`.
    pub expected: bool,
    /// The log type the event is evaluated as.
    pub log_type: &'static str,
    /// `Log`, as JSON text.
    pub log_json: &'static str,
    /// rulec's value assertions (only on `ExpectedResult: true` cases).
    pub expect: ValueExpectations,
}

/// `ExpectedTitle`, `ExpectedDedup`, `ExpectedSeverity`, `ExpectedAlertContext`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueExpectations {
    /// The exact title.
    pub title: Option<&'static str>,
    /// The exact dedup string.
    pub dedup: Option<&'static str>,
    /// The severity.
    pub severity: Option<Severity>,
    /// A JSON object whose keys the alert context must hold with these values.
    pub alert_context: Option<&'static str>,
}

impl ValueExpectations {
    /// Whether the case asserts any value.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.dedup.is_none()
            && self.severity.is_none()
            && self.alert_context.is_none()
    }
}

/// A sequence of events run through the alerting engine.
#[derive(Debug, Clone, Copy)]
pub struct SequenceTest {
    /// `Events`, in order.
    pub steps: &'static [SequenceStep],
    /// `ExpectedAlerts`, ordered by their first event's time.
    pub expected_alerts: &'static [ExpectedAlert],
}

/// One entry of `Events`: an event, repeated `repeat` times, `every_millis` apart.
#[derive(Debug, Clone, Copy)]
pub struct SequenceStep {
    /// The log type the event is evaluated as.
    pub log_type: &'static str,
    /// `Log`, as JSON text.
    pub log_json: &'static str,
    /// `Time`: the event time of the first copy; without it, the event's own.
    pub time: Option<&'static str>,
    /// `Repeat` (default 1).
    pub repeat: u32,
    /// `Every`: how far apart the copies are, in milliseconds.
    pub every_millis: u64,
}

/// One entry of `ExpectedAlerts`: each given field must equal the alert's.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExpectedAlert {
    /// `Title`.
    pub title: Option<&'static str>,
    /// `Dedup`.
    pub dedup: Option<&'static str>,
    /// `Severity`.
    pub severity: Option<Severity>,
    /// `EventCount`.
    pub event_count: Option<u64>,
}
