// The root is tests/ui/fixtures as seen from trybuild's project directory (see ../compile_fail.rs).
rule_macros::rule!("template_unknown_field.yml", root = "../../../../rule-macros/tests/ui/fixtures");

fn main() {}
