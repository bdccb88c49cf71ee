//! The account life cycle on PostgreSQL; the same shape as `sqlite/lifecycle.rs`.

use super::{PgStore, sign_out_num};
use crate::store::{AccountDeletion, StoreError};
use model::Id;
use sqlx::AssertSqlSafe;

impl PgStore {
    pub(in crate::store) async fn put_token(&self, token_hash: &str, user: Id, purpose: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user)
            .bind(purpose)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn take_token(&self, token_hash: &str, purpose: &str, now: i64) -> Result<Option<Id>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tokens WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
        let user: Option<Id> = sqlx::query_scalar("DELETE FROM tokens WHERE token_hash = $1 AND purpose = $2 RETURNING user_id")
            .bind(token_hash)
            .bind(purpose)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub(in crate::store) async fn set_password(
        &self,
        user: Id,
        hash: &str,
        keep: Option<u64>,
        reason: &str,
        now: i64,
    ) -> Result<Vec<u64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(user).bind(hash).execute(&mut *tx).await?;
        let nums: Vec<i64> =
            sqlx::query_scalar("SELECT num FROM devices WHERE user_id = $1 AND signed_in").bind(user).fetch_all(&mut *tx).await?;
        let mut out = Vec::new();
        for num in nums.into_iter().map(|n| n as u64).filter(|n| Some(*n) != keep) {
            sign_out_num(&mut tx, num, reason, now).await?;
            self.notify(&mut tx, &super::Remote::SignOut { origin: self.origin, user, device_num: num, reason: reason.to_string() })
                .await?;
            out.push(num);
        }
        sqlx::query("DELETE FROM tokens WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(in crate::store) async fn delete_account(&self, user: Id, now: i64) -> Result<AccountDeletion, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user).execute(&mut *tx).await?;
        let teams: Vec<String> =
            sqlx::query_scalar("SELECT t.name FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY t.name")
                .bind(user)
                .fetch_all(&mut *tx)
                .await?;
        if !teams.is_empty() {
            return Ok(AccountDeletion::InTeams(teams));
        }
        let devices: Vec<i64> =
            sqlx::query_scalar("SELECT num FROM devices WHERE user_id = $1 AND signed_in").bind(user).fetch_all(&mut *tx).await?;
        let others: Vec<Id> = sqlx::query_scalar(
            "SELECT DISTINCT m.user_id FROM members m JOIN workspaces w ON w.id = m.workspace_id WHERE w.owner_id = $1 AND m.user_id <> $1",
        )
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO gone_sessions (token_hash, at)
             SELECT s.token_hash, $2 FROM sessions s JOIN devices d ON d.num = s.device_num WHERE d.user_id = $1 ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for table in ["change_log", "mutations", "docs", "members", "team_workspaces"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE workspace_id IN (SELECT id FROM workspaces WHERE owner_id = $1)"
            )))
            .bind(user)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM workspaces WHERE owner_id = $1").bind(user).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM sessions WHERE device_num IN (SELECT num FROM devices WHERE user_id = $1)")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = $1").bind(user).execute(&mut *tx).await?;
        for num in &devices {
            let reason = "the account was deleted".to_string();
            self.notify(&mut tx, &super::Remote::SignOut { origin: self.origin, user, device_num: *num as u64, reason }).await?;
        }
        tx.commit().await?;
        Ok(AccountDeletion::Deleted { devices: devices.into_iter().map(|n| n as u64).collect(), others })
    }

    pub(in crate::store) async fn session_gone(&self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i32>("SELECT 1 FROM gone_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }
}
