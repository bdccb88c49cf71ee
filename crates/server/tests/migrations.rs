//! Schema migrations on both backends: a second run changes nothing, a
//! PostgreSQL database of the bookkeeping before sqlx's is baselined, not
//! migrated again, processes starting together migrate once, and a schema
//! newer than this build is refused at start with a clear error.
//! (The upgrade of real databases made by the last release is in
//! `crates/apisync/tests/upgrade.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod support;

use sha2::{Digest, Sha384};
use sqlx::{Connection, PgConnection};
use std::path::Path;
use support::{Backend, TestDb};

/// The PostgreSQL migration files: (version, description, sha384 of the text).
fn files() -> Vec<(i64, String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_str().unwrap().to_string();
            let (version, description) = name.split_once('_').unwrap();
            (version.parse().unwrap(), description.replace('_', " "), Sha384::digest(std::fs::read(&p).unwrap()).to_vec())
        })
        .collect();
    out.sort();
    out
}

/// `_sqlx_migrations` as (version, description, checksum, installed_on as text).
async fn recorded(conn: &mut PgConnection) -> Vec<(i64, String, Vec<u8>, String)> {
    sqlx::query_as("SELECT version, description, checksum, installed_on::text FROM _sqlx_migrations ORDER BY version")
        .fetch_all(conn)
        .await
        .unwrap()
}

async fn legacy_count(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT version FROM apisync_schema").fetch_one(conn).await.unwrap()
}

/// Every table and index with its definition, and every column: what a migration may change.
async fn pg_schema(conn: &mut PgConnection) -> Vec<String> {
    let mut out: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN ('_sqlx_migrations', 'apisync_schema')",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    out.extend(
        sqlx::query_scalar::<_, String>("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'")
            .fetch_all(&mut *conn)
            .await
            .unwrap(),
    );
    out.sort();
    out
}

async fn open(url: &str) -> Result<(), server::store::StoreError> {
    server::store::postgres::PgStore::open(url).await.map(drop)
}

async fn start(dir: &Path, database_url: Option<&str>) -> Result<server::RunningServer, server::StartError> {
    let mut config = server::Config::new(dir.to_path_buf());
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = database_url.map(Into::into);
    server::start(config).await
}

fn assert_too_new(message: &str, found: usize, known: usize) {
    let want = format!("was written by a newer apisync (schema {found}, this build knows {known}); upgrade apisync or restore a backup");
    assert!(message.contains(&want), "the refusal says {message:?}, not {want:?}");
}

async fn a_second_run_changes_nothing(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!() };
    let db = TestDb::create(&admin).await.unwrap();
    open(&db.url).await.unwrap();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let first = recorded(&mut conn).await;
    let want = files();
    assert_eq!(first.iter().map(|(v, d, c, _)| (*v, d.clone(), c.clone())).collect::<Vec<_>>(), want);
    assert_eq!(legacy_count(&mut conn).await as usize, want.len(), "the count older releases read is kept");
    let schema = pg_schema(&mut conn).await;

    open(&db.url).await.unwrap();
    assert_eq!(recorded(&mut conn).await, first, "a second run recorded or re-applied a migration");
    assert_eq!(pg_schema(&mut conn).await, schema);
}

