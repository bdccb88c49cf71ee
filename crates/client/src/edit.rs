//! Local edits. Each one is validated against the model's schema first, then
//! written in ONE transaction: the view row(s) and the outbox row. Nothing is
//! written when the input is wrong.

use crate::ClientError;
use crate::outbox;
use crate::store::{self, Workspace};
use model::{Document, Fields, Id, Kind, Mutation, Op, ordering, schema};
use rusqlite::Connection;
use serde_json::Value;

pub use model::tree::Position;

/// The pseudo-field of variables that holds the device-local current value.
pub const CURRENT: &str = "current";

pub(crate) fn record(conn: &Connection, ws: &Workspace, m: Mutation, base: &Fields) -> Result<(), ClientError> {
    // The scratch pad never sends anything, so it never queues anything.
    if !ws.local_only {
        outbox::append(conn, ws.id, &m, base)?;
    }
    Ok(())
}

/// A live document of the view, or a clear error.
pub fn live_doc(conn: &Connection, id: Id) -> Result<Document, ClientError> {
    match store::doc(conn, id)? {
        Some(d) if !d.deleted => Ok(d),
        Some(_) => Err(ClientError::NotFound(format!("document {id} was deleted"))),
        None => Err(ClientError::NotFound(format!("no document with id {id} on this device; `apisync ls` lists them"))),
    }
}

fn workspace_of(conn: &Connection, d: &Document) -> Result<Workspace, ClientError> {
    store::workspace(conn, d.workspace_id)?.ok_or_else(|| ClientError::NotFound(format!("the workspace of {} is not on this device", d.id)))
}

pub(crate) fn writable(ws: &Workspace) -> Result<(), ClientError> {
    if ws.role.as_deref() == Some("viewer") {
        return Err(ClientError::Invalid(format!(
            "you may view workspace '{}' but not change it; ask its owner for the editor role",
            ws.name
        )));
    }
    Ok(())
}

/// Takes the `current` pseudo-field out of a variable's fields.
fn split_current(kind: Kind, fields: &mut Fields) -> Result<Option<Value>, ClientError> {
    match fields.remove(CURRENT) {
        Some(v) if kind.is_variable() => Ok(Some(v)),
        Some(_) => Err(ClientError::Invalid(format!("only variables and globals have a current value; {kind} does not"))),
        None => Ok(None),
    }
}

pub(crate) fn check_parent(conn: &Connection, kind: Kind, ws: &Workspace, parent: Option<Id>) -> Result<(), ClientError> {
    let allowed = kind.parents();
    match parent {
        None if allowed.is_empty() => Ok(()),
        None => Err(ClientError::Invalid(format!(
            "a {kind} lives inside a {}; pass --parent ID",
            allowed.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ")
        ))),
        Some(_) if allowed.is_empty() => {
            Err(ClientError::Invalid(format!("a {kind} lives at the top of its workspace and takes no --parent")))
        }
        Some(p) => {
            let pd = live_doc(conn, p)?;
            if !allowed.contains(&pd.kind) {
                return Err(ClientError::Invalid(format!(
                    "a {kind} cannot go inside a {} ({p}); it goes inside a {}",
                    pd.kind,
                    allowed.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ")
                )));
            }
            if pd.workspace_id != ws.id {
                return Err(ClientError::Invalid(format!(
                    "{p} is in another workspace than '{}'; documents cannot cross workspaces",
                    ws.name
                )));
            }
            Ok(())
        }
    }
}

pub(crate) fn append_key(conn: &Connection, ws: Id, parent: Option<Id>, except: Option<Id>) -> Result<String, ClientError> {
    let last = store::last_child_key(conn, ws, parent, except)?;
    let key = match last.filter(|k| ordering::validate(k).is_ok()) {
        Some(k) => ordering::between(Some(&k), None),
        None => ordering::between(None, None),
    };
    key.map_err(|e| ClientError::Invalid(e.to_string()))
}

