//! The PostgreSQL backend: any number of server processes share one
//! database. Pushes to a workspace serialize on its row lock, so sequence
//! numbers stay gapless; notices cross processes by LISTEN/NOTIFY; the
//! planner's statistics are kept fresh by the server itself.

use super::{Notice, StoreError};
use model::Id;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use std::time::Duration;
use tokio::sync::mpsc;

mod batch;
mod classify;
mod schema;
mod statistics;
mod tx;

pub(crate) use tx::PgTx;

/// The channel every process listens on.
const CHANNEL: &str = "apisync_live";

/// A notice on the wire between processes: who sent it, so a process skips its own.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    origin: Id,
    #[serde(flatten)]
    notice: Notice,
}

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
    /// This process, so it skips its own notifications.
    origin: Id,
    /// Counts the rows pushes write and analyzes the tables when enough did.
    analyzer: statistics::Analyzer,
}

impl PgStore {
    /// Connects, applies migrations (once, even with several processes
    /// starting together), starts listening for other processes' notices,
    /// and starts keeping statistics fresh.
    pub async fn open(url: &str) -> Result<(PgStore, mpsc::UnboundedReceiver<Notice>), StoreError> {
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        schema::migrate(&pool).await?;
        let origin = Id::now_v7();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match serde_json::from_str::<Envelope>(n.payload()) {
                        Ok(e) if e.origin == origin => {}
                        Ok(e) => {
                            if tx.send(e.notice).is_err() {
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
        let analyzer = statistics::Analyzer::start(pool.clone());
        Ok((PgStore { pool, origin, analyzer }, rx))
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
