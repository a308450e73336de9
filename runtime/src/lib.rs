//! rulec's runtime: what generated matchers and the binaries that link them need.
//!
//! It holds no YAML, no parser and no code generator: a binary that embeds a
//! rule set pulls in this crate, `serde_json`, `jiff` (event time), `regex`
//! and `percent-encoding`, nothing else.

#![warn(missing_docs)]

pub mod alert_context;
pub mod alerting;
pub mod deep_walk;
pub mod engine;
pub mod error;
pub mod event_time;
pub mod field_key;
pub mod filter;
pub mod guard;
pub mod ip;
pub mod key_path;
pub mod node;
pub mod ops;
pub mod pattern;
pub mod projection;
pub mod query;
pub mod rule;
pub mod scan;
pub mod testing;
pub mod text;
pub mod transform;
pub mod val;

pub use alert_context::AlertContext;
pub use alerting::{Alert, AlertEngine};
pub use engine::{AlertStream, Detector, Evaluation, EventError, LineEvaluation, Match};
pub use error::RuleError;
pub use event_time::Timestamp;
pub use field_key::FieldKey;
pub use guard::{Guard, GuardTest, LogTypeGuards, Probe};
pub use key_path::KeyPath;
pub use node::{Kind, Node, Number};
pub use regex;
pub use rule::{AlertTexts, CompiledRule, Detection, RawOutputs, RuleMeta, Severity};
pub use serde_json;
pub use val::{PyType, Val};
