//! Guards: a rule's leading conditions, as data the engine tests before it
//! calls the rest of the rule.
//!
//! Most rules start with a test of a field against constants (`verb` is
//! `create`, `resource` is `pods`) or with a predicate many rules share.
//! The code generator describes these leading conditions, per log type, as
//! [`Guard`]s (a reader, a key naming what the reader computes, and the
//! test) and compiles the conditions after them into a matcher of their own
//! ([`LogTypeGuards::rest`]). A [`crate::Detector`] reads each field or
//! condition once per event for every rule that tests it ([`GuardPlan`]),
//! answers each guard exactly as the rule's condition would (true, false, or
//! raising), and calls the rest of a rule only when every guard was true. A
//! rule's conditions are evaluated in order and stop at the first false or
//! raising one, so this gives what the whole matcher gives.

use crate::error::RuleError;
use crate::node::Node;
use crate::projection::Projected;
use crate::val::Val;

/// What a guard's reader found, against the constants the engine's guards
/// on that field test (its *literals*, at most [`MAX_LITERALS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A string equal to the literal at this index.
    Literal(u8),
    /// A string equal to none of the literals.
    OtherText,
    /// A list: a bit per literal that is among its elements (or among the
    /// elements of a list in it, as [`crate::ops::in_strs`] looks).
    List(u64),
    /// Anything else: missing, null, a number, a boolean or an object.
    NotText,
    /// A condition's reader: whether it holds.
    Holds(bool),
}

/// What [`Probe`] the value gives: [`crate::ops::eq_str`] and
/// [`crate::ops::in_strs`] read a value the same way (`Val::as_str`, then
/// `Val::items` for a list).
pub fn probe<'a, N: Node<'a>>(value: &Val<'a, N>, literals: &[&str]) -> Probe {
    if let Some(text) = value.as_str() {
        return match literal_index(text, literals) {
            Some(index) => Probe::Literal(index),
            None => Probe::OtherText,
        };
    }
    match list_literals(value, literals) {
        Some(bits) => Probe::List(bits),
        None => Probe::NotText,
    }
}

/// The index of the literal `text` equals, if any (literals past the 64th
/// have none).
fn literal_index(text: &str, literals: &[&str]) -> Option<u8> {
    let index = literals.iter().position(|literal| *literal == text)?;
    if index < MAX_LITERALS {
        u8::try_from(index).ok()
    } else {
        None
    }
}

/// For a list, the literals among its elements, a bit each, looking into
/// lists in it as [`crate::ops::in_strs`] does; `None` for anything else.
fn list_literals<'a, N: Node<'a>>(value: &Val<'a, N>, literals: &[&str]) -> Option<u64> {
    let items = value.items()?;
    Some(items.iter().fold(0, |bits, item| {
        bits | match item.as_str() {
            Some(text) => literal_index(text, literals).map_or(0, |index| 1 << index),
            None => list_literals(item, literals).unwrap_or(0),
        }
    }))
}

/// Reads a guard's field from the fast path's parse of an event, as the
/// rule's matcher reads it, and probes it against `literals`; or evaluates
/// a guard's condition, as the matcher does.
pub type GuardRead = fn(Projected<'_>, &[&'static str]) -> Result<Probe, RuleError>;

/// How a guard tests what its reader found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardTest {
    /// `Equals` a string ([`crate::ops::eq_str`]: false for a list).
    Equals(&'static str),
    /// `IsIn` a list of at most [`MAX_LITERALS`] strings
    /// ([`crate::ops::in_strs`]: a list is in it when one of its elements
    /// is; the code generator makes a longer list a `Holds` guard).
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

/// One leading condition of a rule.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// Names what `read` computes: two guards of a log type with the same
    /// key read the same value (a digest of the reader's generated code).
    pub key: u64,
    /// The reader.
    pub read: GuardRead,
    /// The test.
    pub test: GuardTest,
}

