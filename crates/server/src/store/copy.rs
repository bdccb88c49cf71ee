//! `apisync migrate`: copies an embedded SQLite installation into an empty
//! PostgreSQL database, every table, in one PostgreSQL transaction read from
//! one SQLite snapshot.

use super::StoreError;
use super::postgres::PgStore;
use model::Id;
use rusqlite::types::Value as Sql;
use sqlx::{AssertSqlSafe, Connection};
use std::path::Path;

/// How many rows of each table were copied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(&'static str, usize)>,
}

/// What one column is in PostgreSQL.
#[derive(Clone, Copy)]
enum Col {
    Uuid,
    Text,
    Int,
    Bool,
}

/// Tables in the order their references need, with their columns.
const TABLES: &[(&str, &[(&str, Col)])] = &[
    ("users", &[("id", Col::Uuid), ("email", Col::Text), ("username", Col::Text), ("password_hash", Col::Text), ("created_at", Col::Int)]),
    (
        "devices",
        &[
            ("num", Col::Int),
            ("user_id", Col::Uuid),
            ("device_id", Col::Uuid),
            ("name", Col::Text),
            ("signed_in_at", Col::Int),
            ("last_seen_at", Col::Int),
            ("signed_in", Col::Bool),
        ],
    ),
    (
        "sessions",
        &[
            ("token_hash", Col::Text),
            ("device_num", Col::Int),
            ("created_at", Col::Int),
            ("revoked_at", Col::Int),
            ("revoked_reason", Col::Text),
        ],
    ),
    (
        "workspaces",
        &[
            ("id", Col::Uuid),
            ("name", Col::Text),
            ("owner_id", Col::Uuid),
            ("personal", Col::Bool),
            ("seq", Col::Int),
            ("created_at", Col::Int),
            ("horizon", Col::Int),
        ],
    ),
    ("members", &[("workspace_id", Col::Uuid), ("user_id", Col::Uuid), ("role", Col::Text)]),
    (
        "docs",
        &[
            ("id", Col::Uuid),
            ("workspace_id", Col::Uuid),
            ("kind", Col::Text),
            ("parent_id", Col::Uuid),
            ("order_key", Col::Text),
            ("fields", Col::Text),
            ("clocks", Col::Text),
            ("deleted_seq", Col::Int),
            ("deleted_dev", Col::Int),
            ("version", Col::Int),
            ("deleted_at", Col::Int),
        ],
    ),
    ("mutations", &[("workspace_id", Col::Uuid), ("device_num", Col::Int), ("mutation_id", Col::Uuid), ("result", Col::Text)]),
    ("teams", &[("id", Col::Uuid), ("name", Col::Text), ("created_by", Col::Uuid), ("created_at", Col::Int)]),
    ("team_members", &[("team_id", Col::Uuid), ("user_id", Col::Uuid), ("role", Col::Text)]),
    ("team_workspaces", &[("team_id", Col::Uuid), ("workspace_id", Col::Uuid)]),
    ("tokens", &[("token_hash", Col::Text), ("user_id", Col::Uuid), ("purpose", Col::Text), ("expires_at", Col::Int)]),
    ("gone_sessions", &[("token_hash", Col::Text), ("at", Col::Int)]),
    ("gone_workspaces", &[("id", Col::Uuid), ("at", Col::Int)]),
    (
        "team_invitations",
        &[
            ("id", Col::Uuid),
            ("team_id", Col::Uuid),
            ("login", Col::Text),
            ("shown", Col::Text),
            ("role", Col::Text),
            ("invited_by", Col::Uuid),
            ("created_at", Col::Int),
            ("expires_at", Col::Int),
        ],
    ),
];

const CHUNK: usize = 2000;

