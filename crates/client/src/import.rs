//! Documents made elsewhere — an imported file, the scratch pad moving into
//! a workspace — written into a workspace in ONE transaction: every view row
//! and every outbox create, or nothing.

use crate::ClientError;
use crate::edit;
use crate::store::{self, Workspace};
use model::{Document, Fields, Id, Kind, Mutation, Op, ordering, schema};
use rusqlite::Connection;

/// Writes `docs` (parents before children) into `ws`. Top-level documents go
/// after the workspace's existing ones; children keep their order keys.
/// With `replace`, top-level documents of the same kind and Postman id (or,
/// for globals, the same key) are deleted first.
pub fn insert_all(conn: &Connection, ws: &Workspace, docs: &[Document], replace: bool) -> Result<usize, ClientError> {
    edit::writable(ws)?;
    if replace {
        replace_matching(conn, ws, docs)?;
    }
    let mut written = 0;
    for d in docs.iter().filter(|d| d.kind != Kind::Workspace) {
        schema::check_document(d.kind, &d.fields)?;
        // Parents come first, so an imported parent is already in the view.
        edit::check_parent(conn, d.kind, ws, d.parent_id)?;
        let order_key = match (&d.order_key, d.parent_id) {
            (Some(k), Some(_)) if ordering::validate(k).is_ok() => k.clone(),
            _ => edit::append_key(conn, ws.id, d.parent_id, Some(d.id))?,
        };
        let m = Mutation {
            mutation_id: Id::now_v7(),
            doc_id: d.id,
            base_version: 0,
            op: Op::Create { kind: d.kind, parent_id: d.parent_id, order_key: Some(order_key.clone()), fields: d.fields.clone() },
        };
        let view = Document { workspace_id: ws.id, order_key: Some(order_key), deleted: false, version: 0, ..d.clone() };
        store::put_doc(conn, &view)?;
        edit::record(conn, ws, m, &Fields::new())?;
        written += 1;
    }
    Ok(written)
}

fn identity(d: &Document) -> Option<(Kind, String)> {
    let key = match d.kind {
        Kind::Collection | Kind::Environment | Kind::HeaderPreset => "postman_id",
        Kind::Global => "key",
        _ => return None,
    };
    d.fields.get(key).and_then(|v| v.as_str()).map(|s| (d.kind, s.to_string()))
}

fn replace_matching(conn: &Connection, ws: &Workspace, docs: &[Document]) -> Result<(), ClientError> {
    let incoming: Vec<(Kind, String)> = docs.iter().filter(|d| d.parent_id.is_none()).filter_map(identity).collect();
    if incoming.is_empty() {
        return Ok(());
    }
    for existing in store::children(conn, ws.id, None)? {
        if !existing.deleted && identity(&existing).is_some_and(|i| incoming.contains(&i)) {
            edit::delete(conn, existing.id)?;
        }
    }
    Ok(())
}

/// The scratch pad's documents, parents before children (empty if unused).
pub fn scratchpad_docs(conn: &Connection) -> Result<Vec<Document>, ClientError> {
    let Some(pad) = crate::scratchpad::find(conn)? else { return Ok(Vec::new()) };
    let docs: Vec<Document> = store::live_docs(conn, pad.id)?.into_iter().filter(|d| d.kind != Kind::Workspace).collect();
    let parent: std::collections::HashMap<Id, Option<Id>> = docs.iter().map(|d| (d.id, d.parent_id)).collect();
    let depth = |mut id: Id| {
        let mut n = 0;
        while let Some(Some(p)) = parent.get(&id) {
            id = *p;
            n += 1;
            if n > 1000 {
                break;
            }
        }
        n
    };
    let mut ordered = docs.clone();
    ordered.sort_by_key(|d| (depth(d.id), d.sibling_order().0.to_string(), d.id));
    Ok(ordered)
}
