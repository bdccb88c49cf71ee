//! Databases made by an earlier release upgrade in place with nothing lost:
//! a server data directory, a PostgreSQL database and a device profile,
//! kept in `tests/fixtures/upgrade` (made by `scripts/make-upgrade-fixtures.sh`,
//! whose README says from which commit), are opened by this build, and
//! everything `manifest.json` says they held is still there.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use support::{Device, Server};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

fn manifest() -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("manifest.json")).unwrap()).unwrap()
}

/// Writes the gzipped fixture `name` to `to`.
fn unpack(name: &str, to: &Path) {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixtures().join(name)).unwrap()).read_to_end(&mut bytes).unwrap();
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, bytes).unwrap();
}

/// Documents by id: what a person made (kind, place, order, fields), not
/// what may be counted differently after an upgrade.
fn content(docs: &Value) -> BTreeMap<String, Value> {
    docs.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let kept = ["kind", "parent_id", "order_key", "fields"].map(|k| (k.to_string(), d.get(k).cloned().unwrap_or(Value::Null)));
            (d["id"].as_str().unwrap().to_string(), Value::Object(kept.into_iter().collect()))
        })
        .collect()
}

/// Says which documents are missing, extra or changed, rather than printing them all.
fn assert_same(actual: &BTreeMap<String, Value>, expected: &BTreeMap<String, Value>, what: &str) {
    let missing: Vec<_> = expected.keys().filter(|id| !actual.contains_key(*id)).collect();
    let extra: Vec<_> = actual.keys().filter(|id| !expected.contains_key(*id)).collect();
    let changed: Vec<_> = expected.iter().filter(|(id, d)| actual.get(*id).is_some_and(|a| a != *d)).map(|(id, _)| id).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && changed.is_empty(),
        "{what}: missing {missing:?}, extra {extra:?}, changed {changed:?}"
    );
}

/// Ann signs in on a new device: every workspace the manifest lists is
/// there with every document as it was (and those `made_after` it), and a
/// new edit syncs (its id is added to `made_after`).
fn everything_is_there(server: &Server, side: &Value, made_after: &mut Vec<String>) {
    let d = Device::new("after the upgrade");
    let out = d.login(server, "ann");
    assert!(out.status.success(), "ann cannot sign in after the upgrade: {}", support::stderr(&out));
    let held = d.json(&["workspaces"]);
    let expected = side["workspaces"].as_array().unwrap();
    assert!(expected.len() >= 2, "the manifest lists too little to prove anything: {side}");
    let mut documents = 0;
    for w in expected {
        let id = w["id"].as_str().unwrap();
        let found = held.as_array().unwrap().iter().find(|h| h["id"] == id);
        assert_eq!(found.map(|h| &h["name"]), Some(&w["name"]), "workspace {id} is gone or renamed: {held}");
        let mut docs = content(&d.json(&["ls", "-w", id]));
        docs.retain(|id, _| !made_after.contains(id));
        assert_same(&docs, &content(&w["documents"]), &format!("workspace {}", w["name"]));
        documents += docs.len();
    }
    assert!(documents >= 20, "only {documents} documents were compared");
    let personal = content(&d.docs());
    assert!(made_after.iter().all(|id| personal.contains_key(id)), "a document made after the upgrade is gone");
    made_after.push(d.create("collection", &["--set", "name=Made after the upgrade"]));
    let status = d.status();
    assert_eq!((status["state"].as_str(), status["pending"].as_u64()), (Some("in_sync"), Some(0)), "a new edit did not sync: {status}");
    // Ann's other two devices are the fixture's, and three is the most: free the slot for the next check.
    d.run(&["logout"]);
}

