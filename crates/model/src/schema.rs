//! Which fields each kind has, their JSON types, and the size limits every
//! document obeys. The server validates every mutation against this; the
//! device validates before it writes, so bad input fails early and locally.
//!
//! Field names follow Postman Collection Format v2.1 so import and export
//! map one to one. `extra` holds whatever Postman keys apisync does not
//! model, so nothing is dropped on the way through.

use crate::{Fields, Kind};
use serde_json::Value;

/// A set of JSON types a field may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Types(u8);

impl Types {
    pub const NULL: Types = Types(1);
    pub const BOOL: Types = Types(2);
    pub const NUMBER: Types = Types(4);
    pub const STRING: Types = Types(8);
    pub const ARRAY: Types = Types(16);
    pub const OBJECT: Types = Types(32);
    pub const ANY: Types = Types(63);

    const fn or(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    /// Whether `v` is of one of these types.
    pub fn admits(self, v: &Value) -> bool {
        let bit = match v {
            Value::Null => Self::NULL,
            Value::Bool(_) => Self::BOOL,
            Value::Number(_) => Self::NUMBER,
            Value::String(_) => Self::STRING,
            Value::Array(_) => Self::ARRAY,
            Value::Object(_) => Self::OBJECT,
        };
        self.0 & bit.0 != 0
    }

    fn describe(self) -> String {
        let names = [
            (Self::NULL, "null"),
            (Self::BOOL, "boolean"),
            (Self::NUMBER, "number"),
            (Self::STRING, "string"),
            (Self::ARRAY, "array"),
            (Self::OBJECT, "object"),
        ];
        if self == Self::ANY {
            return "any JSON value".into();
        }
        names.iter().filter(|(t, _)| self.0 & t.0 != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(" or ")
    }
}

/// One field a kind has.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// The field's name, as in Postman's format.
    pub name: &'static str,
    /// The JSON types it may hold.
    pub types: Types,
    /// Whether a document of the kind must have it.
    pub required: bool,
}

const fn f(name: &'static str, types: Types) -> FieldSpec {
    FieldSpec { name, types, required: false }
}
const fn req(name: &'static str, types: Types) -> FieldSpec {
    FieldSpec { name, types, required: true }
}

const S: Types = Types::STRING;
const N: Types = Types::NUMBER;
const B: Types = Types::BOOL;
const A: Types = Types::ARRAY;
const O: Types = Types::OBJECT;
const ANY: Types = Types::ANY;
const S_OR_NULL: Types = S.or(Types::NULL);
const O_OR_NULL: Types = O.or(Types::NULL);
const DESCRIPTION: Types = S.or(O).or(Types::NULL);

const WORKSPACE: &[FieldSpec] = &[req("name", S), f("description", DESCRIPTION)];
const COLLECTION: &[FieldSpec] = &[
    req("name", S),
    f("description", DESCRIPTION),
    f("auth", O_OR_NULL),
    f("event", A),
    f("variable", A),
    f("protocolProfileBehavior", O),
    f("schema", S),
    f("version", S.or(O)),
    f("postman_id", S),
    f("extra", O),
];
const FOLDER: &[FieldSpec] = &[
    req("name", S),
    f("description", DESCRIPTION),
    f("auth", O_OR_NULL),
    f("event", A),
    f("variable", A),
    f("protocolProfileBehavior", O),
    f("postman_id", S),
    f("extra", O),
];
const REQUEST: &[FieldSpec] = &[
    req("name", S),
    f("description", DESCRIPTION),
    f("method", S),
    f("url", S.or(O)),
    f("header", A.or(S).or(Types::NULL)),
    f("body", O_OR_NULL),
    f("auth", O_OR_NULL),
    f("event", A),
    f("variable", A),
    f("protocolProfileBehavior", O),
    f("postman_id", S),
    f("extra", O),
];
const RESPONSE: &[FieldSpec] = &[
    req("name", S),
    f("originalRequest", O.or(S).or(Types::NULL)),
    f("status", S_OR_NULL),
    f("code", N.or(Types::NULL)),
    f("header", A.or(S).or(Types::NULL)),
    f("cookie", A.or(Types::NULL)),
    f("body", S_OR_NULL),
    f("_postman_previewlanguage", S_OR_NULL),
    f("responseTime", N.or(S).or(Types::NULL)),
    f("timings", O_OR_NULL),
    f("postman_id", S),
    f("extra", O),
];
const HEADER_PRESET: &[FieldSpec] = &[req("name", S), f("headers", A), f("postman_id", S), f("extra", O)];
const ENVIRONMENT: &[FieldSpec] = &[req("name", S), f("postman_id", S), f("extra", O)];
const VARIABLE: &[FieldSpec] =
    &[req("key", S), f("value", ANY), f("type", S), f("enabled", B), f("description", DESCRIPTION), f("extra", O)];
const RUN: &[FieldSpec] = &[
    req("name", S),
    f("collection_id", S_OR_NULL),
    f("environment_id", S_OR_NULL),
    f("started_at", S.or(N)),
    f("finished_at", S.or(N).or(Types::NULL)),
    f("stats", O),
    f("timings", O),
    f("results", A),
    f("failures", A),
    f("extra", O),
];
const HISTORY: &[FieldSpec] = &[
    f("name", S),
    req("method", S),
    req("url", S),
    f("request", O),
    f("response", O_OR_NULL),
    f("code", N.or(Types::NULL)),
    f("response_time", N.or(Types::NULL)),
    f("at", S.or(N)),
    f("collection_id", S_OR_NULL),
    f("request_id", S_OR_NULL),
    f("run_id", S_OR_NULL),
    f("extra", O),
];

impl Kind {
    /// The fields a document of this kind may have.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Kind::Workspace => WORKSPACE,
            Kind::Collection => COLLECTION,
            Kind::Folder => FOLDER,
            Kind::Request => REQUEST,
            Kind::Response => RESPONSE,
            Kind::HeaderPreset => HEADER_PRESET,
            Kind::Environment => ENVIRONMENT,
            Kind::Variable | Kind::Global => VARIABLE,
            Kind::Run => RUN,
            Kind::History => HISTORY,
        }
    }

    /// The spec of one field, if the kind has it.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|s| s.name == name)
    }
}

