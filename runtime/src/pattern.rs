//! Compiling the regular expressions of `Matches` conditions with explicit
//! limits, the same at compile time (the compiler validates every pattern)
//! and at run time (the generated code compiles it once, on first use).
//!
//! The `regex` crate matches in linear time (no backtracking), so a pattern
//! cannot take exponential time on an event; what a hostile pattern can do
//! is compile to a huge program (`(a{1000}){1000}`, `\w{5000}`). The size
//! limits bound that, and a pattern over them is a compile error of the rule.

use regex::{Regex, RegexBuilder};

/// Most bytes the compiled program of one pattern may take (1 MiB; the
/// `regex` crate's own default is 10 MiB).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Most bytes the lazy DFA of one pattern may cache while matching (2 MiB,
/// the `regex` crate's default, stated here so it cannot drift).
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 << 20;

/// Most nesting of groups and repetitions in one pattern (the `regex`
/// crate's default, stated here so it cannot drift).
pub const REGEX_NEST_LIMIT: u32 = 250;

/// Compiles a `Matches` pattern with rulec's limits.
pub fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
}

/// Why a pattern is refused, with what to do about it: the `regex` crate's
/// message, then a hint for Python-only syntax (look-around,
/// backreferences) and for patterns over the size limit.
pub fn explain_regex_error(error: &regex::Error) -> (String, &'static str) {
    match error {
        regex::Error::CompiledTooBig(limit) => (
            format!("the regular expression compiles to more than {limit} bytes (rulec's limit)"),
            "write a smaller pattern: bounded repetitions such as `{1000}` multiply its size",
        ),
        other => {
            let text = other.to_string();
            let hint = if text.contains("look-around") {
                "look-ahead and look-behind (`(?=`, `(?!`, `(?<=`, `(?<!`) are Python-only: rulec uses the `regex` crate's syntax; match the text itself or split the condition"
            } else if text.contains("backreference") {
                "backreferences (`\\1`, `(?P=name)`) are Python-only: rulec uses the `regex` crate's syntax"
            } else {
                "rulec uses the `regex` crate's syntax (no look-around or backreferences)"
            };
            (text, hint)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_patterns_compile() {
        assert!(compile_regex("^system:node:").is_ok());
        assert!(compile_regex(r"(?i)\bsecrets?\b").is_ok());
    }

    #[test]
    fn huge_patterns_are_refused_quickly() {
        for pattern in [r"(a{1000}){1000}", r"\w{5000}", r"(?:[\w\d]{100}){100}"] {
            let started = std::time::Instant::now();
            let error = compile_regex(pattern).expect_err(pattern);
            assert!(
                matches!(error, regex::Error::CompiledTooBig(_)),
                "{pattern}: {error}"
            );
            assert!(started.elapsed().as_secs() < 10, "{pattern} took too long");
            let (message, hint) = explain_regex_error(&error);
            assert!(message.contains("rulec's limit"), "{message}");
            assert!(hint.contains("smaller"));
        }
    }

    #[test]
    fn python_only_syntax_gets_a_hint() {
        let (_, hint) = explain_regex_error(&compile_regex("a(?=b)").expect_err("look-ahead"));
        assert!(hint.contains("look-ahead"), "{hint}");
        let (_, hint) = explain_regex_error(&compile_regex(r"(a)\1").expect_err("backreference"));
        assert!(hint.contains("backreferences"), "{hint}");
        let deep = format!("{}a{}", "(".repeat(300), ")".repeat(300));
        assert!(compile_regex(&deep).is_err());
    }
}
