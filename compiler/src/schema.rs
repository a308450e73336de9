//! JSON Schemas for rulec's YAML files, for editors: rule files, data-model
//! files and predicate files.
//!
//! The types below exist only to generate the schemas (with `schemars`): they
//! mirror the file formats key by key, and their doc comments become the
//! descriptions an editor shows on hover and completion. Nothing parses into
//! them; the real readers ([`crate::rule_file`], [`crate::tests_block`],
//! [`crate::expr_parse`], [`crate::condition`], [`crate::data_model`],
//! [`crate::predicate`]) stay the authority, and say more than a schema can
//! (unknown data-model fields, template syntax, duplicate tags ignoring case,
//! ...). The schemas aim never to reject a file the compiler accepts: a test
//! validates every file under `rules/` against them.
//!
//! Condition names come from [`CONDITIONS`]; [`CONDITION_TABLE`] says what
//! each one takes (a `Value`, `Values`, `Expressions` or nothing) and what it
//! means. A compiled condition missing from the table fails a test here. The
//! schema of a match expression's condition part ([`ConditionMatch`]) is
//! written by hand with `if`/`then` on the condition, so that an editor says
//! "`IsIn` and `IsNotIn` take `Values:`" rather than listing the conditions
//! that take a `Value`. Messages use the `errorMessage` and
//! `patternErrorMessage` keywords of the YAML language server (other
//! validators ignore them).
//!
//! `cargo xtask regen` writes the schemas to `docs/schema/` (draft-07, which
//! the YAML language server reads).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use schemars::generate::SchemaSettings;
use schemars::transform::{RestrictFormats, Transform};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use crate::expr_parse::CONDITIONS;

/// The JSON Schema of rule files (`AnalysisType: rule`): pretty JSON with a
/// trailing newline.
pub fn rule_schema() -> String {
    render::<RuleFile>()
}

/// The JSON Schema of data-model files (`AnalysisType: datamodel`).
pub fn data_model_schema() -> String {
    render::<DataModelFile>()
}

/// The JSON Schema of predicate files (`AnalysisType: predicates`).
pub fn predicates_schema() -> String {
    render::<PredicateFile>()
}

fn render<T: JsonSchema>() -> String {
    let mut settings = SchemaSettings::draft07();
    settings
        .transforms
        .push(Box::new(RestrictFormats::default()));
    settings.transforms.push(Box::new(OptionalIsNotNull));
    settings.transforms.push(Box::new(Tidy));
    let schema = settings.into_generator().into_root_schema_for::<T>();
    format!("{:#}\n", schema.as_value())
}

/// A key that may be left out may not be written as `null` either: the
/// readers refuse `DisplayName: null`. schemars lets an `Option` field be null;
/// this takes the null back out of every property that is not required.
#[derive(Clone)]
struct OptionalIsNotNull;

impl Transform for OptionalIsNotNull {
    fn transform(&mut self, schema: &mut Schema) {
        schemars::transform::transform_subschemas(self, schema);
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        let required: BTreeSet<String> = object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let Some(Value::Object(properties)) = object.get_mut("properties") else {
            return;
        };
        for (name, property) in properties.iter_mut() {
            if !required.contains(name) {
                if let Value::Object(property) = property {
                    remove_null(property);
                }
            }
        }
    }
}

/// Readability: doc comments' line breaks become spaces (blank lines stay
/// paragraph breaks), and each schema's keywords come in one order (title and
/// description first, definitions last).
#[derive(Clone)]
struct Tidy;

/// The order [`Tidy`] puts keywords in; others follow, in their order.
const KEYWORD_ORDER: [&str; 24] = [
    "$schema",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "enumDescriptions",
    "markdownEnumDescriptions",
    "pattern",
    "minLength",
    "minimum",
    "maximum",
    "default",
    "uniqueItems",
    "minItems",
    "maxItems",
    "items",
    "required",
    "oneOf",
    "properties",
    "additionalProperties",
    "anyOf",
    "allOf",
    "definitions",
];

impl Transform for Tidy {
    fn transform(&mut self, schema: &mut Schema) {
        schemars::transform::transform_subschemas(self, schema);
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if let Some(Value::String(text)) = object.get_mut("description") {
            *text = text
                .split("\n\n")
                .map(|paragraph| paragraph.split('\n').collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("\n\n");
        }
        let mut entries: Vec<(String, Value)> = std::mem::take(object).into_iter().collect();
        entries.sort_by_key(|(key, _)| {
            KEYWORD_ORDER
                .iter()
                .position(|k| k == key)
                // Unknown keywords go just before `definitions`.
                .map_or(2 * KEYWORD_ORDER.len() - 3, |p| 2 * p)
        });
        object.extend(entries);
    }
}

fn remove_null(property: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = property.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            property.insert("type".to_owned(), only);
        }
    }
    if let Some(Value::Array(branches)) = property.get_mut("anyOf") {
        branches.retain(|b| *b != serde_json::json!({"type": "null"}));
        if branches.len() == 1 {
            if let Some(branches) = property.remove("anyOf") {
                property.insert("allOf".to_owned(), branches);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Small value types.

/// A JSON Schema written by hand, with a name for `definitions`.
macro_rules! hand_written {
    ($(#[$meta:meta])* $name:ident, $schema:tt) => {
        $(#[$meta])*
        pub struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

hand_written!(
    /// Text: a string, or a number or boolean written without quotes (read
    /// as its text).
    Scalar,
    {
        "description": "Text (a number or boolean written without quotes is read as its text).",
        "type": ["string", "number", "boolean"]
    }
);

hand_written!(
    /// A constant a condition compares with.
    Literal,
    {
        "description": "A constant: a string, number, boolean or null. Compared as Python's `==` does: \"403\" does not equal 403; 403.0 equals 403; true equals 1.",
        "type": ["string", "number", "boolean", "null"]
    }
);

hand_written!(
    /// The number a numeric comparison compares with.
    NumericValue,
    {
        "description": "A number, or a string holding one (\"400\").",
        "type": ["number", "string"],
        "pattern": "^\\s*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*$",
        "patternErrorMessage": "A number, or a string holding one (\"400\")."
    }
);

hand_written!(
    /// A network in CIDR notation.
    Cidr,
    {
        "description": "A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a single address.",
        "patternErrorMessage": "A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a single address.",
        "type": "string",
        "pattern": "^\\s*[0-9A-Fa-f:.]+(%[^%/\\s]+)?(/[0-9]{1,3})?\\s*$"
    }
);

hand_written!(
    /// A test event.
    Event,
    {
        "description": "The event, as the log source sends it (a mapping). Its `p_log_type` picks the log type it is evaluated as; without one, the rule's first log type. Write it once with an anchor (`Log: &denied {...}`) and reuse it with an alias (`Log: *denied`).",
        "type": "object"
    }
);

hand_written!(
    /// A test step's event time.
    Timestamp,
    {
        "description": "An event time: RFC 3339 (`2024-06-01T10:00:00Z`, any offset), or the same without an offset, read as UTC (`2024-06-01 10:00:00.000000000`).",
        "type": "string",
        "pattern": "^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}",
        "patternErrorMessage": "An RFC 3339 timestamp: `2024-06-01T10:00:00Z`."
    }
);

hand_written!(
    /// A duration between a step's copies.
    Duration,
    {
        "description": "A whole number with a unit: `250ms`, `30s`, `2m`, `1h`, `1d`.",
        "patternErrorMessage": "A whole number with a unit: `250ms`, `30s`, `2m`, `1h`, `1d`.",
        "type": "string",
        "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$"
    }
);

hand_written!(
    /// A plain JSONPath of a data model.
    PlainPath,
    {
        "description": "A plain path to a field of the event: `$.a.b` (or `a.b`). Keys match exactly; no wildcards, filters or list indexes.",
        "patternErrorMessage": "A plain path: `$.a.b` (no wildcards, filters or list indexes).",
        "type": "string",
        "pattern": "^(\\$\\.)?[^.*\\[?]+(\\.[^.*\\[?]+)*$"
    }
);

/// An enum of strings, each with its description (`enumDescriptions` and
/// `markdownEnumDescriptions` are what the YAML language server shows in
/// completions).
fn documented_enum(description: &str, values: &[(&str, &str)]) -> Schema {
    let names: Vec<&str> = values.iter().map(|(name, _)| *name).collect();
    let docs: Vec<&str> = values.iter().map(|(_, doc)| *doc).collect();
    json_schema!({
        "description": description,
        "type": "string",
        "enum": names,
        "enumDescriptions": docs,
        "markdownEnumDescriptions": docs,
    })
}

const SEVERITIES: [(&str, &str); 10] = [
    ("Info", "Informational: no action expected."),
    ("Low", "Low."),
    ("Medium", "Medium."),
    ("High", "High."),
    ("Critical", "Critical: act now."),
    ("INFO", "`Info` (upper case is accepted)."),
    ("LOW", "`Low` (upper case is accepted)."),
    ("MEDIUM", "`Medium` (upper case is accepted)."),
    ("HIGH", "`High` (upper case is accepted)."),
    ("CRITICAL", "`Critical` (upper case is accepted)."),
];

/// An alert severity.
pub struct Severity;

impl JsonSchema for Severity {
    fn schema_name() -> Cow<'static, str> {
        "Severity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        documented_enum(
            "An alert severity: `Info`, `Low`, `Medium`, `High` or `Critical`.",
            &SEVERITIES,
        )
    }
}

/// A dynamic severity's `ChangeTo`: a severity, or `DEFAULT`.
pub struct SeverityOrDefault;

impl JsonSchema for SeverityOrDefault {
    fn schema_name() -> Cow<'static, str> {
        "SeverityOrDefault".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut values = SEVERITIES.to_vec();
        values.push(("DEFAULT", "The rule's own `Severity`."));
        documented_enum(
            "The severity to change to, or `DEFAULT` for the rule's own `Severity`.",
            &values,
        )
    }
}

/// The `AnalysisType` of one kind of file.
macro_rules! analysis_type {
    ($(#[$meta:meta])* $name:ident, $value:literal, $doc:literal) => {
        $(#[$meta])*
        pub struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                documented_enum($doc, &[($value, $doc)])
            }
        }
    };
}

analysis_type!(
    /// `AnalysisType: rule`.
    RuleAnalysisType,
    "rule",
    "`rule`: this file is a rule."
);
analysis_type!(
    /// `AnalysisType: datamodel`.
    DataModelAnalysisType,
    "datamodel",
    "`datamodel`: this file is a data model."
);
analysis_type!(
    /// `AnalysisType: predicates`.
    PredicatesAnalysisType,
    "predicates",
    "`predicates`: this file holds predicates (rulec's own kind of file)."
);

// ---------------------------------------------------------------------------
// Conditions.

/// What a condition takes besides the field it tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionForm {
    /// `Value:`, any constant (or, with `Values:`, a second field).
    Value,
    /// `Value:`, text.
    Text,
    /// `Value:`, a CIDR network.
    Cidr,
    /// `Value:`, a number.
    Number,
    /// `Values:`, a list of constants.
    List,
    /// Nothing.
    Check,
    /// `Expressions:`, match expressions on each element of a list.
    Elements,
    /// Nothing, and no field either.
    Absolute,
}

use ConditionForm as F;

/// Every condition this module knows: its name, what it takes, whether a
/// multi-key expression (`Values: [{Key: a}, {Key: b}]`) takes it, and what it
/// means. [`CONDITIONS`] decides which ones the schemas offer.
pub const CONDITION_TABLE: &[(&str, ConditionForm, bool, &str)] = &[
    ("Equals", F::Value, true, "The field equals `Value`, as Python's `==`: `\"403\"` does not equal `403`; `403.0` equals `403`; `true` equals `1`."),
    ("DoesNotEqual", F::Value, true, "Not `Equals` (also true when the field is absent or null)."),
    ("Has", F::Text, false, "The same as `Contains`."),
    ("DoesNotHave", F::Text, false, "The same as `DoesNotContain`."),
    ("IEquals", F::Text, true, "The field is a string equal to `Value`, ignoring case."),
    ("IDoesNotEqual", F::Text, true, "Not `IEquals`."),
    ("StartsWith", F::Text, true, "The field is a string starting with `Value`."),
    ("DoesNotStartWith", F::Text, true, "Not `StartsWith`."),
    ("IStartsWith", F::Text, true, "The field is a string starting with `Value`, ignoring case."),
    ("IDoesNotStartWith", F::Text, true, "Not `IStartsWith`."),
    ("EndsWith", F::Text, true, "The field is a string ending with `Value`."),
    ("DoesNotEndWith", F::Text, true, "Not `EndsWith`."),
    ("IEndsWith", F::Text, true, "The field is a string ending with `Value`, ignoring case."),
    ("IDoesNotEndWith", F::Text, true, "Not `IEndsWith`."),
    ("Contains", F::Text, true, "The field is a string containing `Value`, or a list with an element equal to it."),
    ("DoesNotContain", F::Text, true, "Not `Contains`."),
    ("IContains", F::Text, true, "`Contains`, ignoring case."),
    ("IDoesNotContain", F::Text, true, "Not `IContains`."),
    ("Matches", F::Text, false, "(rulec) The field is a string in which the regular expression `Value` finds a match (Python's `re.search`: anchor with `^`/`$` for a whole match). The `regex` crate's syntax: linear time, no look-around or backreferences; checked at compile time."),
    ("DoesNotMatch", F::Text, false, "(rulec) Not `Matches`."),
    ("IsIPAddressInCIDR", F::Cidr, false, "The field is an IP address inside the network `Value`."),
    ("IsIPAddressNotInCIDR", F::Cidr, false, "Not `IsIPAddressInCIDR`."),
    ("IsGreaterThan", F::Number, true, "The field is a number (or boolean) greater than `Value`; `\"403\"` never compares."),
    ("IsGreaterThanOrEquals", F::Number, true, "The field is a number (or boolean) greater than or equal to `Value`."),
    ("IsGreaterThanOrEqual", F::Number, true, "The same as `IsGreaterThanOrEquals`."),
    ("IsLessThan", F::Number, true, "The field is a number (or boolean) less than `Value`."),
    ("IsLessThanOrEquals", F::Number, true, "The field is a number (or boolean) less than or equal to `Value`."),
    ("IsLessThanOrEqual", F::Number, true, "The same as `IsLessThanOrEquals`."),
    ("IsIn", F::List, false, "The field equals (Python's `==`) one of `Values`."),
    ("IsNotIn", F::List, false, "Not `IsIn` (also true when the field is absent or null)."),
    ("Exists", F::Check, false, "The key is present (its value may be null)."),
    ("DoesNotExist", F::Check, false, "The key is absent."),
    ("IsNull", F::Check, false, "The key is absent or null."),
    ("IsNotNull", F::Check, false, "The key is present and not null."),
    ("IsNullOrEmpty", F::Check, false, "The field is absent, null, `\"\"`, `[]` or `{}`."),
    ("IsNotNullOrEmpty", F::Check, false, "Not `IsNullOrEmpty`."),
    ("IsTruthy", F::Check, false, "Python truthiness (rulec's): not `None`, `False`, `0`, `0.0`, `\"\"`, `[]` or `{}`."),
    ("IsFalsy", F::Check, false, "Not `IsTruthy` (rulec's)."),
    ("IsString", F::Check, false, "The field is a string (rulec's)."),
    ("IsInteger", F::Check, false, "The field is an integer or a boolean, as Python's `isinstance(v, int)` (rulec's)."),
    ("IsNumber", F::Check, false, "The field is an integer, a float or a boolean (rulec's)."),
    ("IsBoolean", F::Check, false, "The field is a boolean (rulec's)."),
    ("IsObject", F::Check, false, "The field is a mapping (rulec's)."),
    ("IsArray", F::Check, false, "The field is a list (rulec's)."),
    ("IsIPAddress", F::Check, false, "The field is a string holding an IPv4 or IPv6 address."),
    ("IsIPv4Address", F::Check, false, "The field is a string holding an IPv4 address."),
    ("IsIPv6Address", F::Check, false, "The field is a string holding an IPv6 address."),
    ("IsIPAddressPublic", F::Check, false, "The field is a public IP address (Python's `ipaddress` `is_global`)."),
    ("IsIPAddressPrivate", F::Check, false, "The field is a private IP address (Python's `ipaddress` `is_private`)."),
    ("AnyElement", F::Elements, false, "The field is a list and at least one element satisfies all of `Expressions`."),
    ("AllElements", F::Elements, false, "The field is a list and every element satisfies all of `Expressions` (an empty list does)."),
    ("NoElement", F::Elements, false, "No element satisfies all of `Expressions` (also true when the field is not a list)."),
    ("OnlyOneElement", F::Elements, false, "The field is a list and exactly one element satisfies all of `Expressions`."),
    ("AlwaysTrue", F::Absolute, false, "Always holds (no field)."),
    ("AlwaysFalse", F::Absolute, false, "Never holds (no field)."),
];

/// What `name` takes, if this module knows the condition.
pub fn condition_form(name: &str) -> Option<ConditionForm> {
    CONDITION_TABLE
        .iter()
        .find(|(n, _, _, _)| *n == name)
        .map(|(_, form, _, _)| *form)
}

/// The conditions of [`CONDITIONS`] of these forms, in its order.
fn conditions_of(forms: &[ConditionForm]) -> Vec<&'static str> {
    conditions_where(|form, _| forms.contains(&form))
}

/// The conditions of [`CONDITIONS`] that `keep` keeps, in its order.
fn conditions_where(keep: impl Fn(ConditionForm, bool) -> bool) -> Vec<&'static str> {
    CONDITIONS
        .iter()
        .copied()
        .filter(|name| {
            CONDITION_TABLE
                .iter()
                .any(|(n, form, two_keys, _)| n == name && keep(*form, *two_keys))
        })
        .collect()
}

/// A condition name: every name of [`CONDITIONS`], with its description.
pub struct Condition;

impl JsonSchema for Condition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let named: Vec<(&str, &str)> = CONDITIONS
            .iter()
            .map(|name| {
                let doc = CONDITION_TABLE
                    .iter()
                    .find(|(n, _, _, _)| n == name)
                    .map_or("", |(_, _, _, doc)| *doc);
                (*name, doc)
            })
            .collect();
        documented_enum(
            "What to test. The condition decides what else the expression takes: a `Value`, `Values`, `Expressions`, or nothing.",
            &named,
        )
    }
}

