//! The value a field reference resolves to, and Python's view of it.
//!
//! A field is either absent, a node of the event, a string a data-model
//! transform computed (a split part, a prefixed path), or a list a transform
//! built. Conditions and outputs read fields only through [`Val`].

use std::borrow::Cow;
use std::rc::Rc;

use crate::node::{Kind, Node, Number};

/// A resolved field.
#[derive(Debug, Clone)]
pub enum Val<'a, N> {
    /// The key does not exist (Python: `None`).
    Missing,
    /// A node of the event (or of a decoded embedded document).
    Node(N),
    /// A string computed by a data-model transform.
    Str(Cow<'a, str>),
    /// A list computed by a data-model transform ([`Val::list`]).
    ///
    /// This and `Json` are reference-counted: `Val`'s drop glue then stays
    /// small enough to inline, and the temporaries a matcher builds (a
    /// node, or nothing) cost no call to drop.
    List(Rc<Vec<Val<'a, N>>>),
    /// A JSON value a rule computed: a constant or an object (ours; see
    /// [`Val::json`]).
    Json(Rc<serde_json::Value>),
}

/// The type of a resolved field, as Python's `type()` would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyType {
    /// `None`: the key is missing or JSON `null`.
    None,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `float`.
    Float,
    /// `str`.
    Str,
    /// `list`.
    List,
    /// `dict`.
    Dict,
}

impl<'a, N> Val<'a, N> {
    /// A computed list.
    #[inline]
    pub fn list(items: Vec<Val<'a, N>>) -> Self {
        Val::List(Rc::new(items))
    }

    /// A computed JSON value.
    #[inline]
    pub fn json(value: serde_json::Value) -> Self {
        Val::Json(Rc::new(value))
    }
}

