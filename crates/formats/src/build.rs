//! Building documents from Postman JSON: ids, order keys, the `extra`
//! sections, and notes. Shared by every importer.

use crate::FormatError;
use model::schema::{check_document, check_fields};
use model::{Document, FieldError, Fields, Id, Kind};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// `extra` section: keys of the Postman object apisync does not model.
pub(crate) const KEYS: &str = "keys";
/// `extra` section: keys of a collection's `info` apisync does not model.
pub(crate) const INFO: &str = "info";
/// `extra` section: keys of an item's `request` object apisync does not model.
pub(crate) const REQUEST: &str = "request";
/// `extra` section: fields whose Postman value has a type the schema does not admit.
pub(crate) const VERBATIM: &str = "verbatim";
/// `extra` section: values import made up for required fields the file lacked.
pub(crate) const SYNTHESIZED: &str = "synthesized";
/// `extra` section: how the Postman object was shaped (`request`, `response`, `id_key`).
pub(crate) const SHAPE: &str = "shape";

/// A document being built.
pub(crate) struct Draft {
    pub(crate) id: Id,
    kind: Kind,
    parent: Option<Id>,
    /// Where in the file, for notes and errors.
    pub(crate) path: String,
    fields: Fields,
    extra: Fields,
}

impl Draft {
    /// Keeps `value` under `key` in the `extra` section `section`.
    pub(crate) fn keep(&mut self, section: &str, key: &str, value: Value) {
        let entry = self.extra.entry(section).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(key.to_string(), value);
        }
    }

    /// Sets a field without checks: for values the caller knows are admitted.
    pub(crate) fn put(&mut self, name: &str, value: Value) {
        self.fields.insert(name.to_string(), value);
    }
}

