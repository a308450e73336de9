//! Data-model transforms: the declarative replacements for Panther's Python `Method`s.

use std::borrow::Cow;

use crate::error::RuleError;
use crate::node::{Kind, Node};
use crate::projection::{EmbeddedDocument, Projected};
use crate::text::py_str;
use crate::val::Val;

/// Follows `keys` from `node` the way Python's `deep_get` does on a Panther
/// event: each key case-insensitively, `None` as soon as a step is not a dict.
#[inline]
pub fn get_ci<'a, N: Node<'a>>(node: N, keys: &[&str]) -> Val<'a, N> {
    walk(node, keys, |current, key| current.get_ci(key))
}

/// Follows a path written into generated code from `node` (the event's or a
/// document's root): absent as soon as a step finds nothing. The fast path
/// walks each path once per event, however many rules read it.
#[inline]
pub fn get_path<'a, N: Node<'a>>(node: N, path: &crate::key_path::KeyPath) -> Val<'a, N> {
    Val::from_node(node.lookup(path))
}

/// Follows `steps` from `node` with `next`, absent as soon as a step finds nothing.
#[inline]
fn walk<'a, N: Node<'a>, S>(node: N, steps: &[S], next: impl Fn(N, &S) -> Option<N>) -> Val<'a, N> {
    let mut current = node;
    for step in steps {
        match next(current, step) {
            Some(found) => current = found,
            None => return Val::Missing,
        }
    }
    Val::Node(current)
}

/// One step of a path: a key, a list index, or every element (`[*]`).
#[derive(Debug, Clone, Copy)]
pub enum Step<'k> {
    /// An object member.
    Key(&'k str),
    /// An array element.
    Index(usize),
    /// Every element of an array (`[*]`): the rest of the path is followed
    /// from each, and the results form a list.
    Each,
}

/// Follows `steps` from `node`, keys case-insensitively (a rule's raw key
/// lookup on Panther's event).
///
/// At `[*]` the current node must be a list: the rest of the path is followed
/// from each element, and the values found, without missing or null ones
/// (JMESPath's projection), make a list. A path through something that is
/// not a list gives a missing value.
#[inline]
pub fn follow_ci<'a, N: Node<'a>>(node: N, steps: &[Step<'_>]) -> Val<'a, N> {
    let mut current = node;
    for (i, step) in steps.iter().enumerate() {
        let next = match *step {
            Step::Key(key) => current.get_ci(key),
            Step::Index(index) => current.index(index),
            Step::Each => return project(current, &steps[i + 1..]),
        };
        match next {
            Some(found) => current = found,
            None => return Val::Missing,
        }
    }
    Val::Node(current)
}

fn project<'a, N: Node<'a>>(list: N, rest: &[Step<'_>]) -> Val<'a, N> {
    if list.kind() != Kind::Array {
        return Val::Missing;
    }
    let items = list
        .elements()
        .map(|element| follow_ci(element, rest))
        .filter(|value| !value.is_none())
        .collect();
    Val::list(items)
}

/// Follows `steps` below an already resolved value, case-insensitively (the
/// dicts `udm()` returns ignore case).
#[inline]
pub fn descend<'a, N: Node<'a>>(value: Val<'a, N>, steps: &[Step<'_>]) -> Val<'a, N> {
    if steps.is_empty() {
        return value;
    }
    match value {
        Val::Node(node) => follow_ci(node, steps),
        Val::Json(json) => match follow_ci(&*json, steps) {
            Val::Missing => Val::Missing,
            found => Val::json(found.to_json()),
        },
        Val::List(items) => match steps[0] {
            Step::Index(i) => items
                .get(i)
                .cloned()
                .map_or(Val::Missing, |item| descend(item, &steps[1..])),
            Step::Each => Val::list(
                std::rc::Rc::unwrap_or_clone(items)
                    .into_iter()
                    .map(|item| descend(item, &steps[1..]))
                    .filter(|value| !value.is_none())
                    .collect(),
            ),
            Step::Key(_) => Val::Missing,
        },
        _ => Val::Missing,
    }
}

/// Panther's fallback for a name no data model maps: `p_udm.<name>`, then the
/// key `<name>` on the event; a falsy result counts as absent.
pub fn udm_fallback<'a, N: Node<'a>>(event: N, name: &str) -> Val<'a, N> {
    let from_p_udm = get_ci(event, &["p_udm", name]);
    if from_p_udm.truthy() {
        return from_p_udm;
    }
    let raw = get_ci(event, &[name]);
    if raw.truthy() {
        raw
    } else {
        Val::Missing
    }
}

/// Follows `keys` from `node` exactly (a data model's `Path`, or `deep_get` on
/// a plain decoded dict).
#[inline]
pub fn get_exact<'a, N: Node<'a>>(node: N, keys: &[&str]) -> Val<'a, N> {
    walk(node, keys, |current, key| current.get(key))
}

