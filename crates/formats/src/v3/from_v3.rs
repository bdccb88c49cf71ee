//! v3 files to the v2.1 JSON objects the importer reads.
//!
//! Each function rebuilds, from one file's keys alone, the v2.1 object that
//! Postman's own v2.1 export would hold for it: the same names, the same
//! defaults (`header: []`, `response: []`, `cookie: []`), auth parameters
//! typed as Postman types them, and URL objects with the parts Postman's SDK
//! splits the text into. What apisync kept beside (`x-apisync`) is applied later.
//! Pure and deterministic: the writer calls these too, to learn what the
//! reader will rebuild and so what it must keep beside.

use super::node::Node;
use crate::SCHEMA_V21;
use serde_json::{Map, Value, json};

fn text(n: Option<&Node>) -> Option<Value> {
    match n? {
        Node::Null => None,
        other => Some(other.to_json()),
    }
}

fn insert(out: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        out.insert(key.to_string(), v);
    }
}

/// A key/value list (`variables`, `headers`, `queryParams`, `pathVariables`,
/// url-encoded and form bodies): the plain mapping form gives `{key, value}`
/// entries, the list form its entries as written.
pub(crate) fn kv_list(n: &Node) -> Value {
    match n {
        Node::Map(pairs) => Value::Array(pairs.iter().map(|(k, v)| json!({"key": k, "value": v.to_json()})).collect()),
        Node::Seq(items) => Value::Array(items.iter().filter(|i| matches!(i, Node::Map(_))).map(Node::to_json).collect()),
        _ => Value::Array(Vec::new()),
    }
}

/// `scripts` to v2.1 `event`s.
pub(crate) fn events(n: &Node) -> Value {
    let Node::Seq(items) = n else { return Value::Array(Vec::new()) };
    let list = items
        .iter()
        .filter(|i| matches!(i, Node::Map(_)))
        .map(|s| {
            let ty = s.get("type").and_then(Node::as_str).unwrap_or("");
            let listen = match ty.strip_prefix("http:").unwrap_or(ty) {
                "afterResponse" => "test",
                "beforeRequest" => "prerequest",
                other => other,
            };
            let exec: Vec<Value> = match s.get("code") {
                Some(Node::Str(code)) => code.split('\n').map(|l| Value::String(l.to_string())).collect(),
                _ => Vec::new(),
            };
            let language = s.get("language").and_then(Node::as_str).unwrap_or("text/javascript");
            json!({"listen": listen, "script": {"type": language, "exec": exec}})
        })
        .collect();
    Value::Array(list)
}

/// A request's `auth` (`{type, credentials}`) to v2.1's `{type, <type>: [{key, value, type}]}`.
pub(crate) fn auth(n: &Node) -> Option<Value> {
    let ty = n.get("type")?.as_str()?.to_string();
    let mut out = Map::new();
    out.insert("type".into(), Value::String(ty.clone()));
    if let Some(Node::Map(creds)) = n.get("credentials") {
        let params: Vec<Value> = creds
            .iter()
            .map(|(k, v)| {
                let kind = match v {
                    Node::Str(_) => "string",
                    Node::Bool(_) => "boolean",
                    _ => "any",
                };
                json!({"key": k, "value": v.to_json(), "type": kind})
            })
            .collect();
        out.insert(ty, Value::Array(params));
    }
    Some(Value::Object(out))
}

/// A definition's `auth`: a list whose first entry is the auth (its `id` and `name` are Postman's own).
fn definition_auth(n: &Node) -> Option<Value> {
    match n {
        Node::Seq(items) => items.first().and_then(auth),
        other => auth(other),
    }
}

/// The body of an http request (`{type, content}`) as v2.1's `{mode, …}`.
pub(crate) fn body(n: &Node) -> Option<Value> {
    let ty = n.get("type")?.as_str()?;
    let content = n.get("content");
    Some(match ty {
        "text" | "json" | "xml" | "javascript" | "html" => {
            let raw = match content {
                Some(Node::Str(s)) => Value::String(s.clone()),
                Some(Node::Null) | None => Value::String(String::new()),
                Some(other) => other.to_json(),
            };
            if ty == "text" {
                json!({"mode": "raw", "raw": raw})
            } else {
                json!({"mode": "raw", "raw": raw, "options": {"raw": {"language": ty}}})
            }
        }
        "urlencoded" | "formdata" => {
            let list = content.map_or(Value::Array(Vec::new()), kv_list);
            json!({"mode": ty, ty: list})
        }
        other => {
            let value = content.map_or(Value::Object(Map::new()), Node::to_json);
            json!({"mode": other, other: value})
        }
    })
}

