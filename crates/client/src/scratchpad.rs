//! The scratch pad: the local-only workspace a signed-out device works in.
//! Nothing in it is ever sent; signing in or out leaves it untouched.

use crate::ClientError;
use crate::store::{self, Workspace};
use model::{Document, Fields, Id, Kind};
use rusqlite::{Connection, OptionalExtension};

/// The scratch pad's name.
pub const NAME: &str = "Scratch Pad";

/// The scratch pad, if it was ever used.
pub fn find(conn: &Connection) -> Result<Option<Workspace>, ClientError> {
    let id: Option<String> =
        conn.query_row("SELECT id FROM workspaces WHERE local_only = 1 ORDER BY id LIMIT 1", [], |r| r.get(0)).optional()?;
    match id.and_then(|s| s.parse::<Id>().ok()) {
        Some(id) => store::workspace(conn, id),
        None => Ok(None),
    }
}

/// The scratch pad, created on first use (call inside a write transaction).
pub fn ensure(conn: &Connection) -> Result<Workspace, ClientError> {
    if let Some(ws) = find(conn)? {
        return Ok(ws);
    }
    let id = Id::now_v7();
    let ws = Workspace { id, name: NAME.into(), role: None, cursor: 0, head: 0, personal: false, local_only: true };
    store::upsert_workspace(conn, &ws)?;
    let mut fields = Fields::new();
    fields.insert("name".into(), NAME.into());
    store::put_doc(
        conn,
        &Document { id, kind: Kind::Workspace, workspace_id: id, parent_id: None, order_key: None, fields, deleted: false, version: 0 },
    )?;
    Ok(ws)
}
