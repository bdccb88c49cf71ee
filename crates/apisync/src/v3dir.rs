//! v3 directories on disk: finding one, reading its files (bounded, without
//! leaving it), and writing an export into one (atomically per file,
//! removing the v3 files the export no longer has).

use anyhow::{Context, bail};
use formats::v3::{Files, MAX_FILES, MAX_TOTAL_BYTES};
use std::path::{Path, PathBuf};

/// What a directory given to `import` is, as v3.
pub enum Layout {
    /// A collection directory (has `.resources/definition.yaml`), read as
    /// `collections/<its name>/…` so that it is named after its directory
    /// when its definition has no `name:`, as Postman names it.
    Collection { root: PathBuf, name: String },
    /// A `postman/` folder (collections/, environments/, globals/).
    Workspace { root: PathBuf },
}

fn is_workspace_root(dir: &Path) -> bool {
    ["collections", "environments", "globals"].iter().any(|d| dir.join(d).is_dir())
}

/// The v3 layout of `dir`: a collection directory, a `postman/` folder, or
/// a directory that contains `postman/`; `None` when it is none of them.
pub fn detect(dir: &Path) -> Option<Layout> {
    if dir.join(".resources/definition.yaml").is_file() {
        let name = std::fs::canonicalize(dir).ok()?.file_name()?.to_string_lossy().into_owned();
        return Some(Layout::Collection { root: dir.to_path_buf(), name });
    }
    if dir.join("postman").is_dir() && is_workspace_root(&dir.join("postman")) {
        return Some(Layout::Workspace { root: dir.join("postman") });
    }
    is_workspace_root(dir).then(|| Layout::Workspace { root: dir.to_path_buf() })
}

/// Every regular file under `root`, by '/'-separated relative path, with
/// `prefix` in front. Skips `.git` and symbolic links (a link could lead out
/// of the directory); refuses more files or bytes than `import_v3` reads.
pub fn read(root: &Path, prefix: &str) -> anyhow::Result<Files> {
    let mut out = Files::new();
    let mut total: u64 = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let path = entry.path();
            let kind = entry.file_type().with_context(|| format!("cannot read {}", path.display()))?;
            if kind.is_symlink() || entry.file_name() == ".git" {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let rel = relative(root, &path)?;
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            total += len;
            if out.len() >= MAX_FILES || total > MAX_TOTAL_BYTES {
                bail!(
                    "{} holds more than {MAX_FILES} files or {} MiB; apisync reads v3 directories up to that size — import the collections one by one",
                    root.display(),
                    MAX_TOTAL_BYTES / (1024 * 1024)
                );
            }
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            out.insert(format!("{prefix}{rel}"), bytes);
        }
    }
    Ok(out)
}

/// `path` relative to `root`, '/'-separated; a name that is not UTF-8 is refused.
fn relative(root: &Path, path: &Path) -> anyhow::Result<String> {
    let rel = path.strip_prefix(root).with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    match parts {
        Some(p) => Ok(p.join("/")),
        None => bail!("{}: the file name is not UTF-8; rename it", path.display()),
    }
}

/// The `order:` a v3 file has at its top level, if any.
pub fn order_of(bytes: &[u8]) -> Option<i64> {
    String::from_utf8_lossy(bytes).lines().find_map(|l| l.strip_prefix("order: ")?.trim().parse().ok())
}

/// Whether a path (relative, '/'-separated) is one of the files a v3 export writes.
fn is_v3_file(rel: &str) -> bool {
    rel.ends_with(".request.yaml")
        || rel.ends_with(".example.yaml")
        || rel.ends_with(".environment.yaml")
        || rel.ends_with(".globals.yaml")
        || rel == ".resources/definition.yaml"
        || rel.ends_with("/.resources/definition.yaml")
}

/// What writing did.
#[derive(Debug)]
pub struct Wrote {
    /// Files written (new or changed).
    pub written: usize,
    /// Files left as they were (same bytes).
    pub unchanged: usize,
    /// v3 files removed because the export no longer has them.
    pub removed: usize,
}