/// `url` (+ `queryParams`, `pathVariables`) of a request or an example's request.
pub(crate) fn url(file: &Node) -> Option<Value> {
    let raw = text(file.get("url"))?;
    let (query, vars) = (file.get("queryParams"), file.get("pathVariables"));
    // Postman's SDK reads a URL object's parts, not its `raw`: rebuild them,
    // as Postman's own v2.1 export writes them.
    let mut out = match &raw {
        Value::String(s) => crate::collection_v1::url_parts(s),
        _ => Map::new(),
    };
    out.insert("raw".into(), raw);
    if let Some(q) = query {
        out.insert("query".into(), kv_list(q));
    }
    if let Some(v) = vars {
        out.insert("variable".into(), kv_list(v));
    }
    Some(Value::Object(out))
}

/// The v2.1 `request` object of a request file or an example's `request`.
fn request_object(n: &Node, graphql: bool) -> Map<String, Value> {
    let mut req = Map::new();
    let method = text(n.get("method")).or_else(|| graphql.then(|| Value::String("POST".into())));
    insert(&mut req, "method", method);
    insert(&mut req, "url", url(n));
    req.insert("header".into(), n.get("headers").map_or(Value::Array(Vec::new()), kv_list));
    let body = if graphql {
        let mut g = Map::new();
        insert(&mut g, "query", text(n.get("query")));
        insert(&mut g, "variables", text(n.get("variables")));
        (!g.is_empty()).then(|| json!({"mode": "graphql", "graphql": g}))
    } else {
        n.get("body").and_then(body)
    };
    insert(&mut req, "body", body);
    insert(&mut req, "auth", n.get("auth").and_then(auth));
    req
}

/// A collection's `.resources/definition.yaml` to a v2.1 collection without `item`.
pub(crate) fn collection(def: &Node, name: &str) -> Map<String, Value> {
    let mut info = Map::new();
    info.insert("name".into(), Value::String(name.to_string()));
    insert(&mut info, "_postman_id", text(def.get("id")));
    insert(&mut info, "description", text(def.get("description")));
    info.insert("schema".into(), Value::String(SCHEMA_V21.into()));
    let mut out = Map::new();
    out.insert("info".into(), Value::Object(info));
    definition_common(def, &mut out);
    out
}

/// A folder's `.resources/definition.yaml` to a v2.1 folder item without `item`.
pub(crate) fn folder(def: &Node, name: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), Value::String(name.to_string()));
    insert(&mut out, "id", text(def.get("id")));
    insert(&mut out, "description", text(def.get("description")));
    definition_common(def, &mut out);
    out
}

fn definition_common(def: &Node, out: &mut Map<String, Value>) {
    insert(out, "variable", def.get("variables").map(kv_list));
    insert(out, "event", def.get("scripts").map(events));
    insert(out, "auth", def.get("auth").and_then(definition_auth));
}

/// A `*.request.yaml` (http or graphql) to a v2.1 request item, `response: []`.
pub(crate) fn request(file: &Node, name: &str, graphql: bool) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), Value::String(name.to_string()));
    insert(&mut out, "id", text(file.get("id")));
    let mut req = request_object(file, graphql);
    insert(&mut req, "description", text(file.get("description")));
    out.insert("request".into(), Value::Object(req));
    insert(&mut out, "event", file.get("scripts").map(events));
    insert(&mut out, "protocolProfileBehavior", text(file.get("settings")));
    out.insert("response".into(), Value::Array(Vec::new()));
    out
}

/// A `*.example.yaml` to a v2.1 saved response.
pub(crate) fn example(file: &Node, name: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), Value::String(name.to_string()));
    insert(&mut out, "id", text(file.get("id")));
    if let Some(req) = file.get("request").filter(|r| matches!(r, Node::Map(_))) {
        out.insert("originalRequest".into(), Value::Object(request_object(req, false)));
    }
    let resp = file.get("response");
    insert(&mut out, "status", text(resp.and_then(|r| r.get("statusText"))));
    insert(&mut out, "code", text(resp.and_then(|r| r.get("statusCode"))));
    out.insert("header".into(), resp.and_then(|r| r.get("headers")).map_or(Value::Array(Vec::new()), kv_list));
    if let Some(b) = resp.and_then(|r| r.get("body")) {
        insert(&mut out, "body", text(b.get("content")));
        insert(&mut out, "_postman_previewlanguage", text(b.get("type")));
    }
    out.insert("cookie".into(), Value::Array(Vec::new()));
    out
}

/// An environment file to a Postman environment export.
pub(crate) fn environment(file: &Node, name: &str) -> Map<String, Value> {
    let mut out = Map::new();
    insert(&mut out, "id", text(file.get("id")));
    out.insert("name".into(), Value::String(name.to_string()));
    out.insert("values".into(), variables(file.get("values")));
    out
}

/// Environment or global variables: the list as written; a plain mapping gives enabled entries.
pub(crate) fn variables(n: Option<&Node>) -> Value {
    match n {
        Some(Node::Map(pairs)) => {
            Value::Array(pairs.iter().map(|(k, v)| json!({"key": k, "value": v.to_json(), "enabled": true})).collect())
        }
        Some(other) => kv_list(other),
        None => Value::Array(Vec::new()),
    }
}
