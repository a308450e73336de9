//! Reading YAML values with their paths, collecting diagnostics as it goes.
//!
//! Files are parsed once with `yaml_serde` into a `yaml_serde::Value`; typed
//! reading walks that value and records each problem with the path of the
//! node concerned. Paths become `line:col` only when diagnostics are emitted.

use yaml_serde::Value;

use crate::diag::{did_you_mean, Diagnostic, Level, Location};
use crate::ir::Seg;
use crate::locate::{locate, Target};

/// A file given to the compiler.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name diagnostics quote (a path relative to the rules crate).
    pub name: String,
    /// The text.
    pub text: String,
}

/// The path of a node, owned.
pub type YPath = Vec<Seg>;

/// A YAML node and the path that leads to it.
#[derive(Debug, Clone)]
pub struct YNode<'v> {
    /// The value.
    pub value: &'v Value,
    /// Its path from the document root.
    pub path: YPath,
}

impl<'v> YNode<'v> {
    /// The document root.
    pub fn root(value: &'v Value) -> Self {
        YNode {
            value,
            path: Vec::new(),
        }
    }

    /// A child at `seg`.
    pub fn child(&self, value: &'v Value, seg: Seg) -> YNode<'v> {
        let mut path = self.path.clone();
        path.push(seg);
        YNode { value, path }
    }

    /// The path of member `key` of this node.
    pub fn key_path(&self, key: &str) -> YPath {
        let mut path = self.path.clone();
        path.push(Seg::Key(key.to_owned()));
        path
    }
}

/// The member `key` of a mapping's members, as [`Reader::mapping`] returns them.
pub fn member<'v>(members: &[(&str, YNode<'v>)], key: &str) -> Option<YNode<'v>> {
    members
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
}

/// A short name for a YAML value's type, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

struct Pending {
    level: Level,
    path: YPath,
    target: Target,
    message: String,
    help: Option<String>,
    /// Where to report, when known before `finish` (an offset inside a string).
    at: Option<Location>,
}

/// Reads one file, collecting its diagnostics.
pub struct Reader<'f> {
    file: &'f SourceFile,
    pending: Vec<Pending>,
    syntax_error: Option<Diagnostic>,
    /// Nodes inlined so far from definitions and predicates.
    expanded: usize,
}

/// Most diagnostics reported for one file; the rest would be noise.
const MAX_DIAGNOSTICS_PER_FILE: usize = 50;

impl<'f> Reader<'f> {
    /// A reader for `file`.
    pub fn new(file: &'f SourceFile) -> Self {
        Reader {
            file,
            pending: Vec::new(),
            syntax_error: None,
            expanded: 0,
        }
    }

    /// Counts an expression inlined at `path` (a `Use` of a definition or a
    /// `Predicate`) against the file's budget of
    /// [`crate::limits::MAX_EXPANDED_NODES`]; reports and returns false
    /// when the budget, or [`crate::limits::MAX_EXPR_DEPTH`], is exceeded.
    pub fn charge_inlined(
        &mut self,
        path: &[Seg],
        what: &str,
        measure: crate::limits::Measure,
    ) -> bool {
        self.expanded = self.expanded.saturating_add(measure.nodes);
        let total = crate::limits::Measure {
            nodes: self.expanded,
            depth: measure.depth,
        };
        if total.within_limits() {
            return true;
        }
        self.error(
            path,
            crate::limits::expansion_message(&format!("the file, at this {what},"), total),
            Some("inline less: use a definition or predicate once and test its value, or split the rule".to_owned()),
        );
        false
    }

    /// Checks an expression built at `path` against
    /// [`crate::limits::MAX_EXPANDED_NODES`] and
    /// [`crate::limits::MAX_EXPR_DEPTH`]; reports and returns false when over.
    pub fn check_measure(
        &mut self,
        path: &[Seg],
        what: &str,
        measure: crate::limits::Measure,
    ) -> bool {
        if measure.within_limits() {
            return true;
        }
        self.error(
            path,
            crate::limits::expansion_message(what, measure),
            Some("split it: a chain of definitions each using the previous one nests as deep as it is long".to_owned()),
        );
        false
    }

