//! Reads predicate files (`AnalysisType: predicates`, ours): named match
//! expressions that rules reference with `Predicate: <ID>` and that are
//! inlined where they are used.

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::Value;

use crate::diag::{did_you_mean, Diagnostic};
use crate::expr_parse::{parse_expr_list, PredicateLookup, PredicateResolver, Scope};
use crate::ir::{Expr, Seg};
use crate::yaml::{member, Reader, SourceFile, YNode};

/// A compiled predicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    /// `PredicateID`.
    pub id: String,
    /// `Description`.
    pub description: Option<String>,
    /// The expression to inline (a [`Expr::Guarded`] when it has `Requires`).
    pub expr: Expr,
    /// The file it came from.
    pub source_file: String,
}

/// Every predicate of a rule set, by ID.
#[derive(Debug, Clone, Default)]
pub struct PredicateSet {
    /// Predicates by ID.
    pub by_id: BTreeMap<String, Predicate>,
}

impl PredicateResolver for &PredicateSet {
    fn resolve(&mut self, id: &str) -> PredicateLookup {
        match self.by_id.get(id) {
            Some(p) => PredicateLookup::Found(p.expr.clone()),
            None => PredicateLookup::Unknown(
                did_you_mean(id, self.by_id.keys().map(String::as_str)).map(str::to_owned),
            ),
        }
    }
}

const FILE_KEYS: [&str; 3] = ["AnalysisType", "Description", "Predicates"];
const PREDICATE_KEYS: [&str; 5] = [
    "PredicateID",
    "Description",
    "Requires",
    "RequiresMessage",
    "Detection",
];

struct RawPredicate {
    file: usize,
    path: Vec<Seg>,
    value: Value,
}

/// Compiles every predicate in `files`. Fields named with `DataModel` must be
/// defined by some data model (`udm_names`).
pub fn compile_predicates(
    files: &[SourceFile],
    udm_names: &BTreeSet<String>,
) -> (PredicateSet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut raw: BTreeMap<String, RawPredicate> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let mut reader = Reader::new(file);
        if let Some(value) = reader.parse() {
            collect(&mut reader, &value, index, &mut raw);
        }
        diagnostics.extend(reader.finish());
    }
    let mut compiler = Compiler {
        files,
        udm_names,
        raw,
        done: BTreeMap::new(),
        stack: Vec::new(),
        diagnostics,
    };
    let ids: Vec<String> = compiler.raw.keys().cloned().collect();
    for id in ids {
        compiler.resolve(&id);
    }
    let mut set = PredicateSet::default();
    for (id, compiled) in compiler.done {
        if let Some(predicate) = compiled {
            set.by_id.insert(id, predicate);
        }
    }
    (set, compiler.diagnostics)
}

fn collect(
    reader: &mut Reader<'_>,
    value: &Value,
    file: usize,
    raw: &mut BTreeMap<String, RawPredicate>,
) {
    let root = YNode::root(value);
    let Some(members) = reader.mapping(&root, "a predicate file") else {
        return;
    };
    reader.unknown_keys(&root, &members, &FILE_KEYS, "a predicate file");
    let get = |key: &str| member(&members, key);
    match get("AnalysisType") {
        Some(kind) => {
            if reader
                .string(&kind, "`AnalysisType`")
                .is_some_and(|k| k != "predicates")
            {
                reader.error(&kind.path, "expected `AnalysisType: predicates`", None);
            }
        }
        None => reader.error(
            &root.path,
            "predicate file without `AnalysisType: predicates`",
            None,
        ),
    }
    let Some(list) = get("Predicates") else {
        reader.error(&root.path, "predicate file without `Predicates:`", None);
        return;
    };
    for item in reader.sequence(&list, "`Predicates`").unwrap_or_default() {
        let Some(entry) = reader.mapping(&item, "a predicate") else {
            continue;
        };
        reader.unknown_keys(&item, &entry, &PREDICATE_KEYS, "a predicate");
        let Some(id_node) = reader.required(&item, &entry, "PredicateID", "predicate") else {
            continue;
        };
        let Some(id) = reader.string(&id_node, "`PredicateID`") else {
            continue;
        };
        if raw.contains_key(&id) {
            reader.error(
                &id_node.path,
                format!("duplicate predicate `{id}`"),
                Some("predicate IDs are unique across all predicate files".to_owned()),
            );
            continue;
        }
        raw.insert(
            id,
            RawPredicate {
                file,
                path: item.path.clone(),
                value: item.value.clone(),
            },
        );
    }
}

