//! Collection Format v2 (v2.0 and v2.1) to documents.
//!
//! Everything is read as v2.1: a v2.0 or unversioned collection is first
//! brought to v2.1 shape ([`normalise_v2`]), then imported exactly, so that
//! export writes a v2.1 collection that imports to the same documents.

use crate::build::{Builder, INFO, KEYS, REQUEST, SHAPE, child_path};
use crate::{FormatError, MAX_FOLDER_DEPTH, SCHEMA_V21};
use model::{Id, Kind};
use serde_json::{Map, Value, json};

/// Brings a v2.0 or unversioned v2 collection to v2.1 shape, in place:
/// auth parameters written as maps become v2.1 lists, `info` is added when
/// missing, and `info.schema` names v2.1.
pub(crate) fn normalise_v2(root: &mut Map<String, Value>, path: &str, notes: &mut Vec<String>) {
    if !root.get("info").is_some_and(Value::is_object) {
        let mut info = Map::new();
        if let Some(old) = root.remove("info") {
            notes.push(format!("{path}: 'info' was {}, not an object; replaced", crate::build::type_name(&old)));
        }
        for key in ["name", "description"] {
            if let Some(v) = root.remove(key) {
                info.insert(key.into(), v);
            }
        }
        if let Some(Value::String(id)) = root.get("id") {
            info.insert("_postman_id".into(), Value::String(id.clone()));
            root.remove("id");
        }
        notes.push(format!("{path}: the collection had no 'info'; its name and id were moved into one"));
        root.insert("info".into(), Value::Object(info));
    }
    let mut converted = 0;
    convert_auth(root.get_mut("auth"), &mut converted);
    if let Some(Value::Array(items)) = root.get_mut("item") {
        items.iter_mut().for_each(|i| convert_item_auth(i, &mut converted, 0));
    }
    if converted > 0 {
        notes.push(format!("{path}: {converted} auth block(s) written as v2.0 maps were converted to v2.1 lists"));
    }
    if let Some(Value::Object(info)) = root.get_mut("info") {
        let old = info.insert("schema".into(), Value::String(SCHEMA_V21.into()));
        let old = old.as_ref().and_then(Value::as_str).unwrap_or("none");
        notes.push(format!("{path}: schema '{old}' read as Collection v2.1; export writes v2.1"));
    }
}

fn convert_item_auth(item: &mut Value, converted: &mut usize, depth: usize) {
    if depth > MAX_FOLDER_DEPTH {
        return; // import reports the depth error
    }
    let Value::Object(item) = item else { return };
    convert_auth(item.get_mut("auth"), converted);
    if let Some(Value::Object(req)) = item.get_mut("request") {
        convert_auth(req.get_mut("auth"), converted);
    }
    if let Some(Value::Array(responses)) = item.get_mut("response") {
        for r in responses {
            if let Some(Value::Object(req)) = r.get_mut("originalRequest") {
                convert_auth(req.get_mut("auth"), converted);
            }
        }
    }
    if let Some(Value::Array(items)) = item.get_mut("item") {
        items.iter_mut().for_each(|i| convert_item_auth(i, converted, depth + 1));
    }
}

/// v2.0 auth: `{type, basic: {username: …}}`; v2.1: `{type, basic: [{key, value, type}]}`.
fn convert_auth(auth: Option<&mut Value>, converted: &mut usize) {
    let Some(Value::Object(auth)) = auth else { return };
    let mut changed = false;
    for (name, params) in auth.iter_mut() {
        if name == "type" {
            continue;
        }
        if let Value::Object(map) = params {
            let list = map
                .iter()
                .map(|(k, v)| {
                    let ty = match v {
                        Value::String(_) => "string",
                        Value::Bool(_) => "boolean",
                        Value::Number(_) => "number",
                        _ => "any",
                    };
                    json!({"key": k, "value": v, "type": ty})
                })
                .collect();
            *params = Value::Array(list);
            changed = true;
        }
    }
    if changed {
        *converted += 1;
    }
}

