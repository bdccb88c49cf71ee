//! Postman's "collections schema 3.0.0": v3 directories of YAML files, in and out.
//!
//! A v3 collection is a directory: `.resources/definition.yaml` for the
//! collection, one `<name>.request.yaml` per request, one directory per
//! folder (with its own `.resources/definition.yaml`), and saved responses
//! under `.resources/<request>.resources/examples/<name>.example.yaml`. A
//! workspace is a `postman/` folder holding `collections/<name>/`,
//! `environments/<name>.environment.yaml` and `globals/workspace.globals.yaml`.
//!
//! Both directions go through Collection v2.1 JSON, so ids, `extra`,
//! notes and checks are exactly those of [`crate::import`] and
//! [`crate::export_collection`]: reading rebuilds the v2.1 JSON from the
//! files and imports it; writing exports v2.1 JSON and lays it out as files.
//! What v3 has no key for is kept in each file under [`EXTENSION_KEY`]
//! (`x-apisync`), which Postman ignores, so apisync's own round trip loses
//! nothing. `docs/FORMATS.md` describes the mapping; `docs/V3_FORMAT.md`
//! what was observed of Postman's tools.
//!
//! Pure like the rest of the crate: files are passed in and out as bytes.

mod from_v3;
mod names;
mod node;
mod order;
mod patch;
mod read;
mod to_v3;
mod write;
mod yaml_in;
mod yaml_out;

pub use patch::KEY as EXTENSION_KEY;

use crate::{Format, FormatError, Import};
use model::{Document, Id, Kind};
use std::collections::{BTreeMap, HashMap};

/// A directory's files: path relative to its root, '/'-separated, no leading './' -> bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The most files [`import_v3`] reads in one go.
pub const MAX_FILES: usize = 100_000;
/// The most bytes [`import_v3`] reads in one go, all files together: the
/// limit `apisync import` sets for one JSON file.
pub const MAX_TOTAL_BYTES: u64 = crate::MAX_IMPORT_BYTES;

/// Where a workspace's globals are written, inside the `postman/` folder.
pub const GLOBALS_FILE: &str = "globals/workspace.globals.yaml";

/// What a v3 write produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// The files, by path relative to the directory written.
    pub files: Files,
    /// For each written document (collection, folder, request, response, environment;
    /// variables and globals live in their parent's / the globals file): the path of the file
    /// that holds it (a folder's and a collection's is its `.resources/definition.yaml`).
    pub paths: HashMap<Id, String>,
    /// The `order:` number written for each folder, request and example.
    pub orders: HashMap<Id, i64>,
}

/// Options for writing.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Order numbers written last time; kept where they still ascend among siblings, so that
    /// inserting or moving one item rewrites one file, not all its siblings. New or moved
    /// items get a number between their neighbours (renumbering only when there is no gap).
    pub order_hints: HashMap<Id, i64>,
}

/// One collection as a v3 collection directory (paths relative to that directory).
///
/// `docs` is every document of the workspace; the collection's live
/// folders, requests and saved responses are found by `parent_id`.
pub fn export_v3_collection(collection: &Document, docs: &[Document], opts: &WriteOptions) -> Result<Written, FormatError> {
    if collection.kind != Kind::Collection {
        return Err(FormatError::WrongKind { id: collection.id.to_string(), expected: Kind::Collection, got: collection.kind });
    }
    let mut w = write::Writer::new(opts);
    w.collection(collection, docs, "", None)?;
    Ok(w.out)
}

/// A whole workspace as a `postman/` folder: `collections/<name>/...`,
/// `environments/<name>.environment.yaml`, `globals/workspace.globals.yaml` (only if there are globals).
/// Header presets, runs and history have no v3 form and are not written.
pub fn export_v3_workspace(docs: &[Document], opts: &WriteOptions) -> Result<Written, FormatError> {
    let mut w = write::Writer::new(opts);
    let mut dirs = names::Siblings::default();
    for c in crate::export::top_level(docs, Kind::Collection) {
        let dir = dirs.claim(c.title());
        w.collection(c, docs, &format!("collections/{dir}/"), Some(&dir))?;
    }
    w.environments(docs);
    w.globals(docs);
    Ok(w.out)
}

/// What a v3 read produced: the import plus, for documents[i], where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadV3 {
    /// The documents and notes, as [`crate::import`] gives them.
    pub import: Import,
    /// `sources[i]` is where `import.documents[i]` came from.
    pub sources: Vec<Source>,
}

/// Where a read document came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The file (for a variable or global, the file that lists it).
    pub path: String,
    /// Its `order:` number, if it has one.
    pub order: Option<i64>,
}

/// Reads a v3 collection directory (has `.resources/definition.yaml` at its root) or a
/// `postman/` folder (has `collections/`, `environments/` and/or `globals/`); all or nothing.
/// Each document's `postman_id` field is the file's `id:` (absent when the file has none).
pub fn import_v3(files: &Files, workspace_id: Id, mint: &mut dyn FnMut() -> Id) -> Result<ReadV3, FormatError> {
    check_bounds(files)?;
    let is_collection = files.contains_key(".resources/definition.yaml");
    let is_workspace = files.keys().any(|p| ["collections/", "environments/", "globals/"].iter().any(|d| p.starts_with(d)));
    let built = if is_collection {
        read::read_collection(files)?
    } else if is_workspace {
        read::read_workspace(files)?
    } else {
        return Err(FormatError::Invalid {
            path: String::new(),
            message: "this is neither a v3 collection directory (it has no .resources/definition.yaml) nor a postman/ folder \
                      (with collections/, environments/ or globals/); point apisync at one of those"
                .into(),
        });
    };
    let mut import = crate::import_value(&built.value, workspace_id, mint)?;
    import.format = Format::V3Directory;
    let mut notes = built.notes;
    notes.append(&mut import.notes);
    import.notes = notes;
    if built.sources.len() != import.documents.len() {
        return Err(FormatError::Invalid {
            path: String::new(),
            message: format!(
                "read {} documents from {} files but placed {}; this is a bug in apisync, please report it",
                import.documents.len(),
                files.len(),
                built.sources.len()
            ),
        });
    }
    Ok(ReadV3 { import, sources: built.sources })
}

/// Refuses paths that leave the directory, and more files or bytes than apisync reads.
fn check_bounds(files: &Files) -> Result<(), FormatError> {
    if files.len() > MAX_FILES {
        return Err(FormatError::Invalid {
            path: String::new(),
            message: format!("{} files is more than the {MAX_FILES} apisync reads at once; import the collections one by one", files.len()),
        });
    }
    let total: u64 = files.values().map(|b| b.len() as u64).sum();
    if total > MAX_TOTAL_BYTES {
        return Err(FormatError::Invalid {
            path: String::new(),
            message: format!(
                "the files hold {} MiB, more than the {} MiB apisync reads at once; import the collections one by one",
                total / (1024 * 1024),
                MAX_TOTAL_BYTES / (1024 * 1024)
            ),
        });
    }
    for path in files.keys() {
        let bad = path.is_empty()
            || path.starts_with('/')
            || path.contains('\\')
            || path.contains('\0')
            || path.split('/').any(|s| s.is_empty() || s == "." || s == "..")
            || path.as_bytes().get(1) == Some(&b':');
        if bad {
            return Err(yaml_in::file_error(
                path,
                None,
                "is not a plain relative path inside the directory (absolute, '..', '.', empty parts or '\\'); refusing to read it",
            ));
        }
    }
    Ok(())
}