// ---------------------------------------------------------------------------
// Key specifiers.

/// A step of a `DeepKey`.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum DeepKeyStep {
    /// A key of a mapping.
    Key(String),
    /// An index into a list.
    Index(u64),
}

/// A path of keys and list indexes.
#[derive(JsonSchema)]
pub struct DeepKey(#[schemars(length(min = 1))] pub Vec<DeepKeyStep>);

/// A value from a lookup table, read from the event's `p_enrichment`
/// (`p_enrichment.<Table>.<Selector>.<FieldPath>`).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrichment {
    /// The lookup table's name.
    #[serde(rename = "Table")]
    pub table: Scalar,
    /// The event field the table matched on (the selector), e.g. `p_any_ip_addresses`.
    #[serde(rename = "Selector")]
    pub selector: Scalar,
    /// The path of the value in the matched row: `a.b[0]`.
    #[serde(rename = "FieldPath")]
    pub field_path: Scalar,
}

/// The field an alert-context entry or a `GroupBy` entry reads: exactly one
/// key specifier.
#[derive(JsonSchema)]
pub enum KeySpecifier {
    /// A top-level key of the event: the exact key first, else the first key
    /// equal ignoring case (as on Panther's Python event).
    Key(Scalar),
    /// A path of keys and list indexes: `[a, 0, b]`.
    DeepKey(DeepKey),
    /// A dotted path: `a.b[0].c`; `['a.b']` quotes a key with dots.
    KeyPath(String),
    /// (rulec) A data-model field of the rule's log types (Panther's
    /// `event.udm("name")`), then an optional path into its value:
    /// `responseStatus.code`.
    DataModel(String),
}

/// The field a match expression of a rule or predicate tests.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["Key"]},
    {"required": ["DeepKey"]},
    {"required": ["KeyPath"]},
    {"required": ["DataModel"]},
    {"required": ["Computed"]},
    {"required": ["Enrichment"]}
]))]
pub struct RuleField {
    /// A top-level key of the event: the exact key first, else the first key
    /// equal ignoring case (as on Panther's Python event).
    #[serde(rename = "Key")]
    pub key: Option<Scalar>,
    /// A path of keys and list indexes: `[a, 0, b]`.
    #[serde(rename = "DeepKey")]
    pub deep_key: Option<DeepKey>,
    /// A dotted path: `a.b[0].c`; `['a.b']` quotes a key with dots.
    #[serde(rename = "KeyPath")]
    pub key_path: Option<String>,
    /// (rulec) A data-model field of the rule's log types (Panther's
    /// `event.udm("name")`), then an optional path into its value:
    /// `responseStatus.code`. A name no data model of the rule's log types
    /// defines is a compile error.
    #[serde(rename = "DataModel")]
    pub data_model: Option<String>,
    /// (rulec) A computed value: a value transform of the rule
    /// (`{Lower: {KeyPath: verb}}`, `{Use: <definition>}`, ...).
    #[serde(rename = "Computed")]
    pub computed: Option<ValueTransform<RuleTransforms>>,
    /// A value from a lookup table (`p_enrichment`).
    #[serde(rename = "Enrichment")]
    pub enrichment: Option<Enrichment>,
}

/// The field a match expression of a data model tests.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["Key"]},
    {"required": ["DeepKey"]},
    {"required": ["KeyPath"]},
    {"required": ["Computed"]},
    {"required": ["Enrichment"]}
]))]
pub struct DataModelField {
    /// A top-level key of the event: the exact key first, else the first key
    /// equal ignoring case.
    #[serde(rename = "Key")]
    pub key: Option<Scalar>,
    /// A path of keys and list indexes: `[a, 0, b]`.
    #[serde(rename = "DeepKey")]
    pub deep_key: Option<DeepKey>,
    /// A dotted path: `a.b[0].c`; `['a.b']` quotes a key with dots.
    #[serde(rename = "KeyPath")]
    pub key_path: Option<String>,
    /// (rulec) A computed value: a value transform.
    #[serde(rename = "Computed")]
    pub computed: Option<ValueTransform<DataModelTransforms>>,
    /// A value from a lookup table (`p_enrichment`).
    #[serde(rename = "Enrichment")]
    pub enrichment: Option<Enrichment>,
}

/// The field a match expression under `Expressions` tests, read from the
/// list element: raw keys only.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["Key"]},
    {"required": ["DeepKey"]},
    {"required": ["KeyPath"]}
]))]
pub struct ElementField {
    /// A top-level key of the element: the exact key first, else the first
    /// key equal ignoring case.
    #[serde(rename = "Key")]
    pub key: Option<Scalar>,
    /// A path of keys and list indexes into the element: `[a, 0, b]`.
    #[serde(rename = "DeepKey")]
    pub deep_key: Option<DeepKey>,
    /// A dotted path into the element: `a.b[0].c`; `['a.b']` quotes a key
    /// with dots.
    #[serde(rename = "KeyPath")]
    pub key_path: Option<String>,
}

// ---------------------------------------------------------------------------
// Match expressions.

/// Where match expressions are written: what they may name.
pub trait Dialect: JsonSchema {
    /// The key specifiers: a condition's field, and each of two fields compared.
    type Field: JsonSchema;
    /// Whether `Predicate: <ID>` may be used.
    const PREDICATES: bool;
    /// What the match expression is, for its description.
    const WHERE: &'static str;
}

/// Match expressions of rules and predicates: `Key`, `DeepKey`, `KeyPath`,
/// `DataModel`, `Computed`, `Enrichment`, and `Predicate`.
pub struct RuleDialect;

