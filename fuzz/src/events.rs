//! Structure-aware events for the `differential` target: JSON objects built
//! from the pack's vocabulary (every key and string of the rules' test
//! events, the pack's log types) with values of every JSON type, either from
//! scratch or by mutating a test event (AKS `properties.log` mutated inside
//! its JSON string too), then written as one NDJSON line that may repeat a
//! key or escape characters as `\uXXXX`, as real producers sometimes do.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};
use rulec_compiler::ir::TestBody;
use serde_json::{Map, Number, Value};

/// What events are built from.
pub struct Vocabulary {
    /// Every object key seen in a test event, at any depth.
    pub keys: Vec<String>,
    /// Every string value seen, plus strings the rules compare with.
    pub strings: Vec<String>,
    /// The pack's log types.
    pub log_types: Vec<String>,
    /// Every test event, with its log type.
    pub events: Vec<(String, Value)>,
}

fn collect(value: &Value, keys: &mut BTreeSet<String>, strings: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                keys.insert(k.clone());
                collect(v, keys, strings);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, keys, strings)),
        Value::String(s) => {
            if let Ok(inner @ (Value::Object(_) | Value::Array(_))) =
                serde_json::from_str::<Value>(s)
            {
                collect(&inner, keys, strings);
            } else if s.len() <= 200 {
                strings.insert(s.clone());
            }
        }
        _ => {}
    }
}

/// The vocabulary, gathered from the pack on first use.
pub fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let mut keys = BTreeSet::new();
        let mut strings = BTreeSet::new();
        let mut log_types = BTreeSet::new();
        let mut events = Vec::new();
        for (rule, ir) in &crate::pack().compiled {
            log_types.extend(rule.meta.log_types.iter().map(|s| (*s).to_owned()));
            for case in &ir.tests {
                let logs: Vec<(&String, &String)> = match &case.body {
                    TestBody::Event(test) => vec![(&test.log_type, &test.log_json)],
                    TestBody::Sequence(test) => test
                        .steps
                        .iter()
                        .take(1)
                        .map(|s| (&s.log_type, &s.log_json))
                        .collect(),
                };
                for (log_type, json) in logs {
                    if let Ok(event) = serde_json::from_str::<Value>(json) {
                        collect(&event, &mut keys, &mut strings);
                        events.push((log_type.clone(), event));
                    }
                }
            }
        }
        for key in [
            "p_log_type",
            "p_event_time",
            "verb",
            "objectRef",
            "user",
            "username",
        ] {
            keys.insert(key.to_owned());
        }
        strings.extend(log_types.iter().cloned());
        for s in [
            "",
            "get",
            "list",
            "secrets",
            "kube-system",
            "system:anonymous",
            "403",
            "None",
            "NaN",
            "2024-01-01T00:00:00Z",
            "2024-01-01 00:00:00.000000000",
            "1.2.3.4",
            "::1",
            "10.0.0.1",
            "not an ip",
        ] {
            strings.insert(s.to_owned());
        }
        Vocabulary {
            keys: keys.into_iter().collect(),
            strings: strings.into_iter().collect(),
            log_types: log_types.into_iter().collect(),
            events,
        }
    })
}

fn pick<'a, T>(u: &mut Unstructured<'_>, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

/// A number: one of the interesting ones, or any integer or finite float.
fn number(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => Value::from(*pick(
            u,
            &[
                0i64,
                1,
                -1,
                2,
                7,
                16,
                17,
                200,
                400,
                401,
                403,
                404,
                409,
                500,
                i64::MIN,
                i64::MAX,
            ],
        )?),
        1 => Value::from(u64::MAX - u64::from(u.arbitrary::<u8>()?)),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<i8>()?),
        4 => Number::from_f64(*pick(
            u,
            &[
                0.0,
                -0.0,
                0.5,
                1.0,
                403.0,
                1e300,
                -1e300,
                1.5e-300,
                1e16,
                9007199254740993.0,
            ],
        )?)
        .map_or(Value::Null, Value::Number),
        _ => Number::from_f64(u.arbitrary::<f64>()?).map_or(Value::Null, Value::Number),
    })
}

/// A string: from the vocabulary, arbitrary, or an embedded JSON document.
fn string(u: &mut Unstructured<'_>, depth: u8) -> Result<String> {
    let vocabulary = vocabulary();
    Ok(match u.int_in_range(0..=7u8)? {
        0..=3 => pick(u, &vocabulary.strings)?.clone(),
        4 => pick(u, &vocabulary.keys)?.clone(),
        5 => u.arbitrary::<String>()?,
        6 => {
            // A vocabulary string changed a little: case, prefix, suffix.
            let base = pick(u, &vocabulary.strings)?.clone();
            match u.int_in_range(0..=3u8)? {
                0 => base.to_uppercase(),
                1 => format!("{}{base}", u.arbitrary::<char>()?),
                2 => format!("{base}{}", u.arbitrary::<char>()?),
                _ => base.chars().rev().collect(),
            }
        }
        // An embedded document, not nested again: each level of JSON in a
        // string doubles the escaping.
        _ if depth < 3 => value(u, 3)?.to_string(),
        _ => u.arbitrary::<String>()?,
    })
}