/// A rule's guards for one of its log types, and the matcher of its
/// conditions after them.
#[derive(Debug, Clone, Copy)]
pub struct LogTypeGuards {
    /// The log type.
    pub log_type: &'static str,
    /// The leading conditions, in order.
    pub guards: &'static [Guard],
    /// The conditions after them: with the guards all true, the rule's
    /// matcher gives what this gives.
    pub rest: fn(Projected<'_>) -> Result<bool, RuleError>,
}

impl LogTypeGuards {
    /// The rule's matcher for this log type over the fast path's parse: its
    /// guards read one by one, each against its own constants, then the
    /// rest ([`GuardPlan`] reads each field once for many rules instead).
    pub fn matches(&self, event: Projected<'_>) -> Result<bool, RuleError> {
        for guard in self.guards {
            let literals = guard.test.literals();
            let passes = match (guard.test, (guard.read)(event, literals)?) {
                (GuardTest::Reads, _) => true,
                (GuardTest::Holds, Probe::Holds(holds)) => holds,
                // The test's own constants: any of them passes.
                (GuardTest::Equals(_) | GuardTest::IsIn(_), Probe::Literal(_)) => true,
                (GuardTest::IsIn(_), Probe::List(bits)) => bits != 0,
                _ => false,
            };
            if !passes {
                return Ok(false);
            }
        }
        (self.rest)(event)
    }
}

/// What the fast path does with a rule for an event ([`GuardPlan::decide`]).
#[derive(Debug, Clone, Copy)]
pub enum Decision {
    /// A guard was false: the rule does not match.
    NoMatch,
    /// A guard raised: so does the rule.
    Raises,
    /// Every guard was true: the rest of the rule decides.
    Rest(fn(Projected<'_>) -> Result<bool, RuleError>),
    /// The rule has no guards planned: its whole matcher decides.
    Whole,
}

/// A field or condition [`GuardPlan`] reads once per event, and the
/// constants its guards compare it with.
#[derive(Debug, Clone)]
struct Reader {
    key: u64,
    read: GuardRead,
    literals: Vec<&'static str>,
}

/// One guard of a planned rule: which reader, and how to test it.
#[derive(Debug, Clone, Copy)]
struct Check {
    reader: u8,
    /// A bit per literal of the reader that passes (`Equals`, `IsIn`).
    passing: u64,
    test: CheckTest,
}

/// [`GuardTest`] without its constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckTest {
    Equals,
    IsIn,
    Reads,
    Holds,
}

/// A rule whose guards are all planned.
#[derive(Debug, Clone)]
struct PlannedRule {
    checks: Box<[Check]>,
    rest: fn(Projected<'_>) -> Result<bool, RuleError>,
}

/// The most fields and conditions one log type's guards read; a rule with
/// guards past it is matched whole.
pub const MAX_READERS: usize = 64;

/// The most constants one field's guards compare it with (a bit each); a
/// rule with guards on a field past it is matched whole.
pub const MAX_LITERALS: usize = 64;

/// The guards of the rules of one log type, planned together: each field
/// or condition read at most once per event.
#[derive(Debug, Clone, Default)]
pub struct GuardPlan {
    readers: Vec<Reader>,
    /// Each rule's plan, in the order of the rules (`None`: matched whole).
    rules: Vec<Option<PlannedRule>>,
}

/// What an event's readers gave so far ([`GuardPlan::decide`]): a byte per
/// reader, so that a fresh set costs a few stores per event.
#[derive(Debug, Clone)]
pub struct Probes([u8; MAX_READERS]);

/// [`Probes`]' bytes: not read yet, raised, each [`Probe`] but a literal's,
/// then `LITERAL_0 + index` for [`Probe::Literal`]. A list's bits are read
/// again when a test needs them (lists are rare where guards look).
const UNREAD: u8 = 0;
const RAISED: u8 = 1;
const OTHER_TEXT: u8 = 2;
const NOT_TEXT: u8 = 3;
const FALSE: u8 = 4;
const TRUE: u8 = 5;
const LIST: u8 = 6;
const LITERAL_0: u8 = 7;

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
    /// The plan for `log_type` over each rule's guards (the rules' lists of
    /// [`LogTypeGuards`], in order).
    pub fn new<'g>(
        log_type: &str,
        rules: impl IntoIterator<Item = &'g [LogTypeGuards]>,
    ) -> GuardPlan {
        let rules: Vec<&[LogTypeGuards]> = rules.into_iter().collect();
        if rules.len() < 2 {
            // Nothing to share: one rule's own matcher answers its leading
            // conditions as fast, without the plan's calls.
            return GuardPlan {
                readers: Vec::new(),
                rules: vec![None; rules.len()],
            };
        }
        let mut readers: Vec<Reader> = Vec::new();
        let rules = rules
            .into_iter()
            .map(|per_log_type| {
                let own = per_log_type
                    .iter()
                    .find(|guards| guards.log_type == log_type)?;
                let mut planned = readers.clone();
                let checks = own
                    .guards
                    .iter()
                    .map(|guard| plan_check(&mut planned, guard))
                    .collect::<Option<Box<[Check]>>>()?;
                readers = planned;
                Some(PlannedRule {
                    checks,
                    rest: own.rest,
                })
            })
            .collect::<Vec<_>>();
        // Literals added after a rule was planned move no earlier bit.
        GuardPlan { readers, rules }
    }