/// Match expressions of a rule's `If` transforms: the key specifiers of
/// [`RuleDialect`], no predicates.
pub struct RuleIfDialect;

/// Match expressions of data models (`If`, `When`): `Key`, `DeepKey`,
/// `KeyPath`, `Computed` and `Enrichment`; no `DataModel`, no predicates.
pub struct DataModelDialect;

/// Match expressions under a list comprehension's `Expressions`, on each
/// element: `Key`, `DeepKey` and `KeyPath` only.
pub struct ElementDialect;

impl JsonSchema for RuleDialect {
    fn schema_name() -> Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

impl JsonSchema for RuleIfDialect {
    fn schema_name() -> Cow<'static, str> {
        "RuleIf".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

impl JsonSchema for DataModelDialect {
    fn schema_name() -> Cow<'static, str> {
        "DataModel".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

impl JsonSchema for ElementDialect {
    fn schema_name() -> Cow<'static, str> {
        "Element".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

impl Dialect for RuleDialect {
    type Field = RuleField;
    const PREDICATES: bool = true;
    const WHERE: &'static str = "A match expression";
}

impl Dialect for RuleIfDialect {
    type Field = RuleField;
    const PREDICATES: bool = false;
    const WHERE: &'static str = "A match expression of a rule's `If` transform (no predicates)";
}

impl Dialect for DataModelDialect {
    type Field = DataModelField;
    const PREDICATES: bool = false;
    const WHERE: &'static str = "A match expression of a data model (raw keys, `Computed` values; no `DataModel` fields, no predicates)";
}

impl Dialect for ElementDialect {
    type Field = ElementField;
    const PREDICATES: bool = false;
    const WHERE: &'static str = "A match expression on a list element (its keys are read from the element; no `DataModel` fields, no predicates)";
}

/// A match expression: a test that holds or not for an event. The schema is
/// written by hand (see its `JsonSchema` impl): predicates only where they
/// may be used.
pub enum MatchExpression<D: Dialect> {
    /// `All: [...]`.
    All(AllOf<D>),
    /// `Any: [...]`.
    Any(AnyOf<D>),
    /// `OnlyOne: [...]`.
    OnlyOne(OnlyOneOf<D>),
    /// `None: [...]`.
    None(NoneOf<D>),
    /// `Predicate: <ID>` (rules and predicates only).
    Predicate(PredicateReference),
    /// A `Condition` on a field (or two, or none).
    Condition(ConditionMatch<D>),
}

impl<D: Dialect> JsonSchema for MatchExpression<D> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}MatchExpression", D::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut forms = vec![
            generator.subschema_for::<AllOf<D>>(),
            generator.subschema_for::<AnyOf<D>>(),
            generator.subschema_for::<OnlyOneOf<D>>(),
            generator.subschema_for::<NoneOf<D>>(),
        ];
        if D::PREDICATES {
            forms.push(generator.subschema_for::<PredicateReference>());
        }
        forms.push(generator.subschema_for::<ConditionMatch<D>>());
        json_schema!({
            "description": format!(
                "{}: a combinator (`All`, `Any`, `OnlyOne`, `None`){}, or a `Condition` on a field (`Key`, `DeepKey`, `KeyPath`, ...) with a `Value`, `Values` or `Expressions` as the condition needs.",
                D::WHERE,
                if D::PREDICATES { ", a `Predicate`" } else { "" }
            ),
            "anyOf": forms,
        })
    }
}

/// `All: [...]`: every match expression of the list holds.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "D: Dialect", rename = "{D}AllOf")]
pub struct AllOf<D: Dialect> {
    /// Every one of these holds (evaluated in order, stopping at the first that
    /// fails; `All: []` holds).
    #[serde(rename = "All")]
    pub all: Vec<MatchExpression<D>>,
}

/// `Any: [...]`: at least one match expression of the list holds.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "D: Dialect", rename = "{D}AnyOf")]
pub struct AnyOf<D: Dialect> {
    /// At least one of these holds (evaluated in order, stopping at the first
    /// that holds; `Any: []` does not hold).
    #[serde(rename = "Any")]
    pub any: Vec<MatchExpression<D>>,
}

/// `OnlyOne: [...]`: exactly one match expression of the list holds.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "D: Dialect", rename = "{D}OnlyOneOf")]
pub struct OnlyOneOf<D: Dialect> {
    /// Exactly one of these holds (`OnlyOne: []` does not hold).
    #[serde(rename = "OnlyOne")]
    pub only_one: Vec<MatchExpression<D>>,
}

/// `None: [...]`: no match expression of the list holds.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "D: Dialect", rename = "{D}NoneOf")]
pub struct NoneOf<D: Dialect> {
    /// None of these holds (Panther's YAML has no `Not`: write `None: [x]`;
    /// `None: []` holds).
    #[serde(rename = "None")]
    pub none: Vec<MatchExpression<D>>,
}

/// `Predicate: <PredicateID>` (rulec): a named match expression from a
/// predicate file, inlined here.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PredicateReference {
    /// The `PredicateID` of a predicate in a file under `predicates/`.
    #[serde(rename = "Predicate")]
    pub predicate: String,
}

/// A `Condition` and what it applies to: `{Key: status, Condition: Equals,
/// Value: 403}`, `{Key: verb, Condition: IsIn, Values: [get, list]}`,
/// `{Key: errorCode, Condition: Exists}`, `{Key: containers, Condition:
/// AnyElement, Expressions: [...]}`, `{Condition: DoesNotEqual, Values:
/// [{Key: actor}, {Key: target}]}` (two fields compared) or `{Condition:
/// AlwaysTrue}`.
///
/// Its schema is written by hand: which keys are allowed depends on the
/// condition (JSON Schema `if`/`then`), so that an editor reports "Property
/// Value is not allowed" rather than a list of the wrong conditions.
pub struct ConditionMatch<D: Dialect> {
    /// The field: exactly one key specifier of the dialect; none for
    /// `AlwaysTrue`/`AlwaysFalse` and for two fields compared.
    pub field: Option<D::Field>,
    /// The condition.
    pub condition: Condition,
    /// The constant to compare with.
    pub value: Option<Value>,
    /// `IsIn`'s constants, or the two fields compared.
    pub values: Option<Vec<Value>>,
    /// A list comprehension's match expressions.
    pub expressions: Option<Vec<MatchExpression<ElementDialect>>>,
}

/// `if` the condition is one of `names`, `then` `then`.
fn when_condition(names: &[&str], then: Value) -> Value {
    serde_json::json!({
        "if": {"required": ["Condition"], "properties": {"Condition": {"enum": names}}},
        "then": then,
    })
}

impl<D: Dialect> JsonSchema for ConditionMatch<D> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}ConditionMatch", D::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let field = <D::Field as JsonSchema>::json_schema(generator);
        let mut properties = field
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let keys: Vec<String> = properties.keys().cloned().collect();
        let key_list = keys
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let forbid = |names: &[&str]| -> Value {
            Value::Object(
                names
                    .iter()
                    .map(|n| ((*n).to_owned(), Value::Bool(false)))
                    .collect(),
            )
        };
        // At least one key specifier (where the condition needs a field)...
        let one_key_message = format!("Give the field to test with exactly one of {key_list}.");
        let one_key = Value::Array(
            keys.iter()
                .map(|k| serde_json::json!({"required": [k], "errorMessage": one_key_message}))
                .collect(),
        );
        // ...and at most one: each forbids the others.
        let only_one_key: Map<String, Value> = keys
            .iter()
            .map(|k| {
                let others: Vec<&str> =
                    keys.iter().map(String::as_str).filter(|o| o != k).collect();
                let rule = serde_json::json!({
                    "properties": forbid(&others),
                    "errorMessage": format!("Give only one key specifier ({key_list})."),
                });
                (k.clone(), rule)
            })
            .collect();
        let any_key = Value::Array(
            keys.iter()
                .map(|k| serde_json::json!({"required": [k]}))
                .collect(),
        );
        let mut no_field: Vec<&str> = keys.iter().map(String::as_str).collect();
        no_field.extend(["Value", "Values", "Expressions"]);

        properties.insert(
            "Condition".to_owned(),
            generator.subschema_for::<Condition>().to_value(),
        );
        properties.insert(
            "Value".to_owned(),
            serde_json::json!({"description": "The constant the condition compares the field with: any constant for `Equals`/`DoesNotEqual`; text for the string conditions; a number (or a string holding one) for `IsGreaterThan` and the other comparisons; a network for `IsIPAddressInCIDR`."}),
        );
        properties.insert(
            "Values".to_owned(),
            serde_json::json!({
                "description": "`IsIn`/`IsNotIn`: the list of constants. Without a key specifier: the two fields a comparison compares (`[{Key: a}, {Key: b}]`), the first in the role of the event value.",
                "type": "array",
            }),
        );
        properties.insert(
            "Expressions".to_owned(),
            serde_json::json!({
                "description": "List comprehensions (`AnyElement`, `AllElements`, `NoElement`, `OnlyOneElement`): match expressions, all of which must hold, tested on each element of the list; their keys are read from the element.",
                "type": "array",
                "minItems": 1,
                "items": generator.subschema_for::<MatchExpression<ElementDialect>>().to_value(),
            }),
        );

        let mut rules = Vec::new();
        let absolute = conditions_of(&[F::Absolute]);
        if !absolute.is_empty() {
            rules.push(when_condition(
                &absolute,
                serde_json::json!({
                    "properties": forbid(&no_field),
                    "errorMessage": "`AlwaysTrue` and `AlwaysFalse` take no field and no value.",
                }),
            ));
        }
        let check = conditions_of(&[F::Check]);
        if !check.is_empty() {
            rules.push(when_condition(&check, serde_json::json!({
                "anyOf": one_key,
                "properties": forbid(&["Value", "Values", "Expressions"]),
                "errorMessage": "This condition tests the field alone: it takes no `Value`, `Values` or `Expressions`.",
            })));
        }
        let list = conditions_of(&[F::List]);
        if !list.is_empty() {
            rules.push(when_condition(&list, serde_json::json!({
                "anyOf": one_key,
                "required": ["Values"],
                "properties": {
                    "Value": false,
                    "Expressions": false,
                    "Values": {"items": generator.subschema_for::<Literal>().to_value()},
                },
                "errorMessage": "`IsIn` and `IsNotIn` take `Values:`, a list of constants (not `Value:`).",
            })));
        }
        let elements = conditions_of(&[F::Elements]);
        if !elements.is_empty() {
            rules.push(when_condition(&elements, serde_json::json!({
                "anyOf": one_key,
                "required": ["Expressions"],
                "properties": forbid(&["Value", "Values"]),
                "errorMessage": "A list comprehension takes `Expressions:`, match expressions on each element (not `Value`).",
            })));
        }
        // Two fields compared: `Values` and no key specifier.
        let two_keys = conditions_where(|_, two_keys| two_keys);
        let mut pair_fields = forbid(&["Value", "Expressions"]);
        if let Value::Object(fields) = &mut pair_fields {
            fields.insert(
                "Condition".to_owned(),
                serde_json::json!({
                    "enum": two_keys,
                    "errorMessage": "This condition cannot compare two fields.",
                }),
            );
            fields.insert(
                "Values".to_owned(),
                serde_json::json!({
                    "minItems": 2,
                    "maxItems": 2,
                    "items": generator.subschema_for::<D::Field>().to_value(),
                }),
            );
        }
        let pair = serde_json::json!({
            "properties": pair_fields,
            "errorMessage": "Two fields compared: `Values` lists exactly two key specifiers, and there is no `Value`.",
        });
        for (forms, value) in [
            (&[F::Value][..], generator.subschema_for::<Literal>()),
            (&[F::Text][..], generator.subschema_for::<Scalar>()),
            (&[F::Cidr][..], generator.subschema_for::<Cidr>()),
            (&[F::Number][..], generator.subschema_for::<NumericValue>()),
        ] {
            let names = conditions_of(forms);
            if names.is_empty() {
                continue;
            }
            rules.push(when_condition(&names, serde_json::json!({
                "if": {"required": ["Values"], "not": {"anyOf": any_key}},
                "then": pair,
                "else": {
                    "anyOf": one_key,
                    "required": ["Value"],
                    "properties": {
                        "Value": value.to_value(),
                        "Values": false,
                        "Expressions": false,
                    },
                    "errorMessage": "This condition compares the field with `Value:` (one constant; `IsIn` takes `Values:`).",
                },
            })));
        }
        json_schema!({
            "description": "A `Condition` and what it applies to: a field (`Key`, `DeepKey`, `KeyPath`, ...) and a `Value` (`Equals`, `StartsWith`, `IsGreaterThan`, ...), `Values` (`IsIn`, `IsNotIn`), `Expressions` (`AnyElement`, ...) or nothing (`Exists`, `IsNull`, ...); two fields compared (`Values: [{Key: a}, {Key: b}]`); or `AlwaysTrue`/`AlwaysFalse` alone.",
            "type": "object",
            "required": ["Condition"],
            "properties": properties,
            "additionalProperties": false,
            "dependencies": only_one_key,
            "allOf": rules,
        })
    }
}

