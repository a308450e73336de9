//! URL query strings and `key=value` lists: Python's `urlparse(...).query`,
//! `parse_qs` and the split-and-assign loops rules write by hand.

use std::borrow::Cow;

use crate::node::Node;
use crate::val::Val;

/// Python's `urllib.parse.urlsplit(url).query`: the text after the first `?`
/// and before the first `#` (tabs and line breaks removed, leading spaces and
/// control characters stripped first); `""` without a `?`. Not a string: absent.
pub fn url_query<'a, N: Node<'a>>(value: &Val<'a, N>) -> Val<'a, N> {
    let Some(url) = value.as_str() else {
        return Val::Missing;
    };
    let url = url.trim_start_matches(|c: char| c <= ' ');
    let cleaned: Cow<'_, str> = if url.contains(['\t', '\r', '\n']) {
        Cow::Owned(url.replace(['\t', '\r', '\n'], ""))
    } else {
        Cow::Borrowed(url)
    };
    let before_fragment = cleaned.split('#').next().unwrap_or("");
    let query = before_fragment
        .split_once('?')
        .map_or("", |(_, query)| query);
    Val::Str(Cow::Owned(query.to_owned()))
}

/// Python's `urllib.parse.parse_qs(query)`: a dict from each name to the list
/// of its values, in order of first appearance. Pairs are separated by `&`;
/// a pair without `=` or with an empty value is dropped; `+` is a space and
/// `%XX` escapes are decoded as UTF-8 (invalid sequences replaced). Not a
/// string: absent.
pub fn query_params<'a, N: Node<'a>>(value: &Val<'a, N>) -> Val<'a, N> {
    let Some(query) = value.as_str() else {
        return Val::Missing;
    };
    let mut params = serde_json::Map::new();
    for pair in query.split('&') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let value = serde_json::Value::String(form_decode(value));
        match params.entry(form_decode(name)) {
            serde_json::map::Entry::Occupied(mut entry) => {
                if let serde_json::Value::Array(values) = entry.get_mut() {
                    values.push(value);
                }
            }
            serde_json::map::Entry::Vacant(entry) => {
                entry.insert(serde_json::Value::Array(vec![value]));
            }
        }
    }
    Val::json(serde_json::Value::Object(params))
}

/// `unquote(text.replace("+", " "))`.
fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A dict from a `key=value` list, as the Python loop
/// `for part in text.split(separator): if assign in part: k, v = part.split(assign, 1); d[k] = v`
/// builds it: no decoding, later keys win (keeping the first one's place),
/// parts without `assign` skipped. Not a string: absent.
pub fn split_pairs<'a, N: Node<'a>>(
    value: &Val<'a, N>,
    separator: &str,
    assign: &str,
) -> Val<'a, N> {
    let Some(text) = value.as_str() else {
        return Val::Missing;
    };
    let mut pairs = serde_json::Map::new();
    for part in text.split(separator) {
        if let Some((key, value)) = part.split_once(assign) {
            pairs.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
        }
    }
    Val::json(serde_json::Value::Object(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn s(text: &str) -> Val<'static, &'static Value> {
        Val::Str(Cow::Owned(text.to_owned()))
    }

    #[test]
    fn url_query_is_between_the_first_question_mark_and_the_fragment() {
        let q = |t: &str| url_query(&s(t)).to_json();
        assert_eq!(
            q("/api/v1/pods/x/exec?command=tar&command=cf#frag?no"),
            json!("command=tar&command=cf")
        );
        assert_eq!(q("/api/v1/pods?a=1?b=2"), json!("a=1?b=2"));
        assert_eq!(q("/api/v1/pods"), json!(""));
        assert_eq!(q("  /p?x=\t1"), json!("x=1"));
        assert_eq!(url_query::<&Value>(&Val::Missing).to_json(), Value::Null);
    }

    #[test]
    fn query_params_follows_parse_qs() {
        let p = |t: &str| query_params(&s(t)).to_json();
        assert_eq!(
            p("command=tar&command=cf&command=-&command=%2Fetc%2Fpasswd&stdout=true"),
            json!({"command": ["tar", "cf", "-", "/etc/passwd"], "stdout": ["true"]})
        );
        // Blank values and pairs without `=` are dropped; `+` is a space.
        assert_eq!(
            p("a=&b&c=x+y&=v&&d=%ZZ"),
            json!({"c": ["x y"], "": ["v"], "d": ["%ZZ"]})
        );
        assert_eq!(p(""), json!({}));
    }

    #[test]
    fn split_pairs_keeps_raw_text_and_the_last_value() {
        let p = |t: &str| split_pairs(&s(t), "&", "=").to_json();
        assert_eq!(
            p("limit=500&x&a=b=c&limit=1"),
            json!({"limit": "1", "a": "b=c"})
        );
        let keys: Vec<String> = match p("b=1&a=2&b=3") {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        assert_eq!(keys, ["b", "a"]);
    }
}
