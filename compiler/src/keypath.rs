//! Parses dotted key paths: `a.b`, `a.b[0].c`, `['key.with.dots'].x`.

use crate::ir::Seg;

/// Parses a key path into segments, or says what is wrong with it.
pub fn parse_key_path(text: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut expect_key = true;
    if text.is_empty() {
        return Err("the path is empty".to_owned());
    }
    if text == "@" {
        // The current value itself: the element inside `Expressions`,
        // `Where` and `To` (JMESPath's `@`).
        return Ok(segs);
    }
    while i < bytes.len() {
        match bytes[i] {
            b'[' => {
                let close = text[i..]
                    .find(']')
                    .map(|c| i + c)
                    .ok_or_else(|| format!("unclosed `[` at offset {i}"))?;
                let inner = &text[i + 1..close];
                if inner == "*" {
                    segs.push(Seg::Each);
                } else if let Some(quoted) = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                {
                    segs.push(Seg::Key(quoted.to_owned()));
                } else {
                    let index = inner
                        .parse::<usize>()
                        .map_err(|_| format!("`[{inner}]` is not a list index"))?;
                    segs.push(Seg::Index(index));
                }
                i = close + 1;
                expect_key = false;
            }
            b'.' => {
                if expect_key {
                    return Err(format!("empty key at offset {i}"));
                }
                i += 1;
                expect_key = true;
                if i == bytes.len() {
                    return Err("the path ends with `.`".to_owned());
                }
            }
            _ => {
                let end = text[i..].find(['.', '[']).map_or(text.len(), |e| i + e);
                segs.push(Seg::Key(text[i..end].to_owned()));
                i = end;
                expect_key = false;
            }
        }
    }
    Ok(segs)
}

/// Writes segments back as a key path.
pub fn display_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(key) if key.contains(['.', '[', ']']) => {
                out.push_str(&format!("['{key}']"));
            }
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Each => out.push_str("[*]"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.to_owned())
    }

    #[test]
    fn parses_keys_indexes_and_quoted_keys() {
        assert_eq!(
            parse_key_path("a.b[0].c"),
            Ok(vec![k("a"), k("b"), Seg::Index(0), k("c")])
        );
        assert_eq!(parse_key_path("['x.y'].z"), Ok(vec![k("x.y"), k("z")]));
        assert_eq!(parse_key_path("a/b"), Ok(vec![k("a/b")]));
        assert!(parse_key_path("a..b").is_err());
        assert!(parse_key_path("a[x]").is_err());
        assert!(parse_key_path("").is_err());
    }

    #[test]
    fn display_round_trips() {
        for path in ["a.b[0].c", "['x.y'].z", "objectRef.namespace"] {
            let segs = parse_key_path(path).expect("valid");
            assert_eq!(parse_key_path(&display_path(&segs)), Ok(segs));
        }
    }
}
