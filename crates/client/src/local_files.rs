//! Files the profile keeps beside its database for sending requests: the
//! cookie jar and response bodies too large for a synced history entry.
//! They are the account's data like the rows, so sign-out erases them.

use crate::{ClientError, Device};
use model::Id;
use std::path::{Path, PathBuf};

/// The cookie jar's file in the profile.
pub const COOKIE_JAR: &str = "cookies.json";
/// The directory of response bodies kept on this device only, one file per history entry.
pub const BODIES: &str = "bodies";

impl Device {
    /// The cookie jar's file.
    pub fn cookie_jar_path(&self) -> PathBuf {
        self.dir().join(COOKIE_JAR)
    }

    /// Where the body of history entry `history` is kept when it is kept on this device only.
    pub fn local_body_path(&self, history: Id) -> PathBuf {
        self.dir().join(BODIES).join(history.to_string())
    }

    /// Keeps `body` on this device only for history entry `history` (owner-only file).
    pub fn keep_local_body(&self, history: Id, body: &[u8]) -> Result<PathBuf, ClientError> {
        let path = self.local_body_path(history);
        let io = |e: std::io::Error| ClientError::Io(format!("cannot keep the response body in {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        use std::io::Write;
        opts.open(&path).and_then(|mut f| f.write_all(body)).map_err(io)?;
        Ok(path)
    }

    /// The body kept on this device for history entry `history`, if any.
    pub fn local_body(&self, history: Id) -> Result<Option<Vec<u8>>, ClientError> {
        let path = self.local_body_path(history);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClientError::Io(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Erases the cookie jar and the bodies of history entries no longer on
    /// the device (those of the scratch pad stay), after sign-out removed the account's rows.
    pub(crate) fn erase_local_files(&self) -> Result<(), ClientError> {
        shred(&self.cookie_jar_path())?;
        let dir = self.dir().join(BODIES);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(ClientError::Io(format!("cannot list {}: {e}", dir.display()))),
        };
        for entry in entries.flatten() {
            let kept = entry.file_name().to_str().and_then(|n| n.parse::<Id>().ok()).is_some_and(|id| self.get(id).is_ok());
            if !kept {
                shred(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Overwrites a file with zeros before unlinking it, so its bytes do not
/// linger in the freed blocks (as far as the file system writes in place).
fn shred(path: &Path) -> Result<(), ClientError> {
    let io = |e: std::io::Error| ClientError::Io(format!("cannot erase {}: {e}", path.display()));
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(path).map_err(io)?;
        let zeros = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            f.write_all(&zeros[..n]).map_err(io)?;
            left -= n as u64;
        }
        f.sync_all().map_err(io)?;
    }
    std::fs::remove_file(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use crate::{Device, fields};
    use model::Kind;

    #[test]
    fn sign_out_erases_the_jar_and_the_bodies_of_entries_that_went() {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::open(dir.path()).unwrap();
        std::fs::write(d.cookie_jar_path(), b"[{\"jar-marker\":1}]").unwrap();
        let kept = d.create(Kind::History, None, None, fields([("method", "GET".into()), ("url", "http://x".into())])).unwrap();
        let gone = model::Id::now_v7();
        d.keep_local_body(kept, b"scratch pad body").unwrap();
        d.keep_local_body(gone, b"account body").unwrap();
        assert_eq!(d.local_body(gone).unwrap().as_deref(), Some(&b"account body"[..]));
        d.erase_local_files().unwrap();
        assert!(!d.cookie_jar_path().exists());
        assert_eq!(d.local_body(gone).unwrap(), None);
        assert_eq!(d.local_body(kept).unwrap().as_deref(), Some(&b"scratch pad body"[..]), "the scratch pad's entry stays");
        assert!(crate::erase::tests::files_holding(&dir.path().join(super::BODIES), "account body").is_empty());
    }
}
