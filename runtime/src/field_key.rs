//! Data-model fields named in generated code with a process-wide identity,
//! so that an event's representation can remember a field's value for every
//! rule that reads it.
//!
//! Thirty rules of one log type read the same computed fields: GKE's `verb`
//! is the text after the last `.` of `protoPayload.methodName`, its
//! `resource` a part of `protoPayload.resourceName`, each behind a check of
//! `protoPayload.serviceName`. Generated code names each computed field it
//! reads as a `static` [`FieldKey`]; equal fields (the same data model, name
//! and generated transform) share one [`FieldKey::id`], whichever rule reads
//! them. The fast path's parse ([`crate::projection::Parsed`]) keeps, per
//! parse, what each id computed, so a field is computed once per event, not
//! once per rule.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// A computed data-model field: its data model, its name, and a digest of
/// the code that computes it (two rule sets linked into one binary may
/// compile different versions of a data model).
#[derive(Debug)]
pub struct FieldKey {
    name: &'static str,
    id: OnceLock<u32>,
}

impl FieldKey {
    /// The field named `name` (unique per data model, field and transform).
    pub const fn new(name: &'static str) -> FieldKey {
        FieldKey {
            name,
            id: OnceLock::new(),
        }
    }

    /// The name generated code gave the field.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The field's identity: equal for equal names, below [`interned_count`].
    pub fn id(&self) -> u32 {
        *self.id.get_or_init(|| intern(self.name))
    }
}

static INTERNED: AtomicU32 = AtomicU32::new(0);

/// How many distinct fields have an id so far (ids are below it).
pub fn interned_count() -> u32 {
    INTERNED.load(Ordering::Acquire)
}

fn intern(name: &str) -> u32 {
    static TABLE: OnceLock<Mutex<HashMap<Box<str>, u32>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| Mutex::new(HashMap::new()));
    // The table is only ever inserted into whole: a panic elsewhere while
    // it was locked leaves it consistent.
    let mut table = table.lock().unwrap_or_else(PoisonError::into_inner);
    let next = table.len() as u32;
    let id = *table.entry(Box::from(name)).or_insert(next);
    INTERNED.store(table.len() as u32, Ordering::Release);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_share_an_id_and_others_do_not() {
        static A: FieldKey = FieldKey::new("Model/verb/1");
        static B: FieldKey = FieldKey::new("Model/verb/1");
        static C: FieldKey = FieldKey::new("Model/verb/2");
        assert_eq!(A.id(), B.id());
        assert_ne!(A.id(), C.id());
        assert!(interned_count() > A.id().max(C.id()));
        assert_eq!(C.name(), "Model/verb/2");
    }
}
