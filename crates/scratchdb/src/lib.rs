//! Throwaway PostgreSQL databases, for the tests and for `apisync bench`:
//! a uniquely named database, dropped after, and other tenants' data to
//! fill it with ([`crowd`]). Kept out of the server library, which has no
//! use for either.

pub mod crowd;

use sqlx::Connection;

/// A uniquely named database, dropped when this is dropped.
pub struct TestDb {
    /// The new database's URL.
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
    /// Creates `apisync_test_<uuid>` on the server at `admin_url`.
    pub async fn create(admin_url: &str) -> Result<TestDb, sqlx::Error> {
        let name = format!("apisync_test_{}", model::Id::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
        Ok(TestDb { url: with_database(admin_url, &name), admin_url: admin_url.to_string(), name })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside a runtime; a fresh thread may block on its own.
        let done = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
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