/// Imports a v2.1-shaped collection; returns the index of its document.
pub(crate) fn import_v21(b: &mut Builder, root: &Map<String, Value>, path: &str) -> Result<usize, FormatError> {
    let empty = Map::new();
    let info = root.get("info").and_then(Value::as_object).unwrap_or(&empty);
    let path = child_path(path, info.get("name"), "collection");
    let mut d = b.draft(Kind::Collection, None, path.clone());
    b.set_required(&mut d, "name", info.get("name"), "Untitled collection");
    for (k, v) in info {
        match k.as_str() {
            "name" => {}
            "description" | "schema" | "version" => b.set(&mut d, k, v),
            "_postman_id" => b.set_postman_id(&mut d, v),
            _ => d.keep(INFO, k, v.clone()),
        }
    }
    for (k, v) in root {
        match k.as_str() {
            "info" | "item" => {}
            "auth" | "event" | "variable" | "protocolProfileBehavior" => b.set(&mut d, k, v),
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    let id = d.id;
    let index = b.finish(d)?;
    items(b, root.get("item"), id, &path, 0)?;
    Ok(index)
}

fn items(b: &mut Builder, list: Option<&Value>, parent: Id, path: &str, depth: usize) -> Result<(), FormatError> {
    let list = match list {
        None => return Ok(()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            b.note(path, format!("'item' is {}, not a list; read as no items", crate::build::type_name(other)));
            return Ok(());
        }
    };
    if depth > MAX_FOLDER_DEPTH {
        return Err(FormatError::TooDeep { path: path.to_string(), limit: MAX_FOLDER_DEPTH });
    }
    let mut indices = Vec::with_capacity(list.len());
    for (n, item) in list.iter().enumerate() {
        let Value::Object(item) = item else {
            b.note(path, format!("item {} is {}, not an object; skipped", n + 1, crate::build::type_name(item)));
            continue;
        };
        indices.push(if item.contains_key("item") {
            folder(b, item, parent, path, depth)?
        } else {
            request(b, item, parent, path, depth)?
        });
    }
    b.order(&indices)
}

/// Sets `postman_id` from `id` or `_postman_id`, remembering which key it came from.
fn item_id(b: &mut Builder, d: &mut crate::build::Draft, item: &Map<String, Value>) {
    if let Some(id) = item.get("id") {
        b.set_postman_id(d, id);
        if let Some(other) = item.get("_postman_id") {
            d.keep(KEYS, "_postman_id", other.clone());
        }
    } else if let Some(id) = item.get("_postman_id") {
        b.set_postman_id(d, id);
        d.keep(SHAPE, "id_key", Value::String("_postman_id".into()));
    }
}

fn folder(b: &mut Builder, item: &Map<String, Value>, parent: Id, path: &str, depth: usize) -> Result<usize, FormatError> {
    let path = child_path(path, item.get("name"), "folder");
    let mut d = b.draft(Kind::Folder, Some(parent), path.clone());
    b.set_required(&mut d, "name", item.get("name"), "Untitled folder");
    item_id(b, &mut d, item);
    for (k, v) in item {
        match k.as_str() {
            "name" | "id" | "_postman_id" | "item" => {}
            "description" | "auth" | "event" | "variable" | "protocolProfileBehavior" => b.set(&mut d, k, v),
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    let id = d.id;
    let index = b.finish(d)?;
    items(b, item.get("item"), id, &path, depth + 1)?;
    Ok(index)
}

fn request(b: &mut Builder, item: &Map<String, Value>, parent: Id, path: &str, depth: usize) -> Result<usize, FormatError> {
    let path = child_path(path, item.get("name"), "request");
    let mut d = b.draft(Kind::Request, Some(parent), path.clone());
    let url = item.get("request").map(|r| r.get("url").unwrap_or(r));
    let url = url.and_then(|u| u.as_str().or_else(|| u.get("raw").and_then(Value::as_str))).filter(|u| !u.is_empty());
    b.set_required(&mut d, "name", item.get("name"), url.unwrap_or("Untitled request"));
    item_id(b, &mut d, item);
    for (k, v) in item {
        match k.as_str() {
            "name" | "id" | "_postman_id" | "response" => {}
            "description" | "event" | "variable" | "protocolProfileBehavior" => b.set(&mut d, k, v),
            "request" => match v {
                Value::Object(req) => {
                    for (rk, rv) in req {
                        match rk.as_str() {
                            "header" => {
                                lint_headers(b, &d.path, rv);
                                b.set(&mut d, rk, rv)
                            }
                            "method" | "url" | "body" | "auth" => b.set(&mut d, rk, rv),
                            _ => d.keep(REQUEST, rk, rv.clone()),
                        }
                    }
                }
                Value::String(url) => {
                    d.put("url", Value::String(url.clone()));
                    d.keep(SHAPE, "request", Value::String("string".into()));
                }
                other => {
                    d.keep(KEYS, k, other.clone());
                    d.keep(SHAPE, "request", Value::String("absent".into()));
                }
            },
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    if !item.contains_key("request") {
        d.keep(SHAPE, "request", Value::String("absent".into()));
    }
    match item.get("response") {
        Some(Value::Array(_)) => {}
        None => d.keep(SHAPE, "response", Value::String("absent".into())),
        Some(other) => {
            d.keep(KEYS, "response", other.clone());
            d.keep(SHAPE, "response", Value::String("absent".into()));
        }
    }
    let id = d.id;
    let index = b.finish(d)?;
    if let Some(Value::Array(responses)) = item.get("response") {
        let _ = depth;
        let mut indices = Vec::with_capacity(responses.len());
        for (n, r) in responses.iter().enumerate() {
            match r {
                Value::Object(r) => indices.push(response(b, r, id, &path)?),
                other => b.note(&path, format!("example response {} is {}, not an object; skipped", n + 1, crate::build::type_name(other))),
            }
        }
        b.order(&indices)?;
    }
    Ok(index)
}

fn response(b: &mut Builder, r: &Map<String, Value>, parent: Id, path: &str) -> Result<usize, FormatError> {
    let path = child_path(path, r.get("name"), "response");
    let mut d = b.draft(Kind::Response, Some(parent), path);
    let default = match (r.get("code").and_then(Value::as_u64), r.get("status").and_then(Value::as_str).filter(|s| !s.is_empty())) {
        (Some(code), Some(status)) if !status.starts_with(&code.to_string()) => format!("{code} {status}"),
        (_, Some(status)) => status.to_string(),
        (Some(code), None) => code.to_string(),
        _ => "Example".to_string(),
    };
    b.set_required(&mut d, "name", r.get("name"), &default);
    for (k, v) in r {
        match k.as_str() {
            "name" => {}
            "id" => b.set_postman_id(&mut d, v),
            "header" => {
                lint_headers(b, &d.path, v);
                b.set(&mut d, k, v)
            }
            "originalRequest" | "status" | "code" | "cookie" | "body" | "_postman_previewlanguage" | "responseTime" | "timings" => {
                b.set(&mut d, k, v)
            }
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    b.finish(d)
}

/// Notes header entries Postman skips (empty objects, entries without a
/// key); they are kept as they are so export writes them back.
fn lint_headers(b: &mut Builder, path: &str, headers: &Value) {
    let Value::Array(list) = headers else { return };
    let skipped = list.iter().filter(|h| h.get("key").is_none_or(|k| !k.is_string())).count();
    if skipped > 0 {
        let entries = if skipped == 1 { "1 header entry" } else { "header entries" };
        let entries = if skipped == 1 { entries.to_string() } else { format!("{skipped} {entries}") };
        b.note(path, format!("{entries} without a key (such as {{}}): Postman skips them when sending; apisync keeps them as-is"));
    }
}
