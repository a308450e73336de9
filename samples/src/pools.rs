//! The names events are made of: users, namespaces, secrets, resources,
//! user agents. Every user listed as a person or workload is checked (in
//! this module's tests) not to look like a system principal, and every
//! system principal to look like one, so scenario labels stay exact.

/// API resources that routine traffic touches: (group, version, resource,
/// namespaced).
pub(crate) const RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("", "v1", "pods", true),
    ("", "v1", "configmaps", true),
    ("", "v1", "services", true),
    ("", "v1", "endpoints", true),
    ("", "v1", "serviceaccounts", true),
    ("", "v1", "nodes", false),
    ("", "v1", "namespaces", false),
    ("apps", "v1", "deployments", true),
    ("apps", "v1", "replicasets", true),
    ("apps", "v1", "statefulsets", true),
    ("coordination.k8s.io", "v1", "leases", true),
    ("discovery.k8s.io", "v1", "endpointslices", true),
    ("batch", "v1", "jobs", true),
    ("networking.k8s.io", "v1", "ingresses", true),
];

/// Application namespaces (none is a system namespace).
pub(crate) const APP_NAMESPACES: &[&str] = &[
    "default",
    "payments",
    "checkout",
    "web",
    "data-pipeline",
    "monitoring",
    "argocd",
    "cert-manager",
    "ingress-nginx",
    "staging",
    "ml-training",
    "vault",
];

/// The rule's system namespaces that EKS and AKS have.
pub(crate) const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-node-lease", "kube-public"];

/// The rule's system namespaces that GKE has.
pub(crate) const GKE_SYSTEM_NAMESPACES: &[&str] = &[
    "kube-system",
    "gke-system",
    "kube-node-lease",
    "kube-public",
];

/// System namespaces spelled with capitals: not system namespaces to the
/// rule, whose comparison is exact.
pub(crate) const ODD_CASE_NAMESPACES: &[&str] =
    &["Kube-System", "KUBE-SYSTEM", "Kube-Public", "kube-System"];

/// Application names (deployments, pods, configmaps are named after them).
pub(crate) const APPS: &[&str] = &[
    "payments-api",
    "checkout",
    "frontend",
    "redis",
    "postgres",
    "orders",
    "search",
    "notifications",
    "metrics-server",
    "ingress-nginx-controller",
    "argocd-server",
    "prometheus",
];

/// Secret names in application namespaces.
pub(crate) const SECRETS: &[&str] = &[
    "db-password",
    "postgres-credentials",
    "stripe-api-key",
    "tls-cert",
    "registry-pull-secret",
    "aws-credentials",
    "jwt-signing-key",
    "oauth-client-secret",
    "grafana-admin",
    "redis-auth",
    "smtp-relay",
    "argocd-initial-admin-secret",
    "vault-unseal-keys",
    "github-deploy-key",
    "slack-webhook",
];

/// Secret names in system namespaces.
pub(crate) const SYSTEM_SECRETS: &[&str] = &[
    "bootstrap-token-abcdef",
    "coredns-token",
    "kube-proxy",
    "cluster-admin-token",
    "aws-node-token",
    "metrics-server-certs",
    "konnectivity-agent-token",
];

/// People on EKS: IAM identities as access entries name them.
pub(crate) const EKS_HUMANS: &[&str] = &[
    "kubernetes-admin",
    "arn:aws:sts::111122223333:assumed-role/Developer/alice",
    "arn:aws:sts::111122223333:assumed-role/Developer/bob",
    "arn:aws:iam::111122223333:user/carol",
    "dave@example.com",
    "erin@example.com",
    "arn:aws:sts::111122223333:assumed-role/SRE/frank",
];

/// People on AKS: Entra ID users and object IDs.
pub(crate) const AKS_HUMANS: &[&str] = &[
    "grace@contoso.com",
    "heidi@contoso.com",
    "ivan@contoso.com",
    "judy@contoso.com",
    "6f1c3b2a-8d4e-4a7b-9c21-0e5f7a9b3d14",
    "clusterUser",
];

/// People on GKE: Google accounts.
pub(crate) const GKE_HUMANS: &[&str] = &[
    "kim@example.org",
    "leo@example.org",
    "mia@example.org",
    "noah@example.org",
    "olga@example.org",
];

