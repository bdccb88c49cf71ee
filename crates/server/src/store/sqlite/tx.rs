//! The storage primitives on SQLite: every method of [`Tx`], each a
//! statement or two on one connection.

use super::batch;
use crate::compact::OldTombstone;
use crate::limit::Entry;
use crate::push::{BatchOutput, Head};
use crate::store::{DeviceRecord, InvitationRecord, Page, PageDoc, SessionRecord, StoreError, Tx, UserRecord, WorkspaceRecord};
use model::{Id, Mutation};
use protocol::{DeviceInfo, Role, TeamMember, User, WorkspaceInfo};
use rusqlite::{Connection, OptionalExtension, params};

/// One transaction (or reader connection) on SQLite.
pub(crate) struct SqliteTx<'c> {
    conn: &'c mut Connection,
}

impl<'c> SqliteTx<'c> {
    pub(super) fn new(conn: &'c mut Connection) -> SqliteTx<'c> {
        SqliteTx { conn }
    }

    /// The connection, for the store's own statements.
    pub(super) fn conn(&self) -> &Connection {
        self.conn
    }
}

pub(super) fn id(s: String) -> Result<Id, StoreError> {
    Id::parse_str(&s).map_err(|e| StoreError::Unreadable(format!("bad id {s}: {e}")))
}

fn role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Unreadable(format!("bad role {s}")))
}

fn ids(conn: &Connection, sql: &str, key: &str) -> Result<Vec<Id>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let raw = stmt.query_map([key], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(id).collect()
}

fn exists(conn: &Connection, sql: &str, key: &str) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached(sql)?.query_row([key], |_| Ok(())).optional()?.is_some())
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn user_record((uid, email, username, password_hash): (String, String, String, String)) -> Result<UserRecord, StoreError> {
    Ok(UserRecord { user: User { id: id(uid)?, email, username }, password_hash })
}

const INVITATION_COLUMNS: &str = "id, team_id, login, shown, role, invited_by, created_at, expires_at";

