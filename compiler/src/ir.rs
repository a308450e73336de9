//! The typed intermediate representation every back end reads: the code
//! generator, the reference interpreter and the tools.
//!
//! It is produced only by lowering validated files: names are resolved,
//! predicates inlined, templates parsed, constants typed.

use rulec_runtime::{PyType, Severity};

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
    /// Every element of an array (`[*]` in a `KeyPath`): the rest of the path
    /// is read from each element and the values form a list.
    Each,
}

/// Where a condition or an output reads its value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef {
    /// A path into the raw event, each key looked up as Panther's Python
    /// event does (exact first, then ignoring case).
    Event(Vec<Seg>),
    /// A data-model field (`event.udm(name)`), then an optional path into its
    /// value (case-insensitive, like the dicts `udm()` returns).
    Udm {
        /// The unified field name.
        name: String,
        /// The path below the field's value.
        rest: Vec<Seg>,
    },
    /// A computed value (data models only).
    Computed(Box<ValueExpr>),
}

/// A constant in a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
}

/// A numeric bound of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumLit {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

/// A comparison between two fields (multi-key match expressions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOp {
    /// Python `==`.
    Equals,
    /// Case-insensitive `==`.
    IEquals,
    /// `a.startswith(b)`.
    StartsWith,
    /// Case-insensitive prefix.
    IStartsWith,
    /// `a.endswith(b)`.
    EndsWith,
    /// Case-insensitive suffix.
    IEndsWith,
    /// `b in a`.
    Contains,
    /// Case-insensitive substring.
    IContains,
    /// Numeric order.
    Compare(CmpOp),
}

/// How a list comprehension counts the elements that pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// At least one (`AnyElement`).
    Any,
    /// Every one (`AllElements`; true for an empty list).
    All,
    /// None (`NoElement`).
    None,
    /// Exactly one (`OnlyOneElement`).
    OnlyOne,
}

/// What a condition asks of one value. Negated conditions are [`Expr::Not`] of these.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Python `==`.
    Equals(Lit),
    /// Membership in a list of constants.
    IsIn(Vec<Lit>),
    /// `str.startswith`.
    StartsWith(String),
    /// `str.endswith`.
    EndsWith(String),
    /// Substring of a string or element of a list.
    Contains(String),
    /// Case-insensitive `==` (constant stored lower-case).
    IEquals(String),
    /// Case-insensitive prefix (constant stored lower-case).
    IStartsWith(String),
    /// Case-insensitive suffix (constant stored lower-case).
    IEndsWith(String),
    /// Case-insensitive substring (constant stored lower-case).
    IContains(String),
    /// Numeric comparison.
    Compare(CmpOp, NumLit),
    /// The key is present.
    Exists,
    /// Missing or null.
    IsNull,
    /// Missing, null, or an empty string, list or dict.
    IsNullOrEmpty,
    /// Python truthiness.
    IsTruthy,
    /// Python `isinstance(v, int)` (booleans count).
    IsInteger,
    /// An int, float or bool.
    IsNumber,
    /// Exactly this Python type.
    HasType(PyType),
    /// A string that is an IP address (`IsIPAddress`).
    IsIp,
    /// An IPv4 address.
    IsIpv4,
    /// An IPv6 address.
    IsIpv6,
    /// An address Python calls `is_global` (`IsIPAddressPublic`).
    IsIpPublic,
    /// An address Python calls `is_private` (`IsIPAddressPrivate`).
    IsIpPrivate,
    /// An address inside a network (`IsIPAddressInCIDR`).
    InCidr(rulec_runtime::ip::Cidr),
    /// A regular expression finds a match in the string (`Matches`, ours).
    Matches(String),
}

/// A boolean expression over one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `AlwaysTrue` / `AlwaysFalse`.
    Const(bool),
    /// Every child is true (evaluated in order, stops at the first false).
    All(Vec<Expr>),
    /// Some child is true (stops at the first true).
    Any(Vec<Expr>),
    /// Exactly one child is true.
    OnlyOne(Vec<Expr>),
    /// No child is true (stops at the first true).
    NoneOf(Vec<Expr>),
    /// Negation of a condition.
    Not(Box<Expr>),
    /// A multi-key comparison: `op` between two fields of the event.
    Pair {
        /// The first key (the event-value role).
        left: FieldRef,
        /// The comparison.
        op: PairOp,
        /// The second key (the constant role).
        right: FieldRef,
    },
    /// A list comprehension: `body` evaluated with each element of `list`
    /// as the event, counted by `quantifier`.
    Each {
        /// The list.
        list: FieldRef,
        /// `AnyElement`, `AllElements`, `NoElement` or `OnlyOneElement`.
        quantifier: Quantifier,
        /// The element's condition (`Expressions`, ANDed).
        body: Box<Expr>,
    },
    /// One condition on one field.
    Test {
        /// The field.
        field: FieldRef,
        /// The condition.
        test: Test,
    },
    /// A predicate with a precondition: when `requires` is false the rule
    /// raises `message` (as the Python helper would), else `body` decides.
    Guarded {
        /// The precondition.
        requires: Box<Expr>,
        /// The error raised when it fails.
        message: String,
        /// The predicate itself.
        body: Box<Expr>,
    },
}

