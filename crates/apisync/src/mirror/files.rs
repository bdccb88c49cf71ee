//! The mirrored directory on disk: which files are the mirror's, reading
//! them, and writing them so that a crash or a reader never sees half a file.

use super::state::{Stamp, hash_bytes};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The top-level folders of a `postman/` folder that hold the mirror's files.
pub const AREAS: [&str; 3] = ["collections", "environments", "globals"];

/// Most files a mirrored directory may hold: far beyond any real workspace,
/// low enough that a stray directory cannot make one pass endless.
pub const MAX_FILES: usize = 400_000;

/// Deepest directory nesting walked (folders nest; each is one level).
const MAX_DEPTH: usize = 64;

/// A file's size and modification time: what a scan compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: u64,
}

impl Seen {
    /// Whether a saved stamp still describes this file.
    pub fn matches(&self, s: &Stamp) -> bool {
        self.len == s.len && self.mtime == s.mtime
    }
}

/// Every mirror file under `root` (YAML files in [`AREAS`], dot-directories
/// skipped except `.resources`, symbolic links never followed), by path
/// relative to `root` with `/` separators.
pub fn scan(root: &Path) -> anyhow::Result<BTreeMap<String, Seen>> {
    let mut out = BTreeMap::new();
    for area in AREAS {
        walk(root, &root.join(area), 0, &mut out)?;
    }
    Ok(out)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut BTreeMap<String, Seen>) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    if depth > MAX_DEPTH {
        anyhow::bail!("{} is nested deeper than {MAX_DEPTH} directories; a mirror holds no such tree", dir.display());
    }
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let meta = entry.metadata().with_context(|| format!("cannot read {}", entry.path().display()))?;
        let ft = meta.file_type();
        if ft.is_symlink() || (name.starts_with('.') && name != ".resources") {
            continue;
        }
        if ft.is_dir() {
            walk(root, &entry.path(), depth + 1, out)?;
        } else if ft.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            if out.len() >= MAX_FILES {
                anyhow::bail!("{} holds more than {MAX_FILES} files; that is not a workspace apisync can mirror", root.display());
            }
            let rel = relative(root, &entry.path())?;
            out.insert(rel, seen(&meta));
        }
    }
    Ok(())
}

fn seen(meta: &std::fs::Metadata) -> Seen {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as u64);
    Seen { len: meta.len(), mtime }
}

fn relative(root: &Path, path: &Path) -> anyhow::Result<String> {
    let rel = path.strip_prefix(root).with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Ok(parts.join("/"))
}

/// The full path of `rel` under `root`.
pub fn full(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(root.to_path_buf(), |p, part| p.join(part))
}

/// Reads one file and stamps it.
pub fn read(root: &Path, rel: &str) -> anyhow::Result<(Vec<u8>, Stamp)> {
    let path = full(root, rel);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let meta = std::fs::symlink_metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let s = seen(&meta);
    let hash = hash_bytes(&bytes);
    Ok((bytes, Stamp { len: s.len, mtime: s.mtime, hash }))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader (an editor, git, another mirror pass) sees the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().with_context(|| format!("{} has no directory", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Writes a mirror file and stamps it.
pub fn write(root: &Path, rel: &str, bytes: &[u8]) -> anyhow::Result<Stamp> {
    let path = full(root, rel);
    write_atomic(&path, bytes)?;
    let meta = std::fs::symlink_metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let s = seen(&meta);
    Ok(Stamp { len: s.len, mtime: s.mtime, hash: hash_bytes(bytes) })
}

/// Removes a mirror file, then each directory above it that it left empty
/// (up to, not including, its area).
pub fn remove(root: &Path, rel: &str) -> anyhow::Result<()> {
    let path = full(root, rel);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    let mut dir = path.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if d == root || AREAS.iter().any(|a| d == root.join(a)) {
            break;
        }
        // Fails (and stops) at the first directory that is not empty.
        if std::fs::remove_dir(&d).is_err() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Ok(())
}
