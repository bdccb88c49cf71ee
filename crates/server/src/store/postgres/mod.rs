//! The PostgreSQL backend: any number of server processes share one
//! database. Pushes to a workspace serialize on its row lock, so sequence
//! numbers stay gapless; the planner's statistics are kept fresh by the
//! server itself. (Other processes hear of changes through `crate::notify`.)

use super::StoreError;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

mod batch;
mod classify;
mod schema;
mod statistics;
mod tx;

pub(crate) use tx::PgTx;

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
    /// Counts the rows pushes write and analyzes the tables when enough did.
    analyzer: statistics::Analyzer,
}

impl PgStore {
    /// Connects, applies migrations (once, even with several processes
    /// starting together), and starts keeping statistics fresh.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        schema::migrate(&pool).await?;
        let analyzer = statistics::Analyzer::start(pool.clone());
        Ok(PgStore { pool, analyzer })
    }

    /// The connections, for the notifier's `LISTEN/NOTIFY` (`crate::notify`).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction for [`crate::store::transact!`].
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A connection for [`crate::store::read!`].
    pub(crate) async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// A write PostgreSQL refuses on a standby or a read-only database
    /// (creating a table is refused there, even a temporary one), rolled back.
    pub(super) async fn ready(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("CREATE TEMPORARY TABLE apisync_ready_probe (x int)").execute(&mut *tx).await?;
        tx.rollback().await?;
        Ok(())
    }

    pub(super) fn pool_stats(&self) -> super::PoolStats {
        let (open, idle) = (u64::from(self.pool.size()), self.pool.num_idle() as u64);
        super::PoolStats { busy: open.saturating_sub(idle), idle, max: u64::from(self.pool.options().get_max_connections()), wal_bytes: 0 }
    }
}