// ---------------------------------------------------------------------------
// Rule files.

/// A rulec rule file (`AnalysisType: rule`): Panther's YAML rule format with
/// rulec's extensions. See docs/rule-format.md.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "rulec rule file",
    extend(
        "anyOf" = [
            {"required": ["Detection"], "errorMessage": "A rule needs `Detection` or `Condition` (or both)."},
            {"required": ["Condition"], "errorMessage": "A rule needs `Detection` or `Condition` (or both)."}
        ],
        "dependencies" = {"GroupBy": {
            "properties": {"AlertDedup": false},
            "errorMessage": "`GroupBy` and `AlertDedup` both set the dedup string: keep one."
        }}
    )
)]
pub struct RuleFile {
    /// `rule`.
    #[serde(rename = "AnalysisType")]
    pub analysis_type: RuleAnalysisType,
    /// The rule's unique ID, e.g. `Kubernetes.Secret.AccessDenied` (no `< > & " %`).
    #[serde(rename = "RuleID")]
    #[schemars(
        pattern(r#"^[^<>&"%]+$"#),
        extend("patternErrorMessage" = "A rule ID has no `< > & \" %`.")
    )]
    pub rule_id: String,
    /// The name alerts show; also the alert title when there is no `AlertTitle`.
    #[serde(rename = "DisplayName")]
    pub display_name: Option<Scalar>,
    /// Whether the rule runs (`true` or `false`; YAML 1.2: `yes`/`no` are strings).
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// Free text: `Experimental`, `Deprecated`, ...
    #[serde(rename = "Status")]
    pub status: Option<Scalar>,
    /// The log types the rule reads, e.g. `Amazon.EKS.Audit` (at least one, no duplicates).
    #[serde(rename = "LogTypes")]
    #[schemars(length(min = 1))]
    pub log_types: BTreeSet<Scalar>,
    /// The base severity of the rule's alerts.
    #[serde(rename = "Severity")]
    pub severity: Severity,
    /// What the rule detects and why it matters.
    #[serde(rename = "Description")]
    pub description: Option<Scalar>,
    /// Tags (no duplicates, ignoring case).
    #[serde(rename = "Tags")]
    pub tags: Option<BTreeSet<Scalar>>,
    /// Frameworks to their entries, e.g. `MITRE ATT&CK: [TA0006:T1552.007]`.
    #[serde(rename = "Reports")]
    pub reports: Option<BTreeMap<String, BTreeSet<Scalar>>>,
    /// A link to background reading.
    #[serde(rename = "Reference")]
    pub reference: Option<Scalar>,
    /// What a responder does with an alert.
    #[serde(rename = "Runbook")]
    pub runbook: Option<Scalar>,
    /// The dedup window in minutes (0 to 1440, default 60; values below 5 count as 5).
    #[serde(rename = "DedupPeriodMinutes")]
    #[schemars(range(min = 0, max = 1440), extend("default" = 60))]
    pub dedup_period_minutes: Option<u32>,
    /// How many matches within a dedup window make an alert (default 1).
    #[serde(rename = "Threshold")]
    #[schemars(range(min = 1, max = 1_000_000), extend("default" = 1))]
    pub threshold: Option<u32>,
    /// Event fields shown in the alert summary (no duplicates).
    #[serde(rename = "SummaryAttributes")]
    pub summary_attributes: Option<BTreeSet<Scalar>>,
    /// Match expressions evaluated before `Detection`, all of which must hold.
    /// As in Panther, a condition on a field the event does not have passes.
    #[serde(rename = "InlineFilters")]
    #[schemars(length(min = 1))]
    pub inline_filters: Option<Vec<MatchExpression<RuleDialect>>>,
    /// The rule's logic: a list of match expressions, all of which must hold.
    /// A rule needs `Detection`, `Condition`, or both.
    #[serde(rename = "Detection")]
    #[schemars(length(min = 1))]
    pub detection: Option<Vec<MatchExpression<RuleDialect>>>,
    /// (rulec) The rule's logic as a catalog condition, e.g.
    /// `verb eq "get" and (responseStatus.code ge "400" or username is_null)`,
    /// or a list of them (all must hold). It may replace `Detection` or come
    /// with it (then both must hold, `Detection` first).
    #[serde(rename = "Condition")]
    pub condition: Option<CatalogCondition>,
    /// (rulec) Named value transforms over the event: `{name}` in templates
    /// (before data-model fields and raw keys of the same name), `Computed:
    /// {Use: name}` in conditions and `AlertContext`, and `Use: name` in later
    /// definitions.
    #[serde(rename = "Definitions")]
    pub definitions: Option<Vec<RuleDefinition>>,
    /// The alert title, a template: `{path}` prints a field (a data-model
    /// field of the rule, else a raw key path) with Python's `str()`;
    /// `{path or "text"}` prints the text when the value is falsy,
    /// `{path default "text"}` when it is absent; `{{` and `}}` are braces.
    /// Without it: the `DisplayName`, else the `RuleID`.
    #[serde(rename = "AlertTitle")]
    pub alert_title: Option<String>,
    /// (rulec) The dedup string, a template like `AlertTitle`. Without it (and
    /// without `GroupBy`), the title. Not with `GroupBy`.
    #[serde(rename = "AlertDedup")]
    pub alert_dedup: Option<String>,
    /// (rulec) Python's `unique()`: a value transform; `Threshold` then
    /// counts the distinct values (their `str()`) of a dedup window instead
    /// of its events. An absent or null value adds none.
    #[serde(rename = "Unique")]
    pub unique: Option<ValueTransform<RuleTransforms>>,
    /// The fields whose values make the dedup string: each printed as
    /// Python's `str()` (`None` when missing), joined by `:`. Not with
    /// `AlertDedup`.
    #[serde(rename = "GroupBy")]
    #[schemars(length(min = 1))]
    pub group_by: Option<Vec<KeySpecifier>>,
    /// Extra fields of the alert, in order; absent values are JSON `null`.
    #[serde(rename = "AlertContext")]
    pub alert_context: Option<Vec<AlertContextEntry>>,
    /// Severity overrides: the first entry whose conditions hold sets the severity.
    #[serde(rename = "DynamicSeverities")]
    pub dynamic_severities: Option<Vec<DynamicSeverity>>,
    /// Alert destinations (no duplicates).
    #[serde(rename = "OutputIds")]
    pub output_ids: Option<BTreeSet<Scalar>>,
    /// Who wrote the rule (not read by rulec).
    #[serde(rename = "CreatedBy")]
    pub created_by: Option<Scalar>,
    /// Whether matches raise alerts (default `true`).
    #[serde(rename = "CreateAlert")]
    #[schemars(extend("default" = true))]
    pub create_alert: Option<bool>,
    /// Panther's risk-score option (not used by rulec).
    #[serde(rename = "OnlyUseBaseRiskScore")]
    pub only_use_base_risk_score: Option<bool>,
    /// Panther's scheduled queries (for scheduled rules; not used by rulec).
    #[serde(rename = "ScheduledQueries")]
    pub scheduled_queries: Option<Vec<Scalar>>,
    /// Test cases: sample events with the expected outcome, or sequences of
    /// events with the expected alerts. Each becomes a `#[test]`.
    #[serde(rename = "Tests")]
    pub tests: Option<Vec<TestCase>>,
}

/// A catalog condition or a list of them.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum CatalogCondition {
    /// One condition, e.g. `verb eq "get" and not username starts_with "system:"`.
    /// Operators: `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in [...]`,
    /// `not in [...]`, `contains`, `not contains`, `starts_with`,
    /// `ends_with`, `is_null`, `is_not_null`; combined with `and`, `or`, `not`
    /// and parentheses. Fields are data-model fields or raw key paths
    /// (`a.b[0]`, backquotes for keys with dots).
    One(String),
    /// Several conditions, all of which must hold.
    All(#[schemars(length(min = 1))] Vec<String>),
}

/// (rulec) A named value transform of a rule.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDefinition {
    /// The name: `{name}` in templates, `Use: name` in transforms (unique).
    #[serde(rename = "Name")]
    pub name: String,
    /// The transform (those of data models, plus `KeyPath`, `DataModel`,
    /// `Lower`, `Join` and `UrlDecode`); it may `Use` earlier definitions.
    #[serde(rename = "Value")]
    pub value: ValueTransform<RuleTransforms>,
}

/// An entry of `AlertContext`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertContextEntry {
    /// The key in the alert context (unique).
    #[serde(rename = "KeyName")]
    pub key_name: Scalar,
    /// The field whose value it holds, (rulec) `{Computed: <transform>}`, or
    /// (rulec) `{Value: <constant>}`.
    #[serde(rename = "KeyValue")]
    pub key_value: ContextKeyValue,
    /// (rulec) The value used when the field is absent or null (Python's
    /// `deep_get(..., default=...)`); not with a constant `KeyValue`.
    #[serde(rename = "Default")]
    pub default: Option<Value>,
}

/// What an alert-context entry holds: a field, or (rulec) a computed value
/// or a constant.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum ContextKeyValue {
    /// A field.
    Field(KeySpecifier),
    /// (rulec) A computed value.
    Computed(ContextComputed),
    /// (rulec) A constant.
    Constant(ContextConstant),
}

/// (rulec) A computed alert-context value: `{Computed: <transform>}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextComputed {
    /// A value transform of the rule (`{Use: <definition>}`, `{Lower:
    /// {KeyPath: verb}}`, ...).
    #[serde(rename = "Computed")]
    pub computed: ValueTransform<RuleTransforms>,
}

/// (rulec) A constant alert-context value: `{Value: <any JSON value>}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextConstant {
    /// The constant.
    #[serde(rename = "Value")]
    pub value: Value,
}

/// An entry of `DynamicSeverities`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DynamicSeverity {
    /// The severity when the conditions hold (`DEFAULT`: the rule's own).
    #[serde(rename = "ChangeTo")]
    pub change_to: SeverityOrDefault,
    /// Match expressions, all of which must hold.
    #[serde(rename = "Conditions")]
    #[schemars(length(min = 1))]
    pub conditions: Vec<MatchExpression<RuleDialect>>,
}

// ---------------------------------------------------------------------------
// Tests.

/// A test case: a single event (`Log` and `ExpectedResult`) or a threshold
/// test (`Events` and `ExpectedAlerts`).
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum TestCase {
    /// A single event and whether the rule matches it.
    Event(EventTest),
    /// A sequence of events and the alerts they raise.
    Threshold(ThresholdTest),
}

