//! Property tests of condition semantics, through the reference interpreter
//! (`interp`, which evaluates with the runtime's `ops`): each rule is
//! compiled from YAML as a rule author writes it, and evaluated on generated
//! events. The properties are those of `docs/rule-format.md`'s condition and
//! null/type tables.

use proptest::prelude::*;
use rulec_compiler::interp;
use rulec_compiler::ir::RuleIr;
use rulec_compiler::predicate::PredicateSet;
use rulec_compiler::rule_file::{parse_rule, Library};
use rulec_compiler::yaml::SourceFile;
use serde_json::{json, Value};

/// Compiles a rule whose `Detection` (or `InlineFilters`) is `expressions`
/// (YAML flow mappings, one per line).
fn rule(key: &str, expressions: &[String]) -> RuleIr {
    let list: String = expressions.iter().map(|e| format!("  - {e}\n")).collect();
    let text = format!(
        "AnalysisType: rule\nRuleID: Prop.Rule\nEnabled: true\nLogTypes: [Prop.Log]\nSeverity: Low\n{key}:\n{list}{}",
        if key == "InlineFilters" { "Detection: [{Condition: AlwaysTrue}]\n" } else { "" }
    );
    let file = SourceFile {
        name: "prop.yml".to_owned(),
        text,
    };
    let predicates = PredicateSet::default();
    let library = Library {
        data_models: &[],
        predicates: &predicates,
    };
    let (rule, diagnostics) = parse_rule(&file, &library);
    match rule {
        Some(rule) => rule,
        None => panic!("{}\n{diagnostics:#?}", file.text),
    }
}

/// Whether `condition` with `value` holds for the event, in `Detection`.
fn holds(event: &Value, expression: String) -> bool {
    holds_in("Detection", event, expression)
}

fn holds_in(key: &str, event: &Value, expression: String) -> bool {
    interp::matches(&rule(key, &[expression]), "Prop.Log", event).unwrap_or(false)
}

/// A YAML literal (JSON is YAML).
fn lit(value: &Value) -> String {
    value.to_string()
}

/// Short strings over an alphabet that makes prefixes, case and Unicode
/// case mapping interesting.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            'a', 'b', 'A', 'B', ' ', '-', 'é', 'É', 'ß', 'Σ', 'σ', '1',
        ]),
        0..6,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// A scalar constant of a condition.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        prop::sample::select(vec![-1.5f64, 0.0, 1.0, 2.5]).prop_map(Value::from),
        text().prop_map(Value::from),
    ]
}

/// A value the event holds under `f`, or `None` when `f` is absent.
fn field_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        scalar().prop_map(Some),
        prop::collection::vec(scalar(), 0..4).prop_map(|v| Some(Value::from(v))),
        text().prop_map(|t| Some(json!({ "k": t }))),
    ]
}

/// A string value for `f` and a constant related to it: unrelated, a
/// prefix, a suffix, a middle part, or the value in other case.
fn string_and_constant() -> impl Strategy<Value = (String, String)> {
    (text(), text(), 0usize..5, 0usize..7, 0usize..7).prop_map(|(value, other, pick, a, b)| {
        let chars: Vec<char> = value.chars().collect();
        let (i, j) = (a.min(b).min(chars.len()), a.max(b).min(chars.len()));
        let constant = match pick {
            0 => other,
            1 => chars[..j].iter().collect(),
            2 => chars[i..].iter().collect(),
            3 => chars[i..j].iter().collect(),
            _ => value.to_uppercase(),
        };
        (value, constant)
    })
}

/// A field value: mostly a string related to the constant, sometimes anything.
fn field_and_text() -> impl Strategy<Value = (Option<Value>, String)> {
    prop_oneof![
        3 => string_and_constant().prop_map(|(v, c)| (Some(Value::from(v)), c)),
        1 => (field_value(), text()),
    ]
}

fn event(value: &Option<Value>) -> Value {
    match value {
        Some(v) => json!({ "f": v, "other": 1 }),
        None => json!({ "other": 1 }),
    }
}

fn test(condition: &str, value: &Value) -> String {
    format!("{{Key: f, Condition: {condition}, Value: {}}}", lit(value))
}