/// A data-model value transform (the declarative form of a Python `Method`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueExpr {
    /// Always absent (`None`).
    Missing,
    /// A constant string.
    Literal(String),
    /// A field of the rule's event (`KeyPath:` / `DataModel:` in a rule's
    /// transforms, ours).
    Field(FieldRef),
    /// Python's `str.lower()` of a string.
    Lower(Box<ValueExpr>),
    /// `separator.join(str(x) for x in list)`.
    Join {
        /// The list.
        of: Box<ValueExpr>,
        /// The separator.
        separator: String,
    },
    /// Python's `urllib.parse.unquote` of a string.
    UrlDecode(Box<ValueExpr>),
    /// A JSON constant (`Const:`, ours).
    Const(serde_json::Value),
    /// An object built from named values, in order (`Object:`, ours).
    Object(Vec<(String, ValueExpr)>),
    /// The keys of a dict (`Keys:`, ours; Python's `list(d.keys())`).
    Keys(Box<ValueExpr>),
    /// A list without repeated elements (`Distinct:`, ours).
    Distinct(Box<ValueExpr>),
    /// Panther's `event.deep_walk(*keys)` (`DeepWalk:`, ours): exact keys,
    /// fanning out over lists; one value alone, several as a list.
    DeepWalk(Vec<String>),
    /// Python's `urlsplit(url).query` (`UrlQuery:`, ours).
    UrlQuery(Box<ValueExpr>),
    /// Python's `parse_qs(query)`: a dict of value lists (`QueryParams:`, ours).
    QueryParams(Box<ValueExpr>),
    /// A dict from a `key=value` list, no decoding, later keys winning
    /// (`SplitPairs:`, ours).
    SplitPairs {
        /// The text.
        of: Box<ValueExpr>,
        /// Between pairs (`Separator`).
        separator: String,
        /// Between a key and its value (`Assign`).
        assign: String,
    },
    /// The elements after the first one that passes `filter` (`After:`, ours).
    After {
        /// The list.
        list: Box<ValueExpr>,
        /// `Where:`, ANDed, read with each element as the event.
        filter: Box<Expr>,
    },
    /// Python's `value[index]` on a list or a string (`Element:`, ours);
    /// absent when out of range.
    Element {
        /// The list.
        of: Box<ValueExpr>,
        /// The index; negative counts from the end.
        index: i64,
    },
    /// A sorted list (`Sort:`, ours; Python's `sorted()`).
    Sort(Box<ValueExpr>),
    /// One level of list flattening (`Flatten:`, ours).
    Flatten(Box<ValueExpr>),
    /// A list comprehension over a list (`Each:`, ours): for each element
    /// (read as the event by `filter` and `to`) that passes `filter`, the
    /// value of `to` (the element itself without one).
    Each {
        /// The list.
        list: Box<ValueExpr>,
        /// `Where:`, ANDed.
        filter: Option<Box<Expr>>,
        /// `To:`.
        to: Option<Box<ValueExpr>>,
    },
    /// A path into the event: exact (a `Path` mapping) or case-insensitive
    /// (Python's `deep_get` on the event).
    EventPath {
        /// The keys.
        keys: Vec<String>,
        /// Whether keys ignore case.
        case_insensitive: bool,
    },
    /// `deep_get` into a decoded document (exact keys).
    DocPath {
        /// The document's name.
        doc: String,
        /// The keys.
        keys: Vec<String>,
    },
    /// `dict.get(key)` on a decoded document: raises when it is not a dict.
    DocGet {
        /// The document's name.
        doc: String,
        /// The key.
        key: String,
    },
    /// `value.get(key)` on an event value: raises when it is neither a dict nor `None`.
    DictGet {
        /// The value.
        of: Box<ValueExpr>,
        /// The key (looked up ignoring case, as on Panther's event).
        key: String,
    },
    /// Python `str()`, with `None` read as `""`.
    Text(Box<ValueExpr>),
    /// Part `index` of the text split on `separator`; absent when out of range.
    SplitPart {
        /// The value (converted as [`ValueExpr::Text`]).
        of: Box<ValueExpr>,
        /// The separator.
        separator: String,
        /// The part.
        index: usize,
        /// Python's `maxsplit` (`MaxSplit`, ours): split at most this many times.
        max_split: Option<usize>,
    },
    /// The text after the last `separator` (the whole text when there is none).
    AfterLast {
        /// The value (converted as [`ValueExpr::Text`]).
        of: Box<ValueExpr>,
        /// The separator.
        separator: String,
    },
    /// String concatenation of `str()` of each part.
    Concat(Vec<ValueExpr>),
    /// The first truthy value (Python `a or b or c`); the last one otherwise.
    FirstTruthy(Vec<ValueExpr>),
    /// The first value that is present (not absent); absent otherwise.
    FirstPresent(Vec<ValueExpr>),
    /// `[value]` when it is truthy, else `[]`.
    ListOfTruthy(Box<ValueExpr>),
    /// A conditional.
    If {
        /// The condition (over the raw event and computed values).
        condition: Box<Expr>,
        /// The value when true.
        then: Box<ValueExpr>,
        /// The value when false.
        otherwise: Box<ValueExpr>,
    },
}