/// Python's `value.get(key)`: `None` for `None`, an `AttributeError` for
/// anything else that is not a dict. On Panther's event (`case_insensitive`)
/// the key ignores case; on a decoded document it is exact.
pub fn dict_get<'a, N: Node<'a>>(
    value: &Val<'a, N>,
    key: &str,
    case_insensitive: bool,
) -> Result<Val<'a, N>, RuleError> {
    match value {
        Val::Missing => Ok(Val::Missing),
        Val::Node(node) => match node.kind() {
            Kind::Object if case_insensitive => Ok(Val::from_node(node.get_ci(key))),
            Kind::Object => Ok(Val::from_node(node.get(key))),
            Kind::Null => Ok(Val::Missing),
            _ => Err(RuleError::new(format!(
                "AttributeError: decoded value has no attribute 'get' (reading '{key}')"
            ))),
        },
        Val::Json(json) => match &**json {
            serde_json::Value::Object(_) if case_insensitive => Ok(value.member_ci(key)),
            serde_json::Value::Object(_) => Ok(value.member(key)),
            serde_json::Value::Null => Ok(Val::Missing),
            _ => Err(RuleError::new(format!(
                "AttributeError: decoded value has no attribute 'get' (reading '{key}')"
            ))),
        },
        _ => Err(RuleError::new(format!(
            "AttributeError: computed value has no attribute 'get' (reading '{key}')"
        ))),
    }
}

/// Python's `document.get(key)` on a decoded document, the key exact (the
/// one-key `path`): [`dict_get`], with the look-up remembered per document
/// like every path's, so the rules of a log type find the member once.
pub fn doc_get<'a, N: Node<'a>>(
    document: N,
    path: &crate::key_path::KeyPath,
) -> Result<Val<'a, N>, RuleError> {
    match document.kind() {
        Kind::Object => Ok(Val::from_node(document.lookup(path))),
        Kind::Null => Ok(Val::Missing),
        _ => Err(RuleError::new(format!(
            "AttributeError: decoded value has no attribute 'get' (reading '{}')",
            path.keys().join(".")
        ))),
    }
}

/// `str(value)` with `None` read as `""` (Python's `str(deep_get(..., default=""))`).
pub fn text_or_empty<'a, N: Node<'a>>(value: &Val<'a, N>) -> Cow<'a, str> {
    match value {
        Val::Missing => Cow::Borrowed(""),
        Val::Node(node) => match node.as_str() {
            Some(text) => Cow::Borrowed(text),
            None if node.kind() == Kind::Null => Cow::Borrowed(""),
            None => Cow::Owned(py_str(value).into_owned()),
        },
        Val::Str(text) => text.clone(),
        Val::Json(json) if json.is_null() => Cow::Borrowed(""),
        Val::List(_) | Val::Json(_) => Cow::Owned(py_str(value).into_owned()),
    }
}

/// Part `index` of `text.split(separator, max_split)`, or missing (Python's `IndexError`).
pub fn split_part<'a, N: Node<'a>>(
    text: &Cow<'a, str>,
    separator: &str,
    index: usize,
    max_split: Option<usize>,
) -> Val<'a, N> {
    let pieces = max_split.map_or(usize::MAX, |m| m.saturating_add(1));
    let part = match text {
        Cow::Borrowed(text) => nth_part(text, separator, pieces, index).map(Cow::Borrowed),
        Cow::Owned(text) => {
            nth_part(text, separator, pieces, index).map(|p| Cow::Owned(p.to_owned()))
        }
    };
    part.map_or(Val::Missing, Val::Str)
}

