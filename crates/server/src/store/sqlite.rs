//! The embedded SQLite backend: one file in the data directory, WAL mode,
//! one writer connection and a few readers.

use super::{DeviceRecord, Page, PageDoc, PushCommit, PushRefused, SessionRecord, SignIn, StoreError, UserRecord, raw_fields};
use crate::push::{DocSource, apply_batch};
use model::{Clock, Document, Fields, Id, Kind, Mutation, Op, Stored};
use protocol::{DeviceInfo, MutationResult, PushResponse, Role, User, WorkspaceInfo};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

mod lifecycle;
mod teams;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE devices (
    num INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    signed_in_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    signed_in INTEGER NOT NULL,
    UNIQUE (user_id, device_id)
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    device_num INTEGER NOT NULL REFERENCES devices(num) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT
);
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    personal INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id);
CREATE TABLE docs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    parent_id TEXT,
    order_key TEXT,
    fields TEXT NOT NULL,
    clocks TEXT NOT NULL,
    deleted_seq INTEGER,
    deleted_dev INTEGER,
    version INTEGER NOT NULL
);
CREATE INDEX docs_changes ON docs(workspace_id, version);
CREATE INDEX docs_parent ON docs(parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE change_log (
    workspace_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    mutation_id TEXT NOT NULL,
    device_num INTEGER NOT NULL,
    op TEXT NOT NULL,
    payload TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, seq)
) WITHOUT ROWID;
CREATE TABLE mutations (
    mutation_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    result TEXT NOT NULL
) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX team_members_user ON team_members(user_id);
CREATE TABLE team_workspaces (
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, workspace_id)
) WITHOUT ROWID;
CREATE INDEX team_workspaces_ws ON team_workspaces(workspace_id);
"#,
    r#"
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE gone_sessions (
    token_hash TEXT PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
];

const READERS: usize = 4;

/// The SQLite store.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Tells the checkpointer thread to finish.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// WAL pages (4 KiB) past which the checkpointer insists, briefly holding writers back.
const WAL_PAGES_LIMIT: i64 = 16_384;

/// Checkpoints the WAL on its own thread and connection. Left to SQLite, a
/// checkpoint runs inside whichever commit crosses the threshold: measured
/// here, that more than doubled a push's commit (10 ms to 24 ms).
fn spawn_checkpointer(path: std::path::PathBuf, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Result<(), StoreError> {
    let conn = open_conn(&path)?;
    std::thread::Builder::new()
        .name("apisync-checkpoint".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                // (busy, WAL pages, pages checkpointed); a busy answer just waits for the next turn.
                let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)));
                match passive {
                    Ok((_, pages)) if pages > WAL_PAGES_LIMIT => {
                        let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
                }
            }
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        })
        .map_err(|e| StoreError::Task(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Room for the multi-row INSERTs beside the per-request statements.
    conn.set_prepared_statement_cache_capacity(64);
    // FULL: a change the server acknowledged survives a power cut too.
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    Ok(conn)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves SQLite consistent (transactions
    // roll back on drop), so the poison flag carries no information.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn id(s: String) -> Result<Id, StoreError> {
    Id::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("bad id {s}: {e}")))
}

fn role_from(s: &str) -> Result<Role, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| StoreError::Corrupt(format!("bad role {s}")))
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Editor => "editor",
        Role::Viewer => "viewer",
    }
}

const DOC_COLUMNS: &str = "id, workspace_id, kind, parent_id, order_key, fields, clocks, deleted_seq, deleted_dev, version";

fn stored_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Stored, StoreError>> {
    let del_seq: Option<i64> = row.get(7)?;
    let del_dev: Option<i64> = row.get(8)?;
    let version: i64 = row.get(9)?;
    let (doc_id, ws, kind): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let (parent, order_key): (Option<String>, Option<String>) = (row.get(3)?, row.get(4)?);
    let (fields, clocks): (String, String) = (row.get(5)?, row.get(6)?);
    Ok((|| {
        let kind: Kind = kind.parse().map_err(|e: model::UnknownKind| StoreError::Corrupt(e.to_string()))?;
        let fields: Fields = serde_json::from_str(&fields)?;
        let clocks: BTreeMap<String, (u64, u64)> = serde_json::from_str(&clocks)?;
        Ok(Stored {
            doc: Document {
                id: id(doc_id)?,
                kind,
                workspace_id: id(ws)?,
                parent_id: parent.map(id).transpose()?,
                order_key,
                fields,
                deleted: del_seq.is_some(),
                version: version as u64,
            },
            clocks: clocks.into_iter().map(|(k, (seq, device))| (k, Clock { seq, device })).collect(),
            deleted_at: del_seq.map(|seq| Clock { seq: seq as u64, device: del_dev.unwrap_or(0) as u64 }),
        })
    })())
}

