//! The mail outbox directory, for servers without SMTP: messages carry live
//! password-reset tokens, so the directory is the server user's alone
//! (0700, files 0600, whatever modes it had before) and a message is kept
//! only as long as a token lives.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates the directory readable by this user only, or narrows the modes
/// of one that exists.
pub(crate) fn prepare(dir: &Path) -> std::io::Result<()> {
    match std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if std::fs::metadata(dir)?.permissions().mode() & 0o777 != DIR_MODE {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Removes messages (and half-written ones) older than `keep`, and narrows
/// the modes of the rest; how many it removed.
pub(crate) fn expire(dir: &Path, keep: Duration) -> std::io::Result<usize> {
    let cutoff = SystemTime::now().checked_sub(keep).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.ends_with(".eml") || (name.starts_with('.') && name.ends_with(".tmp"));
        let meta = entry.metadata()?;
        if !ours || !meta.is_file() {
            continue;
        }
        if meta.modified().is_ok_and(|m| m < cutoff) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        } else if meta.permissions().mode() & 0o777 != FILE_MODE {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(FILE_MODE))?;
        }
    }
    Ok(removed)
}

/// Writes one message as `name` (0600, written then renamed, so a reader
/// never sees half a message), after expiring old ones.
pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8], keep: Duration) -> std::io::Result<()> {
    prepare(dir)?;
    expire(dir, keep)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(&tmp)?;
    std::io::Write::write_all(&mut file, bytes)?;
    drop(file);
    std::fs::rename(&tmp, dir.join(name))
}
