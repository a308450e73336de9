//! Hostile rule files (`tests/hostile/`): strings full of Rust syntax, raw
//! string delimiters, comment markers, control and bidi characters, NUL and
//! emoji, and RuleIDs and test names that are keywords, start with digits,
//! are empty after sanitizing, or collide after sanitizing.
//!
//! Each rule compiles, its generated `#[test]`s run (they are part of this
//! test binary), and the checks below show that every string reaches the
//! compiled rule byte for byte and that names are disambiguated
//! deterministically.

use rulec_runtime::serde_json::{self, json};

rule_macros::rule!("strings.yml", root = "tests/hostile");
rule_macros::rule!("names/test_names.yml", root = "tests/hostile");
rule_macros::rule!("names/fn.yml", root = "tests/hostile");
rule_macros::rule!("names/self_lower.yml", root = "tests/hostile");
rule_macros::rule!("names/crate.yml", root = "tests/hostile");
rule_macros::rule!("names/super.yml", root = "tests/hostile");
rule_macros::rule!("names/raw_type.yml", root = "tests/hostile");
rule_macros::rule!("names/digits.yml", root = "tests/hostile");
rule_macros::rule!("names/empty.yml", root = "tests/hostile");

/// `a.b` and `a_b` both give the module `a_b`: in one crate they would
/// clash (the rule set's `cargo xtask regen`/`check` refuses the second
/// file), so each lives in a module of its own here.
mod dot {
    rule_macros::rule!("names/a_dot_b.yml", root = "tests/hostile");
}

/// `Self` gives `self_case` as `self` does: its own module too.
mod upper {
    rule_macros::rule!("names/self_upper.yml", root = "tests/hostile");
}

/// See [`dot`].
mod underscore {
    rule_macros::rule!("names/a_underscore_b.yml", root = "tests/hostile");
}

/// The fixture's log type: a fenced code block in a doc comment would be a
/// doctest of the crate holding the rule.
const LOG_TYPE: &str = "Hostile.Log\"#\n```\nstd::process::exit(1)\n```\n";

/// The hostile text shared by the fixture's strings, as Rust spells it.
const VALUE: &str = "v \"q\" \\ {} */ /* \"# \"## #[cfg(test)] \n \u{202E} \u{2066} \0 🦀";

#[test]
fn metadata_round_trips_byte_for_byte() {
    let meta = &hostile_cfg_any_r::META;
    assert_eq!(
        meta.id,
        "Hostile.*/ /* {} \\ #[cfg(any())] '# r## ## \n\u{202E}\u{2066} 🦀"
    );
    assert_eq!(
        meta.display_name,
        Some("Display \"q\" \\ {} */ /* \"# \"## #[cfg(test)] \n \u{202E} \u{2066} \u{2069} \0 🦀")
    );
    assert_eq!(
        meta.description,
        Some("Desc \"q\" \\ {braces} */ /* \"## #![no_std] \n\u{202E}\0🦀")
    );
    assert_eq!(meta.runbook, Some("Run \"q\" \\ {{x}} */ \"# \r\n\t end"));
    assert_eq!(meta.reference, Some("https://example.com/\"#/*"));
    assert_eq!(meta.tags, ["tag \"# */"]);
    assert_eq!(meta.log_types, [LOG_TYPE]);
    assert_eq!(meta.source_file, "strings.yml");
}

#[test]
fn outputs_round_trip_byte_for_byte() {
    let event = json!({
        "k\"# */ {} \\": VALUE,
        "nested \"#": {"/* x */": "b\\"},
        "re": "\"#\\{}*/ 🦀",
        "user": "u\"#\\",
    });
    let log_type = LOG_TYPE;
    assert_eq!(hostile_cfg_any_r::matches(log_type, &event), Ok(true));
    assert_eq!(
        hostile_cfg_any_r::title(log_type, &event).as_deref(),
        Ok("T \"q\" \\ {} */ /* \"# \"## #[cfg(test)] \n \u{202E} \u{2066} \u{2069} \0 🦀 user=u\"#\\")
    );
    assert_eq!(
        hostile_cfg_any_r::dedup(log_type, &event).as_deref(),
        Ok("D \"## u\"#\\ \u{202E}")
    );
    let context = hostile_cfg_any_r::alert_context(log_type, &event).expect("no error");
    let keys: Vec<&str> = context.keys().collect();
    assert_eq!(keys, ["ctx \"# */ /* {} \\ \n \u{202E} 🦀", "const"]);
    assert_eq!(
        context.get("const"),
        Some(&serde_json::Value::from("c \"## \\ \0"))
    );
    // A value differing only after the hostile prefix does not match.
    let mut other = event.clone();
    other["k\"# */ {} \\"] = json!(format!("{VALUE}x"));
    assert_eq!(hostile_cfg_any_r::matches(log_type, &other), Ok(false));
    // Another log type: the rule does not read it.
    assert_eq!(hostile_cfg_any_r::matches("Hostile.Log", &event), Ok(false));
}

#[test]
fn test_names_get_deterministic_distinct_functions() {
    let names: Vec<&str> = hostile_test_names::TESTS
        .iter()
        .map(|t| t.fn_name)
        .collect();
    assert_eq!(
        names,
        [
            "fn_case",
            "self_case",
            "self_case_2",
            "crate_case",
            "super_case",
            "r_type",
            "type_case",
            "case_1st_case",
            "fn_evil",
            "unnamed",
            "unnamed_2",
            "a_b",
            "a_b_2",
            "a_b_3",
            "a_b_2_2",
            "self_case_3",
            "test_case",
            "tests",
            "rt",
            "super_rule",
            "unnamed_3",
        ]
    );
    // The names themselves are kept exactly.
    assert_eq!(hostile_test_names::TESTS[8].name, "\"); } fn evil() { //");
    assert_eq!(hostile_test_names::TESTS[20].name, "🦀\u{202E}\0");
    // Every generated test exists and passes (also run as `#[test]`s).
    for case in hostile_test_names::TESTS {
        rulec_runtime::testing::run_case(&hostile_test_names::RULE, case.fn_name);
    }
}

#[test]
fn keyword_digit_and_empty_rule_ids_get_valid_modules() {
    let modules = [
        (fn_case::META.id, "fn"),
        (self_case::META.id, "self"),
        (upper::self_case::META.id, "Self"),
        (crate_case::META.id, "crate"),
        (super_case::META.id, "super"),
        (r_type::META.id, "r#type"),
        (
            case_123_starts_with_digits::META.id,
            "123.starts.with.digits",
        ),
        (unnamed::META.id, "!!!"),
        (dot::a_b::META.id, "a.b"),
        (underscore::a_b::META.id, "a_b"),
    ];
    for (got, want) in modules {
        assert_eq!(got, want);
    }
}
