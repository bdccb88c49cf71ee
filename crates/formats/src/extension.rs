//! The data dump's `_apisync` key: the documents Postman's dump has no place
//! for (workspaces, collection run results, history), so that a full backup
//! keeps every kind. Postman ignores top-level keys it does not know; apisync
//! reads this one back.
//!
//! ```json
//! "_apisync": {
//!   "version": 1,
//!   "workspaces": [{"id": "…", "name": "My Workspace"}],
//!   "runs": [{"id": "0191…", "name": "Orders", "stats": {…}, "results": […]}],
//!   "history": [{"id": "…", "method": "GET", "url": "https://…", "run_id": "0191…"}]
//! }
//! ```
//!
//! Each entry is one document: its fields as apisync stores them, plus `id`,
//! the id it had when exported. References between documents
//! (`run_id`, `collection_id`, `request_id`, `environment_id`) name a
//! document by the id the file gives it (`id` here, the Postman id of a
//! collection, request or environment elsewhere in the dump), and import
//! points them at the new documents. Reading is strict: anything malformed
//! fails the whole import, naming the place, because skipping an entry would
//! lose it without a word.

use crate::FormatError;
use crate::build::{Builder, type_name};
use crate::export::{postman_id, top_level};
use model::{Document, Fields, Id, Kind};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The data dump's top-level key that holds apisync's own documents.
pub const EXTENSION_KEY: &str = "_apisync";

/// The layout of [`EXTENSION_KEY`] this apisync writes and reads.
pub const EXTENSION_VERSION: u64 = 1;

/// Fields that name another document by id: rewritten so that they still
/// name it after import mints new ids.
const REFERENCES: [&str; 4] = ["collection_id", "environment_id", "request_id", "run_id"];

/// Where the documents of a kind go in a data dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Where Postman keeps them: collections, environments, header presets, globals.
    Postman,
    /// In [`EXTENSION_KEY`], under this section.
    Extension(&'static str),
}

/// Where `kind` goes. A match without a catch-all arm, so a new kind does
/// not compile until somebody decides where backups keep it.
pub(crate) fn place(kind: Kind) -> Place {
    match kind {
        Kind::Collection
        | Kind::Folder
        | Kind::Request
        | Kind::Response
        | Kind::HeaderPreset
        | Kind::Environment
        | Kind::Variable
        | Kind::Global => Place::Postman,
        Kind::Workspace => Place::Extension("workspaces"),
        Kind::Run => Place::Extension("runs"),
        Kind::History => Place::Extension("history"),
    }
}

/// The extension's sections and their kinds, in [`Kind::ALL`] order: runs
/// come before the history entries that name them.
fn sections() -> impl Iterator<Item = (&'static str, Kind)> {
    Kind::ALL.iter().copied().filter_map(|k| match place(k) {
        Place::Extension(name) => Some((name, k)),
        Place::Postman => None,
    })
}

fn section_names() -> String {
    sections().map(|(name, _)| name).collect::<Vec<_>>().join(", ")
}

/// The `_apisync` object for the live documents of the extension's kinds
/// (`None` when there are none, so a dump with nothing outside Postman's
/// format is exactly Postman's), and the documents it holds.
///
/// `file_ids` maps the id of every document written elsewhere in the dump
/// to the id the file gives it, so references can be rewritten to match.
pub(crate) fn export<'a>(docs: &'a [Document], file_ids: &HashMap<Id, String>) -> (Option<Value>, Vec<&'a Document>) {
    let mut out = Map::new();
    let mut written = Vec::new();
    for (name, kind) in sections() {
        let list = top_level(docs, kind);
        if list.is_empty() {
            continue;
        }
        let entries = list.iter().map(|d| entry(d, file_ids)).collect();
        out.insert(name.to_string(), Value::Array(entries));
        written.extend(list);
    }
    if out.is_empty() {
        return (None, written);
    }
    out.insert("version".into(), Value::from(EXTENSION_VERSION));
    (Some(Value::Object(out)), written)
}

fn entry(doc: &Document, file_ids: &HashMap<Id, String>) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(doc.id.to_string()));
    for (k, v) in &doc.fields {
        let target = REFERENCES.contains(&k.as_str()).then(|| v.as_str().and_then(|s| s.parse::<Id>().ok())).flatten();
        match target.and_then(|id| file_ids.get(&id)) {
            Some(file_id) => out.insert(k.clone(), Value::String(file_id.clone())),
            None => out.insert(k.clone(), v.clone()),
        };
    }
    Value::Object(out)
}

/// The id each document written in Postman's sections has in the file
/// (its Postman id, which export writes as `_postman_id` or `id`).
/// Variables and globals are written without one, so nothing can name them.
/// An id two documents share (a collection imported twice) names neither:
/// import renames the second, so a reference by it could land on the wrong
/// copy; such references keep the apisync id they had, naming nothing.
pub(crate) fn file_ids<'a>(written: impl IntoIterator<Item = &'a Document>) -> HashMap<Id, String> {
    let all: Vec<(Id, String)> = written
        .into_iter()
        .filter(|d| !d.kind.is_variable())
        .filter_map(|d| postman_id(d).as_str().map(|s| (d.id, s.to_string())))
        .collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for (_, file_id) in &all {
        *uses.entry(file_id.as_str()).or_default() += 1;
    }
    let shared: HashSet<String> = uses.into_iter().filter(|(_, n)| *n > 1).map(|(f, _)| f.to_string()).collect();
    all.into_iter().filter(|(_, file_id)| !shared.contains(file_id)).collect()
}