fn invitation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<InvitationRecord, StoreError>> {
    let (i, team, login, shown, role_name, by): (String, String, String, String, String, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
    let (created_at, expires_at): (i64, i64) = (r.get(6)?, r.get(7)?);
    Ok((|| {
        Ok(InvitationRecord {
            id: id(i)?,
            team: id(team)?,
            login,
            shown,
            role: role(&role_name)?,
            invited_by: id(by)?,
            created_at,
            expires_at,
        })
    })())
}

impl Tx for SqliteTx<'_> {
    async fn insert_user(&mut self, user: &User, password_hash: &str, now: i64) -> Result<(), StoreError> {
        // The columns compare without case (COLLATE NOCASE).
        if exists(self.conn, "SELECT 1 FROM users WHERE email = ?1", &user.email)? {
            return Err(StoreError::EmailTaken);
        }
        if exists(self.conn, "SELECT 1 FROM users WHERE username = ?1", &user.username)? {
            return Err(StoreError::UsernameTaken);
        }
        self.conn.execute(
            "INSERT INTO users (id, email, username, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![user.id.to_string(), user.email, user.username, password_hash, now],
        )?;
        Ok(())
    }

    async fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT id, email, username, password_hash FROM users WHERE email = ?1 OR username = ?1")?;
        stmt.query_row([login], user_row).optional()?.map(user_record).transpose()
    }

    async fn user(&mut self, user: Id) -> Result<Option<UserRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, email, username, password_hash FROM users WHERE id = ?1")?;
        stmt.query_row([user.to_string()], user_row).optional()?.map(user_record).transpose()
    }

    async fn lock_user(&mut self, _user: Id) -> Result<(), StoreError> {
        // One writer connection: the whole transaction is exclusive already.
        Ok(())
    }

    async fn set_password_hash(&mut self, user: Id, hash: &str) -> Result<(), StoreError> {
        self.conn.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![user.to_string(), hash])?;
        Ok(())
    }

    async fn delete_user(&mut self, user: Id, now: i64) -> Result<(), StoreError> {
        let u = user.to_string();
        self.conn.execute(
            "INSERT OR IGNORE INTO gone_sessions (token_hash, at)
             SELECT s.token_hash, ?2 FROM sessions s JOIN devices d ON d.num = s.device_num WHERE d.user_id = ?1",
            params![&u, now],
        )?;
        self.conn.execute("DELETE FROM sessions WHERE device_num IN (SELECT num FROM devices WHERE user_id = ?1)", [&u])?;
        // Devices, tokens and memberships go with the user (ON DELETE CASCADE).
        self.conn.execute("DELETE FROM users WHERE id = ?1", [&u])?;
        Ok(())
    }

    async fn devices(&mut self, user: Id) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT num, device_id, name, signed_in_at, last_seen_at FROM devices WHERE user_id = ?1 AND signed_in = 1")?;
        let rows = stmt
            .query_map([user.to_string()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(num, did, name, signed_in_at, last_seen_at)| {
                Ok(DeviceRecord { num: num as u64, user_id: user, id: id(did)?, name, signed_in_at, last_seen_at })
            })
            .collect()
    }

    async fn upsert_device(&mut self, user: Id, device: &DeviceInfo, now: i64) -> Result<u64, StoreError> {
        let num: i64 = self.conn.query_row(
            "INSERT INTO devices (user_id, device_id, name, signed_in_at, last_seen_at, signed_in) VALUES (?1, ?2, ?3, ?4, ?4, 1)
             ON CONFLICT (user_id, device_id) DO UPDATE SET name = excluded.name, signed_in_at = excluded.signed_in_at,
             last_seen_at = excluded.last_seen_at, signed_in = 1 RETURNING num",
            params![user.to_string(), device.id.to_string(), device.name, now],
            |r| r.get(0),
        )?;
        Ok(num as u64)
    }

    async fn sign_out_device(&mut self, num: u64, reason: &str, now: i64) -> Result<(), StoreError> {
        self.conn.execute("UPDATE devices SET signed_in = 0 WHERE num = ?1", [num as i64])?;
        self.revoke_sessions(num, reason, now).await
    }

    async fn revoke_sessions(&mut self, num: u64, reason: &str, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 WHERE device_num = ?1 AND revoked_at IS NULL",
            params![num as i64, now, reason],
        )?;
        Ok(())
    }

    async fn insert_session(&mut self, token_hash: &str, num: u64, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, device_num, created_at) VALUES (?1, ?2, ?3)",
            params![token_hash, num as i64, now],
        )?;
        Ok(())
    }

    async fn session(&mut self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
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

    async fn session_gone(&mut self, token_hash: &str) -> Result<bool, StoreError> {
        exists(self.conn, "SELECT 1 FROM gone_sessions WHERE token_hash = ?1", token_hash)
    }

    async fn device_known(&mut self, user: Id, device: Id) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM devices WHERE user_id = ?1 AND device_id = ?2")?
            .query_row(params![user.to_string(), device.to_string()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    async fn touch(&mut self, num: u64, now: i64) -> Result<(), StoreError> {
        self.conn.execute("UPDATE devices SET last_seen_at = ?2 WHERE num = ?1 AND last_seen_at < ?2", params![num as i64, now])?;
        Ok(())
    }

    async fn put_token(&mut self, token_hash: &str, user: Id, purpose: &str, expires_at: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO tokens (token_hash, user_id, purpose, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user.to_string(), purpose, expires_at],
        )?;
        Ok(())
    }

    async fn take_token(&mut self, token_hash: &str, purpose: &str, now: i64) -> Result<Option<Id>, StoreError> {
        self.conn.execute("DELETE FROM tokens WHERE expires_at <= ?1", [now])?;
        let user: Option<String> = self
            .conn
            .query_row("DELETE FROM tokens WHERE token_hash = ?1 AND purpose = ?2 RETURNING user_id", params![token_hash, purpose], |r| {
                r.get(0)
            })
            .optional()?;
        user.map(id).transpose()
    }

    async fn delete_tokens(&mut self, user: Id) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM tokens WHERE user_id = ?1", [user.to_string()])?;
        Ok(())
    }

    async fn workspace(&mut self, ws: Id) -> Result<Option<WorkspaceRecord>, StoreError> {
        let row: Option<(String, String, bool)> = self
            .conn
            .prepare_cached("SELECT name, owner_id, personal FROM workspaces WHERE id = ?1")?
            .query_row([ws.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(name, owner, personal)| Ok(WorkspaceRecord { id: ws, name, owner: id(owner)?, personal })).transpose()
    }

    async fn id_taken(&mut self, key: Id) -> Result<bool, StoreError> {
        exists(
            self.conn,
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = ?1) OR EXISTS (SELECT 1 FROM gone_workspaces WHERE id = ?1)
             OR EXISTS (SELECT 1 FROM docs WHERE id = ?1)",
            &key.to_string(),
        )
    }

    async fn insert_workspace(&mut self, w: &WorkspaceRecord, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO workspaces (id, name, owner_id, personal, seq, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            params![w.id.to_string(), w.name, w.owner.to_string(), w.personal, now],
        )?;
        Ok(())
    }

    async fn lock_workspace(&mut self, ws: Id) -> Result<Head, StoreError> {
        let (seq, horizon): (i64, i64) = self
            .conn
            .prepare_cached("SELECT seq, horizon FROM workspaces WHERE id = ?1")?
            .query_row([ws.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(Head { seq: seq as u64, horizon: horizon as u64 })
    }

    async fn forget_results(&mut self, ws: Id, device: u64, before: Id, limit: usize) -> Result<(), StoreError> {
        // Hyphenated UUIDs sort as text in the order of their bytes.
        self.conn
            .prepare_cached(
                "DELETE FROM mutations WHERE workspace_id = ?1 AND device_num = ?2 AND mutation_id IN
                 (SELECT mutation_id FROM mutations WHERE workspace_id = ?1 AND device_num = ?2 AND mutation_id < ?3 LIMIT ?4)",
            )?
            .execute(params![ws.to_string(), device as i64, before.to_string(), limit as i64])?;
        Ok(())
    }

    async fn set_head(&mut self, ws: Id, seq: u64) -> Result<(), StoreError> {
        self.conn.prepare_cached("UPDATE workspaces SET seq = ?2 WHERE id = ?1")?.execute(params![ws.to_string(), seq as i64])?;
        Ok(())
    }

    async fn rename_workspace(&mut self, ws: Id, name: &str) -> Result<(), StoreError> {
        self.conn.execute("UPDATE workspaces SET name = ?2 WHERE id = ?1", params![ws.to_string(), name])?;
        Ok(())
    }

    async fn delete_workspace(&mut self, ws: Id, now: i64) -> Result<(), StoreError> {
        let w = ws.to_string();
        for table in ["mutations", "docs", "members", "team_workspaces"] {
            self.conn.execute(&format!("DELETE FROM {table} WHERE workspace_id = ?1"), [&w])?;
        }
        self.conn.execute("DELETE FROM workspaces WHERE id = ?1", [&w])?;
        self.conn.execute("INSERT OR IGNORE INTO gone_workspaces (id, at) VALUES (?1, ?2)", params![&w, now])?;
        Ok(())
    }

    async fn forget_workspace(&mut self, ws: Id, now: i64) -> Result<(), StoreError> {
        let w = ws.to_string();
        self.conn.execute("DELETE FROM members WHERE workspace_id = ?1", [&w])?;
        self.conn.execute("DELETE FROM team_workspaces WHERE workspace_id = ?1", [&w])?;
        self.conn.execute("INSERT OR IGNORE INTO gone_workspaces (id, at) VALUES (?1, ?2)", params![&w, now])?;
        Ok(())
    }

    async fn purge_workspace(&mut self, ws: Id, limit: usize) -> Result<bool, StoreError> {
        let (w, n) = (ws.to_string(), limit as i64);
        let mut deleted = self.conn.execute(
            "DELETE FROM mutations WHERE (workspace_id, device_num, mutation_id) IN
             (SELECT workspace_id, device_num, mutation_id FROM mutations WHERE workspace_id = ?1 LIMIT ?2)",
            params![&w, n],
        )?;
        deleted += self
            .conn
            .execute("DELETE FROM docs WHERE rowid IN (SELECT rowid FROM docs WHERE workspace_id = ?1 LIMIT ?2)", params![&w, n])?;
        if deleted > 0 {
            return Ok(false);
        }
        self.conn.execute("DELETE FROM workspaces WHERE id = ?1", [&w])?;
        Ok(true)
    }

    async fn purges_pending(&mut self) -> Result<Vec<Id>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT g.id FROM gone_workspaces g JOIN workspaces w ON w.id = g.id")?;
        let raw = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(id).collect()
    }

    async fn old_tombstones(&mut self, before: i64, limit: usize) -> Result<Vec<OldTombstone>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT workspace_id, id, version FROM docs WHERE deleted_seq IS NOT NULL AND deleted_at < ?1 ORDER BY deleted_at LIMIT ?2",
        )?;
        let raw = stmt
            .query_map(params![before, limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(|(w, d, v)| Ok(OldTombstone { workspace: id(w)?, doc: id(d)?, version: v as u64 })).collect()
    }

    async fn raise_horizon(&mut self, ws: Id, seq: u64) -> Result<(), StoreError> {
        self.conn.execute("UPDATE workspaces SET horizon = max(horizon, ?2) WHERE id = ?1", params![ws.to_string(), seq as i64])?;
        Ok(())
    }

    async fn delete_docs(&mut self, ids: &[Id]) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached("DELETE FROM docs WHERE id = ?1")?;
        for d in ids {
            stmt.execute([d.to_string()])?;
        }
        Ok(())
    }

    async fn workspaces_of(&mut self, user: Id) -> Result<Vec<WorkspaceInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT w.id, w.name, m.role, w.seq, w.personal FROM members m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = ?1",
        )?;
        let rows = stmt
            .query_map([user.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, bool>(4)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(wid, name, r, seq, personal)| Ok(WorkspaceInfo { id: id(wid)?, name, role: role(&r)?, seq: seq as u64, personal }))
            .collect()
    }

    async fn owned_workspaces(&mut self, user: Id) -> Result<Vec<Id>, StoreError> {
        ids(self.conn, "SELECT id FROM workspaces WHERE owner_id = ?1", &user.to_string())
    }

    async fn role(&mut self, user: Id, ws: Id) -> Result<Option<Role>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT role FROM members WHERE workspace_id = ?1 AND user_id = ?2")?;
        let r: Option<String> = stmt.query_row(params![ws.to_string(), user.to_string()], |r| r.get(0)).optional()?;
        r.map(|r| role(&r)).transpose()
    }

    async fn set_role(&mut self, ws: Id, user: Id, r: Option<Role>) -> Result<(), StoreError> {
        match r {
            Some(r) => self.conn.execute(
                "INSERT INTO members (workspace_id, user_id, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
                params![ws.to_string(), user.to_string(), r.as_str()],
            )?,
            None => self
                .conn
                .execute("DELETE FROM members WHERE workspace_id = ?1 AND user_id = ?2", params![ws.to_string(), user.to_string()])?,
        };
        Ok(())
    }

    async fn members(&mut self, ws: Id) -> Result<Vec<Id>, StoreError> {
        ids(self.conn, "SELECT user_id FROM members WHERE workspace_id = ?1", &ws.to_string())
    }

    async fn run_batch(&mut self, ws: Id, head: Head, device: u64, mutations: &[Mutation]) -> Result<BatchOutput, StoreError> {
        batch::run(self.conn, ws, head, device, mutations)
    }

    async fn write_batch(&mut self, ws: Id, device: u64, out: &BatchOutput, now: i64) -> Result<(), StoreError> {
        batch::write(self.conn, ws, device, out, now)
    }

    async fn changes(&mut self, ws: Id, after: u64, limit: usize, budget: usize) -> Result<Page, StoreError> {
        batch::changes(self.conn, ws, after, limit, budget)
    }

    async fn fetch(&mut self, ws: Id, ids: &[Id], budget: usize) -> Result<(Vec<PageDoc>, Vec<Id>), StoreError> {
        batch::fetch(self.conn, ws, ids, budget)
    }

    async fn insert_team(&mut self, team: Id, name: &str, by: Id, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO teams (id, name, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![team.to_string(), name, by.to_string(), now],
        )?;
        Ok(())
    }

    async fn delete_team(&mut self, team: Id) -> Result<(), StoreError> {
        // Memberships and shares go with it (ON DELETE CASCADE).
        self.conn.execute("DELETE FROM teams WHERE id = ?1", [team.to_string()])?;
        Ok(())
    }

    async fn lock_team(&mut self, _team: Id) -> Result<(), StoreError> {
        Ok(())
    }

    async fn team_name(&mut self, team: Id) -> Result<Option<String>, StoreError> {
        Ok(self.conn.prepare_cached("SELECT name FROM teams WHERE id = ?1")?.query_row([team.to_string()], |r| r.get(0)).optional()?)
    }

    async fn teams_of(&mut self, user: Id) -> Result<Vec<(Id, String, Role)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT t.id, t.name, m.role FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ?1")?;
        let rows = stmt
            .query_map([user.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|(t, name, r)| Ok((id(t)?, name, role(&r)?))).collect()
    }

    async fn team_role(&mut self, team: Id, user: Id) -> Result<Option<Role>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT role FROM team_members WHERE team_id = ?1 AND user_id = ?2")?;
        let r: Option<String> = stmt.query_row(params![team.to_string(), user.to_string()], |r| r.get(0)).optional()?;
        r.map(|r| role(&r)).transpose()
    }

    async fn team_members(&mut self, team: Id) -> Result<Vec<TeamMember>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.id, u.email, u.username, m.role FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ?1",
        )?;
        let rows = stmt
            .query_map([team.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(uid, email, username, r)| Ok(TeamMember { user: User { id: id(uid)?, email, username }, role: role(&r)? }))
            .collect()
    }

    async fn set_team_role(&mut self, team: Id, user: Id, r: Option<Role>) -> Result<bool, StoreError> {
        let n = match r {
            Some(r) => self.conn.execute(
                "INSERT INTO team_members (team_id, user_id, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
                params![team.to_string(), user.to_string(), r.as_str()],
            )?,
            None => self
                .conn
                .execute("DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2", params![team.to_string(), user.to_string()])?,
        };
        Ok(n > 0)
    }

    async fn shared_workspaces(&mut self, team: Id) -> Result<Vec<Id>, StoreError> {
        ids(self.conn, "SELECT workspace_id FROM team_workspaces WHERE team_id = ?1", &team.to_string())
    }

    async fn set_shared(&mut self, team: Id, ws: Id, shared: bool) -> Result<bool, StoreError> {
        let n = if shared {
            self.conn.execute(
                "INSERT INTO team_workspaces (team_id, workspace_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![team.to_string(), ws.to_string()],
            )?
        } else {
            self.conn.execute(
                "DELETE FROM team_workspaces WHERE team_id = ?1 AND workspace_id = ?2",
                params![team.to_string(), ws.to_string()],
            )?
        };
        Ok(n > 0)
    }

    async fn workspace_teams(&mut self, ws: Id) -> Result<Vec<Id>, StoreError> {
        ids(self.conn, "SELECT team_id FROM team_workspaces WHERE workspace_id = ?1", &ws.to_string())
    }

    async fn put_invitation(&mut self, inv: &InvitationRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM team_invitations WHERE team_id = ?1 AND expires_at <= ?2",
            params![inv.team.to_string(), inv.created_at],
        )?;
        self.conn.execute(
            "INSERT INTO team_invitations (id, team_id, login, shown, role, invited_by, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (team_id, login) DO UPDATE SET id = excluded.id, shown = excluded.shown, role = excluded.role,
             invited_by = excluded.invited_by, created_at = excluded.created_at, expires_at = excluded.expires_at",
            params![
                inv.id.to_string(),
                inv.team.to_string(),
                inv.login,
                inv.shown,
                inv.role.as_str(),
                inv.invited_by.to_string(),
                inv.created_at,
                inv.expires_at
            ],
        )?;
        Ok(())
    }

    async fn team_invitations(&mut self, team: Id, now: i64) -> Result<Vec<InvitationRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE team_id = ?1 AND expires_at > ?2"))?;
        let rows = stmt.query_map(params![team.to_string(), now], invitation_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().collect()
    }

    async fn invitations_for(&mut self, logins: &[String], now: i64) -> Result<Vec<InvitationRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE login IN (SELECT value FROM json_each(?1)) AND expires_at > ?2"
        ))?;
        let rows = stmt.query_map(params![serde_json::to_string(logins)?, now], invitation_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().collect()
    }

    async fn invitation(&mut self, inv: Id) -> Result<Option<InvitationRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE id = ?1"))?;
        stmt.query_row([inv.to_string()], invitation_row).optional()?.transpose()
    }

    async fn delete_invitation(&mut self, inv: Id) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM team_invitations WHERE id = ?1", [inv.to_string()])? > 0)
    }

    async fn team_roles_in(&mut self, ws: Id, user: Id) -> Result<Vec<Role>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tm.role FROM team_workspaces tw JOIN team_members tm ON tm.team_id = tw.team_id
             WHERE tw.workspace_id = ?1 AND tm.user_id = ?2",
        )?;
        let rows = stmt.query_map(params![ws.to_string(), user.to_string()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|r| role(r)).collect()
    }

    async fn counter(&mut self, key: &str) -> Result<Option<Entry>, StoreError> {
        // One writer: the transaction holds every key already.
        Ok(self
            .conn
            .prepare_cached("SELECT count, since, next_at, until FROM rate_limits WHERE key = ?1")?
            .query_row([key], |r| Ok(Entry { count: r.get::<_, i64>(0)? as u32, since: r.get(1)?, next: r.get(2)?, until: r.get(3)? }))
            .optional()?)
    }

    async fn set_counter(&mut self, key: &str, entry: Option<Entry>) -> Result<(), StoreError> {
        match entry {
            Some(e) => self.conn.execute(
                "INSERT INTO rate_limits (key, count, since, next_at, until) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET count = excluded.count, since = excluded.since, next_at = excluded.next_at, until = excluded.until",
                params![key, e.count as i64, e.since, e.next, e.until],
            )?,
            None => self.conn.execute("DELETE FROM rate_limits WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    async fn sweep_counters(&mut self, now: i64) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM rate_limits WHERE until < ?1", [now])?;
        Ok(())
    }
}
