//! Fresh planner statistics for the tables pushes grow, without relying on
//! the operator's autovacuum (which may be off, or tuned for other
//! databases). PostgreSQL chooses index lookups over table scans from these
//! statistics: a `docs` table analyzed when it held a thousand rows and
//! holding a million has its estimates off by a thousand times.
//!
//! Each process counts the rows its own pushes write and, once enough have
//! changed since it last analyzed, one background task runs `ANALYZE`. At
//! start it analyzes if the tables were never analyzed, or changed enough
//! since (rows copied in by `apisync migrate`, or written by an older
//! server). With several processes, one analyzes at a time.

use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{ConnectOptions, Connection, Row};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The tables pushes write to, and the only ones that grow with use.
const TABLES: [&str; 2] = ["docs", "mutations"];

/// Held for the length of an `ANALYZE` transaction, so that processes
/// sharing the database take turns (the migration lock is 7358200451).
const LOCK_KEY: i64 = 7358200452;

/// Rows changed before statistics are refreshed: a base, plus this share
/// of the rows the tables hold. Autovacuum's defaults are 50 rows and 10 %;
/// the base is larger because a push writes three rows per mutation.
const BASE_ROWS: u64 = 1_000;
const SHARE: f64 = 0.1;

/// After an `ANALYZE`, the task waits this many times as long as it took,
/// so it is busy at most a tenth of the time however fast rows arrive.
const PAUSE_FACTOR: u32 = 9;

/// The longest an `ANALYZE` waits for another's table lock (a running
/// `VACUUM` or `ANALYZE` holds it), and how long the task waits after a failure.
const LOCK_TIMEOUT: &str = "5s";
const RETRY: Duration = Duration::from_secs(60);

/// Rows that must change, in tables holding `rows`, before they are analyzed again.
pub(super) fn due(rows: f64) -> u64 {
    BASE_ROWS.saturating_add((rows.max(0.0) * SHARE) as u64)
}

/// This process's count of rows written since the last `ANALYZE`, and the
/// task that runs it. Dropping it ends the task.
pub(super) struct Analyzer {
    written: Arc<AtomicU64>,
    due: Arc<AtomicU64>,
    wake: mpsc::Sender<()>,
}

impl Analyzer {
    /// Starts the background task, which first looks whether the tables
    /// need analyzing now.
    pub(super) fn start(pool: PgPool) -> Analyzer {
        let written = Arc::new(AtomicU64::new(0));
        let due = Arc::new(AtomicU64::new(BASE_ROWS));
        // One pending wake is enough: the task looks at the count itself.
        let (wake, rx) = mpsc::channel(1);
        tokio::spawn(run(pool, written.clone(), due.clone(), rx));
        Analyzer { written, due, wake }
    }

    /// Counts rows a push wrote (in a transaction that may still roll back:
    /// an overcount only brings an `ANALYZE` forward).
    pub(super) fn wrote(&self, rows: u64) {
        let total = self.written.fetch_add(rows, Ordering::Relaxed).saturating_add(rows);
        if total >= self.due.load(Ordering::Relaxed) {
            let _ = self.wake.try_send(());
        }
    }
}

/// What one attempt did.
enum Outcome {
    /// Analyzed here; the tables now hold about this many rows.
    Analyzed(f64),
    /// Another process is analyzing right now: its statistics serve this one too.
    Elsewhere,
}

async fn run(pool: PgPool, written: Arc<AtomicU64>, due: Arc<AtomicU64>, mut wake: mpsc::Receiver<()>) {
    let mut pause = Duration::ZERO;
    match stale(&pool).await {
        Ok((true, _)) => pause = attempt(&pool, &written, &due, Instant::now()).await,
        Ok((false, rows)) => due.store(self::due(rows), Ordering::Relaxed),
        Err(e) => tracing::warn!(error = %e, "cannot read the planner statistics of docs and mutations"),
    }
    while wake.recv().await.is_some() {
        if written.load(Ordering::Relaxed) < due.load(Ordering::Relaxed) {
            continue;
        }
        tokio::time::sleep(pause).await;
        pause = attempt(&pool, &written, &due, Instant::now()).await;
    }
}

/// Analyzes once; how long to pause before the next.
async fn attempt(pool: &PgPool, written: &AtomicU64, due: &AtomicU64, started: Instant) -> Duration {
    // Rows written while it runs count towards the next one.
    let claimed = written.swap(0, Ordering::Relaxed);
    match analyze(pool).await {
        Ok(Outcome::Analyzed(rows)) => {
            due.store(self::due(rows), Ordering::Relaxed);
            let took = started.elapsed();
            tracing::info!(rows = rows as u64, ms = took.as_millis() as u64, "analyzed docs and mutations");
            took * PAUSE_FACTOR
        }
        Ok(Outcome::Elsewhere) => Duration::ZERO,
        Err(e) => {
            written.fetch_add(claimed, Ordering::Relaxed);
            tracing::warn!(error = %e, "ANALYZE of docs and mutations failed; retrying in a minute");
            RETRY
        }
    }
}

/// Whether any of the tables was never analyzed, or changed by more than
/// [`due`] rows since it was; and how many rows they hold.
async fn stale(pool: &PgPool) -> Result<(bool, f64), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.reltuples::float8 AS rows, s.last_analyze IS NULL AND s.last_autoanalyze IS NULL AS never,
                COALESCE(s.n_mod_since_analyze, 0) AS changed
         FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
         WHERE c.oid = ANY(ARRAY[to_regclass('docs'), to_regclass('mutations')])",
    )
    .fetch_all(pool)
    .await?;
    let mut stale = rows.len() < TABLES.len();
    let mut total = 0.0;
    for r in &rows {
        let (n, never, changed): (f64, Option<bool>, i64) = (r.try_get("rows")?, r.try_get("never")?, r.try_get("changed")?);
        // reltuples is -1 until a table is first vacuumed or analyzed.
        stale |= n < 0.0 || never.unwrap_or(true) || changed as u64 > due(n);
        total += n.max(0.0);
    }
    Ok((stale, total))
}

/// `ANALYZE` in a transaction holding [`LOCK_KEY`], if no other process holds it.
async fn analyze(pool: &PgPool) -> Result<Outcome, sqlx::Error> {
    // A connection of its own, not logging statements: on a big database
    // ANALYZE takes seconds, which sqlx would report as a slow statement.
    let options = (*pool.connect_options()).clone().disable_statement_logging();
    let mut conn = PgConnection::connect_with(&options).await?;
    let mut tx = conn.begin().await?;
    // The transaction-scoped lock ends with the transaction, however it ends.
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(LOCK_KEY).fetch_one(&mut *tx).await?;
    if !ours {
        return Ok(Outcome::Elsewhere);
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))).execute(&mut *tx).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {}", TABLES.join(", ")))).execute(&mut *tx).await?;
    let rows: f64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(greatest(reltuples, 0)), 0)::float8 FROM pg_class
         WHERE oid = ANY(ARRAY[to_regclass('docs'), to_regclass('mutations')])",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(Outcome::Analyzed(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzes_after_a_base_and_a_tenth_of_the_table() {
        assert_eq!(due(-1.0), BASE_ROWS, "a table never analyzed counts as empty");
        assert_eq!(due(0.0), 1_000);
        assert_eq!(due(3_000_000.0), 301_000);
        assert_eq!(due(f64::MAX), u64::MAX, "saturates");
    }
}
