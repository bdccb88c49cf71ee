//! The PostgreSQL backend: any number of server processes share one
//! database. Pushes to a workspace serialize on its row lock, so sequence
//! numbers stay gapless; live notices cross processes by LISTEN/NOTIFY.

use super::{DeviceRecord, Page, PageDoc, PushCommit, PushRefused, SessionRecord, SignIn, StoreError, UserRecord, raw_fields};
use crate::push::apply_batch;
use model::{Clock, Document, Fields, Id, Kind, Mutation, Op, Stored};
use protocol::{DeviceInfo, LiveMessage, PushResponse, Role, User, WorkspaceInfo};
use sqlx::postgres::{PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

mod batch;
mod lifecycle;
mod teams;

use batch::{DocColumns, MemSource};

/// The channel every process listens on.
const CHANNEL: &str = "apisync_live";
/// NOTIFY payloads must stay under 8000 bytes; bigger frames become `moved`.
const NOTIFY_BYTES: usize = 7000;

const MIGRATIONS: &[&str] = &[
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
];

/// A live event another process published.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remote {
    /// A frame for every connection of these users.
    Frame { origin: Id, users: Vec<Id>, frame: String },
    /// Sign a device out.
    SignOut { origin: Id, user: Id, device_num: u64, reason: String },
}

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
    /// This process, so it skips its own notifications.
    origin: Id,
}

const DOC_COLUMNS: &str = "id, workspace_id, kind, parent_id, order_key, fields, clocks, deleted_seq, deleted_dev, version";

fn stored(row: &PgRow) -> Result<Stored, StoreError> {
    let kind: String = row.try_get("kind")?;
    let kind: Kind = kind.parse().map_err(|e: model::UnknownKind| StoreError::Corrupt(e.to_string()))?;
    let fields: String = row.try_get("fields")?;
    let clocks: String = row.try_get("clocks")?;
    let clocks: BTreeMap<String, (u64, u64)> = serde_json::from_str(&clocks)?;
    let del_seq: Option<i64> = row.try_get("deleted_seq")?;
    let del_dev: Option<i64> = row.try_get("deleted_dev")?;
    Ok(Stored {
        doc: Document {
            id: row.try_get("id")?,
            kind,
            workspace_id: row.try_get("workspace_id")?,
            parent_id: row.try_get("parent_id")?,
            order_key: row.try_get("order_key")?,
            fields: serde_json::from_str(&fields)?,
            deleted: del_seq.is_some(),
            version: row.try_get::<i64, _>("version")? as u64,
        },
        clocks: clocks.into_iter().map(|(k, (seq, device))| (k, Clock { seq, device })).collect(),
        deleted_at: del_seq.map(|seq| Clock { seq: seq as u64, device: del_dev.unwrap_or(0) as u64 }),
    })
}

fn role_from(s: &str) -> Result<Role, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| StoreError::Corrupt(format!("bad role {s}")))
}