/// A JSON document embedded in a string field, decoded once per event.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentIr {
    /// Its name, used by `From:`.
    pub name: String,
    /// Decode only when this holds.
    pub when: Option<Expr>,
    /// The string to decode.
    pub source: ValueExpr,
}

/// A data model: how unified names read one log type's events.
#[derive(Debug, Clone, PartialEq)]
pub struct DataModelIr {
    /// `DataModelID`.
    pub id: String,
    /// The log types it applies to.
    pub log_types: Vec<String>,
    /// Embedded documents.
    pub documents: Vec<DocumentIr>,
    /// Unified name to transform, in file order.
    pub mappings: Vec<(String, ValueExpr)>,
    /// `EventTime` (ours): the keys of the field holding the event's time.
    pub event_time: Option<Vec<String>>,
    /// The file it came from.
    pub source_file: String,
}

impl DataModelIr {
    /// The transform for a unified name.
    pub fn mapping(&self, name: &str) -> Option<&ValueExpr> {
        self.mappings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The embedded document of that name.
    pub fn document(&self, name: &str) -> Option<&DocumentIr> {
        self.documents.iter().find(|d| d.name == name)
    }
}

/// How a missing value prints in a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Fallback {
    /// Python's `str(None)`: `None`.
    None,
    /// `{field or "text"}`: the text when the value is falsy.
    Or(String),
    /// `{field default "text"}`: the text when the value is absent.
    Default(String),
    /// `{field ?? "text"}`: the text when the value is absent or null
    /// (Python's `deep_get(..., default="text")`).
    IfNull(String),
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// A field, printed with Python's `str()`.
    Field {
        /// The field.
        field: FieldRef,
        /// What to print when it is missing or falsy.
        fallback: Fallback,
    },
}

/// A parsed `{field}` template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// The pieces, in order.
    pub parts: Vec<TemplatePart>,
}

/// The value of an `AlertContext` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    /// A field, and the constant used when it is absent or null
    /// (`Default:`, ours; Python's `deep_get(..., default=...)`).
    Field {
        /// The field.
        field: FieldRef,
        /// The fallback.
        default: Option<serde_json::Value>,
    },
    /// A constant (`KeyValue: {Value: ...}`, ours).
    Const(serde_json::Value),
}

/// The alert texts that substitute event fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextTemplates {
    /// `Description`.
    pub description: Option<Template>,
    /// `Runbook`.
    pub runbook: Option<Template>,
    /// `Reference`.
    pub reference: Option<Template>,
}

impl TextTemplates {
    /// Whether any text substitutes a field.
    pub fn any(&self) -> bool {
        self.description.is_some() || self.runbook.is_some() || self.reference.is_some()
    }
}

/// `DynamicSeverities` entry: the first whose condition holds sets the severity.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityRule {
    /// The new severity; `None` for `DEFAULT` (keep the base severity).
    pub change_to: Option<Severity>,
    /// When it applies.
    pub condition: Expr,
}

/// One entry of a rule's `Tests` block.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// `Name`.
    pub name: String,
    /// The Rust test function name derived from it.
    pub fn_name: String,
    /// What it runs and expects.
    pub body: TestBody,
}

