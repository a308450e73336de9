//! An alert context: the values a rule's `AlertContext` names for one
//! matching event, in the rule's order, as a small list rather than a hashed
//! map (a rule has a dozen keys at most, written into the generated code, and
//! the context is built for every match but rarely looked up).

use std::borrow::Cow;

use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The entries of an alert context, each key once, in the order they were
/// first set. It serializes as a JSON object of those entries.
///
/// ```
/// use rulec_runtime::AlertContext;
/// use rulec_runtime::serde_json::json;
///
/// let mut context = AlertContext::new();
/// context.insert("username", json!("alice"));
/// context.insert("code", json!(403));
/// assert_eq!(context.get("code"), Some(&json!(403)));
/// assert_eq!(
///     serde_json::to_string(&context).unwrap(),
///     r#"{"username":"alice","code":403}"#
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertContext {
    entries: Vec<(Cow<'static, str>, Value)>,
}

impl AlertContext {
    /// An empty context.
    pub fn new() -> AlertContext {
        AlertContext::default()
    }

    /// An empty context with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> AlertContext {
        AlertContext {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Sets `key` to `value`. A key already set keeps its place and takes
    /// the new value, as in a JSON object; the old value is returned.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find_map(|(k, value)| (k == key).then_some(value))
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(key, value)| (&**key, value))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.iter().map(|(key, _)| &**key)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The context as a JSON object, keys in order.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.clone()))
            .collect()
    }
}

impl<K: Into<Cow<'static, str>>> FromIterator<(K, Value)> for AlertContext {
    /// The entries in order; a repeated key keeps its first place and its
    /// last value, as [`AlertContext::insert`] does.
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(entries: I) -> AlertContext {
        let mut context = AlertContext::new();
        for (key, value) in entries {
            context.insert(key, value);
        }
        context
    }
}

impl From<AlertContext> for Map<String, Value> {
    fn from(context: AlertContext) -> Map<String, Value> {
        context
            .entries
            .into_iter()
            .map(|(key, value)| (key.into_owned(), value))
            .collect()
    }
}

impl From<AlertContext> for Value {
    fn from(context: AlertContext) -> Value {
        Value::Object(context.into())
    }
}

impl Serialize for AlertContext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_set_again_keeps_its_place_and_takes_the_new_value() {
        let mut context = AlertContext::new();
        assert_eq!(context.insert("a", json!(1)), None);
        assert_eq!(context.insert("b", json!(2)), None);
        assert_eq!(context.insert(String::from("a"), json!(3)), Some(json!(1)));
        let entries: Vec<_> = context.iter().collect();
        assert_eq!(entries, [("a", &json!(3)), ("b", &json!(2))]);
        assert_eq!(context.len(), 2);
    }

    #[test]
    fn it_serializes_as_the_json_object_of_its_entries_in_order() {
        let context: AlertContext = [("z", json!("last")), ("a", json!({"b": [1, null]}))]
            .into_iter()
            .collect();
        let text = serde_json::to_string(&context).expect("serializes");
        assert_eq!(text, r#"{"z":"last","a":{"b":[1,null]}}"#);
        assert_eq!(serde_json::to_string(&context.to_map()).ok(), Some(text));
        assert_eq!(
            Value::from(context.clone()),
            json!({"z": "last", "a": {"b": [1, null]}})
        );
        assert!(AlertContext::new().is_empty());
    }

    #[test]
    fn contexts_differ_by_order() {
        let ab: AlertContext = [("a", json!(1)), ("b", json!(2))].into_iter().collect();
        let ba: AlertContext = [("b", json!(2)), ("a", json!(1))].into_iter().collect();
        assert_ne!(ab, ba);
        assert_eq!(ab.get("b"), ba.get("b"));
        assert_eq!(ab.get("c"), None);
    }
}
