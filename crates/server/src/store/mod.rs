//! Storage behind one interface. A backend only stores: it implements the
//! primitives of [`Tx`] (one transaction's reads and writes) and a few bulk
//! paths (a push's batch, a pull page). Every rule — who may do what, the
//! device limit, roles, validation — is written once above it, as code that
//! runs on any [`Tx`] (see `crate::rules`).
//!
//! `sqlite` is the embedded default; `postgres` serves any number of server
//! processes from one database.

pub mod backup;
pub mod copy;
pub mod postgres;
pub mod sqlite;
mod tx;

pub(crate) use tx::Tx;

use model::Id;
use protocol::User;

/// A document as a pull page sends it: the same JSON as [`model::Document`],
/// but its fields stay the stored JSON text, passed through without being
/// parsed into values and serialized again.
#[derive(Debug, serde::Serialize)]
pub struct PageDoc {
    pub id: Id,
    pub kind: model::Kind,
    pub workspace_id: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_key: Option<String>,
    pub fields: Box<serde_json::value::RawValue>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    pub version: u64,
}

/// One pull page, serialized exactly as [`protocol::Changes`].
#[derive(Debug, serde::Serialize)]
pub struct Page {
    pub docs: Vec<PageDoc>,
    pub next: u64,
    pub more: bool,
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The workspace's horizon ([`crate::compact`]): not sent, checked.
    #[serde(skip)]
    pub horizon: u64,
}

impl Page {
    /// A page of `docs` read after `after`; `more` when others follow it.
    pub fn new(docs: Vec<PageDoc>, after: u64, more: bool, seq: u64, total: Option<u64>) -> Page {
        let next = if more { docs.last().map_or(after, |d| d.version) } else { seq };
        Page { docs, next, more, seq, total, horizon: 0 }
    }

    /// The page, read where the workspace's horizon is `horizon`.
    pub fn with_horizon(self, horizon: u64) -> Page {
        Page { horizon, ..self }
    }
}

/// How many documents of a page (or a fetch), given their sizes in order:
/// at most `limit`, and not past `budget` bytes unless the first alone is
/// bigger. Both backends read sizes first and whole rows only for these, so
/// a page of huge documents never sits in memory.
pub(crate) fn page_cut(sizes: impl IntoIterator<Item = usize>, limit: usize, budget: usize) -> usize {
    let mut bytes = 0usize;
    let mut n = 0;
    for b in sizes.into_iter().take(limit) {
        if n > 0 && bytes.saturating_add(b) > budget {
            break;
        }
        bytes = bytes.saturating_add(b);
        n += 1;
    }
    n
}

/// A pull cursor as the databases store versions (signed 64-bit): a cursor
/// past every possible version reads nothing.
pub(crate) fn cursor(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

/// Stored fields text as a raw JSON value.
pub fn raw_fields(text: String) -> Result<Box<serde_json::value::RawValue>, StoreError> {
    serde_json::value::RawValue::from_string(text).map_err(|e| StoreError::Unreadable(format!("stored fields are not JSON: {e}")))
}

/// An account as stored, with its password hash.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// A device of an account.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRecord {
    /// Short server-side number, stamped on every change the device makes.
    pub num: u64,
    pub user_id: Id,
    pub id: Id,
    pub name: String,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
}

impl DeviceRecord {
    /// The wire view of this device.
    pub fn view(&self, current: bool) -> protocol::DeviceView {
        protocol::DeviceView {
            id: self.id,
            name: self.name.clone(),
            signed_in_at: self.signed_in_at,
            last_seen_at: self.last_seen_at,
            current,
        }
    }
}

/// A session found by its token hash.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: User,
    pub device: DeviceRecord,
    /// Why the session ended, if it did.
    pub revoked: Option<String>,
}

/// A workspace as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkspaceRecord {
    pub id: Id,
    pub name: String,
    pub owner: Id,
    /// The account's own "My Workspace".
    pub personal: bool,
}

