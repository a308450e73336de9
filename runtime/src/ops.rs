//! Condition semantics shared by generated matchers and the reference interpreter.
//!
//! Every function answers one condition for one resolved field, following
//! Panther's rules: a missing or null field makes positive comparisons false
//! (their inverses are written as `!positive` by the caller), strings compare
//! only with strings, and numbers follow Python (`True` is the integer 1,
//! `"403"` is not a number).

use std::cmp::Ordering;

use crate::node::{Kind, Node, Number};
use crate::val::{PyType, Val};

/// A constant from a rule, for the generic (interpreted) entry points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lit<'s> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(&'s str),
}

/// Python `==` against a string constant.
#[inline]
pub fn eq_str<'a, N: Node<'a>>(value: &Val<'a, N>, expected: &str) -> bool {
    value.as_str() == Some(expected)
}

/// Python `==` against an integer constant (`True == 1`, `1.0 == 1`).
#[inline]
pub fn eq_int<'a, N: Node<'a>>(value: &Val<'a, N>, expected: i64) -> bool {
    value
        .py_number()
        .and_then(|n| n.py_cmp(Number::Int(expected)))
        == Some(Ordering::Equal)
}

/// Python `==` against a float constant.
#[inline]
pub fn eq_float<'a, N: Node<'a>>(value: &Val<'a, N>, expected: f64) -> bool {
    value
        .py_number()
        .and_then(|n| n.py_cmp(Number::Float(expected)))
        == Some(Ordering::Equal)
}

/// Python `==` against a boolean constant (`1 == True`).
#[inline]
pub fn eq_bool<'a, N: Node<'a>>(value: &Val<'a, N>, expected: bool) -> bool {
    eq_int(value, i64::from(expected))
}

/// Python `==` against any constant.
pub fn eq_lit<'a, N: Node<'a>>(value: &Val<'a, N>, expected: &Lit<'_>) -> bool {
    match *expected {
        Lit::Null => value.is_none(),
        Lit::Bool(b) => eq_bool(value, b),
        Lit::Int(i) => eq_int(value, i),
        Lit::Float(f) => eq_float(value, f),
        Lit::Str(s) => eq_str(value, s),
    }
}

/// The elements of a list value (an array node or a computed list).
fn list_items<'a, N: Node<'a>>(value: &Val<'a, N>) -> Option<Vec<Val<'a, N>>> {
    value.items()
}

/// Membership in a set of string constants; a list value is in the set
/// when any of its elements is (Panther's `in` on a list target).
#[inline]
pub fn in_strs<'a, N: Node<'a>>(value: &Val<'a, N>, set: &[&str]) -> bool {
    if let Some(s) = value.as_str() {
        return set.contains(&s);
    }
    list_items(value).is_some_and(|items| items.iter().any(|item| in_strs(item, set)))
}

/// Membership in a list of constants of any type; a list value is in the
/// list when any of its elements is.
pub fn in_lits<'a, N: Node<'a>>(value: &Val<'a, N>, set: &[Lit<'_>]) -> bool {
    if let Some(items) = list_items(value) {
        return items.iter().any(|item| in_lits(item, set));
    }
    set.iter().any(|lit| eq_lit(value, lit))
}

/// `str.startswith`: false unless the value is a string.
#[inline]
pub fn starts_with<'a, N: Node<'a>>(value: &Val<'a, N>, prefix: &str) -> bool {
    value.as_str().is_some_and(|s| s.starts_with(prefix))
}

/// `str.startswith` with any of several prefixes.
#[inline]
pub fn starts_with_any<'a, N: Node<'a>>(value: &Val<'a, N>, prefixes: &[&str]) -> bool {
    value
        .as_str()
        .is_some_and(|s| prefixes.iter().any(|p| s.starts_with(p)))
}

/// `str.endswith`: false unless the value is a string.
#[inline]
pub fn ends_with<'a, N: Node<'a>>(value: &Val<'a, N>, suffix: &str) -> bool {
    value.as_str().is_some_and(|s| s.ends_with(suffix))
}

