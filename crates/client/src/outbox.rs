//! The outbox: mutations made on this device and not yet answered by the
//! server, in the order they were made, and the replay that puts them on top
//! of the server's state to make the view.

use crate::ClientError;
use crate::store;
use model::{Document, Fields, Id, Mutation};
use rusqlite::{Connection, params};

/// One waiting mutation.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// Position in the outbox (the order mutations are sent in).
    pub seq: i64,
    /// The workspace it belongs to.
    pub workspace_id: Id,
    /// The mutation as it goes on the wire.
    pub mutation: Mutation,
    /// The values the changed fields had before the edit (a conflict's base).
    pub base_fields: Fields,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn decode(rows: Vec<(i64, String, String, String)>) -> Result<Vec<Pending>, ClientError> {
    rows.into_iter()
        .map(|(seq, ws, m, base)| {
            Ok(Pending {
                seq,
                workspace_id: ws.parse().map_err(|_| ClientError::Io(format!("bad workspace id in outbox: {ws}")))?,
                mutation: serde_json::from_str(&m)?,
                base_fields: serde_json::from_str(&base)?,
            })
        })
        .collect()
}

/// Appends a mutation; returns its outbox position.
pub fn append(conn: &Connection, ws: Id, m: &Mutation, base_fields: &Fields) -> Result<i64, ClientError> {
    conn.execute(
        "INSERT INTO outbox (workspace_id, doc_id, mutation, base_fields) VALUES (?1, ?2, ?3, ?4)",
        params![
            ws.to_string(),
            m.doc_id.to_string(),
            serde_json::to_string(m)?,
            serde_json::Value::Object(base_fields.clone()).to_string()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The first `limit` waiting mutations of a workspace, in order.
pub fn for_workspace(conn: &Connection, ws: Id, limit: usize) -> Result<Vec<Pending>, ClientError> {
    let mut st =
        conn.prepare("SELECT seq, workspace_id, mutation, base_fields FROM outbox WHERE workspace_id = ?1 ORDER BY seq LIMIT ?2")?;
    let rows = st.query_map(params![ws.to_string(), limit as i64], row)?.collect::<Result<Vec<_>, _>>()?;
    decode(rows)
}

/// The waiting mutations of one document, in order.
pub fn for_doc(conn: &Connection, doc: Id) -> Result<Vec<Pending>, ClientError> {
    let mut st = conn.prepare_cached("SELECT seq, workspace_id, mutation, base_fields FROM outbox WHERE doc_id = ?1 ORDER BY seq")?;
    let rows = st.query_map([doc.to_string()], row)?.collect::<Result<Vec<_>, _>>()?;
    decode(rows)
}

/// The oldest mutation id waiting for a workspace: every mutation this
/// device minted before it has its answer stored (ids are UUID v7; text
/// order is time order).
pub fn oldest_id(conn: &Connection, ws: Id) -> Result<Option<Id>, ClientError> {
    let mut st = conn.prepare_cached("SELECT min(json_extract(mutation, '$.mutation_id')) FROM outbox WHERE workspace_id = ?1")?;
    let oldest: Option<String> = st.query_row([ws.to_string()], |r| r.get(0))?;
    Ok(oldest.and_then(|s| s.parse().ok()))
}

/// One waiting mutation by position, if it is still there.
pub fn get(conn: &Connection, seq: i64) -> Result<Option<Pending>, ClientError> {
    let mut st = conn.prepare("SELECT seq, workspace_id, mutation, base_fields FROM outbox WHERE seq = ?1")?;
    let rows = st.query_map([seq], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(decode(rows)?.pop())
}

/// Workspaces with waiting mutations, in the order of their oldest one.
pub fn workspaces_with_pending(conn: &Connection) -> Result<Vec<Id>, ClientError> {
    let mut st = conn.prepare("SELECT workspace_id FROM outbox GROUP BY workspace_id ORDER BY min(seq)")?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows.into_iter().filter_map(|s| s.parse().ok()).collect())
}

/// How many mutations wait (in all workspaces).
pub fn count(conn: &Connection) -> Result<u64, ClientError> {
    Ok(conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as u64)
}

/// Removes an answered mutation.
pub fn remove(conn: &Connection, seq: i64) -> Result<(), ClientError> {
    conn.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
    Ok(())
}

/// The view of a document: `server` (the server's state, `None` if it has
/// none) with this device's waiting mutations for it replayed on top.
pub fn replay(conn: &Connection, server: Option<Document>, doc_id: Id, ws: Id) -> Result<Option<Document>, ClientError> {
    let mut doc = server;
    for p in for_doc(conn, doc_id)? {
        doc = p.mutation.apply_locally(doc, ws);
    }
    Ok(doc)
}

/// Replaces the view of a document with `server` plus the waiting mutations;
/// removes it from the view when neither the server nor the outbox has it.
pub fn install(conn: &Connection, server: Option<Document>, doc_id: Id, ws: Id) -> Result<(), ClientError> {
    match replay(conn, server, doc_id, ws)? {
        Some(mut d) => {
            // Under a parent this device deleted (the delete still waits to
            // be sent): the server will cascade, so the view does already.
            if !d.deleted
                && let Some(p) = d.parent_id
                && parent_deleted_pending(conn, p)?
            {
                d.deleted = true;
            }
            store::put_doc(conn, &d)
        }
        None => store::remove_doc(conn, doc_id),
    }
}

/// Whether `id` is deleted in the view because an ancestor's delete waits.
fn parent_deleted_pending(conn: &Connection, id: Id) -> Result<bool, ClientError> {
    let mut cur = store::doc(conn, id)?;
    let mut hops = 0;
    while let Some(d) = cur {
        if !d.deleted || hops > 64 {
            return Ok(false);
        }
        if for_doc(conn, d.id)?.iter().any(|p| matches!(p.mutation.op, model::Op::Delete)) {
            return Ok(true);
        }
        hops += 1;
        cur = match d.parent_id {
            Some(p) => store::doc(conn, p)?,
            None => None,
        };
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use model::{Kind, Op};
    use serde_json::json;

    fn fields(v: serde_json::Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn replay_puts_pending_edits_on_the_server_doc() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = Id::now_v7();
        let id = Id::now_v7();
        let server = Document {
            id,
            kind: Kind::Request,
            workspace_id: ws,
            parent_id: None,
            order_key: Some("V".into()),
            fields: fields(json!({"name": "server", "url": "u"})),
            deleted: false,
            version: 7,
        };
        let m =
            Mutation { mutation_id: Id::now_v7(), doc_id: id, base_version: 5, op: Op::Set { fields: fields(json!({"name": "mine"})) } };
        s.write(|tx| append(tx, ws, &m, &fields(json!({"name": "old"}))).map(|_| ())).unwrap();
        s.write(|tx| install(tx, Some(server.clone()), id, ws)).unwrap();
        let view = s.read(|c| store::doc(c, id)).unwrap().unwrap();
        assert_eq!(view.fields, fields(json!({"name": "mine", "url": "u"})));
        assert_eq!(view.version, 7);
        assert_eq!(s.read(count).unwrap(), 1);
        let p = s.read(|c| for_workspace(c, ws, 10)).unwrap();
        assert_eq!(p[0].mutation, m);
        assert_eq!(p[0].base_fields, fields(json!({"name": "old"})));
        // Without a server doc and without a create, the document leaves the view.
        s.write(|tx| install(tx, None, id, ws)).unwrap();
        assert!(s.read(|c| store::doc(c, id)).unwrap().is_none());
    }
}