/// A single event and whether the rule matches it. An expected match may
/// also assert the outputs (rulec's value assertions).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = {"required": ["ExpectedResult"], "properties": {"ExpectedResult": {"const": false}}},
    "then" = {
        "properties": {
            "ExpectedTitle": false,
            "ExpectedDedup": false,
            "ExpectedSeverity": false,
            "ExpectedAlertContext": false
        },
        "errorMessage": "This asserts an alert output, and the test expects no match (`ExpectedResult: false`)."
    }
))]
pub struct EventTest {
    /// The test's name; the `#[test]` is its snake_case.
    #[serde(rename = "Name")]
    pub name: Scalar,
    /// `true`: the rule matches, and every output evaluates without error;
    /// `false`: the rule does not match.
    #[serde(rename = "ExpectedResult")]
    pub expected_result: bool,
    /// The event.
    #[serde(rename = "Log")]
    pub log: Event,
    /// Must be empty: YAML detections call no Python.
    #[serde(rename = "Mocks")]
    #[schemars(length(max = 0))]
    pub mocks: Option<Vec<Value>>,
    /// (rulec) The expected title, exactly (after Panther's 1000-character
    /// truncation). Only with `ExpectedResult: true`.
    #[serde(rename = "ExpectedTitle")]
    pub expected_title: Option<Scalar>,
    /// (rulec) The expected dedup string, exactly (after Panther's defaults).
    /// Only with `ExpectedResult: true`.
    #[serde(rename = "ExpectedDedup")]
    pub expected_dedup: Option<Scalar>,
    /// (rulec) The expected severity. Only with `ExpectedResult: true`.
    #[serde(rename = "ExpectedSeverity")]
    pub expected_severity: Option<Severity>,
    /// (rulec) Alert-context keys and their expected JSON values (`403` and
    /// `403.0` differ); keys not listed are not checked. Only with
    /// `ExpectedResult: true`.
    #[serde(rename = "ExpectedAlertContext")]
    pub expected_alert_context: Option<Map<String, Value>>,
}

/// (rulec) A threshold test: events run through Panther's threshold and
/// dedup windows, and the alerts they must raise.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdTest {
    /// The test's name; the `#[test]` is its snake_case.
    #[serde(rename = "Name")]
    pub name: Scalar,
    /// The events, in order.
    #[serde(rename = "Events")]
    #[schemars(length(min = 1))]
    pub events: Vec<EventStep>,
    /// The alerts, by first event time (`[]` for none). Each field is optional;
    /// the number of alerts must match.
    #[serde(rename = "ExpectedAlerts")]
    pub expected_alerts: Vec<ExpectedAlert>,
    /// Must be empty: YAML detections call no Python.
    #[serde(rename = "Mocks")]
    #[schemars(length(max = 0))]
    pub mocks: Option<Vec<Value>>,
}

/// A step of a threshold test: an event, maybe repeated.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventStep {
    /// The event.
    #[serde(rename = "Log")]
    pub log: Event,
    /// The event time of the first copy (default: the event's own time).
    #[serde(rename = "Time")]
    pub time: Option<Timestamp>,
    /// How many copies (default 1).
    #[serde(rename = "Repeat")]
    #[schemars(range(min = 1, max = 100_000), extend("default" = 1))]
    pub repeat: Option<u32>,
    /// The event time between copies (default 0).
    #[serde(rename = "Every")]
    pub every: Option<Duration>,
}

/// An alert a threshold test expects.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAlert {
    /// The alert's title (its first event's).
    #[serde(rename = "Title")]
    pub title: Option<Scalar>,
    /// The alert's dedup string.
    #[serde(rename = "Dedup")]
    pub dedup: Option<Scalar>,
    /// The alert's severity (its first event's).
    #[serde(rename = "Severity")]
    pub severity: Option<Severity>,
    /// How many events the alert holds.
    #[serde(rename = "EventCount")]
    #[schemars(range(min = 1))]
    pub event_count: Option<u64>,
}

// ---------------------------------------------------------------------------
// Data-model files.

/// A rulec data-model file (`AnalysisType: datamodel`): the unified field
/// names (`DataModel: name` in rules) of some log types. Mappings are
/// Panther's `Path`s or rulec's declarative `Value` transforms (no Python
/// `Method`s). See docs/rule-format.md.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "rulec data-model file")]
pub struct DataModelFile {
    /// `datamodel`.
    #[serde(rename = "AnalysisType")]
    pub analysis_type: DataModelAnalysisType,
    /// The data model's unique ID, e.g. `Standard.Amazon.EKS.Audit`.
    #[serde(rename = "DataModelID")]
    pub data_model_id: String,
    /// A readable name.
    #[serde(rename = "DisplayName")]
    pub display_name: Option<Scalar>,
    /// What the model covers.
    #[serde(rename = "Description")]
    pub description: Option<Scalar>,
    /// Whether the model is used; one enabled model per log type.
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// The log types the model maps (no duplicates).
    #[serde(rename = "LogTypes")]
    pub log_types: BTreeSet<Scalar>,
    /// (rulec) The field holding the event time (thresholds and dedup windows
    /// are measured on it when the event has no `p_event_time`).
    #[serde(rename = "EventTime")]
    pub event_time: Option<PlainPath>,
    /// (rulec) JSON documents embedded in string fields, decoded once per event
    /// when a mapping reads them (`From: <name>`).
    #[serde(rename = "Documents")]
    pub documents: Option<Vec<Document>>,
    /// (rulec) Named transforms that mappings reuse with `Use: <name>`
    /// (declared before their use).
    #[serde(rename = "Definitions")]
    pub definitions: Option<Vec<Definition>>,
    /// The unified fields: each `{Name, Path}` or `{Name, Value}`.
    #[serde(rename = "Mappings")]
    pub mappings: Vec<Mapping>,
}

/// A JSON document embedded in a string field.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The name `From:` uses.
    #[serde(rename = "Name")]
    pub name: String,
    /// The string to decode. The document is absent when it is falsy, not a
    /// string, not JSON, or decodes to a falsy value.
    #[serde(rename = "Decode")]
    pub decode: ValueTransform<DataModelTransforms>,
    /// Decode only when these match expressions hold.
    #[serde(rename = "When")]
    #[schemars(length(min = 1))]
    pub when: Option<Vec<MatchExpression<DataModelDialect>>>,
}

/// A named transform.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The name `Use:` uses.
    #[serde(rename = "Name")]
    pub name: String,
    /// The transform.
    #[serde(rename = "Value")]
    pub value: ValueTransform<DataModelTransforms>,
}

/// A unified field: `{Name, Path}` or `{Name, Value}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["Path"]}, {"required": ["Value"]}]))]
pub struct Mapping {
    /// The unified field name rules use (`DataModel: <Name>`), unique in the model.
    #[serde(rename = "Name")]
    pub name: String,
    /// Panther's mapping: a plain path on the event, keys matched exactly.
    #[serde(rename = "Path")]
    pub path: Option<PlainPath>,
    /// (rulec) A value transform, the declarative replacement for Python `Method`s.
    #[serde(rename = "Value")]
    pub value: Option<ValueTransform<DataModelTransforms>>,
}

// ---------------------------------------------------------------------------
// Value transforms.

/// Where value transforms are written: what they may read, and the match
/// expressions of their `If`.
pub trait Transforms: JsonSchema {
    /// The match expressions of an `If` transform.
    type Conditions: Dialect;
    /// Whether `KeyPath:` and `DataModel:` may read a field (rules only).
    const READS_FIELDS: bool;
    /// What a transform is, for its description.
    const DESCRIPTION: &'static str;
}

/// Transforms of data models (mappings, `Documents`, `Definitions` and
/// `Computed` keys): their `If` conditions are of [`DataModelDialect`].
pub struct DataModelTransforms;

/// Transforms of rules (`Definitions` and `Computed` keys): those of data
/// models plus `KeyPath` and `DataModel`; their `If` conditions are of
/// [`RuleIfDialect`].
pub struct RuleTransforms;

impl JsonSchema for DataModelTransforms {
    fn schema_name() -> Cow<'static, str> {
        "DataModel".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

impl JsonSchema for RuleTransforms {
    fn schema_name() -> Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        true.into()
    }
}

impl Transforms for DataModelTransforms {
    type Conditions = DataModelDialect;
    const READS_FIELDS: bool = false;
    const DESCRIPTION: &'static str =
        "(rulec) A data-model value transform: a constant string, `null` (absent), or one operation.";
}

impl Transforms for RuleTransforms {
    type Conditions = RuleIfDialect;
    const READS_FIELDS: bool = true;
    const DESCRIPTION: &'static str = "(rulec) A value transform of a rule: a constant string, `null` (absent), or one operation: those of data models, plus `KeyPath` and `DataModel` (a field, read as the key specifier reads it).";
}

/// (rulec) A value transform: a constant string, `null` (absent), or one
/// operation. The schema is written by hand (see its `JsonSchema` impl):
/// `KeyPath` and `DataModel` only in rules.
pub enum ValueTransform<T: Transforms> {
    /// A form of both data models and rules.
    Form(TransformForm<T>),
    /// `KeyPath: a.b[0].c` (rules only).
    KeyPath(KeyPathTransform),
    /// `DataModel: name.rest` (rules only).
    DataModel(UdmTransform),
}

impl<T: Transforms> JsonSchema for ValueTransform<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}ValueTransform", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = TransformForm::<T>::json_schema(generator);
        if T::READS_FIELDS {
            let fields = [
                (
                    "`KeyPath: a.b[0].c`: a field of the event, read as the `KeyPath` key specifier does.",
                    generator.subschema_for::<KeyPathTransform>(),
                ),
                (
                    "`DataModel: name.rest`: a data-model field, read as the `DataModel` key specifier does.",
                    generator.subschema_for::<UdmTransform>(),
                ),
            ];
            if let Some(Value::Array(forms)) = schema.get_mut("anyOf") {
                // After the constant and the null, before the operations.
                let at = forms.len().min(2);
                for (i, (doc, form)) in fields.into_iter().enumerate() {
                    forms.insert(
                        at + i,
                        serde_json::json!({"description": doc, "allOf": [form.to_value()]}),
                    );
                }
            }
        }
        schema.insert("description".to_owned(), T::DESCRIPTION.into());
        schema
    }
}

/// The forms of value transforms that data models and rules share.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(bound = "T: Transforms", rename = "{T}TransformForm")]
pub enum TransformForm<T: Transforms> {
    /// A constant string.
    Constant(String),
    /// Absent.
    Absent(()),
    /// `Path: $.a.b`: an exact path on the event.
    Path(PathTransform),
    /// `Get: a.b`: Python's `deep_get` on the event, or on a document with `From`.
    Get(GetTransform),
    /// `DictGet: key` with `From` or `Of`: Python's `value.get(key)`.
    DictGet(DictGetTransform<T>),
    /// `Text: <transform>`: Python's `str()`.
    Text(TextTransform<T>),
    /// `Lower: <transform>`: Python's `str.lower()`.
    Lower(LowerTransform<T>),
    /// (rulec) `Const: <any JSON value>`.
    Const(ConstTransform),
    /// (rulec) `Object: {key: <transform>, ...}`: an object built from values.
    Object(ObjectTransform<T>),
    /// (rulec) `Keys: <transform>`: the keys of a dict.
    Keys(KeysTransform<T>),
    /// (rulec) `Distinct: <transform>`: a list without repeated elements.
    Distinct(DistinctTransform<T>),
    /// (rulec) `DeepWalk: a.b.c`: Panther's `event.deep_walk("a", "b", "c")`.
    DeepWalk(DeepWalkTransform),
    /// (rulec) `UrlQuery: <transform>`: Python's `urlsplit(url).query`.
    UrlQuery(UrlQueryTransform<T>),
    /// (rulec) `QueryParams: <transform>`: Python's `parse_qs(query)`.
    QueryParams(QueryParamsTransform<T>),
    /// (rulec) `SplitPairs: <transform>` with `Separator` and `Assign`: a dict
    /// from a `key=value` list.
    SplitPairs(SplitPairsTransform<T>),
    /// (rulec) `After: <list>` with `Where`: the elements after the first
    /// one that passes.
    After(AfterTransform<T>),
    /// (rulec) `Element: <list>` with `Index`: Python's `list[index]`.
    Element(ElementTransform<T>),
    /// (rulec) `Sort: <transform>`: Python's `sorted()` of a list.
    Sort(SortTransform<T>),
    /// (rulec) `Flatten: <transform>`: one level of list flattening.
    Flatten(FlattenTransform<T>),
    /// (rulec) `Each: <list>` with optional `Where` (conditions on each
    /// element) and `To` (a transform of each element).
    Each(EachTransform<T>),
    /// `UrlDecode: <transform>`: Python's `urllib.parse.unquote`.
    UrlDecode(UrlDecodeTransform<T>),
    /// `Split: <transform>` with `Separator` and `Index`.
    Split(SplitTransform<T>),
    /// `AfterLast: <transform>` with `Separator`.
    AfterLast(AfterLastTransform<T>),
    /// `Join: <transform>` with `Separator`: a list's elements, joined.
    Join(JoinTransform<T>),
    /// `Concat: [...]`.
    Concat(ConcatTransform<T>),
    /// `FirstTruthy: [...]`.
    FirstTruthy(FirstTruthyTransform<T>),
    /// `FirstPresent: [...]`.
    FirstPresent(FirstPresentTransform<T>),
    /// `ListOfTruthy: <transform>`.
    ListOfTruthy(ListOfTruthyTransform<T>),
    /// `If: [...]` with `Then` and `Else`.
    If(IfTransform<T>),
    /// `Use: <definition>`.
    Use(UseTransform),
    /// `Missing:`: absent.
    Missing(MissingTransform),
}