/// Attackers of probe bursts, per shape (kept apart from the people above
/// so a burst's dedup string is its own).
pub(crate) const EKS_ATTACKERS: &[&str] = &[
    "arn:aws:sts::111122223333:assumed-role/ci-runner/i-0a1b2c3d4e5f67890",
    "trudy@example.com",
    "system:serviceaccount:web:legacy-frontend",
];

/// See [`EKS_ATTACKERS`].
pub(crate) const AKS_ATTACKERS: &[&str] = &[
    "mallory@contoso.com",
    "system:serviceaccount:jobs:report-runner",
];

/// See [`EKS_ATTACKERS`].
pub(crate) const GKE_ATTACKERS: &[&str] = &[
    "eve@example.org",
    "build-bot@acme-prod.iam.gserviceaccount.com",
    "system:serviceaccount:web:legacy-frontend",
];

/// Workload service accounts: (namespace, name), none in kube-system.
pub(crate) const APP_SERVICE_ACCOUNTS: &[(&str, &str)] = &[
    ("payments", "payments-api"),
    ("checkout", "checkout-worker"),
    ("web", "frontend"),
    ("data-pipeline", "airflow-worker"),
    ("monitoring", "prometheus"),
    ("argocd", "argocd-application-controller"),
    ("cert-manager", "cert-manager"),
    ("ingress-nginx", "ingress-nginx"),
    ("ml-training", "trainer"),
    ("vault", "vault-agent-injector"),
];

/// GCP service-account e-mails acting on GKE. The rule's
/// `.iam.gserviceaccount.com` entry is tested as a prefix, so these are
/// not system principals.
pub(crate) const GCP_SERVICE_ACCOUNTS: &[&str] = &[
    "ci-deployer@acme-prod.iam.gserviceaccount.com",
    "gitlab-runner@acme-prod.iam.gserviceaccount.com",
    "backup-job@acme-prod.iam.gserviceaccount.com",
    "config-sync@acme-prod.iam.gserviceaccount.com",
];

/// System principals of EKS (a `system:node:` name is added by the
/// generator).
pub(crate) const EKS_SYSTEM: &[&str] = &[
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "eks:certificate-controller",
    "eks:node-manager",
    "eks:pod-identity-mutating-webhook",
    "system:serviceaccount:kube-system:aws-node",
    "system:serviceaccount:kube-system:ebs-csi-controller-sa",
    "system:serviceaccount:kube-system:coredns",
    "system:apiserver",
];

/// System principals of AKS.
pub(crate) const AKS_SYSTEM: &[&str] = &[
    "masterclient",
    "aksService",
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "system:serviceaccount:kube-system:csi-azuredisk-node-sa",
    "system:serviceaccount:kube-system:konnectivity-agent",
    "azure-policy-webhook",
];

/// System principals of GKE.
pub(crate) const GKE_SYSTEM: &[&str] = &[
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "system:gke-common-webhooks",
    "system:addon-manager",
    "system:clustermetrics",
    "system:serviceaccount:kube-system:pdcsi-node-sa",
    "system:serviceaccount:kube-system:konnectivity-agent",
];

/// Groups of people.
pub(crate) const HUMAN_GROUPS: &[&str] = &["developers", "system:authenticated"];
/// Groups of service accounts.
pub(crate) const SA_GROUPS: &[&str] = &["system:serviceaccounts", "system:authenticated"];
/// Groups of nodes.
pub(crate) const NODE_GROUPS: &[&str] = &["system:nodes", "system:authenticated"];
/// Groups of control-plane components.
pub(crate) const SYSTEM_GROUPS: &[&str] = &["system:authenticated"];

/// User agents of people.
pub(crate) const HUMAN_AGENTS: &[&str] = &[
    "kubectl/v1.29.1 (linux/amd64) kubernetes/bc401b9",
    "kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350",
    "kubectl/v1.28.4 (windows/amd64) kubernetes/bae2c62",
    "k9s/v0.32.4 (darwin/arm64)",
    "Lens/6.5.2",
];

/// User agents of workloads.
pub(crate) const SA_AGENTS: &[&str] = &[
    "Go-http-client/2.0",
    "OpenAPI-Generator/29.0.0/python",
    "prometheus/2.51.0",
    "argocd-application-controller/v2.10.4 (linux/amd64) kubernetes/$Format",
    "cert-manager-controller/v1.14.4 (linux/amd64) cert-manager/7a2b9f3",
];

