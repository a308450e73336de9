//! Limits on what one file may ask of the compiler, so a hostile or runaway
//! rule, data model or predicate file gives an error, never a hang, an
//! exhausted memory or a stack overflow. `docs/rule-format.md` ("Limits and
//! hostile input") states them.

use yaml_serde::Value;

use crate::ir::{DataModelIr, Expr, FieldRef, Seg, ValueExpr};
use crate::yaml::YPath;

/// Largest file the compiler reads: 2 MiB (the largest file of the rule
/// pack and its test suites, a converted Sigma rule, is under 0.5 MiB).
pub const MAX_FILE_BYTES: usize = 2 << 20;

/// Deepest nesting of YAML mappings and lists in a file (the rule pack's
/// deepest file nests 24 levels; each `All:`/`Any:` level is two).
/// `yaml_serde` itself stops at 128 levels; this limit comes first.
pub const MAX_YAML_DEPTH: usize = 64;

/// Most nodes one file's expressions may hold once definitions (`Use`) and
/// predicates are inlined: without it, definitions that each use the
/// previous one twice double in size at every step.
pub const MAX_EXPANDED_NODES: usize = 200_000;

/// Deepest nesting of one expression once definitions and predicates are
/// inlined (a chain of definitions each wrapping the previous one nests as
/// deep as the chain is long).
pub const MAX_EXPR_DEPTH: usize = 200;

/// The size (nodes) and depth of a boolean expression, data-model fields
/// counted as leaves.
pub fn expr_measure(expr: &Expr) -> Measure {
    expr_with(expr, &|_| Measure::LEAF)
}

/// The size (nodes) and depth of a value transform, data-model fields
/// counted as leaves.
pub fn value_measure(value: &ValueExpr) -> Measure {
    value_with(value, &|_| Measure::LEAF)
}

/// The size and depth of a rule's expression as the code generator writes
/// it: each data-model field counts as the largest mapping of that name in
/// `models` (the generator inlines it for each log type).
pub fn expr_measure_in(expr: &Expr, models: &[DataModelIr]) -> Measure {
    expr_with(expr, &|name| {
        models
            .iter()
            .filter_map(|m| m.mapping(name))
            .map(value_measure)
            .fold(Measure::LEAF, |a, b| Measure {
                nodes: a.nodes.max(b.nodes),
                depth: a.depth.max(b.depth),
            })
    })
}

/// How a data-model field counts.
type Udm<'u> = &'u dyn Fn(&str) -> Measure;

fn expr_with(expr: &Expr, udm: Udm<'_>) -> Measure {
    let m = match expr {
        Expr::Const(_) => Measure::LEAF,
        Expr::All(items) | Expr::Any(items) | Expr::OnlyOne(items) | Expr::NoneOf(items) => {
            Measure::of_all(items.iter().map(|e| expr_with(e, udm)))
        }
        Expr::Not(inner) => expr_with(inner, udm),
        Expr::Pair { left, right, .. } => {
            Measure::of_all([field_with(left, udm), field_with(right, udm)])
        }
        Expr::Each { list, body, .. } => {
            Measure::of_all([field_with(list, udm), expr_with(body, udm)])
        }
        Expr::Test { field, .. } => field_with(field, udm),
        Expr::Guarded { requires, body, .. } => {
            Measure::of_all([expr_with(requires, udm), expr_with(body, udm)])
        }
    };
    m.wrapped()
}

fn field_with(field: &FieldRef, udm: Udm<'_>) -> Measure {
    match field {
        FieldRef::Event(_) => Measure::LEAF,
        FieldRef::Udm { name, .. } => udm(name),
        FieldRef::Computed(value) => value_with(value, udm).wrapped(),
    }
}

