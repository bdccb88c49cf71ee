//! The PostgreSQL schema: migrations applied in order, the version kept in
//! `apisync_schema`.

use crate::store::StoreError;
use sqlx::postgres::PgPool;
use sqlx::{AssertSqlSafe, Connection};

pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    username text NOT NULL,
    password_hash text NOT NULL,
    created_at bigint NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE TABLE devices (
    num bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id uuid NOT NULL,
    name text NOT NULL,
    signed_in_at bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    signed_in boolean NOT NULL,
    UNIQUE (user_id, device_id)
);
CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    device_num bigint NOT NULL REFERENCES devices(num) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    revoked_at bigint,
    revoked_reason text
);
CREATE TABLE workspaces (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    personal boolean NOT NULL DEFAULT false,
    seq bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL
);
CREATE TABLE members (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user ON members (user_id);
CREATE TABLE docs (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind text NOT NULL,
    parent_id uuid,
    order_key text,
    fields text NOT NULL,
    clocks text NOT NULL,
    deleted_seq bigint,
    deleted_dev bigint,
    version bigint NOT NULL
);
CREATE INDEX docs_changes ON docs (workspace_id, version);
CREATE INDEX docs_parent ON docs (parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE change_log (
    workspace_id uuid NOT NULL,
    seq bigint NOT NULL,
    doc_id uuid NOT NULL,
    mutation_id uuid NOT NULL,
    device_num bigint NOT NULL,
    op text NOT NULL,
    payload text,
    at bigint NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE TABLE mutations (
    mutation_id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL,
    result text NOT NULL
);
"#,
    r#"
CREATE TABLE teams (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    created_by uuid NOT NULL,
    created_at bigint NOT NULL
);
CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);
CREATE TABLE team_workspaces (
    team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, workspace_id)
);
CREATE INDEX team_workspaces_ws ON team_workspaces (workspace_id);
"#,
    r#"
CREATE TABLE tokens (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose text NOT NULL,
    expires_at bigint NOT NULL
);
CREATE TABLE gone_sessions (
    token_hash text PRIMARY KEY,
    at bigint NOT NULL
);
"#,
    r#"
CREATE TABLE gone_workspaces (
    id uuid PRIMARY KEY,
    at bigint NOT NULL
);
"#,
    // Stored results belong to the device that sent the mutation, in its
    // workspace, and carry no copy of a document. Children are found by an
    // index scoped to the workspace.
    r#"
CREATE INDEX change_log_mutation ON change_log (workspace_id, mutation_id);
CREATE TABLE mutations_v2 (
    workspace_id uuid NOT NULL,
    device_num bigint NOT NULL,
    mutation_id uuid NOT NULL,
    result text NOT NULL,
    PRIMARY KEY (workspace_id, device_num, mutation_id)
);
INSERT INTO mutations_v2 (workspace_id, device_num, mutation_id, result)
SELECT m.workspace_id,
       COALESCE((SELECT c.device_num FROM change_log c WHERE c.workspace_id = m.workspace_id AND c.mutation_id = m.mutation_id LIMIT 1), 0),
       m.mutation_id, (m.result::jsonb - 'doc')::text
FROM mutations m ON CONFLICT DO NOTHING;
DROP TABLE mutations;
ALTER TABLE mutations_v2 RENAME TO mutations;
DROP INDEX change_log_mutation;
DROP INDEX docs_parent;
CREATE INDEX docs_live_children ON docs (workspace_id, parent_id) WHERE deleted_seq IS NULL;
"#,
    r#"
CREATE TABLE rate_limits (
    key text PRIMARY KEY,
    count integer NOT NULL,
    since bigint NOT NULL,
    next_at bigint NOT NULL,
    until bigint NOT NULL
);
CREATE INDEX rate_limits_until ON rate_limits (until);
"#,
    r#"
CREATE TABLE team_invitations (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    login text NOT NULL,
    shown text NOT NULL,
    role text NOT NULL,
    invited_by uuid NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    UNIQUE (team_id, login)
);
CREATE INDEX team_invitations_login ON team_invitations (login);
"#,
    // Every sign-in ends the device's earlier sessions, and deleting an
    // account ends its devices' sessions, drops the workspaces it owns and
    // voids its tokens: each by index, not by reading every row of the table.
    r#"
CREATE INDEX sessions_device ON sessions (device_num);
CREATE INDEX workspaces_owner ON workspaces (owner_id);
CREATE INDEX tokens_user ON tokens (user_id);
"#,
];

/// Applies the migrations this database has not had yet.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    // Several processes may start at once: one migrates, the others wait.
    sqlx::query("SELECT pg_advisory_xact_lock(7358200451)").execute(&mut *tx).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS apisync_schema (version int NOT NULL)").execute(&mut *tx).await?;
    let version: Option<i32> = sqlx::query_scalar("SELECT version FROM apisync_schema").fetch_optional(&mut *tx).await?;
    let version = version.unwrap_or(0) as usize;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Task(format!(
            "this database has schema version {version}, newer than this apisync knows ({}): run the newer apisync that wrote it",
            MIGRATIONS.len()
        )));
    }
    if version == 0 {
        sqlx::query("INSERT INTO apisync_schema (version) VALUES (0)").execute(&mut *tx).await?;
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        sqlx::raw_sql(AssertSqlSafe(*sql)).execute(&mut *tx).await?;
        sqlx::query("UPDATE apisync_schema SET version = $1").bind((i + 1) as i32).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
