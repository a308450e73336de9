//! rulec's compiler.

#![warn(missing_docs)]

pub mod codegen;
pub mod condition;
pub mod condition_render;
pub mod data_model;
pub mod diag;
pub mod expr_parse;
pub mod guards;
pub mod interp;
pub mod ir;
pub mod keypath;
pub mod limits;
pub mod locate;
pub mod names;
pub mod predicate;
pub mod project;
pub mod reads;
pub mod rule_file;
pub mod schema;
pub mod template;
pub mod tests_block;
pub mod yaml;
