//! Changes made outside apisync's own editors — a mirrored directory edited
//! by hand or by git — written in ONE transaction, each with the version of
//! the document it was made from. The server then merges them field by field
//! exactly like an edit made offline: a field somebody else changed since
//! that version becomes a conflict in the inbox, never a silent overwrite.

use crate::ClientError;
use crate::edit;
use crate::store::{self, Workspace};
use model::{Document, Fields, Id, Kind, Mutation, Op, schema, tree};
use rusqlite::Connection;
use serde_json::Value;

/// One change from outside, with the document version it was made from.
#[derive(Clone, Debug, PartialEq)]
pub enum External {
    /// A new document with its own id, placed after `after` among its
    /// siblings (first when `None`).
    Create {
        /// The new document's id.
        id: Id,
        /// Its kind.
        kind: Kind,
        /// Its parent.
        parent: Option<Id>,
        /// The sibling it follows.
        after: Option<Id>,
        /// Its fields.
        fields: Fields,
    },
    /// Fields changed from `base_version`.
    Set {
        /// The document.
        id: Id,
        /// The version the change was made from.
        base_version: u64,
        /// The new values.
        fields: Fields,
    },
    /// A new place: under `parent`, after `after` (first when `None`).
    Move {
        /// The document.
        id: Id,
        /// The version the change was made from.
        base_version: u64,
        /// The new parent.
        parent: Option<Id>,
        /// The sibling it follows.
        after: Option<Id>,
    },
    /// Deleted from `base_version`, with everything under it.
    Delete {
        /// The document.
        id: Id,
        /// The version the change was made from.
        base_version: u64,
    },
}

/// Writes `changes` into `ws` in order; returns how many changed the view or
/// queued a mutation (a change already true of the view is skipped).
pub fn apply(conn: &Connection, ws: &Workspace, changes: &[External]) -> Result<usize, ClientError> {
    edit::writable(ws)?;
    let mut done = 0;
    for c in changes {
        if apply_one(conn, ws, c)? {
            done += 1;
        }
    }
    Ok(done)
}

fn doc_in(conn: &Connection, ws: &Workspace, id: Id) -> Result<Option<Document>, ClientError> {
    match store::doc(conn, id)? {
        Some(d) if d.workspace_id != ws.id => {
            Err(ClientError::Invalid(format!("{id} is in another workspace than '{}'; documents cannot cross workspaces", ws.name)))
        }
        d => Ok(d),
    }
}

/// The order key for a place after `after` (first when `None`) under `parent`.
fn place(conn: &Connection, ws: &Workspace, id: Id, parent: Option<Id>, after: Option<Id>) -> Result<String, ClientError> {
    let siblings: Vec<Document> = store::children(conn, ws.id, parent)?.into_iter().filter(|d| d.id != id).collect();
    let pos = match after {
        Some(a) if siblings.iter().any(|d| d.id == a) => tree::Position::After(a),
        Some(_) => tree::Position::End,
        None => siblings.first().map_or(tree::Position::End, |d| tree::Position::Before(d.id)),
    };
    tree::key_at(&siblings, pos).map_err(|e| ClientError::Invalid(e.to_string()))
}

/// The sibling just before `doc` in the view.
fn predecessor(conn: &Connection, ws: &Workspace, doc: &Document) -> Result<Option<Id>, ClientError> {
    let siblings = store::children(conn, ws.id, doc.parent_id)?;
    let at = siblings.iter().position(|d| d.id == doc.id);
    Ok(at.and_then(|i| i.checked_sub(1)).map(|j| siblings[j].id))
}

