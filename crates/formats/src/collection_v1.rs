//! The flat v1 collection format (`requests`, `folders`, `order`,
//! `folders_order`), converted to Collection v2.1 JSON before import.
//!
//! The conversion follows Postman's own transformer: folders nest through
//! `folders_order` (or each folder's `folder`), folders come before requests,
//! headers come from `headerData` (else the `headers` text), bodies from
//! `dataMode`, scripts from `events` (else `preRequestScript`/`tests`).
//! Keys the conversion does not consume are kept on the converted item.

use crate::{FormatError, MAX_FOLDER_DEPTH, SCHEMA_V21};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

const COLLECTION_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "auth",
    "events",
    "variables",
    "order",
    "folders",
    "folders_order",
    "requests",
    "protocolProfileBehavior",
];
const FOLDER_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "auth",
    "events",
    "variables",
    "order",
    "folders_order",
    "folder",
    "folders",
    "collection",
    "collectionId",
    "folderId",
    "protocolProfileBehavior",
];
const REQUEST_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "method",
    "url",
    "headers",
    "headerData",
    "data",
    "dataMode",
    "rawModeData",
    "dataOptions",
    "graphqlModeData",
    "dataDisabled",
    "pathVariables",
    "pathVariableData",
    "queryParams",
    "auth",
    "events",
    "preRequestScript",
    "tests",
    "responses",
    "responses_order",
    "folder",
    "collectionId",
    "collection",
    "protocolProfileBehavior",
];

struct Ctx<'a> {
    folders: HashMap<String, &'a Map<String, Value>>,
    requests: HashMap<String, &'a Map<String, Value>>,
    used: HashSet<String>,
    notes: Vec<String>,
    path: String,
}

fn id_of(v: &Map<String, Value>) -> Option<String> {
    match v.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn ids(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|i| i.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn objects(v: Option<&Value>) -> Vec<&Map<String, Value>> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_object).collect()).unwrap_or_default()
}

/// Copies keys the conversion does not consume; drops only nulls of consumed keys.
fn keep_unknown(from: &Map<String, Value>, consumed: &[&str], to: &mut Map<String, Value>) {
    for (k, v) in from {
        let empty_helper = matches!(k.as_str(), "currentHelper" | "helperAttributes") && v.is_null();
        if !consumed.contains(&k.as_str()) && !empty_helper {
            to.insert(k.clone(), v.clone());
        }
    }
}

/// Copies `from[key]` to `to[as]` unless absent or null.
fn move_to(from: &Map<String, Value>, key: &str, to: &mut Map<String, Value>, as_key: &str) {
    if let Some(v) = from.get(key).filter(|v| !v.is_null()) {
        to.insert(as_key.to_string(), v.clone());
    }
}

/// Converts a v1 collection to v2.1 JSON, with notes of what changed.
pub(crate) fn to_v21(c: &Map<String, Value>, path: &str) -> Result<(Map<String, Value>, Vec<String>), FormatError> {
    let folders = objects(c.get("folders"));
    let requests = objects(c.get("requests"));
    let mut cx = Ctx {
        folders: folders.iter().filter_map(|f| Some((id_of(f)?, *f))).collect(),
        requests: requests.iter().filter_map(|r| Some((id_of(r)?, *r))).collect(),
        used: HashSet::new(),
        notes: vec![format!("{path}: a v1 collection; converted to Collection v2.1")],
        path: path.to_string(),
    };
    let mut info = Map::new();
    move_to(c, "id", &mut info, "_postman_id");
    move_to(c, "name", &mut info, "name");
    move_to(c, "description", &mut info, "description");
    info.insert("schema".into(), Value::String(SCHEMA_V21.into()));
    let mut out = Map::new();
    keep_unknown(c, COLLECTION_KEYS, &mut out);
    out.insert("info".into(), Value::Object(info));
    move_to(c, "auth", &mut out, "auth");
    move_to(c, "events", &mut out, "event");
    move_to(c, "variables", &mut out, "variable");
    move_to(c, "protocolProfileBehavior", &mut out, "protocolProfileBehavior");

    // Root folders: `folders_order`, else those with no parent folder.
    let root_folders = match c.get("folders_order") {
        Some(Value::Array(_)) => ids(c.get("folders_order")),
        _ => {
            let nested: HashSet<String> = folders.iter().flat_map(|f| ids(f.get("folders_order"))).collect();
            folders
                .iter()
                .filter(|f| f.get("folder").is_none_or(Value::is_null))
                .filter_map(|f| id_of(f))
                .filter(|id| !nested.contains(id))
                .collect()
        }
    };
    let root_requests = match c.get("order") {
        Some(Value::Array(_)) => ids(c.get("order")),
        _ => requests.iter().filter(|r| r.get("folder").is_none_or(Value::is_null)).filter_map(|r| id_of(r)).collect(),
    };
    let mut items = children(&mut cx, &root_folders, &root_requests, 0)?;
    // Anything no order list reaches is kept at the top, so nothing is lost.
    let orphans_f: Vec<String> = folders.iter().filter_map(|f| id_of(f)).filter(|id| !cx.used.contains(id)).collect();
    let orphans_r: Vec<String> = requests.iter().filter_map(|r| id_of(r)).filter(|id| !cx.used.contains(id)).collect();
    if !orphans_f.is_empty() || !orphans_r.is_empty() {
        cx.notes.push(format!(
            "{path}: {} folder(s) and {} request(s) were in no order list; added at the top level",
            orphans_f.len(),
            orphans_r.len()
        ));
        items.extend(children(&mut cx, &orphans_f, &orphans_r, 0)?);
    }
    let unnamed = folders.len() + requests.len() - cx.folders.len() - cx.requests.len();
    if unnamed > 0 {
        cx.notes
            .push(format!("{path}: {unnamed} folder(s) or request(s) had no id, or an id used before, and could not be placed; skipped"));
    }
    out.insert("item".into(), Value::Array(items));
    Ok((out, cx.notes))
}

