//! The seed rule's outputs equal what Panther's Python rule produces for its
//! expected-true tests (titles, dedup strings, alert-context keys and values).

mod common;

use rulec_rules::kubernetes_secret_access_denied::RULE;
use rulec_runtime::testing::CaseOutcome;
use serde_json::{json, Value};

const SEED: &str = "kubernetes/k8s_secret_access_denied.yml";

fn outcome(test_name: &str) -> CaseOutcome {
    let ir = common::rule_ir(SEED);
    let (_, log_type, event) = common::test_events(&ir)
        .into_iter()
        .find(|(name, _, _)| name == test_name)
        .unwrap_or_else(|| panic!("no test named {test_name}"));
    CaseOutcome::evaluate(&RULE, &log_type, &event)
}

fn check(test_name: &str, title: &str, dedup: &str) -> serde_json::Map<String, Value> {
    let outcome = outcome(test_name);
    assert_eq!(outcome.matched, Ok(true), "{test_name}");
    assert_eq!(outcome.title.as_deref(), Ok(title), "{test_name}");
    assert_eq!(outcome.dedup.as_deref(), Ok(dedup), "{test_name}");
    assert_eq!(outcome.severity, Ok(rulec_runtime::Severity::Medium));
    outcome
        .alert_context
        .expect("alert context evaluates")
        .into()
}

const CONTEXT_KEYS: [&str; 12] = [
    "username",
    "sourceIPs",
    "userAgent",
    "namespace",
    "verb",
    "resource",
    "requestURI",
    "responseStatus",
    "cluster",
    "secret_name",
    "response_code",
    "response_message",
];

#[test]
fn eks_403() {
    let context = check(
        "EKS failed secret get (403 Forbidden)",
        "[attacker@example.com] failed secret enumeration attempt in [production/db-password] (response: 403)",
        "k8s_secret_denied_attacker@example.com_production",
    );
    assert_eq!(
        context.keys().map(String::as_str).collect::<Vec<_>>(),
        CONTEXT_KEYS
    );
    assert_eq!(
        Value::Object(context),
        json!({
            "username": "attacker@example.com",
            "sourceIPs": ["203.0.113.42"],
            "userAgent": "kubectl/v1.28.0",
            "namespace": "production",
            "verb": "get",
            "resource": "secrets",
            "requestURI": null,
            "responseStatus": {"code": 403, "message": "Forbidden: User cannot get resource secrets in namespace production"},
            "cluster": "eks-cluster",
            "secret_name": "db-password",
            "response_code": 403,
            "response_message": "Forbidden: User cannot get resource secrets in namespace production"
        })
    );
}

#[test]
fn eks_404() {
    check(
        "EKS failed secret get (404 Not Found)",
        "[attacker@example.com] failed secret enumeration attempt in [production/nonexistent-secret] (response: 404)",
        "k8s_secret_denied_attacker@example.com_production",
    );
}

#[test]
fn aks_401() {
    let context = check(
        "AKS failed secret get (401 Unauthorized)",
        "[compromised-user@example.com] failed secret enumeration attempt in [default/api-token] (response: 401)",
        "k8s_secret_denied_compromised-user@example.com_default",
    );
    assert_eq!(context["sourceIPs"], json!(["1.2.3.4"]));
    assert_eq!(context["userAgent"], Value::Null);
    assert_eq!(context["cluster"], json!("aks-cluster"));
    assert_eq!(context["response_message"], json!("Unauthorized"));
}

#[test]
fn gke() {
    let context = check(
        "GKE failed secret get",
        "[user@company.com] failed secret enumeration attempt in [production/tls-cert] (response: 7)",
        "k8s_secret_denied_user@company.com_production",
    );
    assert_eq!(
        context.keys().map(String::as_str).collect::<Vec<_>>(),
        CONTEXT_KEYS
    );
    assert_eq!(
        context["requestURI"],
        json!("/apis/core/v1/namespaces/production/secrets/tls-cert")
    );
    assert_eq!(context["sourceIPs"], json!(["8.8.8.8"]));
    assert_eq!(context["verb"], json!("get"));
    assert_eq!(context["resource"], json!("secrets"));
    assert_eq!(context["response_code"], json!(7));
    assert_eq!(context["response_message"], json!("PERMISSION_DENIED"));
    assert_eq!(context["userAgent"], Value::Null);
}

