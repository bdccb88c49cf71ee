//! The PostgreSQL schema: the `.sql` files in `crates/server/migrations/postgres`,
//! applied in order by sqlx's migrator, which records each in
//! `_sqlx_migrations`.
//!
//! Releases before it counted applied migrations in `apisync_schema`
//! alone. A database they made is baselined: the migrations its count
//! covers are recorded as applied (with their checksums), not run again.
//! The count is still kept, so that such a release refuses a schema newer
//! than it knows.

use crate::store::StoreError;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::PgPool;
use sqlx::{ConnectOptions, Connection, PgConnection};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The advisory lock every release holds while migrating: processes
/// starting together, old or new, take turns.
const LOCK: i64 = 7358200451;

/// The schema version this build writes.
pub(super) fn known() -> usize {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0).max(0) as usize
}

/// Applies the migrations this database has not had yet; refuses a schema
/// newer than this build knows.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    // A connection of its own: its session-level locks (this one and the
    // migrator's) end when it closes, however migrating ends.
    let mut conn = pool.connect_options().connect().await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK).execute(&mut conn).await?;
    let result = migrate_locked(&mut conn).await;
    let _ = conn.close().await;
    result
}

async fn migrate_locked(conn: &mut PgConnection) -> Result<(), StoreError> {
    let exists = "SELECT to_regclass($1) IS NOT NULL";
    let legacy: Option<i32> = match sqlx::query_scalar(exists).bind("apisync_schema").fetch_one(&mut *conn).await? {
        true => sqlx::query_scalar("SELECT max(version) FROM apisync_schema").fetch_one(&mut *conn).await?,
        false => None,
    };
    let recorded: Option<i64> = match sqlx::query_scalar(exists).bind("_sqlx_migrations").fetch_one(&mut *conn).await? {
        true => sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations").fetch_one(&mut *conn).await?,
        false => None,
    };
    let found = recorded.unwrap_or(0).max(legacy.unwrap_or(0).into()).max(0) as usize;
    if found > known() {
        return Err(StoreError::SchemaTooNew { found, known: known() });
    }
    // Recording what the count covers is a no-op once recorded, so a
    // baseline cut short is finished at the next start.
    // `run_direct` is `skip` and `run` on a connection: their `Acquire`
    // bound makes a future rustc cannot prove `Send` for every lifetime.
    if let Some(applied) = legacy.filter(|v| *v > 0) {
        MIGRATOR.run_direct(Some(applied.into()), &mut *conn, true).await.map_err(migrate_error)?;
    }
    MIGRATOR.run_direct(None, &mut *conn, false).await.map_err(migrate_error)?;
    let mut tx = conn.begin().await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS apisync_schema (version int NOT NULL)").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM apisync_schema").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO apisync_schema (version) VALUES ($1)").bind(known() as i32).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

fn migrate_error(e: MigrateError) -> StoreError {
    match e {
        MigrateError::Execute(e) => e.into(),
        MigrateError::ExecuteMigration(e, version) => match StoreError::from(e) {
            StoreError::Backend(reason) => StoreError::Backend(format!("schema migration {version} failed: {reason}")),
            other => other,
        },
        other => StoreError::Backend(format!("schema migration failed: {other}")),
    }
}