/// The size (nodes) and depth of a value transform.
fn value_with(value: &ValueExpr, udm: Udm<'_>) -> Measure {
    let m = match value {
        ValueExpr::Missing
        | ValueExpr::Literal(_)
        | ValueExpr::Const(_)
        | ValueExpr::DeepWalk(_)
        | ValueExpr::EventPath { .. }
        | ValueExpr::DocPath { .. }
        | ValueExpr::DocGet { .. } => Measure::LEAF,
        ValueExpr::Field(field) => field_with(field, udm),
        ValueExpr::Lower(of)
        | ValueExpr::UrlDecode(of)
        | ValueExpr::Keys(of)
        | ValueExpr::Distinct(of)
        | ValueExpr::UrlQuery(of)
        | ValueExpr::QueryParams(of)
        | ValueExpr::Sort(of)
        | ValueExpr::Flatten(of)
        | ValueExpr::Text(of)
        | ValueExpr::ListOfTruthy(of)
        | ValueExpr::Join { of, .. }
        | ValueExpr::SplitPairs { of, .. }
        | ValueExpr::Element { of, .. }
        | ValueExpr::DictGet { of, .. }
        | ValueExpr::SplitPart { of, .. }
        | ValueExpr::AfterLast { of, .. } => value_with(of, udm),
        ValueExpr::Object(entries) => {
            Measure::of_all(entries.iter().map(|(_, v)| value_with(v, udm)))
        }
        ValueExpr::After { list, filter } => {
            Measure::of_all([value_with(list, udm), expr_with(filter, udm)])
        }
        ValueExpr::Each { list, filter, to } => Measure::of_all(
            [value_with(list, udm)]
                .into_iter()
                .chain(filter.as_deref().map(|e| expr_with(e, udm)))
                .chain(to.as_deref().map(|v| value_with(v, udm))),
        ),
        ValueExpr::Concat(items)
        | ValueExpr::FirstTruthy(items)
        | ValueExpr::FirstPresent(items) => {
            Measure::of_all(items.iter().map(|v| value_with(v, udm)))
        }
        ValueExpr::If {
            condition,
            then,
            otherwise,
        } => Measure::of_all([
            expr_with(condition, udm),
            value_with(then, udm),
            value_with(otherwise, udm),
        ]),
    };
    m.wrapped()
}

/// How big and how deep an expression is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Measure {
    /// Nodes (saturating).
    pub nodes: usize,
    /// Nesting depth.
    pub depth: usize,
}

impl Measure {
    const LEAF: Measure = Measure { nodes: 0, depth: 0 };

    fn of_all(parts: impl IntoIterator<Item = Measure>) -> Measure {
        parts.into_iter().fold(Measure::LEAF, |acc, m| Measure {
            nodes: acc.nodes.saturating_add(m.nodes),
            depth: acc.depth.max(m.depth),
        })
    }

    fn wrapped(self) -> Measure {
        Measure {
            nodes: self.nodes.saturating_add(1),
            depth: self.depth + 1,
        }
    }

    /// Whether it is within [`MAX_EXPANDED_NODES`] and [`MAX_EXPR_DEPTH`].
    pub fn within_limits(self) -> bool {
        self.nodes <= MAX_EXPANDED_NODES && self.depth <= MAX_EXPR_DEPTH
    }
}

/// The message for an expression over the limits.
pub fn expansion_message(what: &str, measure: Measure) -> String {
    format!(
        "{what} expands to {} nodes nested {} deep once definitions and predicates are inlined, over rulec's limits ({MAX_EXPANDED_NODES} nodes, {MAX_EXPR_DEPTH} deep)",
        measure.nodes, measure.depth
    )
}

/// Deepest nesting of flow collections (`[...]`, `{...}`) the compiler
/// hands to `yaml_serde`, found by a scan of the text before parsing:
/// `yaml_serde`'s parser takes time quadratic in that depth (16 s for
/// 10,000 levels in a debug build, the proc macro's), although its own
/// recursion limit then refuses the file. Beyond [`MAX_YAML_DEPTH`] the file
/// is refused anyway; this bound only has to stop the quadratic scan early.
pub const MAX_FLOW_SCAN_DEPTH: usize = 2 * MAX_YAML_DEPTH;

/// The 1-based line and column of the first flow indicator (`[` or `{`)
/// nested deeper than [`MAX_FLOW_SCAN_DEPTH`] in a YAML text, if any.
///
/// A linear scan: quoted scalars (starting where a token may start),
/// comments and block scalars (`|`, `>`) are skipped, so brackets inside
/// strings do not count; brackets inside plain scalars (`a[0]`) do, but
/// they close at once.
pub fn flow_too_deep(text: &str) -> Option<(usize, usize)> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut quote = Quote::None;
    let mut depth = 0usize;
    // Indentation of the line that opened a block scalar, while inside it.
    let mut block_scalar: Option<usize> = None;
    for (line_index, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut previous = ' ';
        let mut escaped = false;
        let mut last_token = ' ';
        for (column, c) in line.chars().enumerate() {
            match quote {
                Quote::Double => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        quote = Quote::None;
                    }
                }
                Quote::Single => {
                    if c == '\'' {
                        quote = Quote::None;
                    }
                }
                Quote::None => {
                    let token_start =
                        matches!(previous, ' ' | '\t' | '[' | '{' | ',' | ':' | '-' | '?');
                    match c {
                        '#' if matches!(previous, ' ' | '\t') || column == 0 => break,
                        '"' if token_start || column == 0 => quote = Quote::Double,
                        '\'' if token_start || column == 0 => quote = Quote::Single,
                        '[' | '{' => {
                            depth += 1;
                            if depth > MAX_FLOW_SCAN_DEPTH {
                                return Some((line_index + 1, column + 1));
                            }
                        }
                        ']' | '}' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    if !c.is_whitespace() {
                        last_token = c;
                    }
                }
            }
            previous = c;
        }
        // `key: |`, `- >-`, `key: |2`: the lines below, more indented, are text.
        if quote == Quote::None && depth == 0 {
            let trimmed = line.split(" #").next().unwrap_or("").trim_end();
            let indicator =
                trimmed.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
            if (indicator.ends_with(" |")
                || indicator.ends_with(" >")
                || indicator == "|"
                || indicator == ">")
                && matches!(last_token, '|' | '>' | '-' | '+' | '0'..='9')
            {
                block_scalar = Some(indent);
            }
        }
    }
    None
}