/// Creates a document in `ws`; returns its new id.
pub fn create(conn: &Connection, ws: &Workspace, kind: Kind, parent: Option<Id>, mut fields: Fields) -> Result<Id, ClientError> {
    if kind == Kind::Workspace {
        return Err(ClientError::Invalid("create workspaces with `apisync workspace create NAME`".into()));
    }
    writable(ws)?;
    let current = split_current(kind, &mut fields)?;
    schema::check_document(kind, &fields)?;
    check_parent(conn, kind, ws, parent)?;
    let id = Id::now_v7();
    let order_key = append_key(conn, ws.id, parent, None)?;
    let m = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: id,
        base_version: 0,
        op: Op::Create { kind, parent_id: parent, order_key: Some(order_key), fields },
    };
    let doc = m.apply_locally(None, ws.id).ok_or_else(|| ClientError::Invalid("could not create".into()))?;
    store::put_doc(conn, &doc)?;
    record(conn, ws, m, &Fields::new())?;
    if let Some(v) = current {
        store::set_current_value(conn, id, &v)?;
    }
    Ok(id)
}

/// Refuses a workspace name the account already has on this device
/// (trimmed, case-insensitive; `except` is the workspace being renamed),
/// unless `allow_duplicate`: two workspaces of one name cannot be told
/// apart by name.
pub fn check_workspace_name(conn: &Connection, name: &str, except: Option<Id>, allow_duplicate: bool) -> Result<(), ClientError> {
    if allow_duplicate {
        return Ok(());
    }
    let wanted = name.trim().to_lowercase();
    let same =
        store::workspaces(conn)?.into_iter().find(|w| !w.local_only && Some(w.id) != except && w.name.trim().to_lowercase() == wanted);
    match same {
        Some(w) => Err(ClientError::Invalid(format!(
            "you already have a workspace named '{}' ({}); choose a different name, or pass --allow-duplicate to use this one anyway",
            w.name, w.id
        ))),
        None => Ok(()),
    }
}

/// Renames a workspace: a `set` of its document's name, synced like any edit.
pub fn rename_workspace(conn: &Connection, ws: &Workspace, name: &str, allow_duplicate: bool) -> Result<(), ClientError> {
    if ws.local_only {
        return Err(ClientError::Invalid(format!("'{}' is the local scratch pad; it keeps its name", ws.name)));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(ClientError::Invalid("a workspace needs a name".into()));
    }
    check_workspace_name(conn, name, Some(ws.id), allow_duplicate)?;
    let mut fields = Fields::new();
    fields.insert("name".into(), Value::String(name.to_string()));
    set(conn, ws.id, fields)
}

/// Creates a workspace (signed in): it reaches the server with the next push.
pub fn create_workspace(conn: &Connection, name: &str, allow_duplicate: bool) -> Result<Id, ClientError> {
    check_workspace_name(conn, name, None, allow_duplicate)?;
    let mut fields = Fields::new();
    fields.insert("name".into(), Value::String(name.to_string()));
    schema::check_document(Kind::Workspace, &fields)?;
    if name.trim().is_empty() {
        return Err(ClientError::Invalid("a workspace needs a name".into()));
    }
    let id = Id::now_v7();
    let ws = Workspace { id, name: name.to_string(), role: Some("owner".into()), cursor: 0, head: 0, personal: false, local_only: false };
    store::upsert_workspace(conn, &ws)?;
    let m = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: id,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields },
    };
    let doc = m.apply_locally(None, id).ok_or_else(|| ClientError::Invalid("could not create".into()))?;
    store::put_doc(conn, &doc)?;
    record(conn, &ws, m, &Fields::new())?;
    Ok(id)
}