/// User agents of control-plane components and nodes.
pub(crate) const SYSTEM_AGENTS: &[&str] = &[
    "kube-controller-manager/v1.29.4 (linux/amd64) kubernetes/55f2bc1/shared-informers",
    "kube-scheduler/v1.29.4 (linux/amd64) kubernetes/55f2bc1/leader-election",
    "kubelet/v1.29.4 (linux/amd64) kubernetes/55f2bc1",
    "kube-apiserver/v1.29.4 (linux/amd64) kubernetes/55f2bc1",
    "coredns/v1.11.1 (linux/amd64) kubernetes/ae2bbc2",
];

/// User agents of attackers.
pub(crate) const ATTACKER_AGENTS: &[&str] = &[
    "kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
];

/// The RBAC bindings named in `allow` decisions.
pub(crate) const BINDINGS: &[&str] = &[
    "ClusterRoleBinding \"system:kube-controller-manager\" of ClusterRole \"system:kube-controller-manager\"",
    "ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\"",
    "RoleBinding \"app-reader/payments\" of Role \"app-reader\"",
    "ClusterRoleBinding \"system:basic-user\" of ClusterRole \"system:basic-user\"",
    "RoleBinding \"deployer/web\" of ClusterRole \"edit\"",
];

/// Query strings of list and watch requests.
pub(crate) const LIST_QUERIES: &[&str] = &["limit=500", "limit=500&resourceVersion=0"];
/// See [`LIST_QUERIES`].
pub(crate) const WATCH_QUERIES: &[&str] = &[
    "allowWatchBookmarks=true&timeoutSeconds=487&watch=true",
    "allowWatchBookmarks=true&resourceVersion=48213377&timeout=7m41s&timeoutSeconds=461&watch=true",
];

/// The GCP project of the GKE cluster.
pub(crate) const GCP_PROJECT: &str = "acme-prod";

/// Panther's Python `is_system_principal`, used only in tests to check the
/// pools above (the generator never decides a label with it).
#[cfg(test)]
pub(crate) fn looks_like_system_principal(user: &str) -> bool {
    const PREFIXES: &[&str] = &[
        ".iam.gserviceaccount.com",
        "system:serviceaccount:kube-system:",
        "eks:",
        "masterclient",
        "gke-",
        "azure-",
    ];
    if user.is_empty() {
        return false;
    }
    PREFIXES.iter().any(|p| user.starts_with(p))
        || user == "masterclient"
        || user == "aksService"
        || (user.starts_with("system:") && !user.contains("serviceaccount"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn people_and_workloads_are_not_system_principals() {
        let sas: Vec<String> = APP_SERVICE_ACCOUNTS
            .iter()
            .map(|(ns, name)| format!("system:serviceaccount:{ns}:{name}"))
            .collect();
        let all = EKS_HUMANS
            .iter()
            .chain(AKS_HUMANS)
            .chain(GKE_HUMANS)
            .chain(EKS_ATTACKERS)
            .chain(AKS_ATTACKERS)
            .chain(GKE_ATTACKERS)
            .chain(GCP_SERVICE_ACCOUNTS)
            .copied()
            .chain(sas.iter().map(String::as_str));
        for user in all {
            assert!(!looks_like_system_principal(user), "{user}");
        }
    }

    #[test]
    fn system_principals_are() {
        for user in EKS_SYSTEM.iter().chain(AKS_SYSTEM).chain(GKE_SYSTEM) {
            assert!(looks_like_system_principal(user), "{user}");
        }
        assert!(looks_like_system_principal(
            "system:node:ip-10-0-1-2.ec2.internal"
        ));
    }

    #[test]
    fn namespaces_are_what_they_say() {
        let system = [
            "kube-system",
            "gke-system",
            "kube-node-lease",
            "kube-public",
        ];
        for ns in APP_NAMESPACES.iter().chain(ODD_CASE_NAMESPACES) {
            assert!(!system.contains(ns), "{ns}");
        }
        for ns in SYSTEM_NAMESPACES.iter().chain(GKE_SYSTEM_NAMESPACES) {
            assert!(system.contains(ns), "{ns}");
        }
        for (ns, _) in APP_SERVICE_ACCOUNTS {
            assert!(APP_NAMESPACES.contains(ns), "{ns}");
        }
    }
}