/// A stored invitation to a team.
#[derive(Clone, Debug, PartialEq)]
pub struct InvitationRecord {
    pub id: Id,
    pub team: Id,
    /// The username or email it is for, lowercased (matched against accounts when read).
    pub login: String,
    /// The same as the admin typed it.
    pub shown: String,
    pub role: protocol::Role,
    pub invited_by: Id,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A storage failure, classified by the backend that met it (see
/// `sqlite/classify.rs`, `postgres/classify.rs`), so that nothing above the
/// store needs to know rusqlite's or sqlx's error types.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Storage cannot serve right now (busy, locked, disk full, I/O error,
    /// connection lost); the same request may work later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Storage refuses to be written: a read-only file, directory or file system.
    #[error("storage is read-only: {0}")]
    ReadOnly(String),
    /// The database file is damaged.
    #[error("the database is damaged: {0}")]
    Corrupt(String),
    /// A stored value does not decode as what was written there.
    #[error("stored data is unreadable: {0}")]
    Unreadable(String),
    #[error("that email is already registered")]
    EmailTaken,
    #[error("that username is already taken")]
    UsernameTaken,
    /// Any other failure of the database: a bug, or a case not classified yet.
    #[error("database error: {0}")]
    Backend(String),
    #[error("storage task failed: {0}")]
    Task(String),
    /// The database's schema is newer than this build knows: a newer apisync wrote it.
    #[error("this database was written by a newer apisync (schema {found}, this build knows {known}); upgrade apisync or restore a backup")]
    SchemaTooNew { found: usize, known: usize },
    /// A document the batch needs is not loaded yet (PostgreSQL loads in
    /// bulk and runs the batch again).
    #[error("internal: document not preloaded")]
    Miss,
    /// The request asks for more work than one request may cause.
    #[error("{0}")]
    Limit(String),
}

/// A fault of the storage itself, which outlives the request that met it.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Writes fail: the file, its directory or its file system is read-only.
    ReadOnly(String),
    /// The database file is damaged.
    Corrupt(String),
}

impl Fault {
    /// The error a request meets while this fault stands.
    pub fn error(&self) -> StoreError {
        match self {
            Fault::ReadOnly(reason) => StoreError::ReadOnly(reason.clone()),
            Fault::Corrupt(reason) => StoreError::Corrupt(reason.clone()),
        }
    }
}

/// Errors a storage closure may end with, and what they say of the storage
/// itself: the SQLite store watches them to know when its file is damaged
/// or read-only, though the closure's error type is the caller's.
pub(crate) trait StorageFault {
    /// The fault of storage behind this error, if that is what it is.
    fn storage_fault(&self) -> Option<Fault>;
}

impl StorageFault for StoreError {
    fn storage_fault(&self) -> Option<Fault> {
        match self {
            StoreError::ReadOnly(reason) => Some(Fault::ReadOnly(reason.clone())),
            StoreError::Corrupt(reason) => Some(Fault::Corrupt(reason.clone())),
            _ => None,
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Unreadable(e.to_string())
    }
}

/// How a store's connections are used at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections in use.
    pub busy: u64,
    /// Connections open and free.
    pub idle: u64,
    /// Connections the store may hold.
    pub max: u64,
    /// Bytes of the SQLite write-ahead log (0 on PostgreSQL).
    pub wal_bytes: u64,
}

/// The storage a server runs on.
#[derive(Clone)]
pub enum Store {
    /// Embedded SQLite in the data directory.
    Sqlite(std::sync::Arc<sqlite::SqliteStore>),
    /// PostgreSQL, shared by any number of server processes.
    Postgres(std::sync::Arc<postgres::PgStore>),
}