/// A document read from the extension: where it was built, and the id the
/// file gave it.
pub(crate) struct Imported {
    index: usize,
    file_id: Option<String>,
    path: String,
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> FormatError {
    FormatError::Invalid { path: path.into(), message: message.into() }
}

/// Reads the `_apisync` object (all of it is checked; anything malformed is
/// an error naming the place) and builds its documents.
pub(crate) fn import(b: &mut Builder, value: &Value) -> Result<Vec<Imported>, FormatError> {
    let Value::Object(ext) = value else {
        return Err(invalid(
            EXTENSION_KEY,
            format!(
                "is {}, not an object; it holds apisync's run results, history and workspaces \
                 (see docs/FORMATS.md): fix it, or remove it to import the rest",
                type_name(value)
            ),
        ));
    };
    match ext.get("version") {
        Some(v) if v.as_u64() == Some(EXTENSION_VERSION) => {}
        Some(v) if v.as_u64().is_some_and(|n| n > EXTENSION_VERSION) => {
            return Err(invalid(
                EXTENSION_KEY,
                format!(
                    "version {v} was written by a newer apisync (this one reads version {EXTENSION_VERSION}); upgrade apisync to import it"
                ),
            ));
        }
        Some(v) => return Err(invalid(format!("{EXTENSION_KEY}.version"), format!("is {v}; it must be {EXTENSION_VERSION}"))),
        None => return Err(invalid(EXTENSION_KEY, format!("has no 'version'; a file apisync wrote has \"version\": {EXTENSION_VERSION}"))),
    }
    let known: Vec<&str> = sections().map(|(name, _)| name).collect();
    if let Some(key) = ext.keys().find(|k| *k != "version" && !known.contains(&k.as_str())) {
        return Err(invalid(EXTENSION_KEY, format!("has an unknown section '{key}'; its sections are: version, {}", section_names())));
    }
    let mut imported = Vec::new();
    let mut seen = HashSet::new();
    for (name, kind) in sections() {
        let list = match ext.get(name) {
            None => continue,
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(invalid(format!("{EXTENSION_KEY}.{name}"), format!("is {}, not a list of {kind} documents", type_name(other))));
            }
        };
        let mut indices = Vec::with_capacity(list.len());
        for (n, e) in list.iter().enumerate() {
            let path = format!("{EXTENSION_KEY}.{name}[{n}]");
            let one = document(b, kind, e, &path, &mut seen)?;
            indices.push(one.index);
            imported.push(one);
        }
        b.order(&indices)?;
    }
    Ok(imported)
}

fn document(b: &mut Builder, kind: Kind, e: &Value, path: &str, seen: &mut HashSet<String>) -> Result<Imported, FormatError> {
    let Value::Object(e) = e else {
        return Err(invalid(path, format!("is {}, not a {kind} document (an object of its fields)", type_name(e))));
    };
    let file_id = match e.get("id") {
        None => None,
        Some(Value::String(s)) if seen.insert(s.clone()) => Some(s.clone()),
        Some(Value::String(s)) => {
            return Err(invalid(path, format!("id '{s}' is used twice in {EXTENSION_KEY}; each document needs its own")));
        }
        Some(other) => return Err(invalid(format!("{path}.id"), format!("is {}, not a string", type_name(other)))),
    };
    let mut d = b.draft(kind, None, path.to_string());
    for (k, v) in e.iter().filter(|(k, _)| *k != "id") {
        d.put(k, v.clone());
    }
    // Strict on purpose: `finish` checks every field against the schema and
    // fails naming the unknown field or wrong type, instead of keeping it
    // aside as the lenient Postman readers do; this key is apisync's own.
    let index = b.finish(d)?;
    if kind == Kind::Workspace {
        // The client writes no workspace document on import (the target
        // workspace keeps its own), so say what became of it.
        let name = b.documents()[index].title().to_string();
        b.note(
            path,
            format!(
                "the file records workspace '{name}'; its documents are imported into the workspace you chose, which keeps its own name"
            ),
        );
    }
    Ok(Imported { index, file_id, path: path.to_string() })
}

/// Points the references of the extension's documents at the documents
/// this import built: a reference naming an entry's `id`, or the Postman id
/// of a document elsewhere in the dump, becomes that document's new id.
/// A reference naming nothing in the file is kept as it is.
pub(crate) fn resolve_references(b: &mut Builder, imported: &[Imported]) -> Result<(), FormatError> {
    let mut new_ids: HashMap<String, String> = HashMap::new();
    for one in imported {
        if let Some(file_id) = &one.file_id {
            new_ids.insert(file_id.clone(), b.documents()[one.index].id.to_string());
        }
    }
    for d in b.documents() {
        if let Some(Value::String(pid)) = d.fields.get("postman_id") {
            // First come wins, as on import where a repeated Postman id is renamed.
            new_ids.entry(pid.clone()).or_insert_with(|| d.id.to_string());
        }
    }
    for one in imported {
        let fields: &Fields = &b.documents()[one.index].fields;
        let changes: Vec<(&str, String)> = REFERENCES
            .iter()
            .filter_map(|r| fields.get(*r).and_then(Value::as_str).and_then(|s| new_ids.get(s)).map(|new| (*r, new.clone())))
            .collect();
        for (name, new) in changes {
            b.replace_field(one.index, name, Value::String(new), &one.path)?;
        }
    }
    Ok(())
}
