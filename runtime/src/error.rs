//! The error a rule raises while evaluating an event.

use std::borrow::Cow;
use std::fmt;

/// An evaluation error: the event does not fit what the rule's logic reads
/// (Python would raise). A rule that raises does not match; in tests it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    message: Cow<'static, str>,
}

impl RuleError {
    /// Creates an error with a message in Python's style (`TypeError: ...`).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        RuleError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}
