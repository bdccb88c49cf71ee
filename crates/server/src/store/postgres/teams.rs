//! Teams on PostgreSQL; the same shape as `sqlite/teams.rs`: access through
//! a team is an ordinary `members` row, recomputed whenever a team changes.

use super::{PgStore, Remote, role_from};
use crate::store::StoreError;
use model::Id;
use protocol::{Role, TeamInfo, TeamMember, User};
use sqlx::Row;
use sqlx::postgres::PgConnection;

async fn recompute(conn: &mut PgConnection, user: Id, ws: Id) -> Result<(), StoreError> {
    let owner: Option<Id> = sqlx::query_scalar("SELECT owner_id FROM workspaces WHERE id = $1").bind(ws).fetch_optional(&mut *conn).await?;
    let Some(owner) = owner else { return Ok(()) };
    let role = if owner == user {
        Some(Role::Owner)
    } else {
        let roles: Vec<String> = sqlx::query_scalar(
            "SELECT tm.role FROM team_workspaces tw JOIN team_members tm ON tm.team_id = tw.team_id
             WHERE tw.workspace_id = $1 AND tm.user_id = $2",
        )
        .bind(ws)
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
        roles.iter().map(|r| role_from(r)).collect::<Result<Vec<_>, _>>()?.into_iter().max_by_key(|r| r.rank())
    };
    match role {
        Some(r) => {
            sqlx::query(
                "INSERT INTO members (workspace_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(ws)
            .bind(user)
            .bind(r.as_str())
            .execute(&mut *conn)
            .await?
        }
        None => sqlx::query("DELETE FROM members WHERE workspace_id = $1 AND user_id = $2").bind(ws).bind(user).execute(&mut *conn).await?,
    };
    Ok(())
}

async fn team_workspaces(conn: &mut PgConnection, team: Id) -> Result<Vec<Id>, StoreError> {
    Ok(sqlx::query_scalar("SELECT workspace_id FROM team_workspaces WHERE team_id = $1 ORDER BY workspace_id")
        .bind(team)
        .fetch_all(conn)
        .await?)
}

async fn team_users(conn: &mut PgConnection, team: Id) -> Result<Vec<Id>, StoreError> {
    Ok(sqlx::query_scalar("SELECT user_id FROM team_members WHERE team_id = $1").bind(team).fetch_all(conn).await?)
}

async fn team_info(conn: &mut PgConnection, user: Id, team: Id) -> Result<Option<TeamInfo>, StoreError> {
    let row = sqlx::query(
        "SELECT t.name, m.role, (SELECT count(*) FROM team_members WHERE team_id = t.id) AS n
         FROM teams t JOIN team_members m ON m.team_id = t.id WHERE t.id = $1 AND m.user_id = $2",
    )
    .bind(team)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    Ok(Some(TeamInfo {
        id: team,
        name: row.try_get("name")?,
        role: role_from(&role)?,
        members: row.try_get::<i64, _>("n")? as u64,
        workspaces: team_workspaces(conn, team).await?,
    }))
}

impl PgStore {
    pub(in crate::store) async fn create_team(&self, user: Id, team: Id, name: &str, now: i64) -> Result<TeamInfo, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO teams (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(team)
            .bind(name)
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, 'admin')")
            .bind(team)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let info = team_info(&mut tx, user, team).await?.ok_or_else(|| StoreError::Corrupt("team vanished".into()))?;
        tx.commit().await?;
        Ok(info)
    }

    pub(in crate::store) async fn teams(&self, user: Id) -> Result<Vec<TeamInfo>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let list: Vec<Id> = sqlx::query_scalar(
            "SELECT t.id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1 ORDER BY t.name, t.id",
        )
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(list.len());
        for t in list {
            out.extend(team_info(&mut conn, user, t).await?);
        }
        Ok(out)
    }

    pub(in crate::store) async fn team(&self, user: Id, team: Id) -> Result<Option<TeamInfo>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        team_info(&mut conn, user, team).await
    }

    pub(in crate::store) async fn team_members(&self, team: Id) -> Result<Vec<TeamMember>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.username, m.role FROM team_members m JOIN users u ON u.id = m.user_id
             WHERE m.team_id = $1 ORDER BY u.username",
        )
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok(TeamMember {
                    user: User { id: r.try_get("id")?, email: r.try_get("email")?, username: r.try_get("username")? },
                    role: role_from(&role)?,
                })
            })
            .collect()
    }

    pub(in crate::store) async fn set_team_member(&self, team: Id, user: Id, role: Role) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Team changes serialize on the team's row.
        sqlx::query("SELECT id FROM teams WHERE id = $1 FOR UPDATE").bind(team).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, $3)
             ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(team)
        .bind(user)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        for ws in team_workspaces(&mut tx, team).await? {
            recompute(&mut tx, user, ws).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(in crate::store) async fn remove_team_member(&self, team: Id, user: Id) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT id FROM teams WHERE id = $1 FOR UPDATE").bind(team).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team)
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let shared = team_workspaces(&mut tx, team).await?;
        if team_users(&mut tx, team).await?.is_empty() {
            sqlx::query("DELETE FROM teams WHERE id = $1").bind(team).execute(&mut *tx).await?;
        }
        for ws in shared {
            recompute(&mut tx, user, ws).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(in crate::store) async fn share_workspace(&self, team: Id, ws: Id) -> Result<Vec<Id>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT id FROM teams WHERE id = $1 FOR UPDATE").bind(team).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO team_workspaces (team_id, workspace_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(team)
            .bind(ws)
            .execute(&mut *tx)
            .await?;
        let users = team_users(&mut tx, team).await?;
        for u in &users {
            recompute(&mut tx, *u, ws).await?;
        }
        tx.commit().await?;
        Ok(users)
    }

    /// Tells the other processes to send this frame to these users' devices.
    pub(in crate::store) async fn announce(&self, users: &[Id], frame: &str) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.notify(&mut conn, &Remote::Frame { origin: self.origin, users: users.to_vec(), frame: frame.to_string() }).await
    }
}