/// The message for a file over [`MAX_FILE_BYTES`].
pub fn file_too_large_message(len: u64) -> String {
    format!(
        "the file is {len} bytes, over rulec's limit of {MAX_FILE_BYTES} bytes ({} MiB)",
        MAX_FILE_BYTES >> 20
    )
}

/// The message for a file nesting deeper than [`MAX_YAML_DEPTH`].
pub fn too_deep_message() -> String {
    format!(
        "the file nests mappings and lists more than {MAX_YAML_DEPTH} levels deep (rulec's limit)"
    )
}

/// The help for a file nesting too deep.
pub const TOO_DEEP_HELP: &str =
    "flatten the expression: `All` inside `All` (or `Any` inside `Any`) can be one list, and a predicate or a definition can name a part";

/// The path of the first node (depth first, in document order) nested
/// deeper than [`MAX_YAML_DEPTH`], if any. Iterative: the walk itself
/// cannot overflow the stack, whatever the depth.
pub fn too_deep(root: &Value) -> Option<YPath> {
    // Each entry: a node, its depth, and the path that leads to it.
    let mut stack: Vec<(&Value, usize, YPath)> = vec![(root, 0, Vec::new())];
    while let Some((value, depth, path)) = stack.pop() {
        if depth > MAX_YAML_DEPTH {
            return Some(path);
        }
        let value = match value {
            Value::Tagged(tagged) => &tagged.value,
            other => other,
        };
        match value {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    let mut child = path.clone();
                    child.push(Seg::Index(i));
                    stack.push((item, depth + 1, child));
                }
            }
            Value::Mapping(mapping) => {
                let children: Vec<_> = mapping.iter().collect();
                for (key, item) in children.into_iter().rev() {
                    let mut child = path.clone();
                    child.push(match key {
                        Value::String(k) => Seg::Key(k.clone()),
                        _ => Seg::Key(String::new()),
                    });
                    stack.push((item, depth + 1, child));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_flow(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn scans_flow_depth_outside_strings_comments_and_block_scalars() {
        let deep = "[".repeat(MAX_FLOW_SCAN_DEPTH + 1);
        assert_eq!(
            flow_too_deep(&format!("a: {deep}")),
            Some((1, MAX_FLOW_SCAN_DEPTH + 4))
        );
        assert_eq!(flow_too_deep(&format!("a: '{deep}'")), None);
        assert_eq!(flow_too_deep(&format!("a: \"{deep}\\\"\"")), None);
        assert_eq!(flow_too_deep(&format!("a: 1 # {deep}")), None);
        assert_eq!(flow_too_deep(&format!("a: |\n  {deep}\n  x\nb: 1")), None);
        assert_eq!(
            flow_too_deep(&format!("a: >-\n  {deep}\nb: [{deep}")),
            Some((3, MAX_FLOW_SCAN_DEPTH + 4))
        );
        // An apostrophe inside a plain scalar does not open a string.
        assert!(flow_too_deep(&format!("a: it's {deep}")).is_some());
        assert_eq!(flow_too_deep("KeyPath: a.b[0].c[1]\nValue: '[x'"), None);
    }

    #[test]
    fn finds_the_first_node_too_deep() {
        let ok: Value = yaml_serde::from_str(&nested_flow(MAX_YAML_DEPTH)).expect("parses");
        assert_eq!(too_deep(&ok), None);
        let deep: Value = yaml_serde::from_str(&nested_flow(MAX_YAML_DEPTH + 1)).expect("parses");
        let path = too_deep(&deep).expect("too deep");
        assert_eq!(path.len(), MAX_YAML_DEPTH + 1);
    }
}
