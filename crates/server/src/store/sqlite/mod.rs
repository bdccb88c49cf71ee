//! The embedded SQLite backend: one file in the data directory, WAL mode,
//! one writer connection, a few readers, and a thread that checkpoints.

use super::{StorageFault, StoreError};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod batch;
mod checkpoint;
mod classify;
mod health;
mod preflight;
mod schema;
mod tx;

pub(crate) use preflight::current_user;
pub(crate) use tx::SqliteTx;

const READERS: usize = 4;

/// Default `serve --wal-limit-mib`, in bytes: past it the WAL is
/// checkpointed and truncated.
pub const DEFAULT_WAL_LIMIT: u64 = 64 * 1024 * 1024;

/// How an SQLite store runs.
#[derive(Clone, Copy, Debug)]
pub struct SqliteOptions {
    /// Bytes the WAL may reach before it is truncated (also SQLite's `journal_size_limit`).
    pub wal_limit: u64,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions { wal_limit: DEFAULT_WAL_LIMIT }
    }
}

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    /// Shared with the checkpointer, which holds it to truncate a busy WAL.
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    checkpointer: checkpoint::Checkpointer,
    wal_limit: u64,
    /// Set by [`SqliteStore::close`]: no write may follow the last checkpoint.
    closed: AtomicBool,
    /// Damage or a read-only file met while running.
    health: health::Health,
    /// The database file as opened.
    file: FileId,
}