/// Runs a future that never waits to completion at once. SQLite's [`Tx`]
/// works synchronously on a blocking thread, so every future built on it
/// is ready on its first poll.
pub(crate) fn ready<F: std::future::Future>(f: F) -> Result<F::Output, StoreError> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Ok(v),
        std::task::Poll::Pending => Err(StoreError::Task("a storage step waited where none may".into())),
    }
}

/// Runs `|tx| body` in one write transaction on whichever backend: on
/// SQLite on a blocking thread holding the writer, on PostgreSQL in a pool
/// transaction. `body` is a future over `tx: &mut impl Tx`; it commits when
/// the body returns `Ok`, and rolls back on `Err`. Errors convert from
/// [`StoreError`].
macro_rules! transact {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store {
            $crate::store::Store::Sqlite(s) => {
                let s = s.clone();
                match tokio::task::spawn_blocking(move || s.transact(move |$tx| $crate::store::ready($body))).await {
                    Ok(r) => r,
                    Err(e) => Err($crate::store::StoreError::Task(e.to_string()).into()),
                }
            }
            $crate::store::Store::Postgres(p) => match p.begin().await {
                Err(e) => Err(e.into()),
                Ok(mut conn) => {
                    let mut t = $crate::store::postgres::PgTx::new(p, &mut conn);
                    let $tx = &mut t;
                    match $body.await {
                        Ok(v) => match conn.commit().await {
                            Ok(()) => Ok(v),
                            Err(e) => Err($crate::store::StoreError::from(e).into()),
                        },
                        Err(e) => Err(e),
                    }
                }
            },
        }
    };
}

/// Like [`transact!`] for reads: on SQLite one of the reader connections,
/// on PostgreSQL a pooled connection outside any explicit transaction.
macro_rules! read {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store {
            $crate::store::Store::Sqlite(s) => {
                let s = s.clone();
                match tokio::task::spawn_blocking(move || s.read(move |$tx| $crate::store::ready($body))).await {
                    Ok(r) => r,
                    Err(e) => Err($crate::store::StoreError::Task(e.to_string()).into()),
                }
            }
            $crate::store::Store::Postgres(p) => match p.acquire().await {
                Err(e) => Err(e.into()),
                Ok(mut conn) => {
                    let mut t = $crate::store::postgres::PgTx::new(p, &mut conn);
                    let $tx = &mut t;
                    $body.await
                }
            },
        }
    };
}

pub(crate) use {read, transact};

impl Store {
    /// Whether storage can take a write now: [`Store::health`], and a
    /// write tried and rolled back (SQLite: also that the database file is
    /// still the one open).
    pub async fn ready(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                let s = s.clone();
                tokio::task::spawn_blocking(move || s.ready()).await.map_err(|e| StoreError::Task(e.to_string()))?
            }
            Store::Postgres(p) => p.ready().await,
        }
    }

    /// How the store's connections are used, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        match self {
            // Neither blocks: locks are only tried, and the WAL's size is one stat.
            Store::Sqlite(s) => s.pool_stats(),
            Store::Postgres(p) => p.pool_stats(),
        }
    }

    /// Ends this process's writing: on SQLite the last checkpoint (see
    /// [`sqlite::SqliteStore::close`]). PostgreSQL needs nothing: every
    /// commit is durable there, and the pool's connections close with it.
    pub async fn close(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                let s = s.clone();
                tokio::task::spawn_blocking(move || s.close()).await.map_err(|e| StoreError::Task(e.to_string()))?
            }
            Store::Postgres(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stop_at_their_byte_budget_but_hold_one_document() {
        assert_eq!(page_cut([10, 10, 10], 2, 100), 2);
        assert_eq!(page_cut([60, 60, 10], 10, 100), 1);
        assert_eq!(page_cut([500, 1], 10, 100), 1, "one document bigger than the budget still makes a page");
        assert_eq!(page_cut(Vec::<usize>::new(), 10, 100), 0);
        assert_eq!(cursor(u64::MAX), i64::MAX);
        assert_eq!(cursor(7), 7);
    }
}
