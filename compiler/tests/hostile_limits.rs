//! Hostile input that must give an error, quickly, never a hang, an
//! exhausted memory or a stack overflow: huge files, deep nesting (YAML
//! block and flow, catalog conditions), definitions and predicates that
//! expand exponentially, oversized regular expressions, and rule paths that
//! leave the rules root. Each file is generated here in a temporary rules
//! root rather than shipped as a giant fixture.

use std::path::Path;
use std::time::{Duration, Instant};

use rulec_compiler::diag::Diagnostic;
use rulec_compiler::limits::{MAX_FILE_BYTES, MAX_YAML_DEPTH};
use rulec_compiler::project::{compile_rule_file, Layout};

/// The head of a rule over raw keys, before its `Detection`.
const HEAD: &str = "AnalysisType: rule\nRuleID: Limits.Rule\nEnabled: true\nLogTypes: [Limits.Log]\nSeverity: Low\n";

/// A temporary rules root holding `files` (relative path, text).
fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (relative, text) in files {
        let path = dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Compiles `rule.yml` of the root; returns its errors (it must not compile)
/// and checks it took less than a few seconds.
fn errors(root: &Path, relative: &str) -> Vec<Diagnostic> {
    let started = Instant::now();
    let compiled = compile_rule_file(&Layout::standard(root), relative);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "compiling took {:?}",
        started.elapsed()
    );
    assert!(compiled.rule.is_none(), "the rule compiled");
    let errors: Vec<Diagnostic> = compiled.diagnostics.errors().cloned().collect();
    assert!(!errors.is_empty());
    errors
}

/// The one error whose message contains `needle`.
fn error_with<'d>(errors: &'d [Diagnostic], needle: &str) -> &'d Diagnostic {
    errors
        .iter()
        .find(|d| d.message.contains(needle))
        .unwrap_or_else(|| panic!("no error containing {needle:?} in {errors:#?}"))
}

fn rule_errors(text: &str) -> Vec<Diagnostic> {
    let root = root_with(&[("rule.yml", text)]);
    errors(root.path(), "rule.yml")
}

/// `All:` nested `depth` deep in block style.
fn nested_block(depth: usize) -> String {
    let mut text = format!("{HEAD}Detection:\n");
    for level in 0..depth {
        text.push_str(&"  ".repeat(level + 1));
        text.push_str("- All:\n");
    }
    text.push_str(&"  ".repeat(depth + 1));
    text.push_str("- {Key: a, Condition: Exists}\n");
    text
}

/// `All:` nested `depth` deep in flow style, on one line.
fn nested_flow(depth: usize) -> String {
    format!(
        "{HEAD}Detection: [{}{{Key: a, Condition: Exists}}{}]\n",
        "{All: [".repeat(depth),
        "]}".repeat(depth)
    )
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let mut text = format!("{HEAD}Detection: [{{Key: a, Condition: Exists}}]\n");
    let filler = "# padding padding padding padding padding padding padding padding\n";
    while text.len() <= MAX_FILE_BYTES {
        text.push_str(filler);
    }
    let errors = rule_errors(&text);
    let error = error_with(&errors, "over rulec's limit of 2097152 bytes");
    assert_eq!(error.file, "rule.yml");
    // The same file just under the limit compiles.
    let under = &text[..MAX_FILE_BYTES - filler.len()];
    let root = root_with(&[("rule.yml", under)]);
    let compiled = compile_rule_file(&Layout::standard(root.path()), "rule.yml");
    assert!(compiled.rule.is_some(), "{}", compiled.diagnostics);
}

#[test]
fn deep_nesting_is_an_error_at_its_line_and_column() {
    // Block style needs indentation: 1,000 levels are already 1 MB.
    for (style, depth, text) in [
        ("block", 40, nested_block(40)),
        ("block", 100, nested_block(100)),
        ("block", 1_000, nested_block(1_000)),
        ("flow", 40, nested_flow(40)),
        ("flow", 100, nested_flow(100)),
        ("flow", 10_000, nested_flow(10_000)),
        ("flow", 200_000, nested_flow(200_000)),
    ] {
        {
            let errors = rule_errors(&text);
            let error = error_with(&errors, "nests mappings and lists more than 64 levels");
            let at = error
                .location
                .unwrap_or_else(|| panic!("{style} {depth}: no location: {error}"));
            assert!(at.line >= 1 && at.column >= 1, "{style} {depth}: {error}");
            assert!(error.to_string().starts_with("rule.yml:"), "{error}");
        }
    }
    // Within the limit, it compiles.
    let ok = nested_block(MAX_YAML_DEPTH / 2 - 4);
    let root = root_with(&[("rule.yml", &ok)]);
    let compiled = compile_rule_file(&Layout::standard(root.path()), "rule.yml");
    assert!(compiled.rule.is_some(), "{}", compiled.diagnostics);
}

