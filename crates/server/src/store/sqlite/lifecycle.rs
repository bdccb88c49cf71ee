//! The account life cycle on SQLite: reset tokens, password changes, and
//! deleting an account with everything it owns.

use super::{SqliteStore, id, sign_out_num};
use crate::store::{AccountDeletion, StoreError};
use model::Id;
use rusqlite::{OptionalExtension, params};

impl SqliteStore {
    pub(in crate::store) fn put_token(&self, token_hash: &str, user: Id, purpose: &str, expires_at: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tokens (token_hash, user_id, purpose, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user.to_string(), purpose, expires_at],
            )?;
            Ok(())
        })
    }

    pub(in crate::store) fn take_token(&self, token_hash: &str, purpose: &str, now: i64) -> Result<Option<Id>, StoreError> {
        self.write(|tx| {
            // Expired tokens of any account go too.
            tx.execute("DELETE FROM tokens WHERE expires_at <= ?1", [now])?;
            let user: Option<String> = tx
                .query_row(
                    "DELETE FROM tokens WHERE token_hash = ?1 AND purpose = ?2 RETURNING user_id",
                    params![token_hash, purpose],
                    |r| r.get(0),
                )
                .optional()?;
            user.map(id).transpose()
        })
    }

    pub(in crate::store) fn set_password(
        &self,
        user: Id,
        hash: &str,
        keep: Option<u64>,
        reason: &str,
        now: i64,
    ) -> Result<Vec<u64>, StoreError> {
        self.write(|tx| {
            tx.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![user.to_string(), hash])?;
            let nums: Vec<i64> = {
                let mut stmt = tx.prepare_cached("SELECT num FROM devices WHERE user_id = ?1 AND signed_in = 1")?;
                stmt.query_map([user.to_string()], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let mut out = Vec::new();
            for num in nums.into_iter().map(|n| n as u64).filter(|n| Some(*n) != keep) {
                sign_out_num(tx, num, reason, now)?;
                out.push(num);
            }
            // Reset tokens still out are void once the password changed.
            tx.execute("DELETE FROM tokens WHERE user_id = ?1", [user.to_string()])?;
            Ok(out)
        })
    }

    pub(in crate::store) fn delete_account(&self, user: Id, now: i64) -> Result<AccountDeletion, StoreError> {
        let u = user.to_string();
        self.write(|tx| {
            let teams: Vec<String> = {
                let mut stmt =
                    tx.prepare("SELECT t.name FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?1 ORDER BY t.name")?;
                stmt.query_map([&u], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            if !teams.is_empty() {
                return Ok(AccountDeletion::InTeams(teams));
            }
            let devices: Vec<i64> = {
                let mut stmt = tx.prepare("SELECT num FROM devices WHERE user_id = ?1 AND signed_in = 1")?;
                stmt.query_map([&u], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let others: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT DISTINCT m.user_id FROM members m JOIN workspaces w ON w.id = m.workspace_id WHERE w.owner_id = ?1 AND m.user_id <> ?1",
                )?;
                stmt.query_map([&u], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            // Remember the sessions, so the account's devices learn it is gone.
            tx.execute(
                "INSERT OR IGNORE INTO gone_sessions (token_hash, at)
                 SELECT s.token_hash, ?2 FROM sessions s JOIN devices d ON d.num = s.device_num WHERE d.user_id = ?1",
                params![&u, now],
            )?;
            for table in ["change_log", "mutations", "docs", "members", "team_workspaces"] {
                tx.execute(&format!("DELETE FROM {table} WHERE workspace_id IN (SELECT id FROM workspaces WHERE owner_id = ?1)"), [&u])?;
            }
            tx.execute("DELETE FROM workspaces WHERE owner_id = ?1", [&u])?;
            tx.execute("DELETE FROM sessions WHERE device_num IN (SELECT num FROM devices WHERE user_id = ?1)", [&u])?;
            tx.execute("DELETE FROM users WHERE id = ?1", [&u])?;
            Ok(AccountDeletion::Deleted {
                devices: devices.into_iter().map(|n| n as u64).collect(),
                others: others.into_iter().map(id).collect::<Result<_, _>>()?,
            })
        })
    }

    pub(in crate::store) fn session_gone(&self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(self.reader().query_row("SELECT 1 FROM gone_sessions WHERE token_hash = ?1", [token_hash], |_| Ok(())).optional()?.is_some())
    }
}
