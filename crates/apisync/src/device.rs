//! The document verbs: workspaces, ls, show, create, set, rm, mv, conflicts.
//! Every edit is saved locally first; then, when signed in and online, one
//! quick sync runs, and its failure never fails the command.

use crate::Globals;
use crate::output::{self, MASK};
use anyhow::Context;
use clap::{Args, Subcommand};
use client::{Device, Position, Timeouts};
use model::{Fields, Kind};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// `apisync workspace ...`
#[derive(Subcommand)]
pub enum WorkspaceCmd {
    /// Create a workspace (signed in); prints its id.
    Create {
        /// Its name.
        name: String,
        /// Use the name even if another of your workspaces has it.
        #[arg(long)]
        allow_duplicate: bool,
    },
    /// Rename a workspace; other devices see the new name as it syncs.
    Rename {
        /// The workspace's name or id.
        workspace: String,
        /// Its new name.
        name: String,
        /// Use the name even if another of your workspaces has it.
        #[arg(long)]
        allow_duplicate: bool,
    },
    /// Delete a workspace you own, for everyone who has it.
    Delete {
        /// The workspace's name or id.
        workspace: String,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Share a workspace you own with a team you administer: every member gets it with their team role.
    Share {
        /// The workspace's name or id.
        workspace: String,
        /// The team's name or id.
        #[arg(long)]
        team: String,
    },
    /// List the teams a workspace you own is shared with.
    Shares {
        /// The workspace's name or id.
        workspace: String,
    },
    /// Stop sharing a workspace with a team (its owner, or an admin of the team).
    Unshare {
        /// The workspace's name or id.
        workspace: String,
        /// The team's name or id.
        #[arg(long)]
        team: String,
    },
}

/// `apisync ls`
#[derive(Args)]
pub struct LsArgs {
    /// Only documents of this kind (collection, folder, request, response,
    /// header-preset, environment, variable, global, run, history).
    kind: Option<String>,
    /// Workspace name or id [default: your personal workspace; the scratch pad when signed out].
    #[arg(long, short)]
    workspace: Option<String>,
}

/// `apisync show`
#[derive(Args)]
pub struct ShowArgs {
    /// The document: its id, or its path of titles ("Orders API/List orders").
    id: String,
    /// Show secret values instead of masking them.
    #[arg(long)]
    reveal: bool,
}

/// `apisync create`
#[derive(Args)]
pub struct CreateArgs {
    /// What to create: collection, folder, request, response, header-preset,
    /// environment, variable, global, run or history.
    kind: String,
    /// The parent, by id or path (a collection or folder for folders and
    /// requests, a request for responses, an environment for variables).
    #[arg(long)]
    parent: Option<String>,
    /// Workspace name or id [default: your personal workspace; the scratch pad when signed out].
    #[arg(long, short)]
    workspace: Option<String>,
    /// A field: FIELD=VALUE (repeatable); VALUE is JSON when it parses, else text.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
}

/// `apisync set`
#[derive(Args)]
pub struct SetArgs {
    /// The document: its id, or its path of titles ("Orders API/List orders").
    id: String,
    /// FIELD=VALUE pairs; VALUE is JSON when it parses, else text. On
    /// variables, `current=VALUE` sets the device-local current value.
    #[arg(required = true, value_name = "FIELD=VALUE")]
    assignments: Vec<String>,
}

/// `apisync rm`
#[derive(Args)]
pub struct IdArgs {
    /// The document: its id, or its path of titles ("Orders API/List orders").
    id: String,
}

/// `apisync mv`
#[derive(Args)]
pub struct MvArgs {
    /// The document: its id, or its path of titles ("Orders API/List orders").
    id: String,
    /// The new parent, by id or path [default: the current one].
    #[arg(long)]
    parent: Option<String>,
    /// Place it just before this sibling (id or path).
    #[arg(long, conflicts_with = "after")]
    before: Option<String>,
    /// Place it just after this sibling (id or path).
    #[arg(long)]
    after: Option<String>,
}

/// Parses FIELD=VALUE pairs for a document of `kind`.
pub fn assignments(kind: Kind, pairs: &[String]) -> anyhow::Result<Fields> {
    let mut out = Fields::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(crate::exit::usage(format!("'{p}' is not FIELD=VALUE (for example name=\"Get users\")")));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(crate::exit::usage(format!("'{p}' has no field name before '='")));
        }
        out.insert(k.to_string(), model::schema::typed_value(kind, k, v));
    }
    Ok(out)
}

