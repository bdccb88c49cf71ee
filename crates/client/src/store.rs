//! The device's local SQLite database: opening it, its schema migrations, and
//! the rows of `meta`, `workspaces` and `docs` (the view the person sees).
//!
//! Several apisync processes may share one profile, so every write is a
//! `BEGIN IMMEDIATE` transaction and every cursor or version only moves up.

use crate::{ClientError, erase};
use model::{Document, Fields, Id, Kind};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Schema migrations (`crates/client/migrations`), applied in order by
/// `rusqlite_migration`; `user_version` counts those applied. A released
/// file never changes: a new one is added instead.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_erase_pending.sql"),
    include_str!("../migrations/0003_siblings_by_order.sql"),
];

/// The open database. The connection sits behind a mutex so a [`crate::Device`]
/// can be shared between tasks; no lock is ever held across an `.await`.
pub(crate) struct Store {
    conn: Mutex<Connection>,
    /// Counts the write transactions this process committed, so watchers in
    /// the process (the live channel's push, the app's pages) hear of a
    /// change at once instead of at their next poll.
    writes: tokio::sync::watch::Sender<u64>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, ClientError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows and freed pages are overwritten with zeros, not just
        // unlinked: what sign-out deletes must not stay readable (`erase.rs`).
        conn.pragma_update(None, "secure_delete", "ON")?;
        migrate(&mut conn)?;
        let store = Store { conn: Mutex::new(conn), writes: tokio::sync::watch::Sender::new(0) };
        // A sign-out cut short by a crash, or an upgraded profile, is
        // erased before anything else reads or writes. A failure here (a
        // busy profile, a full disk) must not lock the person out of the
        // profile: the mark stays and every later open tries again.
        let _ = store.maintain(erase::finish);
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the
        // transaction rolls back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the connection (reads).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R, ClientError>) -> Result<R, ClientError> {
        f(&self.lock())
    }

    /// Runs `f` on the connection outside any transaction (`VACUUM` fails
    /// inside one, and a checkpoint cannot finish while one is open).
    pub fn maintain<R>(&self, f: impl FnOnce(&Connection) -> Result<R, ClientError>) -> Result<R, ClientError> {
        f(&self.lock())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f` succeeds.
    pub fn write<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R, ClientError>) -> Result<R, ClientError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let r = f(&tx)?;
        tx.commit()?;
        drop(conn);
        self.writes.send_modify(|n| *n = n.wrapping_add(1));
        Ok(r)
    }

    /// A receiver that changes after every write transaction this process commits.
    pub fn writes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.writes.subscribe()
    }
}

fn migrations() -> rusqlite_migration::Migrations<'static> {
    rusqlite_migration::Migrations::new(MIGRATIONS.iter().map(|sql| rusqlite_migration::M::up(sql)).collect())
}

fn schema_version(conn: &Connection) -> Result<usize, ClientError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?.max(0) as usize)
}

/// Applies the migrations this profile has not had yet; refuses a schema
/// newer than this build knows (its data may mean what this build cannot read).
fn migrate(conn: &mut Connection) -> Result<(), ClientError> {
    // A migration's transaction takes the write lock at once, waiting for
    // another process of the profile instead of failing at its first write.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    let result = to_latest(conn);
    conn.set_transaction_behavior(TransactionBehavior::Deferred);
    result
}

fn to_latest(conn: &mut Connection) -> Result<(), ClientError> {
    // The migrator reads the version before its transaction, so a process
    // opening the profile beside another may find its migrations applied
    // meanwhile: then it looks again, once.
    let mut retries = 1;
    loop {
        let before = schema_version(conn)?;
        if before > MIGRATIONS.len() {
            return Err(ClientError::SchemaTooNew { found: before, known: MIGRATIONS.len() });
        }
        match migrations().to_latest(conn) {
            Ok(()) => return Ok(()),
            Err(_) if retries > 0 && schema_version(conn)? != before => retries -= 1,
            Err(rusqlite_migration::Error::RusqliteError { err, .. }) => return Err(err.into()),
            Err(e) => return Err(ClientError::Io(format!("cannot bring the profile's database up to date: {e}"))),
        }
    }
}

// ---- meta ----

/// Reads a `meta` value.
pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>, ClientError> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

/// Writes a `meta` value.
pub fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Deletes a `meta` value.
pub fn meta_delete(conn: &Connection, key: &str) -> Result<(), ClientError> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

/// A value that moves whenever a document, workspace or current value row changes, in
/// this process or another: every document write replaces its row (a new
/// rowid), so the rowids' count, maximum and sum move with it.
pub fn change_marker(conn: &Connection) -> Result<u64, ClientError> {
    use std::hash::{Hash, Hasher};
    let docs: (i64, i64, f64) =
        conn.query_row("SELECT count(*), coalesce(max(rowid), 0), total(rowid) FROM docs", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let workspaces: String = conn.query_row(
        "SELECT coalesce(group_concat(id || ':' || name || ':' || coalesce(role, ''), ','), '') FROM workspaces",
        [],
        |r| r.get(0),
    )?;
    // Current values are device-local and live in their own table; a page
    // showing them follows `apisync set VAR current=…` the same way.
    let current: (i64, i64, f64) =
        conn.query_row("SELECT count(*), coalesce(max(rowid), 0), total(rowid) FROM current_values", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (docs.0, docs.1, docs.2.to_bits(), workspaces, current.0, current.1, current.2.to_bits()).hash(&mut h);
    Ok(h.finish())
}

// ---- workspaces ----

/// A workspace this device knows.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Workspace {
    /// Its id (also the id of its `workspace` document).
    pub id: Id,
    /// Its name.
    pub name: String,
    /// The user's role in it (`owner`, `editor`, …); `None` for the scratch pad.
    pub role: Option<String>,
    /// The last workspace sequence number this device has everything up to.
    pub cursor: u64,
    /// The server's latest sequence number, as last heard.
    pub head: u64,
    /// The account's own "My Workspace".
    pub personal: bool,
    /// The scratch pad: never sent anywhere.
    pub local_only: bool,
}

const WS_COLS: &str = "id, name, role, cursor, head, personal, local_only";

fn ws_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: parse_id(&r.get::<_, String>(0)?)?,
        name: r.get(1)?,
        role: r.get(2)?,
        cursor: r.get::<_, i64>(3)? as u64,
        head: r.get::<_, i64>(4)? as u64,
        personal: r.get(5)?,
        local_only: r.get(6)?,
    })
}

fn parse_id(s: &str) -> rusqlite::Result<Id> {
    s.parse().map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// Every workspace, personal first, then by name.
pub fn workspaces(conn: &Connection) -> Result<Vec<Workspace>, ClientError> {
    let mut st = conn.prepare(&format!("SELECT {WS_COLS} FROM workspaces ORDER BY local_only, personal DESC, name COLLATE NOCASE, id"))?;
    let rows = st.query_map([], ws_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// One workspace by id.
pub fn workspace(conn: &Connection, id: Id) -> Result<Option<Workspace>, ClientError> {
    Ok(conn.query_row(&format!("SELECT {WS_COLS} FROM workspaces WHERE id = ?1"), [id.to_string()], ws_row).optional()?)
}

/// Inserts a workspace, or refreshes its name, role, head and personal flag
/// (the cursor is never lowered).
pub fn upsert_workspace(conn: &Connection, ws: &Workspace) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO workspaces (id, name, role, cursor, head, personal, local_only)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
           head = max(head, excluded.head), personal = excluded.personal,
           cursor = max(cursor, excluded.cursor)",
        params![ws.id.to_string(), ws.name, ws.role, ws.cursor as i64, ws.head as i64, ws.personal, ws.local_only],
    )?;
    Ok(())
}

/// Moves a workspace's cursor (and head) up to `seq`; never down.
pub fn advance_cursor(conn: &Connection, ws: Id, cursor: u64, head: u64) -> Result<(), ClientError> {
    conn.execute(
        "UPDATE workspaces SET cursor = max(cursor, ?2), head = max(head, ?3) WHERE id = ?1",
        params![ws.to_string(), cursor as i64, head as i64],
    )?;
    Ok(())
}

/// Deletes the documents of a workspace that are not in `keep` and have no
/// unsent edit, with their current values: after a restore, what the
/// server no longer has.
pub fn drop_docs_except(conn: &Connection, ws: Id, keep: &HashSet<Id>) -> Result<(), ClientError> {
    let mut stmt =
        conn.prepare("SELECT id FROM docs WHERE workspace_id = ?1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.doc_id = docs.id)")?;
    let local = stmt.query_map([ws.to_string()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    let mut values = conn.prepare_cached("DELETE FROM current_values WHERE doc_id = ?1")?;
    let mut docs = conn.prepare_cached("DELETE FROM docs WHERE id = ?1")?;
    for raw in local {
        if Id::parse_str(&raw).is_ok_and(|id| keep.contains(&id)) {
            continue;
        }
        values.execute([&raw])?;
        docs.execute([&raw])?;
    }
    Ok(())
}

/// Deletes a workspace and everything of it on this device.
pub fn drop_workspace(conn: &Connection, ws: Id) -> Result<(), ClientError> {
    let id = ws.to_string();
    conn.execute("DELETE FROM current_values WHERE doc_id IN (SELECT id FROM docs WHERE workspace_id = ?1)", [&id])?;
    for table in ["docs", "outbox", "conflicts"] {
        conn.execute(&format!("DELETE FROM {table} WHERE workspace_id = ?1"), [&id])?;
    }
    conn.execute("DELETE FROM workspaces WHERE id = ?1", [&id])?;
    meta_delete(conn, &crate::profile::keys::active_environment(ws))?;
    Ok(())
}

// ---- docs (the view) ----

const DOC_COLS: &str = "id, workspace_id, kind, parent_id, order_key, fields, deleted, version";

fn doc_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    let conv = |i: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e)
    };
    let kind: String = r.get(2)?;
    let fields: String = r.get(5)?;
    Ok(Document {
        id: parse_id(&r.get::<_, String>(0)?)?,
        workspace_id: parse_id(&r.get::<_, String>(1)?)?,
        kind: kind.parse::<Kind>().map_err(|e| conv(2, Box::new(e)))?,
        parent_id: r.get::<_, Option<String>>(3)?.map(|s| parse_id(&s)).transpose()?,
        order_key: r.get(4)?,
        fields: serde_json::from_str::<Fields>(&fields).map_err(|e| conv(5, Box::new(e)))?,
        deleted: r.get(6)?,
        version: r.get::<_, i64>(7)? as u64,
    })
}

/// One document of the view, deleted or not.
pub fn doc(conn: &Connection, id: Id) -> Result<Option<Document>, ClientError> {
    let mut st =
        conn.prepare_cached("SELECT id, workspace_id, kind, parent_id, order_key, fields, deleted, version FROM docs WHERE id = ?1")?;
    Ok(st.query_row([id.to_string()], doc_row).optional()?)
}

/// The version of a document in the view, without reading its fields.
pub fn doc_version(conn: &Connection, id: Id) -> Result<Option<u64>, ClientError> {
    let mut st = conn.prepare_cached("SELECT version FROM docs WHERE id = ?1")?;
    Ok(st.query_row([id.to_string()], |r| r.get::<_, i64>(0)).optional()?.map(|v| v.max(0) as u64))
}

/// Writes a document into the view (insert or replace).
pub fn put_doc(conn: &Connection, d: &Document) -> Result<(), ClientError> {
    put_doc_text(conn, d, &serde_json::to_string(&d.fields)?)?;
    // The workspace's name follows its document, whoever changed it: a
    // rename pulled or heard live shows in the list without a full sync.
    if d.kind == model::Kind::Workspace
        && d.id == d.workspace_id
        && !d.deleted
        && let Some(name) = d.fields.get("name").and_then(|v| v.as_str())
    {
        conn.execute("UPDATE workspaces SET name = ?2 WHERE id = ?1", params![d.id.to_string(), name])?;
    }
    Ok(())
}

/// Writes a document into the view with `fields`, its fields' JSON text
/// (`d.fields` is not read): a pulled document's, as the server sent it.
/// Not for a workspace's own document, whose name [`put_doc`] also follows.
pub fn put_doc_text(conn: &Connection, d: &Document, fields: &str) -> Result<(), ClientError> {
    // Restores write thousands of these in one transaction: the statement is prepared once.
    let mut st = conn.prepare_cached(
        "INSERT OR REPLACE INTO docs (id, workspace_id, kind, parent_id, order_key, fields, deleted, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    st.execute(params![
        d.id.to_string(),
        d.workspace_id.to_string(),
        d.kind.as_str(),
        d.parent_id.map(|p| p.to_string()),
        d.order_key,
        fields,
        d.deleted,
        d.version as i64
    ])?;
    Ok(())
}

/// Removes a document from the view.
pub fn remove_doc(conn: &Connection, id: Id) -> Result<(), ClientError> {
    conn.execute("DELETE FROM docs WHERE id = ?1", [id.to_string()])?;
    Ok(())
}

/// The live (not deleted) documents of a workspace.
pub fn live_docs(conn: &Connection, ws: Id) -> Result<Vec<Document>, ClientError> {
    let mut st = conn.prepare(&format!("SELECT {DOC_COLS} FROM docs WHERE workspace_id = ?1 AND deleted = 0"))?;
    let rows = st.query_map([ws.to_string()], doc_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The live children of `parent` (`None`: top level, other than the
/// workspace document itself), in sibling order.
pub fn children(conn: &Connection, ws: Id, parent: Option<Id>) -> Result<Vec<Document>, ClientError> {
    let mut st = conn.prepare(&format!(
        "SELECT {DOC_COLS} FROM docs WHERE workspace_id = ?1 AND parent_id IS ?2 AND deleted = 0 AND kind != 'workspace'"
    ))?;
    let mut rows = st.query_map(params![ws.to_string(), parent.map(|p| p.to_string())], doc_row)?.collect::<Result<Vec<_>, _>>()?;
    rows.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
    Ok(rows)
}

/// The highest ordering key among the live children of `parent` (the last
/// sibling: SQLite's binary text order is Rust's `str` order).
pub fn last_child_key(conn: &Connection, ws: Id, parent: Option<Id>, except: Option<Id>) -> Result<Option<String>, ClientError> {
    Ok(conn
        .query_row(
            "SELECT order_key FROM docs WHERE workspace_id = ?1 AND parent_id IS ?2 AND deleted = 0
               AND kind != 'workspace' AND order_key IS NOT NULL AND id IS NOT ?3
             ORDER BY order_key DESC, id DESC LIMIT 1",
            params![ws.to_string(), parent.map(|p| p.to_string()), except.map(|e| e.to_string())],
            |r| r.get(0),
        )
        .optional()?)
}

/// The device-local current value of a variable.
pub fn current_value(conn: &Connection, id: Id) -> Result<Option<serde_json::Value>, ClientError> {
    let v: Option<String> =
        conn.query_row("SELECT value FROM current_values WHERE doc_id = ?1", [id.to_string()], |r| r.get(0)).optional()?;
    Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Sets the device-local current value of a variable.
pub fn set_current_value(conn: &Connection, id: Id, value: &serde_json::Value) -> Result<(), ClientError> {
    conn.execute("INSERT OR REPLACE INTO current_values (doc_id, value) VALUES (?1, ?2)", params![id.to_string(), value.to_string()])?;
    Ok(())
}

/// A signed-in workspace the tests can edit in (role owner, synced).
#[cfg(test)]
pub(crate) fn test_workspace(s: &Store) -> Workspace {
    let ws =
        Workspace { id: Id::now_v7(), name: "W".into(), role: Some("owner".into()), cursor: 0, head: 0, personal: true, local_only: false };
    if let Err(e) = s.write(|tx| upsert_workspace(tx, &ws)) {
        panic!("cannot store the test workspace: {e}");
    }
    ws
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_keeps_meta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apisync.db");
        let s = Store::open(&path).unwrap();
        s.write(|tx| meta_set(tx, "k", "v")).unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.read(|c| meta_get(c, "k")).unwrap().as_deref(), Some("v"));
        let v: i64 = s.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn every_migration_file_is_listed_and_a_second_run_changes_nothing() {
        migrations().validate().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let files = std::fs::read_dir(dir).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "sql")).count();
        assert_eq!(files, MIGRATIONS.len(), "a file in crates/client/migrations is missing from MIGRATIONS");

        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let schema = |c: &Connection| -> Vec<String> {
            let mut st = c.prepare("SELECT coalesce(sql, name) FROM sqlite_schema ORDER BY name").unwrap();
            st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
        };
        let first = schema(&conn);
        let changes = conn.total_changes();
        migrate(&mut conn).unwrap();
        assert_eq!(schema(&conn), first);
        assert_eq!(conn.total_changes(), changes, "a second migration wrote rows");
        assert_eq!(schema_version(&conn).unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn a_profile_of_a_newer_schema_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apisync.db");
        let s = Store::open(&path).unwrap();
        s.write(|tx| meta_set(tx, "k", "v")).unwrap();
        drop(s);
        let newer = MIGRATIONS.len() + 2;
        Connection::open(&path).unwrap().pragma_update(None, "user_version", newer as i64).unwrap();

        let err = Store::open(&path).err().expect("a newer schema was opened");
        assert!(matches!(err, ClientError::SchemaTooNew { found, known } if found == newer && known == MIGRATIONS.len()), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("schema {newer}, this build knows {}", MIGRATIONS.len())) && message.contains("upgrade apisync"),
            "{message}"
        );
        let conn = Connection::open(&path).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), newer);
        assert_eq!(meta_get(&conn, "k").unwrap().as_deref(), Some("v"));
    }

    #[test]
    fn a_new_profile_is_not_erased_on_creation() {
        let dir = tempfile::tempdir().unwrap();
        let _s = Store::open(&dir.path().join("apisync.db")).unwrap();
        // An erase would have emptied the WAL; the migrations' writes are
        // still in it, so nothing was rewritten.
        assert!(std::fs::metadata(dir.path().join("apisync.db-wal")).unwrap().len() > 0);
    }

    #[test]
    fn a_profile_of_the_first_schema_opens_and_loses_what_its_sign_outs_left() {
        use crate::erase::tests::files_holding;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apisync.db");
        // As the first version left it: schema 1, and an account's request
        // deleted at sign-out without secure_delete.
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', 'kept-device')", []).unwrap();
        let ws = Id::now_v7().to_string();
        conn.execute("INSERT INTO workspaces (id, name, local_only) VALUES (?1, 'Scratch Pad', 1)", [&ws]).unwrap();
        conn.execute(
            "INSERT INTO docs (id, workspace_id, kind, fields) VALUES ('pad', ?1, 'collection', '{\"name\":\"kept-pad\"}')",
            [&ws],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO docs (id, workspace_id, kind, fields) VALUES ('gone', 'w', 'request', '{\"name\":\"old-signout-9b1e\"}')",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM docs WHERE id = 'gone'", []).unwrap();
        drop(conn);
        assert!(!files_holding(dir.path(), "old-signout-9b1e").is_empty(), "the old version's leftovers were not simulated");

        let s = Store::open(&path).unwrap();
        assert!(files_holding(dir.path(), "old-signout-9b1e").is_empty());
        assert_eq!(s.read(|c| meta_get(c, "device_id")).unwrap().as_deref(), Some("kept-device"));
        assert!(!s.read(erase::pending).unwrap());
        let v: i64 = s.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let pad = crate::scratchpad::find(&s.lock()).unwrap().unwrap();
        assert_eq!(pad.id.to_string(), ws);
        assert!(!files_holding(dir.path(), "kept-pad").is_empty());
    }

    #[test]
    fn the_change_marker_moves_when_a_current_value_is_set_again() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let id = Id::now_v7();
        let m0 = s.read(change_marker).unwrap();
        s.write(|tx| set_current_value(tx, id, &serde_json::json!("a"))).unwrap();
        let m1 = s.read(change_marker).unwrap();
        s.write(|tx| set_current_value(tx, id, &serde_json::json!("b"))).unwrap();
        let m2 = s.read(change_marker).unwrap();
        assert!(m0 != m1 && m1 != m2, "{m0} {m1} {m2}");
    }

    #[test]
    fn cursor_never_moves_down() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let id = Id::now_v7();
        let ws = Workspace { id, name: "W".into(), role: None, cursor: 5, head: 5, personal: false, local_only: false };
        s.write(|tx| upsert_workspace(tx, &ws)).unwrap();
        s.write(|tx| advance_cursor(tx, id, 3, 3)).unwrap();
        s.write(|tx| upsert_workspace(tx, &Workspace { cursor: 0, ..ws.clone() })).unwrap();
        assert_eq!(s.read(|c| workspace(c, id)).unwrap().unwrap().cursor, 5);
    }
}
