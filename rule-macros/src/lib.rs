//! `rule!("path/to/rule.yml")`: compiles one Panther-format YAML rule into a
//! Rust module at build time.
//!
//! The macro is a thin shell over `rulec-compiler`: it reads the files, turns
//! diagnostics into `compile_error!`s that quote `file:line:col`, and emits the
//! generated module. Paths are relative to the invoking crate's
//! `CARGO_MANIFEST_DIR`; data models are read from `data_models/` and
//! predicates from `predicates/` beside the rule files' root.

use proc_macro::TokenStream;
use quote::quote;
use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::project::{compile_rule_file, Layout};
use syn::{parse_macro_input, LitStr};

/// Compiles the rule file at the given path (relative to the crate's manifest
/// directory) into a module named after its RuleID, with one `#[test]` per
/// entry of its `Tests` block.
///
/// ```ignore
/// rule_macros::rule!("kubernetes/k8s_secret_access_denied.yml");
/// ```
#[proc_macro]
pub fn rule(input: TokenStream) -> TokenStream {
    let path = parse_macro_input!(input as LitStr);
    expand(&path).into()
}

fn expand(path: &LitStr) -> proc_macro2::TokenStream {
    let span = path.span();
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return syn::Error::new(span, "CARGO_MANIFEST_DIR is not set; build with cargo")
            .to_compile_error();
    };
    let layout = Layout::standard(root);
    let compiled = compile_rule_file(&layout, &path.value());
    let errors: Vec<proc_macro2::TokenStream> = compiled
        .diagnostics
        .errors()
        .map(|d| syn::Error::new(span, d.to_string()).to_compile_error())
        .collect();
    let tracked_files: Vec<String> = compiled
        .files
        .iter()
        .filter(|f| f.exists())
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    match compiled.rule {
        Some(rule) if errors.is_empty() => generate_rule(
            &rule,
            &Options {
                tracked_files,
                with_tests: true,
            },
        ),
        _ => {
            let tracked = tracked_files
                .iter()
                .map(|f| quote! { const _: &[u8] = include_bytes!(#f); });
            let fallback = if errors.is_empty() {
                vec![syn::Error::new(span, "the rule could not be compiled").to_compile_error()]
            } else {
                errors
            };
            quote! { #(#tracked)* #(#fallback)* }
        }
    }
}
