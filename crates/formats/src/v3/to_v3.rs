//! v2.1 JSON objects (as `export_collection` writes them) to the keys of v3
//! files, in the order Postman's `collection migrate` writes them and with
//! its choices (plain mappings where every entry is a plain enabled
//! key/value, `type: text` for a body without a mode, no body when it is
//! disabled). Whatever has no v3 key is left to `x-apisync` (see `patch`).

use super::node::Node;
use serde_json::{Map, Value};

type Pairs = Vec<(String, Node)>;

fn push(out: &mut Pairs, key: &str, value: Option<Node>) {
    if let Some(v) = value {
        out.push((key.to_string(), v));
    }
}

fn str_node(v: Option<&Value>) -> Option<Node> {
    v.and_then(Value::as_str).map(|s| Node::Str(s.to_string()))
}

/// A description as Postman writes it: a non-empty string.
fn description(v: Option<&Value>) -> Option<Node> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(|s| Node::Str(s.to_string()))
}

fn is_true(v: Option<&Value>) -> bool {
    v == Some(&Value::Bool(true))
}

/// What a key/value list's entries may carry in the list form.
#[derive(Clone, Copy, PartialEq)]
enum ListStyle {
    /// Collection variables: `{key, value, disabled}` with `disabled` always written.
    Variables,
    /// Headers, query parameters, path variables, url-encoded fields:
    /// `{key, value, disabled: true?, description?}`.
    Params,
}

/// A v2.1 list of `{key, value, …}` as a plain mapping when every entry is an
/// enabled string pair with a unique key and no description, else as a list.
fn kv(list: Option<&Value>, style: ListStyle) -> Option<Node> {
    let entries: Vec<&Map<String, Value>> = list?.as_array()?.iter().filter_map(Value::as_object).collect();
    if entries.is_empty() {
        return None;
    }
    let mut keys = std::collections::HashSet::new();
    let plain = entries.iter().all(|e| {
        e.get("key").and_then(Value::as_str).is_some_and(|k| keys.insert(k.to_string()))
            && e.get("value").is_none_or(|v| v.is_string() || v.is_number() || v.is_boolean())
            && !is_true(e.get("disabled"))
            && (style == ListStyle::Variables || description(e.get("description")).is_none())
    });
    if plain {
        let pairs = entries
            .iter()
            .filter_map(|e| {
                // Postman writes numbers and booleans here as text.
                let value = match e.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                Some((e.get("key")?.as_str()?.to_string(), Node::Str(value)))
            })
            .collect();
        return Some(Node::Map(pairs));
    }
    let items = entries
        .iter()
        .map(|e| {
            let mut p = Pairs::new();
            // Postman's linter refuses an entry without a key or a value (`- {}`);
            // empty ones are valid, and x-apisync says the original had none.
            push(&mut p, "key", Some(e.get("key").map_or_else(|| Node::Str(String::new()), Node::from_json)));
            push(&mut p, "value", Some(e.get("value").filter(|v| !v.is_null()).map_or_else(|| Node::Str(String::new()), Node::from_json)));
            match style {
                ListStyle::Variables => p.push(("disabled".into(), Node::Bool(is_true(e.get("disabled"))))),
                ListStyle::Params => {
                    if is_true(e.get("disabled")) {
                        p.push(("disabled".into(), Node::Bool(true)));
                    }
                    push(&mut p, "description", description(e.get("description")));
                }
            }
            Node::Map(p)
        })
        .collect();
    Some(Node::Seq(items))
}

/// v2.1 `event`s as `scripts` (`http:` prefixed in definitions).
fn scripts(events: Option<&Value>, definition: bool) -> Option<Node> {
    let list: Vec<Node> = events?
        .as_array()?
        .iter()
        .filter_map(|e| {
            let ty = match e.get("listen")?.as_str()? {
                "test" => "afterResponse",
                "prerequest" => "beforeRequest",
                _ => return None,
            };
            let script = e.get("script")?;
            let code = match script.get("exec")? {
                Value::String(s) => s.clone(),
                Value::Array(lines) => lines.iter().map(|l| l.as_str().unwrap_or_default()).collect::<Vec<_>>().join("\n"),
                _ => return None,
            };
            // Postman's migrate writes no script that has no code.
            if code.trim().is_empty() {
                return None;
            }
            let language = script.get("type").and_then(Value::as_str).unwrap_or("text/javascript");
            let ty = if definition { format!("http:{ty}") } else { ty.to_string() };
            Some(Node::Map(vec![
                ("type".into(), Node::Str(ty)),
                ("code".into(), Node::Str(code)),
                ("language".into(), Node::Str(language.into())),
            ]))
        })
        .collect();
    (!list.is_empty()).then_some(Node::Seq(list))
}