async fn a_database_of_the_older_bookkeeping_is_baselined_not_migrated_again(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!() };
    let db = TestDb::create(&admin).await.unwrap();
    open(&db.url).await.unwrap();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let schema = pg_schema(&mut conn).await;
    // As releases before sqlx's bookkeeping leave a database: the count alone, and a row to keep.
    sqlx::raw_sql("DROP TABLE _sqlx_migrations; INSERT INTO users VALUES ('0190d2a4-0000-7000-8000-000000000001', 'a@x', 'a', 'h', 1);")
        .execute(&mut conn)
        .await
        .unwrap();

    // Migrating again would fail (`users` exists) or lose the row; baselining does neither.
    open(&db.url).await.unwrap();
    let rows = recorded(&mut conn).await;
    assert_eq!(rows.iter().map(|(v, d, c, _)| (*v, d.clone(), c.clone())).collect::<Vec<_>>(), files());
    assert_eq!(pg_schema(&mut conn).await, schema);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&mut conn).await.unwrap();
    assert_eq!(users, 1);

    // A database at an older count gets the rest run, the rest recorded.
    let db2 = TestDb::create(&admin).await.unwrap();
    let mut conn2 = PgConnection::connect(&db2.url).await.unwrap();
    let mut count = 0;
    for (version, _, _) in files().iter().take(4) {
        let path = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&format!("{version:04}_")))
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(std::fs::read_to_string(path).unwrap())).execute(&mut conn2).await.unwrap();
        count += 1;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE apisync_schema (version int NOT NULL); INSERT INTO apisync_schema VALUES ({count})"
    )))
    .execute(&mut conn2)
    .await
    .unwrap();
    open(&db2.url).await.unwrap();
    assert_eq!(recorded(&mut conn2).await.len(), files().len());
    assert_eq!(pg_schema(&mut conn2).await, schema, "migrations 5.. were not applied as on a fresh database");
}

async fn processes_starting_together_migrate_once(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!() };
    let db = TestDb::create(&admin).await.unwrap();
    let opens: Vec<_> = (0..4).map(|_| tokio::spawn(open_owned(db.url.clone()))).collect();
    for o in opens {
        o.await.unwrap().unwrap();
    }
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    assert_eq!(recorded(&mut conn).await.len(), files().len());
}

async fn open_owned(url: String) -> Result<(), server::store::StoreError> {
    open(&url).await
}

async fn a_newer_schema_is_refused_at_start(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let known = files().len();
    match b {
        Backend::Sqlite => {
            drop(start(dir.path(), None).await.unwrap().shutdown().await);
            let file = dir.path().join("apisync.db");
            rusqlite::Connection::open(&file).unwrap().pragma_update(None, "user_version", known as i64 + 1).unwrap();
            let err = start(dir.path(), None).await.err().expect("a newer schema was served");
            assert!(matches!(err, server::StartError::SchemaTooNew { .. }), "{err:?}");
            let message = err.to_string();
            assert_too_new(&message, known + 1, known);
            assert!(message.contains(&file.display().to_string()), "which database is not said: {message}");
            let v: i64 = rusqlite::Connection::open(&file).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
            assert_eq!(v as usize, known + 1, "the refused database was changed");
        }
        Backend::Postgres(admin) => {
            let db = TestDb::create(&admin).await.unwrap();
            open(&db.url).await.unwrap();
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            // A newer build's record, its checksum unknown here.
            sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, 'later', true, '\\x00', 0)")
                .bind(known as i64 + 2)
                .execute(&mut conn)
                .await
                .unwrap();
            let err = start(dir.path(), Some(&db.url)).await.err().expect("a newer schema was served");
            assert!(matches!(err, server::StartError::SchemaTooNew { .. }), "{err:?}");
            assert_too_new(&err.to_string(), known + 2, known);
            assert_eq!(recorded(&mut conn).await.len(), known + 1, "the refused database was changed");

            // A count alone, as a newer release of the older bookkeeping would leave it, is refused too.
            let old = TestDb::create(&admin).await.unwrap();
            let mut conn = PgConnection::connect(&old.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE apisync_schema (version int NOT NULL); INSERT INTO apisync_schema VALUES ({})",
                known + 5
            )))
            .execute(&mut conn)
            .await
            .unwrap();
            let err = open(&old.url).await.expect_err("a newer count was migrated");
            assert_too_new(&err.to_string(), known + 5, known);
        }
    }
}

on_both_backends!(a_newer_schema_is_refused_at_start);

mod pg {
    #[allow(unused_imports)] // the macro's tests name these through `super::`
    use super::*;
    on_postgres!(
        a_second_run_changes_nothing,
        a_database_of_the_older_bookkeeping_is_baselined_not_migrated_again,
        processes_starting_together_migrate_once
    );
}