impl<'a, N: Node<'a>> Val<'a, N> {
    /// Wraps an optional node: `None` becomes [`Val::Missing`].
    #[inline]
    pub fn from_node(node: Option<N>) -> Self {
        node.map_or(Val::Missing, Val::Node)
    }

    /// The Python type of the value.
    pub fn py_type(&self) -> PyType {
        match self {
            Val::Missing => PyType::None,
            Val::Str(_) => PyType::Str,
            Val::List(_) => PyType::List,
            Val::Json(json) => json_type(json),
            Val::Node(node) => match node.kind() {
                Kind::Null => PyType::None,
                Kind::Bool => PyType::Bool,
                Kind::Number => match node.as_number() {
                    Some(Number::Float(_)) => PyType::Float,
                    _ => PyType::Int,
                },
                Kind::String => PyType::Str,
                Kind::Array => PyType::List,
                Kind::Object => PyType::Dict,
            },
        }
    }

    /// The array node itself, when the value is one (its elements can be
    /// walked without collecting them).
    pub fn node_array(&self) -> Option<N> {
        match self {
            Val::Node(node) if node.kind() == Kind::Array => Some(*node),
            _ => None,
        }
    }

    /// The elements of a list value as nodes, for list comprehensions: the
    /// elements of an array node, or of a computed list made of nodes.
    /// `None` when the value is not a list of nodes (see [`Val::json_elements`]).
    pub fn node_elements(&self) -> Option<Vec<N>> {
        match self {
            Val::Node(node) if node.kind() == Kind::Array => Some(node.elements().collect()),
            Val::List(items) => items.iter().map(Val::node).collect(),
            _ => None,
        }
    }

    /// The same value over another node type: nodes become owned JSON. Lets
    /// a value read from a decoded document (`&serde_json::Value`) join
    /// values read from the event.
    pub fn detach<'b, M: Node<'b>>(value: Val<'b, M>) -> Val<'a, N> {
        match value {
            Val::Missing => Val::Missing,
            Val::Node(node) => Val::json(node.to_json()),
            Val::Str(text) => Val::Str(std::borrow::Cow::Owned(text.into_owned())),
            Val::List(items) => Val::list(
                Rc::unwrap_or_clone(items)
                    .into_iter()
                    .map(Val::detach)
                    .collect(),
            ),
            Val::Json(json) => Val::Json(json),
        }
    }

    /// The elements of a list held as owned JSON (a value detached from a
    /// decoded document, or a computed list); `None` for anything else.
    pub fn json_elements(&self) -> Option<Vec<serde_json::Value>> {
        match self {
            Val::Json(json) => json.as_array().cloned(),
            Val::List(items) if items.iter().any(|i| !matches!(i, Val::Node(_))) => {
                Some(items.iter().map(Val::to_json).collect())
            }
            _ => None,
        }
    }

    /// The elements of a list value as values (nodes, computed values or
    /// JSON); `None` when the value is not a list.
    pub fn items(&self) -> Option<Vec<Val<'a, N>>> {
        match self {
            Val::Node(node) if node.kind() == Kind::Array => {
                Some(node.elements().map(Val::Node).collect())
            }
            Val::List(items) => Some(items.to_vec()),
            Val::Json(json) => json
                .as_array()
                .map(|items| items.iter().map(|i| Val::json(i.clone())).collect()),
            _ => None,
        }
    }

    /// The node, when the value is one.
    #[inline]
    pub fn node(&self) -> Option<N> {
        match self {
            Val::Node(node) => Some(*node),
            _ => None,
        }
    }

    /// The string, when the value is a string.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Node(node) => node.as_str(),
            Val::Str(text) => Some(text),
            Val::Json(json) => json.as_str(),
            _ => None,
        }
    }

    /// Python's truthiness: `None`, `False`, `0`, `0.0`, `""`, `[]` and `{}` are false.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Missing => false,
            Val::Str(text) => !text.is_empty(),
            Val::List(items) => !items.is_empty(),
            Val::Json(json) => Val::<&serde_json::Value>::Node(json).truthy(),
            Val::Node(node) => match node.kind() {
                Kind::Null => false,
                Kind::Bool => node.as_bool().unwrap_or(false),
                Kind::Number => match node.as_number() {
                    Some(Number::Int(i)) => i != 0,
                    Some(Number::UInt(u)) => u != 0,
                    Some(Number::Float(f)) => f != 0.0,
                    None => false,
                },
                Kind::String => node.as_str().is_some_and(|s| !s.is_empty()),
                Kind::Array | Kind::Object => !node.is_empty(),
            },
        }
    }

    /// The number Python would compare: ints, floats, and bools as 0 or 1.
    pub fn py_number(&self) -> Option<Number> {
        if let Val::Json(json) = self {
            return Val::<&serde_json::Value>::Node(&**json).py_number();
        }
        let node = self.node()?;
        match node.kind() {
            Kind::Number => node.as_number(),
            Kind::Bool => node.as_bool().map(|b| Number::Int(i64::from(b))),
            _ => None,
        }
    }

    /// Whether the value is `None` (missing or JSON null).
    #[inline]
    pub fn is_none(&self) -> bool {
        self.py_type() == PyType::None
    }

    /// Member `key` of a dict value, looked up case-insensitively like the
    /// dicts Panther's `udm()` returns.
    pub fn member_ci(&self, key: &str) -> Self {
        match self {
            Val::Node(node) => Val::from_node(node.get_ci(key)),
            Val::Json(json) => json_val((&**json).get_ci(key)),
            _ => Val::Missing,
        }
    }

    /// Member `key` of a dict value, compared exactly.
    pub fn member(&self, key: &str) -> Self {
        match self {
            Val::Node(node) => Val::from_node(node.get(key)),
            Val::Json(json) => json_val(json.get(key)),
            _ => Val::Missing,
        }
    }

    /// Element `index` of a list value.
    pub fn element(&self, index: usize) -> Self {
        match self {
            Val::Node(node) => Val::from_node(node.index(index)),
            Val::List(items) => items.get(index).cloned().unwrap_or(Val::Missing),
            Val::Json(json) => json_val(json.get(index)),
            _ => Val::Missing,
        }
    }

    /// An owned JSON copy, for alert output: missing and null both give `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Val::Missing => serde_json::Value::Null,
            Val::Node(node) => node.to_json(),
            Val::Str(text) => serde_json::Value::String(text.to_string()),
            Val::List(items) => serde_json::Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Json(json) => (**json).clone(),
        }
    }
}

/// A child of a computed JSON value, as a value.
fn json_val<'a, N>(child: Option<&serde_json::Value>) -> Val<'a, N> {
    child.map_or(Val::Missing, |c| Val::json(c.clone()))
}

/// The Python type of a JSON value.
fn json_type(json: &serde_json::Value) -> PyType {
    match json {
        serde_json::Value::Null => PyType::None,
        serde_json::Value::Bool(_) => PyType::Bool,
        serde_json::Value::Number(n) if n.is_f64() => PyType::Float,
        serde_json::Value::Number(_) => PyType::Int,
        serde_json::Value::String(_) => PyType::Str,
        serde_json::Value::Array(_) => PyType::List,
        serde_json::Value::Object(_) => PyType::Dict,
    }
}
