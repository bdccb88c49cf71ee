//! The SQLite schema: migrations applied in order, `user_version` counting
//! those applied.

use crate::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};

pub(super) const MIGRATIONS: &[&str] = &[
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
    r#"
CREATE TABLE gone_workspaces (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // Stored results belong to the device that sent the mutation, in its
    // workspace, and carry no copy of a document.
    r#"
CREATE INDEX change_log_mutation ON change_log (workspace_id, mutation_id);
CREATE TABLE mutations_v2 (
    workspace_id TEXT NOT NULL,
    device_num INTEGER NOT NULL,
    mutation_id TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (workspace_id, device_num, mutation_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO mutations_v2 (workspace_id, device_num, mutation_id, result)
SELECT m.workspace_id,
       COALESCE((SELECT c.device_num FROM change_log c WHERE c.workspace_id = m.workspace_id AND c.mutation_id = m.mutation_id LIMIT 1), 0),
       m.mutation_id, json_remove(m.result, '$.doc')
FROM mutations m;
DROP TABLE mutations;
ALTER TABLE mutations_v2 RENAME TO mutations;
DROP INDEX change_log_mutation;
"#,
    r#"
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    since INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_until ON rate_limits (until);
"#,
    r#"
CREATE TABLE team_invitations (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    login TEXT NOT NULL,
    shown TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (team_id, login)
);
CREATE INDEX team_invitations_login ON team_invitations (login);
"#,
    // Every sign-in ends the device's earlier sessions, and deleting an
    // account ends its devices' sessions, drops the workspaces it owns and
    // voids its tokens (foreign keys cascade): each by index, not by reading
    // every row of the table.
    r#"
CREATE INDEX sessions_device ON sessions (device_num);
CREATE INDEX workspaces_owner ON workspaces (owner_id);
CREATE INDEX tokens_user ON tokens (user_id);
"#,
];

/// Applies the migrations this database has not had yet.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version as usize > MIGRATIONS.len() {
        return Err(StoreError::Task(format!(
            "this database has schema version {version}, newer than this apisync knows ({}): run the newer apisync that wrote it",
            MIGRATIONS.len()
        )));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
    }
    tx.commit()?;
    Ok(())
}
