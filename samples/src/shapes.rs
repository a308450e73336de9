//! The three event shapes: a Kubernetes API call described once ([`Call`])
//! and written as an EKS audit event, an AKS Azure Monitor record (the audit
//! event as a JSON string in `properties.log`) or a GKE Cloud Audit Log entry.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};

use crate::time;

/// Which log type an event is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `Amazon.EKS.Audit`: the Kubernetes audit event itself.
    Eks,
    /// `Azure.MonitorActivity`: Azure Monitor diagnostic record of AKS.
    Aks,
    /// `GCP.AuditLog`: Cloud Audit Log entry of GKE.
    Gke,
}

impl Shape {
    /// Panther's log type (`p_log_type`).
    pub(crate) fn log_type(self) -> &'static str {
        match self {
            Shape::Eks => "Amazon.EKS.Audit",
            Shape::Aks => "Azure.MonitorActivity",
            Shape::Gke => "GCP.AuditLog",
        }
    }

    /// The cluster this shape's events come from (`p_source_label`).
    pub(crate) fn cluster(self) -> &'static str {
        match self {
            Shape::Eks => "prod-eks-1",
            Shape::Aks => "prod-aks-1",
            Shape::Gke => "prod-gke-1",
        }
    }
}

/// A text field of an event that may be odd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text {
    /// Present with this value.
    Set(String),
    /// Left out.
    Absent,
    /// Present and empty (`""`; for a GKE user, an empty `authenticationInfo`).
    Empty,
    /// Present and JSON `null`.
    Null,
}

impl Text {
    /// The value when it is a non-empty string.
    pub(crate) fn value(&self) -> Option<&str> {
        match self {
            Text::Set(text) if !text.is_empty() => Some(text),
            _ => None,
        }
    }
}

/// How the response status code is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeStyle {
    /// An integer (HTTP for EKS/AKS, gRPC for GKE).
    Int,
    /// The integer's decimal text, as a JSON string (`"403"`).
    Str,
    /// The integer as a JSON float (`403.0`).
    Float,
    /// JSON `true`.
    Bool,
    /// The whole response status is JSON `null`.
    NullStatus,
}

/// One Kubernetes API request and its outcome, independent of log shape.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The Kubernetes verb (`get`, `list`, `watch`, `update`, ...).
    pub verb: &'static str,
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// API version (`v1`).
    pub version: &'static str,
    /// Resource (`secrets`, `pods`, ...).
    pub resource: &'static str,
    /// Namespace; [`Text::Absent`] for cluster-scoped resources.
    pub namespace: Text,
    /// Object name; [`Text::Absent`] for collections.
    pub name: Text,
    /// Whether EKS/AKS events carry an `objectRef`.
    pub object_ref: bool,
    /// The authenticated user name.
    pub user: Text,
    /// The user's groups.
    pub groups: &'static [&'static str],
    /// The client address.
    pub source_ip: String,
    /// The client's user agent.
    pub user_agent: &'static str,
    /// The outcome as an HTTP status (GKE writes the matching gRPC code).
    pub http: u16,
    /// How the status code is written.
    pub code_style: CodeStyle,
    /// Whether a successful GKE call writes `status` (GKE often leaves it out).
    pub gke_ok_status: bool,
    /// The request URI's query string, if any.
    pub query: Option<&'static str>,
    /// The audit ID (a UUID).
    pub audit_id: String,
    /// When the API server received the request: the event's time.
    pub received: Timestamp,
    /// Microseconds from receipt to the response.
    pub latency_us: i64,
    /// The RBAC binding named in an `allow` decision.
    pub binding: &'static str,
}

/// gRPC code and name for an HTTP status (GKE's `protoPayload.status`).
pub(crate) fn grpc(http: u16) -> (u16, &'static str) {
    match http {
        200..=299 => (0, "OK"),
        400 | 422 => (3, "INVALID_ARGUMENT"),
        401 => (16, "UNAUTHENTICATED"),
        403 => (7, "PERMISSION_DENIED"),
        404 => (5, "NOT_FOUND"),
        409 => (10, "ABORTED"),
        429 => (8, "RESOURCE_EXHAUSTED"),
        _ => (13, "INTERNAL"),
    }
}