/// A v2.1 auth as `{type, credentials}`.
fn auth_pairs(auth: &Value) -> Option<Pairs> {
    let ty = auth.get("type")?.as_str()?;
    let mut out = vec![("type".to_string(), Node::Str(ty.into()))];
    if let Some(params) = auth.get(ty).and_then(Value::as_array) {
        let creds: Pairs = params
            .iter()
            .filter_map(|p| Some((p.get("key")?.as_str()?.to_string(), Node::from_json(p.get("value").unwrap_or(&Value::Null)))))
            .collect();
        out.push(("credentials".into(), Node::Map(creds)));
    }
    Some(out)
}

/// A definition's auth list entry: `{id, type, name: "<type> auth", credentials}`.
fn definition_auth(auth: Option<&Value>, id_seed: &str) -> Option<Node> {
    let mut pairs = auth_pairs(auth?)?;
    let ty = pairs[0].1.as_str().unwrap_or_default().to_string();
    // As migrate writes them: "No Auth" with an empty id, else "<type> auth" with an id.
    let (id, name) = if ty == "noauth" { (String::new(), "No Auth".to_string()) } else { (stable_uuid(id_seed), format!("{ty} auth")) };
    pairs.insert(0, ("id".into(), Node::Str(id)));
    pairs.insert(2, ("name".into(), Node::Str(name)));
    Some(Node::Seq(vec![Node::Map(pairs)]))
}

/// A UUID-shaped id derived from `seed`: Postman's migrate gives auth blocks a
/// random id, which would change every file on every export.
fn stable_uuid(seed: &str) -> String {
    let mut bytes = [0u8; 16];
    for (half, salt) in [(0usize, 0xcbf2_9ce4_8422_2325u64), (8, 0x6c62_272e_07bb_0142)] {
        let mut h = salt;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        bytes[half..half + 8].copy_from_slice(&h.to_be_bytes());
    }
    // RFC 9562 version 8 (custom), variant 10.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn raw_language(body: &Map<String, Value>) -> &'static str {
    match body.get("options").and_then(|o| o.get("raw")).and_then(|r| r.get("language")).and_then(Value::as_str) {
        Some("json") => "json",
        Some("xml") => "xml",
        Some("javascript") => "javascript",
        Some("html") => "html",
        _ => "text",
    }
}

/// A v2.1 body as `{type, content}`; `None` when there is none or it is disabled.
fn body(b: Option<&Value>) -> Option<Node> {
    let b = b?.as_object()?;
    if is_true(b.get("disabled")) {
        return None;
    }
    let (ty, content) = match b.get("mode").and_then(Value::as_str) {
        None => ("text", Node::Str(String::new())),
        Some("raw") => (raw_language(b), b.get("raw").map_or(Node::Str(String::new()), Node::from_json)),
        Some("urlencoded") => ("urlencoded", kv(b.get("urlencoded"), ListStyle::Params).unwrap_or(Node::Seq(Vec::new()))),
        Some("formdata") => ("formdata", formdata(b.get("formdata"))),
        Some("file") => {
            let file = b.get("file").and_then(Value::as_object);
            let kept: Pairs =
                file.into_iter().flatten().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), Node::from_json(v))).collect();
            ("file", Node::Map(kept))
        }
        Some(_) => return None,
    };
    Some(Node::Map(vec![("type".into(), Node::Str(ty.into())), ("content".into(), content)]))
}

