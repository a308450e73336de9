//! `front_end`: arbitrary bytes as a rule, data-model or predicate file,
//! through the whole front end the `rule!` macro runs (read, parse, validate,
//! lower to IR, generate code).
//!
//! The first byte picks the mode: `% 3` is 0 for a rule file (against the
//! pack's data models and predicates), 1 for a data-model file (in place of
//! the pack's EKS model), 2 for a predicate file (in place of the pack's
//! `kubernetes.yml`); in modes 1 and 2, `/ 3` picks which of the pack's rules
//! is compiled against the changed library. The rest is the file's bytes.
//!
//! Invariant: no panic; either the rule compiles and its generated code
//! (with tests) parses as a Rust file, or there is at least one error, and
//! one of the errors has a line and column inside the file it names. Every
//! diagnostic that has a location has it inside its file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::diag::Diagnostics;
use rulec_compiler::project::{
    compile_rule_source, compile_shared_sources, source_from_bytes, CompiledRule,
};
use rulec_compiler::yaml::SourceFile;
use rulec_fuzz::{located_inside, pack};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let pack = pack();
    let (name, replaced) = match mode % 3 {
        0 => ("fuzz/rule.yml", None),
        1 => ("data_models/aws_eks_audit.yml", Some(&pack.data_models)),
        _ => ("predicates/kubernetes.yml", Some(&pack.predicates)),
    };
    let input = match source_from_bytes(name, bytes.to_vec()) {
        Ok(file) => file,
        Err(diagnostic) => {
            let lossy = String::from_utf8_lossy(bytes);
            assert!(
                located_inside(&diagnostic, &lossy),
                "not located inside the input: {diagnostic}"
            );
            return;
        }
    };
    let compiled = match replaced {
        None => compile_rule_source(&pack.shared, &input),
        Some(_) => {
            let swap = |files: &[SourceFile]| -> Vec<SourceFile> {
                let mut files = files.to_vec();
                match files.iter_mut().find(|f| f.name == name) {
                    Some(file) => *file = input.clone(),
                    None => files.push(input.clone()),
                }
                files
            };
            let (models, predicates) = if mode % 3 == 1 {
                (swap(&pack.data_models), pack.predicates.clone())
            } else {
                (pack.data_models.clone(), swap(&pack.predicates))
            };
            let shared = compile_shared_sources(&models, &predicates);
            let rule = &pack.rules[usize::from(mode / 3) % pack.rules.len()];
            let compiled = compile_rule_source(&shared, rule);
            check_locations(&compiled, &[&models, &predicates, &pack.rules]);
            compiled
        }
    };
    check_locations(&compiled, &[std::slice::from_ref(&input), &pack.rules]);
    match compiled.rule {
        Some(rule) => {
            assert!(!compiled.diagnostics.has_errors());
            let tokens = generate_rule(
                &rule,
                &Options {
                    tracked_files: Vec::new(),
                    with_tests: true,
                },
            );
            if let Err(e) = syn::parse2::<syn::File>(tokens.clone()) {
                panic!("generated code does not parse: {e}\n{tokens}");
            }
        }
        None => {
            assert!(
                has_located_error(&compiled.diagnostics),
                "no error located inside its file:\n{}",
                compiled.diagnostics
            );
        }
    }
});

/// Every located diagnostic points inside the file it names (when that file
/// is one of `files`).
fn check_locations(compiled: &CompiledRule, files: &[&[SourceFile]]) {
    for diagnostic in &compiled.diagnostics.0 {
        let Some(file) = files
            .iter()
            .flat_map(|f| f.iter())
            .find(|f| f.name == diagnostic.file)
        else {
            continue;
        };
        if diagnostic.location.is_some() {
            assert!(
                located_inside(diagnostic, &file.text),
                "outside its file: {diagnostic}\n--- {} ---\n{}",
                file.name,
                file.text
            );
        }
    }
}

fn has_located_error(diagnostics: &Diagnostics) -> bool {
    diagnostics.errors().any(|d| d.location.is_some())
}
