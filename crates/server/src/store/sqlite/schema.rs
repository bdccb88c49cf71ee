//! The SQLite schema: the `.sql` files in `crates/server/migrations/sqlite`,
//! applied in order by `rusqlite_migration`; `PRAGMA user_version` counts
//! those applied, as it always has, so a database at version N has had
//! files 1..=N.

use crate::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

/// Every migration, in order; a released file never changes (a new one is added instead).
const FILES: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_teams.sql"),
    include_str!("../../../migrations/sqlite/0003_tokens.sql"),
    include_str!("../../../migrations/sqlite/0004_gone_workspaces.sql"),
    include_str!("../../../migrations/sqlite/0005_mutations_per_device.sql"),
    include_str!("../../../migrations/sqlite/0006_rate_limits.sql"),
    include_str!("../../../migrations/sqlite/0007_team_invitations.sql"),
    include_str!("../../../migrations/sqlite/0008_cascade_indexes.sql"),
    include_str!("../../../migrations/sqlite/0009_compaction.sql"),
];

/// The schema version this build writes.
pub(super) const KNOWN: usize = FILES.len();

fn migrations() -> Migrations<'static> {
    Migrations::new(FILES.iter().map(|sql| M::up(sql)).collect())
}

fn version(conn: &Connection) -> Result<usize, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?.max(0) as usize)
}

/// Applies the migrations this database has not had yet; refuses a schema
/// newer than this build knows.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // A migration's transaction takes the write lock at once, waiting for
    // other writers instead of failing at its first write.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    let result = to_latest(conn);
    conn.set_transaction_behavior(TransactionBehavior::Deferred);
    result
}

fn to_latest(conn: &mut Connection) -> Result<(), StoreError> {
    // The migrator reads the version before its transaction, so a process
    // starting beside another may find its migrations applied meanwhile:
    // then it looks again, once.
    let mut retries = 1;
    loop {
        let before = version(conn)?;
        if before > KNOWN {
            return Err(StoreError::SchemaTooNew { found: before, known: KNOWN });
        }
        match migrations().to_latest(conn) {
            Ok(()) => return Ok(()),
            Err(_) if retries > 0 && version(conn)? != before => retries -= 1,
            Err(rusqlite_migration::Error::RusqliteError { err, .. }) => return Err(err.into()),
            Err(e) => return Err(StoreError::Backend(format!("schema migration failed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(conn: &Connection) -> Vec<(String, String)> {
        let mut st = conn.prepare("SELECT name, coalesce(sql, '') FROM sqlite_schema ORDER BY name").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn the_migrations_are_valid_and_every_file_is_listed() {
        migrations().validate().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let on_disk =
            std::fs::read_dir(dir).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "sql")).count();
        assert_eq!(on_disk, KNOWN, "a file in migrations/sqlite is missing from FILES");
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), KNOWN);
        let first = schema(&conn);
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), KNOWN);
        assert_eq!(schema(&conn), first);
    }

    #[test]
    fn a_database_at_an_older_version_gets_only_the_rest() {
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(FILES[..4].iter().map(|sql| M::up(sql)).collect()).to_latest(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), 4);
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), KNOWN);
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(schema(&conn), schema(&fresh));
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch(&format!("CREATE TABLE from_the_future (x); PRAGMA user_version = {};", KNOWN + 3)).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found, known } if found == KNOWN + 3 && known == KNOWN), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("newer apisync") && message.contains("upgrade apisync or restore a backup"), "{message}");
        assert_eq!(version(&conn).unwrap(), KNOWN + 3);
    }
}
