//! Reads data-model files (`AnalysisType: datamodel`) into IR.

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::expr_parse::{
    parse_definitions, parse_expr_list, parse_value_expr, NoPredicates, Scope,
};
use crate::ir::{DataModelIr, DocumentIr, Expr, ValueExpr};
use crate::yaml::{member, Reader, SourceFile, YNode};

const KEYS: [&str; 11] = [
    "AnalysisType",
    "DataModelID",
    "DisplayName",
    "Description",
    "Enabled",
    "LogTypes",
    "Filename",
    "Mappings",
    "Documents",
    "Definitions",
    "EventTime",
];

/// Parses one data-model file. `None` when it has errors or is disabled.
pub fn parse_data_model(file: &SourceFile) -> (Option<DataModelIr>, Vec<Diagnostic>) {
    let mut reader = Reader::new(file);
    let model = reader
        .parse()
        .and_then(|value| read_model(&mut reader, &YNode::root(&value), &file.name));
    let ok = !reader.has_errors();
    (model.filter(|_| ok), reader.finish())
}

fn read_model(reader: &mut Reader<'_>, root: &YNode<'_>, source_file: &str) -> Option<DataModelIr> {
    let members = reader.mapping(root, "a data-model file")?;
    reader.unknown_keys(root, &members, &KEYS, "a data model");
    let get = |key: &str| member(&members, key);

    if let Some(kind) = reader.required(root, &members, "AnalysisType", "data model") {
        if reader
            .string(&kind, "`AnalysisType`")
            .is_some_and(|k| k != "datamodel")
        {
            reader.error(&kind.path, "expected `AnalysisType: datamodel`", None);
        }
    }
    let id = reader
        .required(root, &members, "DataModelID", "data model")
        .and_then(|n| reader.string(&n, "`DataModelID`"));
    let enabled = reader
        .required(root, &members, "Enabled", "data model")
        .and_then(|n| reader.boolean(&n, "`Enabled`"));
    let log_types = reader
        .required(root, &members, "LogTypes", "data model")
        .and_then(|n| reader.unique_strings(&n, "`LogTypes`", false));
    if let Some(filename) = get("Filename") {
        reader.key_error(
            &filename.path,
            "`Filename` points to Python methods, which rulec does not run",
            Some(
                "express each `Method` mapping as a `Value:` transform and remove `Filename`"
                    .to_owned(),
            ),
        );
    }

    let mut documents = Vec::new();
    let mut document_names = Vec::new();
    if let Some(list) = get("Documents") {
        for item in reader.sequence(&list, "`Documents`").unwrap_or_default() {
            let scope = Scope {
                udm_names: None,
                allow_computed: true,
                documents: &document_names,
                definitions: &[],
            };
            if let Some(document) = read_document(reader, &item, &scope) {
                document_names.push(document.name.clone());
                documents.push(document);
            }
        }
    }
    let definitions = match get("Definitions") {
        Some(list) => parse_definitions(reader, &list, None, &document_names).unwrap_or_default(),
        None => Vec::new(),
    };

    let event_time = match get("EventTime") {
        Some(node) => Some(read_plain_path(reader, &node, "`EventTime`")?),
        None => None,
    };
    let mut mappings: Vec<(String, ValueExpr)> = Vec::new();
    let mut seen = BTreeSet::new();
    let scope = Scope {
        udm_names: None,
        allow_computed: true,
        documents: &document_names,
        definitions: &definitions,
    };
    match reader.required(root, &members, "Mappings", "data model") {
        Some(list) => {
            for item in reader.sequence(&list, "`Mappings`").unwrap_or_default() {
                if let Some((name, value)) = read_mapping(reader, &item, &scope) {
                    if !seen.insert(name.clone()) {
                        reader.error(
                            &item.path,
                            format!("the field `{name}` is mapped twice"),
                            Some("keep one mapping per name".to_owned()),
                        );
                    }
                    mappings.push((name, value));
                }
            }
        }
        None => return None,
    }
    if !enabled? {
        return None;
    }
    Some(DataModelIr {
        id: id?,
        log_types: log_types?,
        documents,
        mappings,
        event_time,
        source_file: source_file.to_owned(),
    })
}

fn read_document(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<DocumentIr> {
    let entry = reader.mapping(node, "a document")?;
    reader.unknown_keys(node, &entry, &["Name", "Decode", "When"], "a document");
    let find = |key: &str| member(&entry, key);
    let name = reader
        .required(node, &entry, "Name", "document")
        .and_then(|n| reader.string(&n, "`Name`"));
    let source = reader
        .required(node, &entry, "Decode", "document")
        .and_then(|n| parse_value_expr(reader, &n, scope));
    let when = match find("When") {
        Some(n) => Some(Expr::All(parse_expr_list(
            reader,
            &n,
            scope,
            &mut NoPredicates,
            "`When`",
        )?)),
        None => None,
    };
    Some(DocumentIr {
        name: name?,
        when,
        source: source?,
    })
}

fn read_mapping(
    reader: &mut Reader<'_>,
    node: &YNode<'_>,
    scope: &Scope<'_>,
) -> Option<(String, ValueExpr)> {
    let entry = reader.mapping(node, "a mapping")?;
    reader.unknown_keys(
        node,
        &entry,
        &["Name", "Path", "Method", "Value"],
        "a mapping",
    );
    let find = |key: &str| member(&entry, key);
    let name = reader.required(node, &entry, "Name", "mapping")?;
    let name = reader.string(&name, "`Name`")?;
    if let Some(method) = find("Method") {
        reader.error(
            &method.path,
            format!("`Method` mappings are Python, which rulec does not run (field `{name}`)"),
            Some(
                "replace `Method:` with a `Value:` transform (see the rule-format reference)"
                    .to_owned(),
            ),
        );
        return None;
    }
    let value = match (find("Path"), find("Value")) {
        (Some(path), None) => ValueExpr::EventPath {
            keys: read_plain_path(reader, &path, "`Path`")?,
            case_insensitive: false,
        },
        (None, Some(value)) => parse_value_expr(reader, &value, scope)?,
        _ => {
            reader.error(
                &node.path,
                format!("mapping `{name}` needs exactly one of `Path` or `Value`"),
                None,
            );
            return None;
        }
    };
    Some((name, value))
}

/// Reads a plain JSONPath (`$.a.b`, or `a.b`) into its keys.
fn read_plain_path(reader: &mut Reader<'_>, node: &YNode<'_>, what: &str) -> Option<Vec<String>> {
    let text = reader.string(node, what)?;
    if text.contains(['*', '[', '?']) {
        reader.error(
            &node.path,
            format!("JSONPath `{text}` uses wildcards, filters or indexes, which rulec does not support"),
            Some("use a plain path like `$.a.b`".to_owned()),
        );
        return None;
    }
    let keys = text.strip_prefix("$.").unwrap_or(&text);
    let keys: Vec<String> = keys.split('.').map(str::to_owned).collect();
    if keys.iter().any(String::is_empty) {
        reader.error(
            &node.path,
            format!("invalid path `{text}`"),
            Some("write `$.a.b`".to_owned()),
        );
        return None;
    }
    Some(keys)
}