/// Documents and earlier results for one batch, read up front with two
/// queries instead of two per mutation; anything not preloaded is read on
/// demand.
struct TxSource<'t> {
    tx: &'t Transaction<'t>,
    docs: HashMap<Id, Option<Stored>>,
    priors: HashMap<Id, MutationResult>,
}

impl<'t> TxSource<'t> {
    fn preload(tx: &'t Transaction<'t>, mutations: &[Mutation]) -> Result<TxSource<'t>, StoreError> {
        let mut ids: Vec<Id> = mutations.iter().map(|m| m.doc_id).collect();
        ids.extend(mutations.iter().filter_map(|m| match &m.op {
            Op::Create { parent_id, .. } | Op::Move { parent_id, .. } => *parent_id,
            _ => None,
        }));
        ids.sort();
        ids.dedup();
        // Every id asked for is known afterwards: found, or known absent.
        let mut docs: HashMap<Id, Option<Stored>> = ids.iter().map(|i| (*i, None)).collect();
        {
            let mut stmt = tx.prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM docs WHERE id IN (SELECT value FROM json_each(?1))"))?;
            let mut rows = stmt.query([serde_json::to_string(&ids)?])?;
            while let Some(row) = rows.next()? {
                let s = stored_from_row(row)??;
                docs.insert(s.doc.id, Some(s));
            }
        }
        let mids: Vec<String> = mutations.iter().map(|m| m.mutation_id.to_string()).collect();
        let mut priors = HashMap::new();
        {
            let mut stmt =
                tx.prepare_cached("SELECT mutation_id, result FROM mutations WHERE mutation_id IN (SELECT value FROM json_each(?1))")?;
            let mut rows = stmt.query([serde_json::to_string(&mids)?])?;
            while let Some(row) = rows.next()? {
                let result: String = row.get(1)?;
                priors.insert(id(row.get(0)?)?, serde_json::from_str(&result)?);
            }
        }
        Ok(TxSource { tx, docs, priors })
    }
}

