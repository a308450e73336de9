//! The event stream: draws a scenario per event (or continues a probe
//! burst), builds the event in its log shape and labels it with what the
//! seed rule outputs for it, from the parameters the scenario chose.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};

use crate::dice::Dice;
use crate::pools::{
    AKS_ATTACKERS, AKS_HUMANS, AKS_SYSTEM, APPS, APP_NAMESPACES, APP_SERVICE_ACCOUNTS,
    ATTACKER_AGENTS, BINDINGS, EKS_ATTACKERS, EKS_HUMANS, EKS_SYSTEM, GCP_PROJECT,
    GCP_SERVICE_ACCOUNTS, GKE_ATTACKERS, GKE_HUMANS, GKE_SYSTEM, GKE_SYSTEM_NAMESPACES,
    HUMAN_AGENTS, HUMAN_GROUPS, LIST_QUERIES, NODE_GROUPS, ODD_CASE_NAMESPACES, RESOURCES,
    SA_AGENTS, SA_GROUPS, SECRETS, SYSTEM_AGENTS, SYSTEM_GROUPS, SYSTEM_NAMESPACES, SYSTEM_SECRETS,
    WATCH_QUERIES,
};
use crate::shapes::{grpc, AksHost, Call, CodeStyle, Shape, Text};
use crate::{time, Config, Expected, Sample, Scenario};

/// The title's stand-in for a missing username.
const UNKNOWN_USER: &str = "<UNKNOWN_USER>";
/// The title's and dedup's stand-in for a missing namespace.
const UNKNOWN_NAMESPACE: &str = "<UNKNOWN_NAMESPACE>";
/// The title's stand-in for a missing secret name.
const UNKNOWN_SECRET: &str = "<UNKNOWN_SECRET>";
/// The GKE data model's username when no authentication info names one.
const UNKNOWN_ACTOR: &str = "<UNKNOWN ACTOR USER>";

/// The core-group secrets resource.
const SECRETS_RESOURCE: (&str, &str, &str) = ("", "v1", "secrets");

/// Shares of the three shapes: EKS, AKS, GKE.
const SHAPE_WEIGHTS: [u32; 3] = [45, 25, 30];
/// Chance that an event's time is set back 1 to 30 seconds.
const OUT_OF_ORDER: f64 = 0.01;

/// Who makes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Human,
    Workload,
    System,
}

/// The requesting identity and client.
#[derive(Debug, Clone)]
struct Actor {
    user: Text,
    groups: &'static [&'static str],
    ip: String,
    agent: &'static str,
    /// Where the identity usually works.
    home: &'static str,
}

/// A probe burst under way.
#[derive(Debug, Clone)]
struct Burst {
    shape: Shape,
    user: &'static str,
    namespace: &'static str,
    ip: String,
    agent: &'static str,
    /// Probes still to emit.
    left: u32,
    /// Other events to emit before the next probe.
    wait: u64,
}

/// One built event before Panther's `p_` fields are added.
struct Built {
    shape: Shape,
    body: Map<String, Value>,
    expected: Expected,
}

/// The lazy event stream behind [`crate::generate`].
#[derive(Debug)]
pub(crate) struct Generator {
    dice: Dice,
    left: usize,
    emitted: u64,
    start: Timestamp,
    /// Microseconds after `start` of the latest in-order event.
    clock_us: i64,
    /// The time of the event being built.
    now: Timestamp,
    p_event_time_ratio: f64,
    weights: [u32; Scenario::ALL.len()],
    burst: Option<Burst>,
    next_burst: u64,
    last_burst_dedup: Option<String>,
    aks: AksHost,
}

fn dedup_of(user: &str, namespace: &str) -> String {
    format!("k8s_secret_denied_{user}_{namespace}")
}

impl Generator {
    pub(crate) fn new(config: &Config) -> Generator {
        let mut dice = Dice::new(config.seed);
        // Whole microseconds, so every shape's text shows the same instant.
        let start =
            Timestamp::from_microsecond(config.start.as_microsecond()).unwrap_or(config.start);
        let subscription = dice.uuid();
        let aks = AksHost {
            resource_id: format!(
                "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-PROD-AKS/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/{}",
                subscription.to_uppercase(),
                Shape::Aks.cluster().to_uppercase()
            ),
            pods: (0..3)
                .map(|_| {
                    let pod = format!("kube-apiserver-{}-{}", dice.alnum(10), dice.alnum(5));
                    let container = dice.hex(64);
                    (pod, container)
                })
                .collect(),
        };
        let next_burst = dice.range(150, 700);
        Generator {
            dice,
            left: config.events,
            emitted: 0,
            start,
            clock_us: 0,
            now: start,
            p_event_time_ratio: config.p_event_time_ratio,
            weights: Scenario::ALL.map(Scenario::weight),
            burst: None,
            next_burst,
            last_burst_dedup: None,
            aks,
        }
    }