    /// How many distinct fields and conditions the plan reads.
    pub fn readers(&self) -> usize {
        self.readers.len()
    }

    /// How many guards the `rule`th rule has in the plan (none: it is
    /// matched whole).
    pub fn checks_of(&self, rule: usize) -> usize {
        self.rules
            .get(rule)
            .and_then(Option::as_ref)
            .map_or(0, |planned| planned.checks.len())
    }

    /// What to do with the `rule`th rule for `event`, its guards read once
    /// per event into `probes`.
    #[inline]
    pub fn decide(&self, rule: usize, event: Projected<'_>, probes: &mut Probes) -> Decision {
        let Some(Some(planned)) = self.rules.get(rule) else {
            return Decision::Whole;
        };
        for check in planned.checks.iter() {
            let reader = usize::from(check.reader);
            let Some(code) = probes.0.get_mut(reader) else {
                return Decision::Whole;
            };
            if *code == UNREAD {
                *code = match self.read(reader, event) {
                    Err(()) => RAISED,
                    Ok(Probe::OtherText) => OTHER_TEXT,
                    Ok(Probe::NotText) => NOT_TEXT,
                    Ok(Probe::Holds(false)) => FALSE,
                    Ok(Probe::Holds(true)) => TRUE,
                    Ok(Probe::List(_)) => LIST,
                    Ok(Probe::Literal(index)) => LITERAL_0.saturating_add(index),
                };
            }
            let passes = match (check.test, *code) {
                (_, RAISED) => return Decision::Raises,
                (CheckTest::Reads, _) => true,
                (CheckTest::Holds, code) => code == TRUE,
                (CheckTest::IsIn, LIST) => match self.read(reader, event) {
                    Ok(Probe::List(bits)) => check.passing & bits != 0,
                    // Read again, as the rule would have read it once.
                    _ => return Decision::Whole,
                },
                (CheckTest::Equals | CheckTest::IsIn, code) if code >= LITERAL_0 => check
                    .passing
                    .checked_shr(u32::from(code - LITERAL_0))
                    .is_some_and(|bits| bits & 1 == 1),
                _ => false,
            };
            if !passes {
                return Decision::NoMatch;
            }
        }
        Decision::Rest(planned.rest)
    }

