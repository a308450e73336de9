//! The catalog's tests: the seed rule's page (snapshot and facts), and
//! indicator counts on a small catalog whose counts are known.

use std::path::Path;

use super::model::{Indicator, Row};
use super::*;
use crate::workspace::rules_dir;

fn seed_page(pages: &[RulePage]) -> &RulePage {
    pages
        .iter()
        .find(|p| p.id == SEED_RULE)
        .unwrap_or_else(|| panic!("the seed rule is in the catalog"))
}

fn catalog() -> Vec<RulePage> {
    load(&rules_dir()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn seed_page_markdown_snapshot() {
    let pages = catalog();
    insta::assert_snapshot!("seed_page", markdown::rule_page(seed_page(&pages)));
}

fn row(field: &str, kind: &str, values: &[&str]) -> Row {
    Row {
        field: field.to_owned(),
        kind: kind.to_owned(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

#[test]
fn seed_page_has_the_seed_documents_facts_and_the_full_exclusion_list() {
    let pages = catalog();
    let page = seed_page(&pages);
    assert_eq!(page.title, "Kubernetes Secret Access Denied");
    assert_eq!(page.status.as_deref(), Some("Experimental"));
    assert_eq!(page.severity, "Medium");
    assert_eq!(page.group_by, ["username", "namespace"]);
    assert_eq!(
        page.log_types,
        ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"]
    );
    assert_eq!(
        page.tags,
        [
            "Kubernetes",
            "Credential Access",
            "Enumeration",
            "Secrets Management",
            "Unified Detection"
        ]
    );
    assert_eq!(
        page.reference.as_deref(),
        Some("https://kubernetes.io/docs/concepts/configuration/secret/")
    );
    let attack: Vec<(String, String)> = page
        .attack
        .iter()
        .map(|a| (a.tactic.clone(), a.technique.clone()))
        .collect();
    assert_eq!(
        attack,
        [
            ("TA0006".to_owned(), "T1552.007".to_owned()),
            ("TA0007".to_owned(), "T1613".to_owned())
        ]
    );
    // The exclusions come from the two inlined predicates under `None`,
    // with every system-principal prefix (the seed's page missed five).
    assert_eq!(
        page.exclusions,
        [
            row(
                "namespace",
                "in",
                &[
                    "\"gke-system\"",
                    "\"kube-node-lease\"",
                    "\"kube-public\"",
                    "\"kube-system\""
                ]
            ),
            row("username", "in", &["\"aksService\"", "\"masterclient\""]),
            row("username", "not contains", &["\"serviceaccount\""]),
            row(
                "username",
                "starts_with",
                &[
                    "\".iam.gserviceaccount.com\"",
                    "\"azure-\"",
                    "\"eks:\"",
                    "\"gke-\"",
                    "\"masterclient\"",
                    "\"system:\"",
                    "\"system:serviceaccount:kube-system:\""
                ]
            ),
        ]
    );
    let indicators: Vec<(&str, &str, Vec<&str>)> = page
        .indicators
        .iter()
        .map(|i| {
            (
                i.field.as_str(),
                i.kind.as_str(),
                i.values.iter().map(|(v, _)| v.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        indicators,
        [
            ("resource", "eq", vec!["\"secrets\""]),
            ("responseStatus", "is_truthy", vec![model::NO_VALUE]),
            ("responseStatus.code", "ge", vec!["1", "400"]),
            ("responseStatus.code", "is_integer", vec![model::NO_VALUE]),
            ("responseStatus.code", "le", vec!["16"]),
            ("verb", "eq", vec!["\"get\""]),
        ]
    );
    let outputs: Vec<&str> = page.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        outputs,
        [
            "username",
            "namespace",
            "name",
            "responseStatus.code",
            "sourceIPs",
            "userAgent",
            "verb",
            "resource",
            "requestURI",
            "responseStatus",
            "cluster",
            "secret_name",
            "response_code",
            "response_message"
        ]
    );
    let cluster = page.outputs.iter().find(|o| o.name == "cluster");
    assert_eq!(
        cluster.map(|o| o.sources.clone()),
        Some(vec![("*".to_owned(), "p_source_label".to_owned())])
    );
    // The condition lines parse back to the rule (checked for every rule in
    // the compiler's round-trip test); here their shape.
    assert_eq!(page.condition.len(), 4);
    assert!(
        page.condition[3].starts_with("none_of(guard("),
        "{}",
        page.condition[3]
    );
    for section in [
        "## Description",
        "## MITRE ATT&CK coverage",
        "## Rule body",
        "## Detection logic",
        "## Exclusions",
        "## Indicators",
        "## Output fields",
    ] {
        assert!(markdown::rule_page(page).contains(section), "{section}");
    }
}

fn write(dir: &Path, name: &str, id: &str, conditions: &[&str]) {
    let lines: String = conditions
        .iter()
        .map(|c| format!("  - '{}'\n", c.replace('\'', "''")))
        .collect();
    let text = format!(
        "AnalysisType: rule\nRuleID: {id}\nEnabled: true\nLogTypes: [Custom.Log]\nSeverity: Low\n\
         Reports:\n  MITRE ATT&CK:\n    - TA0006:T1552\nCondition:\n{lines}"
    );
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

fn indicator(page: &RulePage, field: &str, kind: &str) -> Vec<(String, usize)> {
    page.indicators
        .iter()
        .find(|i: &&Indicator| i.field == field && i.kind == kind)
        .map(|i| i.values.clone())
        .unwrap_or_default()
}

#[test]
fn indicator_counts_are_the_other_rules_with_the_same_field_operator_and_value() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(
        dir.path(),
        "a.yml",
        "Test.A",
        &[
            "verb eq \"get\"",
            "code in [401, 403]",
            "not (user starts_with \"system:\")",
        ],
    );
    write(
        dir.path(),
        "b.yml",
        "Test.B",
        &["verb eq \"get\"", "code in [403]"],
    );
    write(
        dir.path(),
        "c.yml",
        "Test.C",
        &[
            "verb eq \"list\" or verb eq \"get\"",
            "code in [403, 404]",
            "user starts_with \"system:\"",
            "code eq \"403\"",
        ],
    );
    let pages = load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let page = |id: &str| {
        pages
            .iter()
            .find(|p| p.id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let (a, b, c) = (page("Test.A"), page("Test.B"), page("Test.C"));
    let counts = |values: &[(&str, usize)]| -> Vec<(String, usize)> {
        values.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
    };
    assert_eq!(indicator(a, "verb", "eq"), counts(&[("\"get\"", 2)]));
    assert_eq!(
        indicator(a, "code", "in"),
        counts(&[("401", 0), ("403", 2)])
    );
    assert_eq!(indicator(b, "code", "in"), counts(&[("403", 2)]));
    assert_eq!(
        indicator(c, "verb", "eq"),
        counts(&[("\"get\"", 2), ("\"list\"", 0)])
    );
    assert_eq!(
        indicator(c, "code", "in"),
        counts(&[("403", 2), ("404", 0)])
    );
    // The string "403" is not the number 403.
    assert_eq!(indicator(c, "code", "eq"), counts(&[("\"403\"", 0)]));
    // A's exclusion is not an indicator: C's prefix is its own.
    assert_eq!(
        indicator(c, "user", "starts_with"),
        counts(&[("\"system:\"", 0)])
    );
    assert_eq!(a.exclusions, [row("user", "starts_with", &["\"system:\""])]);
    assert!(b.exclusions.is_empty() && c.exclusions.is_empty());
    // Coverage: the three rules under Credential Access.
    let matrix = view::attack_matrix(&pages);
    let credential = matrix.iter().find(|c| c.tactic == "TA0006");
    assert_eq!(credential.map(|c| c.rule_count), Some(3));
}

#[test]
fn html_escapes_text_and_every_section_is_present() {
    assert_eq!(
        html::esc("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
    let pages = catalog();
    let page = html::rule_page(seed_page(&pages));
    for (id, _) in view::SECTIONS {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    // The rule body's YAML is escaped (`<UNKNOWN_USER>` in the title template).
    assert!(page.contains("&lt;UNKNOWN_USER&gt;"));
    assert!(!page.contains("<UNKNOWN_USER>"));
    let index = html::index(&pages);
    assert_eq!(index.matches("<tr data-id=").count(), pages.len());
}