    /// Advances the clock 50 to 500 ms and returns the next event's time:
    /// that, or (1% of events) 1 to 30 s earlier.
    fn tick(&mut self) -> Timestamp {
        self.clock_us += self.dice.range(50_000, 500_000) as i64;
        let mut offset = self.clock_us;
        if self.emitted > 0 && self.dice.chance(OUT_OF_ORDER) {
            let back = self.dice.range(1_000_000, 30_000_000) as i64;
            if offset >= back {
                offset -= back;
            }
        }
        self.start
            .checked_add(SignedDuration::from_micros(offset))
            .unwrap_or(Timestamp::MAX)
    }

    // ----- small draws -------------------------------------------------

    fn shape(&mut self) -> Shape {
        [Shape::Eks, Shape::Aks, Shape::Gke][self.dice.weighted(&SHAPE_WEIGHTS)]
    }

    /// EKS or AKS: the shapes that carry the Kubernetes audit event itself.
    fn audit_shape(&mut self) -> Shape {
        [Shape::Eks, Shape::Aks][self.dice.weighted(&[60, 40])]
    }

    fn public_ip(&mut self) -> String {
        let net = self.dice.pick(&["198.51.100", "203.0.113", "192.0.2"]);
        format!("{net}.{}", self.dice.range(2, 254))
    }

    fn pod_ip(&mut self) -> String {
        format!(
            "10.{}.{}.{}",
            self.dice.range(0, 3),
            self.dice.range(0, 255),
            self.dice.range(2, 254)
        )
    }

    fn node_name(&mut self, shape: Shape) -> String {
        match shape {
            Shape::Eks => format!(
                "ip-10-0-{}-{}.ec2.internal",
                self.dice.range(0, 63),
                self.dice.range(2, 254)
            ),
            Shape::Aks => format!("aks-nodepool1-29384751-vmss{:06}", self.dice.range(0, 5)),
            Shape::Gke => format!(
                "gke-{}-default-pool-{}-{}",
                Shape::Gke.cluster(),
                self.dice.hex(8),
                self.dice.alnum(4)
            ),
        }
    }