/// Kubernetes' reason for an HTTP status.
fn reason(http: u16) -> &'static str {
    match http {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        429 => "TooManyRequests",
        _ => "InternalError",
    }
}

fn later(time: Timestamp, micros: i64) -> Timestamp {
    time.checked_add(SignedDuration::from_micros(micros))
        .unwrap_or(time)
}

fn code_value(style: CodeStyle, code: u16) -> Value {
    match style {
        CodeStyle::Int | CodeStyle::NullStatus => json!(code),
        CodeStyle::Str => json!(code.to_string()),
        CodeStyle::Float => json!(f64::from(code)),
        CodeStyle::Bool => json!(true),
    }
}

fn text_value(text: &Text) -> Option<Value> {
    match text {
        Text::Set(value) => Some(json!(value)),
        Text::Absent => None,
        Text::Empty => Some(json!("")),
        Text::Null => Some(Value::Null),
    }
}

impl Call {
    /// The resource as Kubernetes messages name it (`deployments.apps`).
    fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn user_text(&self) -> &str {
        self.user.value().unwrap_or("system:anonymous")
    }

    /// The request URI (`/api/v1/namespaces/ns/secrets/name?query`).
    pub(crate) fn request_uri(&self) -> String {
        let mut uri = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = self.namespace.value() {
            uri.push_str("/namespaces/");
            uri.push_str(ns);
        }
        uri.push('/');
        uri.push_str(self.resource);
        if let Some(name) = self.name.value() {
            uri.push('/');
            uri.push_str(name);
        }
        if let Some(query) = self.query {
            uri.push('?');
            uri.push_str(query);
        }
        uri
    }

    /// The failure message the API server writes.
    fn failure_message(&self) -> String {
        let resource = self.qualified_resource();
        let object = match self.name.value() {
            Some(name) => format!("{resource} \"{name}\""),
            None => resource.clone(),
        };
        match self.http {
            401 => "Unauthorized".to_string(),
            403 => {
                let scope = match self.namespace.value() {
                    Some(ns) => format!("in the namespace \"{ns}\""),
                    None => "at the cluster scope".to_string(),
                };
                format!(
                    "{object} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
                    self.user_text(),
                    self.verb,
                    self.resource,
                    self.group
                )
            }
            404 => format!("{object} not found"),
            409 => format!(
                "Operation cannot be fulfilled on {object}: the object has been modified; please apply your changes to the latest version and try again"
            ),
            422 => format!("{object} is invalid"),
            _ => "Internal error occurred".to_string(),
        }
    }

    /// The authorization annotations (EKS/AKS `annotations`, GKE `labels`).
    fn annotations(&self) -> Option<Value> {
        match self.http {
            401 => None,
            403 => Some(json!({
                "authorization.k8s.io/decision": "forbid",
                "authorization.k8s.io/reason": "",
            })),
            _ => Some(json!({
                "authorization.k8s.io/decision": "allow",
                "authorization.k8s.io/reason": format!(
                    "RBAC: allowed by {} to User \"{}\"",
                    self.binding,
                    self.user_text()
                ),
            })),
        }
    }

    fn response_status(&self) -> Value {
        if self.code_style == CodeStyle::NullStatus {
            return Value::Null;
        }
        let mut status = Map::new();
        status.insert("metadata".into(), json!({}));
        if self.http >= 400 {
            status.insert("status".into(), json!("Failure"));
            status.insert("message".into(), json!(self.failure_message()));
            status.insert("reason".into(), json!(reason(self.http)));
            if let Some(name) = self.name.value() {
                if matches!(self.http, 403 | 404 | 409) {
                    let mut details = Map::new();
                    details.insert("name".into(), json!(name));
                    if !self.group.is_empty() {
                        details.insert("group".into(), json!(self.group));
                    }
                    details.insert("kind".into(), json!(self.resource));
                    status.insert("details".into(), Value::Object(details));
                }
            }
        }
        status.insert("code".into(), code_value(self.code_style, self.http));
        Value::Object(status)
    }