impl DocSource for TxSource<'_> {
    fn load(&mut self, doc: Id) -> Result<Option<Stored>, StoreError> {
        // The batch keeps what it loads, so each preloaded row is handed over once.
        if let Some(preloaded) = self.docs.remove(&doc) {
            return Ok(preloaded);
        }
        let mut stmt = self.tx.prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM docs WHERE id = ?1"))?;
        stmt.query_row([doc.to_string()], stored_from_row).optional()?.transpose()
    }

    fn children(&mut self, parent: Id) -> Result<Vec<Id>, StoreError> {
        let mut stmt = self.tx.prepare_cached("SELECT id FROM docs WHERE parent_id = ?1 AND deleted_seq IS NULL")?;
        let ids = stmt.query_map([parent.to_string()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.into_iter().map(id).collect()
    }

    fn prior(&mut self, mutation_id: Id) -> Result<Option<MutationResult>, StoreError> {
        // Every mutation id of the batch was looked up in preload.
        Ok(self.priors.remove(&mutation_id))
    }
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) `apisync.db` in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Task(format!("cannot create data directory {}: {e}", dir.display())))?;
        let path = dir.join("apisync.db");
        let mut writer = open_conn(&path)?;
        migrate(&mut writer)?;
        // Commits never checkpoint; the checkpointer thread does.
        writer.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        spawn_checkpointer(path.clone(), stop.clone())?;
        let readers = (0..READERS).map(|_| open_conn(&path).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(SqliteStore { writer: Mutex::new(writer), readers, next_reader: AtomicUsize::new(0), stop })
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..READERS {
            if let Ok(g) = self.readers[(start + i) % READERS].try_lock() {
                return g;
            }
        }
        lock(&self.readers[start % READERS])
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub(super) fn ping(&self) -> Result<(), StoreError> {
        self.reader().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    pub(super) fn create_account(&self, user: &User, password_hash: &str, workspace: Id, now: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            let taken = |col: &str, v: &str| -> Result<bool, StoreError> {
                Ok(tx.query_row(&format!("SELECT 1 FROM users WHERE {col} = ?1"), [v], |_| Ok(())).optional()?.is_some())
            };
            if taken("email", &user.email)? {
                return Err(StoreError::EmailTaken);
            }
            if taken("username", &user.username)? {
                return Err(StoreError::UsernameTaken);
            }
            tx.execute(
                "INSERT INTO users (id, email, username, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.id.to_string(), user.email, user.username, password_hash, now],
            )?;
            create_workspace(tx, workspace, "My Workspace", user.id, true, now)?;
            Ok(())
        })
    }

    pub(super) fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.reader();
        let row = conn
            .query_row("SELECT id, email, username, password_hash FROM users WHERE email = ?1 OR username = ?1", [login], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        row.map(|(uid, email, username, password_hash)| Ok(UserRecord { user: User { id: id(uid)?, email, username }, password_hash }))
            .transpose()
    }

    pub(super) fn sign_in(
        &self,
        user_id: Id,
        device: &DeviceInfo,
        token_hash: &str,
        replace: Option<Id>,
        max: usize,
        now: i64,
    ) -> Result<SignIn, StoreError> {
        self.write(|tx| {
            let others: Vec<DeviceRecord> = devices_of(tx, user_id)?.into_iter().filter(|d| d.id != device.id).collect();
            if let Some(r) = replace {
                let Some(victim) = others.iter().find(|d| d.id == r) else { return Ok(SignIn::NoSuchDevice) };
                sign_out_num(tx, victim.num, &format!("replaced by the sign-in of '{}'", device.name), now)?;
            } else if others.len() >= max {
                return Ok(SignIn::Limit(others));
            }
            tx.execute(
                "INSERT INTO devices (user_id, device_id, name, signed_in_at, last_seen_at, signed_in) VALUES (?1, ?2, ?3, ?4, ?4, 1)
                 ON CONFLICT (user_id, device_id) DO UPDATE SET name = excluded.name, signed_in_at = excluded.signed_in_at,
                 last_seen_at = excluded.last_seen_at, signed_in = 1",
                params![user_id.to_string(), device.id.to_string(), device.name, now],
            )?;
            let num: i64 = tx.query_row(
                "SELECT num FROM devices WHERE user_id = ?1 AND device_id = ?2",
                params![user_id.to_string(), device.id.to_string()],
                |r| r.get(0),
            )?;
            // A device signs in once: an older session of the same device ends.
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'signed in again' WHERE device_num = ?1 AND revoked_at IS NULL",
                params![num, now],
            )?;
            tx.execute("INSERT INTO sessions (token_hash, device_num, created_at) VALUES (?1, ?2, ?3)", params![token_hash, num, now])?;
            Ok(SignIn::Done(DeviceRecord {
                num: num as u64,
                user_id,
                id: device.id,
                name: device.name.clone(),
                signed_in_at: now,
                last_seen_at: now,
            }))
        })
    }

    pub(super) fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT u.id, u.email, u.username, d.num, d.device_id, d.name, d.signed_in_at, d.last_seen_at, s.revoked_reason
             FROM sessions s JOIN devices d ON d.num = s.device_num JOIN users u ON u.id = d.user_id WHERE s.token_hash = ?1",
        )?;
        let row = stmt
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .optional()?;
        row.map(|(uid, email, username, num, did, name, signed_in_at, last_seen_at, revoked)| {
            let user_id = id(uid)?;
            Ok(SessionRecord {
                user: User { id: user_id, email, username },
                device: DeviceRecord { num: num as u64, user_id, id: id(did)?, name, signed_in_at, last_seen_at },
                revoked,
            })
        })
        .transpose()
    }

    pub(super) fn touch(&self, device_num: u64, now: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("UPDATE devices SET last_seen_at = ?2 WHERE num = ?1 AND last_seen_at < ?2", params![device_num as i64, now])?;
            Ok(())
        })
    }

    pub(super) fn devices(&self, user_id: Id) -> Result<Vec<DeviceRecord>, StoreError> {
        let conn = self.reader();
        devices_of(&conn, user_id)
    }

    pub(super) fn sign_out(&self, user_id: Id, device_id: Id, reason: &str, now: i64) -> Result<Option<u64>, StoreError> {
        self.write(|tx| {
            let Some(d) = devices_of(tx, user_id)?.into_iter().find(|d| d.id == device_id) else { return Ok(None) };
            sign_out_num(tx, d.num, reason, now)?;
            Ok(Some(d.num))
        })
    }

    pub(super) fn workspaces(&self, user_id: Id) -> Result<Vec<WorkspaceInfo>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT w.id, w.name, m.role, w.seq, w.personal FROM members m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = ?1 ORDER BY w.personal DESC, w.name",
        )?;
        let rows = stmt
            .query_map([user_id.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, bool>(4)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(wid, name, role, seq, personal)| {
                Ok(WorkspaceInfo { id: id(wid)?, name, role: role_from(&role)?, seq: seq as u64, personal })
            })
            .collect()
    }

    pub(super) fn role(&self, user_id: Id, workspace: Id) -> Result<Option<Role>, StoreError> {
        let conn = self.reader();
        role_in(&conn, user_id, workspace)
    }

    pub(super) fn push(
        &self,
        workspace: Id,
        user_id: Id,
        device_num: u64,
        mutations: &[Mutation],
        now: i64,
    ) -> Result<Result<PushCommit, PushRefused>, StoreError> {
        self.write(|tx| {
            let role = match role_in(tx, user_id, workspace)? {
                Some(r) => r,
                None => {
                    let exists =
                        tx.query_row("SELECT 1 FROM workspaces WHERE id = ?1", [workspace.to_string()], |_| Ok(())).optional()?.is_some();
                    match mutations.first() {
                        Some(Mutation { doc_id, op: Op::Create { kind: Kind::Workspace, fields, .. }, .. })
                            if !exists && *doc_id == workspace =>
                        {
                            let name = fields.get("name").and_then(|v| v.as_str()).unwrap_or("Untitled workspace");
                            create_workspace(tx, workspace, name, user_id, false, now)?;
                            Role::Owner
                        }
                        _ => return Ok(Err(PushRefused::NotFound)),
                    }
                }
            };
            if !role.can_write() {
                return Ok(Err(PushRefused::ReadOnly));
            }
            let after: i64 = tx.query_row("SELECT seq FROM workspaces WHERE id = ?1", [workspace.to_string()], |r| r.get(0))?;
            let out = apply_batch(&mut TxSource::preload(tx, mutations)?, workspace, after as u64, device_num, mutations)?;
            {
                let mut doc_rows = Vec::with_capacity(out.writes.len());
                for s in &out.writes {
                    let clocks: BTreeMap<&str, (u64, u64)> = s.clocks.iter().map(|(k, c)| (k.as_str(), (c.seq, c.device))).collect();
                    if s.doc.kind == Kind::Workspace
                        && let Some(name) = s.doc.fields.get("name").and_then(|v| v.as_str())
                    {
                        tx.execute("UPDATE workspaces SET name = ?2 WHERE id = ?1", params![workspace.to_string(), name])?;
                    }
                    doc_rows.push(vec![
                        Sql::Text(s.doc.id.to_string()),
                        Sql::Text(workspace.to_string()),
                        Sql::Text(s.doc.kind.as_str().to_string()),
                        s.doc.parent_id.map_or(Sql::Null, |p| Sql::Text(p.to_string())),
                        s.doc.order_key.clone().map_or(Sql::Null, Sql::Text),
                        Sql::Text(serde_json::to_string(&s.doc.fields)?),
                        Sql::Text(serde_json::to_string(&clocks)?),
                        s.deleted_at.map_or(Sql::Null, |c| Sql::Integer(c.seq as i64)),
                        s.deleted_at.map_or(Sql::Null, |c| Sql::Integer(c.device as i64)),
                        Sql::Integer(s.doc.version as i64),
                    ]);
                }
                let mut log_rows = Vec::with_capacity(out.log.len());
                for e in &out.log {
                    let payload = e.payload.as_ref().map(serde_json::to_string).transpose()?.map_or(Sql::Null, Sql::Text);
                    log_rows.push(vec![
                        Sql::Text(workspace.to_string()),
                        Sql::Integer(e.seq as i64),
                        Sql::Text(e.doc_id.to_string()),
                        Sql::Text(e.mutation_id.to_string()),
                        Sql::Integer(device_num as i64),
                        Sql::Text(e.op.to_string()),
                        payload,
                        Sql::Integer(now),
                    ]);
                }
                let result_rows = out
                    .new_results
                    .iter()
                    .map(|r| {
                        Ok(vec![
                            Sql::Text(r.mutation_id.to_string()),
                            Sql::Text(workspace.to_string()),
                            Sql::Text(serde_json::to_string(r)?),
                        ])
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                insert_rows(tx, &format!("INSERT OR REPLACE INTO docs ({DOC_COLUMNS})"), doc_rows)?;
                insert_rows(tx, "INSERT INTO change_log (workspace_id, seq, doc_id, mutation_id, device_num, op, payload, at)", log_rows)?;
                insert_rows(tx, "INSERT INTO mutations (mutation_id, workspace_id, result)", result_rows)?;
            }
            tx.execute("UPDATE workspaces SET seq = ?2 WHERE id = ?1", params![workspace.to_string(), out.head as i64])?;
            let members = {
                let mut stmt = tx.prepare_cached("SELECT user_id FROM members WHERE workspace_id = ?1")?;
                let ids = stmt.query_map([workspace.to_string()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
                ids.into_iter().map(id).collect::<Result<Vec<_>, _>>()?
            };
            let mut changed: Vec<Document> = out.writes.into_iter().map(|s| s.doc).collect();
            changed.sort_by_key(|d| d.version);
            Ok(Ok(PushCommit { response: PushResponse { seq: out.head, results: out.results }, after: after as u64, changed, members }))
        })
    }

    pub(super) fn changes(&self, workspace: Id, after: u64, limit: usize) -> Result<Page, StoreError> {
        let mut conn = self.reader();
        // One read transaction: the page and the head come from one snapshot.
        let tx = conn.transaction()?;
        let seq: i64 = tx.query_row("SELECT seq FROM workspaces WHERE id = ?1", [workspace.to_string()], |r| r.get(0))?;
        let snapshot = if after == 0 { " AND deleted_seq IS NULL" } else { "" };
        let mut docs = Vec::with_capacity(limit.min(4096));
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT id, kind, parent_id, order_key, fields, deleted_seq, version FROM docs
                 WHERE workspace_id = ?1 AND version > ?2{snapshot} ORDER BY version LIMIT ?3"
            ))?;
            let mut rows = stmt.query(params![workspace.to_string(), after as i64, (limit + 1) as i64])?;
            while let Some(r) = rows.next()? {
                let kind: String = r.get(1)?;
                docs.push(PageDoc {
                    id: id(r.get(0)?)?,
                    kind: kind.parse().map_err(|e: model::UnknownKind| StoreError::Corrupt(e.to_string()))?,
                    workspace_id: workspace,
                    parent_id: r.get::<_, Option<String>>(2)?.map(id).transpose()?,
                    order_key: r.get(3)?,
                    fields: raw_fields(r.get(4)?)?,
                    deleted: r.get::<_, Option<i64>>(5)?.is_some(),
                    version: r.get::<_, i64>(6)? as u64,
                });
            }
        }
        let total = if after == 0 {
            Some(tx.query_row(&format!("SELECT COUNT(*) FROM docs WHERE workspace_id = ?1{snapshot}"), [workspace.to_string()], |r| {
                r.get::<_, i64>(0)
            })? as u64)
        } else {
            None
        };
        Ok(Page::new(docs, after, limit, seq as u64, total))
    }
}