fn formdata(list: Option<&Value>) -> Node {
    let items = list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|p| {
            let ty = p.get("type").and_then(Value::as_str).unwrap_or("text");
            let mut out = vec![("type".to_string(), Node::Str(ty.into()))];
            push(&mut out, "key", p.get("key").map(Node::from_json));
            if ty == "file" {
                // Postman's migrate writes a file part without a path as "".
                let src = p.get("src").filter(|s| !s.is_null()).map_or(Node::Str(String::new()), Node::from_json);
                out.push(("src".into(), src));
            } else {
                push(&mut out, "value", p.get("value").filter(|v| !v.is_null()).map(Node::from_json));
            }
            if is_true(p.get("disabled")) {
                out.push(("disabled".into(), Node::Bool(true)));
            }
            push(&mut out, "contentType", str_node(p.get("contentType")));
            push(&mut out, "description", description(p.get("description")));
            Node::Map(out)
        })
        .collect();
    Node::Seq(items)
}

/// `url`, `method`, `headers`, `queryParams`, `pathVariables` of a v2.1 request object.
fn request_parts(req: &Map<String, Value>, out: &mut Pairs, graphql: bool) {
    let url = req.get("url");
    let raw = match url {
        Some(Value::Object(u)) => u.get("raw"),
        other => other,
    };
    push(out, "url", raw.filter(|v| !v.is_null()).map(Node::from_json));
    if !graphql {
        push(out, "method", str_node(req.get("method")));
    }
    push(out, "headers", kv(req.get("header"), ListStyle::Params));
    if let Some(Value::Object(u)) = url {
        push(out, "queryParams", kv(u.get("query"), ListStyle::Params));
        push(out, "pathVariables", kv(u.get("variable"), ListStyle::Params));
    }
}

/// Whether a v2.1 request item is a GraphQL request (`$kind: graphql-request`).
pub(crate) fn is_graphql(item: &Map<String, Value>) -> bool {
    item.get("request").and_then(|r| r.get("body")).and_then(|b| b.get("mode")).and_then(Value::as_str) == Some("graphql")
        && item.get("request").and_then(|r| r.get("body")).and_then(|b| b.get("disabled")) != Some(&Value::Bool(true))
}

/// A collection's or folder's `.resources/definition.yaml`.
/// `name` is `None` when the directory's name already says it.
pub(crate) fn definition(obj: &Map<String, Value>, collection: bool, name: Option<&str>, order: Option<i64>, seed: &str) -> Pairs {
    let info = if collection { obj.get("info").and_then(Value::as_object) } else { Some(obj) };
    let mut out = vec![("$kind".to_string(), Node::Str("collection".into()))];
    let id = if collection { info.and_then(|i| i.get("_postman_id")) } else { obj.get("id") };
    push(&mut out, "id", str_node(id));
    push(&mut out, "name", name.map(|n| Node::Str(n.into())));
    push(&mut out, "description", description(info.and_then(|i| i.get("description"))));
    if collection {
        // Postman's migrate writes no folder variables; apisync keeps them beside.
        push(&mut out, "variables", kv(obj.get("variable"), ListStyle::Variables));
    }
    push(&mut out, "scripts", scripts(obj.get("event"), true));
    push(&mut out, "auth", definition_auth(obj.get("auth"), seed));
    push(&mut out, "order", order.map(|o| Node::Num(o.into())));
    out
}

/// A `*.request.yaml`. `examples` is the examples directory, relative to the file's.
pub(crate) fn request(item: &Map<String, Value>, name: Option<&str>, examples: Option<&str>, order: i64) -> Pairs {
    let graphql = is_graphql(item);
    let empty = Map::new();
    let req = item.get("request").and_then(Value::as_object).unwrap_or(&empty);
    let kind = if graphql { "graphql-request" } else { "http-request" };
    let mut out = vec![("$kind".to_string(), Node::Str(kind.into()))];
    push(&mut out, "id", str_node(item.get("id")));
    push(&mut out, "name", name.map(|n| Node::Str(n.into())));
    push(&mut out, "description", description(req.get("description")));
    request_parts(req, &mut out, graphql);
    if graphql {
        let g = req.get("body").and_then(|b| b.get("graphql"));
        push(&mut out, "query", g.and_then(|g| g.get("query")).filter(|v| !v.is_null()).map(Node::from_json));
        push(&mut out, "variables", g.and_then(|g| g.get("variables")).filter(|v| !v.is_null()).map(Node::from_json));
    } else {
        push(&mut out, "body", body(req.get("body")));
    }
    push(&mut out, "auth", req.get("auth").and_then(auth_pairs).map(Node::Map));
    push(&mut out, "scripts", scripts(item.get("event"), false));
    let settings = item.get("protocolProfileBehavior").filter(|p| p.as_object().is_some_and(|o| !o.is_empty()));
    push(&mut out, "settings", settings.map(Node::from_json));
    push(&mut out, "examples", examples.map(|e| Node::Str(e.into())));
    out.push(("order".into(), Node::Num(order.into())));
    out
}