    /// The Kubernetes audit event (`audit.k8s.io/v1` `Event`): the whole EKS
    /// event and the JSON AKS carries in `properties.log`.
    pub(crate) fn k8s_audit(&self) -> Map<String, Value> {
        let mut event = Map::new();
        event.insert("kind".into(), json!("Event"));
        event.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
        event.insert("level".into(), json!("Metadata"));
        event.insert("auditID".into(), json!(self.audit_id));
        event.insert("stage".into(), json!("ResponseComplete"));
        event.insert("requestURI".into(), json!(self.request_uri()));
        event.insert("verb".into(), json!(self.verb));
        let mut user = Map::new();
        if let Some(username) = text_value(&self.user) {
            user.insert("username".into(), username);
            user.insert("groups".into(), json!(self.groups));
        }
        if self.user != Text::Absent {
            event.insert("user".into(), Value::Object(user));
        }
        event.insert("sourceIPs".into(), json!([self.source_ip]));
        event.insert("userAgent".into(), json!(self.user_agent));
        if self.object_ref {
            let mut object = Map::new();
            object.insert("resource".into(), json!(self.resource));
            if let Some(ns) = text_value(&self.namespace) {
                object.insert("namespace".into(), ns);
            }
            if let Some(name) = text_value(&self.name) {
                object.insert("name".into(), name);
            }
            if !self.group.is_empty() {
                object.insert("apiGroup".into(), json!(self.group));
            }
            object.insert("apiVersion".into(), json!(self.version));
            event.insert("objectRef".into(), Value::Object(object));
        }
        event.insert("responseStatus".into(), self.response_status());
        event.insert(
            "requestReceivedTimestamp".into(),
            json!(time::micros_z(self.received)),
        );
        event.insert(
            "stageTimestamp".into(),
            json!(time::micros_z(later(self.received, self.latency_us))),
        );
        if let Some(annotations) = self.annotations() {
            event.insert("annotations".into(), annotations);
        }
        event
    }

    /// The EKS event (without Panther's `p_` fields).
    pub(crate) fn eks(&self) -> Map<String, Value> {
        self.k8s_audit()
    }

