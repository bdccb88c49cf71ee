//! Postman's files in and out.
//!
//! [`import`] reads a Postman file's bytes — a collection (v1, v2.0, v2.1),
//! an environment, globals, a Postman data dump or a newman JSON report —
//! and returns apisync [`Document`]s plus notes of what was normalised.
//! [`export_collection`], [`export_environment`], [`export_globals`] and
//! [`export_dump`] write documents back as Postman JSON (collections as
//! v2.1.0). [`v3`] reads and writes Postman's v3 directories (YAML files).
//!
//! Pure: no I/O, no clock, no randomness; the caller mints ids.
//!
//! # Nothing is dropped
//!
//! Every document's `extra` field keeps what the schema has no field for,
//! in sections that export writes back where they came from:
//!
//! | section       | holds                                                                 |
//! |---------------|-----------------------------------------------------------------------|
//! | `keys`        | keys of the Postman object apisync does not model                      |
//! | `info`        | (collection) keys of `info` apisync does not model                     |
//! | `request`     | (request) keys of the item's `request` object other than method, url, header, body, auth (e.g. `description`, `proxy`, `certificate`) |
//! | `verbatim`    | values whose JSON type the field does not admit (e.g. `header: {}`); the field is left out |
//! | `synthesized` | values import made up for required fields the file lacked (a `name`); export leaves them out while unchanged |
//! | `shape`       | `request: "string"/"absent"`, `response: "absent"`, `id_key: "_postman_id"`: how the original was written |
//!
//! A collection imported from v2.1 and exported unchanged equals the
//! original JSON (key order aside), except that documents the file gave no
//! id get their apisync id as `id` / `_postman_id`.
//!
//! # Every kind in a backup
//!
//! Postman's data dump has no place for workspaces, collection run results
//! or history. [`export_dump`] writes the documents of those kinds under
//! the top-level key [`EXTENSION_KEY`] (`_apisync`), which Postman ignores,
//! and [`import`] reads them back, so a full backup round-trips every
//! [`model::Kind`]. The layout is in `docs/FORMATS.md`.

#![warn(missing_docs)]

mod build;
mod collection;
mod collection_v1;
mod decode;
mod detect;
mod dump;
mod environment;
mod error;
mod export;
mod extension;
mod newman;
pub mod v3;

pub use decode::decode;
pub use detect::{Format, detect};
pub use dump::{Dump, export_dump};
pub use error::FormatError;
pub use export::{export_collection, export_environment, export_globals};
pub use extension::{EXTENSION_KEY, EXTENSION_VERSION};

use build::Builder;
use model::{Document, Id};
use serde_json::{Map, Value};

/// The `info.schema` export writes: Postman Collection Format v2.1.0.
pub const SCHEMA_V21: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

/// The largest input apisync reads in one go: one JSON file, or all the
/// files of a v3 directory together.
pub const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;

/// The deepest folder nesting import accepts. Kept below 64 so that a
/// collection this deep still fits serde_json's 128-level nesting limit
/// (each folder level is two JSON levels) with room for the requests inside.
pub const MAX_FOLDER_DEPTH: usize = 48;

/// What an import produced: documents to store and notes for the user.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// What the file was.
    pub format: Format,
    /// The documents, parents before children; every one passes
    /// [`model::schema::check_document`], has version 0 and an order key.
    pub documents: Vec<Document>,
    /// Human-readable notes of what was normalised (encodings, v1/v2.0
    /// conversion, values kept verbatim, ids renamed, names made up).
    pub notes: Vec<String>,
}

/// Imports a Postman file from its bytes (UTF-8 with or without a
/// byte-order mark, or UTF-16 with one): decodes, [`detect`]s the format,
/// and builds documents in workspace `workspace_id` with ids from `mint`.
pub fn import(bytes: &[u8], workspace_id: Id, mint: &mut dyn FnMut() -> Id) -> Result<Import, FormatError> {
    let (value, notes) = decode(bytes)?;
    import_with_notes(&value, workspace_id, mint, notes)
}

/// A URL string split into the parts of a v2.1 URL object (`protocol`,
/// `auth`, `host`, `port`, `path`, `query`, `hash`; not `raw`) as Postman's
/// SDK splits it: how Postman reads a URL given only as text.
pub fn url_parts(raw: &str) -> Map<String, Value> {
    collection_v1::url_parts(raw)
}

/// Imports an already parsed Postman JSON value; see [`import`].
pub fn import_value(value: &Value, workspace_id: Id, mint: &mut dyn FnMut() -> Id) -> Result<Import, FormatError> {
    import_with_notes(value, workspace_id, mint, Vec::new())
}

fn import_with_notes(value: &Value, workspace_id: Id, mint: &mut dyn FnMut() -> Id, notes: Vec<String>) -> Result<Import, FormatError> {
    let format = detect(value)?;
    let mut b = Builder::new(workspace_id, mint, notes);
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    match format {
        Format::CollectionV21 | Format::CollectionV20 | Format::CollectionV2Unversioned | Format::CollectionV1 => {
            let index = import_any_collection(&mut b, obj, "")?;
            b.order(&[index])?;
        }
        Format::Environment => {
            let index = environment::import_environment(&mut b, obj, "")?;
            b.order(&[index])?;
        }
        Format::Globals => environment::import_globals(&mut b, value, "globals")?,
        Format::Dump => dump::import_dump(&mut b, obj)?,
        Format::NewmanReport => newman::import_report(&mut b, obj)?,
        Format::V3Directory => {
            return Err(FormatError::NotPostman { found: "a v3 directory, which is read with formats::v3::import_v3".into() });
        }
    }
    let (documents, notes) = b.into_parts();
    Ok(Import { format, documents, notes })
}

/// Imports one collection of any version; returns the index of its document.
pub(crate) fn import_any_collection(b: &mut Builder, c: &Map<String, Value>, path: &str) -> Result<usize, FormatError> {
    let label = if path.is_empty() { "collection" } else { path };
    let format = detect::detect_object(c).unwrap_or(Format::CollectionV1);
    match format {
        Format::CollectionV21 => collection::import_v21(b, c, path),
        Format::CollectionV20 | Format::CollectionV2Unversioned => {
            let mut c = c.clone();
            let mut notes = Vec::new();
            collection::normalise_v2(&mut c, label, &mut notes);
            notes.into_iter().for_each(|n| b.note("", n));
            collection::import_v21(b, &c, path)
        }
        _ => {
            let (c, notes) = collection_v1::to_v21(c, label)?;
            notes.into_iter().for_each(|n| b.note("", n));
            collection::import_v21(b, &c, path)
        }
    }
}