/// Python `needle in value`: a substring of a string, or an element of a list.
pub fn contains<'a, N: Node<'a>>(value: &Val<'a, N>, needle: &str) -> bool {
    if let Some(s) = value.as_str() {
        return s.contains(needle);
    }
    match value {
        Val::Node(node) if node.kind() == Kind::Array => {
            node.elements().any(|item| item.as_str() == Some(needle))
        }
        Val::List(items) => items.iter().any(|item| item.as_str() == Some(needle)),
        Val::Json(json) => json
            .as_array()
            .is_some_and(|items| items.iter().any(|item| item.as_str() == Some(needle))),
        _ => false,
    }
}

/// Lower-cases like Python's `str.lower()`.
pub fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Case-insensitive equality; `expected` must already be lower-case.
pub fn ieq_str<'a, N: Node<'a>>(value: &Val<'a, N>, expected_lower: &str) -> bool {
    value.as_str().is_some_and(|s| lower(s) == expected_lower)
}

/// Case-insensitive prefix test; `prefix` must already be lower-case.
pub fn istarts_with<'a, N: Node<'a>>(value: &Val<'a, N>, prefix_lower: &str) -> bool {
    value
        .as_str()
        .is_some_and(|s| lower(s).starts_with(prefix_lower))
}

/// Case-insensitive suffix test; `suffix` must already be lower-case.
pub fn iends_with<'a, N: Node<'a>>(value: &Val<'a, N>, suffix_lower: &str) -> bool {
    value
        .as_str()
        .is_some_and(|s| lower(s).ends_with(suffix_lower))
}

/// Case-insensitive substring test; `needle` must already be lower-case.
pub fn icontains<'a, N: Node<'a>>(value: &Val<'a, N>, needle_lower: &str) -> bool {
    value
        .as_str()
        .is_some_and(|s| lower(s).contains(needle_lower))
}

/// Numeric comparison, Python style; false when the value is not a number or bool.
#[inline]
pub fn cmp_num<'a, N: Node<'a>>(value: &Val<'a, N>, bound: Number) -> Option<Ordering> {
    value.py_number()?.py_cmp(bound)
}

/// `value > bound`.
#[inline]
pub fn gt<'a, N: Node<'a>>(value: &Val<'a, N>, bound: Number) -> bool {
    cmp_num(value, bound) == Some(Ordering::Greater)
}

/// `value >= bound`.
#[inline]
pub fn ge<'a, N: Node<'a>>(value: &Val<'a, N>, bound: Number) -> bool {
    matches!(
        cmp_num(value, bound),
        Some(Ordering::Greater | Ordering::Equal)
    )
}

/// `value < bound`.
#[inline]
pub fn lt<'a, N: Node<'a>>(value: &Val<'a, N>, bound: Number) -> bool {
    cmp_num(value, bound) == Some(Ordering::Less)
}

/// `value <= bound`.
#[inline]
pub fn le<'a, N: Node<'a>>(value: &Val<'a, N>, bound: Number) -> bool {
    matches!(
        cmp_num(value, bound),
        Some(Ordering::Less | Ordering::Equal)
    )
}

/// `Exists`: the key is present (its value may be null).
#[inline]
pub fn exists<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    !matches!(value, Val::Missing)
}

/// `IsNull`: the key is missing or its value is null.
#[inline]
pub fn is_null<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    value.is_none()
}

/// `IsNullOrEmpty`: null, missing, `""`, `[]` or `{}`.
pub fn is_null_or_empty<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    match value.py_type() {
        PyType::None => true,
        PyType::Str | PyType::List | PyType::Dict => !value.truthy(),
        _ => false,
    }
}

/// `IsInteger` (ours): Python's `isinstance(value, int)`, so booleans count.
#[inline]
pub fn is_py_int<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    matches!(value.py_type(), PyType::Int | PyType::Bool)
}

/// `IsNumber` (ours): an int, a float or a bool.
#[inline]
pub fn is_py_number<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    matches!(value.py_type(), PyType::Int | PyType::Float | PyType::Bool)
}

/// Whether the value has exactly this Python type.
#[inline]
pub fn has_type<'a, N: Node<'a>>(value: &Val<'a, N>, ty: PyType) -> bool {
    value.py_type() == ty
}