impl PgStore {
    /// Connects, applies migrations (once, even with several processes
    /// starting together), and starts listening for other processes' events.
    pub async fn open(url: &str) -> Result<(PgStore, mpsc::UnboundedReceiver<Remote>), StoreError> {
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        migrate(&pool).await?;
        let origin = Id::now_v7();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match serde_json::from_str::<Remote>(n.payload()) {
                        Ok(Remote::Frame { origin: o, .. } | Remote::SignOut { origin: o, .. }) if o == origin => {}
                        Ok(event) => {
                            if tx.send(event).is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable live notification"),
                    },
                    // The connection dropped and was re-established: notices
                    // in between are lost; devices catch up at their next pull.
                    Ok(None) => tracing::warn!("live notification connection to PostgreSQL was lost and re-established"),
                    Err(e) => {
                        tracing::warn!(error = %e, "live notifications from PostgreSQL unavailable; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok((PgStore { pool, origin }, rx))
    }

    async fn notify(&self, conn: &mut PgConnection, event: &Remote) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(serde_json::to_string(event)?).execute(conn).await?;
        Ok(())
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn create_account(&self, user: &User, password_hash: &str, workspace: Id, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if sqlx::query("SELECT 1 FROM users WHERE lower(email) = lower($1)").bind(&user.email).fetch_optional(&mut *tx).await?.is_some() {
            return Err(StoreError::EmailTaken);
        }
        if sqlx::query("SELECT 1 FROM users WHERE lower(username) = lower($1)")
            .bind(&user.username)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            return Err(StoreError::UsernameTaken);
        }
        let inserted = sqlx::query("INSERT INTO users (id, email, username, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.id)
            .bind(&user.email)
            .bind(&user.username)
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await;
        if let Err(sqlx::Error::Database(e)) = &inserted {
            match e.constraint() {
                Some("users_email") => return Err(StoreError::EmailTaken),
                Some("users_username") => return Err(StoreError::UsernameTaken),
                _ => {}
            }
        }
        inserted?;
        create_workspace(&mut tx, workspace, "My Workspace", user.id, true, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, username, password_hash FROM users WHERE lower(email) = lower($1) OR lower(username) = lower($1)",
        )
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(UserRecord {
                user: User { id: r.try_get("id")?, email: r.try_get("email")?, username: r.try_get("username")? },
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    pub(super) async fn sign_in(
        &self,
        user_id: Id,
        device: &DeviceInfo,
        token_hash: &str,
        replace: Option<Id>,
        max: usize,
        now: i64,
    ) -> Result<SignIn, StoreError> {
        let mut tx = self.pool.begin().await?;
        // One sign-in per account at a time, across every process: the device limit holds.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user_id).execute(&mut *tx).await?;
        let others: Vec<DeviceRecord> = devices_of(&mut tx, user_id).await?.into_iter().filter(|d| d.id != device.id).collect();
        if let Some(r) = replace {
            let Some(victim) = others.iter().find(|d| d.id == r) else { return Ok(SignIn::NoSuchDevice) };
            let reason = format!("replaced by the sign-in of '{}'", device.name);
            sign_out_num(&mut tx, victim.num, &reason, now).await?;
            self.notify(&mut tx, &Remote::SignOut { origin: self.origin, user: user_id, device_num: victim.num, reason }).await?;
        } else if others.len() >= max {
            return Ok(SignIn::Limit(others));
        }
        let num: i64 = sqlx::query_scalar(
            "INSERT INTO devices (user_id, device_id, name, signed_in_at, last_seen_at, signed_in) VALUES ($1, $2, $3, $4, $4, true)
             ON CONFLICT (user_id, device_id) DO UPDATE SET name = excluded.name, signed_in_at = excluded.signed_in_at,
             last_seen_at = excluded.last_seen_at, signed_in = true RETURNING num",
        )
        .bind(user_id)
        .bind(device.id)
        .bind(&device.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE sessions SET revoked_at = $2, revoked_reason = 'signed in again' WHERE device_num = $1 AND revoked_at IS NULL")
            .bind(num)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sessions (token_hash, device_num, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(num)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(SignIn::Done(DeviceRecord {
            num: num as u64,
            user_id,
            id: device.id,
            name: device.name.clone(),
            signed_in_at: now,
            last_seen_at: now,
        }))
    }

    pub(super) async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id AS uid, u.email, u.username, d.num, d.device_id, d.name, d.signed_in_at, d.last_seen_at, s.revoked_reason
             FROM sessions s JOIN devices d ON d.num = s.device_num JOIN users u ON u.id = d.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let user_id: Id = r.try_get("uid")?;
            Ok(SessionRecord {
                user: User { id: user_id, email: r.try_get("email")?, username: r.try_get("username")? },
                device: DeviceRecord {
                    num: r.try_get::<i64, _>("num")? as u64,
                    user_id,
                    id: r.try_get("device_id")?,
                    name: r.try_get("name")?,
                    signed_in_at: r.try_get("signed_in_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                },
                revoked: r.try_get("revoked_reason")?,
            })
        })
        .transpose()
    }

    pub(super) async fn touch(&self, device_num: u64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE devices SET last_seen_at = $2 WHERE num = $1 AND last_seen_at < $2")
            .bind(device_num as i64)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn devices(&self, user_id: Id) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        devices_of(&mut conn, user_id).await
    }

    pub(super) async fn sign_out(&self, user_id: Id, device_id: Id, reason: &str, now: i64) -> Result<Option<u64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(d) = devices_of(&mut tx, user_id).await?.into_iter().find(|d| d.id == device_id) else { return Ok(None) };
        sign_out_num(&mut tx, d.num, reason, now).await?;
        self.notify(&mut tx, &Remote::SignOut { origin: self.origin, user: user_id, device_num: d.num, reason: reason.to_string() })
            .await?;
        tx.commit().await?;
        Ok(Some(d.num))
    }

    pub(super) async fn workspaces(&self, user_id: Id) -> Result<Vec<WorkspaceInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT w.id, w.name, m.role, w.seq, w.personal FROM members m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = $1 ORDER BY w.personal DESC, w.name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok(WorkspaceInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: role_from(&role)?,
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    personal: r.try_get("personal")?,
                })
            })
            .collect()
    }

    pub(super) async fn role(&self, user_id: Id, workspace: Id) -> Result<Option<Role>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        role_in(&mut conn, user_id, workspace).await
    }

    pub(super) async fn push(
        &self,
        workspace: Id,
        user_id: Id,
        device_num: u64,
        mutations: &[Mutation],
        now: i64,
    ) -> Result<Result<PushCommit, PushRefused>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let role = match role_in(&mut tx, user_id, workspace).await? {
            Some(r) => r,
            None => match mutations.first() {
                Some(Mutation { doc_id, op: Op::Create { kind: Kind::Workspace, fields, .. }, .. }) if *doc_id == workspace => {
                    let name = fields.get("name").and_then(|v| v.as_str()).unwrap_or("Untitled workspace");
                    if !create_workspace(&mut tx, workspace, name, user_id, false, now).await? {
                        return Ok(Err(PushRefused::NotFound));
                    }
                    Role::Owner
                }
                _ => return Ok(Err(PushRefused::NotFound)),
            },
        };
        if !role.can_write() {
            return Ok(Err(PushRefused::ReadOnly));
        }
        // The row lock serializes pushes to this workspace across processes.
        let after: i64 =
            sqlx::query_scalar("SELECT seq FROM workspaces WHERE id = $1 FOR UPDATE").bind(workspace).fetch_one(&mut *tx).await?;
        let mut source = MemSource::default();
        source.preload(&mut tx, mutations).await?;
        let mut rounds = 0;
        let out = loop {
            match apply_batch(&mut source, workspace, after as u64, device_num, mutations) {
                Err(StoreError::Miss) if rounds < 256 => {
                    rounds += 1;
                    source.fill_misses(&mut tx).await?;
                }
                other => break other?,
            }
        };
        let n = out.writes.len();
        let mut cols = DocColumns::default();
        for s in &out.writes {
            cols.push(s, workspace)?;
        }
        if n > 0 {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO docs ({DOC_COLUMNS}) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[])
                 ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, order_key = excluded.order_key, fields = excluded.fields, clocks = excluded.clocks,
                 deleted_seq = excluded.deleted_seq, deleted_dev = excluded.deleted_dev, version = excluded.version"
            )))
            .bind(&cols.id)
            .bind(&cols.workspace)
            .bind(&cols.kind)
            .bind(&cols.parent)
            .bind(&cols.order_key)
            .bind(&cols.fields)
            .bind(&cols.clocks)
            .bind(&cols.deleted_seq)
            .bind(&cols.deleted_dev)
            .bind(&cols.version)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(name) =
            out.writes.iter().filter(|s| s.doc.kind == Kind::Workspace).find_map(|s| s.doc.fields.get("name").and_then(|v| v.as_str()))
        {
            sqlx::query("UPDATE workspaces SET name = $2 WHERE id = $1").bind(workspace).bind(name).execute(&mut *tx).await?;
        }
        if !out.log.is_empty() {
            let seqs: Vec<i64> = out.log.iter().map(|e| e.seq as i64).collect();
            let docs: Vec<Id> = out.log.iter().map(|e| e.doc_id).collect();
            let mids: Vec<Id> = out.log.iter().map(|e| e.mutation_id).collect();
            let ops: Vec<String> = out.log.iter().map(|e| e.op.to_string()).collect();
            let payloads: Vec<Option<String>> =
                out.log.iter().map(|e| e.payload.as_ref().map(serde_json::to_string).transpose()).collect::<Result<_, _>>()?;
            sqlx::query(
                "INSERT INTO change_log (workspace_id, seq, doc_id, mutation_id, device_num, op, payload, at)
                 SELECT $1, t.seq, t.doc_id, t.mutation_id, $2, t.op, t.payload, $3
                 FROM UNNEST($4::int8[], $5::uuid[], $6::uuid[], $7::text[], $8::text[]) AS t(seq, doc_id, mutation_id, op, payload)",
            )
            .bind(workspace)
            .bind(device_num as i64)
            .bind(now)
            .bind(&seqs)
            .bind(&docs)
            .bind(&mids)
            .bind(&ops)
            .bind(&payloads)
            .execute(&mut *tx)
            .await?;
        }
        if !out.new_results.is_empty() {
            let mids: Vec<Id> = out.new_results.iter().map(|r| r.mutation_id).collect();
            let results: Vec<String> = out.new_results.iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
            sqlx::query("INSERT INTO mutations (mutation_id, workspace_id, result) SELECT t.mid, $1, t.result FROM UNNEST($2::uuid[], $3::text[]) AS t(mid, result)")
                .bind(workspace)
                .bind(&mids)
                .bind(&results)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE workspaces SET seq = $2 WHERE id = $1").bind(workspace).bind(out.head as i64).execute(&mut *tx).await?;
        let members: Vec<Id> =
            sqlx::query_scalar("SELECT user_id FROM members WHERE workspace_id = $1").bind(workspace).fetch_all(&mut *tx).await?;
        let mut changed: Vec<Document> = out.writes.into_iter().map(|s| s.doc).collect();
        changed.sort_by_key(|d| d.version);
        if !changed.is_empty() {
            // Other processes hear of it at commit, with the documents when they fit.
            let inline = LiveMessage::Changes { workspace_id: workspace, after: after as u64, seq: out.head, docs: changed.clone() };
            let frame = match crate::live::frame_within(&inline, NOTIFY_BYTES) {
                Some(s) => s,
                None => serde_json::to_string(&LiveMessage::Moved { workspace_id: workspace, seq: out.head })?,
            };
            self.notify(&mut tx, &Remote::Frame { origin: self.origin, users: members.clone(), frame }).await?;
        }
        tx.commit().await?;
        Ok(Ok(PushCommit { response: PushResponse { seq: out.head, results: out.results }, after: after as u64, changed, members }))
    }

    pub(super) async fn changes(&self, workspace: Id, after: u64, limit: usize) -> Result<Page, StoreError> {
        let mut tx = self.pool.begin().await?;
        // One snapshot for the page and the head.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        let seq: i64 = sqlx::query_scalar("SELECT seq FROM workspaces WHERE id = $1").bind(workspace).fetch_one(&mut *tx).await?;
        let snapshot = if after == 0 { " AND deleted_seq IS NULL" } else { "" };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOC_COLUMNS} FROM docs WHERE workspace_id = $1 AND version > $2{snapshot} ORDER BY version LIMIT $3"
        )))
        .bind(workspace)
        .bind(after as i64)
        .bind((limit + 1) as i64)
        .fetch_all(&mut *tx)
        .await?;
        let docs = rows
            .iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(PageDoc {
                    id: r.try_get("id")?,
                    kind: kind.parse().map_err(|e: model::UnknownKind| StoreError::Corrupt(e.to_string()))?,
                    workspace_id: workspace,
                    parent_id: r.try_get("parent_id")?,
                    order_key: r.try_get("order_key")?,
                    fields: raw_fields(r.try_get("fields")?)?,
                    deleted: r.try_get::<Option<i64>, _>("deleted_seq")?.is_some(),
                    version: r.try_get::<i64, _>("version")? as u64,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let total = if after == 0 {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM docs WHERE workspace_id = $1{snapshot}")))
                .bind(workspace)
                .fetch_one(&mut *tx)
                .await?;
            Some(n as u64)
        } else {
            None
        };
        tx.commit().await?;
        Ok(Page::new(docs, after, limit, seq as u64, total))
    }
}