#[test]
fn deep_nesting_in_data_models_and_predicates_is_an_error() {
    let deep_value = format!("{}a{}", "{Lower: ".repeat(10_000), "}".repeat(10_000));
    let model = format!(
        "AnalysisType: datamodel\nDataModelID: Limits.Model\nEnabled: true\nLogTypes: [Limits.Log]\nMappings:\n  - Name: deep\n    Value: {deep_value}\n"
    );
    let predicates = format!(
        "AnalysisType: predicates\nPredicates:\n  - PredicateID: Deep\n    Detection: [{}{{Key: a, Condition: Exists}}{}]\n",
        "{Any: [".repeat(10_000),
        "]}".repeat(10_000)
    );
    let rule = format!("{HEAD}Detection: [{{Predicate: Deep}}]\n");
    let root = root_with(&[
        ("data_models/model.yml", &model),
        ("predicates/deep.yml", &predicates),
        ("rule.yml", &rule),
    ]);
    let errors = errors(root.path(), "rule.yml");
    for file in ["data_models/model.yml", "predicates/deep.yml"] {
        let error = errors
            .iter()
            .find(|d| d.file == file && d.message.contains("more than 64 levels"))
            .unwrap_or_else(|| panic!("no depth error for {file}: {errors:#?}"));
        assert!(error.location.is_some(), "{error}");
    }
}

#[test]
fn deep_catalog_conditions_are_errors() {
    for condition in [
        format!("{}a eq 1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}a eq 1", "not ".repeat(10_000)),
        format!(
            "{}a{} eq \"x\"",
            "lower(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!(
            "{}a{} eq \"x\"",
            "first_truthy(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!("const({}1{}) eq 1", "[".repeat(10_000), "]".repeat(10_000)),
    ] {
        let text = format!("{HEAD}Condition: '{condition}'\n");
        let errors = rule_errors(&text);
        assert!(
            errors.iter().any(|e| e.location.is_some()),
            "{}: {errors:#?}",
            &condition[..20]
        );
    }
}

#[test]
fn the_deepest_catalog_condition_allowed_compiles() {
    // 64 levels: the documented limit of the catalog syntax.
    for condition in [
        format!("{}a{} eq \"x\"", "lower(".repeat(63), ")".repeat(63)),
        format!("{}a eq 1{}", "(".repeat(64), ")".repeat(64)),
    ] {
        let text = format!("{HEAD}Condition: '{condition}'\n");
        let root = root_with(&[("rule.yml", &text)]);
        let compiled = compile_rule_file(&Layout::standard(root.path()), "rule.yml");
        assert!(compiled.rule.is_some(), "{}", compiled.diagnostics);
    }
}

#[test]
fn definitions_that_double_are_stopped() {
    let mut text = format!("{HEAD}Definitions:\n  - {{Name: d0, Value: {{KeyPath: a}}}}\n");
    for i in 1..40 {
        text.push_str(&format!(
            "  - {{Name: d{i}, Value: {{Concat: [{{Use: d{p}}}, {{Use: d{p}}}]}}}}\n",
            p = i - 1
        ));
    }
    text.push_str("Detection:\n  - {Computed: {Use: d39}, Condition: Equals, Value: x}\n");
    let errors = rule_errors(&text);
    let error = error_with(&errors, "over rulec's limits");
    assert!(error.location.is_some(), "{error}");
}

#[test]
fn long_definition_chains_are_stopped() {
    let mut text = format!("{HEAD}Definitions:\n  - {{Name: d0, Value: {{KeyPath: a}}}}\n");
    for i in 1..5_000 {
        text.push_str(&format!(
            "  - {{Name: d{i}, Value: {{Lower: {{Use: d{p}}}}}}}\n",
            p = i - 1
        ));
    }
    text.push_str("Detection:\n  - {Computed: {Use: d4999}, Condition: Equals, Value: x}\n");
    let errors = rule_errors(&text);
    let error = error_with(&errors, "nested");
    assert!(error.location.is_some(), "{error}");
}

#[test]
fn data_model_fields_count_as_the_mappings_inlined() {
    // A mapping of about 2^16 nodes (within the data model's own budget),
    // read four times by a rule: the generated code would hold it four times.
    let mut model = String::from(
        "AnalysisType: datamodel\nDataModelID: Limits.Model\nEnabled: true\nLogTypes: [Limits.Log]\nDefinitions:\n  - {Name: d0, Value: {Get: a}}\n",
    );
    for i in 1..=15 {
        model.push_str(&format!(
            "  - {{Name: d{i}, Value: {{Concat: [{{Use: d{p}}}, {{Use: d{p}}}]}}}}\n",
            p = i - 1
        ));
    }
    model.push_str("Mappings:\n  - {Name: big, Value: {Use: d15}}\n  - {Name: small, Path: $.a}\n");
    let once = format!("{HEAD}Detection: [{{DataModel: big, Condition: Exists}}, {{DataModel: small, Condition: Exists}}]\n");
    let four = format!(
        "{HEAD}Detection: [{}{{DataModel: big, Condition: IsNull}}]\n",
        "{DataModel: big, Condition: Exists}, ".repeat(3)
    );
    let root = root_with(&[
        ("data_models/model.yml", &model),
        ("once.yml", &once),
        ("four.yml", &four),
    ]);
    let compiled = compile_rule_file(&Layout::standard(root.path()), "once.yml");
    assert!(compiled.rule.is_some(), "{}", compiled.diagnostics);
    let errors = errors(root.path(), "four.yml");
    let error = error_with(&errors, "over rulec's limits");
    assert_eq!(error.file, "four.yml");
}

#[test]
fn predicates_that_double_are_stopped() {
    let mut predicates = String::from(
        "AnalysisType: predicates\nPredicates:\n  - {PredicateID: P0, Detection: [{Key: a, Condition: Exists}]}\n",
    );
    for i in 1..40 {
        predicates.push_str(&format!(
            "  - {{PredicateID: P{i}, Detection: [{{Predicate: P{p}}}, {{Predicate: P{p}}}]}}\n",
            p = i - 1
        ));
    }
    let rule = format!("{HEAD}Detection: [{{Predicate: P39}}]\n");
    let root = root_with(&[("predicates/p.yml", &predicates), ("rule.yml", &rule)]);
    let errors = errors(root.path(), "rule.yml");
    error_with(&errors, "over rulec's limits");
}

#[test]
fn aliases_that_expand_exponentially_are_refused() {
    let mut text = format!("{HEAD}Detection: [{{Key: a, Condition: Exists}}]\nTests:\n  - Name: laughs\n    ExpectedResult: false\n    Log:\n      l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "      l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
        ));
    }
    // 10^12 nodes once expanded: `yaml_serde` stops expanding aliases early.
    let errors = rule_errors(&text);
    error_with(&errors, "repetition limit exceeded");
}