/// Rows per multi-row INSERT (SQLite binds at most 32,766 parameters).
const ROWS_PER_INSERT: usize = 200;

/// Inserts rows with a few multi-row statements rather than one statement
/// per row: the per-statement cost dominated a push's transaction.
fn insert_rows(tx: &Transaction<'_>, head: &str, rows: Vec<Vec<Sql>>) -> Result<(), StoreError> {
    let Some(width) = rows.first().map(Vec::len) else { return Ok(()) };
    let one = format!("({})", vec!["?"; width].join(", "));
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("{head} VALUES {}", vec![one.as_str(); chunk.len()].join(", "));
        tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(chunk.iter().flatten()))?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
    }
    tx.commit()?;
    Ok(())
}

fn create_workspace(tx: &Transaction<'_>, workspace: Id, name: &str, owner: Id, personal: bool, now: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO workspaces (id, name, owner_id, personal, seq, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        params![workspace.to_string(), name, owner.to_string(), personal, now],
    )?;
    tx.execute(
        "INSERT INTO members (workspace_id, user_id, role) VALUES (?1, ?2, ?3)",
        params![workspace.to_string(), owner.to_string(), role_name(Role::Owner)],
    )?;
    if personal {
        // The personal workspace's own document, so every device shows its name.
        let mut fields = Fields::new();
        fields.insert("name".into(), name.into());
        let doc = Document {
            id: workspace,
            kind: Kind::Workspace,
            workspace_id: workspace,
            parent_id: None,
            order_key: None,
            fields,
            deleted: false,
            version: 1,
        };
        let clocks: BTreeMap<&str, (u64, u64)> = [("name", (1, 0))].into_iter().collect();
        tx.execute(
            &format!("INSERT INTO docs ({DOC_COLUMNS}) VALUES (?1, ?1, 'workspace', NULL, NULL, ?2, ?3, NULL, NULL, 1)"),
            params![workspace.to_string(), serde_json::to_string(&doc.fields)?, serde_json::to_string(&clocks)?],
        )?;
        tx.execute("UPDATE workspaces SET seq = 1 WHERE id = ?1", [workspace.to_string()])?;
    }
    Ok(())
}