fn open_conn(path: &Path, wal_limit: u64) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Room for the multi-row INSERTs beside the per-request statements.
    conn.set_prepared_statement_cache_capacity(64);
    // A document is typically 1-2 KiB: a 4 KiB page holds two and leaves a
    // quarter empty, an 8 KiB page holds five. Only a new database takes
    // it (before its first table and before WAL mode); existing ones keep theirs.
    conn.execute_batch("PRAGMA page_size=8192;")?;
    // FULL: a change the server acknowledged survives a power cut too.
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    // A WAL that grew while readers held it is cut back to this when it is reset.
    conn.execute_batch(&format!("PRAGMA journal_size_limit={};", wal_limit.min(i64::MAX as u64)))?;
    Ok(conn)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves SQLite consistent (transactions
    // roll back), so the poison flag carries no information.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) `apisync.db` in `dir` with default options.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(dir, SqliteOptions::default())
    }

    /// Opens (creating and migrating if needed) `apisync.db` in `dir`:
    /// `ReadOnly` when this user cannot write there, `Corrupt` when
    /// `PRAGMA quick_check` finds the file damaged.
    pub fn open_with(dir: &Path, options: SqliteOptions) -> Result<SqliteStore, StoreError> {
        preflight::check_writable(dir)?;
        let path = dir.join("apisync.db");
        let mut writer = open_conn(&path, options.wal_limit)?;
        let started = std::time::Instant::now();
        preflight::quick_check(&writer)?;
        tracing::info!(
            file = %path.display(),
            mib = std::fs::metadata(&path).map_or(0, |m| m.len()) / (1024 * 1024),
            ms = started.elapsed().as_millis() as u64,
            "database checked"
        );
        schema::migrate(&mut writer)?;
        // Commits never checkpoint; the checkpointer thread does.
        writer.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
        let writer = Arc::new(Mutex::new(writer));
        let checkpointer = checkpoint::Checkpointer::spawn(path.clone(), options.wal_limit, writer.clone())?;
        let readers = (0..READERS).map(|_| open_conn(&path, options.wal_limit).map(Mutex::new)).collect::<Result<_, _>>()?;
        let file = FileId::of(&path);
        Ok(SqliteStore {
            path,
            writer,
            readers,
            next_reader: AtomicUsize::new(0),
            checkpointer,
            wal_limit: options.wal_limit,
            closed: AtomicBool::new(false),
            health: health::Health::default(),
            file,
        })
    }

    /// Ends writing: stops the checkpointer, then checkpoints everything
    /// into `apisync.db` and truncates the WAL, so the file alone is a
    /// complete copy. Later writes are refused. (Call on a blocking thread.)
    pub fn close(&self) -> Result<(), StoreError> {
        self.checkpointer.stop();
        let writer = lock(&self.writer);
        self.closed.store(true, Ordering::Relaxed);
        checkpoint::close(&writer, &self.path)
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..READERS {
            if let Ok(g) = self.readers[(start + i) % READERS].try_lock() {
                return g;
            }
        }
        lock(&self.readers[start % READERS])
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer; commits
    /// when it returns `Ok(Ok(_))`, rolls back otherwise. Refused at once
    /// while the database is known to be damaged. (Call on a blocking
    /// thread: see [`crate::store::transact!`].)
    pub(crate) fn transact<T, E: From<StoreError> + StorageFault>(
        &self,
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<Result<T, E>, StoreError>,
    ) -> Result<T, E> {
        let mut conn = lock(&self.writer);
        if self.closed.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("the server is shutting down".into()).into());
        }
        self.health.may_write()?;
        let out = self.write(&mut conn, f);
        match &out {
            Ok(_) => self.health.wrote(),
            Err(e) => self.health.note(e.storage_fault()),
        }
        out
    }

    fn write<T, E: From<StoreError>>(
        &self,
        conn: &mut Connection,
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<Result<T, E>, StoreError>,
    ) -> Result<T, E> {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::from)?;
        let out = f(&mut SqliteTx::new(conn));
        match out {
            Ok(Ok(v)) => match conn.execute_batch("COMMIT") {
                Ok(()) => {
                    // A stat beside an fsync: the WAL is cut back as soon as it passes its limit.
                    if checkpoint::wal_bytes(&self.path) > self.wal_limit {
                        self.checkpointer.wake();
                    }
                    Ok(v)
                }
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(StoreError::from(e).into())
                }
            },
            Ok(Err(e)) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        }
    }

    /// Runs `f` on a reader connection. (Call on a blocking thread: see
    /// [`crate::store::read!`].)
    pub(crate) fn read<T, E: From<StoreError> + StorageFault>(
        &self,
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<Result<T, E>, StoreError>,
    ) -> Result<T, E> {
        let mut conn = self.reader();
        let out = f(&mut SqliteTx::new(&mut conn)).unwrap_or_else(|e| Err(e.into()));
        if let Err(e) = &out {
            self.health.note(e.storage_fault());
        }
        out
    }

    /// Whether the store can serve: no damage stands, a read-only fault
    /// is gone (a write is tried to see), and a reader can read the schema.
    /// (Call on a blocking thread.)
    pub fn health(&self) -> Result<(), StoreError> {
        match self.health.fault() {
            Some(super::Fault::ReadOnly(_)) => {
                // Setting the schema cookie to itself writes the header page: a real write, and no change.
                self.transact(|tx| {
                    let version: i64 = tx.conn().query_row("PRAGMA user_version", [], |r| r.get(0))?;
                    tx.conn().execute_batch(&format!("PRAGMA user_version = {version}"))?;
                    Ok(Ok::<_, StoreError>(()))
                })?;
            }
            Some(fault) => return Err(fault.error()),
            None => {}
        }
        let read = self.reader().query_row("SELECT COUNT(*) FROM sqlite_schema", [], |_| Ok(())).map_err(StoreError::from);
        if let Err(e) = &read {
            self.health.note(e.storage_fault());
        }
        read
    }
}

impl SqliteStore {
    /// [`SqliteStore::health`], then what a write needs: the file at the
    /// path is still the one open (writes to a deleted or replaced file are
    /// lost at the next start), and the writer can take the write lock and
    /// write the header page (rolled back). (Call on a blocking thread.)
    pub fn ready(&self) -> Result<(), StoreError> {
        self.health()?;
        self.file.still_open(&self.path)?;
        let conn = lock(&self.writer);
        if self.closed.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("the server is shutting down".into()));
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let wrote = conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .and_then(|version| conn.execute_batch(&format!("PRAGMA user_version = {version}")));
        let _ = conn.execute_batch("ROLLBACK");
        Ok(wrote?)
    }

    /// The writer and readers in use now, and the WAL's size.
    pub(crate) fn pool_stats(&self) -> super::PoolStats {
        let busy = self.readers.iter().filter(|r| r.try_lock().is_err()).count() + usize::from(self.writer.try_lock().is_err());
        let max = READERS + 1;
        super::PoolStats { busy: busy as u64, idle: (max - busy) as u64, max: max as u64, wal_bytes: checkpoint::wal_bytes(&self.path) }
    }
}