/// Panther's event test, or rulec's threshold sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum TestBody {
    /// `Log` and `ExpectedResult`, with optional value assertions.
    Event(EventTest),
    /// `Events` and `ExpectedAlerts` (ours).
    Sequence(SequenceTest),
}

/// `Log` and `ExpectedResult`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTest {
    /// `ExpectedResult`.
    pub expected: bool,
    /// `Log`, as JSON text.
    pub log_json: String,
    /// The log type the case is evaluated as: its `p_log_type`, else the
    /// rule's first log type.
    pub log_type: String,
    /// `ExpectedTitle`, `ExpectedDedup`, `ExpectedSeverity`, `ExpectedAlertContext`.
    pub expect: ValueExpectations,
}

/// rulec's value assertions on a matching case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueExpectations {
    /// `ExpectedTitle`.
    pub title: Option<String>,
    /// `ExpectedDedup`.
    pub dedup: Option<String>,
    /// `ExpectedSeverity`.
    pub severity: Option<Severity>,
    /// `ExpectedAlertContext`, as JSON object text.
    pub alert_context: Option<String>,
}

/// `Events` and `ExpectedAlerts`.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceTest {
    /// The steps, in order.
    pub steps: Vec<SequenceStep>,
    /// The alerts expected, by their first event's time.
    pub expected_alerts: Vec<ExpectedAlert>,
}

/// One entry of `Events`.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceStep {
    /// The log type the event is evaluated as.
    pub log_type: String,
    /// `Log`, as JSON text.
    pub log_json: String,
    /// `Time`.
    pub time: Option<String>,
    /// `Repeat`.
    pub repeat: u32,
    /// `Every`, in milliseconds.
    pub every_millis: u64,
}

/// One entry of `ExpectedAlerts`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpectedAlert {
    /// `Title`.
    pub title: Option<String>,
    /// `Dedup`.
    pub dedup: Option<String>,
    /// `Severity`.
    pub severity: Option<Severity>,
    /// `EventCount`.
    pub event_count: Option<u64>,
}

/// Metadata of a rule, as the runtime's `RuleMeta` carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMetaIr {
    /// `RuleID`.
    pub id: String,
    /// `DisplayName`.
    pub display_name: Option<String>,
    /// `Enabled`.
    pub enabled: bool,
    /// `Status`.
    pub status: Option<String>,
    /// `Severity`.
    pub severity: Severity,
    /// `LogTypes`.
    pub log_types: Vec<String>,
    /// `Tags`.
    pub tags: Vec<String>,
    /// `Reports`.
    pub reports: Vec<(String, Vec<String>)>,
    /// `Description`.
    pub description: Option<String>,
    /// `Runbook`.
    pub runbook: Option<String>,
    /// `Reference`.
    pub reference: Option<String>,
    /// `DedupPeriodMinutes` after the floor of 5.
    pub dedup_period_minutes: u32,
    /// `Threshold`.
    pub threshold: u32,
    /// `SummaryAttributes`.
    pub summary_attributes: Vec<String>,
    /// `CreateAlert`.
    pub create_alert: bool,
    /// The rule file, as named to the compiler.
    pub source_file: String,
}

/// A fully lowered rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleIr {
    /// Metadata.
    pub meta: RuleMetaIr,
    /// `InlineFilters` and `Detection`, ANDed in that order.
    pub condition: Expr,
    /// `AlertTitle`; `None`: the display name or RuleID.
    pub title: Option<Template>,
    /// `AlertDedup`; `None`: Panther's default (the title).
    pub dedup: Option<Template>,
    /// `Unique` (ours, Python's `unique()`): the value whose distinct count
    /// the threshold measures.
    pub unique: Option<ValueExpr>,
    /// `AlertContext`, in order.
    pub alert_context: Vec<(String, ContextValue)>,
    /// `DynamicSeverities`.
    pub dynamic_severities: Vec<SeverityRule>,
    /// `Description`, `Runbook` and `Reference` when they substitute fields
    /// (ours); `None` for plain text.
    pub texts: TextTemplates,
    /// `Tests`.
    pub tests: Vec<TestCase>,
    /// The data model of each log type that has one.
    pub data_models: Vec<DataModelIr>,
}

impl RuleIr {
    /// The data model for a log type, if any.
    pub fn data_model(&self, log_type: &str) -> Option<&DataModelIr> {
        self.data_models
            .iter()
            .find(|m| m.log_types.iter().any(|t| t == log_type))
    }

    /// The title used when the rule has no `AlertTitle`: its display name, else its RuleID.
    pub fn default_title(&self) -> &str {
        self.meta.display_name.as_deref().unwrap_or(&self.meta.id)
    }
}