/// The value as an IP address: a string that Python's `ipaddress.ip_address`
/// accepts; anything else (missing, null, not a string, not an address) is
/// `None`, which makes every IP condition false.
pub fn ip_of<'a, N: Node<'a>>(value: &Val<'a, N>) -> Option<std::net::IpAddr> {
    value.as_str().and_then(crate::ip::parse_ip)
}

/// `IsIPAddress`.
pub fn is_ip<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    ip_of(value).is_some()
}

/// `IsIPv4Address`.
pub fn is_ipv4<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    ip_of(value).is_some_and(|ip| ip.is_ipv4())
}

/// `IsIPv6Address`.
pub fn is_ipv6<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    ip_of(value).is_some_and(|ip| ip.is_ipv6())
}

/// `IsIPAddressPublic`: Python's `is_global`.
pub fn is_ip_public<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    ip_of(value).is_some_and(crate::ip::is_global)
}

/// `IsIPAddressPrivate`: Python's `is_private`.
pub fn is_ip_private<'a, N: Node<'a>>(value: &Val<'a, N>) -> bool {
    ip_of(value).is_some_and(crate::ip::is_private)
}

/// `IsIPAddressInCIDR`.
pub fn ip_in_cidr<'a, N: Node<'a>>(value: &Val<'a, N>, net: &crate::ip::Cidr) -> bool {
    ip_of(value).is_some_and(|ip| net.contains(ip))
}

/// Python `==` between two field values (multi-key `Equals`): equal
/// strings, equal numbers (`True == 1`), or equal lists and dicts. A missing
/// or null value equals nothing (Panther's null rule).
pub fn eq_vals<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    if a.is_none() || b.is_none() {
        return false;
    }
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.py_number(), b.py_number()) {
        return x.py_cmp(y) == Some(Ordering::Equal);
    }
    match (a.py_type(), b.py_type()) {
        (PyType::List, PyType::List) | (PyType::Dict, PyType::Dict) => a.to_json() == b.to_json(),
        _ => false,
    }
}

/// Case-insensitive `==` between two string field values.
pub fn ieq_vals<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => lower(x) == lower(y),
        _ => false,
    }
}

/// `a.startswith(b)` between two string field values.
pub fn starts_with_val<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.starts_with(y),
        _ => false,
    }
}

/// `a.endswith(b)` between two string field values.
pub fn ends_with_val<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.ends_with(y),
        _ => false,
    }
}

/// Case-insensitive prefix between two string field values.
pub fn istarts_with_val<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => lower(x).starts_with(lower(y).as_ref()),
        _ => false,
    }
}

/// Case-insensitive suffix between two string field values.
pub fn iends_with_val<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => lower(x).ends_with(lower(y).as_ref()),
        _ => false,
    }
}

/// Python `b in a` between two field values: a substring of a string, or an
/// element (by `==`) of a list.
pub fn contains_val<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    if b.is_none() {
        return false;
    }
    if let Some(x) = a.as_str() {
        return b.as_str().is_some_and(|y| x.contains(y));
    }
    list_items(a).is_some_and(|items| items.iter().any(|item| eq_vals(item, b)))
}

/// Case-insensitive substring between two string field values.
pub fn icontains_val<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => lower(x).contains(lower(y).as_ref()),
        _ => false,
    }
}

/// Numeric order of two field values; `None` unless both are numbers.
pub fn cmp_vals<'a, N: Node<'a>>(a: &Val<'a, N>, b: &Val<'a, N>) -> Option<Ordering> {
    a.py_number()?.py_cmp(b.py_number()?)
}

/// Any of several `Contains` constants (a batched `Any` of `Contains` on
/// one field): the same answer as checking each in turn.
pub fn contains_any<'a, N: Node<'a>>(value: &Val<'a, N>, needles: &[&str]) -> bool {
    needles.iter().any(|needle| contains(value, needle))
}

/// Any of several suffixes.
pub fn ends_with_any<'a, N: Node<'a>>(value: &Val<'a, N>, suffixes: &[&str]) -> bool {
    value
        .as_str()
        .is_some_and(|s| suffixes.iter().any(|p| s.ends_with(p)))
}

