//! What a generated event is: the scenarios, their weights and whether
//! Panther's seed rule matches them.

use std::fmt;

/// What a generated event is, chosen by the generator before it writes the
/// event. Every event of a scenario has the same seed-rule verdict
/// ([`Scenario::matches_seed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// Everyday reads (get, list, watch) of non-secret resources, mostly by
    /// controllers, nodes and other system components. No match.
    RoutineRead,
    /// Everyday writes (create, update, patch, delete) such as lease renewals
    /// and deployments. No match.
    RoutineWrite,
    /// A `get` of a secret that succeeded (HTTP 200; GKE code 0 or no
    /// status). No match.
    SuccessfulSecretGet,
    /// A failed secret `get` by a non-system user in a system namespace
    /// (kube-system, gke-system, kube-node-lease, kube-public). No match.
    SystemNamespaceFailure,
    /// A failed secret `get` by a system principal (`system:node:...`,
    /// `eks:...`, `masterclient`, `aksService`, `system:serviceaccount:kube-system:...`)
    /// in an application namespace. No match.
    SystemPrincipalFailure,
    /// A failed secret `get` by a person in an application namespace. Match.
    HumanSecretProbe,
    /// A failed secret `get` by a workload identity: a service account
    /// outside kube-system, or on GKE also a GCP service-account e-mail
    /// (`...@<project>.iam.gserviceaccount.com`, which the rule's prefix
    /// test never excludes). Match.
    ServiceAccountSecretProbe,
    /// One of 20 to 30 failed secret `get`s by one attacker in one namespace
    /// within a few minutes (interleaved with other traffic), so that the
    /// rule's threshold (20 in 15 minutes per dedup string) raises an alert.
    /// Match.
    ProbeBurst,
    /// A failed `get` of something other than a secret (configmaps, pods,
    /// deployments, nodes). No match.
    NonSecretFailure,
    /// A `list` or `watch` of secrets, mostly denied. No match (the verb is
    /// not `get`).
    ListSecrets,
    /// A failed secret `get` in a Kubernetes namespace spelled with capitals
    /// (`Kube-System`): namespaces compare exactly, so it is not a system
    /// namespace. Match.
    OddNamespaceCase,
    /// A failed secret `get` whose status code is the string `"403"` (GKE
    /// `"7"`): not an integer. No match.
    OddCodeAsString,
    /// A failed secret `get` whose status code is the float `403.0` (GKE
    /// `7.0`): not an integer. No match.
    OddCodeAsFloat,
    /// A secret `get` whose status code is `true`: Python's `bool` is an
    /// `int` equal to 1, a gRPC failure on every log type, shown as `True`
    /// in the title. Match.
    OddCodeAsBool,
    /// A secret `get` whose response status is `null`. No match.
    OddNullResponseStatus,
    /// A failed `get` on a secret's URI with no `objectRef` (EKS, AKS): the
    /// resource is unknown. No match.
    OddMissingObjectRef,
    /// A failed secret `get` with no user, `user: {}` or an empty username
    /// (EKS, AKS). Match, as `<UNKNOWN_USER>`.
    OddMissingUser,
    /// A failed secret `get` with no or an empty namespace (EKS, AKS; on GKE
    /// a resource name without `namespaces/<ns>`). Match, as
    /// `<UNKNOWN_NAMESPACE>`.
    OddMissingNamespace,
    /// A failed secret `get` with no or an empty secret name (EKS, AKS).
    /// Match, as `<UNKNOWN_SECRET>`.
    OddMissingSecretName,
    /// An AKS record whose `properties.log` is cut-off, undecodable JSON of a
    /// failed secret `get`. No match.
    AksMalformedLog,
    /// An AKS record whose `properties.log` decodes to a JSON array holding a
    /// failed secret `get`: the Python rule raises. No match.
    AksLogIsArray,
    /// An AKS record whose `properties.log` is `""`, `"null"` or `"{}"`.
    /// No match.
    AksEmptyLog,
    /// An AKS record of another diagnostic category (kube-apiserver,
    /// guard, ...) whose text log line reports a denied secret read. No match.
    AksNonAuditCategory,
    /// A GKE failed secret `get` with no `authenticationInfo` (or an empty
    /// one): the username is `<UNKNOWN ACTOR USER>`. Match.
    GkeNoAuthenticationInfo,
    /// A GCP audit log of another service (Secret Manager, Cloud Storage,
    /// the GKE control plane), often denied: `serviceName` is not `k8s.io`.
    /// No match.
    GkeNonK8sService,
}

impl Scenario {
    /// Every scenario, in declaration order.
    pub const ALL: [Scenario; 25] = [
        Scenario::RoutineRead,
        Scenario::RoutineWrite,
        Scenario::SuccessfulSecretGet,
        Scenario::SystemNamespaceFailure,
        Scenario::SystemPrincipalFailure,
        Scenario::HumanSecretProbe,
        Scenario::ServiceAccountSecretProbe,
        Scenario::ProbeBurst,
        Scenario::NonSecretFailure,
        Scenario::ListSecrets,
        Scenario::OddNamespaceCase,
        Scenario::OddCodeAsString,
        Scenario::OddCodeAsFloat,
        Scenario::OddCodeAsBool,
        Scenario::OddNullResponseStatus,
        Scenario::OddMissingObjectRef,
        Scenario::OddMissingUser,
        Scenario::OddMissingNamespace,
        Scenario::OddMissingSecretName,
        Scenario::AksMalformedLog,
        Scenario::AksLogIsArray,
        Scenario::AksEmptyLog,
        Scenario::AksNonAuditCategory,
        Scenario::GkeNoAuthenticationInfo,
        Scenario::GkeNonK8sService,
    ];