/// Sets fields of a document. For variables and globals the pseudo-field
/// `current` sets the device-local current value, which never syncs.
pub fn set(conn: &Connection, id: Id, mut fields: Fields) -> Result<(), ClientError> {
    let mut doc = live_doc(conn, id)?;
    let ws = workspace_of(conn, &doc)?;
    if doc.kind.append_only() {
        return Err(ClientError::Invalid(format!("a {} is append-only: it can be created or deleted, never changed", doc.kind)));
    }
    if fields.is_empty() {
        return Err(ClientError::Invalid("nothing to set; pass FIELD=VALUE".into()));
    }
    let current = split_current(doc.kind, &mut fields)?;
    schema::check_fields(doc.kind, &fields)?;
    if !fields.is_empty() {
        writable(&ws)?;
        let mut merged = doc.fields.clone();
        merged.extend(fields.clone());
        schema::check_document(doc.kind, &merged)?;
        let base: Fields = fields.keys().map(|k| (k.clone(), doc.fields.get(k).cloned().unwrap_or(Value::Null))).collect();
        let m = Mutation { mutation_id: Id::now_v7(), doc_id: id, base_version: doc.version, op: Op::Set { fields } };
        doc.fields = merged;
        // Also renames the workspace when this is its document.
        store::put_doc(conn, &doc)?;
        record(conn, &ws, m, &base)?;
    }
    if let Some(v) = current {
        store::set_current_value(conn, id, &v)?;
    }
    Ok(())
}

/// Every live descendant of `id` in the view.
pub(crate) fn descendants(conn: &Connection, ws: Id, id: Id) -> Result<Vec<Document>, ClientError> {
    let mut out = Vec::new();
    let mut todo = vec![id];
    while let Some(p) = todo.pop() {
        for c in store::children(conn, ws, Some(p))? {
            todo.push(c.id);
            out.push(c);
        }
    }
    Ok(out)
}

/// Deletes a document and (in the view; the server cascades) everything under it.
pub fn delete(conn: &Connection, id: Id) -> Result<(), ClientError> {
    let mut doc = live_doc(conn, id)?;
    if doc.kind == Kind::Workspace {
        return Err(ClientError::Invalid("deleting a whole workspace is not supported by this device yet".into()));
    }
    let ws = workspace_of(conn, &doc)?;
    writable(&ws)?;
    let m = Mutation { mutation_id: Id::now_v7(), doc_id: id, base_version: doc.version, op: Op::Delete };
    let base = doc.fields.clone();
    for mut d in descendants(conn, ws.id, id)? {
        d.deleted = true;
        store::put_doc(conn, &d)?;
    }
    doc.deleted = true;
    store::put_doc(conn, &doc)?;
    record(conn, &ws, m, &base)
}

/// Moves a document under `parent` (`None`: keep its parent) at `pos`.
pub fn move_doc(conn: &Connection, id: Id, parent: Option<Id>, pos: Position) -> Result<(), ClientError> {
    let mut doc = live_doc(conn, id)?;
    let ws = workspace_of(conn, &doc)?;
    writable(&ws)?;
    let parent = parent.or(doc.parent_id);
    check_parent(conn, doc.kind, &ws, parent)?;
    if let Some(p) = parent
        && (p == id || descendants(conn, ws.id, id)?.iter().any(|d| d.id == p))
    {
        return Err(ClientError::Invalid("a document cannot move inside itself".into()));
    }
    let siblings: Vec<Document> = store::children(conn, ws.id, parent)?.into_iter().filter(|d| d.id != id).collect();
    let key = model::tree::key_at(&siblings, pos).map_err(|e| ClientError::Invalid(e.to_string()))?;
    let m = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: id,
        base_version: doc.version,
        op: Op::Move { parent_id: parent, order_key: key.clone() },
    };
    doc.parent_id = parent;
    doc.order_key = Some(key);
    store::put_doc(conn, &doc)?;
    record(conn, &ws, m, &Fields::new())
}

