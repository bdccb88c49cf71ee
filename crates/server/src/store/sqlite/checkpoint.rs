//! Keeping the write-ahead log bounded: a thread that checkpoints it in the
//! background, truncates it when it passes its limit (holding the writer if
//! readers keep it busy), and the last checkpoint of a graceful stop.

use super::{StoreError, lock, open_conn};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// How long a truncating checkpoint that holds the writer waits for readers;
/// writes wait this long at most, then the checkpointer tries again later.
const HOLD_WAIT: Duration = Duration::from_secs(2);
/// After readers outlasted [`HOLD_WAIT`] (a long backup, say), the writer
/// is not held again for this long, so writes keep flowing meanwhile.
const HOLD_BACKOFF: Duration = Duration::from_secs(5);
/// How long the last checkpoint of a graceful stop waits for readers.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// The size of the WAL beside `db` (0 when there is none).
pub(super) fn wal_bytes(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// Runs one checkpoint; whether it completed (SQLite answers busy when a
/// writer or readers kept it from copying or resetting the whole log).
fn checkpoint(conn: &Connection, mode: &str) -> Result<bool, StoreError> {
    let busy: i64 = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get(0))?;
    Ok(busy == 0)
}

/// Checkpoints the whole log and truncates it to nothing: first without
/// waiting; if a writer or readers are in the way, again holding the
/// store's writer (so no new frames arrive) while readers finish.
fn truncate(conn: &Connection, writer: &Mutex<Connection>) -> Result<bool, StoreError> {
    conn.busy_timeout(Duration::ZERO)?;
    if checkpoint(conn, "TRUNCATE")? {
        return Ok(true);
    }
    let _writer = lock(writer);
    conn.busy_timeout(HOLD_WAIT)?;
    checkpoint(conn, "TRUNCATE")
}

/// The checkpointer thread. Left to SQLite, a checkpoint runs inside
/// whichever commit crosses the threshold: measured here, that more than
/// doubled a push's commit (10 ms to 24 ms), so commits never checkpoint.
pub(super) struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts the thread on a connection of its own.
    pub(super) fn spawn(db: PathBuf, wal_limit: u64, writer: Arc<Mutex<Connection>>) -> Result<Checkpointer, StoreError> {
        let conn = open_conn(&db, wal_limit)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("apisync-checkpoint".into())
            .spawn(move || {
                // Warn once per episode of a WAL that will not shrink, not every turn.
                let mut warned = false;
                let mut hold_after = Instant::now();
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::park_timeout(CHECKPOINT_EVERY);
                    if let Err(e) = checkpoint(&conn, "PASSIVE") {
                        tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                    }
                    let bytes = wal_bytes(&db);
                    if bytes <= wal_limit {
                        warned = false;
                        continue;
                    }
                    if Instant::now() < hold_after {
                        continue;
                    }
                    match truncate(&conn, &writer) {
                        Ok(true) => warned = false,
                        Ok(false) => {
                            hold_after = Instant::now() + HOLD_BACKOFF;
                            if warned {
                                continue;
                            }
                            warned = true;
                            tracing::warn!(
                                wal_bytes = bytes,
                                limit = wal_limit,
                                "the WAL is over its limit and readers kept it busy for {}s; trying again",
                                HOLD_WAIT.as_secs()
                            );
                        }
                        Err(e) => tracing::warn!(error = %e, wal_bytes = bytes, "truncating the WAL failed; retrying"),
                    }
                }
            })
            .map_err(|e| StoreError::Task(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread: Mutex::new(Some(thread)) })
    }

    /// Checkpoints now rather than at the next turn.
    pub(super) fn wake(&self) {
        if let Some(thread) = lock(&self.thread).as_ref() {
            thread.thread().unpark();
        }
    }

    /// Stops the thread and waits for it (at most one checkpoint's time).
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = lock(&self.thread).take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = lock(&self.thread).as_ref() {
            thread.thread().unpark();
        }
    }
}

/// The last checkpoint, on the writer: every committed change into the
/// database file and the WAL truncated, so `apisync.db` alone is complete.
pub(super) fn close(writer: &Connection, db: &Path) -> Result<(), StoreError> {
    writer.busy_timeout(CLOSE_WAIT)?;
    if !checkpoint(writer, "TRUNCATE")? {
        return Err(StoreError::Unavailable(format!(
            "readers kept the WAL busy for {}s at shutdown; {} holds {} bytes not yet in the database file (SQLite applies them at the next start)",
            CLOSE_WAIT.as_secs(),
            db.with_extension("db-wal").display(),
            wal_bytes(db)
        )));
    }
    Ok(())
}