    /// The file.
    pub fn file(&self) -> &'f SourceFile {
        self.file
    }

    /// Parses the file's text; a syntax error is reported at its position.
    /// A file over [`crate::limits::MAX_FILE_BYTES`], or nesting deeper than
    /// [`crate::limits::MAX_YAML_DEPTH`], is an error too.
    pub fn parse(&mut self) -> Option<Value> {
        if self.file.text.len() > crate::limits::MAX_FILE_BYTES {
            self.pending.clear();
            self.syntax_error = Some(Diagnostic {
                level: Level::Error,
                file: self.file.name.clone(),
                location: None,
                message: crate::limits::file_too_large_message(self.file.text.len() as u64),
                help: Some("split the file".to_owned()),
            });
            return None;
        }
        if let Some((line, column)) = crate::limits::flow_too_deep(&self.file.text) {
            self.pending.clear();
            self.syntax_error = Some(Diagnostic {
                level: Level::Error,
                file: self.file.name.clone(),
                location: Some(Location { line, column }),
                message: crate::limits::too_deep_message(),
                help: Some(crate::limits::TOO_DEEP_HELP.to_owned()),
            });
            return None;
        }
        match yaml_serde::from_str::<Value>(&self.file.text) {
            Ok(value) => {
                if let Some(path) = crate::limits::too_deep(&value) {
                    self.error(
                        &path,
                        crate::limits::too_deep_message(),
                        Some(crate::limits::TOO_DEEP_HELP.to_owned()),
                    );
                    return None;
                }
                Some(value)
            }
            Err(error) => {
                // An error without a position (several documents in the
                // file) is reported where the second document starts, or
                // at the start of the file.
                let location = error
                    .location()
                    .map(|l| crate::diag::Location {
                        line: l.line(),
                        column: l.column(),
                    })
                    .or_else(|| crate::locate::second_document(&self.file.text))
                    .or(Some(crate::diag::Location { line: 1, column: 1 }));
                let mut message = error.to_string();
                if let Some(stripped) = message.find(" at line ").map(|at| message[..at].to_owned())
                {
                    message = stripped;
                }
                self.pending.clear();
                // `yaml_serde` stops at 128 levels of nesting: the same error as ours.
                let (message, help) = if message.contains("recursion limit exceeded") {
                    (
                        crate::limits::too_deep_message(),
                        crate::limits::TOO_DEEP_HELP.to_owned(),
                    )
                } else {
                    (
                        format!("invalid YAML: {message}"),
                        "fix the YAML syntax; a YAML linter shows the structure".to_owned(),
                    )
                };
                self.syntax_error = Some(Diagnostic {
                    level: Level::Error,
                    file: self.file.name.clone(),
                    location,
                    message,
                    help: Some(help),
                });
                None
            }
        }
    }

    /// Records an error about the value at `path`.
    pub fn error(&mut self, path: &[Seg], message: impl Into<String>, help: Option<String>) {
        self.push(Level::Error, path, Target::Value, message.into(), help);
    }

    /// Records an error about the key that ends `path`.
    pub fn key_error(&mut self, path: &[Seg], message: impl Into<String>, help: Option<String>) {
        self.push(Level::Error, path, Target::Key, message.into(), help);
    }

    /// Records a warning about the value at `path`.
    pub fn warning(&mut self, path: &[Seg], message: impl Into<String>, help: Option<String>) {
        self.push(Level::Warning, path, Target::Value, message.into(), help);
    }

    fn push(
        &mut self,
        level: Level,
        path: &[Seg],
        target: Target,
        message: String,
        help: Option<String>,
    ) {
        if self.pending.len() < MAX_DIAGNOSTICS_PER_FILE {
            self.pending.push(Pending {
                level,
                path: path.to_vec(),
                target,
                message,
                help,
                at: None,
            });
        }
    }

    /// Records an error at byte `offset` of `text`, the string held by the
    /// node at `path` (`what` names it, for example `condition`). A string
    /// written on one line, plain or quoted, is pointed at that character; a
    /// block scalar or a string over several lines at its start, the message
    /// then ending with `at column N of the <what>`.
    pub fn error_in_string(
        &mut self,
        path: &[Seg],
        text: &str,
        offset: usize,
        what: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let mut message = message.into();
        let start = locate(&self.file.text, path, Target::Value);
        let at = start.and_then(|start| {
            let column = column_in_scalar(&self.file.text, start, text, offset)?;
            Some(Location { column, ..start })
        });
        if at.is_none() {
            let column = text.get(..offset).map_or(offset, |s| s.chars().count()) + 1;
            message.push_str(&format!(" at column {column} of the {what}"));
        }
        let before = self.pending.len();
        self.push(Level::Error, path, Target::Value, message, help);
        if self.pending.len() > before {
            if let Some(pending) = self.pending.last_mut() {
                pending.at = at.or(start);
            }
        }
    }

    /// Whether the file already has as many diagnostics as are reported:
    /// callers skip costly suggestions then (a file of thousands of unknown
    /// names would otherwise compare each with every known one).
    pub fn is_full(&self) -> bool {
        self.pending.len() >= MAX_DIAGNOSTICS_PER_FILE
    }

    /// Whether an error was recorded.
    pub fn has_errors(&self) -> bool {
        self.syntax_error.is_some() || self.pending.iter().any(|p| p.level == Level::Error)
    }

    /// The diagnostics, each located in the file.
    pub fn finish(self) -> Vec<Diagnostic> {
        let file = self.file;
        let mut out: Vec<Diagnostic> = self.syntax_error.into_iter().collect();
        out.extend(self.pending.into_iter().map(|p| Diagnostic {
            level: p.level,
            file: file.name.clone(),
            location: p.at.or_else(|| locate(&file.text, &p.path, p.target)),
            message: p.message,
            help: p.help,
        }));
        // Every position inside the file, end-of-input errors included.
        for diagnostic in &mut out {
            diagnostic.location = diagnostic
                .location
                .map(|at| crate::locate::clamp(&file.text, at));
        }
        out
    }
}