/// Every table, index and trigger with its SQL, but the migrators' own.
fn sqlite_schema(file: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(file).unwrap();
    let mut st = conn.prepare("SELECT name, coalesce(sql, '') FROM sqlite_schema ORDER BY name").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

fn user_version(file: &Path) -> i64 {
    rusqlite::Connection::open(file).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_server_data_directory_of_the_release_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    unpack("server-sqlite.db.gz", &data.join("apisync.db"));
    let old_version = user_version(&data.join("apisync.db"));

    let mut server = Server::start_at(&data, "127.0.0.1:0");
    let mut made_after = Vec::new();
    everything_is_there(&server, &manifest()["sqlite"], &mut made_after);
    assert!(server.stop(), "the upgraded server did not stop cleanly");

    // The upgraded file has the schema a fresh one of this build has.
    let fresh = tempfile::tempdir().unwrap();
    drop(server::store::sqlite::SqliteStore::open(fresh.path()).unwrap());
    let fresh_file = fresh.path().join("apisync.db");
    assert_eq!(sqlite_schema(&data.join("apisync.db")), sqlite_schema(&fresh_file));
    assert!(user_version(&data.join("apisync.db")) >= old_version);
    assert_eq!(user_version(&data.join("apisync.db")), user_version(&fresh_file));

    // Starting again migrates nothing and loses nothing.
    let server = Server::start_at(&data, "127.0.0.1:0");
    everything_is_there(&server, &manifest()["sqlite"], &mut made_after);
}

/// The dump as SQL one connection can run: psql's meta-commands (`\restrict`) dropped.
fn dump_sql() -> String {
    let dump = std::fs::read_to_string(fixtures().join("server-postgres.sql")).unwrap();
    dump.lines().filter(|l| !l.starts_with('\\')).collect::<Vec<_>>().join("\n")
}

/// Every column and index outside the migrators' own tables: what a migration may change.
async fn pg_schema(url: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let mut out: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN ('_sqlx_migrations', 'apisync_schema')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let indexes = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'";
    out.extend(sqlx::query_scalar::<_, String>(indexes).fetch_all(&mut conn).await.unwrap());
    out.sort();
    out
}

/// One number the query answers.
async fn pg_number(url: &str, sql: &'static str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

/// `_sqlx_migrations`: version and checksum of each migration recorded.
async fn pg_recorded(url: &str) -> Vec<(i64, Vec<u8>)> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations ORDER BY version").fetch_all(&mut conn).await.unwrap()
}

#[test]
fn a_postgresql_database_of_the_release_upgrades_in_place() {
    let Ok(admin) = std::env::var("APISYNC_TEST_DATABASE_URL") else {
        eprintln!(
            "SKIPPED: the PostgreSQL upgrade test — set APISYNC_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(scratchdb::TestDb::create(&admin)).unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(dump_sql())).execute(&mut conn).await.unwrap();
    });
    let count = rt.block_on(pg_number(&db.url, "SELECT max(version)::bigint FROM apisync_schema"));
    let sqlx_table = "SELECT count(*) FROM pg_tables WHERE tablename = '_sqlx_migrations'";
    assert_eq!(rt.block_on(pg_number(&db.url, sqlx_table)), 0, "the fixture has sqlx's bookkeeping: a release before it did not make it");

    let mut server = Server::start_on_postgres(&db.url);
    let mut made_after = Vec::new();
    everything_is_there(&server, &manifest()["postgres"], &mut made_after);
    assert!(server.stop(), "the upgraded server did not stop cleanly");

    // Baselined: the migrations its count covered are recorded as applied, each once, and the
    // schema is the one this build gives a fresh database.
    let recorded = rt.block_on(pg_recorded(&db.url));
    assert_eq!(recorded.iter().map(|r| r.0).collect::<Vec<_>>(), (1..=recorded.len() as i64).collect::<Vec<_>>());
    assert!(recorded.len() as i64 >= count, "{recorded:?}");
    assert_eq!(rt.block_on(pg_number(&db.url, "SELECT max(version)::bigint FROM apisync_schema")), recorded.len() as i64);
    let fresh = rt.block_on(scratchdb::TestDb::create(&admin)).unwrap();
    rt.block_on(server::store::postgres::PgStore::open(&fresh.url)).unwrap();
    assert_eq!(rt.block_on(pg_schema(&db.url)), rt.block_on(pg_schema(&fresh.url)));
    assert_eq!(rt.block_on(pg_recorded(&fresh.url)), recorded);

    // Starting again migrates nothing and loses nothing.
    let server = Server::start_on_postgres(&db.url);
    everything_is_there(&server, &manifest()["postgres"], &mut made_after);
    assert_eq!(rt.block_on(pg_recorded(&db.url)), recorded);
}

#[test]
fn a_device_profile_of_the_release_opens_keeps_its_work_and_syncs() {
    let m = manifest();
    let expected = &m["sqlite"]["device"];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    unpack("server-sqlite.db.gz", &data.join("apisync.db"));
    let server = Server::start_at(&data, "127.0.0.1:0");
    let desktop = Device::new("desktop");
    let profile = desktop.dir.path().join("apisync.db");
    unpack("device.db.gz", &profile);

    // Opened by this build, offline: its documents (unsent edits included), outbox and conflicts.
    assert_eq!(desktop.json(&["status", "--cached"])["pending"], expected["pending"]);
    assert!(expected["pending"].as_u64().unwrap() >= 2, "the fixture's outbox is empty: {expected}");
    assert_eq!(content(&desktop.json(&["--offline", "ls"])), content(&expected["documents"]));
    let conflicts = desktop.json(&["--offline", "conflicts"]);
    assert_eq!(conflicts, expected["conflicts"]);
    assert_eq!(conflicts.as_array().unwrap().len(), 1);

    // The server it synced with runs at another address now (a test cannot have the old port).
    let conn = rusqlite::Connection::open(&profile).unwrap();
    assert_eq!(conn.execute("UPDATE meta SET value = ?1 WHERE key = 'server'", [&server.url]).unwrap(), 1);
    drop(conn);

    // It syncs: the outbox is delivered, the conflict waits for the person.
    desktop.run(&["sync"]);
    let status = desktop.status();
    assert_eq!((status["pending"].as_u64(), status["conflicts"].as_u64()), (Some(0), Some(1)), "{status}");
    let laptop = Device::new("laptop");
    assert!(laptop.login(&server, "ann").status.success());
    let on_server = content(&laptop.docs());
    assert_eq!(on_server, content(&desktop.docs()), "the desktop and the server disagree after the sync");
    let names: Vec<&str> = on_server.values().filter_map(|d| d["fields"]["name"].as_str()).collect();
    assert!(names.contains(&"Unsent"), "the unsent request did not reach the server: {names:?}");
    assert!(on_server.values().any(|d| d["fields"]["url"] == "https://api.example.com/v2/orders"), "the unsent edit was lost");
}

/// What `apisync serve` and the CLI say on a database a newer apisync wrote: they stop, say
/// so, and leave it as it was.
#[test]
fn a_newer_schema_is_refused_by_the_server_and_the_device() {
    let want = "was written by a newer apisync (schema 99, this build knows";
    let device = Device::new("laptop");
    device.run(&["--offline", "workspaces"]);
    let profile = device.dir.path().join("apisync.db");
    rusqlite::Connection::open(&profile).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let out = device.try_run(&["--json", "status", "--cached"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::stderr(&out));
    let err: Value = serde_json::from_str(support::stderr(&out).lines().last().unwrap()).unwrap();
    assert_eq!(err["error"]["code"], "schema_too_new", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains(want), "{err}");
    assert_eq!(user_version(&profile), 99);

    let dir = tempfile::tempdir().unwrap();
    drop(server::store::sqlite::SqliteStore::open(dir.path()).unwrap());
    let file = dir.path().join("apisync.db");
    rusqlite::Connection::open(&file).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let out = std::process::Command::new(support::bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("APISYNC_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a server started on a newer schema");
    let said = support::stderr(&out);
    assert!(said.contains(want) && said.contains(&file.display().to_string()), "{said}");
    assert_eq!(said.matches(want).count(), 1, "said twice: {said}");
    assert_eq!(user_version(&file), 99);
}
