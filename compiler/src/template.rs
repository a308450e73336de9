//! Parses output templates: `[{username or "<UNKNOWN_USER>"}] in {namespace}`.
//!
//! `{path}` prints a field with Python's `str()`; `{path or "text"}` prints the
//! text when the value is falsy (Python's `value or "text"`); `{path default
//! "text"}` prints it only when the value is absent (Python's
//! `dict.get(key, "text")`). `{{` and `}}` are literal braces.

use crate::ir::Seg;
use crate::keypath::parse_key_path;

/// A template field before name resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct RawField {
    /// The path as written.
    pub path: Vec<Seg>,
    /// The fallback.
    pub fallback: crate::ir::Fallback,
}

/// A template piece before name resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPart {
    /// Literal text.
    Text(String),
    /// A field.
    Field(RawField),
}

/// Parses a template, or says what is wrong and at which character.
pub fn parse_template(text: &str) -> Result<Vec<RawPart>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err(format!(
                    "unmatched `}}` at character {}; write `}}}}` for a literal brace",
                    at + 1
                ))
            }
            '{' => {
                let mut inner = String::new();
                let mut quote: Option<char> = None;
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    match (quote, c) {
                        (None, '}') => {
                            closed = true;
                            break;
                        }
                        (None, '"' | '\'') => quote = Some(c),
                        (Some(q), c) if c == q => quote = None,
                        _ => {}
                    }
                    inner.push(c);
                }
                if !closed {
                    return Err(format!("unclosed `{{` at character {}", at + 1));
                }
                if !literal.is_empty() {
                    parts.push(RawPart::Text(std::mem::take(&mut literal)));
                }
                parts.push(RawPart::Field(
                    parse_field(inner.trim()).map_err(|e| format!("in `{{{inner}}}`: {e}"))?,
                ));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(RawPart::Text(literal));
    }
    Ok(parts)
}

fn parse_field(inner: &str) -> Result<RawField, String> {
    let (path_text, fallback) = match split_operator(inner) {
        Some((path, op, rest)) => {
            let text = parse_string_literal(rest.trim())?;
            let fallback = match op {
                "or" => crate::ir::Fallback::Or(text),
                "??" => crate::ir::Fallback::IfNull(text),
                _ => crate::ir::Fallback::Default(text),
            };
            (path.trim(), fallback)
        }
        None => (inner, crate::ir::Fallback::None),
    };
    if path_text.is_empty() {
        return Err("empty field name".to_owned());
    }
    if path_text.contains(char::is_whitespace) {
        return Err(format!(
            "`{path_text}` is not a field path; a fallback is written `{{field or \"text\"}}`"
        ));
    }
    Ok(RawField {
        path: parse_key_path(path_text)?,
        fallback,
    })
}

fn split_operator(inner: &str) -> Option<(&str, &'static str, &str)> {
    for op in ["or", "default", "??"] {
        let needle = format!(" {op} ");
        if let Some(at) = inner.find(&needle) {
            return Some((&inner[..at], op, &inner[at + needle.len()..]));
        }
    }
    None
}

fn parse_string_literal(text: &str) -> Result<String, String> {
    let quote = text
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')
        .ok_or_else(|| {
            format!("the fallback `{text}` must be a quoted string, like \"<UNKNOWN>\"")
        })?;
    let body = text[1..]
        .strip_suffix(quote)
        .ok_or_else(|| format!("unclosed string {text}"))?;
    if body.contains(quote) {
        return Err(format!(
            "the fallback {text} contains its own quote character"
        ));
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Fallback;

    #[test]
    fn parses_fields_fallbacks_and_braces() {
        let parts =
            parse_template("[{username or '<U>'}] {{x}} {a.b default \"N\"}{c}").expect("valid");
        assert_eq!(parts.len(), 5);
        assert!(
            matches!(&parts[1], RawPart::Field(RawField { fallback: Fallback::Or(t), .. }) if t == "<U>")
        );
        assert_eq!(parts[2], RawPart::Text("] {x} ".to_owned()));
        assert!(
            matches!(&parts[3], RawPart::Field(RawField { fallback: Fallback::Default(t), path }) if t == "N" && path.len() == 2)
        );
        assert!(matches!(
            &parts[4],
            RawPart::Field(RawField {
                fallback: Fallback::None,
                ..
            })
        ));
    }

    #[test]
    fn reports_mistakes() {
        assert!(parse_template("{a").is_err());
        assert!(parse_template("a}").is_err());
        assert!(parse_template("{}").is_err());
        assert!(parse_template("{a or b}").is_err());
        assert!(parse_template("{a b}").is_err());
    }
}
