//! Loads a rules directory: data models, predicates and rule files, in the
//! order the compiler needs them. The `*_sources` functions do the same on
//! files given as text, for callers that hold the YAML in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::data_model::parse_data_model;
use crate::diag::{Diagnostic, Diagnostics, Level, Location};
use crate::ir::{DataModelIr, RuleIr, Seg};
use crate::limits::{file_too_large_message, MAX_FILE_BYTES};
use crate::locate::{locate, Target};
use crate::predicate::{compile_predicates, PredicateSet};
use crate::rule_file::{parse_rule, Library};
use crate::yaml::SourceFile;

/// Where a rule set's files live, relative to one root directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The root (the rules crate's manifest directory).
    pub root: PathBuf,
    /// Data-model files, relative to the root.
    pub data_models_dir: String,
    /// Predicate files, relative to the root.
    pub predicates_dir: String,
}

impl Layout {
    /// The standard layout: `data_models/` and `predicates/` under `root`.
    pub fn standard(root: impl Into<PathBuf>) -> Self {
        Layout {
            root: root.into(),
            data_models_dir: "data_models".to_owned(),
            predicates_dir: "predicates".to_owned(),
        }
    }
}

/// Data models and predicates, compiled once and shared by every rule.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// Enabled data models.
    pub data_models: Vec<DataModelIr>,
    /// Predicates.
    pub predicates: PredicateSet,
    /// Their diagnostics.
    pub diagnostics: Diagnostics,
    /// Every file read, absolute, so callers can track them.
    pub files: Vec<PathBuf>,
}

/// The result of compiling one rule file.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The rule, when it (and what it uses) compiled without errors.
    pub rule: Option<RuleIr>,
    /// Every diagnostic: of the rule and of the shared files.
    pub diagnostics: Diagnostics,
    /// Every file read, absolute.
    pub files: Vec<PathBuf>,
}

/// Reads the `*.yml` / `*.yaml` files of a directory, sorted by name.
fn read_dir_files(
    layout: &Layout,
    dir: &str,
    diagnostics: &mut Vec<Diagnostic>,
    files: &mut Vec<PathBuf>,
) -> Vec<SourceFile> {
    let full = layout.root.join(dir);
    let Ok(entries) = std::fs::read_dir(&full) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let name = format!(
            "{dir}/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        match read_source(&layout.root, &path, &name) {
            Ok(file) => out.push(file),
            Err(d) => diagnostics.push(d),
        }
        if trackable(&layout.root, &path) {
            files.push(path);
        }
    }
    out
}

/// Whether a file may be tracked (`include_bytes!` by the macro, so cargo
/// rebuilds when it changes): a regular file inside the root, symbolic
/// links followed. A file outside the root, or a device or pipe, must not
/// be read into the build, even on an error path.
fn trackable(root: &Path, path: &Path) -> bool {
    let (Ok(real_root), Ok(real)) = (root.canonicalize(), path.canonicalize()) else {
        return false;
    };
    real.starts_with(&real_root) && std::fs::metadata(&real).is_ok_and(|m| m.is_file())
}

/// Reads a file of the rules root: it must resolve (symbolic links
/// followed) to a file inside the root, and hold at most
/// [`MAX_FILE_BYTES`] bytes of UTF-8.
fn read_source(root: &Path, path: &Path, name: &str) -> Result<SourceFile, Diagnostic> {
    let error = |message: String, help: Option<&str>| Diagnostic {
        level: Level::Error,
        file: name.to_owned(),
        location: None,
        message,
        help: help.map(str::to_owned),
    };
    let cannot_read = |e: std::io::Error| error(format!("cannot read the file: {e}"), None);
    let real_root = root.canonicalize().map_err(cannot_read)?;
    let real = path.canonicalize().map_err(cannot_read)?;
    if !real.starts_with(&real_root) {
        return Err(error(
            format!(
                "`{name}` resolves to `{}`, outside the rules root `{}`",
                real.display(),
                real_root.display()
            ),
            Some("keep rule, data-model and predicate files inside the rules root (a symbolic link must point inside it too)"),
        ));
    }
    if !real.is_file() {
        return Err(error(format!("`{name}` is not a regular file"), None));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&real)
        .and_then(|file| file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(cannot_read)?;
    if bytes.len() > MAX_FILE_BYTES {
        let len = std::fs::metadata(&real).map_or(bytes.len() as u64, |m| m.len());
        return Err(error(file_too_large_message(len), Some("split the file")));
    }
    source_from_bytes(name, bytes)
}

/// A file's bytes as a [`SourceFile`] named `name` (the path diagnostics
/// quote); bytes that are not UTF-8 give an error at the line and column of
/// the first invalid byte, and more than [`MAX_FILE_BYTES`] an error.
pub fn source_from_bytes(name: &str, bytes: Vec<u8>) -> Result<SourceFile, Diagnostic> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Diagnostic {
            level: Level::Error,
            file: name.to_owned(),
            location: None,
            message: file_too_large_message(bytes.len() as u64),
            help: Some("split the file".to_owned()),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]);
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        Diagnostic {
            level: Level::Error,
            file: name.to_owned(),
            location: Some(Location {
                line: valid.matches('\n').count() + 1,
                column: valid[line_start..].chars().count() + 1,
            }),
            message: format!("the file is not UTF-8 (invalid byte at offset {offset})"),
            help: Some("save it as UTF-8".to_owned()),
        }
    })?;
    Ok(SourceFile {
        name: name.to_owned(),
        text,
    })
}

