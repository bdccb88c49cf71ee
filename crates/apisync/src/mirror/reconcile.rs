//! One reconciliation of a workspace with its v3 directory, in two halves:
//! [`take_files`] turns what changed in the files since the mirror's base
//! into ordinary edits (create, set, move, delete), each made from the
//! version the file last agreed with, so the server merges them like any
//! offline edit; [`write_files`] then writes the workspace back, touching
//! only the files whose bytes change.

use super::files::{self, Seen};
use super::state::{Base, State, field_hashes, hash_bytes, view_hash};
use client::{Device, External};
use formats::v3::{self, Files, WriteOptions};
use model::{Document, Fields, Id, Kind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The kinds a mirror writes: what the v3 format has a place for.
pub const MIRRORED: [Kind; 7] =
    [Kind::Collection, Kind::Folder, Kind::Request, Kind::Response, Kind::Environment, Kind::Variable, Kind::Global];

/// Where the globals live in a `postman/` folder.
const GLOBALS: &str = "globals/workspace.globals.yaml";

/// What taking the files did.
#[derive(Debug, Default)]
pub struct Taken {
    /// Edits made from the files.
    pub applied: usize,
    /// What the person should know (documents created from files, first-run choices).
    pub notes: Vec<String>,
}

/// Why the files were not taken: a file that cannot be read; nothing of the
/// directory was applied, and nothing will be written until it is fixed.
#[derive(Debug)]
pub struct Unreadable(pub String);

/// The live mirrored documents of the workspace, by id.
pub fn view(device: &Device, ws: Id) -> anyhow::Result<HashMap<Id, Document>> {
    Ok(device.live_documents(ws)?.into_iter().filter(|d| MIRRORED.contains(&d.kind)).map(|d| (d.id, d)).collect())
}

/// Whether any mirrored document changed on a device since the base.
pub fn view_changed(state: &State, view: &HashMap<Id, Document>) -> bool {
    view.len() != state.docs.len() || view.values().any(|d| state.docs.get(&d.id).is_none_or(|b| b.view != view_hash(d)))
}

/// Whether a file was added, removed, or has another size or time than the base says.
pub fn files_changed(state: &State, scanned: &BTreeMap<String, Seen>) -> bool {
    scanned.len() != state.files.len() || scanned.iter().any(|(p, s)| state.files.get(p).is_none_or(|st| !s.matches(st)))
}

/// How a document is known in the files: its kind, and its `id:` — or, for a
/// variable, its environment and key; for a global, its key.
type Ident = (Kind, Option<Id>, String);

fn ident(kind: Kind, parent: Option<Id>, file_id: &str) -> Ident {
    match kind {
        Kind::Variable => (kind, parent, file_id.to_string()),
        _ => (kind, None, file_id.to_string()),
    }
}

/// What names a document in its file: a variable's or global's key, else the
/// file's `id:` (read into `postman_id`); `None` when the file gave none.
fn named(d: &Document) -> Option<&str> {
    d.fields.get(if d.kind.is_variable() { "key" } else { "postman_id" }).and_then(Value::as_str)
}

/// The id a document's file carries (its own id when it has no other).
fn file_id(d: &Document) -> String {
    named(d).map_or_else(|| d.id.to_string(), str::to_string)
}

/// Turns the file changes since the base into edits of workspace `ws`.
/// Reads nothing when no file's size or time moved; applies nothing when a
/// file cannot be read (`Err(Unreadable)`, with its path and line).
pub fn take_files(
    device: &Device,
    ws: Id,
    root: &Path,
    scanned: &BTreeMap<String, Seen>,
    state: &mut State,
) -> anyhow::Result<Result<Taken, Unreadable>> {
    if !files_changed(state, scanned) {
        return Ok(Ok(Taken::default()));
    }
    let mut all = Files::new();
    let mut stamps = BTreeMap::new();
    for p in scanned.keys() {
        let (bytes, stamp) = files::read(root, p)?;
        stamps.insert(p.clone(), stamp);
        all.insert(p.clone(), bytes);
    }
    let edited: HashSet<&String> =
        stamps.iter().filter(|(p, st)| state.files.get(*p).is_none_or(|o| o.hash != st.hash)).map(|(p, _)| p).collect();
    let gone = state.files.keys().any(|p| !stamps.contains_key(p));
    if edited.is_empty() && !gone {
        // Touched (a checkout, an editor's save without change): nothing to take.
        state.files = stamps;
        return Ok(Ok(Taken::default()));
    }
    if all.is_empty() && !state.docs.is_empty() {
        return Ok(Err(Unreadable(format!(
            "{} holds none of the {} files the mirror wrote; if the directory moved, point the mirror at its new place; \
             to empty the workspace, delete its collections in apisync",
            root.display(),
            state.files.len()
        ))));
    }
    let read = match v3::import_v3(&all, ws, &mut Id::now_v7) {
        Ok(r) => r,
        Err(e) => return Ok(Err(Unreadable(e.to_string()))),
    };
    let view = view(device, ws)?;
    let taken: HashSet<Id> = view.keys().chain(state.docs.keys()).copied().collect();
    let plan = plan(state, &view, &read, &edited, &taken);
    let applied = device.apply_external(ws, &plan.changes)?;
    state.files = stamps;
    // The files' order numbers are the ones to keep when writing back.
    for (id, order) in plan.orders {
        if let Some(b) = state.docs.get_mut(&id) {
            b.order = order;
        }
    }
    Ok(Ok(Taken { applied, notes: plan.notes }))
}

/// A file entry among its siblings: its `order:`, its place in the read, its document.
type Entry = (Option<i64>, usize, Id);

struct Plan {
    changes: Vec<External>,
    notes: Vec<String>,
    /// Each file entry's document and its `order:`.
    orders: Vec<(Id, Option<i64>)>,
}

/// The edits that make the workspace say what the files say, where the files
/// changed since the base.
fn plan(state: &State, view: &HashMap<Id, Document>, read: &v3::ReadV3, edited: &HashSet<&String>, taken: &HashSet<Id>) -> Plan {
    let docs = &read.import.documents;
    let base_index: HashMap<Ident, Id> = state.docs.iter().map(|(id, b)| (ident(b.kind, b.parent, &b.file_id), *id)).collect();
    let view_index: HashMap<Ident, Id> = view.values().map(|d| (ident(d.kind, d.parent_id, &file_id(d)), d.id)).collect();

    // Which document each file entry is: the base's, else the view's, else new.
    let mut mapped: HashMap<Id, Id> = HashMap::new();
    let mut used: HashSet<Id> = HashSet::new();
    let mut ids: Vec<Id> = Vec::with_capacity(docs.len());
    for d in docs {
        let parent = d.parent_id.and_then(|p| mapped.get(&p).copied());
        let fid = named(d).unwrap_or("");
        let key = ident(d.kind, parent, fid);
        let found = (!fid.is_empty())
            .then(|| base_index.get(&key).or_else(|| view_index.get(&key)).copied())
            .flatten()
            .filter(|id| !used.contains(id));
        let id = found.unwrap_or_else(|| {
            // A file's own UUID becomes the document's id when free, so the
            // same file seen by two mirrors names one document.
            fid.parse::<Id>().ok().filter(|u| !used.contains(u) && !taken.contains(u)).unwrap_or_else(Id::now_v7)
        });
        used.insert(id);
        mapped.insert(d.id, id);
        ids.push(id);
    }

    let mut creates = Vec::new();
    let mut moves = Vec::new();
    let mut sets = Vec::new();
    let mut notes = Vec::new();
    // Children in file order, per (new) parent, to place creates and moves.
    let mut file_children: HashMap<Option<Id>, Vec<Entry>> = HashMap::new();
    for (i, d) in docs.iter().enumerate() {
        let parent = d.parent_id.and_then(|p| mapped.get(&p).copied());
        file_children.entry(parent).or_default().push((read.sources.get(i).and_then(|s| s.order), i, ids[i]));
    }
    for kids in file_children.values_mut() {
        kids.sort_by_key(|(order, i, _)| (order.unwrap_or(i64::MAX), *i));
    }
    let previous = |parent: Option<Id>, id: Id| -> Option<Id> {
        let kids = file_children.get(&parent)?;
        let at = kids.iter().position(|(_, _, k)| *k == id)?;
        at.checked_sub(1).map(|j| kids[j].2)
    };

    // A document in the base but in no file was deleted there.
    let kept: HashSet<Id> = ids.iter().copied().collect();
    let deleted: HashSet<Id> = state.docs.keys().filter(|id| !kept.contains(id) && view.contains_key(id)).copied().collect();
    // The sibling a document follows in the workspace, passing over those the files delete.
    let mut view_siblings: HashMap<Option<Id>, Vec<&Document>> = HashMap::new();
    for d in view.values().filter(|d| !deleted.contains(&d.id)) {
        view_siblings.entry(d.parent_id).or_default().push(d);
    }
    for v in view_siblings.values_mut() {
        v.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
    }
    let view_predecessor = |id: Id| -> Option<Id> {
        let parent = view.get(&id)?.parent_id;
        let sibs = view_siblings.get(&parent)?;
        let at = sibs.iter().position(|d| d.id == id)?;
        at.checked_sub(1).map(|j| sibs[j].id)
    };
    for (i, d) in docs.iter().enumerate() {
        let id = ids[i];
        let parent = d.parent_id.and_then(|p| mapped.get(&p).copied());
        let path = read.sources.get(i).map(|s| &s.path);
        let file_edited = path.is_none_or(|p| edited.contains(p));
        match (state.docs.get(&id), view.get(&id)) {
            (Some(base), _) if file_edited => {
                let mut fields = Fields::new();
                for (k, v) in d.fields.iter().filter(|(k, v)| !is_own_id(k, v, id)) {
                    if base.fields.get(k) != Some(&super::state::hash_value(v)) {
                        fields.insert(k.clone(), v.clone());
                    }
                }
                for k in base.fields.keys().filter(|k| !d.fields.contains_key(*k)) {
                    fields.insert(k.clone(), cleared(d.kind, k));
                }
                if !fields.is_empty() {
                    sets.push(External::Set { id, base_version: base.version, fields });
                }
                let order = read.sources.get(i).and_then(|s| s.order);
                let after = previous(parent, id);
                // A new order number alone is no move when the document already
                // follows the same sibling in the workspace (the files may have
                // been renumbered, or a sibling between them removed).
                let in_place = base.parent == parent && view_predecessor(id) == after;
                if base.parent != parent || (order.is_some() && order != base.order && !in_place) {
                    moves.push(External::Move { id, base_version: base.version, parent, after });
                }
            }
            (Some(_), _) => {}
            (None, Some(_)) => {
                // Known to the workspace but not yet to this mirror (a first
                // run, or a document another mirror made): the workspace's
                // version stands, and the file is rewritten from it.
            }
            (None, None) => {
                // A file whose id is the document's own keeps no copy of it.
                let fields: Fields = d.fields.iter().filter(|(k, v)| !is_own_id(k, v, id)).map(|(k, v)| (k.clone(), v.clone())).collect();
                if let Some(p) = path {
                    notes.push(format!("created a {} from {p}", d.kind));
                }
                creates.push(External::Create { id, kind: d.kind, parent, after: previous(parent, id), fields });
            }
        }
    }

    // Descendants go with a deleted document, so only the top-most is deleted.
    let mut deletes: Vec<External> = deleted
        .iter()
        .filter(|id| state.docs.get(id).and_then(|b| b.parent).is_none_or(|p| !deleted.contains(&p)))
        .map(|id| External::Delete { id: *id, base_version: state.docs.get(id).map_or(0, |b| b.version) })
        .collect();
    deletes.sort_by_key(|c| match c {
        External::Delete { id, .. } => *id,
        _ => Id::nil(),
    });

    // Moves before deletes, so a request moved out of a deleted folder survives it.
    let mut changes = creates;
    changes.extend(moves);
    changes.extend(sets);
    changes.extend(deletes);
    let orders = ids.iter().enumerate().map(|(i, id)| (*id, read.sources.get(i).and_then(|s| s.order))).collect();
    Plan { changes, notes, orders }
}

/// Whether a field is `postman_id` holding the document's own id: what a
/// file says of a document that never had a Postman id, not a field of it.
fn is_own_id(name: &str, value: &Value, id: Id) -> bool {
    name == "postman_id" && value.as_str().is_some_and(|s| s.parse::<Id>().ok() == Some(id))
}

/// The value that clears a field a file no longer has: `null` where the
/// schema admits it, else the empty value of the field's type.
fn cleared(kind: Kind, field: &str) -> Value {
    let spec = kind.fields().iter().find(|s| s.name == field);
    let admits = |v: &Value| spec.is_some_and(|s| s.types.admits(v));
    [Value::Null, Value::String(String::new()), Value::Array(Vec::new()), Value::Object(serde_json::Map::new())]
        .into_iter()
        .find(|v| admits(v))
        .unwrap_or(Value::Null)
}

/// What writing the files did.
#[derive(Debug, Default)]
pub struct Wrote {
    /// Files written (new or changed), relative to the directory.
    pub written: Vec<String>,
    /// Files removed.
    pub removed: Vec<String>,
}

/// Writes the workspace into the directory: files whose bytes change are
/// rewritten, files of documents no longer there are removed; then the base
/// becomes what the files now say.
pub fn write_files(docs: &[Document], root: &Path, on_disk: &BTreeMap<String, Seen>, state: &mut State) -> anyhow::Result<Wrote> {
    let order_hints = state.docs.iter().filter_map(|(id, b)| b.order.map(|o| (*id, o))).collect();
    let out = v3::export_v3_workspace(docs, &WriteOptions { order_hints })?;
    let mut wrote = Wrote::default();
    let mut stamps = BTreeMap::new();
    for (path, bytes) in &out.files {
        let same = state.files.get(path).filter(|s| s.hash == hash_bytes(bytes) && on_disk.get(path).is_some_and(|d| d.matches(s)));
        let stamp = match same {
            Some(s) => s.clone(),
            None => {
                wrote.written.push(path.clone());
                files::write(root, path, bytes)?
            }
        };
        stamps.insert(path.clone(), stamp);
    }
    for path in on_disk.keys().chain(state.files.keys()) {
        if !out.files.contains_key(path) && !wrote.removed.contains(path) {
            files::remove(root, path)?;
            wrote.removed.push(path.clone());
        }
    }
    state.files = stamps;
    state.docs = bases(docs, &out);
    Ok(wrote)
}

/// Each written document's base: as the file now has it.
fn bases(docs: &[Document], out: &v3::Written) -> HashMap<Id, Base> {
    let mut bases = HashMap::new();
    for d in docs {
        let path = match d.kind {
            Kind::Variable => d.parent_id.and_then(|p| out.paths.get(&p)).cloned(),
            Kind::Global => out.files.contains_key(GLOBALS).then(|| GLOBALS.to_string()),
            _ => out.paths.get(&d.id).cloned(),
        };
        let Some(path) = path else { continue };
        bases.insert(
            d.id,
            Base {
                kind: d.kind,
                parent: d.parent_id,
                version: d.version,
                file_id: file_id(d),
                path,
                order: out.orders.get(&d.id).copied(),
                fields: field_hashes(d),
                view: view_hash(d),
            },
        );
    }
    bases
}

/// What importing a v3 directory does to a workspace that already holds some
/// of its collections and environments (the same `id:`): those are updated
/// in place, as a mirror would, and the rest is new.
pub struct Update {
    /// Edits that make the matched documents say what the files say.
    pub changes: Vec<External>,
    /// Top-level documents updated in place, by title.
    pub updated: Vec<String>,
    /// The documents of everything else, to import as new.
    pub new_docs: Vec<Document>,
}

/// Splits a v3 read into in-place updates of the workspace's documents with
/// the same top-level `id:` and new documents for the rest. Each update is
/// made from the document's current version: the directory is what the
/// person asked for, so it is no conflict with anything.
pub fn update_from(view: &HashMap<Id, Document>, read: &v3::ReadV3) -> Update {
    let docs = &read.import.documents;
    let top_ident = |d: &Document| {
        let fid = named(d).unwrap_or("");
        (!fid.is_empty() && d.kind != Kind::Global).then(|| ident(d.kind, None, fid))
    };
    let existing: HashMap<Ident, Id> = view
        .values()
        .filter(|d| d.parent_id.is_none() && d.kind != Kind::Global)
        .map(|d| (ident(d.kind, None, &file_id(d)), d.id))
        .collect();
    // Which read documents fall under a matched top-level document.
    let mut under: HashMap<Id, Id> = HashMap::new();
    let mut updated = Vec::new();
    for d in docs {
        let top = match d.parent_id {
            None => top_ident(d).and_then(|k| existing.get(&k).copied()).inspect(|_| updated.push(d.title().to_string())),
            Some(p) => under.get(&p).copied(),
        };
        if let Some(t) = top {
            under.insert(d.id, t);
        }
    }
    let matched: HashSet<Id> = under.values().copied().collect();
    let (mine, new_docs): (Vec<usize>, Vec<usize>) = (0..docs.len()).partition(|i| under.contains_key(&docs[*i].id));
    // The matched trees in the workspace are the base: what the files are compared with.
    let mut subtree: HashMap<Id, Document> = HashMap::new();
    let mut todo: Vec<Id> = matched.iter().copied().collect();
    let mut children: HashMap<Id, Vec<&Document>> = HashMap::new();
    for d in view.values() {
        if let Some(p) = d.parent_id {
            children.entry(p).or_default().push(d);
        }
    }
    while let Some(id) = todo.pop() {
        if let Some(d) = view.get(&id) {
            subtree.insert(id, d.clone());
            todo.extend(children.get(&id).into_iter().flatten().map(|c| c.id));
        }
    }
    let state = State {
        docs: subtree
            .values()
            .map(|d| {
                let base = Base {
                    kind: d.kind,
                    parent: d.parent_id,
                    version: d.version,
                    file_id: file_id(d),
                    path: String::new(),
                    order: None,
                    fields: field_hashes(d),
                    view: view_hash(d),
                };
                (d.id, base)
            })
            .collect(),
        ..State::default()
    };
    let part = v3::ReadV3 {
        import: formats::Import {
            format: read.import.format,
            documents: mine.iter().map(|i| docs[*i].clone()).collect(),
            notes: Vec::new(),
        },
        sources: mine.iter().map(|i| read.sources.get(*i).cloned().unwrap_or(v3::Source { path: String::new(), order: None })).collect(),
    };
    let paths: HashSet<String> = part.sources.iter().map(|s| s.path.clone()).collect();
    let edited: HashSet<&String> = paths.iter().collect();
    let taken: HashSet<Id> = view.keys().copied().collect();
    let plan = plan(&state, &subtree, &part, &edited, &taken);
    Update { changes: plan.changes, updated, new_docs: new_docs.into_iter().map(|i| docs[i].clone()).collect() }
}