impl<'f> Reader<'f> {
    /// The members of a mapping, in order, keys as strings; reports anything else.
    pub fn mapping<'v>(
        &mut self,
        node: &YNode<'v>,
        what: &str,
    ) -> Option<Vec<(&'v str, YNode<'v>)>> {
        let Value::Mapping(mapping) = node.value else {
            self.error(
                &node.path,
                format!("{what} must be a mapping, found {}", type_name(node.value)),
                None,
            );
            return None;
        };
        let mut members = Vec::with_capacity(mapping.len());
        for (key, value) in mapping {
            match key {
                Value::String(key) => {
                    members.push((key.as_str(), node.child(value, Seg::Key(key.clone()))))
                }
                other => self.error(
                    &node.path,
                    format!(
                        "{what} has a key that is {}, not a string",
                        type_name(other)
                    ),
                    Some("quote the key".to_owned()),
                ),
            }
        }
        Some(members)
    }

    /// The member `key`; reports `<what> without `key`` when it is absent.
    pub fn required<'v>(
        &mut self,
        node: &YNode<'v>,
        members: &[(&str, YNode<'v>)],
        key: &str,
        what: &str,
    ) -> Option<YNode<'v>> {
        let found = member(members, key);
        if found.is_none() {
            self.error(
                &node.path,
                format!("{what} without `{key}`"),
                Some(format!("add `{key}:`, it is required")),
            );
        }
        found
    }

    /// Reports every key not in `allowed`, suggesting the nearest allowed one.
    pub fn unknown_keys(
        &mut self,
        node: &YNode<'_>,
        members: &[(&str, YNode<'_>)],
        allowed: &[&str],
        what: &str,
    ) {
        for (key, _) in members {
            if !allowed.contains(key) {
                let help = match did_you_mean(key, allowed.iter().copied()) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!("the keys of {what} are: {}", allowed.join(", ")),
                };
                self.key_error(
                    &node.key_path(key),
                    format!("unknown key `{key}` in {what}"),
                    Some(help),
                );
            }
        }
    }

    /// The elements of a list; reports anything else.
    pub fn sequence<'v>(&mut self, node: &YNode<'v>, what: &str) -> Option<Vec<YNode<'v>>> {
        match node.value {
            Value::Sequence(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| node.child(item, Seg::Index(i)))
                    .collect(),
            ),
            other => {
                self.error(
                    &node.path,
                    format!("{what} must be a list, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    /// A string; reports anything else.
    pub fn string(&mut self, node: &YNode<'_>, what: &str) -> Option<String> {
        self.text(node, what, false)
    }

    /// A string, or a number or boolean written without quotes (read as its text).
    pub fn scalar_text(&mut self, node: &YNode<'_>, what: &str) -> Option<String> {
        self.text(node, what, true)
    }

    fn text(&mut self, node: &YNode<'_>, what: &str, accept_scalars: bool) -> Option<String> {
        match node.value {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) if accept_scalars => Some(n.to_string()),
            Value::Bool(b) if accept_scalars => Some(b.to_string()),
            other => {
                self.error(
                    &node.path,
                    format!("{what} must be a string, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    /// A boolean (only `true` and `false`, as YAML 1.2 reads them).
    pub fn boolean(&mut self, node: &YNode<'_>, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(*b),
            Value::String(text) => {
                self.error(
                    &node.path,
                    format!("{what} must be true or false, found the string `{text}`"),
                    Some(
                        "write `true` or `false` (YAML 1.2 reads `yes`, `no`, `on` and `off` as strings)"
                            .to_owned(),
                    ),
                );
                None
            }
            other => {
                self.error(
                    &node.path,
                    format!("{what} must be true or false, found {}", type_name(other)),
                    None,
                );
                None
            }
        }
    }

    /// A whole number within `range`.
    pub fn integer(
        &mut self,
        node: &YNode<'_>,
        what: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let value = match node.value {
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        match value {
            Some(v) if range.contains(&v) => Some(v),
            Some(v) => {
                self.error(
                    &node.path,
                    format!("{what} is {v}, out of range"),
                    Some(format!(
                        "use a whole number from {} to {}",
                        range.start(),
                        range.end()
                    )),
                );
                None
            }
            None => {
                self.error(
                    &node.path,
                    format!(
                        "{what} must be a whole number, found {}",
                        type_name(node.value)
                    ),
                    Some(format!(
                        "use a whole number from {} to {}",
                        range.start(),
                        range.end()
                    )),
                );
                None
            }
        }
    }

    /// A list of strings, each unique (optionally ignoring case).
    pub fn unique_strings(
        &mut self,
        node: &YNode<'_>,
        what: &str,
        ignore_case: bool,
    ) -> Option<Vec<String>> {
        let items = self.sequence(node, what)?;
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in &items {
            let Some(text) = self.scalar_text(item, &format!("each entry of {what}")) else {
                ok = false;
                continue;
            };
            let duplicate = out.iter().any(|seen| {
                if ignore_case {
                    seen.eq_ignore_ascii_case(&text)
                } else {
                    *seen == text
                }
            });
            if duplicate {
                let case = if ignore_case { " (ignoring case)" } else { "" };
                self.error(
                    &item.path,
                    format!("duplicate entry `{text}` in {what}{case}"),
                    Some("remove the duplicate".to_owned()),
                );
                ok = false;
            }
            out.push(text);
        }
        ok.then_some(out)
    }
}

/// The column of byte `offset` of the string `scalar`, whose node starts at
/// `start` in `source`, when the string is plain or quoted on one line.
fn column_in_scalar(source: &str, start: Location, scalar: &str, offset: usize) -> Option<usize> {
    let line = source.lines().nth(start.line.checked_sub(1)?)?;
    let (byte, _) = line.char_indices().nth(start.column.checked_sub(1)?)?;
    let written = &line[byte..];
    let wanted = scalar.get(..offset)?.chars().count();
    let quote = match written.chars().next()? {
        '|' | '>' => return None,
        q @ ('"' | '\'') => q,
        _ => return written.starts_with(scalar).then_some(start.column + wanted),
    };
    // Walk the quoted text: each escape (`\x`, `\u..`, `''`) is one character of the string.
    let mut chars = written.chars().skip(1).peekable();
    let (mut column, mut read, mut target) = (start.column + 1, 0, None);
    loop {
        if read == wanted && target.is_none() {
            target = Some(column);
        }
        let width = match chars.next()? {
            '\'' if quote == '\'' && chars.peek() == Some(&'\'') => {
                chars.next();
                2
            }
            c if c == quote => break,
            '\\' if quote == '"' => {
                let digits = match chars.next()? {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                for _ in 0..digits {
                    chars.next()?;
                }
                2 + digits
            }
            _ => 1,
        };
        column += width;
        read += 1;
    }
    target.filter(|_| read == scalar.chars().count())
}