    /// Reads field or condition `reader` of `event`: once per event, out of
    /// the rules' loop.
    #[inline(never)]
    fn read(&self, reader: usize, event: Projected<'_>) -> Result<Probe, ()> {
        let reader = self.readers.get(reader).ok_or(())?;
        (reader.read)(event, &reader.literals).map_err(drop)
    }
}

/// Plans one guard against `readers` (adding its reader or literals):
/// `None` past [`MAX_READERS`] or [`MAX_LITERALS`].
fn plan_check(readers: &mut Vec<Reader>, guard: &Guard) -> Option<Check> {
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
        None => return None,
    };
    let reader = readers.get_mut(at)?;
    let mut passing = 0u64;
    for literal in guard.test.literals() {
        let index = match reader.literals.iter().position(|l| l == literal) {
            Some(index) => index,
            None => {
                reader.literals.push(literal);
                reader.literals.len() - 1
            }
        };
        if index >= MAX_LITERALS {
            return None;
        }
        passing |= 1 << index;
    }
    let test = match guard.test {
        GuardTest::Equals(_) => CheckTest::Equals,
        GuardTest::IsIn(_) => CheckTest::IsIn,
        GuardTest::Reads => CheckTest::Reads,
        GuardTest::Holds => CheckTest::Holds,
    };
    Some(Check {
        reader: u8::try_from(at).ok()?,
        passing,
        test,
    })
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
            key,
            read: match key {
                1 => read_verb,
                3 => read_verb_is_get,
                _ => read_resource,
            },
            test,
        }
    }

    fn rest(_: Projected<'_>) -> Result<bool, RuleError> {
        Ok(true)
    }

    /// A rule's guards for the log type `Test`, leaked for the plan.
    fn rule(guards: Vec<Guard>) -> &'static [LogTypeGuards] {
        Box::leak(Box::new([LogTypeGuards {
            log_type: "Test",
            guards: Box::leak(guards.into_boxed_slice()),
            rest,
        }]))
    }

    /// The decision for each rule and `line`, and how many reads it took:
    /// `Some(true)` the rest decides, `Some(false)` no match, `None` raises.
    fn decided(plan: &GuardPlan, rules: usize, line: &str) -> (Vec<Option<bool>>, usize) {
        let projection = Projection::new([&["verb"][..], &["resource"][..]]);
        let mut parsed = Parsed::new();
        parsed.parse(line, &projection).expect("valid JSON");
        let root = parsed.root(line);
        let mut probes = Probes::new();
        READS.with(|reads| reads.set(0));
        let decided = (0..rules)
            .map(|rule| match plan.decide(rule, root, &mut probes) {
                Decision::Rest(_) => Some(true),
                Decision::NoMatch => Some(false),
                Decision::Raises => None,
                Decision::Whole => panic!("rule {rule} is matched whole"),
            })
            .collect();
        (decided, READS.with(Cell::get))
    }

    #[test]
    fn rules_reading_one_field_share_one_read_per_event() {
        let other_log_type: &'static [LogTypeGuards] = Box::leak(Box::new([LogTypeGuards {
            log_type: "Other",
            guards: &[],
            rest,
        }]));
        let plan = GuardPlan::new(
            "Test",
            [
                rule(vec![guard(1, GuardTest::Equals("create"))]),
                rule(vec![guard(1, GuardTest::Equals("get"))]),
                rule(vec![guard(1, GuardTest::IsIn(&["get", "list"]))]),
                other_log_type,
                &[],
            ],
        );
        assert_eq!(plan.readers(), 1);
        assert_eq!(
            (0..5).map(|rule| plan.checks_of(rule)).collect::<Vec<_>>(),
            [1, 1, 1, 0, 0]
        );
        let (decided, reads) = decided(&plan, 3, r#"{"verb": "get"}"#);
        assert_eq!(decided, [Some(false), Some(true), Some(true)]);
        assert_eq!(reads, 1);
        let projection = Projection::new([&["verb"][..]]);
        let mut parsed = Parsed::new();
        parsed.parse("{}", &projection).expect("valid JSON");
        for whole in [3, 4] {
            let decision = plan.decide(whole, parsed.root("{}"), &mut Probes::new());
            assert!(matches!(decision, Decision::Whole), "{decision:?}");
        }
    }

    #[test]
    fn a_guard_answers_as_its_condition_would() {
        let plan = GuardPlan::new(
            "Test",
            [
                rule(vec![guard(1, GuardTest::Equals("get"))]),
                rule(vec![guard(1, GuardTest::IsIn(&["get", "list"]))]),
                rule(vec![guard(1, GuardTest::Reads)]),
                rule(vec![guard(3, GuardTest::Holds)]),
            ],
        );
        let (t, f) = (Some(true), Some(false));
        for (line, expected) in [
            (r#"{"verb": "get"}"#, [t, t, t, t]),
            (r#"{"verb": "list"}"#, [f, t, t, f]),
            (r#"{"verb": "watch"}"#, [f, f, t, f]),
            // `eq_str` is false for a list, `in_strs` looks inside it.
            (r#"{"verb": ["watch", ["list"]]}"#, [f, t, t, f]),
            (r#"{"verb": ["watch"]}"#, [f, f, t, f]),
            (r#"{"verb": 3}"#, [f, f, t, f]),
            (r#"{"verb": {"get": 1}}"#, [f, f, t, f]),
            (r#"{}"#, [f, f, t, f]),
            // A read that raises: so does every rule reading it.
            (r#"{"verb": "raise"}"#, [None, None, None, None]),
        ] {
            assert_eq!(decided(&plan, 4, line).0, expected, "{line}");
        }
    }

    #[test]
    fn a_rule_s_own_guards_answer_as_the_plan_does() {
        let rules = [
            rule(vec![guard(1, GuardTest::Equals("get"))]),
            rule(vec![guard(1, GuardTest::IsIn(&["get", "list"]))]),
            rule(vec![guard(1, GuardTest::Reads)]),
            rule(vec![guard(3, GuardTest::Holds)]),
            rule(vec![
                guard(1, GuardTest::IsIn(&["create", "get"])),
                guard(2, GuardTest::Equals("pods")),
            ]),
        ];
        let plan = GuardPlan::new("Test", rules);
        let projection = Projection::new([&["verb"][..], &["resource"][..]]);
        let mut parsed = Parsed::new();
        for line in [
            r#"{"verb": "get", "resource": "pods"}"#,
            r#"{"verb": "list"}"#,
            r#"{"verb": ["watch", ["get"]], "resource": "pods"}"#,
            r#"{"verb": ["watch"]}"#,
            r#"{"verb": 3}"#,
            r#"{"verb": "raise"}"#,
            r#"{"verb": "create", "resource": "raise"}"#,
        ] {
            let (planned, _) = decided(&plan, rules.len(), line);
            parsed.parse(line, &projection).expect("valid JSON");
            let own: Vec<Option<bool>> = rules
                .iter()
                .map(|guards| guards[0].matches(parsed.root(line)).ok())
                .collect();
            assert_eq!(own, planned, "{line}");
        }
    }

    #[test]
    fn a_rule_stops_at_its_first_guard_not_true() {
        let chain = rule(vec![
            guard(1, GuardTest::Equals("create")),
            guard(2, GuardTest::Equals("pods")),
        ]);
        // Alone, the rule's own matcher answers: nothing is shared.
        assert_eq!(GuardPlan::new("Test", [chain]).checks_of(0), 0);
        let plan = GuardPlan::new("Test", [chain, chain]);
        assert_eq!(plan.readers(), 2);
        for (line, expected, reads) in [
            (r#"{"verb": "create", "resource": "pods"}"#, Some(true), 2),
            (
                r#"{"verb": "create", "resource": "secrets"}"#,
                Some(false),
                2,
            ),
            // The first guard is false: the second field is not read.
            (r#"{"verb": "get", "resource": "raise"}"#, Some(false), 1),
            (r#"{"verb": "create", "resource": "raise"}"#, None, 2),
        ] {
            assert_eq!(decided(&plan, 1, line), (vec![expected], reads), "{line}");
        }
    }

    #[test]
    fn rules_past_the_plans_limits_are_matched_whole() {
        let rules: Vec<&'static [LogTypeGuards]> = (0..=MAX_READERS as u64)
            .map(|key| {
                rule(vec![Guard {
                    key: key + 10,
                    ..guard(2, GuardTest::Equals("never"))
                }])
            })
            .collect();
        let many: Vec<&'static str> = (0..=MAX_LITERALS)
            .map(|i| &*Box::leak(format!("literal {i}").into_boxed_str()))
            .collect();
        let plan = GuardPlan::new("Test", rules.iter().copied());
        assert_eq!(plan.readers(), MAX_READERS);
        assert_eq!(plan.checks_of(0), 1);
        assert_eq!(plan.checks_of(MAX_READERS), 0);
        // A field compared with too many constants: that rule is matched
        // whole, and the field keeps only the constants of the others.
        let get = rule(vec![guard(1, GuardTest::Equals("get"))]);
        let too_many = rule(vec![guard(
            1,
            GuardTest::IsIn(Box::leak(many.into_boxed_slice())),
        )]);
        let plan = GuardPlan::new("Test", [get, too_many]);
        assert_eq!((plan.checks_of(0), plan.checks_of(1)), (1, 0));
        assert_eq!(decided(&plan, 1, r#"{"verb": "get"}"#).0, [Some(true)]);
    }

    #[test]
    fn probes_name_the_literal_a_string_equals() {
        let literals = ["create", "get"];
        let text: Val<'_, &serde_json::Value> = Val::Str("get".into());
        assert_eq!(probe(&text, &literals), Probe::Literal(1));
        let other: Val<'_, &serde_json::Value> = Val::Str("patch".into());
        assert_eq!(probe(&other, &literals), Probe::OtherText);
        let json = serde_json::json!(["get", ["create"], "x"]);
        assert_eq!(probe(&Val::Node(&json), &literals), Probe::List(0b11));
        let missing: Val<'_, &serde_json::Value> = Val::Missing;
        assert_eq!(probe(&missing, &literals), Probe::NotText);
    }
}