fn children(cx: &mut Ctx, folder_ids: &[String], request_ids: &[String], depth: usize) -> Result<Vec<Value>, FormatError> {
    if depth > MAX_FOLDER_DEPTH {
        return Err(FormatError::TooDeep { path: cx.path.clone(), limit: MAX_FOLDER_DEPTH });
    }
    let mut items = Vec::new();
    for id in folder_ids {
        let Some(f) = cx.folders.get(id).copied() else {
            cx.notes.push(format!("{}: folder order names '{id}', which is no folder; ignored", cx.path));
            continue;
        };
        if !cx.used.insert(id.clone()) {
            cx.notes.push(format!("{}: folder '{id}' is listed twice; kept the first place", cx.path));
            continue;
        }
        let mut item = Map::new();
        keep_unknown(f, FOLDER_KEYS, &mut item);
        move_to(f, "name", &mut item, "name");
        move_to(f, "description", &mut item, "description");
        item.insert("id".into(), Value::String(id.clone()));
        move_to(f, "auth", &mut item, "auth");
        move_to(f, "events", &mut item, "event");
        move_to(f, "variables", &mut item, "variable");
        move_to(f, "protocolProfileBehavior", &mut item, "protocolProfileBehavior");
        let sub = children(cx, &ids(f.get("folders_order")), &ids(f.get("order")), depth + 1)?;
        item.insert("item".into(), Value::Array(sub));
        items.push(Value::Object(item));
    }
    for id in request_ids {
        let Some(r) = cx.requests.get(id).copied() else {
            cx.notes.push(format!("{}: request order names '{id}', which is no request; ignored", cx.path));
            continue;
        };
        if !cx.used.insert(id.clone()) {
            cx.notes.push(format!("{}: request '{id}' is listed twice; kept the first place", cx.path));
            continue;
        }
        items.push(request_item(r, id));
    }
    Ok(items)
}

fn request_item(r: &Map<String, Value>, id: &str) -> Value {
    let mut item = Map::new();
    keep_unknown(r, REQUEST_KEYS, &mut item);
    move_to(r, "name", &mut item, "name");
    item.insert("id".into(), Value::String(id.to_string()));
    move_to(r, "protocolProfileBehavior", &mut item, "protocolProfileBehavior");
    let mut request = request_object(r);
    let events = scripts(r, &mut item);
    if !events.is_empty() {
        item.insert("event".into(), Value::Array(events));
    }
    let responses: Vec<Value> = objects(r.get("responses")).into_iter().map(|resp| response(resp, &request)).collect();
    // Postman's converter keeps a v1 request's description on the request.
    move_to(r, "description", &mut request, "description");
    item.insert("request".into(), Value::Object(request));
    item.insert("response".into(), Value::Array(responses));
    Value::Object(item)
}

