//! Panther's `event.deep_walk(*keys)`: a path through dicts that fans out over lists.

use std::rc::Rc;

use crate::error::RuleError;
use crate::node::{Kind, Node};
use crate::ops::eq_vals;
use crate::val::{PyType, Val};

/// Python's `PantherEvent.deep_walk(*keys)` with `return_val="all"` and no
/// default: keys are looked up exactly in dicts; a list fans the rest of the
/// path out over its elements and collects what they find (lists found are
/// flattened one level, repeats removed as a Python `OrderedDict` would,
/// `None` skipped). One value found is returned alone, several as a list,
/// none as absent. A leaf that is `null`, `[]` or a list of empty lists is
/// absent. A dict or list collected from a fan-out raises, as hashing it does
/// in Python.
pub fn deep_walk<'a, N: Node<'a>>(node: N, keys: &[&str]) -> Result<Val<'a, N>, RuleError> {
    let Some((key, rest)) = keys.split_first() else {
        return Ok(if node.kind() == Kind::Null || empty_list(node) {
            Val::Missing
        } else {
            Val::Node(node)
        });
    };
    match node.kind() {
        Kind::Object => match node.get(key) {
            Some(child) => deep_walk(child, rest),
            None => Ok(Val::Missing),
        },
        Kind::Array => {
            let mut found: Vec<Val<'a, N>> = Vec::new();
            for element in node.elements() {
                match deep_walk(element, keys)? {
                    Val::Missing => {}
                    Val::List(items) => {
                        for item in Rc::unwrap_or_clone(items) {
                            insert_unique(&mut found, item)?;
                        }
                    }
                    Val::Node(leaf) if leaf.kind() == Kind::Array => {
                        for item in leaf.elements() {
                            insert_unique(&mut found, Val::Node(item))?;
                        }
                    }
                    other => insert_unique(&mut found, other)?,
                }
            }
            Ok(match found.len() {
                0 => Val::Missing,
                1 => found.pop().unwrap_or(Val::Missing),
                _ => Val::list(found),
            })
        }
        _ => Ok(Val::Missing),
    }
}

/// Python's `_empty_list`: a list whose elements are all empty lists, recursively.
fn empty_list<'a, N: Node<'a>>(node: N) -> bool {
    node.kind() == Kind::Array && node.elements().all(empty_list)
}

/// `found[value] = None` on an `OrderedDict`: keeps the first of equal keys
/// (`1`, `1.0` and `True` are one key); dicts and lists cannot be keys.
fn insert_unique<'a, N: Node<'a>>(
    found: &mut Vec<Val<'a, N>>,
    value: Val<'a, N>,
) -> Result<(), RuleError> {
    match value.py_type() {
        PyType::Dict => return Err(RuleError::new("TypeError: unhashable type: 'dict'")),
        PyType::List => return Err(RuleError::new("TypeError: unhashable type: 'list'")),
        PyType::None => {
            // `None` is a key like any other once inside a found list.
            if !found.iter().any(Val::is_none) {
                found.push(value);
            }
            return Ok(());
        }
        _ => {}
    }
    if !found.iter().any(|seen| eq_vals(seen, &value)) {
        found.push(value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn walk(event: &Value, keys: &[&str]) -> Result<Value, RuleError> {
        deep_walk(event, keys).map(|v| v.to_json())
    }

    #[test]
    fn one_value_alone_several_as_a_list_none_absent() {
        let event = json!({"spec": {"volumes": [
            {"hostPath": {"path": "/etc"}},
            {"emptyDir": {}},
            {"hostPath": {"path": "/etc"}},
        ]}});
        assert_eq!(
            walk(&event, &["spec", "volumes", "hostPath", "path"]).ok(),
            Some(json!("/etc"))
        );
        let event = json!({"spec": {"volumes": [
            {"hostPath": {"path": "/etc"}},
            {"hostPath": {"path": "/var"}},
        ]}});
        assert_eq!(
            walk(&event, &["spec", "volumes", "hostPath", "path"]).ok(),
            Some(json!(["/etc", "/var"]))
        );
        assert_eq!(walk(&event, &["spec", "nothing"]).ok(), Some(Value::Null));
    }

    #[test]
    fn keys_are_exact_and_leaf_lists_flatten_inside_a_fan_out() {
        let event = json!({"a": [{"b": [1, 2]}, {"b": [2, 3.0, 3]}, {"B": [9]}]});
        assert_eq!(walk(&event, &["a", "b"]).ok(), Some(json!([1, 2, 3.0])));
        // Without a fan-out the leaf list is returned whole, repeats kept.
        let event = json!({"a": {"b": [1, 1]}});
        assert_eq!(walk(&event, &["a", "b"]).ok(), Some(json!([1, 1])));
        // Empty lists (also nested) are absent.
        let event = json!({"a": {"b": [[], [[]]]}});
        assert_eq!(walk(&event, &["a", "b"]).ok(), Some(Value::Null));
    }

    #[test]
    fn a_dict_found_in_a_fan_out_raises() {
        let event = json!({"a": [{"b": {"c": 1}}, {"b": {"c": 2}}]});
        let err = walk(&event, &["a", "b"]).err();
        assert_eq!(
            err.as_ref().map(RuleError::message),
            Some("TypeError: unhashable type: 'dict'")
        );
        // A dict at the end of a path without lists is returned as is.
        let event = json!({"a": {"b": {"c": 1}}});
        assert_eq!(walk(&event, &["a", "b"]).ok(), Some(json!({"c": 1})));
    }
}
