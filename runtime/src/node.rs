//! A read-only view of one JSON event, abstract over how the event is stored.
//!
//! Generated matchers are generic over [`Node`], so the same rule code is
//! monomorphized for every event representation a binary links: today
//! `&serde_json::Value`, later borrowed projections that never build a tree.

use std::cmp::Ordering;

/// The JSON type of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// Any JSON number.
    Number,
    /// A JSON string.
    String,
    /// A JSON array.
    Array,
    /// A JSON object.
    Object,
}

/// A JSON number as the parser saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer that fits `i64`.
    Int(i64),
    /// A positive integer above `i64::MAX`.
    UInt(u64),
    /// A number written with a fraction or an exponent, or too large for 64 bits.
    Float(f64),
}

impl Number {
    /// The value as Python compares it: integers exactly, floats as floats.
    pub fn py_cmp(self, other: Number) -> Option<Ordering> {
        match (self.as_i128(), other.as_i128()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }

    /// The exact integer value, when the number is an integer.
    pub fn as_i128(self) -> Option<i128> {
        match self {
            Number::Int(i) => Some(i128::from(i)),
            Number::UInt(u) => Some(i128::from(u)),
            Number::Float(_) => None,
        }
    }

    /// The value as a float (lossy for very large integers).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::UInt(u) => u as f64,
            Number::Float(f) => f,
        }
    }
}

/// A borrowed node of a JSON document.
///
/// Implementations must be cheap to copy: a reference or an index.
pub trait Node<'a>: Copy + 'a {
    /// The node's JSON type.
    fn kind(self) -> Kind;
    /// The string, when the node is a string.
    fn as_str(self) -> Option<&'a str>;
    /// The boolean, when the node is `true` or `false`.
    fn as_bool(self) -> Option<bool>;
    /// The number, when the node is a number.
    fn as_number(self) -> Option<Number>;
    /// Member `key` of an object, compared exactly.
    fn get(self, key: &str) -> Option<Self>;
    /// Element `index` of an array.
    fn index(self, index: usize) -> Option<Self>;
    /// Number of elements of an array or members of an object; 0 otherwise.
    fn len(self) -> usize;
    /// Elements of an array, in order; nothing for other kinds.
    fn elements(self) -> impl Iterator<Item = Self>;
    /// Members of an object, in document order; nothing for other kinds.
    fn members(self) -> impl Iterator<Item = (&'a str, Self)>;
    /// An owned copy of the node, for alert output.
    fn to_json(self) -> serde_json::Value;

    /// The JSON document embedded in this string node, decoded once and
    /// kept by the event when its representation caches documents (the fast
    /// path's does); `None` when it does not, and the caller decodes
    /// ([`crate::transform::decode_document`]).
    fn decoded_document(self) -> Option<Option<crate::projection::Projected<'a>>> {
        None
    }

    /// The node at the end of `path` from this one (the path's keys compared
    /// as it says). Representations that remember paths per event (the fast
    /// path's) answer each path once per event.
    fn lookup(self, path: &crate::key_path::KeyPath) -> Option<Self> {
        path.walk(self)
    }

    /// The value of a computed data-model field, read from this node as the
    /// event's root: `compute` runs unless the representation remembers the
    /// field from an earlier read of this event (the fast path's does, so
    /// every rule of a log type shares one computation).
    #[inline]
    fn remember_field(
        self,
        key: &crate::field_key::FieldKey,
        compute: impl FnOnce() -> Result<crate::val::Val<'a, Self>, crate::RuleError>,
    ) -> Result<crate::val::Val<'a, Self>, crate::RuleError> {
        let _ = key;
        compute()
    }

    /// Whether the node is an empty array or object (always false for scalars).
    fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Member `key` looked up the way Panther's Python event does: the exact
    /// key first, else the first member (in document order) whose key is
    /// equal ignoring case.
    fn get_ci(self, key: &str) -> Option<Self> {
        if let Some(found) = self.get(key) {
            return Some(found);
        }
        self.members()
            .find(|(name, _)| eq_ignore_case(name, key))
            .map(|(_, node)| node)
    }
}

/// Compares two keys the way Python's `str.lower()` does.
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    // Equal ignoring ASCII case implies equal lowercased (the other bytes are
    // equal); different lengths are decisive only for ASCII, whose lowercase
    // keeps the length.
    if a.len() == b.len() && a.as_bytes().eq_ignore_ascii_case(b.as_bytes()) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

impl<'a> Node<'a> for &'a serde_json::Value {
    fn kind(self) -> Kind {
        match self {
            serde_json::Value::Null => Kind::Null,
            serde_json::Value::Bool(_) => Kind::Bool,
            serde_json::Value::Number(_) => Kind::Number,
            serde_json::Value::String(_) => Kind::String,
            serde_json::Value::Array(_) => Kind::Array,
            serde_json::Value::Object(_) => Kind::Object,
        }
    }

    fn as_str(self) -> Option<&'a str> {
        serde_json::Value::as_str(self)
    }

    fn as_bool(self) -> Option<bool> {
        serde_json::Value::as_bool(self)
    }

    fn as_number(self) -> Option<Number> {
        let serde_json::Value::Number(number) = self else {
            return None;
        };
        Some(if let Some(i) = number.as_i64() {
            Number::Int(i)
        } else if let Some(u) = number.as_u64() {
            Number::UInt(u)
        } else {
            Number::Float(number.as_f64().unwrap_or(f64::NAN))
        })
    }

    fn get(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }

    fn index(self, index: usize) -> Option<Self> {
        self.as_array()?.get(index)
    }

    fn len(self) -> usize {
        match self {
            serde_json::Value::Array(items) => items.len(),
            serde_json::Value::Object(members) => members.len(),
            _ => 0,
        }
    }

    fn elements(self) -> impl Iterator<Item = Self> {
        self.as_array().into_iter().flatten()
    }

    fn members(self) -> impl Iterator<Item = (&'a str, Self)> {
        self.as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| (key.as_str(), value))
    }

    fn to_json(self) -> serde_json::Value {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_ci_prefers_exact_then_first_in_document_order() {
        let event = json!({"Code": 1, "CODE": 2, "code": 3});
        assert_eq!(
            (&event).get_ci("code").and_then(Node::as_number),
            Some(Number::Int(3))
        );
        assert_eq!(
            (&event).get_ci("cOdE").and_then(Node::as_number),
            Some(Number::Int(1))
        );
        assert!((&event).get_ci("codes").is_none());
    }

    #[test]
    fn numbers_compare_like_python() {
        assert_eq!(
            Number::Int(3).py_cmp(Number::Float(3.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            Number::UInt(u64::MAX).py_cmp(Number::Int(-1)),
            Some(Ordering::Greater)
        );
        assert_eq!(Number::Float(f64::NAN).py_cmp(Number::Int(1)), None);
    }
}