/// A v1 request's method, url, headers, body and auth as a v2.1 `request`.
fn request_object(r: &Map<String, Value>) -> Map<String, Value> {
    let mut req = Map::new();
    move_to(r, "method", &mut req, "method");
    if let Some(url) = url(r) {
        req.insert("url".into(), url);
    }
    req.insert("header".into(), Value::Array(headers(r)));
    if let Some(body) = body(r) {
        req.insert("body".into(), body);
    }
    move_to(r, "auth", &mut req, "auth");
    req
}

fn url(r: &Map<String, Value>) -> Option<Value> {
    let raw = r.get("url")?.clone();
    let mut vars: Vec<Value> = objects(r.get("pathVariableData")).into_iter().map(|v| Value::Object(v.clone())).collect();
    if vars.is_empty()
        && let Some(Value::Object(pv)) = r.get("pathVariables")
    {
        vars = pv.iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
    }
    let query: Vec<Value> = objects(r.get("queryParams")).into_iter().map(|q| Value::Object(enabled_to_disabled(q))).collect();
    if vars.is_empty() && query.is_empty() {
        return Some(raw);
    }
    // Postman's SDK (and so newman) reads a URL object's parts, not its
    // `raw`: the object carries the parts the transformer would write.
    let mut url = match raw.as_str() {
        Some(text) => url_parts(text),
        None => Map::new(),
    };
    url.insert("raw".into(), raw);
    if !query.is_empty() {
        url.insert("query".into(), Value::Array(query));
    }
    if !vars.is_empty() {
        url.insert("variable".into(), Value::Array(vars));
    }
    Some(Value::Object(url))
}

/// A URL's `protocol`, `auth`, `host`, `port`, `path`, `query` and `hash`,
/// split as postman-collection-transformer's `url.parse` splits them
/// (separators inside `{{variables}}` do not count; `\` in the path is `/`).
pub(crate) fn url_parts(raw: &str) -> Map<String, Value> {
    let text = raw.trim_start();
    let mut work = text.as_bytes().to_vec();
    // `mask` is `work` with every `{{variable}}` blanked out; separators are looked for in it.
    let mut mask = work.clone();
    let mut i = 0;
    while i + 1 < mask.len() {
        if mask[i] == b'{' && mask[i + 1] == b'{' {
            let end = mask[i + 2..].iter().position(|b| matches!(b, b'{' | b'}')).map(|n| i + 2 + n);
            if let Some(end) = end.filter(|&e| mask[e..].starts_with(b"}}")) {
                mask[i..end + 2].fill(b'_');
                i = end + 2;
                continue;
            }
        }
        i += 1;
    }
    let s = |a: usize, b: usize, w: &[u8]| String::from_utf8_lossy(&w[a..b]).into_owned();
    let split = |a: usize, b: usize, sep: u8, w: &[u8], m: &[u8]| -> Vec<String> {
        let mut out = Vec::new();
        let mut from = a;
        for (k, _) in m.iter().enumerate().take(b).skip(a).filter(|(_, x)| **x == sep) {
            out.push(s(from, k, w));
            from = k + 1;
        }
        out.push(s(from, b, w));
        out
    };
    let find = |a: usize, b: usize, m: &[u8], sep: &[u8]| m[a..b].windows(sep.len()).position(|x| x == sep).map(|n| a + n);
    let rfind = |a: usize, b: usize, m: &[u8], sep: u8| m[a..b].iter().rposition(|&x| x == sep).map(|n| a + n);

    let mut out = Map::new();
    let (mut start, mut end) = (0, work.len());
    if end == 0 {
        return out;
    }
    if let Some(k) = find(start, end, &mask, b"#") {
        out.insert("hash".into(), Value::String(s(k + 1, end, &work)));
        end = k;
    }
    let mut query = None;
    if let Some(k) = find(start, end, &mask, b"?") {
        query = Some(split(k + 1, end, b'&', &work, &mask));
        end = k;
    }
    if let Some(k) = find(start, end, &mask, b"://").or_else(|| find(start, end, &mask, b":\\\\")) {
        out.insert("protocol".into(), Value::String(s(start, k, &work)));
        start = k + 3;
    }
    for k in start..end {
        if mask[k] == b'\\' {
            mask[k] = b'/';
            work[k] = b'/';
        }
    }
    let mut path = None;
    if let Some(k) = find(start, end, &mask, b"/") {
        path = Some(split(k + 1, end, b'/', &work, &mask));
        end = k;
    }
    if let Some(k) = rfind(start, end, &mask, b'@') {
        let mut auth = Map::new();
        match find(start, k, &mask, b":") {
            Some(c) => {
                auth.insert("user".into(), Value::String(s(start, c, &work)));
                auth.insert("password".into(), Value::String(s(c + 1, k, &work)));
            }
            None => {
                auth.insert("user".into(), Value::String(s(start, k, &work)));
            }
        }
        out.insert("auth".into(), Value::Object(auth));
        start = k + 1;
    }
    let mut port = None;
    if let Some(k) = rfind(start, end, &mask, b':').filter(|&k| !work[k + 1..end].contains(&b']')) {
        port = Some(s(k + 1, end, &work));
        end = k;
    }
    if start < end {
        out.insert("host".into(), json!(split(start, end, b'.', &work, &mask)));
    }
    if let Some(port) = port {
        out.insert("port".into(), Value::String(port));
    }
    if let Some(path) = path {
        out.insert("path".into(), json!(path));
    }
    if let Some(query) = query {
        let params: Vec<Value> = query
            .into_iter()
            .map(|p| match p.split_once('=') {
                _ if p.is_empty() => json!({"key": null, "value": null}),
                Some((k, v)) => json!({"key": k, "value": v}),
                None => json!({"key": p, "value": null}),
            })
            .collect();
        out.insert("query".into(), Value::Array(params));
    }
    out
}

