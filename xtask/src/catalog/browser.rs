//! `cargo xtask catalog --out DIR --check-browser`: opens the written site in
//! headless Chromium (Debian's `chromium`, installed with `apt-get` when it
//! is missing) and checks what a reader sees after the scripts ran: the index
//! lists every rule, the search box filters it (`?q=` fills the box), a
//! column sorts it (`?sort=`), and every rule page has every section. It
//! photographs the seed rule's page. Not part of `cargo test`: it needs a
//! browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::model::RulePage;
use super::view::{page_name, SECTIONS};
use super::SEED_RULE;

/// Finds Chromium, installing Debian's package when it is missing.
fn chromium() -> Result<PathBuf, String> {
    let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
    let found = || candidates.iter().map(PathBuf::from).find(|p| p.exists());
    if let Some(path) = found() {
        return Ok(path);
    }
    eprintln!("chromium is missing: running `apt-get install -y chromium`");
    let install = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))
    };
    install(&["update"])?;
    let status = install(&["install", "-y", "chromium"])?;
    match found() {
        Some(path) => Ok(path),
        None => Err(format!(
            "chromium is still missing after `apt-get install -y chromium` ({status})"
        )),
    }
}

/// A `file://` URL for a page of the site, with an optional query.
fn url(path: &Path, query: &str) -> String {
    format!("file://{}{query}", path.display())
}

fn headless(browser: &Path) -> Command {
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--allow-file-access-from-files",
        "--virtual-time-budget=5000",
    ]);
    command
}

/// The DOM after the page's scripts ran.
fn dom(browser: &Path, page: &str) -> Result<String, String> {
    let output = headless(browser)
        .args(["--dump-dom", page])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", browser.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} --dump-dom {page} failed: {}",
            browser.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The index's rows in DOM order: RuleID and whether the row is hidden.
fn rows(dom: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find("<tr ") {
        rest = &rest[at..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if let Some(id_at) = tag.find("data-id=\"") {
            let id = &tag[id_at + 9..];
            let id = id.split('"').next().unwrap_or_default();
            out.push((id.replace("&amp;", "&"), tag.contains(" hidden")));
        }
        rest = &rest[end..];
    }
    out
}

fn visible(rows: &[(String, bool)]) -> Vec<&str> {
    rows.iter()
        .filter(|(_, hidden)| !hidden)
        .map(|(id, _)| id.as_str())
        .collect()
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// Runs the checks; returns a summary of what passed.
pub fn check(out: &Path, pages: &[RulePage]) -> Result<String, String> {
    let browser = chromium()?;
    let out =
        std::fs::canonicalize(out).map_err(|e| format!("cannot resolve {}: {e}", out.display()))?;
    let index = out.join("index.html");
    let mut report = vec![format!("browser: {}", browser.display())];

    let loaded = dom(&browser, &url(&index, ""))?;
    ensure(loaded.contains("data-ready=\"true\""), || {
        "the index's script did not run".to_owned()
    })?;
    let all = rows(&loaded);
    ensure(
        all.len() == pages.len() && visible(&all).len() == pages.len(),
        || {
            format!(
                "the index shows {} of {} rows, expected {}",
                visible(&all).len(),
                all.len(),
                pages.len()
            )
        },
    )?;
    report.push(format!("index: {} rules listed", all.len()));

    let seed = dom(&browser, &url(&index, &format!("?q={SEED_RULE}")))?;
    let seed_rows = rows(&seed);
    ensure(visible(&seed_rows) == [SEED_RULE], || {
        format!("searching {SEED_RULE} shows {:?}", visible(&seed_rows))
    })?;
    ensure(
        seed.contains(&format!("1 of {} rules", pages.len())),
        || "the count under the search box is not `1 of N rules`".to_owned(),
    )?;
    let term = "gcp.auditlog";
    let expected = pages
        .iter()
        .filter(|p| p.log_types.iter().any(|t| t.eq_ignore_ascii_case(term)))
        .count();
    let gcp = rows(&dom(&browser, &url(&index, &format!("?q={term}")))?);
    ensure(visible(&gcp).len() == expected, || {
        format!(
            "searching {term} shows {} rules, expected {expected}",
            visible(&gcp).len()
        )
    })?;
    let none = rows(&dom(&browser, &url(&index, "?q=no-such-rule-anywhere"))?);
    ensure(visible(&none).is_empty(), || {
        "a search that matches nothing still shows rows".to_owned()
    })?;
    report.push(format!(
        "search: `{SEED_RULE}` shows 1 row, `{term}` {expected}, a miss 0"
    ));

    let sorted = rows(&dom(&browser, &url(&index, "?sort=severity&desc"))?);
    let rank = |id: &str| {
        let severity = pages
            .iter()
            .find(|p| p.id == id)
            .map_or("", |p| p.severity.as_str());
        ["Info", "Low", "Medium", "High", "Critical"]
            .iter()
            .position(|s| *s == severity)
            .unwrap_or(0)
    };
    let ranks: Vec<usize> = sorted.iter().map(|(id, _)| rank(id)).collect();
    ensure(ranks.windows(2).all(|w| w[0] >= w[1]), || {
        format!("sorting by severity, descending, gives ranks {ranks:?}")
    })?;
    report.push("sort: severity descending orders the rows".to_owned());

    for page in pages {
        let path = out
            .join("rules")
            .join(format!("{}.html", page_name(&page.id)));
        let html = dom(&browser, &url(&path, ""))?;
        for id in std::iter::once("metadata").chain(SECTIONS.iter().map(|(id, _)| *id)) {
            ensure(html.contains(&format!("<section id=\"{id}\">")), || {
                format!("{} has no `{id}` section", path.display())
            })?;
        }
    }
    report.push(format!(
        "rule pages: all {} show the metadata and the {} sections",
        pages.len(),
        SECTIONS.len()
    ));

    let seed_page = out
        .join("rules")
        .join(format!("{}.html", page_name(SEED_RULE)));
    let shot = out.join("seed-page.png");
    let status = headless(&browser)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,4200")
        .arg(url(&seed_page, ""))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", browser.display()))?;
    ensure(status.status.success() && shot.exists(), || {
        format!(
            "the screenshot failed: {}",
            String::from_utf8_lossy(&status.stderr)
        )
    })?;
    report.push(format!("screenshot: {}", shot.display()));
    Ok(report.join("\n"))
}