/// The explicit size limits every document obeys (documented in docs/PROTOCOL.md).
#[derive(Clone, Copy, Debug)]
pub struct Limits;

impl Limits {
    /// Largest serialized value of one field.
    pub const FIELD_BYTES: usize = 1024 * 1024;
    /// Largest serialized document (all fields together).
    pub const DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
    /// Longest ordering key.
    pub const ORDER_KEY_CHARS: usize = 256;
    /// Deepest JSON nesting inside one field.
    pub const JSON_DEPTH: usize = 64;
    /// Deepest a document may sit in a workspace's tree: a collection is at
    /// depth 1, a request in it at 2, a response under that at 3. Room for
    /// Postman's folder nesting (importers refuse more than 48 folders).
    pub const TREE_DEPTH: usize = 64;
}

/// Why a set of fields is not valid for its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The kind has no such field.
    #[error("{kind} has no field '{field}'; its fields are: {known}")]
    Unknown { kind: Kind, field: String, known: String },
    /// The value has the wrong JSON type.
    #[error("field '{field}' of {kind} must be {expected}, not {got}")]
    WrongType { kind: Kind, field: String, expected: String, got: &'static str },
    /// A field every document of the kind needs is missing.
    #[error("{kind} needs the field '{field}' (for example --set {field}=...)")]
    Missing { kind: Kind, field: String },
    /// A value is larger than [`Limits::FIELD_BYTES`].
    #[error("field '{field}' is {bytes} bytes; the limit is {limit} bytes")]
    TooLarge { field: String, bytes: usize, limit: usize },
    /// The whole document is larger than [`Limits::DOCUMENT_BYTES`].
    #[error("the document would be {bytes} bytes; the limit is {limit} bytes")]
    DocumentTooLarge { bytes: usize, limit: usize },
    /// JSON nested deeper than [`Limits::JSON_DEPTH`].
    #[error("field '{field}' nests JSON deeper than {limit} levels")]
    TooDeep { field: String, limit: usize },
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The length of a value's JSON, counted without building the string.
fn serialized_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// The size of a document's fields as stored (their JSON), counted without
/// building the string.
pub fn fields_len(fields: &Fields) -> usize {
    fields.iter().map(|(k, v)| k.len() + serialized_len(v)).sum()
}

/// Checks that every given field exists for `kind`, has an admitted type and
/// fits the limits. Returns the serialized size of the fields.
pub fn check_fields(kind: Kind, fields: &Fields) -> Result<usize, FieldError> {
    let mut total = 0;
    for (name, value) in fields {
        let spec = kind.field(name).ok_or_else(|| FieldError::Unknown {
            kind,
            field: name.clone(),
            known: kind.fields().iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
        })?;
        if !spec.types.admits(value) {
            return Err(FieldError::WrongType { kind, field: name.clone(), expected: spec.types.describe(), got: type_name(value) });
        }
        if depth(value) > Limits::JSON_DEPTH {
            return Err(FieldError::TooDeep { field: name.clone(), limit: Limits::JSON_DEPTH });
        }
        let bytes = serialized_len(value);
        if bytes > Limits::FIELD_BYTES {
            return Err(FieldError::TooLarge { field: name.clone(), bytes, limit: Limits::FIELD_BYTES });
        }
        total += bytes + name.len();
    }
    Ok(total)
}

/// A value typed on a command line for `field` of `kind`: its JSON reading,
/// unless the field holds only text (and maybe null) and the reading is not
/// text, as when a response's `body` is typed as `{"id":1}`: then the text.
pub fn typed_value(kind: Kind, field: &str, raw: &str) -> Value {
    let parsed = serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    match kind.fields().iter().find(|s| s.name == field) {
        Some(spec) if !spec.types.admits(&parsed) && spec.types.admits(&Value::String(String::new())) => Value::String(raw.to_string()),
        _ => parsed,
    }
}

/// Checks a whole document's fields: [`check_fields`], plus required fields
/// present and the document size limit. Returns the size, as [`fields_len`].
pub fn check_document(kind: Kind, fields: &Fields) -> Result<usize, FieldError> {
    let bytes = check_fields(kind, fields)?;
    if let Some(missing) = kind.fields().iter().find(|s| s.required && !fields.contains_key(s.name)) {
        return Err(FieldError::Missing { kind, field: missing.name.to_string() });
    }
    if bytes > Limits::DOCUMENT_BYTES {
        return Err(FieldError::DocumentTooLarge { bytes, limit: Limits::DOCUMENT_BYTES });
    }
    Ok(bytes)
}

/// The size `old` (of `old_len` bytes, see [`fields_len`]) has with
/// `changes` applied, counting only the changed fields.
pub fn merged_len(old: &Fields, old_len: usize, changes: &Fields) -> usize {
    let replaced: usize = changes.keys().filter_map(|k| old.get(k).map(|v| k.len() + serialized_len(v))).sum();
    old_len.saturating_sub(replaced) + fields_len(changes)
}

/// Checks the document `old` (of `old_len` bytes) would become with
/// `changes` applied (each already passed [`check_fields`]): required
/// fields present and the size limit. The cost is that of the changes, not
/// of the document.
pub fn check_merged(kind: Kind, old: &Fields, old_len: usize, changes: &Fields) -> Result<(), FieldError> {
    if let Some(missing) = kind.fields().iter().find(|s| s.required && !changes.contains_key(s.name) && !old.contains_key(s.name)) {
        return Err(FieldError::Missing { kind, field: missing.name.to_string() });
    }
    let bytes = merged_len(old, old_len, changes);
    if bytes > Limits::DOCUMENT_BYTES {
        return Err(FieldError::DocumentTooLarge { bytes, limit: Limits::DOCUMENT_BYTES });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merged_document_is_checked_without_building_it() {
        let old = fields(json!({"name": "n", "description": "x".repeat(3_000_000)}));
        let n = fields_len(&old);
        assert_eq!(check_merged(Kind::Request, &old, n, &fields(json!({"name": "m"}))), Ok(()));
        let more = fields(json!({"event": ["y".repeat(800_000), "z".repeat(800_000)]}));
        assert!(matches!(check_merged(Kind::Request, &old, n, &more), Err(FieldError::DocumentTooLarge { .. })));
        let shrink = fields(json!({"description": "", "event": ["y".repeat(800_000)]}));
        assert_eq!(check_merged(Kind::Request, &old, n, &shrink), Ok(()));
        let mut merged = old.clone();
        merged.extend(shrink.clone());
        assert_eq!(merged_len(&old, n, &shrink), fields_len(&merged));
        let var = fields(json!({"value": "v"}));
        assert!(matches!(check_merged(Kind::Variable, &Fields::new(), 0, &var), Err(FieldError::Missing { .. })));
    }

    fn fields(v: Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn text_fields_keep_json_typed_as_text() {
        assert_eq!(typed_value(Kind::Response, "body", r#"{"id":1}"#), Value::String(r#"{"id":1}"#.into()));
        assert_eq!(typed_value(Kind::Response, "body", "null"), Value::Null);
        assert_eq!(typed_value(Kind::Request, "url", r#"{"raw":"https://x"}"#), json!({"raw": "https://x"}));
        assert_eq!(typed_value(Kind::Request, "name", "plain words"), Value::String("plain words".into()));
    }

    #[test]
    fn accepts_postman_shaped_request() {
        let r = fields(json!({"name": "Get", "method": "GET", "url": {"raw": "https://x"}, "header": [], "body": null}));
        assert_eq!(check_document(Kind::Request, &r), Ok(fields_len(&r)));
    }

    #[test]
    fn names_the_unknown_field_and_the_known_ones() {
        let err = check_fields(Kind::Request, &fields(json!({"nmae": "x"}))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("'nmae'") && msg.contains("method"), "{msg}");
    }

    #[test]
    fn rejects_wrong_types_and_missing_required() {
        let err = check_fields(Kind::Request, &fields(json!({"name": 3}))).unwrap_err();
        assert_eq!(err.to_string(), "field 'name' of request must be string, not a number");
        let err = check_document(Kind::Variable, &fields(json!({"value": "x"}))).unwrap_err();
        assert!(matches!(err, FieldError::Missing { ref field, .. } if field == "key"));
    }

    #[test]
    fn enforces_size_and_depth() {
        let big = "x".repeat(Limits::FIELD_BYTES + 1);
        let err = check_fields(Kind::Request, &fields(json!({ "description": big }))).unwrap_err();
        assert!(matches!(err, FieldError::TooLarge { .. }));
        let mut deep = json!(1);
        for _ in 0..=Limits::JSON_DEPTH {
            deep = json!([deep]);
        }
        let err = check_fields(Kind::Request, &fields(json!({ "event": deep }))).unwrap_err();
        assert!(matches!(err, FieldError::TooDeep { .. }));
    }
}