/// Which file the store opened, to tell when the path names another.
struct FileId(Option<(u64, u64)>);

impl FileId {
    fn of(path: &Path) -> FileId {
        FileId(identity(path).ok())
    }

    fn still_open(&self, path: &Path) -> Result<(), StoreError> {
        match identity(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::Unavailable(format!(
                "the database file {} is gone (deleted or moved while the server runs); what is written now would be lost: \
                 restore the file or its backup and restart the server",
                path.display()
            ))),
            Ok(id) if self.0.is_some_and(|open| open != id) => Err(StoreError::Unavailable(format!(
                "the database file {} was replaced while the server runs; restart the server to open the new one",
                path.display()
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|_| (0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Tx, WorkspaceRecord, ready};
    use model::{Fields, Id, Kind, Mutation, Op};
    use protocol::User;

    #[test]
    fn a_read_only_database_fails_writes_readiness_and_health_until_it_is_writable_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let user = |name: &str| User { id: Id::now_v7(), email: format!("{name}@example.com"), username: name.into() };
        // query_only makes SQLite refuse writes as a read-only file would (SQLITE_READONLY).
        lock(&store.writer).execute_batch("PRAGMA query_only=ON").unwrap();
        store.health().unwrap();
        assert!(matches!(store.ready(), Err(StoreError::ReadOnly(_))), "readiness tries a write, so it knows before any request fails");
        let ann = user("ann");
        let err = store.transact(|tx| ready(tx.insert_user(&ann, "hash", 0))).unwrap_err();
        assert!(matches!(err, StoreError::ReadOnly(_)), "{err:?}");
        assert!(matches!(store.health(), Err(StoreError::ReadOnly(_))), "health says so until a write succeeds");
        lock(&store.writer).execute_batch("PRAGMA query_only=OFF").unwrap();
        store.ready().unwrap();
        store.health().unwrap();
        let bob = user("bob");
        store.transact(|tx| ready(tx.insert_user(&bob, "hash", 0))).unwrap();
    }

    #[test]
    fn the_checkpointer_moves_committed_data_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let user = User { id: Id::now_v7(), email: "ann@example.com".into(), username: "ann".into() };
        let ws = Id::now_v7();
        let mutations: Vec<Mutation> = (0..300)
            .map(|i| {
                let mut fields = Fields::new();
                fields.insert("name".into(), format!("{i} {}", "x".repeat(2000)).into());
                Mutation {
                    mutation_id: Id::now_v7(),
                    doc_id: Id::now_v7(),
                    base_version: 0,
                    op: Op::Create { kind: Kind::Environment, parent_id: None, order_key: None, fields },
                }
            })
            .collect();
        let db = dir.path().join("apisync.db");
        let before = std::fs::metadata(&db).unwrap().len();
        store
            .transact(|tx| {
                ready(async {
                    tx.insert_user(&user, "hash", 0).await?;
                    let w = WorkspaceRecord { id: ws, name: "W".into(), owner: user.id, personal: false };
                    tx.insert_workspace(&w, 0).await?;
                    let out = tx.run_batch(ws, crate::push::Head::default(), 1, &mutations).await?;
                    tx.write_batch(ws, 1, &out, 0).await?;
                    Ok::<_, StoreError>(())
                })
            })
            .unwrap();
        // Commits only append to the WAL; the store's own thread copies it in.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&db).unwrap().len() < before + 500_000 {
            assert!(std::time::Instant::now() < deadline, "the WAL was never checkpointed into {}", db.display());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
