//! The Postman data dump (Settings → Data → Export data): every collection,
//! environment, header preset and global of an account, in one file.

use crate::build::{Builder, KEYS, type_name};
use crate::export::{Tree, collection_value, environment_value, globals_list, header_preset_value, top_level};
use crate::{FormatError, environment};
use model::{Document, Kind};
use serde_json::{Map, Value, json};

/// Imports a data dump: collections (v1 or v2), environments, header presets and globals.
pub(crate) fn import_dump(b: &mut Builder, dump: &Map<String, Value>) -> Result<(), FormatError> {
    match dump.get("version") {
        Some(v) if v == &json!(1) => {}
        other => b.note("", format!("dump version {} is not 1; read as version 1", other.map_or("none".into(), Value::to_string))),
    }
    let mut tops = Vec::new();
    for (n, c) in list(b, dump, "collections").iter().enumerate() {
        let path = format!("collections[{n}]");
        let Value::Object(c) = c else {
            b.note(&path, format!("is {}, not a collection; skipped", type_name(c)));
            continue;
        };
        tops.push(crate::import_any_collection(b, c, &path)?);
    }
    b.order(&tops)?;
    let mut envs = Vec::new();
    for (n, e) in list(b, dump, "environments").iter().enumerate() {
        let path = format!("environments[{n}]");
        match e {
            Value::Object(e) => envs.push(environment::import_environment(b, e, &path)?),
            other => b.note(&path, format!("is {}, not an environment; skipped", type_name(other))),
        }
    }
    b.order(&envs)?;
    let mut presets = Vec::new();
    for (n, p) in list(b, dump, "headerPresets").iter().enumerate() {
        let path = format!("headerPresets[{n}]");
        match p {
            Value::Object(p) => presets.push(header_preset(b, p, &path)?),
            other => b.note(&path, format!("is {}, not a header preset; skipped", type_name(other))),
        }
    }
    b.order(&presets)?;
    if let Some(globals) = dump.get("globals").filter(|g| !g.is_null()) {
        environment::import_globals(b, globals, "globals")?;
    }
    for key in dump.keys().filter(|k| !["version", "collections", "environments", "headerPresets", "globals"].contains(&k.as_str())) {
        b.note("", format!("the dump's key '{key}' is not kept: apisync has no place for it"));
    }
    Ok(())
}

fn list(b: &mut Builder, dump: &Map<String, Value>, key: &str) -> Vec<Value> {
    match dump.get(key) {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            b.note(key, format!("is {}, not a list; read as empty", type_name(other)));
            Vec::new()
        }
    }
}

fn header_preset(b: &mut Builder, p: &Map<String, Value>, path: &str) -> Result<usize, FormatError> {
    let path = crate::build::child_path(path, p.get("name"), "header preset");
    let mut d = b.draft(Kind::HeaderPreset, None, path);
    b.set_required(&mut d, "name", p.get("name"), "Imported header preset");
    for (k, v) in p {
        match k.as_str() {
            "name" => {}
            "id" => b.set_postman_id(&mut d, v),
            "headers" => b.set(&mut d, k, v),
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    b.finish(d)
}

/// Writes a whole workspace as a Postman data dump: version 1, its live
/// collections (as v2.1), environments, header presets and globals.
pub fn export_dump(docs: &[Document]) -> Value {
    let tree = Tree::new(docs);
    let collections: Vec<Value> = top_level(docs, Kind::Collection).into_iter().map(|c| collection_value(c, &tree)).collect();
    let environments: Vec<Value> = top_level(docs, Kind::Environment).into_iter().map(|e| environment_value(e, &tree)).collect();
    let presets: Vec<Value> = top_level(docs, Kind::HeaderPreset).into_iter().map(header_preset_value).collect();
    json!({
        "version": 1,
        "collections": collections,
        "environments": environments,
        "headerPresets": presets,
        "globals": globals_list(docs),
    })
}