/// Any of several lower-case substrings, ignoring case (the value is
/// lowered once).
pub fn icontains_any<'a, N: Node<'a>>(value: &Val<'a, N>, needles_lower: &[&str]) -> bool {
    value.as_str().is_some_and(|s| {
        let lowered = lower(s);
        needles_lower.iter().any(|n| lowered.contains(n))
    })
}

/// Any of several lower-case prefixes, ignoring case.
pub fn istarts_with_any<'a, N: Node<'a>>(value: &Val<'a, N>, prefixes_lower: &[&str]) -> bool {
    value.as_str().is_some_and(|s| {
        let lowered = lower(s);
        prefixes_lower.iter().any(|p| lowered.starts_with(p))
    })
}

/// Any of several lower-case suffixes, ignoring case.
pub fn iends_with_any<'a, N: Node<'a>>(value: &Val<'a, N>, suffixes_lower: &[&str]) -> bool {
    value.as_str().is_some_and(|s| {
        let lowered = lower(s);
        suffixes_lower.iter().any(|p| lowered.ends_with(p))
    })
}

/// Equal to any of several lower-case strings, ignoring case.
pub fn ieq_any<'a, N: Node<'a>>(value: &Val<'a, N>, set_lower: &[&str]) -> bool {
    value.as_str().is_some_and(|s| {
        let lowered = lower(s);
        set_lower.contains(&lowered.as_ref())
    })
}

/// `Matches`: the regular expression finds a match in the string value
/// (Python's `re.search`; anchor with `^`/`$` for a whole match). Linear
/// time (the `regex` crate); non-strings never match.
pub fn matches_regex<'a, N: Node<'a>>(value: &Val<'a, N>, regex: &regex::Regex) -> bool {
    value.as_str().is_some_and(|s| regex.is_match(s))
}

/// Equal (as a string) to any of several strings: a batched `Any` of
/// string `Equals` (a list value is never equal to a string).
pub fn eq_str_any<'a, N: Node<'a>>(value: &Val<'a, N>, set: &[&str]) -> bool {
    value.as_str().is_some_and(|s| set.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn val(v: &Value) -> Val<'_, &Value> {
        Val::Node(v)
    }

    #[test]
    fn integers_follow_python() {
        let t = json!(true);
        let code = json!(403);
        let text = json!("403");
        let float = json!(403.0);
        assert!(eq_int(&val(&t), 1));
        assert!(ge(&val(&code), Number::Int(400)));
        assert!(!ge(&val(&text), Number::Int(400)));
        assert!(eq_int(&val(&float), 403));
        assert!(is_py_int(&val(&t)));
        assert!(!is_py_int(&val(&float)));
        assert!(!is_py_int(&val(&text)));
    }

    #[test]
    fn missing_and_null_fail_positive_conditions() {
        let null = json!(null);
        for v in [Val::<&Value>::Missing, val(&null)] {
            assert!(!eq_str(&v, "x"));
            assert!(!starts_with(&v, ""));
            assert!(!contains(&v, ""));
            assert!(!gt(&v, Number::Int(-1)));
            assert!(is_null(&v));
            assert!(is_null_or_empty(&v));
        }
        assert!(!exists(&Val::<&Value>::Missing));
        assert!(exists(&val(&null)));
    }

    #[test]
    fn contains_reads_strings_and_lists() {
        let list = json!(["a", "b"]);
        let text = json!("xaby");
        assert!(contains(&val(&list), "b"));
        assert!(!contains(&val(&list), "ab"));
        assert!(contains(&val(&text), "ab"));
        // A list a transform computed (a `Const`, a dict's value) reads the same.
        let computed: Val<'_, &Value> = Val::json(json!(["a", "b"]));
        assert!(contains(&computed, "b"));
        assert!(!contains(&computed, "ab"));
    }

    #[test]
    fn case_insensitive_forms_lower_the_event_value() {
        let v = json!("Kube-System");
        assert!(ieq_str(&val(&v), "kube-system"));
        assert!(istarts_with(&val(&v), "kube-"));
        assert!(!eq_str(&val(&v), "kube-system"));
    }
}
