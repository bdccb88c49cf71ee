//! Runs the same test on every storage backend: SQLite always, PostgreSQL
//! when `APISYNC_TEST_DATABASE_URL` is set (each test in a database of its
//! own, dropped after).

// Each test file compiles this module anew and uses only some of it.
#![allow(dead_code, unused_macros)]

use sqlx::Connection;

/// Which storage a test server runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL backend, or `None` (said loudly) when no URL is set.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("APISYNC_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ => {
                eprintln!(
                    "SKIPPED: PostgreSQL test — set APISYNC_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
                );
                None
            }
        }
    }
}

/// A uniquely named database, dropped when this is dropped.
pub struct TestDb {
    pub url: String,
    admin_url: String,
    name: String,
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if base[..i].contains("//") && i > base.find("//").unwrap_or(0) + 1 => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl TestDb {
    pub async fn create(admin_url: &str) -> TestDb {
        let name = format!("apisync_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to APISYNC_TEST_DATABASE_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.expect("create the test database");
        TestDb { url: with_database(admin_url, &name), admin_url: admin_url.to_string(), name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside a runtime; a fresh thread may block on its own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut conn).await;
                }
            })
        });
        let _ = done.join();
    }
}

/// Declares each named `async fn(Backend)` as one test per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::postgres() { super::$name(b).await } })*
        }
    };
}

/// Declares each named `async fn(Backend)` as a PostgreSQL-only test.
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::postgres() { super::$name(b).await } })*
        }
    };
}

/// An HTTP client. The workspace builds reqwest with rustls and no default
/// crypto provider (the device picks ring), so install it first.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
