//! Where things are in the repository, and the rule set as the compiler sees
//! it: every rule file under `rules/`, valid or not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rulec_compiler::diag::{Diagnostic, Diagnostics, Level};
use rulec_compiler::ir::RuleIr;
use rulec_compiler::names::rule_module_name;
use rulec_compiler::project::{compile_rule, compile_shared, discover_rule_files, Layout};

/// The workspace root (the directory holding the workspace `Cargo.toml`).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The rules crate: rule files, data models and predicates.
pub fn rules_dir() -> PathBuf {
    root().join("rules")
}

/// A rule file that compiles.
#[derive(Debug, Clone)]
pub struct ValidRule {
    /// Path relative to `rules/`.
    pub file: String,
    /// The module the rule macro generates (`kubernetes_secret_access_denied`).
    pub module: String,
    /// The compiled IR.
    pub ir: RuleIr,
}

/// A rule file that does not compile.
#[derive(Debug, Clone)]
pub struct InvalidRule {
    /// Path relative to `rules/`.
    pub file: String,
    /// Its errors, each quoting `file:line:col`.
    pub diagnostics: Diagnostics,
}

/// Every rule file under `rules/`, compiled.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The ones that compile, sorted by file.
    pub valid: Vec<ValidRule>,
    /// The ones that do not.
    pub invalid: Vec<InvalidRule>,
    /// Errors in data models and predicates (they make every rule invalid).
    pub shared: Diagnostics,
}

impl RuleSet {
    /// Compiles every rule file under `rules_dir`. Two files with the same
    /// RuleID (or RuleIDs that give the same module name) make the later
    /// file invalid.
    pub fn load(rules_dir: &Path) -> RuleSet {
        let layout = Layout::standard(rules_dir);
        let shared = compile_shared(&layout);
        let mut set = RuleSet {
            shared: Diagnostics(shared.diagnostics.errors().cloned().collect()),
            ..RuleSet::default()
        };
        let mut modules: BTreeMap<String, String> = BTreeMap::new();
        for file in discover_rule_files(&layout) {
            let compiled = compile_rule(&layout, &shared, &file);
            let own = Diagnostics(
                compiled
                    .diagnostics
                    .errors()
                    .filter(|d| d.file == file)
                    .cloned()
                    .collect(),
            );
            match compiled.rule {
                Some(ir) if own.0.is_empty() => {
                    let module = rule_module_name(&ir.meta.id);
                    if let Some(other) = modules.get(&module) {
                        let duplicate = Diagnostic {
                            level: Level::Error,
                            file: file.clone(),
                            location: None,
                            message: format!(
                                "RuleID `{}` is also defined in {other} (the same RuleID, or one that gives the same module name `{module}`)",
                                ir.meta.id
                            ),
                            help: Some("give each rule its own RuleID".to_owned()),
                        };
                        set.invalid.push(InvalidRule {
                            file,
                            diagnostics: Diagnostics(vec![duplicate]),
                        });
                        continue;
                    }
                    modules.insert(module.clone(), file.clone());
                    set.valid.push(ValidRule { file, module, ir });
                }
                _ => {
                    let diagnostics = if own.0.is_empty() {
                        // Only the shared files are broken.
                        set.shared.clone()
                    } else {
                        own
                    };
                    set.invalid.push(InvalidRule { file, diagnostics });
                }
            }
        }
        set
    }
}

/// The build's target directory (`CARGO_TARGET_DIR`, relative to `root`, or `root/target`).
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        })
        .unwrap_or_else(|| root.join("target"))
}

/// The `cargo` that runs this command.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `command`, an error naming it unless it succeeds.
pub fn status(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}
