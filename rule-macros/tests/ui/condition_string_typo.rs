// The root is tests/ui/fixtures as seen from trybuild's project directory (see ../compile_fail.rs).
rule_macros::rule!("condition_string_typo.yml", root = "../../../../rule-macros/tests/ui/fixtures");

fn main() {}
