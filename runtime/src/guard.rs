//! Guards: a rule's leading conditions, as data the engine tests before it
//! calls the rule.
//!
//! Most rules start with a test of a field against constants (`verb` is
//! `create`, `resource` is `pods`) or with a predicate many rules share.
//! The code generator describes these leading conditions as [`Guard`]s: a
//! reader, a key naming what the reader computes, and the test. A
//! [`crate::Detector`] reads each field or shared condition once per event
//! for every rule that tests it ([`GuardPlan`]) and calls a rule only when
//! its guards do not rule it out. A rule's matcher evaluates
//! its conditions in order and stops at the first false one, so a guard that
//! reads its field without error and fails says the rule does not match,
//! exactly: the matcher would have stopped there. A read that raises, or a
//! test the guard cannot decide, leaves the decision to the matcher.

use crate::error::RuleError;
use crate::node::{Kind, Node};
use crate::projection::Projected;
use crate::val::Val;

/// What a guard's reader found in its field, against the constants the
/// engine's guards on that field test (its *literals*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A string equal to the literal at this index.
    Literal(u8),
    /// A string equal to none of the literals.
    OtherText,
    /// A list: `IsIn` tests its elements, which the guard leaves to the rule.
    List,
    /// Anything else: missing, null, a number, a boolean or an object.
    NotText,
    /// A condition's reader: whether it holds.
    Holds(bool),
}

/// What [`Probe`] the value gives: the string tests of [`crate::ops::eq_str`]
/// and [`crate::ops::in_strs`] read a value the same way (`Val::as_str`,
/// then `Val::items` for a list).
pub fn probe<'a, N: Node<'a>>(value: &Val<'a, N>, literals: &[&str]) -> Probe {
    if let Some(text) = value.as_str() {
        return match literals.iter().position(|literal| *literal == text) {
            Some(index) => u8::try_from(index).map_or(Probe::OtherText, Probe::Literal),
            None => Probe::OtherText,
        };
    }
    let list = match value {
        Val::Node(node) => node.kind() == Kind::Array,
        Val::List(_) => true,
        Val::Json(json) => json.is_array(),
        Val::Missing | Val::Str(_) => false,
    };
    if list {
        Probe::List
    } else {
        Probe::NotText
    }
}

/// Reads a guard's field from the fast path's parse of an event, as the
/// rule's matcher reads it, and probes it against `literals`; or evaluates
/// a guard's condition, as the matcher does.
pub type GuardRead = fn(Projected<'_>, &[&'static str]) -> Result<Probe, RuleError>;

/// How a guard tests its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardTest {
    /// `Equals` a string ([`crate::ops::eq_str`]).
    Equals(&'static str),
    /// `IsIn` a list of strings ([`crate::ops::in_strs`]; a list value is
    /// left to the rule).
    IsIn(&'static [&'static str]),
    /// A condition that is true whenever the field can be read (Panther's
    /// "read the username first": `Exists` or `DoesNotExist`).
    Reads,
    /// The condition the reader evaluates holds.
    Holds,
}

impl GuardTest {
    /// The constants the test compares with.
    pub fn literals(&self) -> &[&'static str] {
        match self {
            GuardTest::Equals(literal) => std::slice::from_ref(literal),
            GuardTest::IsIn(literals) => literals,
            GuardTest::Reads | GuardTest::Holds => &[],
        }
    }
}

/// One leading condition of a rule, for one of its log types.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// The log type.
    pub log_type: &'static str,
    /// Names what `read` computes: two guards of a log type with the same
    /// key read the same value (a digest of the reader's generated code).
    pub key: u64,
    /// The field's reader.
    pub read: GuardRead,
    /// The test.
    pub test: GuardTest,
}

/// A field [`GuardPlan`] reads once per event, and the constants its guards
/// compare it with.
#[derive(Debug, Clone)]
struct Reader {
    key: u64,
    read: GuardRead,
    literals: Vec<&'static str>,
}

/// One guard of a planned rule: which reader, and which of its literals
/// pass.
#[derive(Debug, Clone, Copy)]
struct Check {
    reader: u8,
    /// A bit per literal of the reader that passes the test.
    passing: u64,
    /// Whether a list value leaves the decision to the rule (`IsIn`).
    list_decides_nothing: bool,
    /// Whether any value read without error passes (`Reads`).
    reading_passes: bool,
    /// Whether the condition must hold (`Holds`).
    holds: bool,
}

/// The most fields one log type's guards read; guards on further fields
/// are left out (their rules are called).
pub const MAX_READERS: usize = 64;