/// Delivers an edit at once (one request when nothing else changed);
/// reports failure on stderr only.
pub async fn autosync(device: &mut Device) {
    if device.is_offline() || !device.is_signed_in().unwrap_or(false) {
        return;
    }
    device.set_timeouts(Timeouts::QUICK);
    if let Err(e) = device.deliver().await {
        eprintln!("saved locally; not synced yet: {e}");
    }
}

/// How long a read waits for the server before it answers from this device's copy.
const REFRESH: Duration = Duration::from_secs(3);

/// Pulls before a read, so it shows what the server has; when the server
/// does not answer in [`REFRESH`], the read goes on from this device's copy
/// and says it may be stale. A running watcher keeps the copy fresh already.
pub async fn refresh(device: &mut Device, g: &Globals) {
    let watching = device.local_status().is_ok_and(|s| s.watching);
    if device.is_offline() || !device.is_signed_in().unwrap_or(false) || watching {
        return;
    }
    device.set_timeouts(Timeouts::QUICK);
    if let Err(e) = device.sync_within(REFRESH).await
        && !g.json
    {
        eprintln!("showing this device's copy, which may be stale: {e}");
    }
}

fn print_id(id: Uuid, j: bool) -> anyhow::Result<()> {
    if j {
        output::json(&json!({ "id": id }))
    } else {
        println!("{id}");
        Ok(())
    }
}

pub fn workspaces(g: &Globals, j: bool) -> anyhow::Result<()> {
    let device = g.open()?;
    let list = device.workspaces()?;
    if j {
        return output::json(&list);
    }
    if list.is_empty() {
        println!("no workspaces yet; signed out, `apisync create` starts the scratch pad");
    }
    for w in list {
        let mut tags = vec![w.role.clone().unwrap_or_else(|| "local only".into())];
        if w.personal {
            tags.push("personal".into());
        }
        println!("{}  {}  ({})", w.id, w.name, tags.join(", "));
    }
    Ok(())
}

pub async fn workspace(g: &Globals, c: WorkspaceCmd) -> anyhow::Result<()> {
    match c {
        WorkspaceCmd::Create { name, allow_duplicate } => {
            let json = g.json;
            let mut device = g.open()?;
            let id = device.create_workspace(&name, allow_duplicate)?;
            print_id(id, json)?;
            autosync(&mut device).await;
            Ok(())
        }
        WorkspaceCmd::Rename { workspace, name, allow_duplicate } => {
            let mut device = g.open()?;
            let was = device.rename_workspace(&workspace, &name, allow_duplicate)?;
            let name = name.trim();
            if g.json {
                output::json(&json!({ "id": was.id, "name": name, "previous": was.name }))?;
            } else {
                println!("renamed workspace '{}' to '{name}'", was.name);
            }
            autosync(&mut device).await;
            Ok(())
        }
        WorkspaceCmd::Delete { workspace, yes } => delete_workspace(g, &workspace, yes).await,
        WorkspaceCmd::Share { workspace, team } => crate::team::share(g, &workspace, &team, g.json).await,
        WorkspaceCmd::Shares { workspace } => crate::team::shares(g, &workspace, g.json).await,
        WorkspaceCmd::Unshare { workspace, team } => crate::team::unshare(g, &workspace, &team, g.json).await,
    }
}

/// `apisync workspace delete`: asks first unless `--yes`; without a terminal
/// to ask on, refuses rather than wait.
async fn delete_workspace(g: &Globals, workspace: &str, yes: bool) -> anyhow::Result<()> {
    let device = g.open()?;
    let ws = device.resolve_workspace(Some(workspace))?;
    if !yes {
        output::confirm_by_typing(
            format!("deleting workspace '{}' removes it and all its documents for everyone who has it; pass --yes to confirm", ws.name),
            &format!("Delete workspace '{}' and all its documents, for everyone who has it? Type its name to confirm: ", ws.name),
            &ws.name,
        )?;
    }
    let gone = device.delete_workspace(&ws.id.to_string()).await?;
    if g.json {
        output::json(&json!({ "deleted": gone.id, "name": gone.name }))
    } else {
        println!("workspace '{}' deleted; the other devices that have it drop it as they sync", gone.name);
        Ok(())
    }
}