async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    // Several processes may start at once: one migrates, the others wait.
    sqlx::query("SELECT pg_advisory_xact_lock(7358200451)").execute(&mut *tx).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS apisync_schema (version int NOT NULL)").execute(&mut *tx).await?;
    let version: Option<i32> = sqlx::query_scalar("SELECT version FROM apisync_schema").fetch_optional(&mut *tx).await?;
    let version = version.unwrap_or(0) as usize;
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

/// Creates a workspace owned by `owner`; false if the id is taken.
async fn create_workspace(
    conn: &mut PgConnection,
    workspace: Id,
    name: &str,
    owner: Id,
    personal: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO workspaces (id, name, owner_id, personal, seq, created_at) VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(workspace)
    .bind(name)
    .bind(owner)
    .bind(personal)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO members (workspace_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(workspace)
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    if personal {
        let mut fields = Fields::new();
        fields.insert("name".into(), name.into());
        let clocks: BTreeMap<&str, (u64, u64)> = [("name", (1, 0))].into_iter().collect();
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO docs ({DOC_COLUMNS}) VALUES ($1, $1, 'workspace', NULL, NULL, $2, $3, NULL, NULL, 1)"
        )))
        .bind(workspace)
        .bind(serde_json::to_string(&fields)?)
        .bind(serde_json::to_string(&clocks)?)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE workspaces SET seq = 1 WHERE id = $1").bind(workspace).execute(&mut *conn).await?;
    }
    Ok(true)
}

async fn role_in(conn: &mut PgConnection, user_id: Id, workspace: Id) -> Result<Option<Role>, StoreError> {
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace)
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    role.map(|r| role_from(&r)).transpose()
}

async fn devices_of(conn: &mut PgConnection, user_id: Id) -> Result<Vec<DeviceRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT num, device_id, name, signed_in_at, last_seen_at FROM devices WHERE user_id = $1 AND signed_in ORDER BY signed_in_at, num",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeviceRecord {
                num: r.try_get::<i64, _>("num")? as u64,
                user_id,
                id: r.try_get("device_id")?,
                name: r.try_get("name")?,
                signed_in_at: r.try_get("signed_in_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .collect()
}

async fn sign_out_num(conn: &mut PgConnection, num: u64, reason: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE devices SET signed_in = false WHERE num = $1").bind(num as i64).execute(&mut *conn).await?;
    sqlx::query("UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE device_num = $1 AND revoked_at IS NULL")
        .bind(num as i64)
        .bind(now)
        .bind(reason)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
