//! Key paths written into generated code, with a process-wide identity, so
//! that an event's representation can remember what each path found.
//!
//! Thirty rules of one log type read the same few data-model fields (`verb`,
//! `objectRef.resource`, ...), each several times. Generated code names each
//! path it reads as a `static` [`KeyPath`]; equal paths (the same keys, the
//! same case rule) share one [`KeyPath::id`], whichever rule spells them. The
//! fast path's parse ([`crate::projection::Parsed`]) keeps, per parse, what
//! each id found, so a path is walked once per event, not once per read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::node::Node;

/// A path of object keys from an event's (or an embedded document's) root.
#[derive(Debug)]
pub struct KeyPath {
    keys: &'static [&'static str],
    case_insensitive: bool,
    id: OnceLock<u32>,
}

impl KeyPath {
    /// A path whose keys compare exactly (a data model's `Path`).
    pub const fn exact(keys: &'static [&'static str]) -> KeyPath {
        KeyPath {
            keys,
            case_insensitive: false,
            id: OnceLock::new(),
        }
    }

    /// A path whose keys compare the way Panther's event does: the exact
    /// key first, else the first equal ignoring case (a rule's `Key`).
    pub const fn ignoring_case(keys: &'static [&'static str]) -> KeyPath {
        KeyPath {
            keys,
            case_insensitive: true,
            id: OnceLock::new(),
        }
    }

    /// The path's keys.
    pub fn keys(&self) -> &'static [&'static str] {
        self.keys
    }

    /// The path's identity: equal for equal paths, below [`interned_count`].
    /// Inlined: after the first call it is one load and a check, which cost
    /// less than the call (1.35% of `detect`'s samples for all rules when it
    /// was called).
    #[inline]
    pub fn id(&self) -> u32 {
        *self
            .id
            .get_or_init(|| intern(self.keys, self.case_insensitive))
    }

    /// Walks the path from `node` without remembering anything.
    pub fn walk<'a, N: Node<'a>>(&self, node: N) -> Option<N> {
        let mut current = node;
        for key in self.keys {
            current = if self.case_insensitive {
                current.get_ci(key)?
            } else {
                current.get(key)?
            };
        }
        Some(current)
    }
}

static INTERNED: AtomicU32 = AtomicU32::new(0);

/// The id a [`KeyPath`] of these keys and this case rule has (or will
/// have): for a projection that fills in what its paths find as it scans.
pub(crate) fn id_of(keys: &[&str], case_insensitive: bool) -> u32 {
    intern(keys, case_insensitive)
}

/// How many distinct paths have an id so far (ids are below it).
pub fn interned_count() -> u32 {
    INTERNED.load(Ordering::Acquire)
}

fn intern(keys: &[&str], case_insensitive: bool) -> u32 {
    type Table = HashMap<(Vec<Box<str>>, bool), u32>;
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    let table = TABLE.get_or_init(|| Mutex::new(HashMap::new()));
    // The table is only ever inserted into whole: a panic elsewhere while
    // it was locked leaves it consistent.
    let mut table = table.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (
        keys.iter().map(|k| Box::from(*k)).collect(),
        case_insensitive,
    );
    let next = table.len() as u32;
    let id = *table.entry(key).or_insert(next);
    INTERNED.store(table.len() as u32, Ordering::Release);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_paths_share_an_id_and_others_do_not() {
        static A: KeyPath = KeyPath::exact(&["objectRef", "resource"]);
        static B: KeyPath = KeyPath::exact(&["objectRef", "resource"]);
        static C: KeyPath = KeyPath::ignoring_case(&["objectRef", "resource"]);
        static D: KeyPath = KeyPath::exact(&["objectRef", "namespace"]);
        assert_eq!(A.id(), B.id());
        assert_ne!(A.id(), C.id());
        assert_ne!(A.id(), D.id());
        assert!(interned_count() > A.id().max(C.id()).max(D.id()));
    }

    #[test]
    fn walking_follows_the_case_rule() {
        static EXACT: KeyPath = KeyPath::exact(&["a", "b"]);
        static LOOSE: KeyPath = KeyPath::ignoring_case(&["a", "b"]);
        let event = serde_json::json!({"a": {"B": 1}});
        assert!(EXACT.walk(&event).is_none());
        assert_eq!(
            LOOSE.walk(&event).and_then(Node::as_number),
            Some(crate::Number::Int(1))
        );
    }
}