    fn system_namespace(&mut self, shape: Shape) -> &'static str {
        match shape {
            Shape::Gke => self.dice.pick(GKE_SYSTEM_NAMESPACES),
            _ => self.dice.pick(SYSTEM_NAMESPACES),
        }
    }

    fn app_namespace(&mut self) -> &'static str {
        self.dice.pick(APP_NAMESPACES)
    }

    fn human(&mut self, shape: Shape) -> Actor {
        let pool = match shape {
            Shape::Eks => EKS_HUMANS,
            Shape::Aks => AKS_HUMANS,
            Shape::Gke => GKE_HUMANS,
        };
        Actor {
            user: Text::Set(self.dice.pick(pool).to_string()),
            groups: HUMAN_GROUPS,
            ip: self.public_ip(),
            agent: self.dice.pick(HUMAN_AGENTS),
            home: self.app_namespace(),
        }
    }

    fn workload(&mut self) -> Actor {
        let (namespace, name) = self.dice.pick(APP_SERVICE_ACCOUNTS);
        Actor {
            user: Text::Set(format!("system:serviceaccount:{namespace}:{name}")),
            groups: SA_GROUPS,
            ip: self.pod_ip(),
            agent: self.dice.pick(SA_AGENTS),
            home: namespace,
        }
    }

    fn system(&mut self, shape: Shape) -> Actor {
        let home = if self.dice.chance(0.8) {
            "kube-system"
        } else {
            self.app_namespace()
        };
        if self.dice.chance(0.25) {
            let node = self.node_name(shape);
            return Actor {
                user: Text::Set(format!("system:node:{node}")),
                groups: NODE_GROUPS,
                ip: format!(
                    "10.0.{}.{}",
                    self.dice.range(0, 63),
                    self.dice.range(2, 254)
                ),
                agent: "kubelet/v1.29.4 (linux/amd64) kubernetes/55f2bc1",
                home,
            };
        }
        let pool = match shape {
            Shape::Eks => EKS_SYSTEM,
            Shape::Aks => AKS_SYSTEM,
            Shape::Gke => GKE_SYSTEM,
        };
        Actor {
            user: Text::Set(self.dice.pick(pool).to_string()),
            groups: SYSTEM_GROUPS,
            ip: format!(
                "172.16.{}.{}",
                self.dice.range(0, 3),
                self.dice.range(2, 254)
            ),
            agent: self.dice.pick(SYSTEM_AGENTS),
            home,
        }
    }

    fn actor(&mut self, kind: Kind, shape: Shape) -> Actor {
        match kind {
            Kind::Human => self.human(shape),
            Kind::Workload => self.workload(),
            Kind::System => self.system(shape),
        }
    }

    fn kind(&mut self, human: u32, workload: u32, system: u32) -> Kind {
        [Kind::Human, Kind::Workload, Kind::System][self.dice.weighted(&[human, workload, system])]
    }

    fn http(&mut self, codes: &[(u16, u32)]) -> u16 {
        let weights: Vec<u32> = codes.iter().map(|&(_, w)| w).collect();
        codes[self.dice.weighted(&weights)].0
    }

    /// A secret name in an application namespace.
    fn secret(&mut self) -> String {
        match self.dice.below(10) {
            0 => format!(
                "sh.helm.release.v1.{}.v{}",
                self.dice.pick(APPS),
                self.dice.range(1, 40)
            ),
            1 => format!("{}-token-{}", self.dice.pick(APPS), self.dice.alnum(5)),
            _ => self.dice.pick(SECRETS).to_string(),
        }
    }

    fn system_secret(&mut self) -> String {
        self.dice.pick(SYSTEM_SECRETS).to_string()
    }

    /// A plausible object name for a resource.
    fn object_name(&mut self, resource: &str, shape: Shape) -> String {
        let app = self.dice.pick(APPS);
        match resource {
            "pods" => format!("{app}-{}-{}", self.dice.alnum(10), self.dice.alnum(5)),
            "replicasets" => format!("{app}-{}", self.dice.alnum(10)),
            "configmaps" => format!("{app}-config"),
            "endpointslices" => format!("{app}-{}", self.dice.alnum(5)),
            "jobs" => format!("{app}-migrate-{}", self.dice.range(28_000_000, 28_999_999)),
            "nodes" => self.node_name(shape),
            "namespaces" => self.app_namespace().to_string(),
            "serviceaccounts" => "default".to_string(),
            "leases" => {
                if self.dice.chance(0.5) {
                    self.node_name(shape)
                } else {
                    self.dice
                        .pick(&[
                            "kube-scheduler",
                            "kube-controller-manager",
                            "cloud-controller-manager",
                        ])
                        .to_string()
                }
            }
            _ => app.to_string(),
        }
    }

    // ----- building events ---------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        actor: &Actor,
        verb: &'static str,
        (group, version, resource): (&'static str, &'static str, &'static str),
        namespace: Text,
        name: Text,
        http: u16,
        code_style: CodeStyle,
    ) -> Call {
        let query = match verb {
            "list" => Some(self.dice.pick(LIST_QUERIES)),
            "watch" => Some(self.dice.pick(WATCH_QUERIES)),
            _ => None,
        };
        Call {
            verb,
            group,
            version,
            resource,
            namespace,
            name,
            object_ref: true,
            user: actor.user.clone(),
            groups: actor.groups,
            source_ip: actor.ip.clone(),
            user_agent: actor.agent,
            http,
            code_style,
            gke_ok_status: self.dice.chance(0.5),
            query,
            audit_id: self.dice.uuid(),
            received: self.now,
            latency_us: self.dice.range(400, 40_000) as i64,
            binding: self.dice.pick(BINDINGS),
        }
    }

    /// A `get` of a secret.
    fn secret_get(
        &mut self,
        actor: &Actor,
        namespace: Text,
        name: Text,
        http: u16,
        code_style: CodeStyle,
    ) -> Call {
        self.call(
            actor,
            "get",
            SECRETS_RESOURCE,
            namespace,
            name,
            http,
            code_style,
        )
    }

    fn aks_record(&mut self, category: &str, log: Option<String>) -> Map<String, Value> {
        let pod = self.dice.below(3) as usize;
        self.aks.record(self.now, category, log, pod)
    }

    /// The event of `call` in `shape`.
    fn render(&mut self, shape: Shape, call: &Call) -> Map<String, Value> {
        match shape {
            Shape::Eks => call.eks(),
            Shape::Aks => {
                let category =
                    if matches!(call.verb, "get" | "list" | "watch") || self.dice.chance(0.5) {
                        "kube-audit"
                    } else {
                        "kube-audit-admin"
                    };
                let log = Value::Object(call.k8s_audit()).to_string();
                self.aks_record(category, Some(log))
            }
            Shape::Gke => {
                let insert_id = self.dice.uuid();
                call.gke(GCP_PROJECT, &insert_id)
            }
        }
    }

    fn no_match(&mut self, shape: Shape, call: &Call) -> Built {
        let body = self.render(shape, call);
        Built {
            shape,
            body,
            expected: Expected::no_match(),
        }
    }

    /// How the title shows the status code the scenario wrote: the HTTP
    /// code on EKS/AKS, the gRPC code on GKE, Python's `True` for `true`.
    fn code_text(shape: Shape, http: u16, style: CodeStyle) -> String {
        match (style, shape) {
            (CodeStyle::Bool, _) => "True".to_string(),
            (_, Shape::Gke) => grpc(http).0.to_string(),
            _ => http.to_string(),
        }
    }

    // ----- scenarios ---------------------------------------------------

    fn routine_read(&mut self) -> Built {
        let shape = self.shape();
        let kind = self.kind(20, 25, 55);
        let actor = self.actor(kind, shape);
        let (group, version, resource, namespaced) = self.dice.pick(RESOURCES);
        let verb = ["get", "list", "watch"][self.dice.weighted(&[45, 30, 25])];
        let namespace = if namespaced {
            Text::Set(actor.home.to_string())
        } else {
            Text::Absent
        };
        let name = if verb == "get" {
            Text::Set(self.object_name(resource, shape))
        } else {
            Text::Absent
        };
        let call = self.call(
            &actor,
            verb,
            (group, version, resource),
            namespace,
            name,
            200,
            CodeStyle::Int,
        );
        self.no_match(shape, &call)
    }

    fn routine_write(&mut self) -> Built {
        let shape = self.shape();
        let call = match self.dice.weighted(&[40, 20, 20, 20]) {
            0 => {
                // Leader election and node heartbeats.
                let actor = self.system(shape);
                let node = match &actor.user {
                    Text::Set(user) => user.strip_prefix("system:node:").map(str::to_string),
                    _ => None,
                };
                let (namespace, name) = match node {
                    Some(node) => ("kube-node-lease", node),
                    None => (
                        "kube-system",
                        self.dice
                            .pick(&[
                                "kube-scheduler",
                                "kube-controller-manager",
                                "cloud-controller-manager",
                            ])
                            .to_string(),
                    ),
                };
                let http = self.http(&[(200, 95), (409, 5)]);
                self.call(
                    &actor,
                    "update",
                    ("coordination.k8s.io", "v1", "leases"),
                    Text::Set(namespace.to_string()),
                    Text::Set(name),
                    http,
                    CodeStyle::Int,
                )
            }
            1 => {
                let kind = self.kind(50, 50, 0);
                let actor = self.actor(kind, shape);
                let name = self.dice.pick(APPS).to_string();
                let namespace = self.app_namespace();
                self.call(
                    &actor,
                    "patch",
                    ("apps", "v1", "deployments"),
                    Text::Set(namespace.to_string()),
                    Text::Set(name),
                    200,
                    CodeStyle::Int,
                )
            }
            2 => {
                let actor = self.system(shape);
                let namespace = self.app_namespace();
                let name = self.object_name("pods", shape);
                let (verb, http) = if self.dice.chance(0.5) {
                    ("create", 201)
                } else {
                    ("delete", 200)
                };
                self.call(
                    &actor,
                    verb,
                    ("", "v1", "pods"),
                    Text::Set(namespace.to_string()),
                    Text::Set(name),
                    http,
                    CodeStyle::Int,
                )
            }
            _ => {
                // Secret writes (cert renewals, Helm releases): not `get`.
                let kind = self.kind(40, 60, 0);
                let actor = self.actor(kind, shape);
                let namespace = actor.home;
                let name = self.secret();
                let (verb, http) = match self.dice.below(3) {
                    0 => ("create", 201),
                    1 => ("update", 200),
                    _ => ("patch", 200),
                };
                self.call(
                    &actor,
                    verb,
                    SECRETS_RESOURCE,
                    Text::Set(namespace.to_string()),
                    Text::Set(name),
                    http,
                    CodeStyle::Int,
                )
            }
        };
        self.no_match(shape, &call)
    }

    fn successful_secret_get(&mut self) -> Built {
        let shape = self.shape();
        let kind = self.kind(20, 50, 30);
        let actor = self.actor(kind, shape);
        let namespace = actor.home;
        let name = if namespace == "kube-system" {
            self.system_secret()
        } else {
            self.secret()
        };
        let call = self.secret_get(
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name),
            200,
            CodeStyle::Int,
        );
        self.no_match(shape, &call)
    }

    fn system_namespace_failure(&mut self) -> Built {
        let shape = self.shape();
        let kind = self.kind(60, 40, 0);
        let actor = self.actor(kind, shape);
        let namespace = self.system_namespace(shape);
        let name = self.system_secret();
        let http = self.http(&[(403, 85), (404, 15)]);
        let call = self.secret_get(
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name),
            http,
            CodeStyle::Int,
        );
        self.no_match(shape, &call)
    }

    fn system_principal_failure(&mut self) -> Built {
        let shape = self.shape();
        let actor = self.system(shape);
        let namespace = self.app_namespace();
        let name = self.secret();
        let http = self.http(&[(403, 80), (404, 20)]);
        let call = self.secret_get(
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name),
            http,
            CodeStyle::Int,
        );
        self.no_match(shape, &call)
    }

    /// A failed secret `get` that the rule matches: `user`, `namespace` and
    /// `name` are what the event carries, the `shown_*` values what the
    /// title shows for them.
    #[allow(clippy::too_many_arguments)]
    fn matching_get(
        &mut self,
        shape: Shape,
        actor: &Actor,
        namespace: Text,
        name: Text,
        http: u16,
        style: CodeStyle,
        shown_user: &str,
        shown_namespace: &str,
        shown_name: &str,
    ) -> Built {
        let call = self.secret_get(actor, namespace, name, http, style);
        let body = self.render(shape, &call);
        let code = Self::code_text(shape, http, style);
        Built {
            shape,
            body,
            expected: Expected::seed_match(shown_user, shown_namespace, shown_name, &code),
        }
    }

    /// A person's denied secret `get` in an application namespace, with the
    /// status code written as `style`.
    fn human_probe(&mut self, shape: Shape, style: CodeStyle, codes: &[(u16, u32)]) -> Built {
        let actor = self.human(shape);
        let user = actor.user.value().unwrap_or_default().to_string();
        let namespace = actor.home;
        let name = self.secret();
        let http = self.http(codes);
        self.matching_get(
            shape,
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name.clone()),
            http,
            style,
            &user,
            namespace,
            &name,
        )
    }

    fn service_account_probe(&mut self) -> Built {
        let shape = self.shape();
        let mut actor = self.workload();
        if shape == Shape::Gke && self.dice.chance(0.5) {
            actor.user = Text::Set(self.dice.pick(GCP_SERVICE_ACCOUNTS).to_string());
            actor.groups = SYSTEM_GROUPS;
            actor.agent = "google-api-go-client/0.5 kubectl/v1.29.1";
            actor.ip = self.public_ip();
        }
        let user = actor.user.value().unwrap_or_default().to_string();
        let namespace = if self.dice.chance(0.5) {
            actor.home
        } else {
            self.app_namespace()
        };
        let name = self.secret();
        let http = self.http(&[(403, 85), (404, 15)]);
        self.matching_get(
            shape,
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name.clone()),
            http,
            CodeStyle::Int,
            &user,
            namespace,
            &name,
        )
    }

    fn non_secret_failure(&mut self) -> Built {
        let shape = self.shape();
        let kind = self.kind(60, 40, 0);
        let actor = self.actor(kind, shape);
        let (group, version, resource, namespaced) = self.dice.pick(RESOURCES);
        let namespace = if !namespaced {
            Text::Absent
        } else if self.dice.chance(0.3) {
            Text::Set(self.system_namespace(shape).to_string())
        } else {
            Text::Set(self.app_namespace().to_string())
        };
        let name = self.object_name(resource, shape);
        let http = self.http(&[(403, 70), (404, 30)]);
        let call = self.call(
            &actor,
            "get",
            (group, version, resource),
            namespace,
            Text::Set(name),
            http,
            CodeStyle::Int,
        );
        self.no_match(shape, &call)
    }

    fn list_secrets(&mut self) -> Built {
        let shape = self.shape();
        let kind = self.kind(40, 40, 20);
        let actor = self.actor(kind, shape);
        let verb = if self.dice.chance(0.7) {
            "list"
        } else {
            "watch"
        };
        let namespace = match self.dice.below(10) {
            0 => Text::Absent, // across all namespaces
            1 | 2 => Text::Set(self.system_namespace(shape).to_string()),
            _ => Text::Set(self.app_namespace().to_string()),
        };
        let http = self.http(&[(403, 60), (200, 40)]);
        let call = self.call(
            &actor,
            verb,
            SECRETS_RESOURCE,
            namespace,
            Text::Absent,
            http,
            CodeStyle::Int,
        );
        self.no_match(shape, &call)
    }

    fn odd_namespace_case(&mut self) -> Built {
        let shape = self.shape();
        let actor = self.human(shape);
        let user = actor.user.value().unwrap_or_default().to_string();
        let namespace = self.dice.pick(ODD_CASE_NAMESPACES);
        let name = self.system_secret();
        self.matching_get(
            shape,
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name.clone()),
            403,
            CodeStyle::Int,
            &user,
            namespace,
            &name,
        )
    }

    /// A person's denied secret `get` whose status the rule does not read
    /// as a failure (`style` is Str, Float or NullStatus).
    fn odd_status(&mut self, style: CodeStyle) -> Built {
        let shape = self.shape();
        let actor = self.human(shape);
        let namespace = actor.home;
        let name = self.secret();
        let http = self.http(&[(403, 80), (404, 20)]);
        let call = self.secret_get(
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name),
            http,
            style,
        );
        self.no_match(shape, &call)
    }

    fn odd_missing_object_ref(&mut self) -> Built {
        let shape = self.audit_shape();
        let actor = self.human(shape);
        let namespace = actor.home;
        let name = self.secret();
        let mut call = self.secret_get(
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name),
            403,
            CodeStyle::Int,
        );
        call.object_ref = false;
        self.no_match(shape, &call)
    }

    fn odd_text(&mut self) -> Text {
        [Text::Absent, Text::Empty, Text::Null][self.dice.below(3) as usize].clone()
    }

    fn odd_missing_user(&mut self) -> Built {
        let shape = self.audit_shape();
        let mut actor = self.human(shape);
        actor.user = self.odd_text();
        actor.agent = self.dice.pick(ATTACKER_AGENTS);
        let namespace = actor.home;
        let name = self.secret();
        let http = self.http(&[(401, 50), (403, 50)]);
        self.matching_get(
            shape,
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name.clone()),
            http,
            CodeStyle::Int,
            UNKNOWN_USER,
            namespace,
            &name,
        )
    }

    fn odd_missing_namespace(&mut self) -> Built {
        let shape = self.shape();
        let actor = self.human(shape);
        let user = actor.user.value().unwrap_or_default().to_string();
        // GKE: a resource name without `namespaces/<ns>`.
        let namespace = if shape == Shape::Gke {
            Text::Absent
        } else {
            self.odd_text()
        };
        let name = self.secret();
        let http = self.http(&[(403, 80), (404, 20)]);
        self.matching_get(
            shape,
            &actor,
            namespace,
            Text::Set(name.clone()),
            http,
            CodeStyle::Int,
            &user,
            UNKNOWN_NAMESPACE,
            &name,
        )
    }

    fn odd_missing_secret_name(&mut self) -> Built {
        let shape = self.audit_shape();
        let actor = self.human(shape);
        let user = actor.user.value().unwrap_or_default().to_string();
        let namespace = actor.home;
        let name = self.odd_text();
        let http = self.http(&[(403, 80), (404, 20)]);
        self.matching_get(
            shape,
            &actor,
            Text::Set(namespace.to_string()),
            name,
            http,
            CodeStyle::Int,
            &user,
            namespace,
            UNKNOWN_SECRET,
        )
    }

    /// The JSON text of a person's denied secret `get` (what a matching AKS
    /// record would carry in `properties.log`).
    fn denied_get_log(&mut self) -> String {
        let actor = self.human(Shape::Aks);
        let namespace = actor.home;
        let name = self.secret();
        let call = self.secret_get(
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name),
            403,
            CodeStyle::Int,
        );
        Value::Object(call.k8s_audit()).to_string()
    }

    fn aks_with_log(&mut self, log: Option<String>) -> Built {
        let body = self.aks_record("kube-audit", log);
        Built {
            shape: Shape::Aks,
            body,
            expected: Expected::no_match(),
        }
    }

    fn aks_malformed_log(&mut self) -> Built {
        let text = self.denied_get_log();
        // A proper, non-empty prefix of a JSON object never decodes.
        let cut = self.dice.range(10, text.len().saturating_sub(2) as u64) as usize;
        let log = text.get(..cut).unwrap_or("{").to_string();
        self.aks_with_log(Some(log))
    }

    fn aks_log_is_array(&mut self) -> Built {
        let text = self.denied_get_log();
        self.aks_with_log(Some(format!("[{text}]")))
    }

    fn aks_empty_log(&mut self) -> Built {
        let log = self.dice.pick(&["", "null", "{}"]).to_string();
        self.aks_with_log(Some(log))
    }

    fn aks_non_audit_category(&mut self) -> Built {
        let klog = time::klog(self.now);
        let app = self.dice.pick(APPS);
        let namespace = self.app_namespace();
        let (category, log) = match self.dice.below(5) {
            0 | 1 => {
                let actor = self.human(Shape::Aks);
                let secret = self.secret();
                let line = format!(
                    "I{klog}      11 httplog.go:132] \"HTTP\" verb=\"GET\" URI=\"/api/v1/namespaces/{namespace}/secrets/{secret}\" latency=\"{}.{:03}ms\" userAgent=\"{}\" audit-ID=\"{}\" srcIP=\"{}:{}\" resp=403",
                    self.dice.range(0, 9),
                    self.dice.range(0, 999),
                    actor.agent,
                    self.dice.uuid(),
                    actor.ip,
                    self.dice.range(32_768, 60_999)
                );
                ("kube-apiserver", line)
            }
            2 => {
                let suffix = self.dice.alnum(10);
                (
                    "kube-controller-manager",
                    format!(
                        "I{klog}       1 event.go:376] \"Event occurred\" object=\"{namespace}/{app}\" fieldPath=\"\" kind=\"Deployment\" apiVersion=\"apps/v1\" type=\"Normal\" reason=\"ScalingReplicaSet\" message=\"Scaled up replica set {app}-{suffix} to 3\""
                    ),
                )
            }
            3 => {
                let user = self.dice.pick(AKS_HUMANS);
                let secret = self.secret();
                (
                    "guard",
                    format!(
                        "I{klog}       1 authz.go:112] \"access denied\" user=\"{user}\" verb=\"get\" resource=\"secrets\" namespace=\"{namespace}\" name=\"{secret}\""
                    ),
                )
            }
            _ => (
                "cluster-autoscaler",
                format!("I{klog}       1 static_autoscaler.go:290] Starting main loop"),
            ),
        };
        let body = self.aks_record(category, Some(log));
        Built {
            shape: Shape::Aks,
            body,
            expected: Expected::no_match(),
        }
    }

    fn gke_no_authentication_info(&mut self) -> Built {
        let mut actor = self.human(Shape::Gke);
        actor.user = self.odd_text();
        actor.agent = self.dice.pick(ATTACKER_AGENTS);
        let namespace = actor.home;
        let name = self.secret();
        let http = self.http(&[(403, 60), (401, 40)]);
        self.matching_get(
            Shape::Gke,
            &actor,
            Text::Set(namespace.to_string()),
            Text::Set(name.clone()),
            http,
            CodeStyle::Int,
            UNKNOWN_ACTOR,
            namespace,
            &name,
        )
    }

    fn gke_non_k8s_service(&mut self) -> Built {
        let user = if self.dice.chance(0.5) {
            self.dice.pick(GKE_HUMANS)
        } else {
            self.dice.pick(GCP_SERVICE_ACCOUNTS)
        };
        let denied = self.dice.chance(0.5);
        let (service, method, permission, resource_name, resource_type, log) =
            match self.dice.below(3) {
                0 => {
                    let secret = self.dice.pick(SECRETS);
                    (
                        "secretmanager.googleapis.com",
                        "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
                        "secretmanager.versions.access",
                        format!("projects/{GCP_PROJECT}/secrets/{secret}/versions/latest"),
                        "audited_resource",
                        "data_access",
                    )
                }
                1 => {
                    let object = format!("backups/{}.sql.gz", self.dice.pick(APPS));
                    (
                        "storage.googleapis.com",
                        "storage.objects.get",
                        "storage.objects.get",
                        format!("projects/_/buckets/acme-prod-backups/objects/{object}"),
                        "gcs_bucket",
                        "data_access",
                    )
                }
                _ => (
                    "container.googleapis.com",
                    "google.container.v1.ClusterManager.GetCluster",
                    "container.clusters.get",
                    format!(
                        "projects/{GCP_PROJECT}/locations/us-central1/clusters/{}",
                        Shape::Gke.cluster()
                    ),
                    "gke_cluster",
                    "data_access",
                ),
            };
        let mut payload = Map::new();
        payload.insert(
            "@type".into(),
            json!("type.googleapis.com/google.cloud.audit.AuditLog"),
        );
        if denied {
            payload.insert(
                "status".into(),
                json!({
                    "code": 7,
                    "message": format!("Permission '{permission}' denied on resource '{resource_name}' (or it may not exist)."),
                }),
            );
        }
        payload.insert("authenticationInfo".into(), json!({"principalEmail": user}));
        let ip = self.public_ip();
        let agent = self.dice.pick(&[
            "google-cloud-sdk gcloud/474.0.0 command/gcloud.secrets.versions.access",
            "grpc-go/1.62.1,gzip(gfe)",
            "apitools gsutil/5.27 Python/3.11.8 (linux)",
        ]);
        payload.insert(
            "requestMetadata".into(),
            json!({"callerIP": ip, "callerSuppliedUserAgent": agent}),
        );
        payload.insert("serviceName".into(), json!(service));
        payload.insert("methodName".into(), json!(method));
        payload.insert(
            "authorizationInfo".into(),
            json!([{"resource": resource_name, "permission": permission, "granted": !denied}]),
        );
        payload.insert("resourceName".into(), json!(resource_name));
        let mut body = Map::new();
        body.insert("protoPayload".into(), Value::Object(payload));
        body.insert("insertId".into(), json!(self.dice.alnum(12)));
        body.insert(
            "resource".into(),
            json!({
                "type": resource_type,
                "labels": {"project_id": GCP_PROJECT, "service": service, "method": method},
            }),
        );
        body.insert("timestamp".into(), json!(time::nanos_z(self.now)));
        body.insert(
            "severity".into(),
            json!(if denied { "ERROR" } else { "INFO" }),
        );
        body.insert(
            "logName".into(),
            json!(format!(
                "projects/{GCP_PROJECT}/logs/cloudaudit.googleapis.com%2F{log}"
            )),
        );
        let received = self
            .now
            .checked_add(SignedDuration::from_millis(self.dice.range(20, 900) as i64))
            .unwrap_or(self.now);
        body.insert("receiveTimestamp".into(), json!(time::nanos_z(received)));
        Built {
            shape: Shape::Gke,
            body,
            expected: Expected::no_match(),
        }
    }

    // ----- probe bursts ------------------------------------------------

    fn new_burst(&mut self) -> Burst {
        let mut tries = 0;
        loop {
            let shape = self.shape();
            let pool = match shape {
                Shape::Eks => EKS_ATTACKERS,
                Shape::Aks => AKS_ATTACKERS,
                Shape::Gke => GKE_ATTACKERS,
            };
            let user = self.dice.pick(pool);
            let namespace = self.app_namespace();
            tries += 1;
            // A new dedup string each time, so bursts never share a window.
            if tries < 20 && self.last_burst_dedup.as_deref() == Some(&dedup_of(user, namespace)) {
                continue;
            }
            self.last_burst_dedup = Some(dedup_of(user, namespace));
            return Burst {
                shape,
                user,
                namespace,
                ip: self.public_ip(),
                agent: self.dice.pick(ATTACKER_AGENTS),
                left: self.dice.range(20, 30) as u32,
                wait: 0,
            };
        }
    }

    fn burst_probe(&mut self, burst: &Burst) -> Built {
        let groups = if burst.user.starts_with("system:serviceaccount:") {
            SA_GROUPS
        } else {
            HUMAN_GROUPS
        };
        let actor = Actor {
            user: Text::Set(burst.user.to_string()),
            groups,
            ip: burst.ip.clone(),
            agent: burst.agent,
            home: burst.namespace,
        };
        let name = self.secret();
        let http = self.http(&[(403, 80), (404, 20)]);
        self.matching_get(
            burst.shape,
            &actor,
            Text::Set(burst.namespace.to_string()),
            Text::Set(name.clone()),
            http,
            CodeStyle::Int,
            burst.user,
            burst.namespace,
            &name,
        )
    }

    /// The burst probe due now, if one is.
    fn due_probe(&mut self) -> Option<Built> {
        if self.burst.is_none() && self.emitted >= self.next_burst {
            self.burst = Some(self.new_burst());
        }
        let mut burst = self.burst.take()?;
        if burst.wait > 0 {
            burst.wait -= 1;
            self.burst = Some(burst);
            return None;
        }
        let built = self.burst_probe(&burst);
        burst.left = burst.left.saturating_sub(1);
        if burst.left == 0 {
            self.next_burst = self.emitted + self.dice.range(2_000, 4_500);
        } else {
            // 0 to 20 other events between probes: a burst spans about a
            // minute or two, never more than about 5 minutes.
            burst.wait = self.dice.range(0, 20);
            self.burst = Some(burst);
        }
        Some(built)
    }

    fn draw(&mut self) -> (Scenario, Built) {
        let scenario = Scenario::ALL[self.dice.weighted(&self.weights)];
        let built = match scenario {
            Scenario::RoutineRead => self.routine_read(),
            Scenario::RoutineWrite => self.routine_write(),
            Scenario::SuccessfulSecretGet => self.successful_secret_get(),
            Scenario::SystemNamespaceFailure => self.system_namespace_failure(),
            Scenario::SystemPrincipalFailure => self.system_principal_failure(),
            Scenario::HumanSecretProbe => {
                let shape = self.shape();
                self.human_probe(shape, CodeStyle::Int, &[(403, 70), (404, 25), (401, 5)])
            }
            Scenario::ServiceAccountSecretProbe => self.service_account_probe(),
            // Never drawn (weight 0: bursts are scheduled); a lone probe
            // if it ever were.
            Scenario::ProbeBurst => {
                let shape = self.shape();
                self.human_probe(shape, CodeStyle::Int, &[(403, 1)])
            }
            Scenario::OddCodeAsBool => {
                let shape = self.shape();
                self.human_probe(shape, CodeStyle::Bool, &[(403, 1)])
            }
            Scenario::NonSecretFailure => self.non_secret_failure(),
            Scenario::ListSecrets => self.list_secrets(),
            Scenario::OddNamespaceCase => self.odd_namespace_case(),
            Scenario::OddCodeAsString => self.odd_status(CodeStyle::Str),
            Scenario::OddCodeAsFloat => self.odd_status(CodeStyle::Float),
            Scenario::OddNullResponseStatus => self.odd_status(CodeStyle::NullStatus),
            Scenario::OddMissingObjectRef => self.odd_missing_object_ref(),
            Scenario::OddMissingUser => self.odd_missing_user(),
            Scenario::OddMissingNamespace => self.odd_missing_namespace(),
            Scenario::OddMissingSecretName => self.odd_missing_secret_name(),
            Scenario::AksMalformedLog => self.aks_malformed_log(),
            Scenario::AksLogIsArray => self.aks_log_is_array(),
            Scenario::AksEmptyLog => self.aks_empty_log(),
            Scenario::AksNonAuditCategory => self.aks_non_audit_category(),
            Scenario::GkeNoAuthenticationInfo => self.gke_no_authentication_info(),
            Scenario::GkeNonK8sService => self.gke_non_k8s_service(),
        };
        (scenario, built)
    }
}

impl Iterator for Generator {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.now = self.tick();
        let (scenario, built) = match self.due_probe() {
            Some(built) => (Scenario::ProbeBurst, built),
            None => self.draw(),
        };
        self.emitted += 1;
        let Built {
            shape,
            mut body,
            expected,
        } = built;
        body.insert("p_log_type".into(), json!(shape.log_type()));
        body.insert("p_source_label".into(), json!(shape.cluster()));
        if self.dice.chance(self.p_event_time_ratio) {
            body.insert("p_event_time".into(), json!(time::panther(self.now)));
        }
        Some(Sample {
            event: Value::Object(body),
            log_type: shape.log_type(),
            scenario,
            expected,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}
