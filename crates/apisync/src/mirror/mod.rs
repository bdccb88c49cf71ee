//! `apisync mirror WORKSPACE DIR [--watch]`: keeps a workspace and a v3
//! `postman/` folder the same, both ways. Once: take what changed in the
//! files, sync, write what changed in the workspace. With `--watch`: the
//! same on every change of either side, while the live channel keeps the
//! device in step with every other device.

pub mod background;
pub mod files;
pub mod reconcile;
pub mod state;
pub mod watch;

use crate::Globals;
use anyhow::Context;
use client::Device;
use model::Id;
use reconcile::{Taken, Unreadable, Wrote};
use serde_json::json;
use state::{Place, State};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `apisync mirror`
#[derive(clap::Args)]
pub struct MirrorArgs {
    /// The workspace, by name or id.
    pub workspace: String,
    /// The directory: a `postman/` folder (collections/, environments/, globals/), created if missing.
    pub dir: PathBuf,
    /// Keep both sides the same until stopped (Ctrl-C): a change on any device reaches its file,
    /// a change to a file becomes an edit that syncs.
    #[arg(long)]
    pub watch: bool,
    /// With --watch: stop after this many seconds (scripts, tests).
    #[arg(long = "for", value_name = "SECONDS", requires = "watch")]
    pub for_secs: Option<f64>,
    /// Reconcile now, then let the background sync keep it in step (`apisync service install`,
    /// or any `apisync sync --watch` on this profile).
    #[arg(long, conflicts_with_all = ["watch", "stop"])]
    pub background: bool,
    /// Stop keeping this mirror in the background (the directory and the workspace stay as they are).
    #[arg(long, conflicts_with = "watch")]
    pub stop: bool,
}

/// One mirror: a workspace, a directory, and the memory between them.
pub struct Mirror {
    device: Arc<Device>,
    ws: Id,
    root: PathBuf,
    place: Place,
    state: State,
    _lock: std::fs::File,
}

/// What one reconciliation did.
#[derive(Debug, Default)]
pub struct Pass {
    /// Edits made from the files, and notes about them.
    pub taken: Taken,
    /// Files written and removed.
    pub wrote: Wrote,
    /// The file that could not be read, when the pass stopped at it.
    pub error: Option<String>,
}

impl Pass {
    /// Whether the pass changed anything on either side.
    pub fn did_something(&self) -> bool {
        self.taken.applied > 0 || !self.wrote.written.is_empty() || !self.wrote.removed.is_empty()
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "applied": self.taken.applied,
            "notes": self.taken.notes,
            "written": self.wrote.written,
            "removed": self.wrote.removed,
            "error": self.error,
        })
    }
}

impl Mirror {
    /// Opens the mirror of workspace `which` into `dir` (created if missing), taking its lock.
    pub fn open(device: Arc<Device>, which: &str, dir: &Path) -> anyhow::Result<Mirror> {
        let ws = device.resolve_workspace(Some(which))?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let root = dir.canonicalize().with_context(|| format!("cannot open {}", dir.display()))?;
        let place = Place::of(device.dir(), &root);
        let lock = place.lock()?;
        let state = place.load(&root)?;
        if let Some(other) = state.workspace.filter(|w| *w != ws.id) {
            anyhow::bail!("{} already mirrors another workspace ({other}); give each workspace its own directory", root.display());
        }
        Ok(Mirror { device, ws: ws.id, root, place, state, _lock: lock })
    }

    /// The mirrored directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The mirrored workspace.
    pub fn workspace(&self) -> Id {
        self.ws
    }

    /// One reconciliation: the files' changes become edits, then the
    /// workspace is written back. A file that cannot be read stops the pass
    /// before anything is applied or written, and is remembered for `status`.
    pub fn pass(&mut self) -> anyhow::Result<Pass> {
        let mut pass = Pass::default();
        // One scan serves both halves: taking the files only reads them.
        let scanned = files::scan(&self.root)?;
        match reconcile::take_files(&self.device, self.ws, &self.root, &scanned, &mut self.state)? {
            Ok(taken) => pass.taken = taken,
            Err(Unreadable(why)) => {
                let changed = self.state.error.as_deref() != Some(why.as_str());
                self.state.error = Some(why.clone());
                if changed {
                    self.save()?;
                }
                pass.error = Some(why);
                return Ok(pass);
            }
        }
        self.write(&mut pass, &scanned)?;
        Ok(pass)
    }

    /// Writes the workspace back and saves the base.
    fn write(&mut self, pass: &mut Pass, on_disk: &BTreeMap<String, files::Seen>) -> anyhow::Result<()> {
        let view = reconcile::view(&self.device, self.ws)?;
        let unchanged = !reconcile::view_changed(&self.state, &view) && pass.taken.applied == 0;
        if unchanged && self.state.error.is_none() && self.state.workspace.is_some() {
            return Ok(());
        }
        let docs: Vec<model::Document> = view.into_values().collect();
        pass.wrote = reconcile::write_files(&docs, &self.root, on_disk, &mut self.state)?;
        self.state.error = None;
        self.state.workspace = Some(self.ws);
        self.save()
    }

