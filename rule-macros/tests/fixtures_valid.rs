//! The compile-fail fixtures' baseline: a valid rule over the same fixture
//! data model and predicates compiles, so each `tests/ui` case fails only for
//! its own mistake. Also exercises `root = "..."`.

rule_macros::rule!("valid.yml", root = "tests/ui/fixtures");
