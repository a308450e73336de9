// The root is tests/ui/fixtures as seen from trybuild's project directory (see ../compile_fail.rs).
rule_macros::rule!("regex_lookaround.yml", root = "../../../../rule-macros/tests/ui/fixtures");

fn main() {}