#[test]
fn service_account() {
    check(
        "Service account failed to get secret",
        "[system:serviceaccount:default:app-sa] failed secret enumeration attempt in [production/admin-token] (response: 403)",
        "k8s_secret_denied_system:serviceaccount:default:app-sa_production",
    );
}

#[test]
fn metadata_is_carried() {
    let meta = RULE.meta;
    assert_eq!(meta.id, "Kubernetes.Secret.AccessDenied");
    assert_eq!(meta.threshold, 20);
    assert_eq!(meta.dedup_period_minutes, 15);
    assert_eq!(
        meta.log_types,
        ["Amazon.EKS.Audit", "Azure.MonitorActivity", "GCP.AuditLog"]
    );
    assert_eq!(
        meta.reports,
        [("MITRE ATT&CK", &["TA0006:T1552.007", "TA0007:T1613"][..])]
    );
    assert!(meta
        .runbook
        .is_some_and(|r| r.starts_with("1. Review the total count")));
}

/// Python details the Python rule decides: string codes, floats and bools,
/// case of namespaces, prefixes, GKE without authenticationInfo, AKS logs
/// that are not JSON objects.
#[test]
fn python_edge_cases() {
    let eks = |code: Value, namespace: &str, user: &str| {
        json!({"verb": "get", "user": {"username": user}, "objectRef": {"resource": "secrets", "namespace": namespace, "name": "s"},
               "responseStatus": {"code": code}, "p_log_type": "Amazon.EKS.Audit"})
    };
    let matches =
        |event: &Value| (RULE.matches)(event["p_log_type"].as_str().unwrap_or_default(), event);
    assert_eq!(
        matches(&eks(json!("403"), "prod", "u")),
        Ok(false),
        "a string code is not an int"
    );
    assert_eq!(
        matches(&eks(json!(403.0), "prod", "u")),
        Ok(false),
        "a float code is not an int"
    );
    assert_eq!(
        matches(&eks(json!(true), "prod", "u")),
        Ok(true),
        "True is the gRPC code 1"
    );
    assert_eq!(matches(&eks(json!(0), "prod", "u")), Ok(false));
    assert_eq!(matches(&eks(json!(17), "prod", "u")), Ok(false));
    assert_eq!(
        matches(&eks(json!(403), "Kube-System", "u")),
        Ok(true),
        "namespaces compare case-sensitively"
    );
    assert_eq!(matches(&eks(json!(403), "kube-public", "u")), Ok(false));
    assert_eq!(matches(&eks(json!(403), "prod", "eks:node")), Ok(false));
    assert_eq!(
        matches(&eks(json!(403), "prod", "sa@p.iam.gserviceaccount.com")),
        Ok(true),
        "the suffix is tested as a prefix"
    );
    assert_eq!(
        matches(&eks(json!(403), "prod", "system:kube-scheduler")),
        Ok(false)
    );
    assert_eq!(matches(&eks(json!(403), "prod", "aksService")), Ok(false));
    let mut numeric_user = eks(json!(403), "prod", "u");
    numeric_user["user"]["username"] = json!(5);
    assert!(
        matches(&numeric_user).is_err(),
        "Python raises on 5.startswith"
    );
    let mut list_status = eks(json!(403), "prod", "u");
    list_status["responseStatus"] = json!(["x"]);
    assert!(matches(&list_status).is_err(), "Python raises on list.get");

    let gke = json!({"protoPayload": {"methodName": "io.k8s.core.v1.secrets.get", "serviceName": "k8s.io",
        "resourceName": "core/v1/namespaces/prod/secrets/x", "status": {"code": 7}}, "p_log_type": "GCP.AuditLog"});
    assert_eq!(matches(&gke), Ok(true));
    let title = (RULE.title)("GCP.AuditLog", &gke).expect("title");
    assert!(title.starts_with("[<UNKNOWN ACTOR USER>]"), "{title}");

    let aks = |log: &str| json!({"category": "kube-audit", "properties": {"log": log}, "p_log_type": "Azure.MonitorActivity"});
    assert_eq!(matches(&aks("not json")), Ok(false));
    assert_eq!(matches(&aks("")), Ok(false));
    assert!(matches(&aks("[1]")).is_err(), "Python raises on list.get");
    let mut other_category =
        aks(r#"{"verb":"get","objectRef":{"resource":"secrets"},"responseStatus":{"code":403}}"#);
    assert_eq!(matches(&other_category), Ok(true));
    other_category["category"] = json!("kube-apiserver");
    assert_eq!(matches(&other_category), Ok(false));
}
