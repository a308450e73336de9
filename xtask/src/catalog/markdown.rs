//! The catalog as Markdown: `index.md`, `coverage.md` and one page per rule.

use std::fmt::Write;

use super::model::{RulePage, NO_VALUE};
use super::view::{attack_matrix, by_log_type, page_name, SECTIONS};

/// Text in a table cell: `|` escaped, line breaks as spaces.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Text as inline code, with enough backticks around it.
fn code(text: &str) -> String {
    let mut fence = "`".to_owned();
    while text.contains(&fence) {
        fence.push('`');
    }
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", cell(text))
}

/// A fenced block with a fence longer than any backtick run inside.
fn block(lang: &str, text: &str) -> String {
    let mut fence = "```".to_owned();
    while text.contains(&fence) {
        fence.push('`');
    }
    format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end())
}

fn or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "—".to_owned(), cell)
}

/// One rule's page.
pub fn rule_page(page: &RulePage) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", page.title);
    let _ = writeln!(out, "`{}` · [index](../index.md)\n", page.id);
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(out, "| Status | {} |", or_dash(page.status.as_deref()));
    let _ = writeln!(
        out,
        "| Enabled | {} |",
        if page.enabled { "yes" } else { "no" }
    );
    let _ = writeln!(out, "| Severity | {} |", page.severity);
    let group_by = if page.group_by.is_empty() {
        "— (the title)".to_owned()
    } else {
        page.group_by
            .iter()
            .map(|g| code(g))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "| Group by | {group_by} |");
    let _ = writeln!(
        out,
        "| Threshold | {} event(s) within {} minutes |",
        page.threshold, page.dedup_minutes
    );
    let _ = writeln!(out, "| Log types | {} |", cell(&page.log_types.join(", ")));
    let _ = writeln!(out, "| Tags | {} |", cell(&page.tags.join(", ")));
    let _ = writeln!(
        out,
        "| Reference | {} |",
        or_dash(page.reference.as_deref())
    );
    let _ = writeln!(out, "| Source | `rules/{}` |\n", page.file);

    let _ = writeln!(out, "## {}\n", SECTIONS[0].1);
    let _ = writeln!(
        out,
        "{}\n",
        page.description
            .as_deref()
            .unwrap_or("(no description)")
            .trim()
    );
    if let Some(runbook) = &page.runbook {
        let _ = writeln!(out, "**Runbook**\n\n{}\n", runbook.trim());
    }

    let _ = writeln!(out, "## {}\n", SECTIONS[1].1);
    if page.attack.is_empty() {
        let _ = writeln!(out, "No ATT&CK mapping.\n");
    } else {
        let _ = writeln!(out, "| Tactic | Technique |\n| --- | --- |");
        for a in &page.attack {
            let tactic = match a.tactic_name() {
                Some(name) => format!("{} {name}", a.tactic),
                None => format!("{} (not an Enterprise tactic)", a.tactic),
            };
            let technique = if a.technique.is_empty() {
                "—".to_owned()
            } else {
                format!("[{}]({})", a.technique, a.technique_url())
            };
            let _ = writeln!(out, "| {tactic} | {technique} |");
        }
        out.push('\n');
    }
    for (framework, entries) in &page.other_reports {
        let _ = writeln!(out, "{}: {}\n", cell(framework), cell(&entries.join(", ")));
    }

    let _ = writeln!(out, "## {}\n", SECTIONS[2].1);
    out.push_str(&block("yaml", &page.body));
    out.push('\n');

    let _ = writeln!(out, "## {}\n", SECTIONS[3].1);
    let _ = writeln!(
        out,
        "Every line must hold (catalog condition syntax; the lines parse back to the rule's logic, predicates inlined):\n"
    );
    out.push_str(&block("text", &page.condition.join("\n")));
    out.push('\n');

    let _ = writeln!(out, "## {}\n", SECTIONS[4].1);
    if page.exclusions.is_empty() {
        let _ = writeln!(out, "The rule has no top-level negated condition.\n");
    } else {
        let _ = writeln!(
            out,
            "What the rule's top-level negated conditions (`not ...`, `none_of(...)`, `ne`, `not in`) suppress, field by field: an event is excluded when these comparisons make the negated condition true.\n"
        );
        let _ = writeln!(
            out,
            "| Field | Kind | Excluded values |\n| --- | --- | --- |"
        );
        for row in &page.exclusions {
            let values: Vec<String> = row.values.iter().map(|v| value(v)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code(&row.field),
                row.kind,
                values.join(", ")
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## {}\n", SECTIONS[5].1);
    if page.indicators.is_empty() {
        let _ = writeln!(out, "No indicators.\n");
    } else {
        let _ = writeln!(
            out,
            "Each field, operator and value the rule matches (outside its exclusions and preconditions). The count is the number of other rules in this catalog that look for the same combination.\n"
        );
        let _ = writeln!(
            out,
            "| Field | Kind | Value | Other rules |\n| --- | --- | --- | --- |"
        );
        for row in &page.indicators {
            for (v, count) in &row.values {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {count} |",
                    code(&row.field),
                    row.kind,
                    value(v)
                );
            }
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## {}\n", SECTIONS[6].1);
    if page.outputs.is_empty() {
        let _ = writeln!(
            out,
            "The alert carries no fields beyond the rule's metadata.\n"
        );
    } else {
        let _ = writeln!(out, "| Field | Used in | Source |\n| --- | --- | --- |");
        for o in &page.outputs {
            let sources: Vec<String> = o
                .sources
                .iter()
                .map(|(log_type, source)| {
                    if log_type == "*" {
                        code(source)
                    } else {
                        format!("{}: {}", cell(log_type), code(source))
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code(&o.name),
                o.used_in.join(", "),
                sources.join("<br>")
            );
        }
        out.push('\n');
    }
    out
}

fn value(v: &str) -> String {
    if v == NO_VALUE {
        NO_VALUE.to_owned()
    } else {
        code(v)
    }
}

/// The index of every rule.
pub fn index(pages: &[RulePage]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Rule catalog\n");
    let _ = writeln!(
        out,
        "{} rules. Coverage: [MITRE ATT&CK and log types](coverage.md).\n",
        pages.len()
    );
    let _ = writeln!(
        out,
        "| Rule | Log types | Severity | Status | Tactics | Techniques |\n| --- | --- | --- | --- | --- | --- |"
    );
    for p in pages {
        let tactics: Vec<String> = p
            .attack
            .iter()
            .map(|a| a.tactic_name().unwrap_or(&a.tactic).to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let techniques: Vec<&str> = p
            .attack
            .iter()
            .map(|a| a.technique.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        let _ = writeln!(
            out,
            "| [{}](rules/{}.md) | {} | {} | {} | {} | {} |",
            cell(&p.title),
            page_name(&p.id),
            cell(&p.log_types.join(", ")),
            p.severity,
            or_dash(p.status.as_deref()),
            cell(&tactics.join(", ")),
            techniques.join(", ")
        );
    }
    out
}

/// The ATT&CK matrix and the log-type view.
pub fn coverage(pages: &[RulePage]) -> String {
    let mut out = String::new();
    let link = |id: &str| format!("[{id}](rules/{}.md)", page_name(id));
    let _ = writeln!(out, "# Coverage\n\n[index](index.md)\n\n## MITRE ATT&CK\n");
    for column in attack_matrix(pages) {
        let _ = writeln!(
            out,
            "### {} {} ({} rules)\n",
            column.tactic, column.name, column.rule_count
        );
        if column.techniques.is_empty() {
            let _ = writeln!(out, "No rule.\n");
            continue;
        }
        for (technique, rules) in &column.techniques {
            let rules: Vec<String> = rules.iter().map(|r| link(r)).collect();
            let name = if technique.is_empty() {
                "(tactic only)"
            } else {
                technique
            };
            let _ = writeln!(out, "- {name}: {}", rules.join(", "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Log types\n");
    for (log_type, rules) in by_log_type(pages) {
        let _ = writeln!(out, "### {log_type} ({} rules)\n", rules.len());
        for (id, title) in rules {
            let _ = writeln!(out, "- {} {}", link(&id), cell(&title));
        }
        out.push('\n');
    }
    out
}