pub async fn ls(g: &Globals, a: LsArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    refresh(&mut device, g).await;
    let kind = a.kind.as_deref().map(str::parse::<Kind>).transpose()?;
    let docs = device.list(a.workspace.as_deref(), kind)?;
    if g.json {
        let v: Vec<Value> = docs.iter().map(|d| output::doc_json(d, false)).collect();
        return output::json(&v);
    }
    let mut depth: HashMap<Uuid, usize> = HashMap::new();
    for d in &docs {
        let n = if kind.is_some() { 0 } else { d.parent_id.and_then(|p| depth.get(&p)).map_or(0, |n| n + 1) };
        depth.insert(d.id, n);
        let title = if d.title().is_empty() { "(untitled)" } else { d.title() };
        println!("{}  {}{} {}", d.id, "  ".repeat(n), output::kind(d.kind), title);
    }
    Ok(())
}

pub async fn show(g: &Globals, a: ShowArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    refresh(&mut device, g).await;
    let d = device.get(device.find(None, &a.id)?)?;
    let mut v = output::doc_json(&d, a.reveal);
    if d.kind.is_variable() {
        let current = device.current_value(d.id)?;
        let shown = match current {
            Some(_) if output::is_secret(&d) && !a.reveal => Value::String(MASK.into()),
            Some(c) => c,
            None => Value::Null,
        };
        if let Some(o) = v.as_object_mut() {
            o.insert("current".into(), shown);
        }
    }
    output::json(&v)
}

pub async fn create(g: &Globals, a: CreateArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let kind: Kind = a.kind.parse()?;
    let fields = assignments(kind, &a.set)?;
    let parent = match &a.parent {
        Some(p) => {
            refresh(&mut device, g).await;
            Some(device.find(a.workspace.as_deref(), p)?)
        }
        None => None,
    };
    let id = device.create(kind, parent, a.workspace.as_deref(), fields)?;
    print_id(id, g.json)?;
    autosync(&mut device).await;
    Ok(())
}

pub async fn set(g: &Globals, a: SetArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let doc = device.get(device.find(None, &a.id)?)?;
    let fields = assignments(doc.kind, &a.assignments)?;
    device.set(doc.id, fields)?;
    if g.json {
        output::json(&json!({ "id": doc.id }))?;
    }
    autosync(&mut device).await;
    Ok(())
}

pub async fn rm(g: &Globals, a: IdArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let id = device.find(None, &a.id)?;
    device.delete(id)?;
    if g.json {
        output::json(&json!({ "id": id, "deleted": true }))?;
    }
    autosync(&mut device).await;
    Ok(())
}

pub async fn mv(g: &Globals, a: MvArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    if a.parent.is_some() {
        refresh(&mut device, g).await;
    }
    let id = device.find(None, &a.id)?;
    let parent = a.parent.as_deref().map(|p| device.find(None, p)).transpose()?;
    let pos = match (&a.before, &a.after) {
        (Some(b), _) => Position::Before(device.find(None, b)?),
        (None, Some(x)) => Position::After(device.find(None, x)?),
        (None, None) => Position::End,
    };
    device.move_doc(id, parent, pos)?;
    if g.json {
        let d = device.get(id).context("the moved document")?;
        output::json(&json!({ "id": id, "parent_id": d.parent_id, "order_key": d.order_key }))?;
    }
    autosync(&mut device).await;
    Ok(())
}

/// `apisync conflicts`
#[derive(Args)]
pub struct ConflictsArgs {
    #[command(subcommand)]
    action: Option<ConflictsCmd>,
    /// Show secret values instead of masking them.
    #[arg(long)]
    reveal: bool,
}

#[derive(Subcommand)]
enum ConflictsCmd {
    /// The same as `apisync resolve`.
    Resolve(crate::resolve::ResolveArgs),
}

/// Masks the values of secret variables in conflicts (the document is
/// secret, or either side made it so), as `ls` masks them; the app's inbox
/// uses it too.
pub fn mask_conflicts(device: &client::Device, list: &mut [client::Conflict]) {
    for c in list {
        let secret = c.kind.is_variable()
            && (device.get(c.doc_id).is_ok_and(|d| output::is_secret(&d))
                || c.fields.iter().any(|f| f.field == "type" && (f.mine == "secret" || f.theirs == "secret")));
        if secret {
            for f in c.fields.iter_mut().filter(|f| f.field == "value") {
                for v in [&mut f.base, &mut f.mine, &mut f.theirs] {
                    if !v.is_null() {
                        *v = Value::String(MASK.into());
                    }
                }
            }
        }
    }
}

