//! What the fuzz targets share: the pack's files held in memory, the pack
//! compiled once, the check that a diagnostic points inside its file, and
//! the structure-aware event generator of the `differential` target.

pub mod events;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rulec_compiler::diag::Diagnostic;
use rulec_compiler::ir::RuleIr;
use rulec_compiler::locate::yaml_lines;
use rulec_compiler::project::{
    compile_rule_source, compile_shared_sources, discover_rule_files, source_from_bytes, Layout,
    Shared,
};
use rulec_compiler::yaml::SourceFile;
use rulec_runtime::CompiledRule;

/// The rules crate's directory (`rules/` at the repository root).
pub fn rules_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// The pack as text and compiled: what every target starts from.
pub struct Pack {
    /// `data_models/*.yml`, named as the compiler names them.
    pub data_models: Vec<SourceFile>,
    /// `predicates/*.yml`.
    pub predicates: Vec<SourceFile>,
    /// Every rule file, relative to `rules/`.
    pub rules: Vec<SourceFile>,
    /// The data models and predicates, compiled.
    pub shared: Shared,
    /// Every compiled rule of `rulec-rules` with its IR (enabled or not).
    pub compiled: Vec<(&'static CompiledRule, RuleIr)>,
}

fn read_dir(dir: &str) -> Vec<SourceFile> {
    let mut names: Vec<String> = std::fs::read_dir(rules_root().join(dir))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.iter().map(|n| read(&format!("{dir}/{n}"))).collect()
}

fn read(relative: &str) -> SourceFile {
    let bytes = std::fs::read(rules_root().join(relative))
        .unwrap_or_else(|e| panic!("cannot read rules/{relative}: {e}"));
    source_from_bytes(relative, bytes).unwrap_or_else(|d| panic!("{d}"))
}

/// The pack, loaded and compiled on first use.
pub fn pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| {
        let data_models = read_dir("data_models");
        let predicates = read_dir("predicates");
        let shared = compile_shared_sources(&data_models, &predicates);
        assert!(!shared.diagnostics.has_errors(), "{}", shared.diagnostics);
        let rules: Vec<SourceFile> = discover_rule_files(&Layout::standard(rules_root()))
            .iter()
            .map(|f| read(f))
            .collect();
        let compiled = rulec_rules::RULES
            .iter()
            .map(|rule| {
                let source = rules
                    .iter()
                    .find(|s| s.name == rule.meta.source_file)
                    .unwrap_or_else(|| panic!("no rule file {}", rule.meta.source_file));
                let ir = compile_rule_source(&shared, source)
                    .rule
                    .unwrap_or_else(|| panic!("{} does not compile", rule.meta.id));
                (*rule, ir)
            })
            .collect();
        Pack {
            data_models,
            predicates,
            rules,
            shared,
            compiled,
        }
    })
}

/// Whether `diagnostic` has a line and column inside `text`: a line of the
/// text (or the one just after a final line break, where end-of-input errors
/// point), and a column no further than one past that line's last
/// character. Lines are counted on `\n` (as editors do) or on every YAML
/// line break (`\r\n`, `\r`, `\n`, NEL, LS, PS, as the YAML parser does):
/// either is inside.
pub fn located_inside(diagnostic: &Diagnostic, text: &str) -> bool {
    let Some(at) = diagnostic.location else {
        return false;
    };
    if at.line == 0 || at.column == 0 {
        return false;
    }
    let inside = |lines: Vec<&str>| {
        lines
            .get(at.line - 1)
            .is_some_and(|line| at.column <= line.chars().count() + 1)
    };
    inside(text.split('\n').collect()) || inside(yaml_lines(text))
}
