//! Rust identifiers derived from names in rule files.

/// Rust's keywords, which cannot name a function.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "test", "union",
];

/// The snake_case identifier of a name: `EKS failed secret get (403 Forbidden)`
/// gives `eks_failed_secret_get_403_forbidden`. Always a valid, non-keyword
/// Rust identifier made of ASCII letters, digits and underscores.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            previous_lower = false;
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("unnamed");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "case_");
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push_str("_case");
    }
    out
}

/// Test function names for a list of test names, unique within the list
/// (later duplicates get `_2`, `_3`, ...).
pub fn test_fn_names(names: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let base = snake_case(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        taken.push(candidate);
    }
    taken
}

/// The module name of a rule: the snake_case of its RuleID.
pub fn rule_module_name(rule_id: &str) -> String {
    snake_case(rule_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_test_names() {
        assert_eq!(
            snake_case("EKS failed secret get (403 Forbidden)"),
            "eks_failed_secret_get_403_forbidden"
        );
        assert_eq!(
            snake_case("List secrets operation (not get)"),
            "list_secrets_operation_not_get"
        );
        assert_eq!(
            snake_case("System service account failed get (excluded)"),
            "system_service_account_failed_get_excluded"
        );
        assert_eq!(
            snake_case("Kubernetes.Secret.AccessDenied"),
            "kubernetes_secret_access_denied"
        );
        assert_eq!(snake_case("403"), "case_403");
        assert_eq!(snake_case("fn"), "fn_case");
        assert_eq!(snake_case("\"); }"), "unnamed");
        assert_eq!(snake_case("héllo wörld"), "h_llo_w_rld");
    }

    #[test]
    fn deduplicates() {
        let names = ["A b".to_owned(), "a-b".to_owned(), "a_b".to_owned()];
        assert_eq!(test_fn_names(&names), ["a_b", "a_b_2", "a_b_3"]);
    }
}
