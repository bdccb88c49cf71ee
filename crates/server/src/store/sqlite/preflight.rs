//! What is checked before the store opens, so that a start fails with a
//! message saying what to do rather than the server failing every write:
//! that this user can write the data directory and the database files, and
//! that the database file is intact.

use crate::store::StoreError;
use rusqlite::Connection;
use std::io::ErrorKind;
use std::path::Path;

/// Problems `PRAGMA quick_check` lists at most (it stops after this many).
const CHECK_PROBLEMS: usize = 5;

/// Whether an I/O error means "you may not write here".
fn refused(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem)
}

fn classify(e: std::io::Error, what: String) -> StoreError {
    if refused(&e) { StoreError::ReadOnly(format!("{what}: {e}")) } else { StoreError::Unavailable(format!("{what}: {e}")) }
}

/// Creates `dir` if needed and checks that this user can create files in
/// it (SQLite creates `-wal` and `-shm` beside the database) and write the
/// database files already there. Root passes whatever the modes say.
pub(super) fn check_writable(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| classify(e, "it cannot be created".into()))?;
    let probe = dir.join(format!(".apisync-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
        .map_err(|e| classify(e, "no file can be created in it".into()))?;
    let _ = std::fs::remove_file(&probe);
    for name in ["apisync.db", "apisync.db-wal", "apisync.db-shm"] {
        let file = dir.join(name);
        match std::fs::OpenOptions::new().read(true).write(true).open(&file) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(classify(e, format!("{name} cannot be opened for writing"))),
        }
    }
    Ok(())
}

/// Runs `PRAGMA quick_check` on the database: `Corrupt` listing what it
/// found, unless it says ok.
pub(super) fn quick_check(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!("PRAGMA quick_check({CHECK_PROBLEMS})"))?;
    let found: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    match found.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        problems => {
            let found: Vec<&str> = problems.iter().flat_map(|p| p.lines()).map(str::trim).filter(|l| !l.is_empty()).collect();
            Err(StoreError::Corrupt(format!("PRAGMA quick_check found: {}", found.join("; "))))
        }
    }
}

/// The user this process runs as, for messages: `name (uid N)`, or `uid N`
/// when /etc/passwd does not name it.
pub(crate) fn current_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return "the user the server runs as".into();
    };
    let name = std::fs::read_to_string("/etc/passwd").ok().and_then(|passwd| {
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
        })
    });
    match name {
        Some(name) => format!("{name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sound_database_in_a_writable_directory_passes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("a.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a');").unwrap();
        quick_check(&conn).unwrap();
        check_writable(dir.path()).unwrap();
        assert!(current_user().contains("uid "));
    }
}
