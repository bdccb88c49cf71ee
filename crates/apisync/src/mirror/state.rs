//! What a mirror remembers between reconciliations: the files as it last
//! saw or wrote them, and each mirrored document as it last agreed with its
//! file. That agreement is the common base of the three-way comparison: a
//! file that differs from it was edited, a document whose content differs
//! from it was changed on some device.
//!
//! Kept in the device profile (`mirrors/<hash of the directory>.json`), never
//! in the mirrored directory: the directory is a repository others read.

use anyhow::Context;
use model::{Document, Id, Kind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The layout version of the state file; another one starts afresh.
const FORMAT: u32 = 1;

/// A file as last seen: cheap to compare (size and time) and exact (hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: u64,
    /// The contents' hash.
    pub hash: u64,
}

/// A mirrored document as it last agreed with its file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// Its kind.
    pub kind: Kind,
    /// Its parent.
    pub parent: Option<Id>,
    /// The version it had: the base of an edit made in its file.
    pub version: u64,
    /// The id its file carries (`id:`); the key of a variable or global.
    pub file_id: String,
    /// The file that holds it.
    pub path: String,
    /// Its `order:` in that file.
    pub order: Option<i64>,
    /// Each field's hash, as the file has it (secrets masked).
    pub fields: BTreeMap<String, u64>,
    /// The hash of the whole document in the view, to see a change on a device.
    pub view: u64,
}

/// A mirror's memory.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The layout version.
    pub format: u32,
    /// The mirrored directory.
    pub dir: PathBuf,
    /// The mirrored workspace.
    pub workspace: Option<Id>,
    /// Every file of the mirror, by path relative to the directory.
    pub files: BTreeMap<String, Stamp>,
    /// Every mirrored document.
    pub docs: HashMap<Id, Base>,
    /// Why the last reconciliation applied nothing (a file that cannot be read), until fixed.
    pub error: Option<String>,
    /// When the last reconciliation ended, milliseconds since the epoch.
    pub last: Option<i64>,
}

/// The state file of the mirror of `dir`, its lock, and its background
/// mark, in `profile`. The mark is a file of its own so that it can be set
/// and cleared while a process holds the lock and the state.
pub struct Place {
    /// The state file.
    pub file: PathBuf,
    lock: PathBuf,
    mark: PathBuf,
}

/// A mirror the background sync keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// The directory.
    pub dir: PathBuf,
    /// The workspace.
    pub workspace: Id,
}

impl Place {
    /// Where the state of the mirror of `dir` lives in `profile`.
    pub fn of(profile: &Path, dir: &Path) -> Place {
        let name = hex(&Sha256::digest(dir.as_os_str().as_encoded_bytes())[..12]);
        let base = profile.join("mirrors");
        Place {
            file: base.join(format!("{name}.json")),
            lock: base.join(format!("{name}.lock")),
            mark: base.join(format!("{name}.background")),
        }
    }

    /// Marks the mirror for the background sync, or clears the mark.
    pub fn mark(&self, mark: Option<&Mark>) -> anyhow::Result<()> {
        match mark {
            Some(m) => super::files::write_atomic(&self.mark, &serde_json::to_vec(m)?),
            None => match std::fs::remove_file(&self.mark) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", self.mark.display()))
                }
                _ => Ok(()),
            },
        }
    }

    /// Takes the mirror's lock, so two processes never reconcile one directory at once.
    pub fn lock(&self) -> anyhow::Result<File> {
        if let Some(p) = self.lock.parent() {
            std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        let f = File::create(&self.lock).with_context(|| format!("cannot open {}", self.lock.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(std::fs::TryLockError::WouldBlock) => {
                anyhow::bail!("another apisync process is mirroring this directory; stop it first (or wait for it to finish)")
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", self.lock.display())),
        }
    }

    /// The saved state, or a fresh one for `dir` (a state of another layout starts afresh).
    pub fn load(&self, dir: &Path) -> anyhow::Result<State> {
        let fresh = State { format: FORMAT, dir: dir.to_path_buf(), ..State::default() };
        let bytes = match std::fs::read(&self.file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.file.display())),
        };
        match serde_json::from_slice::<State>(&bytes) {
            Ok(s) if s.format == FORMAT && s.dir == dir => Ok(s),
            _ => Ok(fresh),
        }
    }

    /// Saves the state atomically (a crash leaves the old one or the new one).
    pub fn save(&self, state: &State) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(state)?;
        super::files::write_atomic(&self.file, &bytes)
    }
}

/// What a listing shows of a mirror: its state without the files and
/// bases (which a large workspace makes megabytes long).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Summary {
    /// The layout version.
    format: u32,
    /// The mirrored directory.
    pub dir: PathBuf,
    /// The mirrored workspace, once a pass wrote it.
    pub workspace: Option<Id>,
    /// Why the last reconciliation applied nothing, until fixed.
    pub error: Option<String>,
    /// When the last reconciliation ended, milliseconds since the epoch.
    pub last: Option<i64>,
}

/// The state file of every mirror saved in `profile`.
pub fn state_files(profile: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(profile.join("mirrors")) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    files
}

/// The summary of one state file; `None` for a file that is not one (gone, another layout).
pub fn summary(file: &Path) -> Option<Summary> {
    let bytes = std::fs::read(file).ok()?;
    serde_json::from_slice::<Summary>(&bytes).ok().filter(|s| s.format == FORMAT)
}

/// Every mirror saved in `profile`, summarised.
pub fn summaries(profile: &Path) -> Vec<Summary> {
    state_files(profile).iter().filter_map(|f| summary(f)).collect()
}

/// Every mirror marked for the background sync in `profile`.
pub fn marks(profile: &Path) -> Vec<Mark> {
    let Ok(entries) = std::fs::read_dir(profile.join("mirrors")) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "background"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Mark>(&b).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stable 64-bit hash of bytes (the first eight bytes of their SHA-256),
/// the same in every build, since it is saved.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let d = Sha256::digest(bytes);
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The hash of a JSON value.
pub fn hash_value(v: &serde_json::Value) -> u64 {
    hash_bytes(v.to_string().as_bytes())
}

/// Each field's hash, a secret's value masked as the file writes it (empty).
pub fn field_hashes(d: &Document) -> BTreeMap<String, u64> {
    let secret = d.is_secret();
    d.fields
        .iter()
        .map(|(k, v)| {
            let h = if secret && k == "value" { hash_value(&serde_json::Value::String(String::new())) } else { hash_value(v) };
            (k.clone(), h)
        })
        .collect()
}

/// The hash of a document's place and content in the view.
pub fn view_hash(d: &Document) -> u64 {
    let v = serde_json::json!([d.parent_id, d.order_key, d.fields]);
    hash_value(&v)
}
