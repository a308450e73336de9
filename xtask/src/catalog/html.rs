//! The catalog as a static site: `index.html` (sortable, with a search box),
//! `coverage.html` (ATT&CK matrix and log types) and one page per rule.
//! Every text is escaped; the only script is `catalog.js`, vanilla.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::model::{RulePage, NO_VALUE};
use super::view::{attack_matrix, by_log_type, page_name, SECTIONS};

/// The stylesheet.
pub const STYLE: &str = include_str!("assets/style.css");
/// Sorting and search for the index.
pub const SCRIPT: &str = include_str!("assets/catalog.js");

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An `href` for a URL from a rule file: only `http(s)` links are made links.
fn link(url: &str) -> String {
    let url = url.trim();
    if url.starts_with("https://") || url.starts_with("http://") {
        format!("<a href=\"{0}\">{0}</a>", esc(url))
    } else {
        esc(url)
    }
}

fn head(title: &str, root: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{root}style.css\">\n</head>\n<body>\n\
         <nav><a href=\"{root}index.html\">Rules</a> · <a href=\"{root}coverage.html\">Coverage</a></nav>\n<main>\n",
        esc(title)
    )
}

const FOOT: &str = "</main>\n</body>\n</html>\n";

fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(text))
}

fn value(v: &str) -> String {
    if v == NO_VALUE {
        format!("<span class=\"muted\">{}</span>", esc(NO_VALUE))
    } else {
        code(v)
    }
}

fn section(out: &mut String, index: usize) {
    let (id, title) = SECTIONS[index];
    let _ = write!(out, "<section id=\"{id}\">\n<h2>{}</h2>\n", esc(title));
}

