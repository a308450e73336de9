//! The test runner `cargo xtask test` builds: runs every rule's tests and
//! prints the report as JSON (a `SuiteRequest` as JSON in the first argument
//! selects rules and tests).

fn main() -> std::process::ExitCode {
    rulec_runtime::testing::suite_main(rulec_rules::RULES)
}
