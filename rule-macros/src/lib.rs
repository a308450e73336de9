//! `rule!("path/to/rule.yml")`: compiles one Panther-format YAML rule into a
//! Rust module at build time.
//!
//! The macro is a thin shell over `rulec-compiler`: it reads the files, turns
//! diagnostics into `compile_error!`s that quote `file:line:col`, and emits the
//! generated module. Paths are relative to the rules root, by default the
//! invoking crate's `CARGO_MANIFEST_DIR`; data models are read from
//! `data_models/` and predicates from `predicates/` under that root.

use std::path::PathBuf;

use proc_macro::TokenStream;
use quote::quote;
use rulec_compiler::codegen::{generate_rule, Options};
use rulec_compiler::project::{compile_rule_file, Layout};
use syn::parse::{Parse, ParseStream};
use syn::{parse_macro_input, Ident, LitStr, Token};

/// Compiles the rule file at the given path into a module named after its
/// RuleID, with one `#[test]` per entry of its `Tests` block.
///
/// The path is relative to the rules root and must stay inside it (no `..`).
/// The root is the invoking crate's manifest directory (`CARGO_MANIFEST_DIR`),
/// where `data_models/` and `predicates/` are read from too:
///
/// ```ignore
/// rule_macros::rule!("kubernetes/k8s_secret_access_denied.yml");
/// ```
///
/// An optional `root = "dir"` names another rules root; a relative `dir` is
/// resolved against the manifest directory and may leave it (`..`). The rule
/// path stays relative to that root, and diagnostics keep quoting it as given.
/// This lets a crate compile rules that live outside it, e.g. test fixtures:
///
/// ```ignore
/// rule_macros::rule!("kubernetes/k8s_secret_access_denied.yml", root = "../rules");
/// ```
#[proc_macro]
pub fn rule(input: TokenStream) -> TokenStream {
    let args = parse_macro_input!(input as Args);
    expand(&args).into()
}

/// The macro's arguments: `"path.yml"` then optionally `, root = "dir"`.
struct Args {
    path: LitStr,
    root: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse()?;
        let mut root = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            if key != "root" {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown argument `{key}`; the only option is `root = \"dir\"`"),
                ));
            }
            if root.is_some() {
                return Err(syn::Error::new(key.span(), "`root` is given twice"));
            }
            input.parse::<Token![=]>()?;
            root = Some(input.parse::<LitStr>()?);
        }
        Ok(Args { path, root })
    }
}

fn expand(args: &Args) -> proc_macro2::TokenStream {
    let path = &args.path;
    let span = path.span();
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return syn::Error::new(span, "CARGO_MANIFEST_DIR is not set; build with cargo")
            .to_compile_error();
    };
    let mut root = PathBuf::from(manifest_dir);
    if let Some(dir) = &args.root {
        // `join` keeps an absolute `dir` as it is.
        root = root.join(dir.value());
    }
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
