//! `cargo xtask catalog --out DIR`: a rule catalog generated from the
//! compiled rules, as a static site (HTML, a stylesheet and a little vanilla
//! JavaScript) and the same pages in Markdown.
//!
//! - `model`: the facts of each rule page, from the IR.
//! - `mitre`: ATT&CK tactics and the `Reports` entries.
//! - `view`: section names, page names, the coverage views.
//! - `markdown`, `html`: the two renderings.
//! - `browser`: `--check-browser`, the site checked in headless Chromium.

mod browser;
mod html;
mod markdown;
mod mitre;
mod model;
mod view;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use rulec_compiler::ir::RuleIr;

use crate::workspace::{rules_dir, RuleSet};

pub use model::RulePage;

/// `cargo xtask catalog` options.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// The directory to write the site to (created; existing files are overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Read the rule files under this directory instead of rules/ (data
    /// models and predicates still come from it).
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Then open the site in headless Chromium (installed with apt-get when
    /// missing): the index loads, search filters and sorting orders the list,
    /// every rule page shows every section; writes a screenshot of the seed
    /// rule's page to DIR/seed-page.png.
    #[arg(long)]
    pub check_browser: bool,
}

/// The seed rule, whose page the browser check photographs.
pub const SEED_RULE: &str = "Kubernetes.Secret.AccessDenied";

/// Runs `cargo xtask catalog`.
pub fn run(args: &CatalogArgs) -> ExitCode {
    let dir = args.rules_dir.clone().unwrap_or_else(rules_dir);
    let pages = match load(&dir) {
        Ok(pages) => pages,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(message) = write_site(&args.out, &pages) {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    println!(
        "wrote the catalog of {} rules to {} (index.html, index.md, coverage.html, coverage.md, rules/)",
        pages.len(),
        args.out.display()
    );
    if args.check_browser {
        match browser::check(&args.out, &pages) {
            Ok(report) => println!("{report}"),
            Err(message) => {
                eprintln!("browser check failed: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Compiles every rule under `dir` and builds its page, sorted by RuleID.
/// Any rule that does not compile is an error (its diagnostics).
pub fn load(dir: &Path) -> Result<Vec<RulePage>, String> {
    let set = RuleSet::load(dir);
    if !set.shared.0.is_empty() || !set.invalid.is_empty() {
        let mut message = String::from("error: the catalog needs every rule to compile\n");
        message.push_str(&set.shared.to_string());
        for rule in &set.invalid {
            message.push_str(&rule.diagnostics.to_string());
        }
        return Err(message);
    }
    let mut rules: Vec<(RuleIr, String)> = Vec::with_capacity(set.valid.len());
    for rule in set.valid {
        let path = dir.join(&rule.file);
        let body = std::fs::read_to_string(&path)
            .map_err(|e| format!("error: cannot read {}: {e}", path.display()))?;
        rules.push((rule.ir, body));
    }
    rules.sort_by(|a, b| a.0.meta.id.cmp(&b.0.meta.id));
    Ok(model::build(&rules))
}

/// Writes the site: HTML and Markdown pages, the stylesheet and the script.
pub fn write_site(out: &Path, pages: &[RulePage]) -> Result<(), String> {
    let rules = out.join("rules");
    std::fs::create_dir_all(&rules)
        .map_err(|e| format!("cannot create {}: {e}", rules.display()))?;
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(out.join("style.css"), html::STYLE)?;
    write(out.join("catalog.js"), html::SCRIPT)?;
    write(out.join("index.html"), &html::index(pages))?;
    write(out.join("index.md"), &markdown::index(pages))?;
    write(out.join("coverage.html"), &html::coverage(pages))?;
    write(out.join("coverage.md"), &markdown::coverage(pages))?;
    for page in pages {
        let name = view::page_name(&page.id);
        write(rules.join(format!("{name}.html")), &html::rule_page(page))?;
        write(rules.join(format!("{name}.md")), &markdown::rule_page(page))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
