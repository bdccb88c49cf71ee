//! The storage primitives on PostgreSQL: every method of [`Tx`], each a
//! statement or two on one connection.

use super::{PgStore, batch};
use crate::compact::OldTombstone;
use crate::limit::Entry;
use crate::push::{BatchOutput, Head};
use crate::store::{DeviceRecord, InvitationRecord, Page, PageDoc, SessionRecord, StoreError, Tx, UserRecord, WorkspaceRecord};
use model::{Id, Mutation};
use protocol::{DeviceInfo, Role, TeamMember, User, WorkspaceInfo};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};

/// One transaction (or pooled connection) on PostgreSQL.
pub(crate) struct PgTx<'a> {
    store: &'a PgStore,
    conn: &'a mut PgConnection,
}

impl<'a> PgTx<'a> {
    /// Records that a workspace's id is never to be claimed again.
    async fn record_gone(&mut self, ws: Id, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO gone_workspaces (id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(ws)
            .bind(now)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    pub(crate) fn new(store: &'a PgStore, conn: &'a mut PgConnection) -> PgTx<'a> {
        PgTx { store, conn }
    }
}

fn role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Unreadable(format!("bad role {s}")))
}

fn user_record(r: &PgRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user: User { id: r.try_get("id")?, email: r.try_get("email")?, username: r.try_get("username")? },
        password_hash: r.try_get("password_hash")?,
    })
}

