// An absolute rule path is refused, even one inside the root.
rule_macros::rule!("/etc/hostname", root = "../../../../rule-macros/tests/ui/fixtures");

fn main() {}