/// A `*.example.yaml` for a v2.1 saved response.
pub(crate) fn example(resp: &Map<String, Value>, name: Option<&str>, order: i64) -> Pairs {
    let mut out = vec![("$kind".to_string(), Node::Str("http-example".into()))];
    push(&mut out, "id", str_node(resp.get("id")));
    push(&mut out, "name", name.map(|n| Node::Str(n.into())));
    // Postman's migrate fills what an example lacks: a GET of "" answered 200 OK with an empty text body.
    let mut r = Pairs::new();
    match resp.get("originalRequest").and_then(Value::as_object) {
        Some(req) => {
            request_parts(req, &mut r, false);
            push(&mut r, "body", body(req.get("body")));
            push(&mut r, "auth", req.get("auth").and_then(auth_pairs).map(Node::Map));
        }
        None => {
            r.push(("url".into(), Node::Str(String::new())));
            r.push(("method".into(), Node::Str("GET".into())));
        }
    }
    out.push(("request".into(), Node::Map(r)));
    let mut r = Pairs::new();
    let code = resp.get("code").filter(|c| c.is_number());
    r.push(("statusCode".into(), code.map_or(Node::Num(200.into()), Node::from_json)));
    let status = str_node(resp.get("status")).or_else(|| code.is_none().then(|| Node::Str("OK".into())));
    push(&mut r, "statusText", status);
    push(&mut r, "headers", kv(resp.get("header"), ListStyle::Params));
    if !matches!(resp.get("body"), Some(Value::String(_))) {
        r.push(("body".into(), Node::Map(vec![("type".into(), Node::Str("text".into())), ("content".into(), Node::Str(String::new()))])));
    }
    if let Some(Value::String(b)) = resp.get("body") {
        let ty = resp
            .get("_postman_previewlanguage")
            .and_then(Value::as_str)
            .filter(|l| matches!(*l, "json" | "xml" | "html" | "javascript" | "text"))
            .unwrap_or("text");
        r.push(("body".into(), Node::Map(vec![("type".into(), Node::Str(ty.into())), ("content".into(), Node::Str(b.clone()))])));
    }
    out.push(("response".into(), Node::Map(r)));
    out.push(("order".into(), Node::Num(order.into())));
    out
}

/// One environment variable or global: `{key, value, enabled, type?, description?}`.
fn variable(v: &Map<String, Value>) -> Node {
    let mut p = Pairs::new();
    push(&mut p, "key", v.get("key").map(Node::from_json));
    push(&mut p, "value", v.get("value").filter(|v| !v.is_null()).map(Node::from_json));
    p.push(("enabled".into(), Node::Bool(v.get("enabled") != Some(&Value::Bool(false)))));
    push(&mut p, "type", str_node(v.get("type")));
    push(&mut p, "description", description(v.get("description")));
    Node::Map(p)
}

fn values(list: Option<&Value>) -> Node {
    Node::Seq(list.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object).map(variable).collect())
}

/// `postman/environments/<name>.environment.yaml`, as Postman's Native Git writes it.
pub(crate) fn environment(env: &Map<String, Value>) -> Pairs {
    let mut out = vec![("$kind".to_string(), Node::Str("environment".into()))];
    push(&mut out, "id", str_node(env.get("id")));
    push(&mut out, "name", str_node(env.get("name")));
    out.push(("values".into(), values(env.get("values"))));
    out
}

/// `postman/globals/workspace.globals.yaml`.
pub(crate) fn globals(list: &Value) -> Pairs {
    vec![("$kind".to_string(), Node::Str("globals".into())), ("values".into(), values(Some(list)))]
}
