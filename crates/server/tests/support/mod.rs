//! Runs the same test on every storage backend: SQLite always, PostgreSQL
//! when `APISYNC_TEST_DATABASE_URL` is set (each test in a database of its
//! own, dropped after).

// Each test file compiles this module anew and uses only some of it.
#![allow(dead_code, unused_macros)]

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

pub use server::testing::TestDb;

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
