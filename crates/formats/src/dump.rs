//! The Postman data dump (Settings → Data → Export data): every collection,
//! environment, header preset and global of an account, in one file; and,
//! under [`EXTENSION_KEY`], apisync's documents of the kinds Postman's dump
//! has no place for.

use crate::build::{Builder, KEYS, type_name};
use crate::export::{Tree, collection_value, environment_value, header_preset_value, top_level, variable_value};
use crate::extension::{self, EXTENSION_KEY};
use crate::{FormatError, environment};
use model::{Document, Id, Kind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};

/// Imports a data dump: collections (v1 or v2), environments, header
/// presets, globals, and what [`EXTENSION_KEY`] holds.
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
    if let Some(ext) = dump.get(EXTENSION_KEY) {
        let imported = extension::import(b, ext)?;
        extension::resolve_references(b, &imported)?;
    }
    let known = ["version", "collections", "environments", "headerPresets", "globals", EXTENSION_KEY];
    for key in dump.keys().filter(|k| !known.contains(&k.as_str())) {
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

/// A data dump and an account of what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Dump {
    /// The file's JSON.
    pub value: Value,
    /// How many documents of each kind the file holds.
    pub written: BTreeMap<Kind, usize>,
    /// Live documents the file does not hold: their parent is deleted, not
    /// among the documents given, or of a kind that cannot hold them.
    pub left_out: Vec<Id>,
}

/// Writes documents as a Postman data dump: version 1, the live
/// collections (as v2.1), environments, header presets and globals where
/// Postman keeps them, and every live document of the other kinds
/// (workspaces, run results, history) under [`EXTENSION_KEY`], which Postman
/// ignores and [`crate::import`] reads back.
pub fn export_dump(docs: &[Document]) -> Dump {
    let tree = Tree::new(docs);
    let (collections, environments, presets) =
        (top_level(docs, Kind::Collection), top_level(docs, Kind::Environment), top_level(docs, Kind::HeaderPreset));
    let globals = top_level(docs, Kind::Global);
    let mut value = json!({
        "version": 1,
        "collections": collections.iter().map(|c| collection_value(c, &tree)).collect::<Vec<_>>(),
        "environments": environments.iter().map(|e| environment_value(e, &tree)).collect::<Vec<_>>(),
        "headerPresets": presets.iter().map(|p| header_preset_value(p)).collect::<Vec<_>>(),
        "globals": globals.iter().map(|g| variable_value(g)).collect::<Vec<_>>(),
    });
    let mut written: Vec<&Document> = collections.into_iter().chain(environments).chain(presets).chain(globals).collect();
    written.extend(tree.into_handed_out());
    let (ext, in_ext) = extension::export(docs, &extension::file_ids(written.iter().copied()));
    if let (Some(ext), Value::Object(out)) = (ext, &mut value) {
        out.insert(EXTENSION_KEY.into(), ext);
    }
    written.extend(in_ext);
    let mut held = HashSet::new();
    let mut counts = BTreeMap::new();
    for d in written.iter().filter(|d| held.insert(d.id)) {
        *counts.entry(d.kind).or_default() += 1;
    }
    let left_out = docs.iter().filter(|d| !d.deleted && !held.contains(&d.id)).map(|d| d.id).collect();
    Dump { value, written: counts, left_out }
}