/// Compiles the data models and predicates of a layout.
pub fn compile_shared(layout: &Layout) -> Shared {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let data_model_files = read_dir_files(
        layout,
        &layout.data_models_dir,
        &mut diagnostics,
        &mut files,
    );
    let predicate_files =
        read_dir_files(layout, &layout.predicates_dir, &mut diagnostics, &mut files);
    let mut shared = compile_shared_sources(&data_model_files, &predicate_files);
    diagnostics.append(&mut shared.diagnostics.0);
    shared.diagnostics = Diagnostics(diagnostics);
    shared.files = files;
    shared
}

/// Compiles data models and predicates given as text, without touching the
/// file system: each [`SourceFile`] carries the (virtual) path its
/// diagnostics quote, e.g. `data_models/eks.yml`. This is what
/// [`compile_shared`] does once it has read the files; tools that hold the
/// YAML in memory (fuzz targets, editors) call it directly. The result's
/// `files` is empty.
pub fn compile_shared_sources(data_models: &[SourceFile], predicates: &[SourceFile]) -> Shared {
    let mut diagnostics = Vec::new();
    let mut models: Vec<DataModelIr> = Vec::new();
    for file in data_models {
        let (model, diags) = parse_data_model(file);
        diagnostics.extend(diags);
        models.extend(model);
    }
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for model in &models {
        let text = data_models
            .iter()
            .find(|f| f.name == model.source_file)
            .map_or("", |f| f.text.as_str());
        for (index, log_type) in model.log_types.iter().enumerate() {
            if let Some(other) = owners.insert(log_type, &model.id) {
                let path = [Seg::Key("LogTypes".to_owned()), Seg::Index(index)];
                diagnostics.push(Diagnostic {
                    level: Level::Error,
                    file: model.source_file.clone(),
                    location: locate(text, &path, Target::Value),
                    message: format!(
                        "log type `{log_type}` has two enabled data models: `{other}` and `{}`",
                        model.id
                    ),
                    help: Some("disable one of them (`Enabled: false`)".to_owned()),
                });
            }
        }
    }
    let udm_names: BTreeSet<String> = models
        .iter()
        .flat_map(|m| m.mappings.iter().map(|(n, _)| n.clone()))
        .collect();
    let (predicates, diags) = compile_predicates(predicates, &udm_names);
    diagnostics.extend(diags);
    Shared {
        data_models: models,
        predicates,
        diagnostics: Diagnostics(diagnostics),
        files: Vec::new(),
    }
}

/// Checks that a rule path stays inside the root: relative, no `..`.
pub fn check_rule_path(relative: &str) -> Result<(), String> {
    let path = Path::new(relative);
    if path.is_absolute()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!("rule path `{relative}` must be relative to the rules crate and stay inside it (no `..`)"));
    }
    Ok(())
}

/// Compiles one rule file against already compiled shared files.
pub fn compile_rule(layout: &Layout, shared: &Shared, relative: &str) -> CompiledRule {
    let mut diagnostics: Vec<Diagnostic> = shared.diagnostics.0.clone();
    let mut files = shared.files.clone();
    let fail = |message: String, mut diagnostics: Vec<Diagnostic>, files| {
        diagnostics.push(Diagnostic {
            level: Level::Error,
            file: relative.to_owned(),
            location: None,
            message,
            help: None,
        });
        CompiledRule {
            rule: None,
            diagnostics: Diagnostics(diagnostics),
            files,
        }
    };
    if let Err(message) = check_rule_path(relative) {
        return fail(message, diagnostics, files);
    }
    let path = layout.root.join(relative);
    if trackable(&layout.root, &path) {
        files.push(path.clone());
    }
    let file = match read_source(&layout.root, &path, relative) {
        Ok(file) => file,
        Err(d) => {
            diagnostics.push(d);
            return CompiledRule {
                rule: None,
                diagnostics: Diagnostics(diagnostics),
                files,
            };
        }
    };
    let mut compiled = compile_rule_source(shared, &file);
    compiled.files = files;
    compiled
}

