//! The conflicts inbox: changes of this device the server did not apply as
//! made, kept with base, mine and theirs per field so nothing is silently lost.

use crate::outbox::Pending;
use crate::{ClientError, time};
use model::{Document, FieldConflict, Id, Kind, Op};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field of a conflict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictField {
    /// The field's name.
    pub field: String,
    /// Its value before this device's edit.
    pub base: Value,
    /// This device's value (`null` for a delete).
    pub mine: Value,
    /// The server's value now (`null` when absent or deleted).
    pub theirs: Value,
    /// The sequence number of the change that set `theirs`.
    pub theirs_version: u64,
}

/// One entry of the conflicts inbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conflict {
    /// Its number in the inbox.
    pub id: i64,
    /// The workspace of the document.
    pub workspace_id: Id,
    /// The document.
    pub doc_id: Id,
    /// The document's kind.
    pub kind: Kind,
    /// The document's title when the conflict happened.
    pub title: String,
    /// Why: `both changed`, `edited a deleted document`,
    /// `deleted an edited document`, or `rejected: <message>`.
    pub reason: String,
    /// The fields in question.
    pub fields: Vec<ConflictField>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Adds an entry for the waiting mutation `p`, given the server's answer.
/// `theirs` is the server's document (if any), `held` the fields the server
/// held back (empty: every field the mutation touched is in question).
pub fn record(conn: &Connection, p: &Pending, reason: &str, theirs: Option<&Document>, held: &[FieldConflict]) -> Result<(), ClientError> {
    let mine_fields = match &p.mutation.op {
        Op::Create { fields, .. } | Op::Set { fields } | Op::Restore { fields } => fields.clone(),
        Op::Delete | Op::Move { .. } => Default::default(),
    };
    let fields: Vec<ConflictField> = if held.is_empty() {
        let mut names: Vec<&String> = mine_fields.keys().collect();
        if names.is_empty() {
            names = p.base_fields.keys().collect();
        }
        names
            .into_iter()
            .map(|f| ConflictField {
                field: f.clone(),
                base: p.base_fields.get(f).cloned().unwrap_or(Value::Null),
                mine: mine_fields.get(f).cloned().unwrap_or(Value::Null),
                theirs: theirs.filter(|d| !d.deleted).and_then(|d| d.fields.get(f).cloned()).unwrap_or(Value::Null),
                theirs_version: theirs.map_or(0, |d| d.version),
            })
            .collect()
    } else {
        held.iter()
            .map(|c| ConflictField {
                field: c.field.clone(),
                base: p.base_fields.get(&c.field).cloned().unwrap_or(Value::Null),
                mine: mine_fields.get(&c.field).cloned().unwrap_or(Value::Null),
                theirs: c.theirs.clone(),
                theirs_version: c.version,
            })
            .collect()
    };
    // Describe the document as the person knew it.
    let local = crate::store::doc(conn, p.mutation.doc_id)?;
    let known = theirs.or(local.as_ref());
    let kind = match (&p.mutation.op, known) {
        (Op::Create { kind, .. }, _) => *kind,
        (_, Some(d)) => d.kind,
        _ => Kind::Workspace,
    };
    let title = match (&p.mutation.op, known) {
        (_, Some(d)) if !d.title().is_empty() => d.title().to_string(),
        (Op::Create { fields, .. }, _) => {
            ["name", "key", "url"].iter().find_map(|f| fields.get(*f).and_then(Value::as_str)).unwrap_or("").to_string()
        }
        _ => String::new(),
    };
    conn.execute(
        "INSERT INTO conflicts (workspace_id, doc_id, kind, title, reason, fields, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            p.workspace_id.to_string(),
            p.mutation.doc_id.to_string(),
            kind.as_str(),
            title,
            reason,
            serde_json::to_string(&fields)?,
            time::now_ms()
        ],
    )?;
    Ok(())
}

/// Every entry, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Conflict>, ClientError> {
    let mut st = conn.prepare("SELECT id, workspace_id, doc_id, kind, title, reason, fields, created_at FROM conflicts ORDER BY id")?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, ws, doc, kind, title, reason, fields, created_at)| {
            let bad = |what: &str| ClientError::Io(format!("bad {what} in the conflicts table"));
            Ok(Conflict {
                id,
                workspace_id: ws.parse().map_err(|_| bad("workspace id"))?,
                doc_id: doc.parse().map_err(|_| bad("document id"))?,
                kind: kind.parse().map_err(|_| bad("kind"))?,
                title,
                reason,
                fields: serde_json::from_str(&fields)?,
                created_at,
            })
        })
        .collect()
}

/// How many entries wait.
pub fn count(conn: &Connection) -> Result<u64, ClientError> {
    Ok(conn.query_row("SELECT count(*) FROM conflicts", [], |r| r.get::<_, i64>(0))? as u64)
}

/// Removes an entry (once the person has dealt with it).
pub fn dismiss(conn: &Connection, id: i64) -> Result<bool, ClientError> {
    Ok(conn.execute("DELETE FROM conflicts WHERE id = ?1", [id])? > 0)
}

/// Which side of a conflict to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// This device's change: it is made again as a new mutation.
    Mine,
    /// The server's state: the entry is simply dismissed.
    Theirs,
}

/// Resolves an entry: keeping mine makes an ordinary new edit (set, restore
/// or delete) from the current view; keeping theirs dismisses it. `only`
/// limits "mine" to some fields (empty: all of them).
pub fn resolve(conn: &Connection, id: i64, keep: Keep, only: &[String]) -> Result<(), ClientError> {
    let c = list(conn)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ClientError::NotFound(format!("no conflict #{id}; `apisync conflicts` lists them")))?;
    if let Some(f) = only.iter().find(|f| !c.fields.iter().any(|cf| &cf.field == *f)) {
        return Err(ClientError::Invalid(format!("conflict #{id} has no field '{f}'")));
    }
    if keep == Keep::Mine {
        let fields: model::Fields =
            c.fields.iter().filter(|f| only.is_empty() || only.contains(&f.field)).map(|f| (f.field.clone(), f.mine.clone())).collect();
        let view = crate::store::doc(conn, c.doc_id)?;
        if c.reason.starts_with("rejected:") {
            return Err(ClientError::Invalid(format!(
                "conflict #{id} is a change the server refused ({}); it cannot be sent again as it was — make the change anew if it is still wanted, then `apisync resolve {id} --theirs`",
                c.reason
            )));
        }
        match view {
            None => return Err(ClientError::NotFound(format!("document {} is no longer on this device", c.doc_id))),
            Some(d) if c.reason.starts_with("deleted") => {
                if !d.deleted {
                    crate::edit::delete(conn, d.id)?;
                }
            }
            Some(d) if d.deleted => crate::edit::restore(conn, d.id, fields)?,
            Some(d) => crate::edit::set(conn, d.id, fields)?,
        }
    }
    dismiss(conn, id)?;
    Ok(())
}
