//! Compile-fail tests of `rule!`: each `tests/ui/*.rs` compiles one malformed
//! rule from `tests/ui/fixtures/` and its `.stderr` is the expected
//! diagnostic (`file:line:col: error: ...` and `= help: ...`).
//!
//! The fixtures are a self-contained rules root (`data_models/`,
//! `predicates/` and the rule files), so these tests do not change when the
//! real rules under `rules/` do.
//!
//! trybuild compiles each case as a binary of a generated package in
//! `<target dir>/tests/trybuild/rule-macros/`, so the cases'
//! `CARGO_MANIFEST_DIR` is that directory, not this crate's. The cases reach
//! the fixtures with `root = "../../../../rule-macros/tests/ui/fixtures"`,
//! which holds when the target dir is the workspace's `target/`; the test pins
//! trybuild's target dir there so a `CARGO_TARGET_DIR` or `build.target-dir`
//! set elsewhere does not break the relative path.
//!
//! Regenerate the expectations with
//! `TRYBUILD=overwrite cargo test -p rule-macros --test compile_fail`.

#[test]
fn compile_fail() {
    let workspace_target = concat!(env!("CARGO_MANIFEST_DIR"), "/../target");
    std::env::set_var("CARGO_TARGET_DIR", workspace_target);
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
