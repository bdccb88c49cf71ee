//! Postman's files in and out: `import`, `export`, and the scratch pad's
//! `scratchpad export` and `scratchpad move`.

use crate::device::autosync;
use crate::{Globals, output, parse_id};
use anyhow::{Context, bail};
use clap::{ArgGroup, Args, Subcommand};
use model::{Document, Id, Kind};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Largest file `import` reads (and most bytes it reads of one v3 directory).
pub const MAX_IMPORT_BYTES: u64 = formats::MAX_IMPORT_BYTES;

/// `apisync import`
#[derive(Args)]
pub struct ImportArgs {
    /// Postman files: collections (v2.1, v2.0, v1), environments, globals, a
    /// data dump, a newman JSON report, a cloud export folder (with
    /// archive.json), or a v3 directory: a collection directory, a `postman/`
    /// folder, or a directory that contains `postman/`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Workspace name or id [default: your personal workspace; the scratch pad when signed out].
    #[arg(long, short)]
    workspace: Option<String>,
    /// Replace collections, environments, header presets and globals that an
    /// earlier import of the same items made, instead of adding a copy.
    #[arg(long)]
    replace: bool,
}

/// Everything on the device as one dump (`export --all`, and the app's
/// `GET /api/export`), with a summary of what it holds.
pub fn export_everything(device: &client::Device) -> anyhow::Result<(Value, String)> {
    let mut docs = Vec::new();
    for ws in device.workspaces()? {
        // `list` leaves the workspace's own document out (it is no
        // content), but a backup keeps it: its name and description.
        match device.get(ws.id) {
            Ok(doc) => docs.push(doc),
            // Not pulled yet: the workspace has no document on this device.
            Err(client::ClientError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        docs.extend(device.list(Some(&ws.id.to_string()), None)?);
    }
    let dump = dump(&docs);
    // Count what the file holds, not what was read: the two differ by
    // any document `dump` warned about.
    Ok((dump.value, format!("everything ({})", summary(&dump.written))))
}

/// `apisync export`
#[derive(Args)]
#[command(group(ArgGroup::new("what").required(true).args(["collection", "environment", "globals", "all"])))]
pub struct ExportArgs {
    /// Export this collection (Collection Format v2.1).
    #[arg(long, value_parser = parse_id)]
    collection: Option<Uuid>,
    /// Export this environment.
    #[arg(long, value_parser = parse_id)]
    environment: Option<Uuid>,
    /// Export a workspace's globals.
    #[arg(long)]
    globals: bool,
    /// Export everything on this device as a Postman data dump: your backup
    /// (run results, history and workspaces go under its `_apisync` key).
    #[arg(long)]
    all: bool,
    /// Workspace for --globals [default: your personal workspace; the scratch pad when signed out].
    #[arg(long, short)]
    workspace: Option<String>,
    /// Where to write; `-` for standard output. With `--format v3`, a directory.
    #[arg(long, short)]
    output: PathBuf,
    /// `v2.1`: Postman JSON files (the default). `v3`: Postman's v3 directory of
    /// YAML files — a collection directory for --collection, a `postman/`
    /// folder of one workspace (--workspace) for --all.
    #[arg(long, value_enum, default_value = "v2.1")]
    format: ExportFormat,
    /// With `--format v3`: write into a non-empty directory that is not a v3 directory.
    #[arg(long)]
    force: bool,
}

/// The file formats `export` writes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Collection Format v2.1 JSON, environment and globals JSON, the data dump.
    #[value(name = "v2.1")]
    V21,
    /// Postman's v3 directories (collections schema 3.0.0, YAML).
    #[value(name = "v3")]
    V3,
}

/// `apisync scratchpad ...`
#[derive(Subcommand)]
pub enum ScratchpadCmd {
    /// Save the whole scratch pad as a Postman data dump (run results and
    /// history under its `_apisync` key).
    Export {
        /// Where to write; `-` for standard output.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Move everything in the scratch pad into a workspace of your account (signed in).
    Move {
        /// Workspace name or id.
        #[arg(long, short)]
        workspace: String,
    },
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_IMPORT_BYTES {
        bail!(
            "{} is {} MiB; apisync imports files of up to {} MiB — export the collections from Postman one by one",
            path.display(),
            meta.len() / (1024 * 1024),
            MAX_IMPORT_BYTES / (1024 * 1024)
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// One thing `import` reads: a Postman file, or a v3 directory's files.
enum Input {
    File(PathBuf),
    V3 { shown: PathBuf, files: formats::v3::Files },
}

/// The inputs a path stands for: a v3 directory, a cloud export's files, or the file itself.
fn inputs(path: &Path) -> anyhow::Result<Vec<Input>> {
    if path.is_dir() && !path.join("archive.json").exists() {
        match crate::v3dir::detect(path) {
            Some(crate::v3dir::Layout::Collection { root, name }) => {
                let files = crate::v3dir::read(&root, &format!("collections/{name}/"))?;
                return Ok(vec![Input::V3 { shown: path.to_path_buf(), files }]);
            }
            Some(crate::v3dir::Layout::Workspace { root }) => {
                let files = crate::v3dir::read(&root, "")?;
                return Ok(vec![Input::V3 { shown: root, files }]);
            }
            None => {}
        }
    }
    Ok(expand(path)?.into_iter().map(Input::File).collect())
}

/// The files a path stands for: itself, or for a Postman cloud export (a
/// folder with archive.json, or archive.json itself) the collection and
/// environment files it lists.
fn expand(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let archive = if path.is_dir() { path.join("archive.json") } else { path.to_path_buf() };
    if archive.file_name().is_some_and(|n| n == "archive.json") && archive.exists() {
        let root = archive.parent().unwrap_or(Path::new("."));
        let index: Value =
            serde_json::from_slice(&read_file(&archive)?).with_context(|| format!("{} is not valid JSON", archive.display()))?;
        let mut files = Vec::new();
        for (section, dir) in [("collection", "collection"), ("environment", "environment")] {
            for id in index.get(section).and_then(Value::as_object).map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                let f = root.join(dir).join(format!("{id}.json"));
                if !f.exists() {
                    bail!("{} lists {section} {id}, but {} is missing", archive.display(), f.display());
                }
                files.push(f);
            }
        }
        if files.is_empty() {
            bail!("{} lists no collections or environments", archive.display());
        }
        return Ok(files);
    }
    if path.is_dir() {
        bail!(
            "{} is a folder without archive.json and no v3 directory (no .resources/definition.yaml, \
             postman/, collections/, environments/ or globals/); name the files to import",
            path.display()
        );
    }
    Ok(vec![path.to_path_buf()])
}

fn counts(docs: &[Document]) -> String {
    let mut by: BTreeMap<Kind, usize> = BTreeMap::new();
    for d in docs {
        *by.entry(d.kind).or_default() += 1;
    }
    summary(&by)
}

/// "2 collections, 1 run, 3 history entries", in kind order.
fn summary(by: &BTreeMap<Kind, usize>) -> String {
    let one = |k: Kind, n: usize| match (k, n) {
        (Kind::History, 1) => "1 history entry".to_string(),
        (Kind::History, n) => format!("{n} history entries"),
        (k, 1) => format!("1 {}", output::kind(k)),
        (k, n) => format!("{n} {}s", output::kind(k)),
    };
    by.iter().filter(|(_, n)| **n > 0).map(|(k, n)| one(*k, *n)).collect::<Vec<_>>().join(", ")
}

/// Builds the data dump and says, on standard error, which live documents
/// it could not hold, so a backup never leaves something out silently.
pub(crate) fn dump(docs: &[Document]) -> formats::Dump {
    let dump = formats::export_dump(docs);
    if !dump.left_out.is_empty() {
        let left_out: std::collections::HashSet<&Id> = dump.left_out.iter().collect();
        let named: Vec<String> = docs
            .iter()
            .filter(|d| left_out.contains(&d.id))
            .take(10)
            .map(|d| format!("{} '{}' ({})", output::kind(d.kind), d.title(), d.id))
            .collect();
        let more = dump.left_out.len().saturating_sub(named.len());
        eprintln!(
            "warning: {} document(s) are not in the file: their parent is deleted or missing ({}{}); \
             move them under a live parent (apisync mv) and export again",
            dump.left_out.len(),
            named.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        );
    }
    dump
}

/// One file through the importer that `apisync import` and the app's
/// `POST /api/import` share: its documents for workspace `ws`, and its entry
/// of the report (format, counts, top-level items, and the notes on what
/// was converted or dropped).
pub fn convert(name: &str, bytes: &[u8], ws: Id) -> Result<(Vec<Document>, Value), formats::FormatError> {
    let imported = formats::import(bytes, ws, &mut Id::now_v7)?;
    Ok(report(name, imported))
}

fn report(name: &str, imported: formats::Import) -> (Vec<Document>, Value) {
    let entry = json!({
        "file": name,
        "format": imported.format.describe(),
        "documents": imported.documents.len(),
        "summary": counts(&imported.documents),
        "top_level": imported.documents.iter().filter(|d| d.parent_id.is_none()).map(|d| json!({"id": d.id, "kind": d.kind, "name": d.title()})).collect::<Vec<_>>(),
        "notes": imported.notes,
    });
    (imported.documents, entry)
}

/// `apisync import FILE...`: every file is read and checked first; then all
/// of them are written in one transaction, so nothing is half-imported.
pub async fn import(g: &Globals, a: ImportArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let ws = device.resolve_workspace(a.workspace.as_deref())?;
    let spinner = std::io::stderr().is_terminal().then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    });
    let mut all: Vec<Document> = Vec::new();
    let mut changes: Vec<client::External> = Vec::new();
    let mut view: Option<anyhow::Result<std::collections::HashMap<Id, Document>>> = None;
    let mut report = Vec::new();
    for input in a.files.iter().map(|p| inputs(p)).collect::<anyhow::Result<Vec<_>>>()?.into_iter().flatten() {
        let (docs, entry) = match input {
            Input::File(path) => {
                if let Some(s) = &spinner {
                    s.set_message(format!("reading {}", path.display()));
                }
                let bytes = read_file(&path)?;
                convert(&path.display().to_string(), &bytes, ws.id)
                    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", path.display()))?
            }
            Input::V3 { shown, files } => {
                let read = formats::v3::import_v3(&files, ws.id, &mut Id::now_v7)
                    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", shown.display()))?;
                // A collection or environment the workspace already has (same `id:`) is
                // updated in place, as a mirror would; the rest is new.
                let view = view.get_or_insert_with(|| crate::mirror::reconcile::view(&device, ws.id));
                let view = view.as_ref().map_err(|e| anyhow::anyhow!("cannot read the workspace: {e}"))?;
                let update = crate::mirror::reconcile::update_from(view, &read);
                changes.extend(update.changes);
                let (_, mut entry) = self::report(&shown.display().to_string(), read.import);
                entry["updated"] = json!(update.updated);
                (update.new_docs, entry)
            }
        };
        report.push(entry);
        all.extend(docs);
    }
    if let Some(s) = &spinner {
        s.set_message(format!("writing {} documents", all.len()));
    }
    let (written, applied) = device.import_and_apply(ws.id, &all, a.replace, &changes)?;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    if g.json {
        output::json(&json!({ "workspace": ws.id, "written": written, "updated": applied, "files": report }))?;
    } else {
        for r in &report {
            println!(
                "imported {} ({}): {}",
                r["file"].as_str().unwrap_or_default(),
                r["format"].as_str().unwrap_or_default(),
                r["summary"].as_str().unwrap_or_default()
            );
            for note in r["notes"].as_array().into_iter().flatten() {
                eprintln!("  note: {}", note.as_str().unwrap_or_default());
            }
            for name in r["updated"].as_array().into_iter().flatten() {
                println!("  updated in place: {} (the workspace has its id)", name.as_str().unwrap_or_default());
            }
        }
        println!("{written} documents written to workspace '{}'", ws.name);
        if applied > 0 {
            println!("{applied} edits made to documents it already had");
        }
    }
    autosync(&mut device).await;
    Ok(())
}

fn write_out(path: &Path, value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    if path == Path::new("-") {
        std::io::stdout().write_all(text.as_bytes())?;
        return Ok(());
    }
    // Write beside the target and rename: a crash never leaves half a file.
    let tmp = path.with_extension("apisync-tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// `apisync export --format v3`: a collection directory, or a workspace's `postman/` folder.
fn export_v3(g: &Globals, a: &ExportArgs) -> anyhow::Result<()> {
    if a.output == Path::new("-") {
        bail!("--format v3 writes a directory; give one with -o DIR");
    }
    let device = g.open()?;
    let (collection, docs, what) = if let Some(id) = a.collection {
        let doc = device.get(id)?;
        if doc.kind != Kind::Collection {
            bail!("{id} is a {}, not a collection", doc.kind);
        }
        let docs = device.list(Some(&doc.workspace_id.to_string()), None)?;
        let what = format!("collection '{}'", doc.title());
        (Some(doc), docs, what)
    } else if a.all {
        let ws = device.resolve_workspace(a.workspace.as_deref())?;
        (None, device.list(Some(&ws.id.to_string()), None)?, format!("workspace '{}'", ws.name))
    } else {
        bail!(
            "--format v3 writes a collection (--collection ID) or a whole workspace (--all [--workspace W]); environments and globals are part of --all"
        );
    };
    let export = |opts: &formats::v3::WriteOptions| match &collection {
        Some(c) => formats::v3::export_v3_collection(c, &docs, opts),
        None => formats::v3::export_v3_workspace(&docs, opts),
    };
    let workspace = collection.is_none();
    // Keep the `order:` numbers the files already have, so that an inserted
    // or moved item rewrites its own file and not all its siblings'.
    let first = export(&formats::v3::WriteOptions::default())?;
    let existing = if a.output.is_dir() { crate::v3dir::read(&a.output, "")? } else { Default::default() };
    let order_hints = first
        .paths
        .iter()
        .filter(|(id, _)| first.orders.contains_key(*id))
        .filter_map(|(id, path)| Some((*id, crate::v3dir::order_of(existing.get(path)?)?)))
        .collect();
    let written = export(&formats::v3::WriteOptions { order_hints })?;
    let wrote = crate::v3dir::write(&a.output, &written.files, workspace, a.force)?;
    if g.json {
        return output::json(&json!({
            "exported": what, "path": a.output, "files": written.files.len(),
            "written": wrote.written, "unchanged": wrote.unchanged, "removed": wrote.removed,
        }));
    }
    eprintln!(
        "exported {what} to {} as v3: {} files ({} written, {} unchanged, {} removed)",
        a.output.display(),
        written.files.len(),
        wrote.written,
        wrote.unchanged,
        wrote.removed
    );
    Ok(())
}

/// `apisync export`
pub fn export(g: &Globals, a: ExportArgs) -> anyhow::Result<()> {
    if a.format == ExportFormat::V3 {
        return export_v3(g, &a);
    }
    if a.force {
        bail!("--force is for --format v3 (writing into a directory)");
    }
    let device = g.open()?;
    let (value, what) = if let Some(id) = a.collection.or(a.environment) {
        let doc = device.get(id)?;
        let docs = device.list(Some(&doc.workspace_id.to_string()), None)?;
        match (doc.kind, a.collection.is_some()) {
            (Kind::Collection, true) => (formats::export_collection(&doc, &docs)?, format!("collection '{}'", doc.title())),
            (Kind::Environment, false) => (formats::export_environment(&doc, &docs)?, format!("environment '{}'", doc.title())),
            (k, _) => bail!("{id} is a {k}, not a {}", if a.collection.is_some() { "collection" } else { "environment" }),
        }
    } else if a.globals {
        let docs = device.list(a.workspace.as_deref(), Some(Kind::Global))?;
        (formats::export_globals(&docs), format!("{} globals", docs.len()))
    } else {
        export_everything(&device)?
    };
    write_out(&a.output, &value)?;
    // Written to stdout, the file is the output; a summary would corrupt it.
    if a.output != Path::new("-") {
        if g.json {
            return output::json(&json!({ "exported": what, "path": a.output }));
        }
        eprintln!("exported {what} to {}", a.output.display());
    }
    Ok(())
}

/// `apisync scratchpad ...`
pub async fn scratchpad(g: &Globals, c: ScratchpadCmd) -> anyhow::Result<()> {
    let mut device = g.open()?;
    match c {
        ScratchpadCmd::Export { output: path } => {
            let docs = device.scratchpad_documents()?;
            let dump = dump(&docs);
            write_out(&path, &dump.value)?;
            if path != Path::new("-") && g.json {
                output::json(&json!({ "exported": dump.written.values().sum::<usize>(), "kinds": dump.written, "path": path }))?;
            } else if path != Path::new("-") {
                let held = summary(&dump.written);
                eprintln!("exported the scratch pad ({}) to {}", if held.is_empty() { "empty".to_string() } else { held }, path.display());
            }
        }
        ScratchpadCmd::Move { workspace } => {
            let j = g.json;
            let moved = device.move_scratchpad(&workspace)?;
            if j {
                output::json(&json!({ "moved": moved, "workspace": workspace }))?;
            } else {
                println!("moved {moved} documents from the scratch pad into '{workspace}'");
            }
            autosync(&mut device).await;
        }
    }
    Ok(())
}