    fn save(&mut self) -> anyhow::Result<()> {
        self.state.last = Some(now_ms());
        self.place.save(&self.state)
    }
}

/// `apisync mirror WORKSPACE DIR [--watch]`.
pub async fn run(g: &Globals, a: MirrorArgs) -> anyhow::Result<()> {
    let device = Arc::new(g.open()?);
    if a.stop {
        // No lock: the background sync may hold it; it sees the mark gone within seconds.
        let root = a.dir.canonicalize().with_context(|| format!("cannot open {}", a.dir.display()))?;
        Place::of(device.dir(), &root).mark(None)?;
        println!("{}: no longer kept in the background", root.display());
        return Ok(());
    }
    let mut mirror = Mirror::open(device.clone(), &a.workspace, &a.dir)?;
    if a.watch {
        return watch_cli(g, mirror, a.for_secs.map(Duration::from_secs_f64)).await;
    }
    // Pull first, so files another mirror committed meet the documents it already synced.
    quiet_sync(&device).await;
    let mut pass = mirror.pass()?;
    if pass.taken.applied > 0 {
        quiet_sync(&device).await;
        // What the server made of the edits (a conflict keeps its value) is what the files say.
        let mut again = mirror.pass()?;
        pass.wrote.written.append(&mut again.wrote.written);
        pass.wrote.removed.append(&mut again.wrote.removed);
    }
    if a.background && pass.error.is_none() {
        mirror.place.mark(Some(&state::Mark { dir: mirror.root.clone(), workspace: mirror.ws }))?;
        if !g.json {
            println!("kept in step by the background sync from now on (`apisync service install`, or any `apisync sync --watch`)");
        }
    }
    match pass.error {
        Some(e) => Err(crate::exit::CliError::Unreadable(format!("nothing was applied or written: {e}")).into()),
        None => report(g, &mirror, &pass),
    }
}

/// Syncs when signed in and online; a failure is only reported (the edits wait in the outbox).
async fn quiet_sync(device: &Device) {
    if device.is_offline() || !device.is_signed_in().unwrap_or(false) {
        return;
    }
    if let Err(e) = device.sync().await {
        eprintln!("not synced yet (the edits wait on this device): {e}");
    }
}

fn report(g: &Globals, mirror: &Mirror, pass: &Pass) -> anyhow::Result<()> {
    if g.json {
        return crate::output::json(&pass.to_json());
    }
    for n in &pass.taken.notes {
        println!("{n}");
    }
    println!(
        "{}: applied {} edit{} from the files; wrote {} file{}, removed {}",
        mirror.root().display(),
        pass.taken.applied,
        if pass.taken.applied == 1 { "" } else { "s" },
        pass.wrote.written.len(),
        if pass.wrote.written.len() == 1 { "" } else { "s" },
        pass.wrote.removed.len()
    );
    Ok(())
}

/// Milliseconds since the epoch, as the mirror's state and the app record a pass.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Every mirror of this profile, for `apisync status`: its directory, when
/// it last ran (milliseconds since the epoch), and the file that stops it.
pub fn mirrors(profile: &Path) -> Vec<(PathBuf, Option<i64>, Option<String>)> {
    state::summaries(profile).into_iter().map(|s| (s.dir, s.last, s.error)).collect()
}