struct Compiler<'a> {
    files: &'a [SourceFile],
    udm_names: &'a BTreeSet<String>,
    raw: BTreeMap<String, RawPredicate>,
    done: BTreeMap<String, Option<Predicate>>,
    stack: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

impl PredicateResolver for Compiler<'_> {
    fn resolve(&mut self, id: &str) -> PredicateLookup {
        if let Some(done) = self.done.get(id) {
            return match done {
                Some(p) => PredicateLookup::Found(p.expr.clone()),
                None => PredicateLookup::Invalid,
            };
        }
        if self.stack.iter().any(|s| s == id) {
            let mut chain = self.stack.clone();
            chain.push(id.to_owned());
            return PredicateLookup::Cycle(chain);
        }
        let Some(raw) = self.raw.get(id) else {
            return PredicateLookup::Unknown(
                did_you_mean(id, self.raw.keys().map(String::as_str)).map(str::to_owned),
            );
        };
        let (file_index, path, value) = (raw.file, raw.path.clone(), raw.value.clone());
        let file = &self.files[file_index];
        self.stack.push(id.to_owned());
        let mut reader = Reader::new(file);
        let compiled = self.compile_one(
            &mut reader,
            id,
            &YNode {
                value: &value,
                path,
            },
        );
        self.stack.pop();
        let ok = !reader.has_errors();
        self.diagnostics.extend(reader.finish());
        let compiled = compiled.filter(|_| ok);
        let lookup = match &compiled {
            Some(p) => PredicateLookup::Found(p.expr.clone()),
            None => PredicateLookup::Invalid,
        };
        self.done.insert(id.to_owned(), compiled);
        lookup
    }
}

impl Compiler<'_> {
    fn compile_one(
        &mut self,
        reader: &mut Reader<'_>,
        id: &str,
        node: &YNode<'_>,
    ) -> Option<Predicate> {
        let entry = reader.mapping(node, "a predicate")?;
        let find = |key: &str| member(&entry, key);
        let udm_names = self.udm_names;
        let scope = Scope {
            udm_names: Some(udm_names),
            allow_computed: true,
            documents: &[],
            definitions: &[],
        };
        let description = match find("Description") {
            Some(d) => Some(reader.string(&d, "`Description`")?),
            None => None,
        };
        let Some(detection) = find("Detection") else {
            reader.error(
                &node.path,
                format!("predicate `{id}` without `Detection`"),
                None,
            );
            return None;
        };
        let body = Expr::All(parse_expr_list(
            reader,
            &detection,
            &scope,
            self,
            "`Detection`",
        )?);
        let expr = match find("Requires") {
            Some(requires) => {
                let requires = Expr::All(parse_expr_list(
                    reader,
                    &requires,
                    &scope,
                    self,
                    "`Requires`",
                )?);
                let message = match find("RequiresMessage") {
                    Some(m) => reader.string(&m, "`RequiresMessage`")?,
                    None => format!("TypeError: predicate {id} requires a value of another type"),
                };
                Expr::Guarded {
                    requires: Box::new(requires),
                    message,
                    body: Box::new(body),
                }
            }
            None => body,
        };
        if !reader.check_measure(
            &node.path,
            &format!("predicate `{id}`"),
            crate::limits::expr_measure(&expr),
        ) {
            return None;
        }
        Some(Predicate {
            id: id.to_owned(),
            description,
            expr,
            source_file: reader.file().name.clone(),
        })
    }
}
