//! The compiled rule set: each rule file under this crate, compiled by
//! `rule_macros::rule!` into a module with its matcher, outputs and tests.

use rulec_runtime::CompiledRule;

rule_macros::rule!("kubernetes/k8s_secret_access_denied.yml");

/// Every rule of the set.
pub static RULES: &[&CompiledRule] = &[&kubernetes_secret_access_denied::RULE];