/// `mirror --watch` on the command line: the live channel beside the mirror,
/// each pass that did something printed, until Ctrl-C or `duration`.
async fn watch_cli(g: &Globals, mirror: Mirror, duration: Option<Duration>) -> anyhow::Result<()> {
    let device = mirror.device.clone();
    let live = (!device.is_offline() && device.is_signed_in().unwrap_or(false)).then(|| {
        let device = device.clone();
        tokio::spawn(async move {
            if let Err(e) = device.watch(client::WatchOptions::default(), std::future::pending::<()>(), |_| {}).await {
                eprintln!("the live channel ended: {e}");
            }
        })
    });
    println!("mirroring into {} (Ctrl-C stops)", mirror.root().display());
    let stop = async move {
        match duration {
            Some(d) => {
                tokio::select! { _ = tokio::time::sleep(d) => {}, _ = tokio::signal::ctrl_c() => {} }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    let json = g.json;
    let mut last_error: Option<String> = None;
    let result = watch::keep(mirror, stop, |pass| say(json, pass, &mut last_error)).await;
    if let Some(l) = live {
        l.abort();
    }
    result
}

/// Prints what a watching pass did, and an unreadable file once until it changes.
fn say(json: bool, pass: &Pass, last_error: &mut Option<String>) {
    if pass.error != *last_error {
        match &pass.error {
            Some(e) => eprintln!("not applied, fix the file: {e}"),
            None if last_error.is_some() => eprintln!("the files read cleanly again"),
            None => {}
        }
        last_error.clone_from(&pass.error);
    }
    if !pass.did_something() {
        return;
    }
    if json {
        println!("{}", pass.to_json());
        return;
    }
    for n in &pass.taken.notes {
        println!("{n}");
    }
    if pass.taken.applied > 0 {
        println!("applied {} edit(s) from the files", pass.taken.applied);
    }
    for p in &pass.wrote.written {
        println!("wrote {p}");
    }
    for p in &pass.wrote.removed {
        println!("removed {p}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Kind;
    use proptest::prelude::*;

    /// One thing a person does between passes: to a file, or on the device.
    #[derive(Clone, Debug)]
    enum Step {
        EditFile(usize),
        RenameFile(usize),
        DeleteFile(usize),
        EditOnDevice(usize),
        CreateOnDevice,
        DeleteOnDevice(usize),
        Pass,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..8usize).prop_map(Step::EditFile),
            (0..8usize).prop_map(Step::RenameFile),
            (0..8usize).prop_map(Step::DeleteFile),
            (0..8usize).prop_map(Step::EditOnDevice),
            Just(Step::CreateOnDevice),
            (0..8usize).prop_map(Step::DeleteOnDevice),
            Just(Step::Pass),
        ]
    }

    fn request_files(root: &Path) -> Vec<String> {
        files::scan(root).unwrap().into_keys().filter(|p| p.ends_with(".request.yaml")).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        /// Whatever happens to the files and the workspace between passes, a
        /// pass leaves the directory exactly what the workspace exports, and a
        /// second pass finds nothing to do.
        #[test]
        fn a_pass_makes_files_and_workspace_agree(steps in prop::collection::vec(step(), 1..14)) {
            let profile = tempfile::tempdir().unwrap();
            let device = Arc::new(client::Device::open(profile.path()).unwrap());
            let ws = device.resolve_workspace(None).unwrap();
            let col = device.create(Kind::Collection, None, None, client::fields([("name", "C".into())])).unwrap();
            for i in 0..4 {
                device.create(Kind::Request, Some(col), None, client::fields([("name", format!("R{i}").into()), ("url", format!("http://h/{i}").into())])).unwrap();
            }
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("postman");
            let mut mirror = Mirror::open(device.clone(), &ws.id.to_string(), &root).unwrap();
            mirror.pass().unwrap();
            let mut n = 0;
            for s in steps {
                n += 1;
                let files = request_files(mirror.root());
                let requests = device.list(None, Some(Kind::Request)).unwrap();
                match s {
                    Step::EditFile(i) if !files.is_empty() => {
                        let p = files::full(mirror.root(), &files[i % files.len()]);
                        let text = std::fs::read_to_string(&p).unwrap();
                        std::fs::write(&p, text.replace("url: http://h/", &format!("url: http://h/e{n}-"))).unwrap();
                    }
                    Step::RenameFile(i) if !files.is_empty() => {
                        let p = files::full(mirror.root(), &files[i % files.len()]);
                        std::fs::rename(&p, p.with_file_name(format!("Renamed {n}.request.yaml"))).unwrap();
                    }
                    Step::DeleteFile(i) if !files.is_empty() => {
                        std::fs::remove_file(files::full(mirror.root(), &files[i % files.len()])).unwrap();
                    }
                    Step::EditOnDevice(i) if !requests.is_empty() => {
                        device.set(requests[i % requests.len()].id, client::fields([("url", format!("http://h/d{n}").into())])).unwrap();
                    }
                    Step::CreateOnDevice => {
                        device.create(Kind::Request, Some(col), None, client::fields([("name", format!("New {n}").into())])).unwrap();
                    }
                    Step::DeleteOnDevice(i) if !requests.is_empty() => device.delete(requests[i % requests.len()].id).unwrap(),
                    _ => {
                        let pass = mirror.pass().unwrap();
                        prop_assert!(pass.error.is_none(), "{pass:?}");
                        let docs: Vec<model::Document> = device.live_documents(ws.id).unwrap();
                        let want = formats::v3::export_v3_workspace(&docs, &formats::v3::WriteOptions {
                            order_hints: mirror.state.docs.iter().filter_map(|(id, b)| b.order.map(|o| (*id, o))).collect(),
                        }).unwrap();
                        let on_disk = files::scan(mirror.root()).unwrap();
                        prop_assert_eq!(on_disk.keys().collect::<Vec<_>>(), want.files.keys().collect::<Vec<_>>());
                        for (p, bytes) in &want.files {
                            prop_assert_eq!(&std::fs::read(files::full(mirror.root(), p)).unwrap(), bytes, "{}", p);
                        }
                        let again = mirror.pass().unwrap();
                        prop_assert!(!again.did_something(), "a second pass did something: {again:?}");
                    }
                }
            }
        }
    }
}