    /// GKE's name for the API group in `methodName` (`io.k8s.<this>.v1...`).
    fn gke_group(&self) -> &'static str {
        match self.group {
            "" => "core",
            "coordination.k8s.io" => "coordination",
            "discovery.k8s.io" => "discovery",
            "networking.k8s.io" => "networking",
            "events.k8s.io" => "events",
            other => other,
        }
    }

    /// GKE's `protoPayload.resourceName`
    /// (`core/v1/namespaces/<ns>/secrets/<name>`).
    pub(crate) fn gke_resource_name(&self) -> String {
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group
        };
        let mut name = format!("{group}/{}", self.version);
        if let Some(ns) = self.namespace.value() {
            name.push_str("/namespaces/");
            name.push_str(ns);
        }
        name.push('/');
        name.push_str(self.resource);
        if let Some(object) = self.name.value() {
            name.push('/');
            name.push_str(object);
        }
        name
    }

    /// The GKE Cloud Audit Log entry (without Panther's `p_` fields).
    pub(crate) fn gke(&self, project: &str, insert_id: &str) -> Map<String, Value> {
        let method = format!(
            "io.k8s.{}.{}.{}.{}",
            self.gke_group(),
            self.version,
            self.resource,
            self.verb
        );
        let resource_name = self.gke_resource_name();
        let mut payload = Map::new();
        payload.insert(
            "@type".into(),
            json!("type.googleapis.com/google.cloud.audit.AuditLog"),
        );
        match &self.user {
            Text::Set(user) => {
                payload.insert("authenticationInfo".into(), json!({"principalEmail": user}));
            }
            Text::Empty => {
                payload.insert("authenticationInfo".into(), json!({}));
            }
            Text::Null => {
                payload.insert("authenticationInfo".into(), json!({"principalEmail": null}));
            }
            Text::Absent => {}
        }
        if self.http != 401 {
            payload.insert(
                "authorizationInfo".into(),
                json!([{
                    "granted": self.http != 403,
                    "permission": method,
                    "resource": resource_name,
                }]),
            );
        }
        payload.insert("methodName".into(), json!(method));
        payload.insert(
            "requestMetadata".into(),
            json!({
                "callerIP": self.source_ip,
                "callerSuppliedUserAgent": self.user_agent,
            }),
        );
        payload.insert("resourceName".into(), json!(resource_name));
        payload.insert("serviceName".into(), json!("k8s.io"));
        let (code, code_name) = grpc(self.http);
        match self.code_style {
            CodeStyle::NullStatus => {
                payload.insert("status".into(), Value::Null);
            }
            _ if code == 0 && self.code_style == CodeStyle::Int => {
                if self.gke_ok_status {
                    payload.insert("status".into(), json!({"code": 0, "message": "OK"}));
                }
            }
            style => {
                payload.insert(
                    "status".into(),
                    json!({"code": code_value(style, code), "message": code_name}),
                );
            }
        }

        let mut entry = Map::new();
        entry.insert("protoPayload".into(), Value::Object(payload));
        entry.insert("insertId".into(), json!(insert_id));
        entry.insert(
            "resource".into(),
            json!({
                "type": "k8s_cluster",
                "labels": {
                    "cluster_name": Shape::Gke.cluster(),
                    "location": "us-central1",
                    "project_id": project,
                },
            }),
        );
        entry.insert("timestamp".into(), json!(time::nanos_z(self.received)));
        entry.insert(
            "severity".into(),
            json!(if self.http >= 400 { "WARNING" } else { "INFO" }),
        );
        let log = if matches!(self.verb, "get" | "list" | "watch") {
            "data_access"
        } else {
            "activity"
        };
        entry.insert(
            "logName".into(),
            json!(format!(
                "projects/{project}/logs/cloudaudit.googleapis.com%2F{log}"
            )),
        );
        entry.insert(
            "operation".into(),
            json!({"id": self.audit_id, "producer": "k8s.io", "first": true, "last": true}),
        );
        entry.insert(
            "receiveTimestamp".into(),
            json!(time::nanos_z(later(
                self.received,
                self.latency_us + 180_000
            ))),
        );
        if let Some(labels) = self.annotations() {
            entry.insert("labels".into(), labels);
        }
        entry
    }
}

/// The fixed parts of the AKS cluster's Azure Monitor records.
#[derive(Debug, Clone)]
pub(crate) struct AksHost {
    /// The managed cluster's Azure resource ID.
    pub resource_id: String,
    /// The API server pods (`kube-apiserver-...`) and their container IDs.
    pub pods: Vec<(String, String)>,
}

impl AksHost {
    /// An Azure Monitor diagnostic record of `category` whose
    /// `properties.log` is `log` (`None`: no `log` key), from pod `pod`.
    pub(crate) fn record(
        &self,
        time: Timestamp,
        category: &str,
        log: Option<String>,
        pod: usize,
    ) -> Map<String, Value> {
        let (pod_name, container) = self
            .pods
            .get(pod)
            .cloned()
            .unwrap_or_else(|| ("kube-apiserver".into(), String::new()));
        let mut properties = Map::new();
        if let Some(log) = log {
            properties.insert("log".into(), json!(log));
        }
        properties.insert("stream".into(), json!("stdout"));
        properties.insert("pod".into(), json!(pod_name));
        properties.insert("containerID".into(), json!(container));
        let mut record = Map::new();
        record.insert("time".into(), json!(time::ticks_z(time)));
        record.insert("resourceId".into(), json!(self.resource_id));
        record.insert("category".into(), json!(category));
        record.insert(
            "operationName".into(),
            json!("Microsoft.ContainerService/managedClusters/diagnosticLogs/Read"),
        );
        record.insert("properties".into(), Value::Object(properties));
        record
    }
}