/// v1 writes `enabled: true|false`; v2.1 writes `disabled: true` when off.
fn enabled_to_disabled(p: &Map<String, Value>) -> Map<String, Value> {
    let mut out: Map<String, Value> = p.iter().filter(|(k, _)| k.as_str() != "enabled").map(|(k, v)| (k.clone(), v.clone())).collect();
    if p.get("enabled") == Some(&Value::Bool(false)) {
        out.insert("disabled".into(), Value::Bool(true));
    }
    out
}

fn headers(r: &Map<String, Value>) -> Vec<Value> {
    if let Some(Value::Array(data)) = r.get("headerData") {
        return data.iter().filter_map(Value::as_object).map(|h| Value::Object(enabled_to_disabled(h))).collect();
    }
    let text = r.get("headers").and_then(Value::as_str).unwrap_or("");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (disabled, line) = match line.strip_prefix("//") {
                Some(rest) => (true, rest.trim_start()),
                None => (false, line),
            };
            let (key, value) = line.split_once(':').unwrap_or((line, ""));
            let mut h = json!({"key": key.trim(), "value": value.trim()});
            if disabled {
                h["disabled"] = Value::Bool(true);
            }
            h
        })
        .collect()
}

fn body(r: &Map<String, Value>) -> Option<Value> {
    let params = |r: &Map<String, Value>, file_src: bool| -> Value {
        let list = objects(r.get("data"))
            .into_iter()
            .map(|p| {
                let mut p = enabled_to_disabled(p);
                if file_src && p.get("type").and_then(Value::as_str) == Some("file") {
                    let v = p.remove("value").unwrap_or(Value::Null);
                    p.insert("src".into(), v);
                }
                Value::Object(p)
            })
            .collect();
        Value::Array(list)
    };
    let mode = r.get("dataMode").and_then(Value::as_str);
    let raw_text = r.get("rawModeData").filter(|v| v.is_string());
    let mut body = match mode {
        Some("raw") => json!({"mode": "raw", "raw": raw_text.cloned().unwrap_or_else(|| Value::String(String::new()))}),
        Some("urlencoded") => json!({"mode": "urlencoded", "urlencoded": params(r, false)}),
        Some("params") => json!({"mode": "formdata", "formdata": params(r, true)}),
        Some("binary") => json!({"mode": "file", "file": {}}),
        Some("graphql") => json!({"mode": "graphql", "graphql": r.get("graphqlModeData").cloned().unwrap_or(json!({}))}),
        _ if raw_text.and_then(Value::as_str).is_some_and(|s| !s.is_empty()) => json!({"mode": "raw", "raw": raw_text}),
        _ => return None,
    };
    if let Some(options) = r.get("dataOptions").filter(|v| !v.is_null()) {
        body["options"] = options.clone();
    }
    if r.get("dataDisabled") == Some(&Value::Bool(true)) {
        body["disabled"] = Value::Bool(true);
    }
    Some(body)
}