/// `KeyPath: a.b[0].c` (rules only): a field of the event, read as the
/// `KeyPath` key specifier does.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyPathTransform {
    /// A dotted path: `a.b[0].c`; `['a.b']` quotes a key with dots;
    /// `items[*].id` is a projection (a list).
    #[serde(rename = "KeyPath")]
    pub key_path: String,
}

/// `DataModel: name.rest` (rules only): a data-model field of the rule's
/// log types, read as the `DataModel` key specifier does.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UdmTransform {
    /// The data-model field, then an optional path into its value:
    /// `responseStatus.code`.
    #[serde(rename = "DataModel")]
    pub data_model: String,
}

/// `Path: $.a.b`: the value at an exact path on the event.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathTransform {
    /// A plain path, keys matched exactly (`$.` optional; no list indexes).
    #[serde(rename = "Path")]
    pub path: String,
}

/// `Get: a.b`: Python's `deep_get`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTransform {
    /// A dotted path. On the event, keys ignore case; absent as soon as a step
    /// is not a mapping. Into a document (`From`), keys match exactly.
    #[serde(rename = "Get")]
    pub get: String,
    /// A document declared under `Documents` to read from instead of the event.
    #[serde(rename = "From")]
    pub from: Option<String>,
}

/// `DictGet: key`: Python's `value.get(key)`: absent for `None`, and the rule
/// raises when the value is not a mapping.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    bound = "T: Transforms",
    rename = "{T}DictGetTransform",
    extend("oneOf" = [{"required": ["From"]}, {"required": ["Of"]}])
)]
pub struct DictGetTransform<T: Transforms> {
    /// The key.
    #[serde(rename = "DictGet")]
    pub dict_get: String,
    /// A document declared under `Documents`.
    #[serde(rename = "From")]
    pub from: Option<String>,
    /// A value.
    #[serde(rename = "Of")]
    pub of: Option<Box<ValueTransform<T>>>,
}

/// `Text: <transform>`: Python's `str()`; absent reads as `""`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}TextTransform")]
pub struct TextTransform<T: Transforms> {
    /// The value.
    #[serde(rename = "Text")]
    pub text: Box<ValueTransform<T>>,
}

/// `Lower: <transform>`: Python's `str.lower()`; other values pass
/// unchanged.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}LowerTransform")]
pub struct LowerTransform<T: Transforms> {
    /// The value.
    #[serde(rename = "Lower")]
    pub lower: Box<ValueTransform<T>>,
}

/// (rulec) `Const: <any JSON value>`: a constant.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstTransform {
    /// The constant.
    #[serde(rename = "Const")]
    pub constant: Value,
}

/// (rulec) `Object: {key: <transform>}`: an object of named values, in order.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}ObjectTransform")]
pub struct ObjectTransform<T: Transforms> {
    /// The members.
    #[serde(rename = "Object")]
    pub object: std::collections::BTreeMap<String, ValueTransform<T>>,
}

/// (rulec) `Keys: <transform>`: Python's `list(d.keys())`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}KeysTransform")]
pub struct KeysTransform<T: Transforms> {
    /// The dict.
    #[serde(rename = "Keys")]
    pub keys: Box<ValueTransform<T>>,
}

/// (rulec) `Distinct: <transform>`: Python's `list(dict.fromkeys(x))`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}DistinctTransform")]
pub struct DistinctTransform<T: Transforms> {
    /// The list.
    #[serde(rename = "Distinct")]
    pub distinct: Box<ValueTransform<T>>,
}

/// (rulec) `DeepWalk: a.b.c`: Panther's `event.deep_walk(*keys)`: exact
/// keys, fanning out over lists; one value found alone, several as a list
/// without repeats, none absent.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeepWalkTransform {
    /// The dotted path.
    #[serde(rename = "DeepWalk")]
    pub deep_walk: String,
}

/// (rulec) `UrlQuery: <transform>`: Python's `urlsplit(url).query`, the
/// text between the first `?` and the first `#`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}UrlQueryTransform")]
pub struct UrlQueryTransform<T: Transforms> {
    /// The URL.
    #[serde(rename = "UrlQuery")]
    pub url_query: Box<ValueTransform<T>>,
}

/// (rulec) `QueryParams: <transform>`: Python's `parse_qs(query)`, a dict
/// from each name to its list of decoded values.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}QueryParamsTransform")]
pub struct QueryParamsTransform<T: Transforms> {
    /// The query string.
    #[serde(rename = "QueryParams")]
    pub query_params: Box<ValueTransform<T>>,
}

/// (rulec) `SplitPairs: <transform>`: a dict from the text split on
/// `Separator`, each part split once on `Assign`; no decoding, later keys win.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}SplitPairsTransform")]
pub struct SplitPairsTransform<T: Transforms> {
    /// The text.
    #[serde(rename = "SplitPairs")]
    pub split_pairs: Box<ValueTransform<T>>,
    /// Between pairs (not empty).
    #[serde(rename = "Separator")]
    #[schemars(length(min = 1))]
    pub separator: String,
    /// Between a key and its value (not empty).
    #[serde(rename = "Assign")]
    #[schemars(length(min = 1))]
    pub assign: String,
}

/// (rulec) `After: <list>`: the elements after the first one for which the
/// `Where` conditions hold (`[]` when none does).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}AfterTransform")]
pub struct AfterTransform<T: Transforms> {
    /// The list.
    #[serde(rename = "After")]
    pub after: Box<ValueTransform<T>>,
    /// Conditions on each element, ANDed.
    #[serde(rename = "Where")]
    pub filter: Vec<Value>,
}

/// (rulec) `Element: <list or string>`: Python's `value[Index]` (negative
/// from the end), absent when out of range.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}ElementTransform")]
pub struct ElementTransform<T: Transforms> {
    /// The list.
    #[serde(rename = "Element")]
    pub element: Box<ValueTransform<T>>,
    /// The index.
    #[serde(rename = "Index")]
    #[schemars(range(min = -1_000_000, max = 1_000_000))]
    pub index: i32,
}

/// (rulec) `Sort: <transform>`: Python's `sorted()` of strings or numbers.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}SortTransform")]
pub struct SortTransform<T: Transforms> {
    /// The list.
    #[serde(rename = "Sort")]
    pub sort: Box<ValueTransform<T>>,
}

/// (rulec) `Flatten: <transform>`: the elements of each list element, in order.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}FlattenTransform")]
pub struct FlattenTransform<T: Transforms> {
    /// The list of lists.
    #[serde(rename = "Flatten")]
    pub flatten: Box<ValueTransform<T>>,
}

/// (rulec) `Each: <list>`: for each element passing `Where` (match
/// expressions read relative to the element), the value of `To` (a
/// transform read relative to the element; the element itself without one).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}EachTransform")]
pub struct EachTransform<T: Transforms> {
    /// The list.
    #[serde(rename = "Each")]
    pub each: Box<ValueTransform<T>>,
    /// Conditions on each element, ANDed.
    #[serde(rename = "Where")]
    pub filter: Option<Vec<Value>>,
    /// The value of each element.
    #[serde(rename = "To")]
    pub to: Option<Box<ValueTransform<T>>>,
}

/// `UrlDecode: <transform>`: Python's `urllib.parse.unquote` (`%XX` as
/// UTF-8, invalid sequences replaced, `+` kept).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}UrlDecodeTransform")]
pub struct UrlDecodeTransform<T: Transforms> {
    /// The value.
    #[serde(rename = "UrlDecode")]
    pub url_decode: Box<ValueTransform<T>>,
}

/// `Split: <transform>`: part `Index` of the text split on `Separator`;
/// absent when out of range.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}SplitTransform")]
pub struct SplitTransform<T: Transforms> {
    /// The text.
    #[serde(rename = "Split")]
    pub split: Box<ValueTransform<T>>,
    /// The separator (not empty).
    #[serde(rename = "Separator")]
    #[schemars(length(min = 1))]
    pub separator: String,
    /// The part, from 0.
    #[serde(rename = "Index")]
    #[schemars(range(min = 0, max = 1_000_000))]
    pub index: u32,
    /// (rulec) Python's `maxsplit`: split at most this many times.
    #[serde(rename = "MaxSplit")]
    #[schemars(range(min = 0, max = 1_000_000))]
    pub max_split: Option<u32>,
}

/// `AfterLast: <transform>`: the text after the last `Separator` (the whole
/// text without one).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}AfterLastTransform")]
pub struct AfterLastTransform<T: Transforms> {
    /// The text.
    #[serde(rename = "AfterLast")]
    pub after_last: Box<ValueTransform<T>>,
    /// The separator (not empty).
    #[serde(rename = "Separator")]
    #[schemars(length(min = 1))]
    pub separator: String,
}

/// `Join: <transform>`: Python's `Separator.join(str(x) for x in list)`; a
/// string passes unchanged; anything else is absent.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}JoinTransform")]
pub struct JoinTransform<T: Transforms> {
    /// The list.
    #[serde(rename = "Join")]
    pub join: Box<ValueTransform<T>>,
    /// The separator (not empty).
    #[serde(rename = "Separator")]
    #[schemars(length(min = 1))]
    pub separator: String,
}

/// `Concat: [...]`: the `str()` of each part, joined.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}ConcatTransform")]
pub struct ConcatTransform<T: Transforms> {
    /// The parts.
    #[serde(rename = "Concat")]
    pub concat: Vec<ValueTransform<T>>,
}

/// `FirstTruthy: [...]`: Python's `a or b or c`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}FirstTruthyTransform")]
pub struct FirstTruthyTransform<T: Transforms> {
    /// The values, in order.
    #[serde(rename = "FirstTruthy")]
    pub first_truthy: Vec<ValueTransform<T>>,
}

/// `FirstPresent: [...]`: the first value that is not absent.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}FirstPresentTransform")]
pub struct FirstPresentTransform<T: Transforms> {
    /// The values, in order.
    #[serde(rename = "FirstPresent")]
    pub first_present: Vec<ValueTransform<T>>,
}

/// `ListOfTruthy: <transform>`: `[value]` when truthy, else `[]`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}ListOfTruthyTransform")]
pub struct ListOfTruthyTransform<T: Transforms> {
    /// The value.
    #[serde(rename = "ListOfTruthy")]
    pub list_of_truthy: Box<ValueTransform<T>>,
}

/// `If: [match expressions]` with `Then` and `Else`. The conditions may use
/// `Computed: <transform>` as a key.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(bound = "T: Transforms", rename = "{T}IfTransform")]
pub struct IfTransform<T: Transforms> {
    /// Match expressions, all of which must hold.
    #[serde(rename = "If")]
    #[schemars(length(min = 1))]
    pub condition: Vec<MatchExpression<T::Conditions>>,
    /// The value when they hold.
    #[serde(rename = "Then")]
    pub then: Box<ValueTransform<T>>,
    /// The value otherwise.
    #[serde(rename = "Else")]
    pub otherwise: Box<ValueTransform<T>>,
}