/// A column's values for one chunk, typed for an `UNNEST` array bind.
enum Column {
    Uuid(Vec<Option<Id>>),
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

fn corrupt(table: &str, column: &str, v: &Sql) -> StoreError {
    StoreError::Unreadable(format!("{table}.{column} holds an unexpected value {v:?}"))
}

/// Copies everything from the SQLite store in `dir` into the empty
/// PostgreSQL database at `url` (migrating it first).
pub async fn sqlite_to_postgres(dir: &Path, url: &str) -> Result<CopyReport, StoreError> {
    let path = dir.join("apisync.db");
    if !path.exists() {
        return Err(StoreError::Task(format!("no apisync database at {}; pass the --data-dir the server used", path.display())));
    }
    // Opening the store migrates it to the current schema first.
    drop(super::sqlite::SqliteStore::open(dir)?);
    let pg = PgStore::open(url).await?;
    drop(pg);
    let mut target = sqlx::PgConnection::connect(url).await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut target).await?;
    if users > 0 {
        return Err(StoreError::Task("the PostgreSQL database already holds apisync data; migrate into an empty database".into()));
    }
    let path2 = path.clone();
    // One read transaction: every table from the same moment.
    let snapshot = tokio::task::spawn_blocking(move || -> Result<Vec<Vec<Vec<Sql>>>, StoreError> {
        let mut conn = rusqlite::Connection::open_with_flags(&path2, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let tx = conn.transaction()?;
        let mut tables = Vec::new();
        for (table, cols) in TABLES {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let mut stmt = tx.prepare(&format!("SELECT {} FROM {table}", names.join(", ")))?;
            let rows = stmt
                .query_map([], |r| (0..cols.len()).map(|i| r.get::<_, Sql>(i)).collect::<Result<Vec<_>, _>>())?
                .collect::<Result<Vec<_>, _>>()?;
            tables.push(rows);
        }
        Ok(tables)
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))??;

    let mut tx = target.begin().await?;
    let mut report = CopyReport::default();
    for ((table, cols), rows) in TABLES.iter().zip(snapshot) {
        for chunk in rows.chunks(CHUNK) {
            let mut columns: Vec<Column> = cols
                .iter()
                .map(|(_, c)| match c {
                    Col::Uuid => Column::Uuid(Vec::new()),
                    Col::Text => Column::Text(Vec::new()),
                    Col::Int => Column::Int(Vec::new()),
                    Col::Bool => Column::Bool(Vec::new()),
                })
                .collect();
            for row in chunk {
                for ((value, column), (name, _)) in row.iter().zip(columns.iter_mut()).zip(cols.iter()) {
                    match (column, value) {
                        (Column::Uuid(v), Sql::Null) => v.push(None),
                        (Column::Uuid(v), Sql::Text(t)) => v.push(Some(Id::parse_str(t).map_err(|_| corrupt(table, name, value))?)),
                        (Column::Text(v), Sql::Null) => v.push(None),
                        (Column::Text(v), Sql::Text(t)) => v.push(Some(t.clone())),
                        (Column::Int(v), Sql::Null) => v.push(None),
                        (Column::Int(v), Sql::Integer(i)) => v.push(Some(*i)),
                        (Column::Bool(v), Sql::Integer(i)) => v.push(Some(*i != 0)),
                        _ => return Err(corrupt(table, name, value)),
                    }
                }
            }
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let arrays: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, (_, c))| {
                    let ty = match c {
                        Col::Uuid => "uuid",
                        Col::Text => "text",
                        Col::Int => "int8",
                        Col::Bool => "bool",
                    };
                    format!("${}::{ty}[]", i + 1)
                })
                .collect();
            let sql = format!("INSERT INTO {table} ({}) SELECT * FROM UNNEST({})", names.join(", "), arrays.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for c in columns {
                q = match c {
                    Column::Uuid(v) => q.bind(v),
                    Column::Text(v) => q.bind(v),
                    Column::Int(v) => q.bind(v),
                    Column::Bool(v) => q.bind(v),
                };
            }
            q.execute(&mut *tx).await?;
        }
        report.tables.push((table, rows.len()));
    }
    // Device numbers were copied as they were: move the sequence past them.
    sqlx::query("SELECT setval(pg_get_serial_sequence('devices', 'num'), GREATEST((SELECT MAX(num) FROM devices), 1))")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(report)
}