    /// The scenario's name, as written in label files (`HumanSecretProbe`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::RoutineRead => "RoutineRead",
            Scenario::RoutineWrite => "RoutineWrite",
            Scenario::SuccessfulSecretGet => "SuccessfulSecretGet",
            Scenario::SystemNamespaceFailure => "SystemNamespaceFailure",
            Scenario::SystemPrincipalFailure => "SystemPrincipalFailure",
            Scenario::HumanSecretProbe => "HumanSecretProbe",
            Scenario::ServiceAccountSecretProbe => "ServiceAccountSecretProbe",
            Scenario::ProbeBurst => "ProbeBurst",
            Scenario::NonSecretFailure => "NonSecretFailure",
            Scenario::ListSecrets => "ListSecrets",
            Scenario::OddNamespaceCase => "OddNamespaceCase",
            Scenario::OddCodeAsString => "OddCodeAsString",
            Scenario::OddCodeAsFloat => "OddCodeAsFloat",
            Scenario::OddCodeAsBool => "OddCodeAsBool",
            Scenario::OddNullResponseStatus => "OddNullResponseStatus",
            Scenario::OddMissingObjectRef => "OddMissingObjectRef",
            Scenario::OddMissingUser => "OddMissingUser",
            Scenario::OddMissingNamespace => "OddMissingNamespace",
            Scenario::OddMissingSecretName => "OddMissingSecretName",
            Scenario::AksMalformedLog => "AksMalformedLog",
            Scenario::AksLogIsArray => "AksLogIsArray",
            Scenario::AksEmptyLog => "AksEmptyLog",
            Scenario::AksNonAuditCategory => "AksNonAuditCategory",
            Scenario::GkeNoAuthenticationInfo => "GkeNoAuthenticationInfo",
            Scenario::GkeNonK8sService => "GkeNonK8sService",
        }
    }

    /// The scenario named `name` (as [`Scenario::name`] writes it).
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// How often the generator draws this scenario, out of 100,000 draws.
    /// [`Scenario::ProbeBurst`] is 0: bursts are scheduled, not drawn (the
    /// first starts within the first 700 events, the next 2,000 to 4,500
    /// events after the previous one ends, about 3 per 10,000 events).
    pub fn weight(self) -> u32 {
        match self {
            Scenario::RoutineRead => 60_830,
            Scenario::RoutineWrite => 12_000,
            Scenario::SuccessfulSecretGet => 7_000,
            Scenario::SystemNamespaceFailure => 2_500,
            Scenario::SystemPrincipalFailure => 3_500,
            Scenario::HumanSecretProbe => 2_600,
            Scenario::ServiceAccountSecretProbe => 1_200,
            Scenario::ProbeBurst => 0,
            Scenario::NonSecretFailure => 3_500,
            Scenario::ListSecrets => 2_500,
            Scenario::OddNamespaceCase => 80,
            Scenario::OddCodeAsString => 150,
            Scenario::OddCodeAsFloat => 150,
            Scenario::OddCodeAsBool => 80,
            Scenario::OddNullResponseStatus => 150,
            Scenario::OddMissingObjectRef => 100,
            Scenario::OddMissingUser => 100,
            Scenario::OddMissingNamespace => 100,
            Scenario::OddMissingSecretName => 80,
            Scenario::AksMalformedLog => 100,
            Scenario::AksLogIsArray => 80,
            Scenario::AksEmptyLog => 100,
            Scenario::AksNonAuditCategory => 1_500,
            Scenario::GkeNoAuthenticationInfo => 100,
            Scenario::GkeNonK8sService => 1_500,
        }
    }

    /// Whether Panther's `Kubernetes.Secret.AccessDenied` matches every event
    /// of this scenario.
    pub fn matches_seed(self) -> bool {
        matches!(
            self,
            Scenario::HumanSecretProbe
                | Scenario::ServiceAccountSecretProbe
                | Scenario::ProbeBurst
                | Scenario::OddNamespaceCase
                | Scenario::OddCodeAsBool
                | Scenario::OddMissingUser
                | Scenario::OddMissingNamespace
                | Scenario::OddMissingSecretName
                | Scenario::GkeNoAuthenticationInfo
        )
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_000() {
        let total: u32 = Scenario::ALL.iter().map(|s| s.weight()).sum();
        assert_eq!(total, 100_000);
    }

    #[test]
    fn names_round_trip() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
            assert_eq!(scenario.to_string(), scenario.name());
        }
    }

    #[test]
    fn drawn_match_share_is_a_few_percent() {
        let matched: u32 = Scenario::ALL
            .iter()
            .filter(|s| s.matches_seed())
            .map(|s| s.weight())
            .sum();
        assert!((3_000..=6_000).contains(&matched), "{matched}");
    }
}