#[test]
fn oversized_and_python_only_regexes_are_errors_with_locations() {
    for (pattern, needle) in [
        (r"(a{1000}){1000}", "compiles to more than"),
        (r"\w{5000}", "compiles to more than"),
        (r"^(?=admin)", "look-around"),
        (r"(a)\1", "backreference"),
    ] {
        let block = format!(
            "{HEAD}Detection:\n  - Key: a\n    Condition: Matches\n    Value: '{pattern}'\n"
        );
        let errors = rule_errors(&block);
        let error = error_with(&errors, needle);
        let at = error.location.expect("a location");
        assert_eq!((at.line, at.column), (9, 12), "{error}");
        assert!(error.help.is_some());

        // Catalog strings escape backslashes.
        let escaped = pattern.replace('\\', "\\\\");
        let catalog = format!("{HEAD}Condition: 'a matches \"{escaped}\"'\n");
        let errors = rule_errors(&catalog);
        let error = error_with(&errors, needle);
        assert_eq!(error.location.map(|l| l.line), Some(6), "{error}");
    }
}

#[test]
fn rule_paths_outside_the_root_are_refused() {
    let outside = root_with(&[(
        "secret.yml",
        &format!("{HEAD}Detection: [{{Key: a, Condition: Exists}}]\n"),
    )]);
    let secret = outside.path().join("secret.yml");
    let root = root_with(&[]);
    let absolute = secret.to_string_lossy().into_owned();
    for relative in [absolute.as_str(), "../secret.yml", "a/../../secret.yml"] {
        let errors = errors(root.path(), relative);
        error_with(&errors, "must be relative to the rules crate");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&secret, root.path().join("link.yml")).expect("symlink");
        std::os::unix::fs::symlink(outside.path(), root.path().join("dir")).expect("symlink");
        std::os::unix::fs::symlink("/dev/zero", root.path().join("zero.yml")).expect("symlink");
        for relative in ["link.yml", "dir/secret.yml", "zero.yml"] {
            let compiled = compile_rule_file(&Layout::standard(root.path()), relative);
            assert!(compiled.rule.is_none(), "{relative} compiled");
            error_with(&compiled.diagnostics.0, "outside the rules root");
            assert!(
                compiled.files.iter().all(|f| !f.ends_with(relative)),
                "{relative} is tracked, so the macro would include_bytes! it"
            );
        }
        // Discovery does not follow linked directories (here one that leaves
        // the root, and one that loops back into it); linked files are listed,
        // then refused when they resolve outside.
        std::os::unix::fs::symlink(root.path(), root.path().join("loop")).expect("symlink");
        let found = rulec_compiler::project::discover_rule_files(&Layout::standard(root.path()));
        assert_eq!(found, ["link.yml", "zero.yml"]);
        // A data-model file that links outside is refused too.
        std::fs::create_dir(root.path().join("data_models")).expect("mkdir");
        std::os::unix::fs::symlink(&secret, root.path().join("data_models/m.yml"))
            .expect("symlink");
        std::fs::write(
            root.path().join("ok.yml"),
            format!("{HEAD}Detection: [{{Key: a, Condition: Exists}}]\n"),
        )
        .expect("write");
        let errors = errors(root.path(), "ok.yml");
        let error = error_with(&errors, "outside the rules root");
        assert_eq!(error.file, "data_models/m.yml");
    }
}