/// One rule's page (under `rules/`).
pub fn rule_page(page: &RulePage) -> String {
    let mut out = head(&format!("{} · rule catalog", page.title), "../");
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"id\">{}</p>\n",
        esc(&page.title),
        code(&page.id)
    );
    let _ = writeln!(out, "<section id=\"metadata\">\n<dl class=\"meta\">");
    let mut fact = |name: &str, html: String| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{html}</dd>", esc(name));
    };
    fact("Status", esc(page.status.as_deref().unwrap_or("—")));
    fact(
        "Enabled",
        if page.enabled { "yes" } else { "no" }.to_owned(),
    );
    fact(
        "Severity",
        format!(
            "<span class=\"sev sev-{0}\">{0}</span>",
            esc(&page.severity)
        ),
    );
    fact(
        "Group by",
        if page.group_by.is_empty() {
            "— (the title)".to_owned()
        } else {
            page.group_by
                .iter()
                .map(|g| code(g))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    fact(
        "Threshold",
        format!(
            "{} event(s) within {} minutes",
            page.threshold, page.dedup_minutes
        ),
    );
    fact(
        "Log types",
        page.log_types
            .iter()
            .map(|t| esc(t))
            .collect::<Vec<_>>()
            .join(", "),
    );
    fact(
        "Tags",
        page.tags
            .iter()
            .map(|t| format!("<span class=\"tag\">{}</span>", esc(t)))
            .collect::<Vec<_>>()
            .join(" "),
    );
    fact(
        "Reference",
        page.reference
            .as_deref()
            .map_or_else(|| "—".to_owned(), link),
    );
    fact("Source", code(&format!("rules/{}", page.file)));
    let _ = writeln!(out, "</dl>\n</section>");

    section(&mut out, 0);
    let _ = writeln!(
        out,
        "<p>{}</p>",
        esc(page
            .description
            .as_deref()
            .unwrap_or("(no description)")
            .trim())
    );
    if let Some(runbook) = &page.runbook {
        let _ = writeln!(
            out,
            "<h3>Runbook</h3>\n<pre class=\"runbook\">{}</pre>",
            esc(runbook.trim())
        );
    }
    out.push_str("</section>\n");

    section(&mut out, 1);
    if page.attack.is_empty() {
        out.push_str("<p>No ATT&amp;CK mapping.</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th>Tactic</th><th>Technique</th></tr></thead>\n<tbody>\n",
        );
        for a in &page.attack {
            let tactic = match a.tactic_name() {
                Some(name) => format!("{} {}", esc(&a.tactic), esc(name)),
                None => format!("{} (not an Enterprise tactic)", esc(&a.tactic)),
            };
            let technique = if a.technique.is_empty() {
                "—".to_owned()
            } else {
                format!(
                    "<a href=\"{}\">{}</a>",
                    esc(&a.technique_url()),
                    esc(&a.technique)
                )
            };
            let _ = writeln!(out, "<tr><td>{tactic}</td><td>{technique}</td></tr>");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    for (framework, entries) in &page.other_reports {
        let _ = writeln!(
            out,
            "<p>{}: {}</p>",
            esc(framework),
            esc(&entries.join(", "))
        );
    }
    out.push_str("</section>\n");

    section(&mut out, 2);
    let _ = writeln!(
        out,
        "<pre class=\"yaml\">{}</pre>\n</section>",
        esc(page.body.trim_end())
    );

    section(&mut out, 3);
    out.push_str("<p>Every line must hold (catalog condition syntax; the lines parse back to the rule's logic, predicates inlined).</p>\n<ol class=\"condition\">\n");
    for line in &page.condition {
        let _ = writeln!(out, "<li><code>{}</code></li>", esc(line));
    }
    out.push_str("</ol>\n</section>\n");

    section(&mut out, 4);
    if page.exclusions.is_empty() {
        out.push_str("<p>The rule has no top-level negated condition.</p>\n");
    } else {
        out.push_str("<p>What the rule's top-level negated conditions (<code>not ...</code>, <code>none_of(...)</code>, <code>ne</code>, <code>not in</code>) suppress, field by field: an event is excluded when these comparisons make the negated condition true.</p>\n");
        out.push_str("<table>\n<thead><tr><th>Field</th><th>Kind</th><th>Excluded values</th></tr></thead>\n<tbody>\n");
        for row in &page.exclusions {
            let values: Vec<String> = row.values.iter().map(|v| value(v)).collect();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                code(&row.field),
                esc(&row.kind),
                values.join(", ")
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");

    section(&mut out, 5);
    if page.indicators.is_empty() {
        out.push_str("<p>No indicators.</p>\n");
    } else {
        out.push_str("<p>Each field, operator and value the rule matches (outside its exclusions and preconditions). The count is the number of other rules in this catalog that look for the same combination.</p>\n");
        out.push_str("<table>\n<thead><tr><th>Field</th><th>Kind</th><th>Values (other rules)</th></tr></thead>\n<tbody>\n");
        for row in &page.indicators {
            let values: Vec<String> = row
                .values
                .iter()
                .map(|(v, n)| format!("<li>{} <span class=\"count\">{n}</span></li>", value(v)))
                .collect();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td><ul class=\"values\">{}</ul></td></tr>",
                code(&row.field),
                esc(&row.kind),
                values.join("")
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");

    section(&mut out, 6);
    if page.outputs.is_empty() {
        out.push_str("<p>The alert carries no fields beyond the rule's metadata.</p>\n");
    } else {
        out.push_str("<table>\n<thead><tr><th>Field</th><th>Used in</th><th>Source</th></tr></thead>\n<tbody>\n");
        for o in &page.outputs {
            let sources: Vec<String> = o
                .sources
                .iter()
                .map(|(log_type, source)| {
                    if log_type == "*" {
                        code(source)
                    } else {
                        format!(
                            "<span class=\"lt\">{}</span> {}",
                            esc(log_type),
                            code(source)
                        )
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                code(&o.name),
                esc(&o.used_in.join(", ")),
                sources.join("<br>")
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
    out.push_str(FOOT);
    out
}

/// The severities' order, for sorting.
fn severity_rank(severity: &str) -> usize {
    ["Info", "Low", "Medium", "High", "Critical"]
        .iter()
        .position(|s| *s == severity)
        .unwrap_or(0)
}

/// The index: every rule, sortable by column, with a search box.
pub fn index(pages: &[RulePage]) -> String {
    let mut out = head("Rule catalog", "");
    let _ = write!(
        out,
        "<h1>Rule catalog</h1>\n<p><label for=\"search\">Search</label> \
         <input id=\"search\" type=\"search\" placeholder=\"RuleID, title, log type, tag, tactic...\" autofocus> \
         <span id=\"shown\">{0} of {0} rules</span></p>\n",
        pages.len()
    );
    out.push_str("<table id=\"rules\">\n<thead><tr>");
    for (key, title) in [
        ("rule", "Rule"),
        ("logtypes", "Log types"),
        ("severity", "Severity"),
        ("status", "Status"),
        ("tactics", "Tactics"),
        ("techniques", "Techniques"),
    ] {
        let _ = write!(out, "<th data-key=\"{key}\" tabindex=\"0\">{title}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for p in pages {
        let tactics: BTreeSet<String> = p
            .attack
            .iter()
            .map(|a| match a.tactic_name() {
                Some(name) => format!("{} {name}", a.tactic),
                None => a.tactic.clone(),
            })
            .collect();
        let techniques: Vec<&str> = p
            .attack
            .iter()
            .map(|a| a.technique.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        let tactics: Vec<String> = tactics.into_iter().collect();
        let _ = writeln!(
            out,
            "<tr data-id=\"{id}\" data-tags=\"{tags}\"><td data-key=\"rule\"><a href=\"rules/{page}.html\">{title}</a><br><code>{id}</code></td>\
             <td data-key=\"logtypes\">{lt}</td><td data-key=\"severity\" data-sort=\"{rank}\"><span class=\"sev sev-{sev}\">{sev}</span></td>\
             <td data-key=\"status\">{status}</td><td data-key=\"tactics\">{tactics}</td><td data-key=\"techniques\">{techniques}</td></tr>",
            id = esc(&p.id),
            tags = esc(&p.tags.join(", ")),
            page = esc(&page_name(&p.id)),
            title = esc(&p.title),
            lt = esc(&p.log_types.join(", ")),
            rank = severity_rank(&p.severity),
            sev = esc(&p.severity),
            status = esc(p.status.as_deref().unwrap_or("—")),
            tactics = esc(&tactics.join(", ")),
            techniques = esc(&techniques.join(", ")),
        );
    }
    out.push_str("</tbody>\n</table>\n<script src=\"catalog.js\"></script>\n");
    out.push_str(FOOT);
    out
}

/// The ATT&CK matrix (one column per tactic) and the rules per log type.
pub fn coverage(pages: &[RulePage]) -> String {
    let mut out = head("Coverage · rule catalog", "");
    let rule_link = |id: &str| {
        format!(
            "<a href=\"rules/{}.html\">{}</a>",
            esc(&page_name(id)),
            esc(id)
        )
    };
    out.push_str("<h1>Coverage</h1>\n<section id=\"matrix\">\n<h2>MITRE ATT&amp;CK</h2>\n<div class=\"matrix\">\n");
    for column in attack_matrix(pages) {
        let empty = if column.techniques.is_empty() {
            " empty"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<div class=\"tactic{empty}\" data-tactic=\"{0}\"><h3>{1}<br><small>{0} · {2} rules</small></h3>",
            esc(&column.tactic),
            esc(&column.name),
            column.rule_count
        );
        for (technique, rules) in &column.techniques {
            let name = if technique.is_empty() {
                "(tactic only)".to_owned()
            } else {
                format!(
                    "<a href=\"https://attack.mitre.org/techniques/{}/\">{}</a>",
                    esc(&technique.replace('.', "/")),
                    esc(technique)
                )
            };
            let rules: Vec<String> = rules
                .iter()
                .map(|r| format!("<li>{}</li>", rule_link(r)))
                .collect();
            let _ = writeln!(
                out,
                "<div class=\"technique\"><b>{name}</b><ul>{}</ul></div>",
                rules.join("")
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n</section>\n<section id=\"log-types\">\n<h2>Log types</h2>\n");
    for (log_type, rules) in by_log_type(pages) {
        let _ = writeln!(
            out,
            "<h3>{} <small>{} rules</small></h3>\n<ul>",
            esc(&log_type),
            rules.len()
        );
        for (id, title) in rules {
            let _ = writeln!(out, "<li>{} {}</li>", rule_link(&id), esc(&title));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out.push_str(FOOT);
    out
}
