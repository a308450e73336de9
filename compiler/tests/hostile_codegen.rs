//! Code generation over hostile rule files (`rule-macros/tests/hostile/`):
//! the generated tokens parse as one Rust file holding exactly the rule's
//! module, whose items are the ones the generator always writes, and every
//! string of the rule file appears in it only as a string literal or an
//! escaped doc comment.

use proc_macro2::{TokenStream, TokenTree};
use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::project::{compile_rule_file, Layout};

fn hostile_root() -> Layout {
    Layout::standard(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rule-macros/tests/hostile"
    ))
}

fn generate(relative: &str) -> (rulec_compiler::ir::RuleIr, syn::File) {
    let compiled = compile_rule_file(&hostile_root(), relative);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{relative}: {}",
        compiled.diagnostics
    );
    let rule = compiled.rule.expect("the rule compiles");
    let tokens = generate_rule(
        &rule,
        &Options {
            tracked_files: vec!["/tmp/\"#*/ x.yml".to_owned()],
            with_tests: true,
        },
    );
    let file = syn::parse2::<syn::File>(tokens).expect("the generated code parses");
    (rule, file)
}

/// The name of an item, or what kind of item it is.
fn item_name(item: &syn::Item) -> String {
    match item {
        syn::Item::Mod(m) => format!("mod {}", m.ident),
        syn::Item::Fn(f) => format!("fn {}", f.sig.ident),
        syn::Item::Static(s) => format!("static {}", s.ident),
        syn::Item::Const(c) => format!("const {}", c.ident),
        syn::Item::Use(_) => "use".to_owned(),
        other => format!("unexpected {:?}", std::mem::discriminant(other)),
    }
}

fn module_items(item: &syn::Item) -> &[syn::Item] {
    match item {
        syn::Item::Mod(m) => m.content.as_ref().map_or(&[][..], |(_, items)| &items[..]),
        _ => &[],
    }
}

/// Every string literal of a token stream, doc attributes included, decoded.
fn string_literals(tokens: TokenStream, out: &mut Vec<String>) {
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => string_literals(group.stream(), out),
            TokenTree::Literal(literal) => {
                if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&literal.to_string()) {
                    out.push(s.value());
                }
            }
            _ => {}
        }
    }
}

/// The text of every `#[doc]` attribute in the file.
fn docs(file: &syn::File) -> Vec<String> {
    fn walk(items: &[syn::Item], out: &mut Vec<String>) {
        for item in items {
            let attrs: &[syn::Attribute] = match item {
                syn::Item::Mod(m) => &m.attrs,
                syn::Item::Fn(f) => &f.attrs,
                syn::Item::Static(s) => &s.attrs,
                _ => &[],
            };
            for attr in attrs {
                if let syn::Meta::NameValue(nv) = &attr.meta {
                    if nv.path.is_ident("doc") {
                        if let syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) = &nv.value
                        {
                            out.push(s.value());
                        }
                    }
                }
            }
            walk(module_items(item), out);
        }
    }
    let mut out = Vec::new();
    walk(&file.items, &mut out);
    out
}

#[test]
fn hostile_strings_generate_only_the_rule_module() {
    let (rule, file) = generate("strings.yml");
    assert_eq!(
        file.items.iter().map(item_name).collect::<Vec<_>>(),
        ["mod hostile_cfg_any_r"],
        "one item: the rule's module"
    );
    let mut names: Vec<String> = module_items(&file.items[0]).iter().map(item_name).collect();
    names.sort();
    let mut expected = [
        "use",
        "const _",
        "static META",
        "mod log_type_0",
        "fn matches",
        "fn title",
        "fn dedup",
        "fn unique",
        "fn severity",
        "fn texts",
        "fn alert_context",
        "fn event_time",
        "static TESTS",
        "fn matches_json",
        "fn matches_projected",
        "fn title_json",
        "fn dedup_json",
        "fn unique_json",
        "fn severity_json",
        "fn texts_json",
        "fn event_time_json",
        "fn alert_context_json",
        "fn detect_projected",
        "fn event_time_projected",
        "static GUARDS",
        "static RULE",
        "mod tests",
    ]
    .map(str::to_owned)
    .to_vec();
    expected.sort();
    assert_eq!(names, expected);
    // The tests module holds one function per test case and nothing else.
    let tests = module_items(&file.items[0])
        .iter()
        .find(|i| item_name(i) == "mod tests")
        .expect("a tests module");
    let mut test_fns: Vec<String> = module_items(tests).iter().map(item_name).collect();
    test_fns.sort();
    let mut want: Vec<String> = std::iter::once("use".to_owned())
        .chain(rule.tests.iter().map(|t| format!("fn {}", t.fn_name)))
        .collect();
    want.sort();
    assert_eq!(test_fns, want);

    // Every hostile string is a literal, exactly as written in the file.
    let mut literals = Vec::new();
    string_literals(quote::ToTokens::to_token_stream(&file), &mut literals);
    for wanted in [
        rule.meta.id.as_str(),
        "Display \"q\" \\ {} */ /* \"# \"## #[cfg(test)] \n \u{202E} \u{2066} \u{2069} \0 🦀",
        "Desc \"q\" \\ {braces} */ /* \"## #![no_std] \n\u{202E}\0🦀",
        "T \"q\" \\ {} */ /* \"# \"## #[cfg(test)] \n \u{202E} \u{2066} \u{2069} \0 🦀 user=",
        "v \"q\" \\ {} */ /* \"# \"## #[cfg(test)] \n \u{202E} \u{2066} \0 🦀",
        "ctx \"# */ /* {} \\ \n \u{202E} 🦀",
        "^\"#\\\\\\{\\}\\*/ [\u{202E}🦀]$",
        "matches \"# */ {} \\ 🦀",
        "/tmp/\"#*/ x.yml",
    ] {
        assert!(
            literals.iter().any(|l| l == wanted),
            "no literal {wanted:?} in the generated code"
        );
    }
}

#[test]
fn doc_comments_cannot_carry_code_blocks() {
    for relative in ["strings.yml", "names/test_names.yml"] {
        let (_, file) = generate(relative);
        let docs = docs(&file);
        assert!(!docs.is_empty());
        for doc in docs {
            assert!(
                !doc.chars().any(|c| c.is_control()
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
                "{relative}: raw control or bidi character in doc {doc:?}"
            );
            assert!(
                !doc.contains("```"),
                "{relative}: code fence in doc {doc:?}"
            );
            assert!(
                !doc.contains('<') && !doc.contains('>'),
                "{relative}: HTML in doc {doc:?}"
            );
        }
    }
}

#[test]
fn keyword_rule_ids_generate_valid_modules() {
    for (relative, module) in [
        ("names/fn.yml", "fn_case"),
        ("names/self_lower.yml", "self_case"),
        ("names/self_upper.yml", "self_case"),
        ("names/crate.yml", "crate_case"),
        ("names/super.yml", "super_case"),
        ("names/raw_type.yml", "r_type"),
        ("names/digits.yml", "case_123_starts_with_digits"),
        ("names/empty.yml", "unnamed"),
        ("names/a_dot_b.yml", "a_b"),
        ("names/a_underscore_b.yml", "a_b"),
    ] {
        let (_, file) = generate(relative);
        assert_eq!(
            file.items.iter().map(item_name).collect::<Vec<_>>(),
            [format!("mod {module}")],
            "{relative}"
        );
    }
}