/// The most constants one field's guards compare it with (a bit each).
const MAX_LITERALS: usize = 64;

/// What an event's field gave, once read: [`Probe`] in a byte.
const UNREAD: u8 = 0;
const FAILED: u8 = 1;
const LIST: u8 = 2;
const NOT_TEXT: u8 = 3;
const OTHER_TEXT: u8 = 4;
const FALSE: u8 = 5;
const TRUE: u8 = 6;
const LITERAL_0: u8 = 7;

/// The guards of the rules of one log type, planned together: each field
/// read at most once per event.
#[derive(Debug, Clone, Default)]
pub struct GuardPlan {
    readers: Vec<Reader>,
    /// Each rule's checks, in the rule's order, in the order of the rules.
    checks: Vec<Box<[Check]>>,
}

/// The fields an event's guards read so far ([`GuardPlan::admits`]).
#[derive(Debug, Clone)]
pub struct Probes([u8; MAX_READERS]);

impl Probes {
    /// Nothing read yet.
    pub fn new() -> Probes {
        Probes([UNREAD; MAX_READERS])
    }
}

impl Default for Probes {
    fn default() -> Self {
        Probes::new()
    }
}

impl GuardPlan {
    /// The plan for `log_type` over each rule's guards, in order.
    pub fn new<'g>(log_type: &str, rules: impl IntoIterator<Item = &'g [Guard]>) -> GuardPlan {
        let rules: Vec<Vec<&Guard>> = rules
            .into_iter()
            .map(|guards| {
                guards
                    .iter()
                    .filter(|guard| guard.log_type == log_type)
                    .collect()
            })
            .collect();
        // A condition only one rule tests costs that rule twice when it
        // holds, once as a guard and once in the matcher, and saves nothing
        // when it does not: it is left to the rule.
        let planned = |guard: &Guard| {
            guard.test != GuardTest::Holds
                || rules
                    .iter()
                    .filter(|guards| guards.iter().any(|g| g.key == guard.key))
                    .nth(1)
                    .is_some()
        };
        // A rule's guards stop at its first one left out: the conditions
        // after it only count when it is true.
        let chains: Vec<Vec<&Guard>> = rules
            .iter()
            .map(|guards| guards.iter().copied().take_while(|g| planned(g)).collect())
            .collect();
        // First every reader and its literals, then each check's bits.
        let mut readers: Vec<Reader> = Vec::new();
        for guard in chains.iter().flatten() {
            let at = match readers.iter().position(|reader| reader.key == guard.key) {
                Some(at) => at,
                None if readers.len() < MAX_READERS => {
                    readers.push(Reader {
                        key: guard.key,
                        read: guard.read,
                        literals: Vec::new(),
                    });
                    readers.len() - 1
                }
                None => continue,
            };
            for literal in guard.test.literals() {
                if !readers[at].literals.contains(literal) {
                    readers[at].literals.push(literal);
                }
            }
        }
        let checks = chains
            .iter()
            .map(|guards| {
                guards
                    .iter()
                    .map_while(|guard| {
                        let at = readers.iter().position(|reader| reader.key == guard.key)?;
                        let reader = &readers[at];
                        if reader.literals.len() > MAX_LITERALS {
                            return None;
                        }
                        let passing = guard.test.literals().iter().fold(0u64, |bits, literal| {
                            let index = reader.literals.iter().position(|l| l == literal);
                            index.map_or(bits, |index| bits | 1 << index)
                        });
                        Some(Check {
                            reader: u8::try_from(at).ok()?,
                            passing,
                            list_decides_nothing: matches!(guard.test, GuardTest::IsIn(_)),
                            reading_passes: guard.test == GuardTest::Reads,
                            holds: guard.test == GuardTest::Holds,
                        })
                    })
                    .collect()
            })
            .collect();
        GuardPlan { readers, checks }
    }

    /// How many distinct fields the plan reads.
    pub fn readers(&self) -> usize {
        self.readers.len()
    }

    /// How many guards the `rule`th rule has in the plan.
    pub fn checks_of(&self, rule: usize) -> usize {
        self.checks.get(rule).map_or(0, |checks| checks.len())
    }

    /// Whether the `rule`th rule may match `event`: `false` only when one of
    /// its guards read its field without error and failed, so the rule's
    /// matcher would give `Ok(false)`. Fields are read once per event, into
    /// `probes`.
    #[inline]
    pub fn admits(&self, rule: usize, event: Projected<'_>, probes: &mut Probes) -> bool {
        let Some(checks) = self.checks.get(rule) else {
            return true;
        };
        for check in checks.iter() {
            let reader = usize::from(check.reader);
            let Some(code) = probes.0.get_mut(reader) else {
                return true;
            };
            if *code == UNREAD {
                *code = self.read(reader, event);
            }
            let passes = match *code {
                FAILED => return true,
                LIST if check.list_decides_nothing => return true,
                _ if check.reading_passes => true,
                TRUE => check.holds,
                LIST | NOT_TEXT | OTHER_TEXT | FALSE => false,
                literal => check.passing >> (literal - LITERAL_0) & 1 == 1,
            };
            if !passes {
                return false;
            }
        }
        true
    }

    /// Reads field `reader` of `event`, as a byte of [`Probes`]: once per
    /// field and event, out of the rules' loop.
    #[inline(never)]
    fn read(&self, reader: usize, event: Projected<'_>) -> u8 {
        let Some(reader) = self.readers.get(reader) else {
            return FAILED;
        };
        match (reader.read)(event, &reader.literals) {
            Err(_) => FAILED,
            Ok(Probe::List) => LIST,
            Ok(Probe::NotText) => NOT_TEXT,
            Ok(Probe::OtherText) => OTHER_TEXT,
            Ok(Probe::Holds(false)) => FALSE,
            Ok(Probe::Holds(true)) => TRUE,
            Ok(Probe::Literal(index)) => match LITERAL_0.checked_add(index) {
                Some(code) if usize::from(index) < MAX_LITERALS => code,
                _ => OTHER_TEXT,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::key_path::KeyPath;
    use crate::projection::{Parsed, Projection};
    use crate::transform::get_path;

    thread_local! {
        static READS: Cell<usize> = const { Cell::new(0) };
    }

    fn read_field(
        event: Projected<'_>,
        path: &KeyPath,
        literals: &[&str],
    ) -> Result<Probe, RuleError> {
        READS.with(|reads| reads.set(reads.get() + 1));
        let value = get_path(event, path);
        if value.as_str() == Some("raise") {
            return Err(RuleError::new("TypeError: planted"));
        }
        Ok(probe(&value, literals))
    }

    fn read_verb(event: Projected<'_>, literals: &[&'static str]) -> Result<Probe, RuleError> {
        static VERB: KeyPath = KeyPath::exact(&["verb"]);
        read_field(event, &VERB, literals)
    }

    fn read_resource(event: Projected<'_>, literals: &[&'static str]) -> Result<Probe, RuleError> {
        static RESOURCE: KeyPath = KeyPath::exact(&["resource"]);
        read_field(event, &RESOURCE, literals)
    }

    /// A condition's reader: the verb is `get` (raising as the field's does).
    fn read_verb_is_get(event: Projected<'_>, _: &[&'static str]) -> Result<Probe, RuleError> {
        let verb = read_verb(event, &["get"])?;
        Ok(Probe::Holds(verb == Probe::Literal(0)))
    }

    fn guard(key: u64, test: GuardTest) -> Guard {
        Guard {
            log_type: "Test",
            key,
            read: match key {
                1 => read_verb,
                3 => read_verb_is_get,
                _ => read_resource,
            },
            test,
        }
    }

    /// Whether each rule is admitted for `line`, and how many reads it took.
    fn admitted(plan: &GuardPlan, rules: usize, line: &str) -> (Vec<bool>, usize) {
        let projection = Projection::new([&["verb"][..], &["resource"][..]]);
        let mut parsed = Parsed::new();
        parsed.parse(line, &projection).expect("valid JSON");
        let root = parsed.root(line);
        let mut probes = Probes::new();
        READS.with(|reads| reads.set(0));
        let admitted = (0..rules)
            .map(|rule| plan.admits(rule, root, &mut probes))
            .collect();
        (admitted, READS.with(Cell::get))
    }

    #[test]
    fn rules_reading_one_field_share_one_read_per_event() {
        let create = [guard(1, GuardTest::Equals("create"))];
        let get = [guard(1, GuardTest::Equals("get"))];
        let reads = [guard(1, GuardTest::IsIn(&["get", "list"]))];
        let other_log_type = [Guard {
            log_type: "Other",
            ..guard(2, GuardTest::Equals("nothing"))
        }];
        let plan = GuardPlan::new(
            "Test",
            [&create[..], &get[..], &reads[..], &other_log_type[..], &[]],
        );
        assert_eq!(plan.readers(), 1);
        assert_eq!(
            (0..5).map(|rule| plan.checks_of(rule)).collect::<Vec<_>>(),
            [1, 1, 1, 0, 0]
        );
        let (admitted, reads) = admitted(&plan, 5, r#"{"verb": "get"}"#);
        assert_eq!(admitted, [false, true, true, true, true]);
        assert_eq!(reads, 1);
    }

    #[test]
    fn a_guard_rules_out_only_what_its_test_would_answer_false() {
        let equals = [guard(1, GuardTest::Equals("get"))];
        let is_in = [guard(1, GuardTest::IsIn(&["get", "list"]))];
        let reads = [guard(1, GuardTest::Reads)];
        let holds = [guard(3, GuardTest::Holds)];
        let plan = GuardPlan::new(
            "Test",
            [&equals[..], &is_in[..], &reads[..], &holds[..], &holds[..]],
        );
        for (line, expected) in [
            (r#"{"verb": "get"}"#, [true, true, true, true, true]),
            (r#"{"verb": "list"}"#, [false, true, true, false, false]),
            (r#"{"verb": "watch"}"#, [false, false, true, false, false]),
            // `eq_str` is false for a list, `in_strs` looks inside it.
            (r#"{"verb": ["get"]}"#, [false, true, true, false, false]),
            (r#"{"verb": 3}"#, [false, false, true, false, false]),
            (
                r#"{"verb": {"get": 1}}"#,
                [false, false, true, false, false],
            ),
            (r#"{}"#, [false, false, true, false, false]),
            // A read that raises leaves the rule to raise.
            (r#"{"verb": "raise"}"#, [true, true, true, true, true]),
        ] {
            assert_eq!(admitted(&plan, 5, line).0, expected, "{line}");
        }
    }

    #[test]
    fn a_condition_only_one_rule_tests_is_left_to_the_rule() {
        let holds_then_equals = [
            guard(3, GuardTest::Holds),
            guard(1, GuardTest::Equals("get")),
        ];
        let plan = GuardPlan::new("Test", [&holds_then_equals[..]]);
        assert_eq!((plan.readers(), plan.checks_of(0)), (0, 0));
        assert_eq!(admitted(&plan, 1, r#"{"verb": "list"}"#), (vec![true], 0));
    }

    #[test]
    fn a_rule_is_ruled_out_by_any_of_its_guards_in_order() {
        let chain = [
            guard(1, GuardTest::Equals("create")),
            guard(2, GuardTest::Equals("pods")),
        ];
        let plan = GuardPlan::new("Test", [&chain[..]]);
        assert_eq!(plan.readers(), 2);
        for (line, expected, reads) in [
            (r#"{"verb": "create", "resource": "pods"}"#, true, 2),
            (r#"{"verb": "create", "resource": "secrets"}"#, false, 2),
            // The first guard fails: the second field is not read.
            (r#"{"verb": "get", "resource": "raise"}"#, false, 1),
            (r#"{"verb": "create", "resource": "raise"}"#, true, 2),
        ] {
            assert_eq!(admitted(&plan, 1, line), (vec![expected], reads), "{line}");
        }
    }

    #[test]
    fn guards_past_the_reader_limit_are_left_to_the_rule() {
        let guards: Vec<Guard> = (0..=MAX_READERS as u64)
            .map(|key| Guard {
                key: key + 10,
                ..guard(2, GuardTest::Equals("never"))
            })
            .collect();
        let rules: Vec<&[Guard]> = guards.iter().map(std::slice::from_ref).collect();
        let plan = GuardPlan::new("Test", rules.iter().copied());
        assert_eq!(plan.readers(), MAX_READERS);
        assert_eq!(plan.checks_of(0), 1);
        assert_eq!(plan.checks_of(MAX_READERS), 0);
        let (admitted, _) = admitted(&plan, MAX_READERS + 1, r#"{"resource": "pods"}"#);
        assert!(admitted[..MAX_READERS].iter().all(|a| !a));
        assert!(admitted[MAX_READERS]);
    }

    #[test]
    fn probes_name_the_literal_a_string_equals() {
        let literals = ["create", "get"];
        let text: Val<'_, &serde_json::Value> = Val::Str("get".into());
        assert_eq!(probe(&text, &literals), Probe::Literal(1));
        let other: Val<'_, &serde_json::Value> = Val::Str("patch".into());
        assert_eq!(probe(&other, &literals), Probe::OtherText);
        let json = serde_json::json!(["get"]);
        assert_eq!(probe(&Val::Node(&json), &literals), Probe::List);
        let missing: Val<'_, &serde_json::Value> = Val::Missing;
        assert_eq!(probe(&missing, &literals), Probe::NotText);
    }
}