fn apply_one(conn: &Connection, ws: &Workspace, change: &External) -> Result<bool, ClientError> {
    match change {
        External::Create { id, kind, parent, after, fields } => {
            if doc_in(conn, ws, *id)?.is_some() {
                return Err(ClientError::Invalid(format!("{id} exists already; it cannot be created again")));
            }
            schema::check_document(*kind, fields)?;
            edit::check_parent(conn, *kind, ws, *parent)?;
            let order_key = place(conn, ws, *id, *parent, *after)?;
            let m = Mutation {
                mutation_id: Id::now_v7(),
                doc_id: *id,
                base_version: 0,
                op: Op::Create { kind: *kind, parent_id: *parent, order_key: Some(order_key), fields: fields.clone() },
            };
            let doc = m.apply_locally(None, ws.id).ok_or_else(|| ClientError::Invalid(format!("could not create {id}")))?;
            store::put_doc(conn, &doc)?;
            edit::record(conn, ws, m, &Fields::new())?;
            Ok(true)
        }
        External::Set { id, base_version, fields } => {
            let Some(mut doc) = doc_in(conn, ws, *id)? else {
                return Err(ClientError::NotFound(format!("no document with id {id} on this device")));
            };
            if doc.kind.append_only() {
                return Err(ClientError::Invalid(format!("a {} is append-only: it can be created or deleted, never changed", doc.kind)));
            }
            let changed: Fields = fields
                .iter()
                .filter(|(k, v)| doc.fields.get(*k).unwrap_or(&Value::Null) != *v)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if changed.is_empty() {
                return Ok(false);
            }
            schema::check_fields(doc.kind, &changed)?;
            let base: Fields = changed.keys().map(|k| (k.clone(), doc.fields.get(k).cloned().unwrap_or(Value::Null))).collect();
            let m =
                Mutation { mutation_id: Id::now_v7(), doc_id: *id, base_version: *base_version, op: Op::Set { fields: changed.clone() } };
            // A document deleted since keeps its delete in the view; the
            // server answers the edit with a conflict for the inbox.
            if !doc.deleted {
                doc.fields.extend(changed);
                schema::check_document(doc.kind, &doc.fields)?;
                store::put_doc(conn, &doc)?;
            }
            edit::record(conn, ws, m, &base)?;
            Ok(true)
        }
        External::Move { id, base_version, parent, after } => {
            let Some(mut doc) = doc_in(conn, ws, *id)?.filter(|d| !d.deleted) else {
                return Ok(false);
            };
            edit::check_parent(conn, doc.kind, ws, *parent)?;
            if doc.parent_id == *parent && predecessor(conn, ws, &doc)? == *after {
                return Ok(false);
            }
            let key = place(conn, ws, *id, *parent, *after)?;
            let m = Mutation {
                mutation_id: Id::now_v7(),
                doc_id: *id,
                base_version: *base_version,
                op: Op::Move { parent_id: *parent, order_key: key.clone() },
            };
            doc.parent_id = *parent;
            doc.order_key = Some(key);
            store::put_doc(conn, &doc)?;
            edit::record(conn, ws, m, &Fields::new())?;
            Ok(true)
        }
        External::Delete { id, base_version } => {
            let Some(mut doc) = doc_in(conn, ws, *id)?.filter(|d| !d.deleted) else {
                return Ok(false);
            };
            let m = Mutation { mutation_id: Id::now_v7(), doc_id: *id, base_version: *base_version, op: Op::Delete };
            let base = doc.fields.clone();
            for mut c in edit::descendants(conn, ws.id, *id)? {
                c.deleted = true;
                store::put_doc(conn, &c)?;
            }
            doc.deleted = true;
            store::put_doc(conn, &doc)?;
            edit::record(conn, ws, m, &base)?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox;
    use crate::store::Store;
    use serde_json::json;

    fn f(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn synced(s: &Store) -> Workspace {
        store::test_workspace(s)
    }

    fn order(s: &Store, ws: &Workspace, parent: Id) -> Vec<Id> {
        s.read(|c| store::children(c, ws.id, Some(parent))).unwrap().iter().map(|d| d.id).collect()
    }

    #[test]
    fn creates_keep_their_ids_and_places_and_edits_carry_the_files_base_version() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = synced(&s);
        let (c, a, b) = (Id::now_v7(), Id::now_v7(), Id::now_v7());
        let mk = |id, kind, parent, after, name: &str| External::Create { id, kind, parent, after, fields: f(json!({"name": name})) };
        let n = s
            .write(|tx| {
                apply(
                    tx,
                    &ws,
                    &[
                        mk(c, Kind::Collection, None, None, "C"),
                        mk(a, Kind::Request, Some(c), None, "a"),
                        mk(b, Kind::Request, Some(c), None, "b"),
                    ],
                )
            })
            .unwrap();
        assert_eq!(n, 3);
        // `after: None` puts b first.
        assert_eq!(order(&s, &ws, c), vec![b, a]);

        // The edit carries the version it was made from, not the view's.
        let mut doc = s.read(|c| store::doc(c, a)).unwrap().unwrap();
        doc.version = 9;
        s.write(|tx| store::put_doc(tx, &doc)).unwrap();
        let set = External::Set { id: a, base_version: 4, fields: f(json!({"name": "a2", "description": "d"})) };
        assert_eq!(s.write(|tx| apply(tx, &ws, std::slice::from_ref(&set))).unwrap(), 1);
        let queued = s.read(|c| outbox::for_doc(c, a)).unwrap();
        let last = queued.last().unwrap();
        assert_eq!(last.mutation.base_version, 4);
        assert_eq!(last.base_fields, f(json!({"name": "a", "description": null})));
        // The same edit again changes nothing and queues nothing.
        assert_eq!(s.write(|tx| apply(tx, &ws, &[set])).unwrap(), 0);
        assert_eq!(s.read(|c| outbox::for_doc(c, a)).unwrap().len(), queued.len());

        // A move to where it already is is no move; a real one reorders.
        assert_eq!(s.write(|tx| apply(tx, &ws, &[External::Move { id: a, base_version: 9, parent: Some(c), after: Some(b) }])).unwrap(), 0);
        assert_eq!(s.write(|tx| apply(tx, &ws, &[External::Move { id: a, base_version: 9, parent: Some(c), after: None }])).unwrap(), 1);
        assert_eq!(order(&s, &ws, c), vec![a, b]);

        // A delete takes the children with it in the view.
        assert_eq!(s.write(|tx| apply(tx, &ws, &[External::Delete { id: c, base_version: 9 }])).unwrap(), 1);
        assert!(s.read(|c| store::doc(c, b)).unwrap().unwrap().deleted);
    }

    #[test]
    fn a_bad_change_writes_nothing_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = synced(&s);
        let c = Id::now_v7();
        let good = External::Create { id: c, kind: Kind::Collection, parent: None, after: None, fields: f(json!({"name": "C"})) };
        let bad = External::Create { id: Id::now_v7(), kind: Kind::Request, parent: None, after: None, fields: f(json!({"name": "R"})) };
        let e = s.write(|tx| apply(tx, &ws, &[good, bad])).unwrap_err();
        assert!(e.to_string().contains("--parent") || e.to_string().contains("inside"), "{e}");
        assert!(s.read(|cn| store::doc(cn, c)).unwrap().is_none());
        assert_eq!(s.read(outbox::count).unwrap(), 0);
    }
}
