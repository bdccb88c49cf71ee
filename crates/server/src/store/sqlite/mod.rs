//! The embedded SQLite backend: one file in the data directory, WAL mode,
//! one writer connection, a few readers, and a thread that checkpoints.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

mod batch;
mod classify;
mod schema;
mod tx;

pub(crate) use tx::SqliteTx;

const READERS: usize = 4;

/// The SQLite store.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Tells the checkpointer thread to finish.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// WAL pages (4 KiB) past which the checkpointer insists, briefly holding writers back.
const WAL_PAGES_LIMIT: i64 = 16_384;

/// Checkpoints the WAL on its own thread and connection. Left to SQLite, a
/// checkpoint runs inside whichever commit crosses the threshold: measured
/// here, that more than doubled a push's commit (10 ms to 24 ms).
fn spawn_checkpointer(path: std::path::PathBuf, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Result<(), StoreError> {
    let conn = open_conn(&path)?;
    std::thread::Builder::new()
        .name("apisync-checkpoint".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                // (busy, WAL pages, pages checkpointed); a busy answer just waits for the next turn.
                let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)));
                match passive {
                    Ok((_, pages)) if pages > WAL_PAGES_LIMIT => {
                        let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
                }
            }
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        })
        .map_err(|e| StoreError::Task(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Room for the multi-row INSERTs beside the per-request statements.
    conn.set_prepared_statement_cache_capacity(64);
    // FULL: a change the server acknowledged survives a power cut too.
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    Ok(conn)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves SQLite consistent (transactions
    // roll back), so the poison flag carries no information.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) `apisync.db` in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Task(format!("cannot create data directory {}: {e}", dir.display())))?;
        let path = dir.join("apisync.db");
        let mut writer = open_conn(&path)?;
        schema::migrate(&mut writer)?;
        // Commits never checkpoint; the checkpointer thread does.
        writer.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        spawn_checkpointer(path.clone(), stop.clone())?;
        let readers = (0..READERS).map(|_| open_conn(&path).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(SqliteStore { writer: Mutex::new(writer), readers, next_reader: AtomicUsize::new(0), stop })
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
    /// when it returns `Ok(Ok(_))`, rolls back otherwise. (Call on a
    /// blocking thread: see [`crate::store::transact!`].)
    pub(crate) fn transact<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<Result<T, E>, StoreError>,
    ) -> Result<T, E> {
        let mut conn = lock(&self.writer);
        conn.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::from)?;
        let out = f(&mut SqliteTx::new(&mut conn));
        match out {
            Ok(Ok(v)) => match conn.execute_batch("COMMIT") {
                Ok(()) => Ok(v),
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
    pub(crate) fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut SqliteTx<'_>) -> Result<Result<T, E>, StoreError>,
    ) -> Result<T, E> {
        let mut conn = self.reader();
        f(&mut SqliteTx::new(&mut conn))?
    }

    pub(super) fn ping(&self) -> Result<(), StoreError> {
        self.reader().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Tx, WorkspaceRecord, ready};
    use model::{Fields, Id, Kind, Mutation, Op};
    use protocol::User;

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
                    let out = tx.run_batch(ws, 0, 1, &mutations).await?;
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