/// `Use: <definition>`: a transform declared under `Definitions` (earlier
/// in the list, for a definition).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseTransform {
    /// The definition's `Name`.
    #[serde(rename = "Use")]
    pub name: String,
}

/// `Missing:`: absent, like `null` (its value is ignored).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingTransform {
    /// Ignored.
    #[serde(rename = "Missing")]
    pub missing: Value,
}

// ---------------------------------------------------------------------------
// Predicate files.

/// A rulec predicate file (`AnalysisType: predicates`): named match
/// expressions that rules use with `Predicate: <PredicateID>`, inlined where
/// used. See docs/rule-format.md.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "rulec predicate file")]
pub struct PredicateFile {
    /// `predicates`.
    #[serde(rename = "AnalysisType")]
    pub analysis_type: PredicatesAnalysisType,
    /// What the predicates of this file are about.
    #[serde(rename = "Description")]
    pub description: Option<Scalar>,
    /// The predicates.
    #[serde(rename = "Predicates")]
    pub predicates: Vec<Predicate>,
}

/// A named match expression.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    /// The ID rules use (`Predicate: <PredicateID>`), unique across all
    /// predicate files.
    #[serde(rename = "PredicateID")]
    pub predicate_id: String,
    /// What the predicate means.
    #[serde(rename = "Description")]
    pub description: Option<String>,
    /// What the predicate assumes (as the Python helper it replaces does):
    /// when these do not all hold, the rule raises (no match; a failing test).
    #[serde(rename = "Requires")]
    #[schemars(length(min = 1))]
    pub requires: Option<Vec<MatchExpression<RuleDialect>>>,
    /// The error the rule raises when `Requires` does not hold, e.g.
    /// `"AttributeError: responseStatus is not a dict"`.
    #[serde(rename = "RequiresMessage")]
    pub requires_message: Option<String>,
    /// The predicate: match expressions, all of which must hold.
    #[serde(rename = "Detection")]
    #[schemars(length(min = 1))]
    pub detection: Vec<MatchExpression<RuleDialect>>,
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;

    fn parse(schema: &str) -> Value {
        serde_json::from_str(schema).expect("the schema is JSON")
    }

    fn validator(schema: &str) -> jsonschema::Validator {
        jsonschema::draft7::new(&parse(schema)).expect("a valid draft-07 schema")
    }

    /// The validation errors of `instance`, one line each.
    fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
        validator
            .iter_errors(instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    fn assert_valid(schema: &str, instance: &Value) {
        let found = errors(&validator(schema), instance);
        assert!(found.is_empty(), "{instance:#}\n{}", found.join("\n"));
    }

    fn assert_invalid(schema: &str, instance: &Value) {
        assert!(
            !validator(schema).is_valid(instance),
            "accepted, though the compiler refuses it:\n{instance:#}"
        );
    }

    /// A minimal valid rule; tests change one thing.
    fn rule() -> Value {
        json!({
            "AnalysisType": "rule",
            "RuleID": "Test.Rule",
            "Enabled": true,
            "LogTypes": ["Amazon.EKS.Audit"],
            "Severity": "Medium",
            "Detection": [{"Key": "verb", "Condition": "Equals", "Value": "get"}],
        })
    }

    fn set(mut object: Value, key: &str, value: Value) -> Value {
        object[key] = value;
        object
    }

    fn rule_with(key: &str, value: Value) -> Value {
        set(rule(), key, value)
    }

    fn rule_detecting(expression: Value) -> Value {
        rule_with("Detection", json!([expression]))
    }

    fn data_model() -> Value {
        json!({
            "AnalysisType": "datamodel",
            "DataModelID": "Test.Model",
            "Enabled": true,
            "LogTypes": ["Amazon.EKS.Audit"],
            "Mappings": [{"Name": "verb", "Path": "$.verb"}],
        })
    }

    fn mapping(value: Value) -> Value {
        let mut model = data_model();
        model["Mappings"] = json!([{"Name": "x", "Value": value}]);
        model
    }

    fn rules_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("readable directory")
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
            {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_file_under_rules_validates() {
        let schemas = [
            ("rule", validator(&rule_schema())),
            ("datamodel", validator(&data_model_schema())),
            ("predicates", validator(&predicates_schema())),
        ];
        let mut files = Vec::new();
        yaml_files(&rules_dir(), &mut files);
        // Also the conformance suite (a rule per condition, combinator, key
        // specifier, ...), which must compile too.
        let conformance =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated-tests/conformance");
        if conformance.is_dir() {
            yaml_files(&conformance, &mut files);
        }
        let mut seen = BTreeMap::new();
        let mut failures = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).expect("readable file");
            let value: Value = yaml_serde::from_str(&text).expect("YAML that converts to JSON");
            let kind = value["AnalysisType"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let Some((kind, validator)) = schemas.iter().find(|(k, _)| *k == kind) else {
                failures.push(format!("{}: unknown AnalysisType {kind:?}", path.display()));
                continue;
            };
            *seen.entry(kind).or_insert(0) += 1;
            for error in errors(validator, &value) {
                failures.push(format!("{}: {error}", path.display()));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        for (kind, _) in &schemas {
            assert!(seen.contains_key(kind), "no {kind} file was validated");
        }
    }

    #[test]
    fn the_schemas_are_draft_07() {
        for schema in [rule_schema(), data_model_schema(), predicates_schema()] {
            let value = parse(&schema);
            assert!(jsonschema::draft7::meta::is_valid(&value));
            assert_eq!(value["$schema"], "http://json-schema.org/draft-07/schema#");
            assert!(schema.ends_with("}\n"));
        }
    }

    #[test]
    fn every_compiled_condition_is_classified() {
        let unknown: Vec<&str> = CONDITIONS
            .iter()
            .copied()
            .filter(|c| condition_form(c).is_none())
            .collect();
        assert!(
            unknown.is_empty(),
            "add these conditions to CONDITION_TABLE in compiler/src/schema.rs (what they take, and a description), then run `cargo xtask regen`: {unknown:?}"
        );
    }

    /// The schemas offer exactly the conditions the compiler compiles.
    #[test]
    fn the_schema_conditions_are_exactly_conditions() {
        for schema in [rule_schema(), data_model_schema(), predicates_schema()] {
            let schema = parse(&schema);
            let offered: Vec<&str> = schema["definitions"]["Condition"]["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(offered, CONDITIONS);
        }
    }

    #[test]
    fn table_names_are_unique() {
        let names: BTreeSet<&str> = CONDITION_TABLE.iter().map(|(n, _, _, _)| *n).collect();
        assert_eq!(names.len(), CONDITION_TABLE.len());
    }

    #[test]
    fn refuses_what_the_compiler_refuses_in_rules() {
        let schema = rule_schema();
        assert_valid(&schema, &rule());
        for bad in [
            rule_with("Severity", json!("Hihg")),
            rule_with("Sevrity", json!("High")),
            rule_with("Filename", json!("rule.py")),
            rule_with("AnalysisType", json!("policy")),
            rule_with("RuleID", json!("a<b")),
            rule_with("Enabled", json!("yes")),
            rule_with("LogTypes", json!([])),
            rule_with("LogTypes", json!(["A", "A"])),
            rule_with("DisplayName", json!(null)),
            rule_with("DedupPeriodMinutes", json!(1441)),
            rule_with("Threshold", json!(0)),
            rule_with("Detection", json!([])),
            rule_with("Condition", json!(["verb eq \"get\"", 3])),
            rule_with("Condition", json!([])),
            rule_detecting(json!({"Key": "verb", "Condition": "Equls", "Value": "get"})),
            rule_detecting(json!({"Key": "verb", "Condition": "Equals"})),
            rule_detecting(json!({"Key": "verb", "Condition": "Equals", "Value": ["get"]})),
            rule_detecting(json!({"Condition": "Equals", "Value": "get"})),
            rule_detecting(json!({"Key": "a", "KeyPath": "b", "Condition": "Exists"})),
            rule_detecting(json!({"Key": "verb", "Condition": "IsIn", "Value": "get"})),
            rule_detecting(json!({"Key": "verb", "Condition": "Exists", "Value": 1})),
            rule_detecting(json!({"Key": "code", "Condition": "IsGreaterThan", "Value": "x"})),
            rule_detecting(json!({"Key": "ip", "Condition": "IsIPAddressInCIDR", "Value": "ten"})),
            rule_detecting(json!({"DeepKey": [], "Condition": "Exists"})),
            rule_detecting(json!({"Computed": 3, "Condition": "Exists"})),
            rule_detecting(json!({"Key": "a", "Computed": "x", "Condition": "Exists"})),
            rule_detecting(json!({"Computed": {"Join": {"KeyPath": "a"}}, "Condition": "Exists"})),
            rule_detecting(
                json!({"Computed": {"Lower": "a", "Separator": "/"}, "Condition": "Exists"}),
            ),
            rule_detecting(
                json!({"Computed": {"If": [{"Predicate": "P"}], "Then": "a", "Else": "b"}, "Condition": "Exists"}),
            ),
            rule_detecting(
                json!({"Key": "l", "Condition": "AnyElement", "Expressions": [{"Computed": "x", "Condition": "Exists"}]}),
            ),
            rule_detecting(json!({"Key": "a", "Condition": "Matches", "Value": ["x"]})),
            rule_detecting(json!({"Key": "a", "Condition": "DoesNotMatch"})),
            rule_detecting(json!({"Condition": "Matches", "Values": [{"Key": "a"}, {"Key": "b"}]})),
            rule_with("Definitions", json!({"Name": "a", "Value": "b"})),
            rule_with("Definitions", json!([{"Name": "a"}])),
            rule_with("Definitions", json!([{"Name": "a", "Value": 3}])),
            rule_with(
                "Definitions",
                json!([{"Name": "a", "Value": "b", "Description": "c"}]),
            ),
            rule_with("GroupBy", json!([{"Computed": "x"}])),
            rule_detecting(
                json!({"Enrichment": {"Table": "t", "Selector": "s"}, "Condition": "Exists"}),
            ),
            rule_detecting(
                json!({"Key": "l", "Condition": "AnyElement", "Expressions": [{"DataModel": "a", "Condition": "Exists"}]}),
            ),
            rule_detecting(
                json!({"Key": "l", "Condition": "AnyElement", "Expressions": [{"Predicate": "P"}]}),
            ),
            rule_detecting(json!({"Key": "l", "Condition": "AnyElement", "Expressions": []})),
            rule_detecting(json!({"Key": "l", "Condition": "AnyElement", "Value": 1})),
            rule_detecting(
                json!({"Key": "l", "Condition": "Equals", "Value": 1, "Expressions": [{"Condition": "AlwaysTrue"}]}),
            ),
            rule_detecting(json!({"Condition": "IsIn", "Values": [{"Key": "a"}, {"Key": "b"}]})),
            rule_detecting(json!({"Condition": "Has", "Values": [{"Key": "a"}, {"Key": "b"}]})),
            rule_detecting(
                json!({"Condition": "Equals", "Values": [{"Key": "a"}, {"Key": "b"}, {"Key": "c"}]}),
            ),
            rule_with("GroupBy", json!([])),
            set(
                rule_with("GroupBy", json!([{"Key": "a"}])),
                "AlertDedup",
                json!("x"),
            ),
            rule_detecting(json!({"All": [{"Condition": "AlwaysTrue"}], "Key": "a"})),
            rule_detecting(json!({"Predicate": "P", "Key": "a"})),
            rule_detecting(json!({"Condition": "Equals", "Values": [{"Key": "a"}]})),
            rule_with(
                "AlertContext",
                json!([{"KeyName": "a", "KeyValue": {"Key": "a", "KeyPath": "b"}}]),
            ),
            rule_with(
                "AlertContext",
                json!([{"KeyName": "a", "KeyValue": {"Computed": "x", "Value": 1}}]),
            ),
            rule_with(
                "DynamicSeverities",
                json!([{"ChangeTo": "Hihg", "Conditions": [{"Condition": "AlwaysTrue"}]}]),
            ),
        ] {
            assert_invalid(&schema, &bad);
        }
        let mut both = rule_with("Condition", json!("verb eq \"get\""));
        assert_valid(&schema, &both);
        both.as_object_mut().map(|o| o.remove("Condition"));
        let mut neither = both;
        neither.as_object_mut().map(|o| o.remove("Detection"));
        assert_invalid(&schema, &neither);
    }

    #[test]
    fn accepts_every_form_of_match_expression() {
        let schema = rule_schema();
        let expressions = [
            json!({"Key": "verb", "Condition": "Equals", "Value": null}),
            json!({"DeepKey": ["a", 0, "b"], "Condition": "IStartsWith", "Value": "x"}),
            json!({"KeyPath": "a.b[0]", "Condition": "Contains", "Value": 3}),
            json!({"DataModel": "responseStatus.code", "Condition": "IsGreaterThanOrEquals", "Value": "400"}),
            json!({"Key": "verb", "Condition": "IsNotIn", "Values": ["get", 1, null]}),
            json!({"Key": "verb", "Condition": "IsNullOrEmpty"}),
            json!({"Key": "ip", "Condition": "IsIPAddressInCIDR", "Value": "10.0.0.0/8"}),
            json!({"Key": "ip", "Condition": "IsIPAddressPrivate"}),
            json!({"Enrichment": {"Table": "tor", "Selector": "p_any_ip_addresses", "FieldPath": "ip"}, "Condition": "Exists"}),
            json!({"Condition": "DoesNotEqual", "Values": [{"Key": "actor"}, {"DataModel": "username"}]}),
            json!({"Condition": "AlwaysFalse"}),
            json!({"Predicate": "Kubernetes.SystemPrincipal"}),
            json!({"Any": [{"None": [{"Condition": "AlwaysTrue"}]}, {"OnlyOne": [{"Condition": "AlwaysTrue"}]}]}),
            json!({"All": []}),
            json!({"Key": "tags", "Condition": "Has", "Value": "prod"}),
            json!({"Condition": "IsLessThan", "Values": [{"KeyPath": "a.b"}, {"Enrichment": {"Table": "t", "Selector": "s", "FieldPath": "f"}}]}),
            json!({"Key": "user", "Condition": "Matches", "Value": "^system:node:"}),
            json!({"KeyPath": "a.b", "Condition": "DoesNotMatch", "Value": "[0-9]+$"}),
            json!({"Computed": {"Lower": {"KeyPath": "verb"}}, "Condition": "Equals", "Value": "get"}),
            json!({"Computed": {"Join": {"DataModel": "args"}, "Separator": " "}, "Condition": "Matches", "Value": "^cp "}),
            json!({"Computed": {"UrlDecode": {"Get": "q"}}, "Condition": "Contains", "Value": "%"}),
            json!({"Computed": {"Use": "actor"}, "Condition": "IsIn", "Values": ["a", "b"]}),
            json!({"Computed": {"If": [{"DataModel": "resource", "Condition": "Equals", "Value": "x"},
                                       {"Computed": {"KeyPath": "a[*].b"}, "Condition": "IsTruthy"}],
                                "Then": {"Lower": {"DataModel": "resource"}}, "Else": null},
                   "Condition": "Exists"}),
            json!({"Condition": "Equals", "Values": [{"Computed": {"Lower": {"KeyPath": "a"}}}, {"DataModel": "b"}]}),
            json!({
                "Key": "containers",
                "Condition": "AnyElement",
                "Expressions": [
                    {"Key": "privileged", "Condition": "Equals", "Value": true},
                    {"DeepKey": ["ports", 0], "Condition": "NoElement", "Expressions": [{"Key": "p", "Condition": "IsNull"}]},
                ],
            }),
        ];
        for expression in expressions {
            assert_valid(&schema, &rule_detecting(expression));
        }
    }

    #[test]
    fn accepts_rule_outputs_and_the_catalog_condition() {
        let schema = rule_schema();
        let mut with_condition = rule_with("Condition", json!(["verb eq \"get\"", "code ge 400"]));
        with_condition
            .as_object_mut()
            .map(|o| o.remove("Detection"));
        assert_valid(&schema, &with_condition);
        with_condition["Condition"] = json!("verb eq \"get\"");
        assert_valid(&schema, &with_condition);
        for (key, value) in [
            (
                "GroupBy",
                json!([{"KeyPath": "user.name"}, {"DataModel": "namespace"}]),
            ),
            (
                "AlertContext",
                json!([{"KeyName": "user", "KeyValue": {"DeepKey": ["user", "name"]}}]),
            ),
            (
                "DynamicSeverities",
                json!([{"ChangeTo": "DEFAULT", "Conditions": [{"Condition": "AlwaysTrue"}]}]),
            ),
            ("Reports", json!({"MITRE ATT&CK": ["TA0006:T1552.007"]})),
            ("Severity", json!("CRITICAL")),
            (
                "Definitions",
                json!([
                    {"Name": "command", "Value": {"Join": {"KeyPath": "cmd"}, "Separator": " "}},
                    {"Name": "actor", "Value": {"FirstTruthy": [{"DataModel": "username"}, "?"]}},
                    {"Name": "lowered", "Value": {"Lower": {"Use": "command"}}},
                    {"Name": "none", "Value": null},
                ]),
            ),
            (
                "AlertContext",
                json!([{"KeyName": "c", "KeyValue": {"Computed": {"Use": "command"}}, "Default": ""},
                       {"KeyName": "k", "KeyValue": {"Value": {"a": [1]}}}]),
            ),
            ("AlertTitle", json!("{user.name or \"?\"} did it")),
        ] {
            assert_valid(&schema, &rule_with(key, value));
        }
    }

    #[test]
    fn checks_tests() {
        let schema = rule_schema();
        let log = json!({"verb": "get"});
        let step =
            json!({"Log": log, "Time": "2024-06-01T10:00:00Z", "Repeat": 20, "Every": "30s"});
        for good in [
            json!({"Name": "a", "ExpectedResult": true, "Log": log, "ExpectedTitle": "t",
                   "ExpectedSeverity": "Low", "ExpectedAlertContext": {"code": 403}, "Mocks": []}),
            json!({"Name": "b", "ExpectedResult": false, "Log": log}),
            json!({"Name": "c", "Events": [step], "ExpectedAlerts": [{"EventCount": 20, "Dedup": "d"}]}),
            json!({"Name": "d", "Events": [{"Log": log, "Time": "2024-06-01 10:00:00.000000000"}], "ExpectedAlerts": []}),
        ] {
            assert_valid(&schema, &rule_with("Tests", json!([good])));
        }
        for bad in [
            json!({"Name": "a", "ExpectedResult": false, "Log": log, "ExpectedTitle": "t"}),
            json!({"Name": "a", "ExpectedResult": true, "Log": log, "Mocks": [{"objectName": "f"}]}),
            json!({"Name": "a", "ExpectedResult": true}),
            json!({"Name": "a", "ExpectedResult": "true", "Log": log}),
            json!({"Name": "a", "ExpectedResult": true, "Log": "not a mapping"}),
            json!({"Name": "c", "Events": [step], "ExpectedAlerts": [], "ExpectedResult": true}),
            json!({"Name": "c", "Events": [step]}),
            json!({"Name": "c", "Events": [], "ExpectedAlerts": []}),
            json!({"Name": "c", "Events": [{"Log": log, "Every": "30"}], "ExpectedAlerts": []}),
            json!({"Name": "c", "Events": [{"Log": log, "Repeat": 100001}], "ExpectedAlerts": []}),
            json!({"Name": "c", "Events": [{"Log": log, "Time": "yesterday"}], "ExpectedAlerts": []}),
            json!({"Name": "c", "Events": [step], "ExpectedAlerts": [{"EventCount": 0}]}),
        ] {
            assert_invalid(&schema, &rule_with("Tests", json!([bad])));
        }
    }

    #[test]
    fn checks_data_models() {
        let schema = data_model_schema();
        assert_valid(&schema, &data_model());
        for good in [
            json!(null),
            json!("constant"),
            json!({"Get": "a.b", "From": "doc"}),
            json!({"DictGet": "k", "Of": {"Get": "a"}}),
            json!({"Split": {"Use": "name"}, "Separator": "/", "Index": 3}),
            json!({"AfterLast": {"Text": {"Path": "$.a"}}, "Separator": "."}),
            json!({"FirstTruthy": [{"ListOfTruthy": {"Get": "a"}}, "x"]}),
            json!({"If": [{"Enrichment": {"Table": "t", "Selector": "s", "FieldPath": "f"}, "Condition": "Exists"},
                          {"Key": "l", "Condition": "AllElements", "Expressions": [{"Key": "k", "Condition": "Exists"}]}],
                   "Then": "a", "Else": null}),
            json!({"Lower": {"Get": "a"}}),
            json!({"Join": {"Get": "a"}, "Separator": ","}),
            json!({"UrlDecode": {"Path": "$.a"}}),
            json!({"If": [{"Computed": {"Get": "a"}, "Condition": "IsTruthy"},
                          {"KeyPath": "b", "Condition": "IsIn", "Values": ["x"]}],
                   "Then": {"Concat": ["a", {"Get": "b"}]}, "Else": {"FirstPresent": []}}),
        ] {
            assert_valid(&schema, &mapping(good));
        }
        for bad in [
            json!(3),
            json!({"Get": "a", "Separator": "/"}),
            json!({"DictGet": "k"}),
            json!({"DictGet": "k", "From": "doc", "Of": "x"}),
            json!({"Split": "x", "Separator": "", "Index": 0}),
            json!({"Split": "x", "Separator": "/"}),
            json!({"If": [{"DataModel": "a", "Condition": "Exists"}], "Then": "a", "Else": "b"}),
            json!({"If": [{"Predicate": "P"}], "Then": "a", "Else": "b"}),
            json!({"If": [{"Key": "l", "Condition": "AnyElement", "Expressions": [{"Computed": "x", "Condition": "Exists"}]}], "Then": "a", "Else": "b"}),
            json!({"Text": "a", "Concat": []}),
            json!({"KeyPath": "a"}),
            json!({"DataModel": "a"}),
            json!({"Lower": {"KeyPath": "a"}}),
            json!({"Join": {"Get": "a"}}),
            json!({"If": [{"Computed": {"DataModel": "a"}, "Condition": "Exists"}], "Then": "a", "Else": "b"}),
        ] {
            assert_invalid(&schema, &mapping(bad));
        }
        let mut both = data_model();
        both["Mappings"] = json!([{"Name": "x", "Path": "$.a", "Value": "b"}]);
        assert_invalid(&schema, &both);
        both["Mappings"] = json!([{"Name": "x", "Method": "get_x"}]);
        assert_invalid(&schema, &both);
        both["Mappings"] = json!([{"Name": "x", "Path": "$.a[*].b"}]);
        assert_invalid(&schema, &both);
        let mut filename = data_model();
        filename["Filename"] = json!("model.py");
        assert_invalid(&schema, &filename);
    }

    #[test]
    fn checks_predicates() {
        let schema = predicates_schema();
        let file = json!({
            "AnalysisType": "predicates",
            "Predicates": [{
                "PredicateID": "P",
                "Requires": [{"DataModel": "username", "Condition": "IsString"}],
                "RequiresMessage": "TypeError",
                "Detection": [{"Predicate": "Q"}],
            }],
        });
        assert_valid(&schema, &file);
        let mut bad = file.clone();
        bad["Predicates"][0]["Detetcion"] = json!([]);
        assert_invalid(&schema, &bad);
        let mut bad = file;
        bad["Predicates"][0]
            .as_object_mut()
            .map(|o| o.remove("Detection"));
        assert_invalid(&schema, &bad);
    }
}
