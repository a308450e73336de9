//! Finds the line and column of a node in a YAML text, by its path.
//!
//! `yaml_serde` attaches the position of the node being read to any error a
//! `Deserialize` implementation raises. To locate a node we read the document
//! once more with a probe that walks down the path and raises at the target;
//! the error carries the target's position. Only diagnostics pay for this.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer as _};

use crate::diag::Location;
use crate::ir::Seg;

const PROBE: &str = "__rulec_probe__";

/// Where the probe should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The value at the path.
    Value,
    /// The key of the last path step (for "unknown key" errors).
    Key,
}

/// The position of the node at `path` in `text`, or of its nearest existing ancestor.
pub fn locate(text: &str, path: &[Seg], target: Target) -> Option<Location> {
    let probe = Probe { path, target };
    let mut deserializer = yaml_serde::Deserializer::from_str(text);
    let error = match deserializer.next() {
        Some(document) => probe.deserialize(document).err()?,
        None => return None,
    };
    error_location(text, &error)
}

/// Where a `yaml_serde` error points, clamped inside `text`.
fn error_location(text: &str, error: &yaml_serde::Error) -> Option<Location> {
    let location = error.location()?;
    Some(clamp(
        text,
        Location {
            line: location.line(),
            column: location.column(),
        },
    ))
}

/// Where the second document of a multi-document text starts (the error
/// `yaml_serde` raises for such a text has no position of its own).
pub fn second_document(text: &str) -> Option<Location> {
    let mut documents = yaml_serde::Deserializer::from_str(text);
    IgnoredAny::deserialize(documents.next()?).ok()?;
    let error = documents.next()?.deserialize_any(Fail).err()?;
    error_location(text, &error)
}

/// `at`, moved inside `text` when it lies beyond it: the YAML parser points
/// errors at the end of input one line past the last one when the text does
/// not end with a line break (and columns can run one past a line's end).
/// A position past the end becomes the end of the last line. Lines are
/// counted on YAML's line breaks (`\r\n`, `\r`, `\n`, NEL, LS, PS), columns
/// in characters.
pub fn clamp(text: &str, at: Location) -> Location {
    let lines = yaml_lines(text);
    let line = at.line.clamp(1, lines.len());
    let length = lines[line - 1].chars().count();
    let column = if line < at.line {
        length + 1
    } else {
        at.column.clamp(1, length + 1)
    };
    Location { line, column }
}

/// `text` split on YAML 1.1 line breaks (`\n`, `\r\n`, `\r`, NEL, LS,
/// PS); at least one (empty) line.
pub fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' => match chars.peek() {
                Some(&(j, '\n')) => {
                    chars.next();
                    j + 1
                }
                _ => i + 1,
            },
            '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        lines.push(&text[start..i]);
        start = end;
    }
    lines.push(&text[start..]);
    lines
}

struct Probe<'p> {
    path: &'p [Seg],
    target: Target,
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.path.first() {
            None => deserializer.deserialize_any(Fail),
            Some(Seg::Key(_)) => deserializer.deserialize_map(self),
            Some(Seg::Index(_)) => deserializer.deserialize_seq(self),
            // YAML paths never hold `[*]`.
            Some(Seg::Each) => deserializer.deserialize_any(Fail),
        }
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(Seg::Key(wanted)) = self.path.first() else {
            return Err(de::Error::custom(PROBE));
        };
        let last = self.path.len() == 1;
        loop {
            let key_seed = KeyProbe {
                wanted,
                fail_on_match: last && self.target == Target::Key,
            };
            match map.next_key_seed(key_seed)? {
                None => return Err(de::Error::custom(PROBE)),
                Some(true) => {
                    return map.next_value_seed(Probe {
                        path: &self.path[1..],
                        target: self.target,
                    });
                }
                Some(false) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(Seg::Index(wanted)) = self.path.first() else {
            return Err(de::Error::custom(PROBE));
        };
        for _ in 0..*wanted {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom(PROBE));
            }
        }
        match seq.next_element_seed(Probe {
            path: &self.path[1..],
            target: self.target,
        })? {
            Some(()) => Err(de::Error::custom(PROBE)),
            None => Err(de::Error::custom(PROBE)),
        }
    }
}

/// Reads one mapping key: whether it is the wanted one, or fails there.
struct KeyProbe<'w> {
    wanted: &'w str,
    fail_on_match: bool,
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        if key == self.wanted {
            if self.fail_on_match {
                return Err(E::custom(PROBE));
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// Fails on whatever node it is given, so the error carries that node's position.
struct Fail;

impl<'de> Visitor<'de> for Fail {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(PROBE))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "RuleID: x\nDetection:\n  - Key: a\n    Condition: Equal\n    Value: 1\nTests:\n  - Name: t\n";

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }

    #[test]
    fn finds_values_and_keys() {
        let path = [key("Detection"), Seg::Index(0), key("Condition")];
        assert_eq!(
            locate(TEXT, &path, Target::Value),
            Some(Location {
                line: 4,
                column: 16
            })
        );
        assert_eq!(
            locate(TEXT, &path, Target::Key),
            Some(Location { line: 4, column: 5 })
        );
        assert_eq!(
            locate(TEXT, &[key("Tests"), Seg::Index(0)], Target::Value),
            Some(Location { line: 7, column: 5 })
        );
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_ancestor() {
        let location = locate(
            TEXT,
            &[key("Detection"), Seg::Index(0), key("Nope")],
            Target::Value,
        );
        assert_eq!(location, Some(Location { line: 3, column: 5 }));
    }

    #[test]
    fn positions_past_the_end_are_clamped_to_it() {
        let at = |line, column| Location { line, column };
        assert_eq!(clamp("a: 1\nbb", at(3, 1)), at(2, 3));
        assert_eq!(clamp("a: 1\nbb\n", at(3, 1)), at(3, 1));
        assert_eq!(clamp("a: 1\nbb", at(1, 9)), at(1, 5));
        assert_eq!(clamp("a\rb\r\nc", at(3, 2)), at(3, 2));
        assert_eq!(clamp("", at(2, 7)), at(1, 1));
    }

    #[test]
    fn finds_the_second_document() {
        let at = |line, column| Location { line, column };
        assert_eq!(second_document("a: 1\n---\nb: 2\n"), Some(at(3, 1)));
        assert_eq!(second_document("a: 1\n"), None);
    }
}
