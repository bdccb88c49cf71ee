//! Teams on SQLite. A team member's access to a shared workspace is kept as
//! an ordinary `members` row, recomputed whenever a team changes, so every
//! other query (push, pull, the workspace list) needs no knowledge of teams.

use super::{SqliteStore, id, role_from, role_name};
use crate::store::StoreError;
use model::Id;
use protocol::{Role, TeamInfo, TeamMember, User};
use rusqlite::{Connection, OptionalExtension, params};

/// Sets a user's `members` row for a workspace to what ownership and teams give.
fn recompute(conn: &Connection, user: Id, ws: Id) -> Result<(), StoreError> {
    let owner: Option<String> =
        conn.query_row("SELECT owner_id FROM workspaces WHERE id = ?1", [ws.to_string()], |r| r.get(0)).optional()?;
    let Some(owner) = owner else { return Ok(()) };
    let role = if owner == user.to_string() {
        Some(Role::Owner)
    } else {
        let mut stmt = conn.prepare_cached(
            "SELECT tm.role FROM team_workspaces tw JOIN team_members tm ON tm.team_id = tw.team_id
             WHERE tw.workspace_id = ?1 AND tm.user_id = ?2",
        )?;
        let roles = stmt.query_map(params![ws.to_string(), user.to_string()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        roles.iter().map(|r| role_from(r)).collect::<Result<Vec<_>, _>>()?.into_iter().max_by_key(|r| r.rank())
    };
    match role {
        Some(r) => conn.execute(
            "INSERT INTO members (workspace_id, user_id, role) VALUES (?1, ?2, ?3)
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
            params![ws.to_string(), user.to_string(), role_name(r)],
        )?,
        None => conn.execute("DELETE FROM members WHERE workspace_id = ?1 AND user_id = ?2", params![ws.to_string(), user.to_string()])?,
    };
    Ok(())
}

fn ids(conn: &Connection, sql: &str, key: Id) -> Result<Vec<Id>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let raw = stmt.query_map([key.to_string()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    raw.into_iter().map(id).collect()
}

fn team_workspaces(conn: &Connection, team: Id) -> Result<Vec<Id>, StoreError> {
    ids(conn, "SELECT workspace_id FROM team_workspaces WHERE team_id = ?1 ORDER BY workspace_id", team)
}

fn team_users(conn: &Connection, team: Id) -> Result<Vec<Id>, StoreError> {
    ids(conn, "SELECT user_id FROM team_members WHERE team_id = ?1", team)
}

fn team_info(conn: &Connection, user: Id, team: Id) -> Result<Option<TeamInfo>, StoreError> {
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT t.name, m.role, (SELECT count(*) FROM team_members WHERE team_id = t.id)
             FROM teams t JOIN team_members m ON m.team_id = t.id WHERE t.id = ?1 AND m.user_id = ?2",
            params![team.to_string(), user.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(name, role, n)| {
        Ok(TeamInfo { id: team, name, role: role_from(&role)?, members: n as u64, workspaces: team_workspaces(conn, team)? })
    })
    .transpose()
}

impl SqliteStore {
    pub(in crate::store) fn create_team(&self, user: Id, team: Id, name: &str, now: i64) -> Result<TeamInfo, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO teams (id, name, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![team.to_string(), name, user.to_string(), now],
            )?;
            tx.execute(
                "INSERT INTO team_members (team_id, user_id, role) VALUES (?1, ?2, 'admin')",
                params![team.to_string(), user.to_string()],
            )?;
            team_info(tx, user, team)?.ok_or_else(|| StoreError::Corrupt("team vanished".into()))
        })
    }

    pub(in crate::store) fn teams(&self, user: Id) -> Result<Vec<TeamInfo>, StoreError> {
        let conn = self.reader();
        let list = ids(
            &conn,
            "SELECT t.id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ?1 ORDER BY t.name, t.id",
            user,
        )?;
        list.into_iter().filter_map(|t| team_info(&conn, user, t).transpose()).collect()
    }

    pub(in crate::store) fn team(&self, user: Id, team: Id) -> Result<Option<TeamInfo>, StoreError> {
        team_info(&self.reader(), user, team)
    }

    pub(in crate::store) fn team_members(&self, team: Id) -> Result<Vec<TeamMember>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT u.id, u.email, u.username, m.role FROM team_members m JOIN users u ON u.id = m.user_id
             WHERE m.team_id = ?1 ORDER BY u.username",
        )?;
        let rows = stmt
            .query_map([team.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(uid, email, username, role)| Ok(TeamMember { user: User { id: id(uid)?, email, username }, role: role_from(&role)? }))
            .collect()
    }

    pub(in crate::store) fn set_team_member(&self, team: Id, user: Id, role: Role) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO team_members (team_id, user_id, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
                params![team.to_string(), user.to_string(), role_name(role)],
            )?;
            for ws in team_workspaces(tx, team)? {
                recompute(tx, user, ws)?;
            }
            Ok(())
        })
    }

    pub(in crate::store) fn remove_team_member(&self, team: Id, user: Id) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n =
                tx.execute("DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2", params![team.to_string(), user.to_string()])?;
            if n == 0 {
                return Ok(false);
            }
            let shared = team_workspaces(tx, team)?;
            if team_users(tx, team)?.is_empty() {
                // The last one out: the team goes, and with it its shares.
                tx.execute("DELETE FROM teams WHERE id = ?1", [team.to_string()])?;
            }
            for ws in shared {
                recompute(tx, user, ws)?;
            }
            Ok(true)
        })
    }

    pub(in crate::store) fn share_workspace(&self, team: Id, ws: Id) -> Result<Vec<Id>, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO team_workspaces (team_id, workspace_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![team.to_string(), ws.to_string()],
            )?;
            let users = team_users(tx, team)?;
            for u in &users {
                recompute(tx, *u, ws)?;
            }
            Ok(users)
        })
    }
}