/// Brings a deleted document back with `fields` (keeping an edit that
/// conflicted with somebody's delete).
pub fn restore(conn: &Connection, id: Id, fields: Fields) -> Result<(), ClientError> {
    let mut doc = store::doc(conn, id)?.ok_or_else(|| ClientError::NotFound(format!("no document with id {id} on this device")))?;
    let ws = workspace_of(conn, &doc)?;
    writable(&ws)?;
    schema::check_fields(doc.kind, &fields)?;
    let base: Fields = fields.keys().map(|k| (k.clone(), doc.fields.get(k).cloned().unwrap_or(Value::Null))).collect();
    let m = Mutation { mutation_id: Id::now_v7(), doc_id: id, base_version: doc.version, op: Op::Restore { fields: fields.clone() } };
    doc.deleted = false;
    doc.fields.extend(fields);
    store::put_doc(conn, &doc)?;
    record(conn, &ws, m, &base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratchpad;
    use crate::store::Store;
    use serde_json::json;

    fn f(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn synced_ws(s: &Store) -> Workspace {
        store::test_workspace(s)
    }

    #[test]
    fn create_set_delete_queue_mutations_and_cascade_in_the_view() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = synced_ws(&s);
        let c = s.write(|tx| create(tx, &ws, Kind::Collection, None, f(json!({"name": "C"})))).unwrap();
        let r = s.write(|tx| create(tx, &ws, Kind::Request, Some(c), f(json!({"name": "R", "url": "u"})))).unwrap();
        s.write(|tx| set(tx, r, f(json!({"name": "R2"})))).unwrap();
        assert_eq!(s.read(outbox::count).unwrap(), 3);
        let p = s.read(|tx| outbox::for_doc(tx, r)).unwrap();
        assert_eq!(p[1].base_fields, f(json!({"name": "R"})));
        s.write(|tx| delete(tx, c)).unwrap();
        assert!(s.read(|tx| store::doc(tx, r)).unwrap().unwrap().deleted);
        assert_eq!(s.read(outbox::count).unwrap(), 4);
    }

    #[test]
    fn bad_input_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = synced_ws(&s);
        let c = s.write(|tx| create(tx, &ws, Kind::Collection, None, f(json!({"name": "C"})))).unwrap();
        let e = s.write(|tx| create(tx, &ws, Kind::Request, None, f(json!({"name": "R"})))).unwrap_err();
        assert!(e.to_string().contains("--parent"), "{e}");
        let e = s.write(|tx| create(tx, &ws, Kind::Variable, Some(c), f(json!({"key": "k"})))).unwrap_err();
        assert!(e.to_string().contains("environment"), "{e}");
        let e = s.write(|tx| set(tx, c, f(json!({"nmae": "x"})))).unwrap_err();
        assert!(e.to_string().contains("'nmae'"), "{e}");
        let h = s.write(|tx| create(tx, &ws, Kind::History, None, f(json!({"method": "GET", "url": "u"})))).unwrap();
        let e = s.write(|tx| set(tx, h, f(json!({"url": "v"})))).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        assert_eq!(s.read(outbox::count).unwrap(), 2);
    }

    #[test]
    fn move_orders_between_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = s.write(|tx| scratchpad::ensure(tx)).unwrap();
        let c = s.write(|tx| create(tx, &ws, Kind::Collection, None, f(json!({"name": "C"})))).unwrap();
        let mk = |n: &str| s.write(|tx| create(tx, &ws, Kind::Request, Some(c), f(json!({"name": n})))).unwrap();
        let (a, b, x) = (mk("a"), mk("b"), mk("x"));
        s.write(|tx| move_doc(tx, x, None, Position::Before(b))).unwrap();
        let order: Vec<Id> = s.read(|tx| store::children(tx, ws.id, Some(c))).unwrap().iter().map(|d| d.id).collect();
        assert_eq!(order, vec![a, x, b]);
        s.write(|tx| move_doc(tx, a, None, Position::After(b))).unwrap();
        let order: Vec<Id> = s.read(|tx| store::children(tx, ws.id, Some(c))).unwrap().iter().map(|d| d.id).collect();
        assert_eq!(order, vec![x, b, a]);
        // The scratch pad never queues anything.
        assert_eq!(s.read(outbox::count).unwrap(), 0);
        let e = s.write(|tx| move_doc(tx, c, Some(a), Position::End)).unwrap_err();
        assert!(e.to_string().contains("lives at the top"), "{e}");
    }
}