/// Compiles one rule given as text against already compiled shared files,
/// without touching the file system: `file.name` is the (virtual) path its
/// diagnostics quote. This is what [`compile_rule`] does once it has read the
/// file; the result's `files` holds only the shared files' paths.
pub fn compile_rule_source(shared: &Shared, file: &SourceFile) -> CompiledRule {
    let mut diagnostics: Vec<Diagnostic> = shared.diagnostics.0.clone();
    let library = Library {
        data_models: &shared.data_models,
        predicates: &shared.predicates,
    };
    let (rule, diags) = parse_rule(file, &library);
    diagnostics.extend(diags);
    let diagnostics = Diagnostics(diagnostics);
    let rule = rule.filter(|_| !diagnostics.has_errors());
    CompiledRule {
        rule,
        diagnostics,
        files: shared.files.clone(),
    }
}

/// Compiles one rule file of a layout, with its data models and predicates.
pub fn compile_rule_file(layout: &Layout, relative: &str) -> CompiledRule {
    compile_rule(layout, &compile_shared(layout), relative)
}

/// Directories under a rules root that hold no rule files.
pub const NON_RULE_DIRS: [&str; 7] = [
    "data_models",
    "predicates",
    "src",
    "examples",
    "benches",
    "tests",
    "target",
];

/// The rule files under a layout's root (every `*.yml` / `*.yaml` outside
/// the data-model, predicate and crate directories), relative, sorted.
pub fn discover_rule_files(layout: &Layout) -> Vec<String> {
    let skip: Vec<&str> = NON_RULE_DIRS
        .iter()
        .copied()
        .chain([
            layout.data_models_dir.as_str(),
            layout.predicates_dir.as_str(),
        ])
        .collect();
    let mut out = Vec::new();
    let mut stack = vec![layout.root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(&layout.root) else {
                continue;
            };
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            // A symbolic link to a directory is not followed: it could leave
            // the root or loop back into it.
            let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
            if path.is_dir() {
                if !is_link && !skip.contains(&relative.as_str()) && !relative.starts_with('.') {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(relative);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, text: &str) -> SourceFile {
        SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
        }
    }

    const MODEL: &str = "AnalysisType: datamodel\nLogTypes: [Amazon.EKS.Audit]\nDataModelID: m\nEnabled: true\nMappings:\n  - Name: verb\n    Path: $.verb\n";
    const PREDICATES: &str = "AnalysisType: predicates\nPredicates:\n  - PredicateID: Is.Get\n    Detection:\n      - DataModel: verb\n        Condition: Equals\n        Value: get\n";
    const RULE: &str = "AnalysisType: rule\nRuleID: T.Get\nEnabled: true\nLogTypes: [Amazon.EKS.Audit]\nSeverity: Low\nDetection:\n  - Predicate: Is.Get\n";

    #[test]
    fn sources_compile_without_the_file_system() {
        let shared = compile_shared_sources(
            &[source("data_models/m.yml", MODEL)],
            &[source("predicates/p.yml", PREDICATES)],
        );
        assert!(!shared.diagnostics.has_errors(), "{}", shared.diagnostics);
        let compiled = compile_rule_source(&shared, &source("virtual/t.yml", RULE));
        assert!(
            !compiled.diagnostics.has_errors(),
            "{}",
            compiled.diagnostics
        );
        assert_eq!(compiled.rule.map(|r| r.meta.id), Some("T.Get".to_owned()));
    }

    #[test]
    fn a_log_type_with_two_data_models_is_reported_at_its_entry() {
        let other = MODEL.replace("DataModelID: m", "DataModelID: n").replace(
            "[Amazon.EKS.Audit]",
            "\n  - GCP.AuditLog\n  - Amazon.EKS.Audit",
        );
        let shared = compile_shared_sources(
            &[
                source("data_models/m.yml", MODEL),
                source("data_models/n.yml", &other),
            ],
            &[],
        );
        let error = shared.diagnostics.errors().next().map(ToString::to_string);
        assert!(
            error.as_deref().is_some_and(|e| e
                .starts_with("data_models/n.yml:4:5: error: log type `Amazon.EKS.Audit` has two")),
            "{error:?}"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_reported_where_they_are() {
        let error = source_from_bytes("r.yml", b"a: 1\nbb: \xc3\xa9\xff\n".to_vec()).err();
        assert_eq!(
            error.map(|d| d.to_string()),
            Some(
                "r.yml:2:6: error: the file is not UTF-8 (invalid byte at offset 11)\n  = help: save it as UTF-8"
                    .to_owned()
            )
        );
    }

    #[test]
    fn source_diagnostics_quote_the_virtual_path_and_position() {
        let shared = compile_shared_sources(&[source("data_models/m.yml", MODEL)], &[]);
        let broken = RULE.replace("Predicate: Is.Get", "Predicate: No.Such");
        let compiled = compile_rule_source(&shared, &source("virtual/t.yml", &broken));
        assert!(compiled.rule.is_none());
        let error = compiled
            .diagnostics
            .errors()
            .next()
            .map(ToString::to_string);
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.starts_with("virtual/t.yml:7:")),
            "{error:?}"
        );
    }
}