fn device_record(r: &PgRow, user_id: Id) -> Result<DeviceRecord, StoreError> {
    Ok(DeviceRecord {
        num: r.try_get::<i64, _>("num")? as u64,
        user_id,
        id: r.try_get("device_id")?,
        name: r.try_get("name")?,
        signed_in_at: r.try_get("signed_in_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
    })
}

const INVITATION_COLUMNS: &str = "id, team_id, login, shown, role, invited_by, created_at, expires_at";

fn invitation_row(r: &PgRow) -> Result<InvitationRecord, StoreError> {
    let name: String = r.try_get("role")?;
    Ok(InvitationRecord {
        id: r.try_get("id")?,
        team: r.try_get("team_id")?,
        login: r.try_get("login")?,
        shown: r.try_get("shown")?,
        role: role(&name)?,
        invited_by: r.try_get("invited_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Tx for PgTx<'_> {
    async fn insert_user(&mut self, user: &User, password_hash: &str, now: i64) -> Result<(), StoreError> {
        let taken = |col: &str| format!("SELECT 1 FROM users WHERE lower({col}) = lower($1)");
        if sqlx::query(sqlx::AssertSqlSafe(taken("email"))).bind(&user.email).fetch_optional(&mut *self.conn).await?.is_some() {
            return Err(StoreError::EmailTaken);
        }
        if sqlx::query(sqlx::AssertSqlSafe(taken("username"))).bind(&user.username).fetch_optional(&mut *self.conn).await?.is_some() {
            return Err(StoreError::UsernameTaken);
        }
        let inserted = sqlx::query("INSERT INTO users (id, email, username, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.id)
            .bind(&user.email)
            .bind(&user.username)
            .bind(password_hash)
            .bind(now)
            .execute(&mut *self.conn)
            .await;
        // Two sign-ups racing past the checks meet the unique indexes.
        if let Err(sqlx::Error::Database(e)) = &inserted {
            match e.constraint() {
                Some("users_email") => return Err(StoreError::EmailTaken),
                Some("users_username") => return Err(StoreError::UsernameTaken),
                _ => {}
            }
        }
        inserted?;
        Ok(())
    }

    async fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, username, password_hash FROM users WHERE lower(email) = lower($1) OR lower(username) = lower($1)",
        )
        .bind(login)
        .fetch_optional(&mut *self.conn)
        .await?;
        row.as_ref().map(user_record).transpose()
    }

    async fn user(&mut self, user: Id) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query("SELECT id, email, username, password_hash FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(user_record).transpose()
    }

    async fn lock_user(&mut self, user: Id) -> Result<(), StoreError> {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn set_password_hash(&mut self, user: Id, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(user).bind(hash).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn delete_user(&mut self, user: Id, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO gone_sessions (token_hash, at)
             SELECT s.token_hash, $2 FROM sessions s JOIN devices d ON d.num = s.device_num WHERE d.user_id = $1 ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(now)
        .execute(&mut *self.conn)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE device_num IN (SELECT num FROM devices WHERE user_id = $1)")
            .bind(user)
            .execute(&mut *self.conn)
            .await?;
        // Devices, tokens and memberships go with the user (ON DELETE CASCADE).
        sqlx::query("DELETE FROM users WHERE id = $1").bind(user).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn devices(&mut self, user: Id) -> Result<Vec<DeviceRecord>, StoreError> {
        let rows = sqlx::query("SELECT num, device_id, name, signed_in_at, last_seen_at FROM devices WHERE user_id = $1 AND signed_in")
            .bind(user)
            .fetch_all(&mut *self.conn)
            .await?;
        rows.iter().map(|r| device_record(r, user)).collect()
    }

    async fn upsert_device(&mut self, user: Id, device: &DeviceInfo, now: i64) -> Result<u64, StoreError> {
        let num: i64 = sqlx::query_scalar(
            "INSERT INTO devices (user_id, device_id, name, signed_in_at, last_seen_at, signed_in) VALUES ($1, $2, $3, $4, $4, true)
             ON CONFLICT (user_id, device_id) DO UPDATE SET name = excluded.name, signed_in_at = excluded.signed_in_at,
             last_seen_at = excluded.last_seen_at, signed_in = true RETURNING num",
        )
        .bind(user)
        .bind(device.id)
        .bind(&device.name)
        .bind(now)
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(num as u64)
    }

    async fn sign_out_device(&mut self, num: u64, reason: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE devices SET signed_in = false WHERE num = $1").bind(num as i64).execute(&mut *self.conn).await?;
        self.revoke_sessions(num, reason, now).await
    }

    async fn revoke_sessions(&mut self, num: u64, reason: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE device_num = $1 AND revoked_at IS NULL")
            .bind(num as i64)
            .bind(now)
            .bind(reason)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn insert_session(&mut self, token_hash: &str, num: u64, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_hash, device_num, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(num as i64)
            .bind(now)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn session(&mut self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id AS uid, u.email, u.username, d.num, d.device_id, d.name, d.signed_in_at, d.last_seen_at, s.revoked_reason
             FROM sessions s JOIN devices d ON d.num = s.device_num JOIN users u ON u.id = d.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.conn)
        .await?;
        row.map(|r| {
            let user_id: Id = r.try_get("uid")?;
            Ok(SessionRecord {
                user: User { id: user_id, email: r.try_get("email")?, username: r.try_get("username")? },
                device: device_record(&r, user_id)?,
                revoked: r.try_get("revoked_reason")?,
            })
        })
        .transpose()
    }

    async fn session_gone(&mut self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM gone_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *self.conn)
            .await?
            .is_some())
    }

    async fn device_known(&mut self, user: Id, device: Id) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM devices WHERE user_id = $1 AND device_id = $2")
            .bind(user)
            .bind(device)
            .fetch_optional(&mut *self.conn)
            .await?
            .is_some())
    }

    async fn touch(&mut self, num: u64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE devices SET last_seen_at = $2 WHERE num = $1 AND last_seen_at < $2")
            .bind(num as i64)
            .bind(now)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn put_token(&mut self, token_hash: &str, user: Id, purpose: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user)
            .bind(purpose)
            .bind(expires_at)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn take_token(&mut self, token_hash: &str, purpose: &str, now: i64) -> Result<Option<Id>, StoreError> {
        sqlx::query("DELETE FROM tokens WHERE expires_at <= $1").bind(now).execute(&mut *self.conn).await?;
        Ok(sqlx::query_scalar("DELETE FROM tokens WHERE token_hash = $1 AND purpose = $2 RETURNING user_id")
            .bind(token_hash)
            .bind(purpose)
            .fetch_optional(&mut *self.conn)
            .await?)
    }

    async fn delete_tokens(&mut self, user: Id) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM tokens WHERE user_id = $1").bind(user).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn workspace(&mut self, ws: Id) -> Result<Option<WorkspaceRecord>, StoreError> {
        let row =
            sqlx::query("SELECT name, owner_id, personal FROM workspaces WHERE id = $1").bind(ws).fetch_optional(&mut *self.conn).await?;
        row.map(|r| {
            Ok(WorkspaceRecord { id: ws, name: r.try_get("name")?, owner: r.try_get("owner_id")?, personal: r.try_get("personal")? })
        })
        .transpose()
    }

    async fn id_taken(&mut self, key: Id) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = $1) OR EXISTS (SELECT 1 FROM gone_workspaces WHERE id = $1)
             OR EXISTS (SELECT 1 FROM docs WHERE id = $1)",
        )
        .bind(key)
        .fetch_one(&mut *self.conn)
        .await?)
    }

    async fn insert_workspace(&mut self, w: &WorkspaceRecord, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO workspaces (id, name, owner_id, personal, seq, created_at) VALUES ($1, $2, $3, $4, 0, $5)")
            .bind(w.id)
            .bind(&w.name)
            .bind(w.owner)
            .bind(w.personal)
            .bind(now)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn lock_workspace(&mut self, ws: Id) -> Result<Head, StoreError> {
        // The row lock serializes pushes to this workspace across processes.
        let (seq, horizon): (i64, i64) =
            sqlx::query_as("SELECT seq, horizon FROM workspaces WHERE id = $1 FOR UPDATE").bind(ws).fetch_one(&mut *self.conn).await?;
        Ok(Head { seq: seq as u64, horizon: horizon as u64 })
    }

    async fn forget_results(&mut self, ws: Id, device: u64, before: Id, limit: usize) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM mutations WHERE workspace_id = $1 AND device_num = $2 AND mutation_id IN
             (SELECT mutation_id FROM mutations WHERE workspace_id = $1 AND device_num = $2 AND mutation_id < $3 LIMIT $4)",
        )
        .bind(ws)
        .bind(device as i64)
        .bind(before)
        .bind(limit as i64)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn set_head(&mut self, ws: Id, seq: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE workspaces SET seq = $2 WHERE id = $1").bind(ws).bind(seq as i64).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn rename_workspace(&mut self, ws: Id, name: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE workspaces SET name = $2 WHERE id = $1").bind(ws).bind(name).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn delete_workspace(&mut self, ws: Id, now: i64) -> Result<(), StoreError> {
        for table in ["mutations", "docs", "members", "team_workspaces"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE workspace_id = $1")))
                .bind(ws)
                .execute(&mut *self.conn)
                .await?;
        }
        sqlx::query("DELETE FROM workspaces WHERE id = $1").bind(ws).execute(&mut *self.conn).await?;
        self.record_gone(ws, now).await
    }

    async fn forget_workspace(&mut self, ws: Id, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM members WHERE workspace_id = $1").bind(ws).execute(&mut *self.conn).await?;
        sqlx::query("DELETE FROM team_workspaces WHERE workspace_id = $1").bind(ws).execute(&mut *self.conn).await?;
        self.record_gone(ws, now).await
    }

    async fn purge_workspace(&mut self, ws: Id, limit: usize) -> Result<bool, StoreError> {
        let n = limit as i64;
        let mut deleted = 0;
        for table in ["mutations", "docs"] {
            // By physical row: both are found through an index that starts
            // with the workspace, and neither needs its key spelled out.
            deleted += sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE workspace_id = $1 LIMIT $2))"
            )))
            .bind(ws)
            .bind(n)
            .execute(&mut *self.conn)
            .await?
            .rows_affected();
        }
        if deleted > 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM workspaces WHERE id = $1").bind(ws).execute(&mut *self.conn).await?;
        Ok(true)
    }

    async fn purges_pending(&mut self) -> Result<Vec<Id>, StoreError> {
        // One primary-key probe of `workspaces` per gone id: as a join,
        // PostgreSQL may plan a sequential scan of every workspace.
        Ok(sqlx::query_scalar(
            "SELECT g.id FROM gone_workspaces g CROSS JOIN LATERAL (SELECT 1 FROM workspaces w WHERE w.id = g.id LIMIT 1) AS live",
        )
        .fetch_all(&mut *self.conn)
        .await?)
    }

    async fn old_tombstones(&mut self, before: i64, limit: usize) -> Result<Vec<OldTombstone>, StoreError> {
        let rows: Vec<(Id, Id, i64)> = sqlx::query_as(
            "SELECT workspace_id, id, version FROM docs WHERE deleted_seq IS NOT NULL AND deleted_at < $1 ORDER BY deleted_at LIMIT $2",
        )
        .bind(before)
        .bind(limit as i64)
        .fetch_all(&mut *self.conn)
        .await?;
        Ok(rows.into_iter().map(|(workspace, doc, v)| OldTombstone { workspace, doc, version: v as u64 }).collect())
    }

    async fn raise_horizon(&mut self, ws: Id, seq: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE workspaces SET horizon = GREATEST(horizon, $2) WHERE id = $1")
            .bind(ws)
            .bind(seq as i64)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn delete_docs(&mut self, ids: &[Id]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM docs WHERE id = ANY($1)").bind(ids).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn workspaces_of(&mut self, user: Id) -> Result<Vec<WorkspaceInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT w.id, w.name, m.role, w.seq, w.personal FROM members m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1",
        )
        .bind(user)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("role")?;
                Ok(WorkspaceInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: role(&name)?,
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    personal: r.try_get("personal")?,
                })
            })
            .collect()
    }

    async fn owned_workspaces(&mut self, user: Id) -> Result<Vec<Id>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM workspaces WHERE owner_id = $1").bind(user).fetch_all(&mut *self.conn).await?)
    }

    async fn role(&mut self, user: Id, ws: Id) -> Result<Option<Role>, StoreError> {
        let r: Option<String> = sqlx::query_scalar("SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws)
            .bind(user)
            .fetch_optional(&mut *self.conn)
            .await?;
        r.map(|r| role(&r)).transpose()
    }

    async fn set_role(&mut self, ws: Id, user: Id, r: Option<Role>) -> Result<(), StoreError> {
        match r {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO members (workspace_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(ws)
                .bind(user)
                .bind(r.as_str())
                .execute(&mut *self.conn)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM members WHERE workspace_id = $1 AND user_id = $2")
                    .bind(ws)
                    .bind(user)
                    .execute(&mut *self.conn)
                    .await?
            }
        };
        Ok(())
    }

    async fn members(&mut self, ws: Id) -> Result<Vec<Id>, StoreError> {
        Ok(sqlx::query_scalar("SELECT user_id FROM members WHERE workspace_id = $1").bind(ws).fetch_all(&mut *self.conn).await?)
    }

    async fn run_batch(&mut self, ws: Id, head: Head, device: u64, mutations: &[Mutation]) -> Result<BatchOutput, StoreError> {
        batch::run(self.conn, ws, head, device, mutations).await
    }

    async fn write_batch(&mut self, ws: Id, device: u64, out: &BatchOutput, now: i64) -> Result<(), StoreError> {
        batch::write(self.conn, ws, device, out, now).await?;
        let rows = out.tombstones.len() + out.writes.len() + out.new_results.len();
        self.store.analyzer.wrote(rows as u64);
        Ok(())
    }

    async fn changes(&mut self, ws: Id, after: u64, limit: usize, budget: usize) -> Result<Page, StoreError> {
        batch::changes(self.conn, ws, after, limit, budget).await
    }

    async fn fetch(&mut self, ws: Id, ids: &[Id], budget: usize) -> Result<(Vec<PageDoc>, Vec<Id>), StoreError> {
        batch::fetch(self.conn, ws, ids, budget).await
    }

    async fn insert_team(&mut self, team: Id, name: &str, by: Id, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO teams (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(team)
            .bind(name)
            .bind(by)
            .bind(now)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn delete_team(&mut self, team: Id) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM teams WHERE id = $1").bind(team).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn lock_team(&mut self, team: Id) -> Result<(), StoreError> {
        sqlx::query("SELECT id FROM teams WHERE id = $1 FOR UPDATE").bind(team).execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn team_name(&mut self, team: Id) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT name FROM teams WHERE id = $1").bind(team).fetch_optional(&mut *self.conn).await?)
    }

    async fn teams_of(&mut self, user: Id) -> Result<Vec<(Id, String, Role)>, StoreError> {
        let rows = sqlx::query("SELECT t.id, t.name, m.role FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1")
            .bind(user)
            .fetch_all(&mut *self.conn)
            .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("role")?;
                Ok((r.try_get("id")?, r.try_get("name")?, role(&name)?))
            })
            .collect()
    }

    async fn team_role(&mut self, team: Id, user: Id) -> Result<Option<Role>, StoreError> {
        let r: Option<String> = sqlx::query_scalar("SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team)
            .bind(user)
            .fetch_optional(&mut *self.conn)
            .await?;
        r.map(|r| role(&r)).transpose()
    }

    async fn team_members(&mut self, team: Id) -> Result<Vec<TeamMember>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.username, m.role FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1",
        )
        .bind(team)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("role")?;
                Ok(TeamMember {
                    user: User { id: r.try_get("id")?, email: r.try_get("email")?, username: r.try_get("username")? },
                    role: role(&name)?,
                })
            })
            .collect()
    }

    async fn set_team_role(&mut self, team: Id, user: Id, r: Option<Role>) -> Result<bool, StoreError> {
        let n = match r {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(team)
                .bind(user)
                .bind(r.as_str())
                .execute(&mut *self.conn)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
                    .bind(team)
                    .bind(user)
                    .execute(&mut *self.conn)
                    .await?
            }
        };
        Ok(n.rows_affected() > 0)
    }

    async fn shared_workspaces(&mut self, team: Id) -> Result<Vec<Id>, StoreError> {
        Ok(sqlx::query_scalar("SELECT workspace_id FROM team_workspaces WHERE team_id = $1").bind(team).fetch_all(&mut *self.conn).await?)
    }

    async fn set_shared(&mut self, team: Id, ws: Id, shared: bool) -> Result<bool, StoreError> {
        let sql = if shared {
            "INSERT INTO team_workspaces (team_id, workspace_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM team_workspaces WHERE team_id = $1 AND workspace_id = $2"
        };
        Ok(sqlx::query(sql).bind(team).bind(ws).execute(&mut *self.conn).await?.rows_affected() > 0)
    }

    async fn workspace_teams(&mut self, ws: Id) -> Result<Vec<Id>, StoreError> {
        Ok(sqlx::query_scalar("SELECT team_id FROM team_workspaces WHERE workspace_id = $1").bind(ws).fetch_all(&mut *self.conn).await?)
    }

    async fn put_invitation(&mut self, inv: &InvitationRecord) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM team_invitations WHERE team_id = $1 AND expires_at <= $2")
            .bind(inv.team)
            .bind(inv.created_at)
            .execute(&mut *self.conn)
            .await?;
        sqlx::query(
            "INSERT INTO team_invitations (id, team_id, login, shown, role, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (team_id, login) DO UPDATE SET id = excluded.id, shown = excluded.shown, role = excluded.role,
             invited_by = excluded.invited_by, created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(inv.id)
        .bind(inv.team)
        .bind(&inv.login)
        .bind(&inv.shown)
        .bind(inv.role.as_str())
        .bind(inv.invited_by)
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn team_invitations(&mut self, team: Id, now: i64) -> Result<Vec<InvitationRecord>, StoreError> {
        let rows =
            sqlx::query(AssertSqlSafe(format!("SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE team_id = $1 AND expires_at > $2")))
                .bind(team)
                .bind(now)
                .fetch_all(&mut *self.conn)
                .await?;
        rows.iter().map(invitation_row).collect()
    }

    async fn invitations_for(&mut self, logins: &[String], now: i64) -> Result<Vec<InvitationRecord>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE login = ANY($1) AND expires_at > $2"
        )))
        .bind(logins)
        .bind(now)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter().map(invitation_row).collect()
    }

    async fn invitation(&mut self, inv: Id) -> Result<Option<InvitationRecord>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE id = $1")))
            .bind(inv)
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(invitation_row).transpose()
    }

    async fn delete_invitation(&mut self, inv: Id) -> Result<bool, StoreError> {
        Ok(sqlx::query("DELETE FROM team_invitations WHERE id = $1").bind(inv).execute(&mut *self.conn).await?.rows_affected() > 0)
    }

    async fn team_roles_in(&mut self, ws: Id, user: Id) -> Result<Vec<Role>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT tm.role FROM team_workspaces tw JOIN team_members tm ON tm.team_id = tw.team_id
             WHERE tw.workspace_id = $1 AND tm.user_id = $2",
        )
        .bind(ws)
        .bind(user)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter().map(|r| role(r)).collect()
    }

    async fn counter(&mut self, key: &str) -> Result<Option<Entry>, StoreError> {
        // Attempts on one key, in any process, take turns: the lock holds
        // even while the key has no row yet.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7358200452))").bind(key).execute(&mut *self.conn).await?;
        let row = sqlx::query("SELECT count, since, next_at, until FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.conn)
            .await?;
        row.map(|r| {
            Ok(Entry {
                count: r.try_get::<i32, _>("count")? as u32,
                since: r.try_get("since")?,
                next: r.try_get("next_at")?,
                until: r.try_get("until")?,
            })
        })
        .transpose()
    }

    async fn set_counter(&mut self, key: &str, entry: Option<Entry>) -> Result<(), StoreError> {
        match entry {
            Some(e) => {
                sqlx::query(
                    "INSERT INTO rate_limits (key, count, since, next_at, until) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (key) DO UPDATE SET count = excluded.count, since = excluded.since, next_at = excluded.next_at, until = excluded.until",
                )
                .bind(key)
                .bind(i32::try_from(e.count).unwrap_or(i32::MAX))
                .bind(e.since)
                .bind(e.next)
                .bind(e.until)
                .execute(&mut *self.conn)
                .await?
            }
            None => sqlx::query("DELETE FROM rate_limits WHERE key = $1").bind(key).execute(&mut *self.conn).await?,
        };
        Ok(())
    }

    async fn sweep_counters(&mut self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM rate_limits WHERE until < $1").bind(now).execute(&mut *self.conn).await?;
        Ok(())
    }
}
