//! The ordered value v3 files are read into and written from: YAML
//! mappings keep their key order (headers, credentials and variables are
//! ordered), which `serde_json`'s sorted maps would lose.

use serde_json::{Map, Number, Value};

/// A YAML value with its map keys in the order they are to be written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// A string scalar.
    Str(String),
    /// A number.
    Num(Number),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
    /// A mapping, in writing order.
    Map(Vec<(String, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
}

impl Node {
    /// A JSON value as a node (object keys in the JSON map's order, which is sorted).
    pub(crate) fn from_json(v: &Value) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Num(n.clone()),
            Value::String(s) => Node::Str(s.clone()),
            Value::Array(a) => Node::Seq(a.iter().map(Node::from_json).collect()),
            Value::Object(o) => Node::Map(o.iter().map(|(k, v)| (k.clone(), Node::from_json(v))).collect()),
        }
    }

    pub(crate) fn is_collection(&self) -> bool {
        matches!(self, Node::Map(_) | Node::Seq(_))
    }

    pub(crate) fn is_empty_collection(&self) -> bool {
        matches!(self, Node::Map(m) if m.is_empty()) || matches!(self, Node::Seq(s) if s.is_empty())
    }
}

impl Node {
    /// The value under `key` of a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node as JSON (mapping keys sorted, as serde_json keeps them).
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Num(n) => Value::Number(n.clone()),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(pairs) => Value::Object(pairs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<Map<String, Value>>()),
        }
    }

    /// A short name of the node's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Num(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}