/// Collects documents and notes for one import.
pub(crate) struct Builder<'a> {
    workspace_id: Id,
    mint: &'a mut dyn FnMut() -> Id,
    notes: Vec<String>,
    docs: Vec<Document>,
    seen_ids: HashSet<String>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(workspace_id: Id, mint: &'a mut dyn FnMut() -> Id, notes: Vec<String>) -> Self {
        Builder { workspace_id, mint, notes, docs: Vec::new(), seen_ids: HashSet::new() }
    }

    /// Records a note of something normalised.
    pub(crate) fn note(&mut self, path: &str, message: impl std::fmt::Display) {
        if path.is_empty() {
            self.notes.push(message.to_string());
        } else {
            self.notes.push(format!("{path}: {message}"));
        }
    }

    /// Starts a document with a freshly minted id.
    pub(crate) fn draft(&mut self, kind: Kind, parent: Option<Id>, path: String) -> Draft {
        Draft { id: (self.mint)(), kind, parent, path, fields: Fields::new(), extra: Fields::new() }
    }

    /// Sets a field when the schema admits the value's type; otherwise keeps
    /// the value verbatim in `extra` (so export writes it back) and notes it.
    pub(crate) fn set(&mut self, d: &mut Draft, name: &str, value: &Value) {
        if admits(d.kind, name, value) {
            d.fields.insert(name.to_string(), value.clone());
            return;
        }
        let msg = match value {
            Value::Object(o) if o.is_empty() => format!(
                "'{name}' is an empty object where Postman's format has a list; read as empty (as Postman does) and kept as-is for export"
            ),
            Value::Null => format!("'{name}' is null where Postman's format has a value; read as absent and kept as-is for export"),
            other => format!(
                "'{name}' is {} which a {} cannot hold in that field; kept as-is in 'extra' and written back on export",
                type_name(other),
                d.kind
            ),
        };
        self.note(&d.path, msg);
        d.keep(VERBATIM, name, value.clone());
    }

    /// Sets a required string field (`name`, `key`), making one up from
    /// `default` when the file has none or has a non-string.
    pub(crate) fn set_required(&mut self, d: &mut Draft, name: &str, value: Option<&Value>, default: &str) {
        match value {
            Some(Value::String(s)) => {
                d.fields.insert(name.to_string(), Value::String(s.clone()));
            }
            other => {
                if let Some(v) = other {
                    d.keep(VERBATIM, name, v.clone());
                }
                let what = match other {
                    None => format!("has no '{name}'"),
                    Some(v) => format!("'{name}' is {}, not a string", type_name(v)),
                };
                self.note(&d.path, format!("{what}; called it '{default}' here (export writes the original back)"));
                d.fields.insert(name.to_string(), Value::String(default.to_string()));
                d.keep(SYNTHESIZED, name, Value::String(default.to_string()));
            }
        }
    }

    /// Sets `postman_id`; an id already used earlier in this import is
    /// replaced by the document's own id, with a note.
    pub(crate) fn set_postman_id(&mut self, d: &mut Draft, value: &Value) {
        let Value::String(s) = value else {
            self.set(d, "postman_id", value);
            return;
        };
        if self.seen_ids.insert(s.clone()) {
            d.fields.insert("postman_id".into(), value.clone());
        } else {
            let fresh = d.id.to_string();
            self.note(&d.path, format!("id '{s}' is used twice in this file; this {} now has id '{fresh}'", d.kind));
            self.seen_ids.insert(fresh.clone());
            d.fields.insert("postman_id".into(), Value::String(fresh));
        }
    }

    /// Checks the document against the schema and adds it; returns its index.
    pub(crate) fn finish(&mut self, mut d: Draft) -> Result<usize, FormatError> {
        if !d.extra.is_empty() {
            d.fields.insert("extra".into(), Value::Object(d.extra));
        }
        check_document(d.kind, &d.fields).map_err(|source| FormatError::Document { path: d.path.clone(), kind: d.kind, source })?;
        self.docs.push(Document {
            id: d.id,
            kind: d.kind,
            workspace_id: self.workspace_id,
            parent_id: d.parent,
            order_key: None,
            fields: d.fields,
            deleted: false,
            version: 0,
        });
        Ok(self.docs.len() - 1)
    }

    /// Gives the documents at `indices` ascending order keys, in that order.
    pub(crate) fn order(&mut self, indices: &[usize]) -> Result<(), FormatError> {
        let keys = model::ordering::n_between(None, None, indices.len())
            .map_err(|e| FormatError::Invalid { path: String::new(), message: format!("cannot order siblings: {e}") })?;
        for (i, key) in indices.iter().zip(keys) {
            self.docs[*i].order_key = Some(key);
        }
        Ok(())
    }

    /// The documents finished so far, in the order they were finished.
    pub(crate) fn documents(&self) -> &[Document] {
        &self.docs
    }

    /// Sets a field of the finished document at `index` and checks the
    /// document again (a longer value may break the size limit).
    pub(crate) fn replace_field(&mut self, index: usize, name: &str, value: Value, path: &str) -> Result<(), FormatError> {
        let d = &mut self.docs[index];
        d.fields.insert(name.to_string(), value);
        check_document(d.kind, &d.fields).map_err(|source| FormatError::Document { path: path.to_string(), kind: d.kind, source })?;
        Ok(())
    }

    /// The documents and notes collected.
    pub(crate) fn into_parts(self) -> (Vec<Document>, Vec<String>) {
        (self.docs, self.notes)
    }
}

fn admits(kind: Kind, name: &str, value: &Value) -> bool {
    let mut one = Fields::new();
    one.insert(name.to_string(), value.clone());
    !matches!(check_fields(kind, &one), Err(FieldError::WrongType { .. } | FieldError::Unknown { .. }))
}

/// "a string", "an object", … for notes.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Joins a path and a name for notes: `Coll/Folder/Request`.
pub(crate) fn child_path(parent: &str, name: Option<&Value>, fallback: &str) -> String {
    let name = name.and_then(Value::as_str).unwrap_or(fallback);
    if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") }
}
