//! Python's `str()` of a value, as f-strings in Panther's titles print it.

use std::borrow::Cow;
use std::fmt::Write;

use crate::node::{Kind, Node, Number};
use crate::val::Val;

/// `str(value)`: strings as they are, `None`, `True`/`False`, Python number
/// formatting, and Python's `repr` for lists and dicts.
pub fn py_str<'v, 'a, N: Node<'a>>(value: &'v Val<'a, N>) -> Cow<'v, str> {
    match value {
        Val::Missing => Cow::Borrowed("None"),
        Val::Str(text) => Cow::Borrowed(text.as_ref()),
        Val::Node(node) => match node.as_str() {
            Some(text) => Cow::Borrowed(text),
            None => {
                let mut out = String::new();
                write_node_repr(&mut out, *node);
                Cow::Owned(out)
            }
        },
        Val::Json(json) => match json.as_str() {
            Some(text) => Cow::Borrowed(text),
            None => {
                let mut out = String::new();
                write_node_repr(&mut out, &**json);
                Cow::Owned(out)
            }
        },
        Val::List(items) => {
            let mut out = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match item {
                    Val::Node(node) => write_node_repr(&mut out, *node),
                    Val::Str(text) => write_str_repr(&mut out, text),
                    Val::Json(json) => write_node_repr(&mut out, &**json),
                    other => out.push_str(&py_str(other)),
                }
            }
            out.push(']');
            Cow::Owned(out)
        }
    }
}

/// Appends `str(value)` (a template's `{field}`).
pub fn push_str_of<'a, N: Node<'a>>(out: &mut String, value: &Val<'a, N>) {
    out.push_str(&py_str(value));
}

/// Appends `str(value or fallback)` (a template's `{field or "fallback"}`).
pub fn push_or<'a, N: Node<'a>>(out: &mut String, value: &Val<'a, N>, fallback: &str) {
    if value.truthy() {
        out.push_str(&py_str(value));
    } else {
        out.push_str(fallback);
    }
}

/// Appends `str(value)`, or the fallback when the value is absent (a
/// template's `{field default "fallback"}`, Python's `dict.get(key, fallback)`).
pub fn push_default<'a, N: Node<'a>>(out: &mut String, value: &Val<'a, N>, fallback: &str) {
    if matches!(value, Val::Missing) {
        out.push_str(fallback);
    } else {
        out.push_str(&py_str(value));
    }
}

/// Appends `str(value)`, or the fallback when the value is absent or null (a
/// template's `{field ?? "fallback"}`, Python's `deep_get(..., default=fallback)`).
pub fn push_if_null<'a, N: Node<'a>>(out: &mut String, value: &Val<'a, N>, fallback: &str) {
    if value.is_none() {
        out.push_str(fallback);
    } else {
        out.push_str(&py_str(value));
    }
}

/// Python's `repr()` of a JSON node, as printed inside containers.
fn write_node_repr<'a, N: Node<'a>>(out: &mut String, node: N) {
    match node.kind() {
        Kind::Null => out.push_str("None"),
        Kind::Bool => out.push_str(if node.as_bool().unwrap_or(false) {
            "True"
        } else {
            "False"
        }),
        Kind::Number => match node.as_number() {
            Some(Number::Int(i)) => {
                let _ = write!(out, "{i}");
            }
            Some(Number::UInt(u)) => {
                let _ = write!(out, "{u}");
            }
            Some(Number::Float(f)) => out.push_str(&py_float_repr(f)),
            None => out.push_str("None"),
        },
        Kind::String => write_str_repr(out, node.as_str().unwrap_or_default()),
        Kind::Array => {
            out.push('[');
            for (i, item) in node.elements().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_node_repr(out, item);
            }
            out.push(']');
        }
        Kind::Object => {
            out.push('{');
            for (i, (key, item)) in node.members().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, key);
                out.push_str(": ");
                write_node_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// Python's `repr()` of a string: single quotes unless the text holds a single
/// quote and no double quote.
fn write_str_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `repr(float)`: the shortest digits that round-trip, in
/// scientific notation below 1e-4 and from 1e16 up.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".to_owned()
        } else {
            "0.0".to_owned()
        };
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "1.5e16", "-2e-5".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn s(v: &Value) -> String {
        py_str(&Val::Node(v)).into_owned()
    }

    #[test]
    fn scalars_print_like_python() {
        assert_eq!(s(&json!(null)), "None");
        assert_eq!(s(&json!(true)), "True");
        assert_eq!(s(&json!(403)), "403");
        assert_eq!(s(&json!("x")), "x");
        assert_eq!(py_str(&Val::<&Value>::Missing), "None");
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (f, expected) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (123456789012345.6, "123456789012345.6"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (1.5e300, "1.5e+300"),
        ] {
            assert_eq!(py_float_repr(f), expected, "{f}");
        }
    }

    #[test]
    fn containers_print_like_python_repr() {
        assert_eq!(
            s(&json!({"a": [1, "b", null], "c'": true})),
            r#"{'a': [1, 'b', None], "c'": True}"#
        );
    }
}
