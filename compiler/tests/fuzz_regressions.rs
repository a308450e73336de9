//! The inputs the `front_end` fuzz target found (`fuzz/regressions/front_end/`),
//! checked with the target's invariant: the first byte picks the file kind
//! (`% 3`: rule, data model, predicates), the rest is the file; the front end
//! either generates code that parses, or reports an error, every located
//! diagnostic pointing inside its file.

use std::path::{Path, PathBuf};

use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::diag::Diagnostic;
use rulec_compiler::project::{
    compile_rule_source, compile_shared_sources, source_from_bytes, CompiledRule,
};
use rulec_compiler::yaml::SourceFile;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_dir(dir: &str) -> Vec<SourceFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join("rules").join(dir))
        .expect("the rules directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = format!(
                "{dir}/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            source_from_bytes(&name, std::fs::read(p).expect("readable")).expect("UTF-8")
        })
        .collect()
}

/// Whether `at` is inside `text`, lines counted on `\n` or on YAML's breaks.
fn inside(diagnostic: &Diagnostic, text: &str) -> bool {
    let Some(at) = diagnostic.location else {
        return false;
    };
    let check = |lines: Vec<&str>| {
        at.line >= 1
            && at.column >= 1
            && lines
                .get(at.line - 1)
                .is_some_and(|l| at.column <= l.chars().count() + 1)
    };
    check(text.split('\n').collect())
        || check(
            text.split("\r\n")
                .flat_map(|l| l.split(['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}']))
                .collect(),
        )
}

/// The `front_end` fuzz target's check, on one input.
fn check(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let models = read_dir("data_models");
    let predicates = read_dir("predicates");
    let name = match mode % 3 {
        0 => "fuzz/rule.yml",
        1 => "data_models/aws_eks_audit.yml",
        _ => "predicates/kubernetes.yml",
    };
    let input = match source_from_bytes(name, bytes.to_vec()) {
        Ok(file) => file,
        Err(d) => {
            assert!(inside(&d, &String::from_utf8_lossy(bytes)), "{d}");
            return;
        }
    };
    let swap = |files: &[SourceFile]| -> Vec<SourceFile> {
        let mut files = files.to_vec();
        match files.iter_mut().find(|f| f.name == name) {
            Some(f) => *f = input.clone(),
            None => files.push(input.clone()),
        }
        files
    };
    let (models, predicates) = match mode % 3 {
        1 => (swap(&models), predicates),
        2 => (models, swap(&predicates)),
        _ => (models, predicates),
    };
    let shared = compile_shared_sources(&models, &predicates);
    let compiled: CompiledRule = if mode % 3 == 0 {
        compile_rule_source(&shared, &input)
    } else {
        let rule = repo().join("rules/kubernetes/k8s_secret_access_denied.yml");
        let rule = source_from_bytes(
            "kubernetes/k8s_secret_access_denied.yml",
            std::fs::read(rule).expect("the seed rule"),
        )
        .expect("UTF-8");
        compile_rule_source(&shared, &rule)
    };
    let files: Vec<&SourceFile> = models.iter().chain(&predicates).chain([&input]).collect();
    for d in &compiled.diagnostics.0 {
        if let (Some(file), Some(_)) = (files.iter().find(|f| f.name == d.file), d.location) {
            assert!(inside(d, &file.text), "outside its file: {d}");
        }
    }
    match compiled.rule {
        Some(rule) => {
            let tokens = generate_rule(
                &rule,
                &Options {
                    tracked_files: Vec::new(),
                    with_tests: true,
                },
            );
            if let Err(e) = syn::parse2::<syn::File>(tokens) {
                panic!("generated code does not parse: {e}");
            }
        }
        None => assert!(
            compiled.diagnostics.errors().any(|d| d.location.is_some()),
            "no located error:\n{}",
            compiled.diagnostics
        ),
    }
}

#[test]
fn every_front_end_finding_holds_the_invariant() {
    let dir = repo().join("fuzz/regressions/front_end");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    assert!(!paths.is_empty(), "no inputs under {}", dir.display());
    for path in paths {
        eprintln!("{}", path.display());
        check(&std::fs::read(&path).expect("readable"));
    }
}

/// Where the first error of a rule file holding `text` points (`file:line:col`).
fn first_error_at(text: &str) -> Option<String> {
    let shared = compile_shared_sources(&[], &[]);
    let file = source_from_bytes("r.yml", text.as_bytes().to_vec()).expect("UTF-8");
    let compiled = compile_rule_source(&shared, &file);
    let error = compiled.diagnostics.errors().next()?.to_string();
    error.split(": error").next().map(str::to_owned)
}

#[test]
fn a_yaml_error_at_the_end_of_a_file_without_a_final_newline_is_inside_it() {
    // libyaml points "could not find expected ':'" one line past the last.
    let at = first_error_at("AnalysisType: rule\nRuleID: x\nusername");
    assert_eq!(at.as_deref(), Some("r.yml:3:9"));
}

#[test]
fn a_file_of_several_yaml_documents_is_reported_where_the_second_starts() {
    let at = first_error_at("AnalysisType: rule\n---\nRuleID: x\n");
    assert_eq!(at.as_deref(), Some("r.yml:3:1"));
}