fn role_in(conn: &Connection, user_id: Id, workspace: Id) -> Result<Option<Role>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT role FROM members WHERE workspace_id = ?1 AND user_id = ?2")?;
    let role: Option<String> = stmt.query_row(params![workspace.to_string(), user_id.to_string()], |r| r.get(0)).optional()?;
    role.map(|r| role_from(&r)).transpose()
}

fn devices_of(conn: &Connection, user_id: Id) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT num, device_id, name, signed_in_at, last_seen_at FROM devices WHERE user_id = ?1 AND signed_in = 1 ORDER BY signed_in_at",
    )?;
    let rows = stmt
        .query_map([user_id.to_string()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(num, did, name, signed_in_at, last_seen_at)| {
            Ok(DeviceRecord { num: num as u64, user_id, id: id(did)?, name, signed_in_at, last_seen_at })
        })
        .collect()
}

fn sign_out_num(tx: &Transaction<'_>, num: u64, reason: &str, now: i64) -> Result<(), StoreError> {
    tx.execute("UPDATE devices SET signed_in = 0 WHERE num = ?1", [num as i64])?;
    tx.execute(
        "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 WHERE device_num = ?1 AND revoked_at IS NULL",
        params![num as i64, now, reason],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpointer_moves_committed_data_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let user = User { id: Id::now_v7(), email: "ann@example.com".into(), username: "ann".into() };
        let ws = Id::now_v7();
        store.create_account(&user, "hash", ws, 0).unwrap();
        let db = dir.path().join("apisync.db");
        let before = std::fs::metadata(&db).unwrap().len();
        let mutations: Vec<Mutation> = (0..300)
            .map(|i| {
                let mut fields = Fields::new();
                fields.insert("name".into(), format!("{i} {}", "x".repeat(2000)).into());
                Mutation {
                    mutation_id: Id::now_v7(),
                    doc_id: Id::now_v7(),
                    base_version: 0,
                    op: Op::Create { kind: Kind::Environment, parent_id: None, order_key: None, fields },
                }
            })
            .collect();
        assert!(store.push(ws, user.id, 1, &mutations, 0).unwrap().is_ok());
        // Commits only append to the WAL; the store's own thread copies it in.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&db).unwrap().len() < before + 500_000 {
            assert!(std::time::Instant::now() < deadline, "the WAL was never checkpointed into {}", db.display());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