/// Writes `files` under `dir`: refuses a non-empty `dir` that is not already
/// a v3 directory of the same layout unless `force`; each file goes to a
/// temporary name first and is renamed into place; v3 files under `dir` the
/// export does not have are removed, and directories left empty with them.
pub fn write(dir: &Path, files: &Files, workspace: bool, force: bool) -> anyhow::Result<Wrote> {
    if dir.exists() && !dir.is_dir() {
        bail!("{} is a file; give a directory to write the v3 files into", dir.display());
    }
    let existing = if dir.is_dir() { read(dir, "")? } else { Files::new() };
    let non_empty = dir.is_dir() && std::fs::read_dir(dir)?.next().is_some();
    let same_layout = match detect(dir) {
        Some(Layout::Collection { .. }) => !workspace,
        Some(Layout::Workspace { root }) => workspace && root == dir,
        None => false,
    };
    if non_empty && !same_layout && !force {
        bail!(
            "{} is not empty and is not a v3 {} directory; choose an empty or new directory, or add --force to write into it anyway",
            dir.display(),
            if workspace { "workspace (postman/)" } else { "collection" }
        );
    }
    // A collection directory holds one collection: writing another over it
    // would remove every file of the one there.
    let def = ".resources/definition.yaml";
    let (old, new) = (existing.get(def).and_then(|b| id_of(b)), files.get(def).and_then(|b| id_of(b)));
    if let (Some(old), Some(new)) = (old, new)
        && old != new
        && !force
    {
        bail!("{} holds another collection (id {old}, not {new}); choose another directory, or add --force to replace it", dir.display());
    }
    // Checked for every file before any is written.
    for rel in files.keys() {
        refuse_links(dir, &dir.join(rel))?;
    }
    let mut wrote = Wrote { written: 0, unchanged: 0, removed: 0 };
    for (rel, bytes) in files {
        if existing.get(rel) == Some(bytes) {
            wrote.unchanged += 1;
            continue;
        }
        let target = dir.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // Write beside the target and rename: a crash never leaves half a file.
        let tmp = target.with_file_name(format!(".{}.apisync-tmp", target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", target.display()))?;
        wrote.written += 1;
    }
    for rel in existing.keys().filter(|r| is_v3_file(r) && !files.contains_key(*r)) {
        let path = dir.join(rel);
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        wrote.removed += 1;
        remove_empty_parents(dir, &path);
    }
    Ok(wrote)
}

/// The top-level `id:` of a v3 file, if any.
fn id_of(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes).lines().find_map(|l| l.strip_prefix("id: ").map(|v| v.trim().to_string()))
}

/// Refuses to write through a symbolic link below `dir`: it could lead out of it.
fn refuse_links(dir: &Path, target: &Path) -> anyhow::Result<()> {
    let mut cur = target.to_path_buf();
    while cur != dir && cur.starts_with(dir) {
        if std::fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!("{} is a symbolic link; apisync does not write through links (it could leave {})", cur.display(), dir.display());
        }
        if !cur.pop() {
            break;
        }
    }
    Ok(())
}

/// Removes the directories above `path` that are empty now, up to `dir`.
fn remove_empty_parents(dir: &Path, path: &Path) {
    let mut cur = path.parent();
    while let Some(p) = cur.filter(|p| *p != dir && p.starts_with(dir)) {
        // Fails (and stops) at the first directory that still holds something.
        if std::fs::remove_dir(p).is_err() {
            break;
        }
        cur = p.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Files {
        list.iter().map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())).collect()
    }

    #[test]
    fn writes_replaces_and_removes_only_v3_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let first = files(&[(".resources/definition.yaml", "a"), ("F/.resources/definition.yaml", "b"), ("F/R.request.yaml", "c")]);
        let w = write(&dir, &first, false, false).unwrap();
        assert_eq!((w.written, w.removed), (3, 0));
        std::fs::write(dir.join("README.md"), "mine").unwrap();
        let second = files(&[(".resources/definition.yaml", "a"), ("S.request.yaml", "d")]);
        let w = write(&dir, &second, false, false).unwrap();
        assert_eq!((w.written, w.unchanged, w.removed), (1, 1, 2));
        assert!(!dir.join("F").exists(), "the emptied folder goes");
        assert_eq!(std::fs::read_to_string(dir.join("README.md")).unwrap(), "mine");
        assert_eq!(read(&dir, "").unwrap().len(), 3);
        // Not a collection directory: refused without --force.
        let other = tmp.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "x").unwrap();
        assert!(write(&other, &second, false, false).unwrap_err().to_string().contains("--force"));
        assert!(write(&other, &second, false, true).is_ok());
        // A collection directory is not a workspace folder.
        assert!(write(&dir, &files(&[("collections/C/.resources/definition.yaml", "a")]), true, false).is_err());
    }

    #[test]
    fn another_collection_is_not_written_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        write(&dir, &files(&[(".resources/definition.yaml", "$kind: collection\nid: one\n")]), false, false).unwrap();
        let other = files(&[(".resources/definition.yaml", "$kind: collection\nid: two\n")]);
        assert!(write(&dir, &other, false, false).unwrap_err().to_string().contains("another collection"));
        assert!(write(&dir, &other, false, true).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn writing_does_not_follow_links() {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, elsewhere) = (tmp.path().join("c"), tmp.path().join("elsewhere"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(dir.join("notes"), "x").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("F")).unwrap();
        let err = write(&dir, &files(&[(".resources/definition.yaml", "a"), ("F/R.request.yaml", "b")]), false, true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert!(!dir.join(".resources").exists(), "nothing is written when one file cannot be");
    }

    #[cfg(unix)]
    #[test]
    fn reading_skips_git_and_links_out() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        std::fs::create_dir_all(dir.join(".resources")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(dir.join(".resources/definition.yaml"), "x").unwrap();
        std::fs::write(dir.join(".git/config"), "x").unwrap();
        std::fs::write(tmp.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), dir.join("link.request.yaml")).unwrap();
        let got = read(&dir, "p/").unwrap();
        assert_eq!(got.keys().collect::<Vec<_>>(), ["p/.resources/definition.yaml"]);
        assert!(matches!(detect(&dir), Some(Layout::Collection { name, .. }) if name == "c"));
    }
}
