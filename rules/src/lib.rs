//! The compiled rule set: each rule file under this crate, compiled by
//! `rule_macros::rule!` into a module with its matcher, outputs and tests.
//!
//! The list of rules is generated: `cargo xtask regen` writes
//! `src/rule_set.rs` from the rule files on disk.

mod rule_set;

pub use rule_set::*;