pub async fn conflicts(g: &Globals, a: ConflictsArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    if let Some(ConflictsCmd::Resolve(r)) = a.action {
        drop(device);
        return crate::resolve::resolve(g, r).await;
    }
    let mut list = device.conflicts()?;
    if !a.reveal {
        mask_conflicts(&device, &mut list);
    }
    if g.json {
        return output::json(&list);
    }
    if list.is_empty() {
        println!("no conflicts");
    }
    for c in list {
        let title = if c.title.is_empty() { "(untitled)".to_string() } else { c.title.clone() };
        println!("#{} {} \"{}\" {} — {} ({})", c.id, c.kind, title, c.doc_id, c.reason, client::readable_time(c.created_at));
        // Side by side: one row per field, columns aligned.
        let cell = |v: &Value| {
            let s = output::short(v);
            if s.chars().count() > 28 { format!("{}…", s.chars().take(27).collect::<String>()) } else { s }
        };
        let rows: Vec<[String; 4]> = c
            .fields
            .iter()
            .map(|f| [f.field.clone(), cell(&f.base), cell(&f.mine), format!("{} (v{})", cell(&f.theirs), f.theirs_version)])
            .collect();
        let header = ["field".to_string(), "base".into(), "mine".into(), "theirs".into()];
        let width = |i: usize| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0);
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for r in [&header].into_iter().chain(&rows) {
            println!("    {:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
        }
    }
    if !device.conflicts()?.is_empty() {
        println!("resolve with `apisync resolve N --mine`, `--theirs`, or `--field NAME=mine|theirs` for each field");
    }
    Ok(())
}

/// `apisync edit`
#[derive(Args)]
pub struct EditArgs {
    /// The document: its id, or its path of titles ("Orders API/List orders").
    id: String,
}

/// Opens `$VISUAL` or `$EDITOR` on the document's fields as JSON and applies
/// what changed as one edit. Text that is not valid JSON is kept in a file
/// named in the error, so nothing typed is lost.
pub async fn edit(g: &Globals, a: EditArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    refresh(&mut device, g).await;
    let doc = device.get(device.find(None, &a.id)?)?;
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .ok_or_else(|| crate::exit::usage("set EDITOR (or VISUAL) to the editor to use, e.g. EDITOR=nano"))?;
    let mut file = tempfile::Builder::new().prefix("apisync-edit-").suffix(".json").tempfile()?;
    std::io::Write::write_all(&mut file, serde_json::to_string_pretty(&doc.fields)?.as_bytes())?;
    // Through the shell, as git runs it: EDITOR may carry arguments ("code --wait").
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .with_context(|| format!("cannot run the editor '{editor}'"))?;
    if !status.success() {
        return Err(crate::exit::usage(format!("the editor '{editor}' failed ({status}); nothing was changed")));
    }
    let text = std::fs::read_to_string(file.path())?;
    let edited: Fields = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            let (_, kept) = file.keep()?;
            return Err(crate::exit::usage(format!(
                "the edited text is not a JSON object of fields ({e}); nothing was changed, and your text is kept in {}",
                kept.display()
            )));
        }
    };
    if let Some(gone) = doc.fields.keys().find(|k| !edited.contains_key(*k)) {
        return Err(crate::exit::usage(format!("field '{gone}' was removed; to clear a field set it to null. Nothing was changed")));
    }
    let changed: Fields = edited.into_iter().filter(|(k, v)| doc.fields.get(k) != Some(v)).collect();
    if changed.is_empty() {
        if !g.json {
            println!("no change");
        }
        return output_edit(g, doc.id, &[]);
    }
    let names: Vec<String> = changed.keys().cloned().collect();
    device.set(doc.id, changed)?;
    output_edit(g, doc.id, &names)?;
    autosync(&mut device).await;
    Ok(())
}

fn output_edit(g: &Globals, id: Uuid, changed: &[String]) -> anyhow::Result<()> {
    if g.json {
        return output::json(&json!({ "id": id, "changed": changed }));
    }
    if !changed.is_empty() {
        println!("changed {} of {id}", changed.join(", "));
    }
    Ok(())
}