fn python_equal(a: &Value, b: &Value) -> bool {
    // Python `==` on JSON scalars: numbers (and booleans as 0/1) numerically.
    let number = |v: &Value| match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `DoesNotEqual` is the negation of `Equals` in `Detection`, missing keys included.
    #[test]
    fn does_not_equal_negates_equals(value in field_value(), constant in scalar()) {
        let e = event(&value);
        prop_assert_eq!(
            holds(&e, test("DoesNotEqual", &constant)),
            !holds(&e, test("Equals", &constant))
        );
    }

    /// In `InlineFilters` a condition on a missing key passes, positive or
    /// negated; on a present key `DoesNotEqual` is still `not Equals`.
    #[test]
    fn inline_filters_pass_missing_keys(value in field_value(), constant in scalar()) {
        let e = event(&value);
        let equals = holds_in("InlineFilters", &e, test("Equals", &constant));
        let differs = holds_in("InlineFilters", &e, test("DoesNotEqual", &constant));
        if value.is_none() {
            prop_assert!(equals && differs);
        } else {
            prop_assert_eq!(differs, !equals);
        }
    }

    /// `Equals` with a scalar is Python `==`; `Value: null` is `IsNull`
    /// (absent or null), and a missing key equals nothing else.
    #[test]
    fn equals_is_python_equality(value in field_value(), constant in scalar()) {
        let e = event(&value);
        let expected = match (&value, &constant) {
            (None | Some(Value::Null), Value::Null) => true,
            (None, _) => false,
            (Some(v), c) => python_equal(v, c),
        };
        prop_assert_eq!(holds(&e, test("Equals", &constant)), expected);
    }

    /// `IEquals` is `Equals` of the lower-cased strings; non-strings never match.
    #[test]
    fn iequals_is_equals_of_lowercase((value, constant) in field_and_text()) {
        let e = event(&value);
        let expected = match &value {
            Some(Value::String(s)) => s.to_lowercase() == constant.to_lowercase(),
            _ => false,
        };
        prop_assert_eq!(holds(&e, test("IEquals", &Value::from(constant.clone()))), expected);
        prop_assert_eq!(holds(&e, test("IDoesNotEqual", &Value::from(constant))), !expected);
    }

    /// `StartsWith`, `EndsWith` and `Contains` agree with Rust's `str` methods on
    /// strings; `Contains` on a list is membership; other values never match.
    #[test]
    fn string_conditions_agree_with_str((value, constant) in field_and_text()) {
        let e = event(&value);
        let c = Value::from(constant.clone());
        let (starts, ends, contains) = match &value {
            Some(Value::String(s)) => (
                s.starts_with(&constant),
                s.ends_with(&constant),
                s.contains(&constant),
            ),
            Some(Value::Array(items)) => (false, false, items.contains(&c)),
            _ => (false, false, false),
        };
        prop_assert_eq!(holds(&e, test("StartsWith", &c)), starts);
        prop_assert_eq!(holds(&e, test("EndsWith", &c)), ends);
        prop_assert_eq!(holds(&e, test("Contains", &c)), contains);
        prop_assert_eq!(holds(&e, test("DoesNotContain", &c)), !contains);
    }

    /// `IsIn` is `Any` of `Equals`, and `IsNotIn` its negation.
    #[test]
    fn is_in_is_any_equals(
        value in field_value(),
        constants in prop::collection::vec(scalar(), 1..4),
    ) {
        let e = event(&value);
        let values = Value::from(constants.clone()).to_string();
        let any: Vec<String> = constants.iter().map(|c| test("Equals", c)).collect();
        let any_equals = interp::matches(
            &rule("Detection", &[format!("{{Any: [{}]}}", any.join(", "))]),
            "Prop.Log",
            &e,
        )
        .unwrap_or(false);
        let is_in = holds(&e, format!("{{Key: f, Condition: IsIn, Values: {values}}}"));
        let is_not_in = holds(&e, format!("{{Key: f, Condition: IsNotIn, Values: {values}}}"));
        // A list value is in `Values` when one of its elements is.
        let expected = match &value {
            Some(Value::Array(items)) => items
                .iter()
                .any(|item| constants.iter().any(|c| python_equal(item, c))),
            _ => any_equals,
        };
        prop_assert_eq!(is_in, expected);
        prop_assert_eq!(is_not_in, !is_in);
    }

    /// Numeric comparisons: `a > b` exactly when `b < a`, never both `a > b`
    /// and `a < b`, and `>=` is `>` or `==`; non-numbers never compare.
    #[test]
    fn comparisons_are_antisymmetric(a in field_value(), b in field_value()) {
        let mut e = json!({});
        if let Some(a) = &a { e["a"] = a.clone(); }
        if let Some(b) = &b { e["b"] = b.clone(); }
        let pair = |condition: &str, x: &str, y: &str| {
            holds(&e, format!("{{Condition: {condition}, Values: [{{Key: {x}}}, {{Key: {y}}}]}}"))
        };
        let gt = pair("IsGreaterThan", "a", "b");
        let lt = pair("IsLessThan", "a", "b");
        prop_assert_eq!(gt, pair("IsLessThan", "b", "a"));
        prop_assert_eq!(lt, pair("IsGreaterThan", "b", "a"));
        prop_assert!(!(gt && lt));
        let number = |v: &Option<Value>| match v {
            Some(Value::Bool(b)) => Some(f64::from(u8::from(*b))),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        };
        match (number(&a), number(&b)) {
            (Some(x), Some(y)) => {
                prop_assert_eq!(gt, x > y);
                prop_assert_eq!(pair("IsGreaterThanOrEquals", "a", "b"), x >= y);
            }
            _ => {
                prop_assert!(!gt && !lt);
                prop_assert!(!pair("IsGreaterThanOrEquals", "a", "b"));
            }
        }
    }

    /// `None: [x]` is `not x`, and `All` / `Any` are `and` / `or`, on any event.
    #[test]
    fn combinators_are_boolean_logic((value, constant) in field_and_text()) {
        let e = event(&value);
        let x = "{Key: f, Condition: Exists}".to_owned();
        let y = test("StartsWith", &Value::from(constant));
        let (hx, hy) = (holds(&e, x.clone()), holds(&e, y.clone()));
        prop_assert_eq!(holds(&e, format!("{{None: [{x}]}}")), !hx);
        prop_assert_eq!(holds(&e, format!("{{All: [{x}, {y}]}}")), hx && hy);
        prop_assert_eq!(holds(&e, format!("{{Any: [{x}, {y}]}}")), hx || hy);
        prop_assert_eq!(holds(&e, format!("{{OnlyOne: [{x}, {y}]}}")), hx != hy);
    }
}