/// Any JSON value, nesting at most a few levels.
pub fn value(u: &mut Unstructured<'_>, depth: u8) -> Result<Value> {
    let top = if depth >= 4 { 3 } else { 6 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => number(u)?,
        3 => Value::String(string(u, depth)?),
        4 => {
            let len = u.int_in_range(0..=4usize)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(value(u, depth + 1)?);
            }
            Value::Array(items)
        }
        _ => Value::Object(object(u, depth + 1)?),
    })
}

/// An object of vocabulary keys.
fn object(u: &mut Unstructured<'_>, depth: u8) -> Result<Map<String, Value>> {
    let len = u.int_in_range(0..=6usize)?;
    let mut map = Map::new();
    for _ in 0..len {
        let key = if u.ratio(1, 16)? {
            u.arbitrary::<String>()?
        } else {
            pick(u, &vocabulary().keys)?.clone()
        };
        map.insert(key, value(u, depth)?);
    }
    Ok(map)
}

/// The paths to every object member of `value`.
fn member_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(map) = value {
        for (key, child) in map {
            prefix.push(key.clone());
            out.push(prefix.clone());
            member_paths(child, prefix, out);
            prefix.pop();
        }
    }
}

fn parent_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Map<String, Value>> {
    let mut node = value;
    for key in path {
        node = node.as_object_mut()?.get_mut(key)?;
    }
    node.as_object_mut()
}

/// Applies a few random mutations to an object.
fn mutate(u: &mut Unstructured<'_>, event: &mut Value, embedded_depth: u8) -> Result<()> {
    let count = u.int_in_range(0..=6u8)?;
    for _ in 0..count {
        let mut paths = Vec::new();
        member_paths(event, &mut Vec::new(), &mut paths);
        let Some(path) = (if paths.is_empty() {
            None
        } else {
            Some(pick(u, &paths)?.clone())
        }) else {
            if let Value::Object(map) = event {
                map.insert(pick(u, &vocabulary().keys)?.clone(), value(u, 1)?);
            }
            continue;
        };
        let (last, parent_path) = match path.split_last() {
            Some(split) => split,
            None => continue,
        };
        let operation = u.int_in_range(0..=5u8)?;
        let Some(parent) = parent_mut(event, parent_path) else {
            continue;
        };
        match operation {
            0 => {
                parent.shift_remove(last);
            }
            1 | 2 => {
                let replacement = value(u, 2)?;
                parent.insert(last.clone(), replacement);
            }
            3 => {
                let key = pick(u, &vocabulary().keys)?.clone();
                let added = value(u, 2)?;
                parent.insert(key, added);
            }
            4 => {
                // A JSON string holding an object: mutate inside it.
                let Some(Value::String(text)) = parent.get(last) else {
                    continue;
                };
                let Ok(mut inner @ Value::Object(_)) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if embedded_depth < 2 {
                    mutate(u, &mut inner, embedded_depth + 1)?;
                }
                parent.insert(last.clone(), Value::String(inner.to_string()));
            }
            _ => {
                // Move the member under another vocabulary key.
                if let Some(moved) = parent.shift_remove(last) {
                    parent.insert(pick(u, &vocabulary().keys)?.clone(), moved);
                }
            }
        }
    }
    Ok(())
}

/// An event and the log type it names.
pub fn event(u: &mut Unstructured<'_>) -> Result<Value> {
    let vocabulary = vocabulary();
    let mut event = if u.ratio(3, 4)? {
        let (log_type, event) = pick(u, &vocabulary.events)?;
        let mut event = event.clone();
        if let Value::Object(map) = &mut event {
            map.entry("p_log_type")
                .or_insert_with(|| Value::String(log_type.clone()));
        }
        event
    } else {
        let mut map = object(u, 1)?;
        if u.ratio(1, 2)? {
            // An AKS record: the audit event as a JSON string.
            let inner = object(u, 1)?;
            let mut properties = Map::new();
            properties.insert(
                "log".to_owned(),
                Value::String(Value::Object(inner).to_string()),
            );
            map.insert("properties".to_owned(), Value::Object(properties));
        }
        if u.ratio(15, 16)? {
            let log_type = pick(u, &vocabulary.log_types)?.clone();
            map.insert("p_log_type".to_owned(), Value::String(log_type));
        }
        Value::Object(map)
    };
    mutate(u, &mut event, 0)?;
    Ok(event)
}

/// Writes `value` as JSON, sometimes repeating an object's key (with another
/// value first, so the last one wins as in every JSON parser rulec uses) or
/// escaping a string's characters as `\uXXXX`.
pub fn write_line(u: &mut Unstructured<'_>, value: &Value, out: &mut String) -> Result<()> {
    match value {
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for (key, child) in map {
                if u.ratio(1, 32)? {
                    if !first {
                        out.push(',');
                    }
                    write_string(u, key, out)?;
                    out.push(':');
                    let shadowed = crate::events::value(u, 3)?;
                    write_line(u, &shadowed, out)?;
                    first = false;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(u, key, out)?;
                out.push(':');
                write_line(u, child, out)?;
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_line(u, item, out)?;
            }
            out.push(']');
        }
        Value::String(s) => write_string(u, s, out)?,
        other => out.push_str(&other.to_string()),
    }
    Ok(())
}

fn write_string(u: &mut Unstructured<'_>, s: &str, out: &mut String) -> Result<()> {
    if !u.ratio(1, 16)? {
        out.push_str(&Value::String(s.to_owned()).to_string());
        return Ok(());
    }
    out.push('"');
    for c in s.chars() {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out.push('"');
    Ok(())
}