/// `events` when present; else the `preRequestScript` and `tests` texts.
/// A script text that `events` does not already hold is kept on the item.
fn scripts(r: &Map<String, Value>, item: &mut Map<String, Value>) -> Vec<Value> {
    let texts = [("preRequestScript", "prerequest"), ("tests", "test")];
    if let Some(Value::Array(events)) = r.get("events")
        && !events.is_empty()
    {
        for (key, listen) in texts {
            let Some(text) = r.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) else { continue };
            let held = events.iter().any(|e| {
                e.get("listen").and_then(Value::as_str) == Some(listen)
                    && e.pointer("/script/exec")
                        .and_then(Value::as_array)
                        .is_some_and(|lines| lines.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n") == text)
            });
            if !held {
                item.insert(key.to_string(), Value::String(text.to_string()));
            }
        }
        return events.clone();
    }
    let mut out = Vec::new();
    for (key, listen) in texts {
        if let Some(text) = r.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
            let exec: Vec<&str> = text.split('\n').collect();
            out.push(json!({"listen": listen, "script": {"type": "text/javascript", "exec": exec}}));
        }
    }
    out
}

fn response(resp: &Map<String, Value>, parent_request: &Map<String, Value>) -> Value {
    const CONSUMED: &[&str] = &["id", "name", "status", "responseCode", "headers", "cookies", "text", "language", "time", "request"];
    let mut out = Map::new();
    keep_unknown(resp, CONSUMED, &mut out);
    move_to(resp, "id", &mut out, "id");
    move_to(resp, "name", &mut out, "name");
    let code = resp.get("responseCode");
    match code.and_then(|c| c.get("name")).or_else(|| resp.get("status")) {
        Some(s) if !s.is_null() => {
            out.insert("status".into(), s.clone());
        }
        _ => {}
    }
    if let Some(c) = code.and_then(|c| c.get("code")) {
        out.insert("code".into(), c.clone());
    }
    move_to(resp, "headers", &mut out, "header");
    move_to(resp, "cookies", &mut out, "cookie");
    move_to(resp, "text", &mut out, "body");
    move_to(resp, "language", &mut out, "_postman_previewlanguage");
    move_to(resp, "time", &mut out, "responseTime");
    let original = match resp.get("request") {
        Some(Value::Object(r)) => Value::Object(request_object(r)),
        Some(v) if !v.is_null() && !v.is_string() => {
            out.insert("request".into(), v.clone());
            Value::Object(parent_request.clone())
        }
        _ => Value::Object(parent_request.clone()),
    };
    out.insert("originalRequest".into(), original);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_url(url: &str, vars: Value) -> Value {
        let r = json!({"url": url, "pathVariables": vars});
        super::url(r.as_object().unwrap()).unwrap()
    }

    /// Postman's SDK ignores `raw` in a URL object, so the parts must be there:
    /// as postman-collection-transformer writes them for the same v1 request.
    #[test]
    fn url_objects_carry_postmans_parts() {
        assert_eq!(
            v1_url("https://petstore.swagger.io/v2/pet/:petId", json!({"petId": "{{petId}}"})),
            json!({"raw": "https://petstore.swagger.io/v2/pet/:petId", "protocol": "https", "host": ["petstore", "swagger", "io"],
                   "path": ["v2", "pet", ":petId"], "variable": [{"key": "petId", "value": "{{petId}}"}]})
        );
        assert_eq!(
            v1_url(" {{base.url}}:8080/a\\:id?x=1&y&=z&#top", json!({"id": "7"})),
            json!({"raw": " {{base.url}}:8080/a\\:id?x=1&y&=z&#top", "host": ["{{base.url}}"], "port": "8080", "path": ["a", ":id"],
                   "query": [{"key": "x", "value": "1"}, {"key": "y", "value": null}, {"key": "", "value": "z"}, {"key": null, "value": null}],
                   "hash": "top", "variable": [{"key": "id", "value": "7"}]})
        );
        assert_eq!(
            v1_url("http://u:p:w@{{h/x}}/:a", json!({"a": "1"})),
            json!({"raw": "http://u:p:w@{{h/x}}/:a", "protocol": "http", "auth": {"user": "u", "password": "p:w"}, "host": ["{{h/x}}"],
                   "path": [":a"], "variable": [{"key": "a", "value": "1"}]})
        );
        // v1 query params stay the query; a string URL stays a string.
        let r = json!({"url": "http://a/b?q=1", "queryParams": [{"key": "q", "value": "1", "enabled": false}]});
        assert_eq!(super::url(r.as_object().unwrap()).unwrap()["query"], json!([{"key": "q", "value": "1", "disabled": true}]));
        assert_eq!(v1_url("http://a/b", json!({})), json!("http://a/b"));
    }
}
