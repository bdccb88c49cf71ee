//! Documents back to Postman JSON: Collection v2.1, environments, globals.
//!
//! Each document writes its fields where Postman keeps them, then what
//! import kept in `extra` (unknown keys, values of types the schema does not
//! admit, the original shape), so an unedited import exports unchanged.

use crate::build::{INFO, KEYS, REQUEST, SHAPE, SYNTHESIZED, VERBATIM};
use crate::{FormatError, SCHEMA_V21};
use model::{Document, Id, Kind};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;

/// Live (non-deleted) children of each document, in sibling order.
pub(crate) struct Tree<'a> {
    children: HashMap<Id, Vec<&'a Document>>,
    /// Every child handed out so far. Each one handed out is written, so
    /// the data dump counts what its file holds from this, not from what
    /// it was given.
    handed_out: RefCell<Vec<&'a Document>>,
}

impl<'a> Tree<'a> {
    pub(crate) fn new(docs: &'a [Document]) -> Self {
        let mut children: HashMap<Id, Vec<&Document>> = HashMap::new();
        for d in docs.iter().filter(|d| !d.deleted) {
            if let Some(p) = d.parent_id {
                children.entry(p).or_default().push(d);
            }
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
        }
        Tree { children, handed_out: RefCell::new(Vec::new()) }
    }

    /// The live children of `id` of the given kinds, in sibling order.
    pub(crate) fn children(&self, id: Id, kinds: &'static [Kind]) -> impl Iterator<Item = &'a Document> + '_ {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |d| kinds.contains(&d.kind))
            .inspect(|d| self.handed_out.borrow_mut().push(d))
    }

    /// Every child [`Tree::children`] has handed out, in that order.
    pub(crate) fn into_handed_out(self) -> Vec<&'a Document> {
        self.handed_out.into_inner()
    }
}

/// Top-level documents of `kind`, live, in sibling order.
pub(crate) fn top_level(docs: &[Document], kind: Kind) -> Vec<&Document> {
    let mut list: Vec<&Document> = docs.iter().filter(|d| d.kind == kind && !d.deleted).collect();
    list.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
    list
}

fn section<'d>(doc: &'d Document, name: &str) -> Option<&'d Map<String, Value>> {
    doc.fields.get("extra")?.get(name)?.as_object()
}

fn section_clone(doc: &Document, name: &str) -> Map<String, Value> {
    section(doc, name).cloned().unwrap_or_default()
}

fn shape<'d>(doc: &'d Document, name: &str) -> Option<&'d str> {
    section(doc, SHAPE)?.get(name)?.as_str()
}

/// A field as Postman should see it: the document's value, unless it is one
/// import made up (then the original, if any); else a value kept verbatim.
fn field(doc: &Document, name: &str) -> Option<Value> {
    if let Some(v) = doc.fields.get(name) {
        let made_up = section(doc, SYNTHESIZED).and_then(|s| s.get(name)) == Some(v);
        if !made_up {
            return Some(v.clone());
        }
    }
    section(doc, VERBATIM).and_then(|s| s.get(name)).cloned()
}

fn copy(out: &mut Map<String, Value>, doc: &Document, names: &[&str]) {
    for name in names {
        if let Some(v) = field(doc, name) {
            out.insert((*name).to_string(), v);
        }
    }
}

pub(crate) fn postman_id(doc: &Document) -> Value {
    field(doc, "postman_id").unwrap_or_else(|| Value::String(doc.id.to_string()))
}

fn expect(doc: &Document, kind: Kind) -> Result<(), FormatError> {
    if doc.kind == kind { Ok(()) } else { Err(FormatError::WrongKind { id: doc.id.to_string(), expected: kind, got: doc.kind }) }
}

/// Writes a collection and its live folders, requests and example responses
/// as a Postman Collection v2.1.0 (`docs` is every document of the
/// workspace; children are found by `parent_id` and sorted by
/// [`Document::sibling_order`]; deleted documents are skipped).
pub fn export_collection(collection: &Document, docs: &[Document]) -> Result<Value, FormatError> {
    expect(collection, Kind::Collection)?;
    Ok(collection_value(collection, &Tree::new(docs)))
}

