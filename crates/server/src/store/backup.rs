//! `apisync backup`: a consistent copy of the SQLite store, safe while a
//! server writes to it. SQLite's online backup API copies every page in one
//! step under one read snapshot (in WAL mode readers do not block the
//! writer, and a one-step copy never restarts when the server commits), into
//! a temporary file beside the target that is checked, synced and renamed
//! into place.

use super::StoreError;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Attempts at the copy while SQLite answers busy or locked (a checkpoint
/// resetting the WAL), each after [`RETRY_PAUSE`].
const ATTEMPTS: usize = 50;
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "no apisync database at {0}: pass the --data-dir the server uses. A server on PostgreSQL (--database-url) \
         is backed up with pg_dump, e.g. `pg_dump --format=custom --file=apisync.dump \"$APISYNC_DATABASE_URL\"`"
    )]
    NoDatabase(PathBuf),
    #[error("{0} exists; pass --force to replace it")]
    Exists(PathBuf),
    #[error("the copy failed its check (PRAGMA quick_check: {0}); nothing was written to {1}")]
    Check(String, PathBuf),
    #[error("the server kept the database busy through {ATTEMPTS} attempts; nothing was written to {0}: try again")]
    Busy(PathBuf),
    #[error("cannot read the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot write {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> BackupError {
        BackupError::Store(e.into())
    }
}

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub source: PathBuf,
    pub output: PathBuf,
    pub bytes: u64,
    pub pages: i64,
    pub documents: i64,
    pub workspaces: i64,
    pub users: i64,
    pub elapsed: Duration,
}

/// Removes the temporary file unless the backup got as far as renaming it.
struct Temp(Option<PathBuf>);

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Copies `apisync.db` in `dir` to `output` (refused if it exists, unless `force`).
pub fn sqlite_backup(dir: &Path, output: &Path, force: bool) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let source = dir.join("apisync.db");
    if !source.is_file() {
        return Err(BackupError::NoDatabase(source));
    }
    if output.is_dir() {
        return Err(BackupError::Io(output.to_path_buf(), std::io::Error::other("it is a directory; name a file")));
    }
    if output.exists() && !force {
        return Err(BackupError::Exists(output.to_path_buf()));
    }
    let io = |e: std::io::Error| BackupError::Io(output.to_path_buf(), e);
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "backup".into());
    let temp_path = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut temp = Temp(Some(temp_path.clone()));
    let _ = std::fs::remove_file(&temp_path);

    let from = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    from.busy_timeout(Duration::from_secs(10))?;
    let mut to = Connection::open(&temp_path)?;
    let pages = copy(&from, &mut to, output)?;
    drop(from);
    let check: String = to.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(BackupError::Check(check, output.to_path_buf()));
    }
    let count = |table: &str| to.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0));
    let (documents, workspaces, users) = (count("docs")?, count("workspaces")?, count("users")?);
    to.close().map_err(|(_, e)| BackupError::from(e))?;

    std::fs::File::open(&temp_path).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&temp_path, output).map_err(io)?;
    temp.0 = None;
    // The rename itself survives a power cut only once the directory is synced.
    std::fs::File::open(&parent).and_then(|d| d.sync_all()).map_err(io)?;
    let bytes = std::fs::metadata(output).map_err(io)?.len();
    Ok(BackupReport { source, output: output.to_path_buf(), bytes, pages, documents, workspaces, users, elapsed: started.elapsed() })
}

/// Copies every page in one step; the number of pages.
fn copy(from: &Connection, to: &mut Connection, output: &Path) -> Result<i64, BackupError> {
    let backup = Backup::new(from, to)?;
    for _ in 0..ATTEMPTS {
        match backup.step(-1)? {
            StepResult::Done => return Ok(i64::from(backup.progress().pagecount)),
            _ => std::thread::sleep(RETRY_PAUSE),
        }
    }
    Err(BackupError::Busy(output.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_refused_over_a_file_without_force_and_needs_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.db");
        assert!(matches!(sqlite_backup(dir.path(), &out, false), Err(BackupError::NoDatabase(_))));
        drop(super::super::sqlite::SqliteStore::open(dir.path()).unwrap());
        let report = sqlite_backup(dir.path(), &out, false).unwrap();
        assert!(report.bytes > 0 && report.pages > 0);
        assert!(matches!(sqlite_backup(dir.path(), &out, false), Err(BackupError::Exists(_))));
        sqlite_backup(dir.path(), &out, true).unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{left:?}");
    }
}