/// `text.splitn(pieces, separator).nth(index)`, at a byte when the
/// separator is one ASCII character.
fn nth_part<'t>(text: &'t str, separator: &str, pieces: usize, index: usize) -> Option<&'t str> {
    match ascii_byte(separator) {
        Some(separator) => nth_part_at_byte(text, separator, pieces, index),
        None => text.splitn(pieces, separator).nth(index),
    }
}

/// [`nth_part`] at an ASCII byte: the parts of a data model's field (a
/// resource name, a method name) are a few dozen bytes, where a plain loop
/// beats `splitn`'s `memchr` calls, each set up for a long search.
fn nth_part_at_byte(text: &str, separator: u8, pieces: usize, index: usize) -> Option<&str> {
    if index >= pieces {
        return None;
    }
    let mut rest = text;
    for _ in 0..index {
        let at = rest.bytes().position(|byte| byte == separator)?;
        rest = rest.get(at + 1..)?;
    }
    if index + 1 == pieces {
        // The last piece is the rest of the text, separators and all.
        return Some(rest);
    }
    match rest.bytes().position(|byte| byte == separator) {
        Some(at) => rest.get(..at),
        None => Some(rest),
    }
}

/// The separator's only byte, when it is one ASCII character (splitting at
/// an ASCII byte never splits a character).
fn ascii_byte(separator: &str) -> Option<u8> {
    match separator.as_bytes() {
        [byte] if byte.is_ascii() => Some(*byte),
        _ => None,
    }
}

/// `text.rsplit_once(separator)`, at a byte when the separator is one ASCII
/// character.
fn rsplit_once<'t>(text: &'t str, separator: &str) -> Option<(&'t str, &'t str)> {
    match ascii_byte(separator) {
        Some(separator) => {
            let at = text.bytes().rposition(|byte| byte == separator)?;
            Some((text.get(..at)?, text.get(at + 1..)?))
        }
        None => text.rsplit_once(separator),
    }
}