pub(crate) fn collection_value(doc: &Document, tree: &Tree) -> Value {
    let mut out = section_clone(doc, KEYS);
    let mut info = section_clone(doc, INFO);
    copy(&mut info, doc, &["name", "description", "version"]);
    info.insert("schema".into(), field(doc, "schema").unwrap_or_else(|| Value::String(SCHEMA_V21.into())));
    info.insert("_postman_id".into(), postman_id(doc));
    out.insert("info".into(), Value::Object(info));
    out.insert("item".into(), Value::Array(items(doc.id, tree)));
    copy(&mut out, doc, &["auth", "event", "variable", "protocolProfileBehavior"]);
    Value::Object(out)
}

fn items(parent: Id, tree: &Tree) -> Vec<Value> {
    tree.children(parent, &[Kind::Folder, Kind::Request])
        .map(|d| if d.kind == Kind::Folder { folder_value(d, tree) } else { request_value(d, tree) })
        .collect()
}

fn item_id(out: &mut Map<String, Value>, doc: &Document) {
    let key = shape(doc, "id_key").unwrap_or("id");
    out.insert(key.to_string(), postman_id(doc));
}

fn folder_value(doc: &Document, tree: &Tree) -> Value {
    let mut out = section_clone(doc, KEYS);
    copy(&mut out, doc, &["name", "description", "auth", "event", "variable", "protocolProfileBehavior"]);
    item_id(&mut out, doc);
    out.insert("item".into(), Value::Array(items(doc.id, tree)));
    Value::Object(out)
}

fn request_value(doc: &Document, tree: &Tree) -> Value {
    let mut out = section_clone(doc, KEYS);
    copy(&mut out, doc, &["name", "description", "event", "variable", "protocolProfileBehavior"]);
    item_id(&mut out, doc);
    let mut req = section_clone(doc, REQUEST);
    copy(&mut req, doc, &["method", "url", "header", "body", "auth"]);
    match shape(doc, "request") {
        Some("string") if req.len() == 1 && req.get("url").is_some_and(Value::is_string) => {
            out.insert("request".into(), req.remove("url").unwrap_or_default());
        }
        Some("absent") if req.is_empty() => {}
        _ => {
            out.insert("request".into(), Value::Object(req));
        }
    }
    let responses: Vec<Value> = tree.children(doc.id, &[Kind::Response]).map(response_value).collect();
    if !(responses.is_empty() && shape(doc, "response") == Some("absent")) {
        out.insert("response".into(), Value::Array(responses));
    }
    Value::Object(out)
}

fn response_value(doc: &Document) -> Value {
    let mut out = section_clone(doc, KEYS);
    copy(
        &mut out,
        doc,
        &["name", "originalRequest", "status", "code", "header", "cookie", "body", "_postman_previewlanguage", "responseTime", "timings"],
    );
    out.insert("id".into(), postman_id(doc));
    Value::Object(out)
}

/// Writes an environment and its live variables as a Postman environment
/// export (`docs` is every document of the workspace).
pub fn export_environment(environment: &Document, docs: &[Document]) -> Result<Value, FormatError> {
    expect(environment, Kind::Environment)?;
    let tree = Tree::new(docs);
    Ok(environment_value(environment, &tree))
}

pub(crate) fn environment_value(doc: &Document, tree: &Tree) -> Value {
    let mut out = section_clone(doc, KEYS);
    copy(&mut out, doc, &["name"]);
    out.insert("id".into(), postman_id(doc));
    out.insert("values".into(), Value::Array(tree.children(doc.id, &[Kind::Variable]).map(variable_value).collect()));
    Value::Object(out)
}

/// One variable (environment variable or global) as Postman writes it.
pub(crate) fn variable_value(doc: &Document) -> Value {
    let mut out = section_clone(doc, KEYS);
    copy(&mut out, doc, &["key", "value", "type", "enabled", "description"]);
    Value::Object(out)
}

/// The workspace's live globals, in order, as Postman's variable list.
pub(crate) fn globals_list(docs: &[Document]) -> Vec<Value> {
    top_level(docs, Kind::Global).into_iter().map(variable_value).collect()
}

/// Writes the workspace's live globals as a Postman globals export
/// (`{name: "Globals", values, _postman_variable_scope: "globals"}`).
pub fn export_globals(docs: &[Document]) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), Value::String("Globals".into()));
    out.insert("values".into(), Value::Array(globals_list(docs)));
    out.insert("_postman_variable_scope".into(), Value::String("globals".into()));
    Value::Object(out)
}

/// One header preset as a Postman data dump writes it.
pub(crate) fn header_preset_value(doc: &Document) -> Value {
    let mut out = section_clone(doc, KEYS);
    copy(&mut out, doc, &["name", "headers"]);
    out.insert("id".into(), postman_id(doc));
    Value::Object(out)
}
