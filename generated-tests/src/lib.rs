//! Tests over the compiled rule set live in `tests/`; this crate has no code of its own.