/// Python's `value[index]` on a list or a string (a character; a negative
/// index counts from the end); absent when out of range or for other values.
pub fn element<'a, N: Node<'a>>(value: &Val<'a, N>, index: i64) -> Val<'a, N> {
    let position = |len: usize| {
        if index < 0 {
            usize::try_from(index.unsigned_abs())
                .ok()
                .and_then(|back| len.checked_sub(back))
        } else {
            usize::try_from(index).ok().filter(|p| *p < len)
        }
    };
    if let Some(text) = value.as_str() {
        let found = position(text.chars().count()).and_then(|p| text.chars().nth(p));
        return found.map_or(Val::Missing, |c| Val::Str(Cow::Owned(c.to_string())));
    }
    let Some(items) = value.items() else {
        return Val::Missing;
    };
    position(items.len())
        .and_then(|p| items.into_iter().nth(p))
        .unwrap_or(Val::Missing)
}

/// The text after the last `separator`, or the whole text (Python's
/// `text.rsplit(separator, 1)[-1]`).
pub fn after_last<'a, N: Node<'a>>(text: &Cow<'a, str>, separator: &str) -> Val<'a, N> {
    Val::Str(match text {
        Cow::Borrowed(text) => {
            Cow::Borrowed(rsplit_once(text, separator).map_or(*text, |(_, tail)| tail))
        }
        Cow::Owned(text) => Cow::Owned(
            rsplit_once(text, separator)
                .map_or(text.as_str(), |(_, tail)| tail)
                .to_owned(),
        ),
    })
}

/// `[value]` when the value is truthy, else `[]`.
pub fn list_of_truthy<'a, N: Node<'a>>(value: Val<'a, N>) -> Val<'a, N> {
    if value.truthy() {
        Val::list(vec![value])
    } else {
        Val::list(Vec::new())
    }
}

/// A decoded document: decoded by this call, or shared from the event's own
/// cache (the fast path decodes each embedded document once per event, for
/// every rule).
#[derive(Debug)]
pub enum Document<'a> {
    /// Decoded for this evaluation.
    Owned(Box<EmbeddedDocument>),
    /// Decoded once for the event.
    Shared(Projected<'a>),
}

impl Document<'_> {
    /// The document.
    pub fn get(&self) -> Projected<'_> {
        match self {
            Document::Owned(document) => document.root(),
            Document::Shared(document) => *document,
        }
    }
}

/// The JSON document embedded in a string field, decoded as
/// [`decode_json`] says, through the event's cache when the field is a node
/// of an event representation that keeps one ([`Node::decoded_document`]).
pub fn decode_document<'a, N: Node<'a>>(value: &Val<'a, N>) -> Option<Document<'a>> {
    if let Val::Node(node) = value {
        if let Some(cached) = node.decoded_document() {
            return cached.map(Document::Shared);
        }
    }
    let mut document = Box::<EmbeddedDocument>::default();
    document
        .decode(value.as_str()?)
        .then_some(Document::Owned(document))
}

/// Decodes a JSON document embedded in a string field, the way the AKS data
/// model's Python does: `None` for a falsy field, a non-string, text that is
/// not JSON, or a document that is itself falsy.
///
/// Python's `json.loads` accepts the tokens `NaN`, `Infinity` and
/// `-Infinity`; they decode here as `null`.
pub fn decode_json<'a, N: Node<'a>>(value: &Val<'a, N>) -> Option<serde_json::Value> {
    let text = value.as_str()?;
    if text.is_empty() {
        return None;
    }
    let decoded = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(decoded) => decoded,
        Err(_) => serde_json::from_str(&replace_non_finite_tokens(text)?).ok()?,
    };
    Val::<&serde_json::Value>::Node(&decoded)
        .truthy()
        .then_some(decoded)
}

/// Rewrites `NaN`, `Infinity` and `-Infinity` outside strings as `null`;
/// `None` when the text has none of them.
pub(crate) fn replace_non_finite_tokens(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut replaced = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else {
            let token = ["-Infinity", "Infinity", "NaN"]
                .into_iter()
                .find(|t| rest.starts_with(t));
            if let Some(token) = token {
                out.push_str("null");
                rest = &rest[token.len()..];
                replaced = true;
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    replaced.then_some(out)
}

/// Python's `str.lower()` of a string value; other values pass unchanged
/// (a missing value stays missing).
pub fn lower<'a, N: Node<'a>>(value: Val<'a, N>) -> Val<'a, N> {
    match value.as_str() {
        Some(text) => Val::Str(Cow::Owned(crate::ops::lower(text).into_owned())),
        None => value,
    }
}

/// `separator.join(str(x) for x in value)` over a list value; a string is
/// kept as it is; anything else is missing.
pub fn join<'a, N: Node<'a>>(value: &Val<'a, N>, separator: &str) -> Val<'a, N> {
    if value.as_str().is_some() {
        return value.clone();
    }
    let Some(items) = value.items() else {
        return Val::Missing;
    };
    let parts: Vec<Cow<'_, str>> = items.iter().map(|item| py_str(item)).collect();
    Val::Str(Cow::Owned(parts.join(separator)))
}

/// The keys of a dict value (Python's `list(d.keys())`), in order; absent
/// for anything else.
pub fn keys<'a, N: Node<'a>>(value: &Val<'a, N>) -> Val<'a, N> {
    match value {
        Val::Node(node) if node.kind() == Kind::Object => Val::list(
            node.members()
                .map(|(key, _)| Val::Str(Cow::Borrowed(key)))
                .collect(),
        ),
        Val::Json(json) => match json.as_object() {
            Some(map) => Val::list(
                map.keys()
                    .map(|k| Val::Str(Cow::Owned(k.clone())))
                    .collect(),
            ),
            None => Val::Missing,
        },
        _ => Val::Missing,
    }
}

/// Python's `urllib.parse.unquote`: `%XX` sequences decoded as UTF-8 (invalid
/// sequences replaced with U+FFFD), `+` kept. Non-strings pass unchanged.
pub fn url_decode<'a, N: Node<'a>>(value: Val<'a, N>) -> Val<'a, N> {
    match value.as_str() {
        Some(text) if text.contains('%') => Val::Str(Cow::Owned(
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned(),
        )),
        _ => value,
    }
}

/// Python's `list(dict.fromkeys(values))`: the list without repeated
/// elements (by `==` on their JSON), first occurrences kept in order.
/// Anything but a list is absent.
pub fn distinct<'a, N: Node<'a>>(value: &Val<'a, N>) -> Val<'a, N> {
    let Some(items) = value.items() else {
        return Val::Missing;
    };
    let mut seen: Vec<serde_json::Value> = Vec::new();
    let mut out = Vec::new();
    for item in items {
        let json = item.to_json();
        if !seen.contains(&json) {
            seen.push(json);
            out.push(item);
        }
    }
    Val::list(out)
}

/// Python's `sorted(values)` for a list of strings or of numbers; a list
/// mixing kinds raises Python's `TypeError`. Anything but a list is absent.
pub fn sort<'a, N: Node<'a>>(value: &Val<'a, N>) -> Result<Val<'a, N>, RuleError> {
    let Some(mut items) = value.items() else {
        return Ok(Val::Missing);
    };
    if items.iter().all(|i| i.as_str().is_some()) {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if items.iter().all(|i| i.py_number().is_some()) {
        items.sort_by(|a, b| match (a.py_number(), b.py_number()) {
            (Some(x), Some(y)) => x.py_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
            _ => std::cmp::Ordering::Equal,
        });
    } else {
        return Err(RuleError::new(
            "TypeError: '<' not supported between the elements of the list",
        ));
    }
    Ok(Val::list(items))
}

/// One level of flattening: the elements of each list element, other
/// elements kept. Anything but a list is absent.
pub fn flatten<'a, N: Node<'a>>(value: &Val<'a, N>) -> Val<'a, N> {
    let Some(items) = value.items() else {
        return Val::Missing;
    };
    let mut out = Vec::new();
    for item in items {
        match item.items() {
            Some(inner) => out.extend(inner),
            None => out.push(item),
        }
    }
    Val::list(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    type V<'a> = Val<'a, &'a Value>;

    proptest! {
        #[test]
        fn splitting_at_a_byte_is_splitting_at_the_str(
            text in "[a/.é:]{0,12}",
            separator in prop_oneof![Just("/"), Just("."), Just(":"), Just("é"), Just("a/")],
            pieces in 0usize..6,
            index in 0usize..6,
        ) {
            prop_assert_eq!(
                nth_part(&text, separator, pieces, index),
                text.splitn(pieces, separator).nth(index)
            );
            prop_assert_eq!(rsplit_once(&text, separator), text.rsplit_once(separator));
        }
    }

    #[test]
    fn decode_json_follows_the_aks_model() {
        let cases = [
            (json!("{\"verb\":\"get\"}"), Some(json!({"verb": "get"}))),
            (json!(""), None),
            (json!("null"), None),
            (json!("{}"), None),
            (json!("not json"), None),
            (json!(5), None),
            (json!("[1]"), Some(json!([1]))),
            (
                json!("{\"a\": NaN, \"s\": \"NaN\"}"),
                Some(json!({"a": null, "s": "NaN"})),
            ),
            (json!("{\"a\":1,\"a\":2}"), Some(json!({"a": 2}))),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_json(&V::Node(&input)), expected, "{input}");
        }
    }

    #[test]
    fn dict_get_raises_on_truthy_non_dicts() {
        let list = json!([1]);
        assert!(dict_get(&V::Node(&list), "verb", false).is_err());
        assert!(matches!(
            dict_get(&V::Missing, "verb", false),
            Ok(Val::Missing)
        ));
        let object = json!({"Verb": "get"});
        assert_eq!(
            dict_get(&V::Node(&object), "verb", true)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .as_deref(),
            Some("get")
        );
        assert!(matches!(
            dict_get(&V::Node(&object), "verb", false),
            Ok(Val::Missing)
        ));
    }

    #[test]
    fn element_indexes_like_python() {
        let list = json!(["a", "b", "c"]);
        let v = Val::Node(&list);
        assert_eq!(element(&v, 0).as_str(), Some("a"));
        assert_eq!(element(&v, -1).as_str(), Some("c"));
        assert!(matches!(element(&v, 3), Val::Missing));
        assert!(matches!(element(&v, -4), Val::Missing));
        let text = json!("aé€");
        assert_eq!(element(&Val::Node(&text), 1).as_str(), Some("é"));
        assert_eq!(element(&Val::Node(&text), -1).as_str(), Some("€"));
        assert!(matches!(element(&Val::Node(&text), 3), Val::Missing));
        let object = json!({"0": "x"});
        assert!(matches!(element(&Val::Node(&object), 0), Val::Missing));
    }

    #[test]
    fn split_and_after_last() {
        let text: Cow<'_, str> = Cow::Borrowed("core/v1/namespaces/prod/secrets/x");
        assert_eq!(
            split_part::<&Value>(&text, "/", 3, None).as_str(),
            Some("prod")
        );
        assert!(matches!(
            split_part::<&Value>(&text, "/", 6, None),
            Val::Missing
        ));
        let uri: Cow<'_, str> = Cow::Borrowed("/api?a=1?b=2");
        assert_eq!(
            split_part::<&Value>(&uri, "?", 1, Some(1)).as_str(),
            Some("a=1?b=2")
        );
        assert_eq!(
            split_part::<&Value>(&uri, "?", 1, None).as_str(),
            Some("a=1")
        );
        let method: Cow<'_, str> = Cow::Borrowed("io.k8s.core.v1.secrets.get");
        assert_eq!(after_last::<&Value>(&method, ".").as_str(), Some("get"));
        let plain: Cow<'_, str> = Cow::Borrowed("get");
        assert_eq!(after_last::<&Value>(&plain, ".").as_str(), Some("get"));
    }

    #[test]
    fn separators_of_one_character_and_of_several_split_alike() {
        // One character (searched as a `char`), a non-ASCII one, and several.
        for (text, separator, index, part, tail) in [
            ("a/b//c", "/", 2, "", "c"),
            ("aébéc", "é", 1, "b", "c"),
            ("a::b::c", "::", 1, "b", "c"),
            ("a:b::c", "::", 0, "a:b", "c"),
        ] {
            let borrowed: Cow<'_, str> = Cow::Borrowed(text);
            let owned: Cow<'_, str> = Cow::Owned(text.to_owned());
            for text in [&borrowed, &owned] {
                let found = split_part::<&Value>(text, separator, index, None);
                assert_eq!(found.as_str(), Some(part), "{text:?} {separator:?}");
                let found = after_last::<&Value>(text, separator);
                assert_eq!(found.as_str(), Some(tail), "{text:?} {separator:?}");
            }
        }
    }

    #[test]
    fn text_or_empty_is_python_str_with_empty_default() {
        let n = json!(12);
        let null = json!(null);
        assert_eq!(text_or_empty(&V::Node(&n)), "12");
        assert_eq!(text_or_empty(&V::Node(&null)), "");
        assert_eq!(text_or_empty(&V::Missing), "");
    }
}
