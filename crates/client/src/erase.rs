//! Erasing what sign-out deletes, so that no byte of it stays readable in
//! the profile's files.
//!
//! A SQLite `DELETE` only unlinks a row: its bytes stay in the page's free
//! space, on freelist pages, and in the WAL's older frames until something
//! overwrites them. Three things close those gaps:
//!
//! - every connection runs with `secure_delete=ON` (set in
//!   [`crate::store::Store::open`]), so deleted rows and freed pages are
//!   overwritten with zeros in the same transaction that deletes them;
//! - after the deleting transaction, `VACUUM` rewrites every page of the
//!   database from the rows that remain (bytes that an older apisync left
//!   behind, before `secure_delete`, go too);
//! - a `TRUNCATE` checkpoint copies the rewritten pages into `apisync.db`
//!   and cuts `apisync.db-wal` to zero bytes, taking the older frames with it.
//!
//! The deleting transaction also sets the `erase_pending` meta key, cleared
//! only once the checkpoint has truncated the WAL. A crash (or another
//! process holding the profile busy) in between leaves the key, and the next
//! [`crate::store::Store::open`] finishes the job.

use crate::profile::keys;
use crate::{ClientError, store};
use rusqlite::Connection;

/// Records, inside the transaction that deletes the data, that its old
/// copies still have to be erased.
pub fn mark(conn: &Connection) -> Result<(), ClientError> {
    store::meta_set(conn, keys::ERASE_PENDING, "1")
}

/// Whether an erase was started and not finished.
pub fn pending(conn: &Connection) -> Result<bool, ClientError> {
    Ok(store::meta_get(conn, keys::ERASE_PENDING)?.is_some())
}

/// Rewrites the database and empties the WAL if an erase is pending; call
/// outside any transaction (`VACUUM` refuses to run inside one).
pub fn finish(conn: &Connection) -> Result<(), ClientError> {
    if !pending(conn)? {
        return Ok(());
    }
    conn.execute_batch("VACUUM").map_err(|e| match e.sqlite_error_code() {
        // Another process kept the write lock past the busy timeout.
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => ClientError::EraseUnfinished,
        _ => ClientError::Store(e),
    })?;
    if !checkpoint_truncate(conn)? {
        return Err(ClientError::EraseUnfinished);
    }
    // The WAL is empty now: the frames this delete writes hold only pages
    // rewritten by the VACUUM, so clearing the key cannot bring anything back.
    store::meta_delete(conn, keys::ERASE_PENDING)?;
    // Leaves `apisync.db` alone complete; if a reader is in the way, the
    // frames left behind hold nothing that was erased.
    checkpoint_truncate(conn)?;
    Ok(())
}

/// Copies the WAL into the database and truncates it to zero bytes; false
/// when a reader or writer of another connection kept it from finishing
/// within the busy timeout.
pub fn checkpoint_truncate(conn: &Connection) -> Result<bool, ClientError> {
    // The first column is 1 when the checkpoint could not complete; outside
    // WAL mode it is 0 and there is no WAL to empty.
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::Store;
    use std::path::{Path, PathBuf};

    /// The files of `dir` whose raw bytes contain `needle`.
    pub(crate) fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(entry.path());
            }
        }
        found
    }

    fn put(s: &Store, key: &str, value: &str) {
        s.write(|tx| store::meta_set(tx, key, value)).unwrap();
    }

    #[test]
    fn every_connection_deletes_securely() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let on: i64 = s.read(|c| Ok(c.query_row("PRAGMA secure_delete", [], |r| r.get(0))?)).unwrap();
        assert_eq!(on, 1);
    }

    #[test]
    fn a_deleted_row_is_overwritten_not_just_unlinked() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        put(&s, "kept", "a value that stays");
        put(&s, "gone", "deleted-row-marker-7f3a");
        assert!(s.maintain(checkpoint_truncate).unwrap());
        assert!(!files_holding(dir.path(), "deleted-row-marker-7f3a").is_empty(), "the row never reached the file");
        s.write(|tx| store::meta_delete(tx, "gone")).unwrap();
        // No VACUUM: secure_delete alone zeroes the row in the page.
        assert!(s.maintain(checkpoint_truncate).unwrap());
        assert!(files_holding(dir.path(), "deleted-row-marker-7f3a").is_empty());
        assert!(!files_holding(dir.path(), "a value that stays").is_empty());
    }

    #[test]
    fn an_erase_cut_short_is_finished_when_the_profile_next_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apisync.db");
        let s = Store::open(&path).unwrap();
        put(&s, "secret", "cut-short-marker-91c2");
        s.write(|tx| {
            store::meta_delete(tx, "secret")?;
            mark(tx)
        })
        .unwrap();
        // A crash here: the connection is never closed, so nothing checkpoints
        // and the WAL keeps the frame that held the row.
        std::mem::forget(s);
        assert!(!files_holding(dir.path(), "cut-short-marker-91c2").is_empty(), "nothing was left to erase");

        let s = Store::open(&path).unwrap();
        assert!(files_holding(dir.path(), "cut-short-marker-91c2").is_empty());
        assert!(!s.read(pending).unwrap());
    }

    #[test]
    fn finish_does_nothing_without_a_pending_erase() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        put(&s, "k", "v");
        s.maintain(finish).unwrap();
        // Nothing was checkpointed: the write is still in the WAL.
        let wal = std::fs::metadata(dir.path().join("apisync.db-wal")).unwrap().len();
        assert!(wal > 0);
    }
}
