//! Which Postman file a JSON value is, judged from its content alone.

use crate::FormatError;
use serde_json::Value;

/// The kinds of Postman file apisync reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Collection Format v2.1 (`info.schema` names v2.1).
    CollectionV21,
    /// Collection Format v2.0 (`info.schema` names v2.0); imported as v2.1.
    CollectionV20,
    /// A v2-shaped collection (`item` array) without a recognised
    /// `info.schema`, or without `info` at all; imported as v2.1.
    CollectionV2Unversioned,
    /// The flat v1 collection (`requests`, `folders`, `order`); converted to v2.1.
    CollectionV1,
    /// An environment export (`values`, and `_postman_variable_scope: environment` or a name).
    Environment,
    /// A globals export: `{values, _postman_variable_scope: "globals"}` or a bare array of variables.
    Globals,
    /// A Postman data dump (`version`, `collections`, `environments`, `headerPresets`, `globals`).
    Dump,
    /// A newman JSON run report (`run` with `executions`, `collection`).
    NewmanReport,
    /// A v3 directory (Postman collections schema 3.0.0, YAML files), read by
    /// [`crate::v3::import_v3`]; [`detect`] never returns it.
    V3Directory,
}

impl Format {
    /// A short human name, as used in notes and errors.
    pub fn describe(self) -> &'static str {
        match self {
            Format::CollectionV21 => "Postman collection v2.1",
            Format::CollectionV20 => "Postman collection v2.0",
            Format::CollectionV2Unversioned => "Postman collection (v2, no schema version)",
            Format::CollectionV1 => "Postman collection v1",
            Format::Environment => "Postman environment",
            Format::Globals => "Postman globals",
            Format::Dump => "Postman data dump",
            Format::NewmanReport => "newman JSON report",
            Format::V3Directory => "Postman v3 directory (collections schema 3.0.0)",
        }
    }
}

/// Works out which Postman file `value` is, from its content.
///
/// Fails with [`FormatError::NotPostman`] naming what the top level held
/// when it is none of the [`Format`]s.
pub fn detect(value: &Value) -> Result<Format, FormatError> {
    match value {
        Value::Array(items) if items.iter().all(|v| v.get("key").is_some()) => Ok(Format::Globals),
        Value::Object(obj) => detect_object(obj).ok_or_else(|| FormatError::NotPostman { found: describe_top(value) }),
        other => Err(FormatError::NotPostman { found: describe_top(other) }),
    }
}

/// [`detect`] for a JSON object; `None` when it is no Postman file.
pub(crate) fn detect_object(obj: &serde_json::Map<String, Value>) -> Option<Format> {
    let has = |k: &str| obj.contains_key(k);
    let is_array = |k: &str| obj.get(k).is_some_and(Value::is_array);
    if is_array("collections") || (has("version") && (is_array("environments") || is_array("headerPresets"))) {
        return Some(Format::Dump);
    }
    if obj.get("run").is_some_and(|r| r.get("executions").is_some() || r.get("stats").is_some()) && has("collection") {
        return Some(Format::NewmanReport);
    }
    if let Some(info) = obj.get("info").and_then(Value::as_object) {
        let schema = info.get("schema").and_then(Value::as_str).unwrap_or("");
        return Some(if schema.contains("v2.1") {
            Format::CollectionV21
        } else if schema.contains("v2.0") {
            Format::CollectionV20
        } else {
            Format::CollectionV2Unversioned
        });
    }
    if is_array("item") {
        return Some(Format::CollectionV2Unversioned);
    }
    if is_array("requests") || is_array("folders") || (is_array("order") && has("name")) {
        return Some(Format::CollectionV1);
    }
    if is_array("values") {
        let scope = obj.get("_postman_variable_scope").and_then(Value::as_str);
        return Some(if scope == Some("globals") { Format::Globals } else { Format::Environment });
    }
    None
}

fn describe_top(value: &Value) -> String {
    match value {
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().take(6).map(String::as_str).collect();
            if keys.is_empty() { "an empty object".into() } else { format!("an object with keys {}", keys.join(", ")) }
        }
        Value::Array(_) => "an array whose entries are not variables".into(),
        Value::String(_) => "a string".into(),
        Value::Number(_) => "a number".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Null => "null".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_each_format() {
        let v21 = json!({"info": {"schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, "item": []});
        assert_eq!(detect(&v21).unwrap(), Format::CollectionV21);
        let v20 = json!({"info": {"schema": "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"}, "item": []});
        assert_eq!(detect(&v20).unwrap(), Format::CollectionV20);
        assert_eq!(detect(&json!({"name": "x", "item": []})).unwrap(), Format::CollectionV2Unversioned);
        assert_eq!(detect(&json!({"id": "1", "name": "x", "order": [], "requests": []})).unwrap(), Format::CollectionV1);
        assert_eq!(detect(&json!({"values": []})).unwrap(), Format::Environment);
        assert_eq!(detect(&json!({"values": [], "_postman_variable_scope": "globals"})).unwrap(), Format::Globals);
        assert_eq!(detect(&json!([{"key": "a", "value": "b"}])).unwrap(), Format::Globals);
        assert_eq!(detect(&json!({"version": 1, "collections": []})).unwrap(), Format::Dump);
        assert_eq!(detect(&json!({"collection": {}, "run": {"executions": []}})).unwrap(), Format::NewmanReport);
    }

    #[test]
    fn rejects_other_json() {
        let err = detect(&json!({"$schema": "x", "properties": {}})).unwrap_err();
        assert_eq!(err.code(), "not_postman");
        assert!(err.to_string().contains("$schema, properties"), "{err}");
        assert!(detect(&json!(3)).is_err());
        assert!(detect(&json!([1, 2])).is_err());
    }
}
